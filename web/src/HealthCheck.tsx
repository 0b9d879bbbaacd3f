// A container's health check: its state, the response times of its last probes, its restarts, and (for
// operators) a form to add, edit, pause and remove it. The agent probes from the host; the server shows
// what the agent last said.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, apiPath, canChange, Me } from "./api";
import { when } from "./format";
import { onFrame } from "./live";
import { Sparkline } from "./Sparkline";

interface CheckConfig {
  type: "http" | "tcp";
  url: string;
  address?: string;
  method: string;
  expected_status: string;
  interval_s: number;
  timeout_s: number;
  failure_threshold: number;
  success_threshold: number;
  auto_restart: boolean;
  max_restarts: number;
  restart_delay_s: number;
  restart_on_exit: boolean;
  verify_tls: boolean;
  follow_redirects: boolean;
  enabled: boolean;
  desired_state: string;
  check_from: string;
  headers: Record<string, string>;
  auth: Record<string, string>;
}

interface CheckStatus {
  container_name: string;
  config: CheckConfig;
  state: string;
  consecutive_failures: number;
  restarts: number;
  gave_up: boolean;
  last: { timestamp: string; healthy: boolean; response_time_ms: number; status_code?: number; error?: string } | null;
  last_results: { timestamp: string; healthy: boolean; response_time_ms: number }[];
  restart_log: { timestamp: string; reason: string; attempt: number; ok: boolean; gave_up: boolean; error?: string }[];
}

const blank = {
  type: "http",
  target: "http://{container}:80/",
  expected_status: "200-399",
  interval_s: 30,
  timeout_s: 5,
  failure_threshold: 3,
  auto_restart: false,
  max_restarts: 3,
  restart_delay_s: 10,
  restart_on_exit: false,
  verify_tls: true,
};
type Form = typeof blank;

function formOf(c: CheckConfig): Form {
  return {
    type: c.type,
    target: c.type === "tcp" ? c.address ?? "" : c.url,
    expected_status: c.expected_status,
    interval_s: c.interval_s,
    timeout_s: c.timeout_s,
    failure_threshold: c.failure_threshold,
    auto_restart: c.auto_restart,
    max_restarts: c.max_restarts,
    restart_delay_s: c.restart_delay_s,
    restart_on_exit: c.restart_on_exit,
    verify_tls: c.verify_tls,
  };
}

// The body the API takes; what the form does not show (headers, credentials: masked) is sent back as it came.
function bodyOf(f: Form, previous: CheckConfig | null, enabled: boolean) {
  const body: Record<string, unknown> = { ...(previous ?? {}), ...f, enabled };
  delete body.target;
  if (f.type === "tcp") {
    body.address = f.target;
    delete body.url;
  } else {
    body.url = f.target;
    delete body.address;
  }
  return body;
}

export function HealthCheck({ hostId, containerId, me }: { hostId: string; containerId: string; me: Me }) {
  const path = apiPath("hosts", hostId, "containers", containerId, "health-check");
  const [status, setStatus] = useState<CheckStatus | null | undefined>(undefined);  // undefined: loading; null: none
  const [form, setForm] = useState<Form | null>(null);
  const [error, setError] = useState("");
  const load = () =>
    api<CheckStatus>("GET", path)
      .then((s) => setStatus(s))
      .then(() => setError(""))
      .catch((e) => {
        setStatus(null);
        if (!(e instanceof ApiError && e.status === 404)) setError((e as Error).message);
      });
  useEffect(() => {
    setStatus(undefined);
    load();
    const timer = setInterval(load, 15000);
    const off = onFrame((f) => {
      if (f.type === "health_check" && f.host_id === hostId) load();
    });
    return () => {
      clearInterval(timer);
      off();
    };
  }, [hostId, containerId]);

  async function save(body: Record<string, unknown>) {
    setError("");
    try {
      setStatus(await api<CheckStatus>("PUT", path, body));
      setForm(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }
  async function remove() {
    if (!confirm("Remove this container's health check? The agent stops checking it at once.")) return;
    setError("");
    try {
      await api("DELETE", path);
      setStatus(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }
  const set = (p: Partial<Form>) => setForm({ ...(form ?? blank), ...p });
  const operator = canChange(me);
  const s = status;
  const times = (s?.last_results ?? []).map((p) => (p.healthy ? p.response_time_ms : 0));

  return (
    <section aria-label="Health check" class="health-check">
      <h3>Health check</h3>
      {error && <p class="error" role="alert">{error}</p>}
      {s === undefined && <p class="loading">Loading…</p>}
      {s === null && !form && (
        <p class="empty">
          No health check.{" "}
          {operator && (
            <button type="button" onClick={() => setForm(blank)}>
              Add a check
            </button>
          )}
        </p>
      )}
      {s && !form && (
        <div>
          <p>
            <span class={"badge " + s.state} aria-label="Check state">{s.state}</span>{" "}
            <code>{s.config.type === "tcp" ? "tcp " + s.config.address : s.config.method + " " + s.config.url}</code>{" "}
            <small class="muted">
              every {s.config.interval_s} s, {s.config.failure_threshold} failures make it unhealthy
              {s.config.auto_restart ? `, restarted up to ${s.config.max_restarts} times` : ", no restarts"}
              {s.config.check_from === "server" ? ", checked from the server" : ""}
            </small>
          </p>
          <p>
            <Sparkline values={times} label="Response times of the last probes" />{" "}
            {s.last ? (
              <span>
                last probe {when(s.last.timestamp)}: {s.last.healthy ? "healthy" : "failed"}
                {s.last.status_code ? `, HTTP ${s.last.status_code}` : ""}, {s.last.response_time_ms} ms
                {s.last.error ? ` (${s.last.error})` : ""}
              </span>
            ) : (
              <span class="muted">no probe result yet</span>
            )}
          </p>
          {(s.restart_log.length > 0 || s.gave_up) && (
            <ul class="restart-log" aria-label="Restarts">
              {s.restart_log.map((r, i) => (
                <li key={i}>
                  <time class="num">{when(r.timestamp)}</time>{" "}
                  {r.gave_up
                    ? `gave up after ${r.attempt} restarts`
                    : `restart ${r.attempt} (${r.reason === "exited" ? "it exited" : "the check failed"})${r.ok ? "" : ": " + (r.error ?? "failed")}`}
                </li>
              ))}
            </ul>
          )}
          {operator && (
            <span class="actions">
              <button type="button" onClick={() => setForm(formOf(s.config))}>Edit</button>
              <button type="button" onClick={() => save(bodyOf(formOf(s.config), s.config, !s.config.enabled))}>
                {s.config.enabled ? "Pause" : "Resume"}
              </button>
              <button type="button" class="danger" onClick={remove}>Remove</button>
            </span>
          )}
        </div>
      )}
      {form && (
        <form
          class="rule-form"
          aria-label="Health check settings"
          onSubmit={(e) => {
            e.preventDefault();
            save(bodyOf(form, s ? s.config : null, s ? s.config.enabled : true));
          }}
        >
          <label>
            Kind{" "}
            <select name="check-type" value={form.type} onChange={(e) => set({ type: e.currentTarget.value })}>
              <option value="http">HTTP(S)</option>
              <option value="tcp">TCP port</option>
            </select>
          </label>
          <label>
            {form.type === "tcp" ? "Address" : "URL"}{" "}
            <input
              name="check-target"
              size={36}
              required
              value={form.target}
              placeholder={form.type === "tcp" ? "{container}:5432" : "http://{container}:8080/health"}
              onInput={(e) => set({ target: e.currentTarget.value })}
            />
          </label>
          {form.type === "http" && (
            <label>
              Expected status <input name="check-status" size={9} value={form.expected_status} onInput={(e) => set({ expected_status: e.currentTarget.value })} />
            </label>
          )}
          <label>
            Every (s) <input name="check-interval" type="number" min={5} max={86400} value={form.interval_s} onInput={(e) => set({ interval_s: Number(e.currentTarget.value) })} />
          </label>
          <label>
            Timeout (s) <input name="check-timeout" type="number" min={1} max={300} value={form.timeout_s} onInput={(e) => set({ timeout_s: Number(e.currentTarget.value) })} />
          </label>
          <label>
            Failures before unhealthy{" "}
            <input name="check-failures" type="number" min={1} max={100} value={form.failure_threshold} onInput={(e) => set({ failure_threshold: Number(e.currentTarget.value) })} />
          </label>
          <label>
            <input name="check-restart" type="checkbox" checked={form.auto_restart} onChange={(e) => set({ auto_restart: e.currentTarget.checked })} /> Restart when unhealthy
          </label>
          {form.auto_restart && (
            <label>
              At most <input name="check-max-restarts" type="number" min={0} max={100} value={form.max_restarts} onInput={(e) => set({ max_restarts: Number(e.currentTarget.value) })} /> times
            </label>
          )}
          <label>
            <input name="check-on-exit" type="checkbox" checked={form.restart_on_exit} onChange={(e) => set({ restart_on_exit: e.currentTarget.checked })} /> Restart when it exits unexpectedly
          </label>
          {form.type === "http" && (
            <label>
              <input name="check-verify" type="checkbox" checked={form.verify_tls} onChange={(e) => set({ verify_tls: e.currentTarget.checked })} /> Verify HTTPS certificates
            </label>
          )}
          <button type="submit">{s ? "Save check" : "Add check"}</button>
          <button type="button" onClick={() => setForm(null)}>Cancel</button>
          <small class="muted" style="flex-basis:100%">
            {"{container}"} stands for the container's own address (or the host's, with host networking or a published port).
          </small>
        </form>
      )}
    </section>
  );
}
