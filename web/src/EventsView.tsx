// The events page: stored Docker and update events across hosts, filtered, with live arrivals.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, apiPath, DockEvent, hashPath, Host } from "./api";
import { when } from "./format";
import { onFrame, useSubscription } from "./live";

// A datetime-local value (local time, no zone) as the ISO UTC time the API wants.
function toIso(local: string): string {
  if (!local) return "";
  const d = new Date(local);
  return isNaN(d.getTime()) ? "" : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// Events across every host, filtered by host, container, type and time; new ones appear by themselves.
export function EventsView() {
  const [hosts, setHosts] = useState<Host[]>([]);
  const [hostId, setHostId] = useState("");
  const [container, setContainer] = useState("");
  const [type, setType] = useState("");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [limit, setLimit] = useState(100);
  const [events, setEvents] = useState<DockEvent[] | null>(null);
  const [error, setError] = useState("");
  const [tick, setTick] = useState(0);
  useSubscription({ container_stats: false });

  useEffect(() => {
    api<Host[]>("GET", apiPath("hosts")).then(setHosts).catch(() => undefined);
  }, []);

  const query = useMemo(() => {
    const q = new URLSearchParams();
    if (hostId) q.set("host_id", hostId);
    if (container.trim()) q.set("container_id", container.trim());
    if (type) q.set("type", type);
    if (toIso(since)) q.set("since", toIso(since));
    if (toIso(until)) q.set("until", toIso(until));
    q.set("limit", String(limit));
    return q.toString();
  }, [hostId, container, type, since, until, limit]);

  useEffect(() => {
    let alive = true;
    api<DockEvent[]>("GET", apiPath("events") + "?" + query)
      .then((e) => {
        if (!alive) return;
        setEvents(e);
        setError("");
      })
      .catch((e) => alive && setError((e as Error).message));
    return () => void (alive = false);
  }, [query, tick]);

  // Live: a container event is shown the moment it arrives; the server stores events every few seconds,
  // so the list is asked for again after that, and the stored rows replace the live ones.
  const filters = useRef({ hostId, container, type, until });
  filters.current = { hostId, container, type, until };
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let n = 0;
    const off = onFrame((f) => {
      if (f.type !== "container_event" && f.type !== "update_progress" && f.type !== "selfupdate_progress") return;
      const q = filters.current;
      if (f.type === "container_event" && !q.until && (!q.type || q.type === "container") &&
          (!q.hostId || q.hostId === f.host_id) && (!q.container.trim() || q.container.trim() === f.container_id)) {
        const e = { ...(f as unknown as DockEvent), id: "live-" + ++n, type: "container", attributes: {} };
        setEvents((all) => (all ? [e, ...all] : all));
      }
      if (timer === null) timer = setTimeout(() => ((timer = null), setTick((t) => t + 1)), 6000);
    });
    // What happened just before the page opened may not have been stored yet, and an update's outcome
    // has no frame of its own that passes the filters: look again now and then.
    const every = setInterval(() => setTick((t) => t + 1), 10000);
    return () => {
      off();
      clearInterval(every);
      if (timer) clearTimeout(timer);
    };
  }, []);

  const hostName = useMemo(() => Object.fromEntries(hosts.map((h) => [h.id, h.name])), [hosts]);
  return (
    <section>
      <h2>Events</h2>
      <form class="toolbar filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter events">
        <label>
          Host{" "}
          <select value={hostId} onChange={(e) => setHostId(e.currentTarget.value)}>
            <option value="">all</option>
            {hosts.map((h) => (
              <option key={h.id} value={h.id}>{h.name}</option>
            ))}
          </select>
        </label>
        <label>
          Container id <input value={container} size={14} onChange={(e) => setContainer(e.currentTarget.value)} placeholder="full id" />
        </label>
        <label>
          Type{" "}
          <select value={type} onChange={(e) => setType(e.currentTarget.value)}>
            <option value="">all</option>
            <option value="container">container</option>
            <option value="update">update</option>
            <option value="agent_update">agent update</option>
            <option value="agent">agent link</option>
          </select>
        </label>
        <label>
          Since <input type="datetime-local" value={since} onChange={(e) => setSince(e.currentTarget.value)} />
        </label>
        <label>
          Until <input type="datetime-local" value={until} onChange={(e) => setUntil(e.currentTarget.value)} />
        </label>
        <label>
          Show{" "}
          <select value={limit} onChange={(e) => setLimit(Number(e.currentTarget.value))}>
            {[50, 100, 500, 1000].map((n) => (
              <option key={n} value={n}>{n}</option>
            ))}
          </select>
        </label>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {!events ? (
        <p>Loading events…</p>
      ) : events.length === 0 ? (
        <p class="muted">No events match.</p>
      ) : (
        <div class="table-wrap">
          <table class="events">
            <thead>
              <tr>
                <th>Time</th>
                <th>Host</th>
                <th>Container</th>
                <th>Type</th>
                <th>Action</th>
                <th>Image</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id} data-event-action={e.action} data-container-name={e.container_name}>
                  <td class="num">{when(e.timestamp)}</td>
                  <td class="name" title={hostName[e.host_id] ?? e.host_id}>{hostName[e.host_id] ?? e.host_id.slice(0, 8)}</td>
                  <td class="name" title={e.container_name || e.container_id}>
                    {e.container_id ? (
                      <a href={hashPath("hosts", e.host_id, "containers", e.container_id)}>{e.container_name || e.container_id.slice(0, 12)}</a>
                    ) : (
                      "–"
                    )}
                  </td>
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
