// The live feed (WS /ws): one connection for the whole page, reconnected with growing pauses when it
// drops; listeners get every frame, and the connection's real state is shown to the user.
import { useEffect } from "preact/hooks";
import { api, apiPath } from "./api";

export type LiveState = "connecting" | "live" | "lost";
type Frame = Record<string, unknown> & { type: string };

// The server sends {"type":"heartbeat"} every 10 s. A connection through a dead network or to a frozen
// server is not closed by anyone: silence this long is how it is noticed.
const silenceMs = 25000;
// An upgrade the server never answers (it accepted the TCP connection but is stuck) is given up too.
const connectTimeoutMs = 10000;

const frameListeners = new Set<(f: Frame) => void>();
const stateListeners = new Set<(s: LiveState) => void>();
let socket: WebSocket | null = null;
let state: LiveState = "connecting";
let retryDelay = 500;
let stopped = true;
let subscription: Record<string, unknown> = {};
let lastFrameAt = 0;
let watchdog: ReturnType<typeof setTimeout> | null = null;
let retry: ReturnType<typeof setTimeout> | null = null;

function setState(s: LiveState) {
  if (s === state) return;
  state = s;
  stateListeners.forEach((l) => l(s));
}

function clearTimers() {
  if (watchdog !== null) clearTimeout(watchdog);
  if (retry !== null) clearTimeout(retry);
  watchdog = null;
  retry = null;
}

// The socket is dropped at once, without waiting for its close event: closing a connection whose far
// end is silent waits for a closing handshake that never comes.
function drop(ws: WebSocket) {
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  ws.close();
  if (socket !== ws) return;
  socket = null;
  clearTimers();
  if (stopped) return;
  setState("lost");
  retry = setTimeout(() => ((retry = null), !stopped && connect()), retryDelay);
  retryDelay = Math.min(retryDelay * 2, 10000);
}

// One timer for the whole connection, re-armed for what is left rather than on every frame: frames
// arrive many times a second across a fleet.
function watch(ws: WebSocket, limitMs: number) {
  const left = lastFrameAt + limitMs - Date.now();
  if (left <= 0) return drop(ws);
  watchdog = setTimeout(() => ((watchdog = null), watch(ws, limitMs)), left);
}

function connect() {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  const ws = new WebSocket(url);
  socket = ws;
  // After a loss the badge keeps saying so until a connection is really back.
  if (state !== "lost") setState("connecting");
  lastFrameAt = Date.now();
  watch(ws, connectTimeoutMs);
  ws.onopen = () => {
    retryDelay = 500;
    ws.send(JSON.stringify({ ...subscription, type: "subscribe" }));
    lastFrameAt = Date.now();
    if (watchdog !== null) clearTimeout(watchdog);
    watch(ws, silenceMs);
    setState("live");
  };
  ws.onmessage = (ev) => {
    lastFrameAt = Date.now();
    let f: Frame;
    try {
      f = JSON.parse(String(ev.data)) as Frame;
    } catch {
      return;  // not JSON: ignored
    }
    if (f.type !== "heartbeat") frameListeners.forEach((l) => l(f));
  };
  ws.onclose = (ev) => {
    // 1008: the server closed the feed because its session ended. Asking who we are then answers 401,
    // which brings back the sign-in form instead of retrying a feed that cannot come back.
    if (ev.code === 1008) api("GET", apiPath("auth", "me")).catch(() => undefined);
    drop(ws);
  };
}

export function startLive() {
  if (!stopped) return;
  stopped = false;
  connect();
}

export function stopLive() {
  stopped = true;
  clearTimers();
  const ws = socket;
  socket = null;
  if (ws) drop(ws);
  setState("connecting");
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
