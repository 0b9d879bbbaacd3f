// The alerts page: firing alerts first, then history, each with its timeline (fired, messages sent,
// acknowledged, resolved); the rules with a preview over the stored events; the notification channels
// with a test button. The header's badge counts firing alerts.
import { useEffect, useState } from "preact/hooks";
import { api, apiPath, canChange, Host, Me, query } from "./api";
import { when } from "./format";
import { onFrame } from "./live";

export interface Alert {
  id: string;
  rule_id: string;
  host_id: string;
  container_id: string;
  target_name: string;
  kind: string;
  severity: string;
  state: "firing" | "resolved";
  message: string;
  fired_at: string;
  resolved_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  snoozed_until: string | null;
  notified: boolean;
}

interface Delivery {
  id: number;
  channel_id: string;
  state: "pending" | "sent" | "failed";
  attempts: number;
  last_error: string;
  created_at: string;
  sent_at: string | null;
  next_attempt_at: string | null;
  event?: string;
}

interface Rule {
  id: string;
  name: string;
  enabled: boolean;
  kind: string;
  severity: string;
  scope: { hosts: string[]; name: string; label: string; tag: string };
  cooldown_seconds: number;
  channel_ids: string[];
  threshold_percent?: number;
  mount?: string;
  snoozed_until?: string | null;
}

interface Channel {
  id: string;
  name: string;
  type: string;
  enabled: boolean;
  config: Record<string, unknown>;
  problem?: string;
}

interface Preview {
  supported: boolean;
  reason?: string;
  fired_24h?: number;
  notified_24h?: number;
  fired_7d?: number;
  notified_7d?: number;
}

const kinds = [
  "container_stopped",
  "container_started",
  "container_restarting",
  "container_unhealthy",
  "container_oom",
  "cpu_high",
  "memory_high",
  "disk_low",
  "host_down",
  "update_completed",
  "update_failed",
  "self_update_failed",
];
const severities = ["info", "warning", "error", "critical"];

// The settings each channel type asks for in the form: [field, label, secret].
const channelFields: Record<string, [string, string, boolean][]> = {
  webhook: [["url", "URL", true]],
  slack: [["webhook_url", "Webhook URL", true]],
  discord: [["webhook_url", "Webhook URL", true]],
  teams: [["webhook_url", "Workflow webhook URL", true]],
  google_chat: [["webhook_url", "Webhook URL", true]],
  telegram: [
    ["bot_token", "Bot token", true],
    ["chat_id", "Chat id", false],
  ],
  pushover: [
    ["token", "App token", true],
    ["user", "User key", true],
  ],
  gotify: [
    ["url", "Server URL", false],
    ["token", "App token", true],
  ],
  ntfy: [
    ["url", "Server URL (https://ntfy.sh)", false],
    ["topic", "Topic", false],
    ["token", "Access token", true],
  ],
  smtp: [
    ["host", "SMTP host", false],
    ["port", "Port", false],
    ["username", "User", false],
    ["password", "Password", true],
    ["from", "From", false],
    ["to", "To (comma-separated)", false],
  ],
};

// Calls load now, every `every` ms, and soon (after `delay` ms) after a container event, which is when
// alerts fire and end; stops when the component goes.
function useReload(load: () => void, every: number, delay: number, active = true) {
  useEffect(() => {
    if (!active) return;
    load();
    const timer = setInterval(load, every);
    let soon: ReturnType<typeof setTimeout> | null = null;
    const off = onFrame((f) => {
      if (f.type !== "container_event" || soon) return;
      soon = setTimeout(() => {
        soon = null;
        load();
      }, delay);
    });
    return () => {
      clearInterval(timer);
      if (soon) clearTimeout(soon);
      off();
    };
  }, [active]);
}

// Firing alerts now, for the header (once signed in): asked every 10 s and after container events.
export function useFiringCount(signedIn: boolean): number {
  const [count, setCount] = useState(0);
  useReload(
    () =>
      api<Alert[]>("GET", apiPath("alerts") + query({ state: "firing", limit: 1000 }))
        .then((a) => setCount(a.length))
        .catch(() => undefined),
    10000,
    1500,
    signedIn,
  );
  return count;
}

function Timeline({ alert, channelName }: { alert: Alert; channelName: (id: string) => string }) {
  const [sent, setSent] = useState<Delivery[] | null>(null);
  // Asked again while open: a message still pending or being retried changes by itself.
  useEffect(() => {
    const load = () =>
      api<Delivery[]>("GET", apiPath("notifications") + query({ alert_id: alert.id }))
        .then(setSent)
        .catch(() => setSent([]));
    load();
    const timer = setInterval(load, 3000);
    return () => clearInterval(timer);
  }, [alert.id, alert.state]);
  const steps: [string, string][] = [[alert.fired_at, "fired: " + alert.message]];
  for (const d of sent ?? []) {
    const what = d.event === "resolved" ? "all-clear" : "message";
    if (d.state === "sent") steps.push([d.sent_at ?? d.created_at, `${what} sent to ${channelName(d.channel_id)}`]);
    else if (d.state === "failed") steps.push([d.created_at, `${what} to ${channelName(d.channel_id)} not delivered after ${d.attempts} attempts: ${d.last_error}`]);
    else steps.push([d.created_at, `${what} to ${channelName(d.channel_id)} pending, next attempt ${when(d.next_attempt_at)}${d.last_error ? ": " + d.last_error : ""}`]);
  }
  if (alert.acknowledged_at) steps.push([alert.acknowledged_at, "acknowledged by " + alert.acknowledged_by]);
  if (alert.snoozed_until) steps.push([alert.snoozed_until, "snoozed until then"]);
  if (alert.resolved_at) steps.push([alert.resolved_at, "resolved"]);
  steps.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return (
    <ol class="timeline" aria-label="Timeline">
      {steps.map(([t, text], i) => (
        <li key={i}>
          <time class="num">{when(t)}</time> {text}
        </li>
      ))}
    </ol>
  );
}

function AlertList({ me, hosts, openId, channelName }: { me: Me; hosts: Map<string, string>; openId?: string; channelName: (id: string) => string }) {
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [open, setOpen] = useState<string>(openId ?? "");
  const [error, setError] = useState("");
  const load = () =>
    api<Alert[]>("GET", apiPath("alerts") + query({ limit: 200 }))
      .then((a) => {
        setAlerts(a);
        setError("");
      })
      .catch((e) => setError((e as Error).message));
  useReload(load, 5000, 1000);
  async function act(a: Alert, action: "acknowledge" | "snooze" | "resolve") {
    try {
      await api("POST", apiPath("alerts", a.id, action), action === "snooze" ? { minutes: 60 } : {});
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  }
  const firing = (alerts ?? []).filter((a) => a.state === "firing");
  const history = (alerts ?? []).filter((a) => a.state !== "firing");
  const row = (a: Alert) => (
    <>
      <tr key={a.id} class={"alert-row " + a.state} data-alert={a.id}>
        <td>
          <span class={"chip severity-" + a.severity}>{a.severity}</span>
        </td>
        <td>
          <button type="button" class="link" aria-expanded={open === a.id} onClick={() => setOpen(open === a.id ? "" : a.id)}>
            {a.message}
          </button>
        </td>
        <td>{hosts.get(a.host_id) ?? a.host_id.slice(0, 8)}</td>
        <td class="num">{when(a.fired_at)}</td>
        <td>{a.state === "firing" ? (a.acknowledged_by ? "acknowledged" : "firing") : "resolved " + when(a.resolved_at)}</td>
        <td>
          {a.state === "firing" && canChange(me) && (
            <span class="actions">
              {!a.acknowledged_at && (
                <button type="button" onClick={() => act(a, "acknowledge")}>
                  Acknowledge
                </button>
              )}
              <button type="button" onClick={() => act(a, "snooze")}>
                Snooze 1 h
              </button>
              <button type="button" onClick={() => act(a, "resolve")}>
                Resolve
              </button>
            </span>
          )}
        </td>
      </tr>
      {open === a.id && (
        <tr key={a.id + "-t"}>
          <td colSpan={6}>
            <Timeline alert={a} channelName={channelName} />
          </td>
        </tr>
      )}
    </>
  );
  const table = (list: Alert[], label: string) => (
    <table aria-label={label}>
      <thead>
        <tr>
          <th>Severity</th>
          <th>What</th>
          <th>Host</th>
          <th>Since</th>
          <th>State</th>
          <th />
        </tr>
      </thead>
      <tbody>{list.map(row)}</tbody>
    </table>
  );
  return (
    <section aria-label="Alerts">
      <h2>Alerts</h2>
      {error && <p class="error">{error}</p>}
      {alerts === null ? (
        <p class="loading">Loading…</p>
      ) : (
        <>
          <h3>Firing ({firing.length})</h3>
          {firing.length ? table(firing, "Firing alerts") : <p class="empty">Nothing is firing.</p>}
          <h3>History</h3>
          {history.length ? table(history, "Alert history") : <p class="empty">No alert has ended yet.</p>}
        </>
      )}
    </section>
  );
}

// The form's fields; a rule being edited fills them, and saving sends them as a PATCH.
interface RuleForm {
  name: string;
  kind: string;
  severity: string;
  pattern: string;
  tag: string;
  mount: string;
  threshold: string;
  cooldown: number;
  chosen: string[];
}
const emptyForm: RuleForm = { name: "", kind: kinds[0], severity: "error", pattern: "", tag: "", mount: "", threshold: "", cooldown: 300, chosen: [] };
const withThreshold = (kind: string) => kind === "cpu_high" || kind === "memory_high" || kind === "disk_low";
const onHosts = (kind: string) => kind === "host_down" || kind === "disk_low" || kind === "self_update_failed";

function Rules({ me, channels, channelName }: { me: Me; channels: Channel[]; channelName: (id: string) => string }) {
  const [rules, setRules] = useState<Rule[]>([]);
  const [form, setForm] = useState<RuleForm>(emptyForm);
  const [editing, setEditing] = useState<string | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState("");
  const admin = me.role === "admin";
  const set = (part: Partial<RuleForm>) => setForm({ ...form, ...part });
  const load = () => api<Rule[]>("GET", apiPath("alert-rules")).then(setRules).catch((e) => setError((e as Error).message));
  useEffect(() => void load(), []);
  const body = () => {
    const scope: Record<string, string> = {};
    if (form.pattern.trim() && !onHosts(form.kind)) scope.name = form.pattern.trim();
    if (form.tag.trim()) scope.tag = form.tag.trim();
    const b: Record<string, unknown> = {
      name: form.name.trim() || "preview",
      kind: form.kind,
      severity: form.severity,
      cooldown_seconds: form.cooldown,
      scope,
      channel_ids: form.chosen,
    };
    if (withThreshold(form.kind) && form.threshold.trim()) b.threshold_percent = Number(form.threshold);
    if (form.kind === "disk_low" && form.mount.trim()) b.mount = form.mount.trim();
    return b;
  };
  function edit(r: Rule) {
    setEditing(r.id);
    setPreview(null);
    setForm({
      name: r.name,
      kind: r.kind,
      severity: r.severity,
      pattern: r.scope.name,
      tag: r.scope.tag,
      mount: r.mount ?? "",
      threshold: r.threshold_percent !== undefined ? String(r.threshold_percent) : "",
      cooldown: r.cooldown_seconds,
      chosen: r.channel_ids,
    });
  }
  function done() {
    setEditing(null);
    setForm(emptyForm);
    setPreview(null);
  }
  async function run(what: "preview" | "save", e?: Event) {
    e?.preventDefault();
    setError("");
    try {
      if (what === "preview") setPreview(await api<Preview>("POST", apiPath("alert-rules", "preview"), body()));
      else {
        if (editing) await api("PATCH", apiPath("alert-rules", editing), body());
        else await api("POST", apiPath("alert-rules"), body());
        done();
        await load();
      }
    } catch (err) {
      setError((err as Error).message);
    }
  }
  async function remove(r: Rule) {
    if (!confirm(`Delete the rule "${r.name}"? Its firing alerts end.`)) return;
    await api("DELETE", apiPath("alert-rules", r.id)).catch((e) => setError((e as Error).message));
    if (editing === r.id) done();
    await load();
  }
  async function snooze(r: Rule, minutes: number) {
    await api("POST", apiPath("alert-rules", r.id, "snooze"), { minutes }).catch((e) => setError((e as Error).message));
    await load();
  }
  const snoozed = (r: Rule) => r.snoozed_until !== null && r.snoozed_until !== undefined && new Date(r.snoozed_until) > new Date();
  return (
    <section aria-label="Alert rules">
      <h3>Rules</h3>
      {error && <p class="error">{error}</p>}
      <table aria-label="Rules">
        <thead>
          <tr>
            <th>Name</th>
            <th>Kind</th>
            <th>Severity</th>
            <th>Scope</th>
            <th>Channels</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rules.map((r) => (
            <tr key={r.id} data-rule={r.name}>
              <td>
                {r.name}
                {snoozed(r) && <small class="muted"> snoozed until {when(r.snoozed_until)}</small>}
              </td>
              <td>{r.kind}</td>
              <td>
                <span class={"chip severity-" + r.severity}>{r.severity}</span>
              </td>
              <td>{[r.scope.name, r.scope.tag && "tag " + r.scope.tag, r.mount && r.mount !== "*" && r.mount].filter(Boolean).join(", ") || "all"}</td>
              <td>{r.channel_ids.map(channelName).join(", ") || "–"}</td>
              <td>
                <span class="actions">
                  {canChange(me) &&
                    (snoozed(r) ? (
                      <button type="button" onClick={() => snooze(r, 0)}>
                        Wake
                      </button>
                    ) : (
                      <button type="button" onClick={() => snooze(r, 60)}>
                        Snooze 1 h
                      </button>
                    ))}
                  {admin && (
                    <button type="button" onClick={() => edit(r)}>
                      Edit
                    </button>
                  )}
                  {admin && (
                    <button type="button" onClick={() => remove(r)}>
                      Delete
                    </button>
                  )}
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {admin && (
        <form class="rule-form" aria-label={editing ? "Edit rule" : "New rule"} onSubmit={(e) => run("save", e)}>
          <label>
            Name <input name="rule-name" value={form.name} maxLength={100} required onInput={(e) => set({ name: e.currentTarget.value })} />
          </label>
          <label>
            Kind{" "}
            <select name="rule-kind" value={form.kind} onChange={(e) => set({ kind: e.currentTarget.value })}>
              {kinds.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </label>
          <label>
            Severity{" "}
            <select name="rule-severity" value={form.severity} onChange={(e) => set({ severity: e.currentTarget.value })}>
              {severities.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
          {!onHosts(form.kind) && (
            <label>
              Container names{" "}
              <input name="rule-pattern" placeholder="web-* (all when empty)" value={form.pattern} onInput={(e) => set({ pattern: e.currentTarget.value })} />
            </label>
          )}
          <label>
            Tag <input name="rule-tag" placeholder="any" value={form.tag} maxLength={32} onInput={(e) => set({ tag: e.currentTarget.value })} />
          </label>
          {withThreshold(form.kind) && (
            <label>
              Above (%){" "}
              <input name="rule-threshold" type="number" min={0} step="any" placeholder="90" value={form.threshold} onInput={(e) => set({ threshold: e.currentTarget.value })} />
            </label>
          )}
          {form.kind === "disk_low" && (
            <label>
              Mount points <input name="rule-mount" placeholder="* (all)" value={form.mount} onInput={(e) => set({ mount: e.currentTarget.value })} />
            </label>
          )}
          <label>
            Cooldown (s){" "}
            <input name="rule-cooldown" type="number" min={0} max={604800} value={form.cooldown} onInput={(e) => set({ cooldown: Number(e.currentTarget.value) })} />
          </label>
          <fieldset>
            <legend>Channels</legend>
            {channels.length === 0 && <small>No channel yet: add one below.</small>}
            {channels.map((c) => (
              <label key={c.id}>
                <input
                  type="checkbox"
                  name={"rule-channel-" + c.name}
                  checked={form.chosen.includes(c.id)}
                  onChange={(e) => set({ chosen: e.currentTarget.checked ? [...form.chosen, c.id] : form.chosen.filter((x) => x !== c.id) })}
                />{" "}
                {c.name}
              </label>
            ))}
          </fieldset>
          <button type="button" onClick={() => run("preview")}>
            Preview
          </button>
          <button type="submit">{editing ? "Save rule" : "Add rule"}</button>
          {editing && (
            <button type="button" onClick={done}>
              Cancel
            </button>
          )}
          {preview && (
            <p class="preview" role="status" aria-label="Preview">
              {preview.supported
                ? `Replayed over the stored events and history, this rule would have fired ${preview.fired_24h} times and sent ${preview.notified_24h} messages in the last 24 hours; ${preview.fired_7d} and ${preview.notified_7d} in the last 7 days.`
                : "No preview: " + preview.reason}
            </p>
          )}
        </form>
      )}
    </section>
  );
}

function Channels({ me, channels, reload }: { me: Me; channels: Channel[]; reload: () => void }) {
  const [name, setName] = useState("");
  const [type, setType] = useState("webhook");
  const [values, setValues] = useState<Record<string, string>>({});
  const [result, setResult] = useState("");
  const [error, setError] = useState("");
  const [editing, setEditing] = useState<Channel | null>(null);
  const admin = me.role === "admin";
  // A channel being edited fills the form; its secrets stay masked, and a mask sent back keeps them.
  function edit(c: Channel) {
    setEditing(c);
    setName(c.name);
    setType(c.type in channelFields ? c.type : "webhook");
    const shown: Record<string, string> = {};
    for (const [field, v] of Object.entries(c.config)) shown[field] = Array.isArray(v) ? v.join(", ") : v === null ? "" : String(v);
    setValues(shown);
  }
  function done() {
    setEditing(null);
    setName("");
    setValues({});
  }
  async function save(e: Event) {
    e.preventDefault();
    setError("");
    // Settings the form does not show (a webhook's headers, SMTP's security) are kept as they were.
    const config: Record<string, unknown> = editing ? { ...editing.config } : {};
    for (const [field] of channelFields[type]) {
      const v = (values[field] ?? "").trim();
      if (!v) {
        delete config[field];
        continue;
      }
      config[field] = field === "port" ? Number(v) : field === "to" ? v.split(",").map((s) => s.trim()) : v;
    }
    try {
      if (editing) await api("PATCH", apiPath("notification-channels", editing.id), { name: name.trim(), config });
      else await api("POST", apiPath("notification-channels"), { name: name.trim(), type, config });
      done();
      reload();
    } catch (err) {
      setError((err as Error).message);
    }
  }
  async function test(c: Channel) {
    setResult("");
    setError("");
    try {
      await api("POST", apiPath("notification-channels", c.id, "test"));
      setResult(`Test message delivered to ${c.name}.`);
    } catch (err) {
      setError((err as Error).message);
    }
  }
  async function remove(c: Channel) {
    if (!confirm(`Delete the channel "${c.name}"? Its unsent messages go with it.`)) return;
    await api("DELETE", apiPath("notification-channels", c.id)).catch((e) => setError((e as Error).message));
    reload();
  }
  return (
    <section aria-label="Notification channels">
      <h3>Channels</h3>
      {error && <p class="error">{error}</p>}
      {result && (
        <p class="ok" role="status">
          {result}
        </p>
      )}
      <table aria-label="Channels">
        <thead>
          <tr>
            <th>Name</th>
            <th>Type</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {channels.map((c) => (
            <tr key={c.id}>
              <td>{c.name}</td>
              <td>
                {c.type}
                {c.problem && <small class="error"> {c.problem}</small>}
              </td>
              <td>
                {admin && (
                  <span class="actions">
                    <button type="button" onClick={() => test(c)}>
                      Send test
                    </button>
                    <button type="button" onClick={() => edit(c)}>
                      Edit
                    </button>
                    <button type="button" onClick={() => remove(c)}>
                      Delete
                    </button>
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {admin && (
        <form class="rule-form" aria-label={editing ? "Edit channel" : "New channel"} onSubmit={save}>
          <label>
            Name <input name="channel-name" value={name} maxLength={100} required onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            Type{" "}
            <select name="channel-type" value={type} disabled={editing !== null} onChange={(e) => setType(e.currentTarget.value)}>
              {Object.keys(channelFields).map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
          {channelFields[type].map(([field, label, secret]) => (
            <label key={type + field}>
              {label}{" "}
              <input
                name={"channel-" + field}
                type={secret ? "password" : "text"}
                autoComplete="off"
                value={values[field] ?? ""}
                onInput={(e) => setValues({ ...values, [field]: e.currentTarget.value })}
              />
            </label>
          ))}
          <button type="submit">{editing ? "Save channel" : "Add channel"}</button>
          {editing && (
            <button type="button" onClick={done}>
              Cancel
            </button>
          )}
        </form>
      )}
    </section>
  );
}

// openId: an alert to show with its timeline open (a notification's link, #/alerts/<id>).
export function AlertsView({ me, openId }: { me: Me; openId?: string }) {
  const [hosts, setHosts] = useState<Map<string, string>>(new Map());
  const [channels, setChannels] = useState<Channel[]>([]);
  const loadChannels = () => api<Channel[]>("GET", apiPath("notification-channels")).then(setChannels).catch(() => undefined);
  useEffect(() => {
    api<Host[]>("GET", apiPath("hosts"))
      .then((list) => setHosts(new Map(list.map((h) => [h.id, h.name]))))
      .catch(() => undefined);
    loadChannels();
  }, []);
  const channelName = (id: string) => channels.find((c) => c.id === id)?.name ?? "channel " + id.slice(0, 8);
  return (
    <>
      <AlertList me={me} hosts={hosts} openId={openId} channelName={channelName} />
      <Rules me={me} channels={channels} channelName={channelName} />
      <Channels me={me} channels={channels} reload={loadChannels} />
    </>
  );
}
