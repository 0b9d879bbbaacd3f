// The live feed (WS /ws): one connection for the whole page, reconnected with growing pauses when it
// drops; listeners get every frame, and the connection state is shown to the user.

export type LiveState = "connecting" | "live" | "lost";
type Frame = Record<string, unknown> & { type: string };

const frameListeners = new Set<(f: Frame) => void>();
const stateListeners = new Set<(s: LiveState) => void>();
let socket: WebSocket | null = null;
let state: LiveState = "connecting";
let retryDelay = 500;
let stopped = true;

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
    ws.send(JSON.stringify({ type: "subscribe" }));
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

export function onFrame(l: (f: Frame) => void): () => void {
  frameListeners.add(l);
  return () => frameListeners.delete(l);
}

export function onLiveState(l: (s: LiveState) => void): () => void {
  stateListeners.add(l);
  l(state);
  return () => stateListeners.delete(l);
}
