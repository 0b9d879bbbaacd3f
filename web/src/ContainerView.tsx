// The page of one container: details, its health check, charts, logs, events and the update panel.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, apiPath, canChange, DockEvent, hashPath, Me, query } from "./api";
import { when } from "./format";
import { onFrame } from "./live";
import { HealthCheck } from "./HealthCheck";
import { UpdatePanel } from "./UpdatePanel";

type Inspect = Record<string, any>;  // Docker's inspect document, as the agent returned it

function Facts({ c }: { c: Inspect }) {
  const [showEnv, setShowEnv] = useState(false);
  const cfg = c.Config ?? {};
  const host = c.HostConfig ?? {};
  const state = c.State ?? {};
  const ports = Object.entries((c.NetworkSettings?.Ports ?? {}) as Record<string, { HostIp: string; HostPort: string }[] | null>)
    .map(([p, b]) => (b && b.length ? b.map((x) => `${x.HostIp || "*"}:${x.HostPort} → ${p}`).join(", ") : p))
    .join("; ");
  const networks = Object.keys(c.NetworkSettings?.Networks ?? {}).join(", ");
  const mounts = ((c.Mounts ?? []) as { Type: string; Source: string; Destination: string; RW: boolean }[]).map(
    (m) => `${m.Type} ${m.Source || "(anonymous)"} → ${m.Destination}${m.RW ? "" : " (read-only)"}`,
  );
  const env = (cfg.Env ?? []) as string[];
  const labels = Object.entries((cfg.Labels ?? {}) as Record<string, string>);
  const restart = host.RestartPolicy?.Name ? host.RestartPolicy.Name + (host.RestartPolicy.MaximumRetryCount ? ` (max ${host.RestartPolicy.MaximumRetryCount})` : "") : "no";
  const rows: [string, preact.ComponentChild][] = [
    ["Id", <code>{c.Id}</code>],
    ["Image", <>{cfg.Image} <small class="muted">{String(c.Image ?? "").slice(0, 19)}</small></>],
    ["State", <>{state.Status}{state.ExitCode ? ` (exit code ${state.ExitCode})` : ""}{state.OOMKilled ? ", killed for memory" : ""}</>],
    ["Health", state.Health?.Status ?? "no healthcheck"],
    ["Started", when(state.StartedAt)],
    ["Finished", state.Status === "running" ? "–" : when(state.FinishedAt)],
    ["Created", when(c.Created)],
    ["Restarts", `${c.RestartCount ?? 0}, policy ${restart}`],
    ["Command", <code>{[c.Path, ...(c.Args ?? [])].filter(Boolean).join(" ")}</code>],
    ["Working dir", cfg.WorkingDir || "/"],
    ["User", cfg.User || "root (image default)"],
    ["Network mode", host.NetworkMode ?? "–"],
    ["Networks", networks || "–"],
    ["Ports", ports || "none published"],
    ["Memory limit", host.Memory ? `${Math.round(host.Memory / 1048576)} MiB` : "none"],
    ["CPU limit", host.NanoCpus ? `${host.NanoCpus / 1e9} CPUs` : "none"],
  ];
  return (
    <>
      <dl class="facts-grid">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
        <div>
          <dt>Mounts</dt>
          <dd>{mounts.length ? <ul>{mounts.map((m) => <li key={m}>{m}</li>)}</ul> : "none"}</dd>
        </div>
        <div>
          <dt>Labels</dt>
          <dd>{labels.length ? <ul>{labels.map(([k, v]) => <li key={k}><code>{k}={v}</code></li>)}</ul> : "none"}</dd>
        </div>
        <div>
          <dt>
            Environment{" "}
            <button type="button" class="link" aria-pressed={showEnv} onClick={() => setShowEnv(!showEnv)}>
              {showEnv ? "hide values" : "show values"}
            </button>
          </dt>
          <dd>
            {env.length ? (
              <ul>
                {env.map((e) => {
                  const [k, ...rest] = e.split("=");
                  return <li key={e}><code>{k}={showEnv ? rest.join("=") : "•••"}</code></li>;
                })}
              </ul>
            ) : (
              "none"
            )}
          </dd>
        </div>
      </dl>
      <details>
        <summary>Everything Docker says (inspect)</summary>
        <pre class="json">{JSON.stringify(c, null, 2)}</pre>
      </details>
    </>
  );
}

// uPlot is loaded with the first container page, so the dashboard's first paint does not wait for it.
type ChartsModule = typeof import("./Charts");
let chartsModule: Promise<ChartsModule> | null = null;
function LazyCharts(props: { hostId: string; containerId: string }) {
  const [mod, setMod] = useState<ChartsModule | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    chartsModule ??= import("./Charts");
    chartsModule.then(setMod).catch((e) => {
      chartsModule = null;
      setError("the charts could not be loaded: " + (e as Error).message);
    });
  }, []);
  if (error) return <p class="error" role="alert">{error}</p>;
  return mod ? <mod.ContainerCharts {...props} /> : <p class="muted">Loading charts…</p>;
}

function highlight(line: string, needle: string) {
  if (!needle) return line;
  const parts: preact.ComponentChild[] = [];
  const low = line.toLowerCase();
  let at = 0;
  for (;;) {
    const i = low.indexOf(needle, at);
    if (i < 0) break;
    parts.push(line.slice(at, i), <mark>{line.slice(i, i + needle.length)}</mark>);
    at = i + needle.length;
  }
  parts.push(line.slice(at));
  return parts;
}

// Logs: the last N lines, followed by polling, searched with the matches marked, and downloadable.
function Logs({ hostId, containerId, name }: { hostId: string; containerId: string; name: string }) {
  const [tail, setTail] = useState(200);
  const [follow, setFollow] = useState(false);
  const [search, setSearch] = useState("");
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState("");
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    let alive = true;
    const load = () =>
      api<{ logs: string }>("GET", apiPath("hosts", hostId, "containers", containerId, "logs") + query({ tail }))
        .then((r) => {
          if (!alive) return;
          setText(r.logs ?? "");
          setError("");
        })
        .catch((e) => alive && setError((e as Error).message));
    load();
    const timer = follow ? setInterval(load, 2000) : null;
    return () => {
      alive = false;
      if (timer) clearInterval(timer);
    };
  }, [hostId, containerId, tail, follow]);

  // Following keeps the newest line in view.
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [text, follow]);

  const lines = useMemo(() => (text ?? "").replace(/\n$/, "").split("\n"), [text]);
  const needle = search.toLowerCase();
  const matches = needle ? lines.filter((l) => l.toLowerCase().includes(needle)).length : 0;

  function download() {
    const url = URL.createObjectURL(new Blob([text ?? ""], { type: "text/plain" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `${name || containerId.slice(0, 12)}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  return (
    <section aria-label="Logs">
      <h3>Logs</h3>
      <div class="toolbar">
        <label>
          Lines{" "}
          <select value={tail} onChange={(e) => setTail(Number(e.currentTarget.value))}>
            {[50, 200, 1000, 5000].map((n) => (
              <option key={n} value={n}>{n}</option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow
        </label>
        <label>
          Search <input type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        {needle && <span class="muted" role="status">{matches} matching lines</span>}
        <button type="button" onClick={download} disabled={text === null}>
          Download
        </button>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      <pre class="logs" ref={box} tabIndex={0} aria-label="log lines">
        {text === null ? "Loading…" : text === "" ? <span class="muted">(no output)</span> : lines.map((l, i) => <div key={i}>{highlight(l, needle)}</div>)}
      </pre>
    </section>
  );
}

function Events({ hostId, containerId }: { hostId: string; containerId: string }) {
  const [events, setEvents] = useState<DockEvent[] | null>(null);
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = () =>
      api<DockEvent[]>("GET", apiPath("events") + query({ host_id: hostId, container_id: containerId, limit: 50 }))
        .then((e) => alive && setEvents(e))
        .catch(() => alive && setEvents([]));
    load();
    // Events reach the database every few seconds: ask again once one seen live has been stored.
    const off = onFrame((f) => {
      if (f.host_id !== hostId || (f.container_id !== containerId && f.old_container_id !== containerId)) return;
      if (f.type !== "container_event" && f.type !== "update_progress" && f.type !== "update_complete" && f.type !== "health_check") return;
      if (timer === null) timer = setTimeout(() => ((timer = null), load()), 6000);
    });
    return () => {
      alive = false;
      off();
      if (timer) clearTimeout(timer);
    };
  }, [hostId, containerId]);
  return (
    <section aria-label="Container events">
      <h3>Events</h3>
      {!events ? (
        <p>Loading…</p>
      ) : events.length === 0 ? (
        <p class="muted">No events recorded for this container.</p>
      ) : (
        <div class="table-wrap">
          <table class="events">
            <thead>
              <tr><th>Time</th><th>Type</th><th>Action</th><th>Image</th></tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id}>
                  <td class="num">{when(e.timestamp)}</td>
                  <td>{e.type}</td>
                  <td>{e.action}</td>
                  <td class="image" title={e.image}>{e.image}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// One container: what Docker says about it, its usage over time, its logs, its events, and updating it.
export function ContainerView({ hostId, containerId, me }: { hostId: string; containerId: string; me: Me }) {
  const [c, setC] = useState<Inspect | null>(null);
  const [error, setError] = useState("");
  const [replacedBy, setReplacedBy] = useState("");
  const load = () =>
    api<Inspect>("GET", apiPath("hosts", hostId, "containers", containerId))
      .then((x) => {
        setC(x);
        setError("");
      })
      .catch((e) => setError((e as Error).message));
  useEffect(() => {
    setC(null);
    load();
    const off = onFrame((f) => {
      if (f.type === "container_event" && f.host_id === hostId && f.container_id === containerId) load();
    });
    return off;
  }, [hostId, containerId]);

  const name = String(c?.Name ?? "").replace(/^\//, "");
  return (
    <section class="container-page">
      <p>
        <a href={hashPath("hosts", hostId)}>← Containers of this host</a>
      </p>
      <h2>{name || containerId.slice(0, 12)}</h2>
      {replacedBy ? (
        <p class="note" role="status">
          The update replaced this container: <a href={hashPath("hosts", hostId, "containers", replacedBy)}>open the new one</a>.
        </p>
      ) : (
        error && <p class="error" role="alert">{error}</p>
      )}
      {c && (
        <p class="facts">
          <span class={"badge " + (c.State?.Status ?? "")}>{c.State?.Status}</span> {c.Config?.Image}
        </p>
      )}
      {c && canChange(me) && (
        <UpdatePanel hostId={hostId} containerId={containerId} image={String(c.Config?.Image ?? "")} onReplaced={setReplacedBy} />
      )}
      {c && <HealthCheck hostId={hostId} containerId={containerId} me={me} />}
      <LazyCharts hostId={hostId} containerId={containerId} />
      <Logs hostId={hostId} containerId={containerId} name={name} />
      <Events hostId={hostId} containerId={containerId} />
      <section aria-label="Details">
        <h3>Details</h3>
        {c ? <Facts c={c} /> : !error && <p>Loading…</p>}
      </section>
    </section>
  );
}
