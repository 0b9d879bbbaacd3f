// The REST API as the UI uses it: same-origin requests with the session cookie, JSON in and out, and
// the server's {"error": "..."} shown as it came.

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

// Ids and names come from remote agents and may be hostile ("../../<other host>/containers/db"): every
// path and link is built from parts, each one encoded, never by joining strings.
function encodePart(part: string): string {
  return encodeURIComponent(part);
}

// A REST path: apiPath("hosts", hostId, "containers", cid, "restart") -> /api/hosts/.../restart.
export function apiPath(...parts: string[]): string {
  return "/api/" + parts.map(encodePart).join("/");
}

// A query string from named values, encoded; absent and empty values are left out.
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? "?" + s : "";
}

// A link inside the UI: hashPath("hosts", hostId) -> #/hosts/<id>. The router decodes the parts again.
// A part of only dots is encoded too: a "." or ".." that reached a path would be resolved by the browser.
export function hashPath(...parts: string[]): string {
  return "#/" + parts.map((p) => (/^\.+$/.test(p) ? p.replace(/\./g, "%2E") : encodePart(p))).join("/");
}

// The parts of a #/... link, decoded; null when one cannot be a single id: empty, only dots, holding a
// '/' (encoded as %2F, so it would name another path once joined again) or badly encoded.
export function parseHash(hash: string): string[] | null {
  const body = hash.replace(/^#\/?/, "").replace(/\/$/, "");
  if (body === "") return [];
  const parts: string[] = [];
  for (const raw of body.split("/")) {
    let p: string;
    try {
      p = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (p === "" || p.includes("/") || /^\.+$/.test(p) || /[\u0000-\u001f]/.test(p)) return null;
    parts.push(p);
  }
  return parts;
}

// A path with a segment that is empty or only dots: the browser would resolve it to another route
// (the WHATWG URL parser treats "%2e%2e" as ".." too), so such a request is refused here.
function unsafePath(path: string): boolean {
  const p = path.split("?")[0];
  return p.split("/").slice(1).some((seg) => seg === "" || /^(\.|%2e)+$/i.test(seg));
}

// A request answered 401 means the session is gone (signed out elsewhere, ended by an admin, expired).
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(l: () => void): () => void {
  unauthorizedListeners.add(l);
  return () => unauthorizedListeners.delete(l);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  if (!path.startsWith("/api/") || unsafePath(path)) throw new ApiError(0, "refused a request to an unsafe path: " + path);
  const init: RequestInit = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && path !== "/api/auth/login") unauthorizedListeners.forEach((l) => l());
    const message =
      data && typeof data === "object" && "error" in data ? String((data as { error: unknown }).error) : res.statusText;
    throw new ApiError(res.status, message);
  }
  return data as T;
}

export interface Me {
  username: string;
  role: "admin" | "operator" | "viewer";
}

export interface Agent {
  id: string;
  version: string;
  status: string;
  last_seen_at: string;
  revoked_at: string | null;
}

export interface Host {
  id: string;
  name: string;
  status: string;
  os_type: string;
  os_version: string;
  docker_version: string;
  num_cpus: number;
  total_memory: number;
  agent: Agent | null;
  stats?: HostPoint | null;  // the latest sample the server has, so a page has numbers before the feed's next one
  tags?: string[];
}

export interface Container {
  id: string;
  short_id: string;
  name: string;
  image: string;
  state: string;
  status: string;
  created?: string;
  tags?: string[];  // set by users, and its compose project
  label_tag?: string | null;  // the one of those its label (com.docker.compose.project) gives
}

export interface HostPoint {
  cpu_percent: number;
  mem_percent: number;
  net_bytes_per_sec: number;
}

export interface ContainerPoint {
  container_id: string;
  cpu_percent: number;
  memory_usage: number;
  memory_percent: number;
}

export interface Filesystem {
  mount: string;
  total_bytes: number;
  used_bytes: number;
  used_percent: number;
}

export interface HostStats {
  host: HostPoint | null;
  containers: ContainerPoint[];
  filesystems?: Filesystem[];
}

export const canChange = (me: Me | null) => me !== null && (me.role === "admin" || me.role === "operator");

export interface Point {
  timestamp: string;
  cpu_percent: number;
  memory_usage: number;
  memory_limit: number;
  memory_percent: number;
  network_rx: number;
  network_tx: number;
  disk_read: number;
  disk_write: number;
  pids?: number;
}

export interface History {
  container_id: string;
  range: string;
  range_seconds: number;
  points: Point[];
}

export interface DockEvent {
  id: string;
  host_id: string;
  container_id: string;
  container_name: string;
  image: string;
  type: string;
  action: string;
  timestamp: string;
  attributes: Record<string, unknown>;
}

export interface ApiKey {
  id: string;
  name: string;
  user_id: string;
  username: string;
  role: string;
  created_at: string;
  expires_at: string | null;
  revoked: boolean;
}

// Docker writes health into the status text: "Up 3 minutes (healthy)".
export function health(c: Pick<Container, "status">): "healthy" | "unhealthy" | "starting" | "" {
  const m = c.status.match(/\((healthy|unhealthy|health: starting)\)/);
  if (!m) return "";
  return m[1] === "health: starting" ? "starting" : (m[1] as "healthy" | "unhealthy");
}

// "Up 3 minutes (healthy)" -> "3 minutes"; nothing for a container that is not running.
export function uptime(c: Pick<Container, "status" | "state">): string {
  if (c.state !== "running") return "";
  const m = c.status.match(/^Up (.*?)(?: \(.*\))?$/);
  return m ? m[1] : "";
}
