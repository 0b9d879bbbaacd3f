// The live feed (WS /ws): one connection for the whole page, reconnected with growing pauses when it
// drops; listeners get every frame, and the connection state is shown to the user.
import { useEffect } from "preact/hooks";

export type LiveState = "connecting" | "live" | "lost";
type Frame = Record<string, unknown> & { type: string };

const frameListeners = new Set<(f: Frame) => void>();
const stateListeners = new Set<(s: LiveState) => void>();
let socket: WebSocket | null = null;
let state: LiveState = "connecting";
let retryDelay = 500;
let stopped = true;
let subscription: Record<string, unknown> = {};

function setState(s: LiveState) {
  state = s;
  stateListeners.forEach((l) => l(s));
}

function connect() {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  const ws = new WebSocket(url);
  socket = ws;
  setState("connecting");
  ws.onopen = () => {
    retryDelay = 500;
    ws.send(JSON.stringify({ ...subscription, type: "subscribe" }));
    setState("live");
  };
  ws.onmessage = (ev) => {
    try {
      const f = JSON.parse(String(ev.data)) as Frame;
      frameListeners.forEach((l) => l(f));
    } catch {
      /* not JSON: ignored */
    }
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    if (stopped) return;
    setState("lost");
    setTimeout(() => !stopped && connect(), retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  };
}

export function startLive() {
  if (!stopped) return;
  stopped = false;
  connect();
}

export function stopLive() {
  stopped = true;
  socket?.close();
  socket = null;
}

// What the page needs from the feed: {} is everything; {container_stats: false} leaves out the container
// samples, which across a fleet are nearly all the traffic, for pages that show only hosts and events.
export function setSubscription(s: Record<string, unknown>) {
  if (JSON.stringify(s) === JSON.stringify(subscription)) return;
  subscription = s;
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ ...s, type: "subscribe" }));
}

// For a component: the subscription while it is shown, everything again when it goes.
export function useSubscription(s: Record<string, unknown>) {
  const key = JSON.stringify(s);
  useEffect(() => {
    setSubscription(s);
    return () => setSubscription({});
  }, [key]);
}

export function onFrame(l: (f: Frame) => void): () => void {
  frameListeners.add(l);
  return () => frameListeners.delete(l);
}

export function onLiveState(l: (s: LiveState) => void): () => void {
  stateListeners.add(l);
  l(state);
  return () => stateListeners.delete(l);
}

// Live numbers arrive many times a second across a fleet; a page re-renders once per animation frame
// with everything that came since, not once per frame on the socket.
export function batchPerFrame<T>(flush: (items: T[]) => void): { push: (item: T) => void; cancel: () => void } {
  let items: T[] = [];
  let handle: number | null = null;
  let hiddenTimer: ReturnType<typeof setTimeout> | null = null;
  const run = () => {
    handle = null;
    hiddenTimer = null;
    const now = items;
    items = [];
    if (now.length) flush(now);
  };
  return {
    push(item: T) {
      items.push(item);
      if (handle !== null || hiddenTimer !== null) return;
      // A hidden tab gets no animation frames: flush on a slow timer so the queue stays small.
      if (document.hidden) hiddenTimer = setTimeout(run, 1000);
      else handle = requestAnimationFrame(run);
    },
    cancel() {
      if (handle !== null) cancelAnimationFrame(handle);
      if (hiddenTimer !== null) clearTimeout(hiddenTimer);
      handle = null;
      hiddenTimer = null;
      items = [];
    },
  };
}
