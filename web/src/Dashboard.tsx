// The first page: every host with its state, live numbers and container counts.
import { useEffect, useRef, useState } from "preact/hooks";
import { AddHost } from "./AddHost";
import { api, apiPath, Container, hashPath, health, Host, HostPoint, Me } from "./api";
import { bytes, percent, rate } from "./format";
import { batchPerFrame, onFrame, useSubscription } from "./live";
import { hasTag, TagChips, TagFilter } from "./Tags";

interface Counts {
  running: number;
  stopped: number;
  unhealthy: number;
}

function count(list: Container[]): Counts {
  const c = { running: 0, stopped: 0, unhealthy: 0 };
  for (const x of list) {
    if (x.state === "running") c.running++;
    else c.stopped++;
    if (health(x) === "unhealthy") c.unhealthy++;
  }
  return c;
}

// Every host at a glance: state, versions, live CPU, memory and network, and its containers by state.
export function Dashboard({ me }: { me: Me }) {
  const [hosts, setHosts] = useState<Host[] | null>(null);
  const [error, setError] = useState("");
  const [points, setPoints] = useState<Record<string, HostPoint>>({});
  const [counts, setCounts] = useState<Record<string, Counts | "offline" | "error">>({});
  const [adding, setAdding] = useState(false);
  const [tag, setTag] = useState("");
  const known = useRef<Host[]>([]);
  useSubscription({ container_stats: false });

  useEffect(() => {
    let alive = true;
    const pending = new Map<string, ReturnType<typeof setTimeout>>();
    // Fifty hosts answer within a few hundred milliseconds: one render per frame, not one per answer.
    const counted = batchPerFrame<[string, Counts | "error"]>((items) =>
      setCounts((all) => ({ ...all, ...Object.fromEntries(items) })),
    );
    const loadCounts = async (list: string[]) => {
      // A few at a time: every list is a round trip to that host's agent.
      let next = 0;
      const worker = async () => {
        while (alive && next < list.length) {
          const id = list[next++];
          try {
            const c = count(await api<Container[]>("GET", apiPath("hosts", id, "containers")));
            if (alive) counted.push([id, c]);
          } catch {
            if (alive) counted.push([id, "error"]);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(6, list.length) }, worker));
    };
    const load = () =>
      api<Host[]>("GET", apiPath("hosts"))
        .then((h) => {
          if (!alive) return;
          const before = new Map(known.current.map((x) => [x.id, x.status]));
          known.current = h;
          setHosts(h);
          // The server's latest samples, until the feed brings newer ones.
          setPoints((p) => {
            const n = { ...p };
            for (const x of h) if (x.status === "online" && x.stats && !n[x.id]) n[x.id] = x.stats;
            return n;
          });
          setError("");
          // Counts for hosts that are new or came back online; offline hosts cannot be asked.
          const ask = h.filter((x) => x.status === "online" && before.get(x.id) !== "online").map((x) => x.id);
          const off = h.filter((x) => x.status !== "online");
          if (off.length) setCounts((all) => ({ ...all, ...Object.fromEntries(off.map((x) => [x.id, "offline" as const])) }));
          loadCounts(ask);
        })
        .catch((e) => alive && setError((e as Error).message));
    load();
    const timer = setInterval(load, 10000);  // online/offline and new hosts
    const stats = batchPerFrame<HostPoint & { host_id: string }>((items) =>
      setPoints((p) => {
        const n = { ...p };
        for (const it of items) n[it.host_id] = it;
        return n;
      }),
    );
    const off = onFrame((f) => {
      if (f.type === "host_stats") {
        const id = String(f.host_id);
        stats.push(f as unknown as HostPoint & { host_id: string });
        // A host we do not know yet has just registered.
        if (!known.current.some((h) => h.id === id) && !pending.has("hosts")) {
          pending.set("hosts", setTimeout(() => (pending.delete("hosts"), load()), 300));
        }
      } else if (f.type === "container_event" || f.type === "update_complete") {
        // A container changed state: count that host again, at most once a second.
        const id = String(f.host_id);
        if (pending.has(id)) return;
        pending.set(id, setTimeout(() => (pending.delete(id), loadCounts([id])), 1000));
      }
    });
    return () => {
      alive = false;
      clearInterval(timer);
      stats.cancel();
      counted.cancel();
      pending.forEach((t) => clearTimeout(t));
      off();
    };
  }, []);

  const admin = me.role === "admin";
  return (
    <section>
      <div class="title-row">
        <h2>Hosts</h2>
        {admin && (
          <button type="button" class="primary" aria-expanded={adding} onClick={() => setAdding(!adding)}>
            {adding ? "Close" : "Add a host"}
          </button>
        )}
      </div>
      {adding && <AddHost knownHosts={hosts ?? []} />}
      {hosts && hosts.length > 0 && (
        <div class="toolbar">
          <TagFilter items={hosts} value={tag} onChange={setTag} />
        </div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {!hosts ? (
        <p>Loading hosts…</p>
      ) : hosts.length === 0 ? (
        <p>No hosts yet. {admin ? "Add one with the button above." : "An admin adds one with a registration token."}</p>
      ) : (
        <div class="table-wrap">
          <table class="hosts">
            <thead>
              <tr>
                <th>Host</th>
                <th>State</th>
                <th>Agent</th>
                <th>OS</th>
                <th>Docker</th>
                <th class="num">CPU</th>
                <th class="num">Memory</th>
                <th class="num">Network</th>
                <th class="num" title="running / stopped / unhealthy">Containers</th>
              </tr>
            </thead>
            <tbody>
              {hosts.filter((h) => hasTag(h, tag)).map((h) => {
                const p = h.status === "online" ? points[h.id] : undefined;  // an offline host has no current numbers
                const c = counts[h.id];
                return (
                  <tr key={h.id} data-host-id={h.id} data-host-name={h.name}>
                    <td class="name" title={h.name}>
                      <a href={hashPath("hosts", h.id)}>{h.name}</a>
                      <TagChips tags={h.tags} />
                    </td>
                    <td>
                      <span class={"badge " + h.status}>{h.status}</span>
                    </td>
                    <td>{h.agent?.version ?? "–"}</td>
                    <td class="os" title={h.os_version || h.os_type}>{h.os_version || h.os_type}</td>
                    <td>{h.docker_version || "–"}</td>
                    <td class="num">{percent(p?.cpu_percent)}</td>
                    <td class="num" title={"of " + bytes(h.total_memory)}>
                      {percent(p?.mem_percent)}
                    </td>
                    <td class="num net">{rate(p?.net_bytes_per_sec)}</td>
                    <td class="num counts" data-counts>
                      {c === undefined ? (
                        "…"
                      ) : typeof c === "string" ? (
                        "–"
                      ) : (
                        <>
                          <span class="n-running" title="running">{c.running}</span> /{" "}
                          <span class="n-stopped" title="stopped">{c.stopped}</span> /{" "}
                          <span class={c.unhealthy ? "n-unhealthy bad" : "n-unhealthy"} title="unhealthy">
                            {c.unhealthy}
                          </span>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <p class="legend">Containers: running / stopped / unhealthy.</p>
        </div>
      )}
    </section>
  );
}
