import { useEffect, useMemo, useState } from "preact/hooks";
import { api, canChange, Container, ContainerPoint, Host, HostStats, Me } from "./api";
import { bytes, percent } from "./format";
import { onFrame } from "./live";

type Action = "start" | "stop" | "restart" | "kill" | "remove";
const destructive: Action[] = ["stop", "kill", "remove"];

// One host's containers: sortable and filterable, live CPU and memory, and the operations a role allows.
export function HostView({ hostId, me }: { hostId: string; me: Me }) {
  const [host, setHost] = useState<Host | null>(null);
  const [containers, setContainers] = useState<Container[] | null>(null);
  const [stats, setStats] = useState<Record<string, ContainerPoint>>({});
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<"name" | "state" | "image">("name");
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const allowed = canChange(me);

  async function load() {
    try {
      setHost(await api<Host>("GET", "/api/hosts/" + hostId));
      setContainers(await api<Container[]>("GET", "/api/hosts/" + hostId + "/containers"));
      const s = await api<HostStats>("GET", "/api/hosts/" + hostId + "/stats");
      setStats(Object.fromEntries(s.containers.map((c) => [c.container_id, c])));
    } catch (e) {
      setMessage({ text: (e as Error).message, error: true });
    }
  }

  useEffect(() => {
    load();
    const off = onFrame((f) => {
      if (f.host_id !== hostId) return;
      if (f.type === "container_stats") {
        const p = f as unknown as ContainerPoint;
        setStats((s) => ({ ...s, [p.container_id]: p }));
      } else if (f.type === "container_event") {
        load();  // a state changed: the list says how
      }
    });
    return off;
  }, [hostId]);

  const shown = useMemo(() => {
    const f = filter.toLowerCase();
    return (containers ?? [])
      .filter((c) => !f || c.name.toLowerCase().includes(f) || c.image.toLowerCase().includes(f))
      .sort((a, b) => a[sort].localeCompare(b[sort]));
  }, [containers, filter, sort]);

  async function run(c: Container, action: Action) {
    if (destructive.includes(action) && !confirm(`${action} ${c.name}?`)) return;
    setBusy(c.id + action);
    setMessage(null);
    try {
      const path = "/api/hosts/" + hostId + "/containers/" + c.id;
      if (action === "remove") await api("DELETE", path + "?force=true");
      else await api("POST", path + "/" + action);
      setMessage({ text: `${action}: ${c.name} done`, error: false });
      await load();
    } catch (e) {
      setMessage({ text: `${action} ${c.name}: ${(e as Error).message}`, error: true });
    } finally {
      setBusy(null);
    }
  }

  return (
    <section>
      <p>
        <a href="#/">← Hosts</a>
      </p>
      <h2>{host?.name ?? "…"}</h2>
      {host && (
        <p class="facts">
          <span class={"badge " + host.status}>{host.status}</span> {host.os_version} · Docker {host.docker_version} ·{" "}
          {host.num_cpus} CPUs · {bytes(host.total_memory)} · agent {host.agent?.version ?? "–"}
        </p>
      )}
      {message && (
        <p class={message.error ? "error" : "note"} role={message.error ? "alert" : "status"}>
          {message.text}
        </p>
      )}
      <div class="toolbar">
        <label>
          Filter <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        </label>
        <label>
          Sort by{" "}
          <select value={sort} onChange={(e) => setSort(e.currentTarget.value as typeof sort)}>
            <option value="name">name</option>
            <option value="state">state</option>
            <option value="image">image</option>
          </select>
        </label>
      </div>
      {!containers ? (
        <p>Loading containers…</p>
      ) : (
        <div class="table-wrap">
          <table class="containers">
            <thead>
              <tr>
                <th>Name</th>
                <th>State</th>
                <th>Image</th>
                <th class="num">CPU</th>
                <th class="num">Memory</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((c) => {
                const p = stats[c.id];
                const running = c.state === "running";
                return (
                  <tr key={c.id} data-container={c.name}>
                    <td title={c.id}>{c.name}</td>
                    <td>
                      <span class={"badge " + c.state} data-state={c.state}>
                        {c.state}
                      </span>{" "}
                      <small>{c.status}</small>
                    </td>
                    <td>{c.image}</td>
                    <td class="num" data-cpu>{running ? percent(p?.cpu_percent) : "–"}</td>
                    <td class="num">{running ? bytes(p?.memory_usage) : "–"}</td>
                    <td class="actions">
                      {(running ? (["stop", "restart", "kill"] as Action[]) : (["start", "remove"] as Action[])).map((a) => (
                        <button
                          key={a}
                          type="button"
                          disabled={!allowed || busy !== null}
                          title={allowed ? undefined : "your role may only look"}
                          onClick={() => run(c, a)}
                        >
                          {a}
                        </button>
                      ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
