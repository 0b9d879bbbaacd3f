// The REST API as the UI uses it: same-origin requests with the session cookie, JSON in and out, and
// the server's {"error": "..."} shown as it came.

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
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
}

export interface Container {
  id: string;
  short_id: string;
  name: string;
  image: string;
  state: string;
  status: string;
  created?: string;
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

export interface HostStats {
  host: HostPoint | null;
  containers: ContainerPoint[];
}

export const canChange = (me: Me | null) => me !== null && (me.role === "admin" || me.role === "operator");
