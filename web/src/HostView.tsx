// A host's page: its containers in a table that fits the page, with the actions a role allows.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, apiPath, canChange, Container, ContainerPoint, Filesystem, hashPath, health, Host, HostStats, Me, query, uptime } from "./api";
import { bytes, percent } from "./format";
import { batchPerFrame, onFrame } from "./live";
import { pushHistory, Sparkline } from "./Sparkline";
import { editTags, hasTag, TagChips, TagFilter } from "./Tags";

// The tags a user set on a container: its list without the one its label gives (its compose project's).
const userTags = (c: Container) => (c.tags ?? []).filter((t) => t !== c.label_tag);

type Action = "start" | "stop" | "restart" | "kill" | "remove" | "rename";
const destructive: Action[] = ["stop", "kill", "remove"];

// One host's containers: sortable and filterable, live CPU and memory, and the operations a role allows.
export function HostView({ hostId, me }: { hostId: string; me: Me }) {
  const [host, setHost] = useState<Host | null>(null);
  const [containers, setContainers] = useState<Container[] | null>(null);
  const [stats, setStats] = useState<Record<string, ContainerPoint>>({});
  const [filter, setFilter] = useState("");
  const [tag, setTag] = useState("");
  const [disks, setDisks] = useState<Filesystem[]>([]);
  const [sort, setSort] = useState<"name" | "state" | "image">("name");
  const cpuHistory = useRef<Record<string, number[]>>({});
  const memHistory = useRef<Record<string, number[]>>({});
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const allowed = canChange(me);

  async function load() {
    try {
      setHost(await api<Host>("GET", apiPath("hosts", hostId)));
      setContainers(await api<Container[]>("GET", apiPath("hosts", hostId, "containers")));
      const s = await api<HostStats>("GET", apiPath("hosts", hostId, "stats"));
      setStats((old) => ({ ...old, ...Object.fromEntries(s.containers.map((c) => [c.container_id, c])) }));
      setDisks(s.filesystems ?? []);
    } catch (e) {
      setMessage({ text: (e as Error).message, error: true });
    }
  }

  useEffect(() => {
    load();
    let reload: ReturnType<typeof setTimeout> | null = null;
    const batch = batchPerFrame<ContainerPoint>((items) => {
      for (const p of items) {
        pushHistory(cpuHistory.current, p.container_id, p.cpu_percent);
        pushHistory(memHistory.current, p.container_id, p.memory_usage);
      }
      setStats((s) => {
        const n = { ...s };
        for (const p of items) n[p.container_id] = p;
        return n;
      });
    });
    const off = onFrame((f) => {
      if (f.host_id !== hostId) return;
      if (f.type === "container_stats") {
        batch.push(f as unknown as ContainerPoint);
      } else if (f.type === "container_event" || f.type === "update_complete") {
        // A state changed: the list says how. Events come in bursts (kill, die, stop): one reload.
        if (reload === null) reload = setTimeout(() => ((reload = null), load()), 300);
      }
    });
    return () => {
      off();
      batch.cancel();
      if (reload !== null) clearTimeout(reload);
    };
  }, [hostId]);

  const shown = useMemo(() => {
    const f = filter.toLowerCase();
    return (containers ?? [])
      .filter((c) => !f || c.name.toLowerCase().includes(f) || c.image.toLowerCase().includes(f))
      .filter((c) => hasTag(c, tag))
      .sort((a, b) => a[sort].localeCompare(b[sort]));
  }, [containers, filter, tag, sort]);

  // Only the tags users set are edited: a compose project's tag comes from its label.
  async function retag(path: string[], what: string, current: string[]) {
    try {
      if ((await editTags(path, what, current)) !== null) await load();
    } catch (e) {
      setMessage({ text: `tags of ${what}: ${(e as Error).message}`, error: true });
    }
  }

  async function run(c: Container, action: Action) {
    if (destructive.includes(action) && !confirm(`${action} ${c.name}?`)) return;
    let newName = "";
    if (action === "rename") {
      newName = (prompt(`New name for ${c.name}`, c.name) ?? "").trim();
      if (!newName || newName === c.name) return;
    }
    setBusy(c.id + action);
    setMessage(null);
    try {
      const parts = ["hosts", hostId, "containers", c.id];
      if (action === "remove") await api("DELETE", apiPath(...parts) + query({ force: true }));
      else if (action === "rename") await api("POST", apiPath(...parts, "rename"), { new_name: newName });
      else await api("POST", apiPath(...parts, action));
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
        <a href={hashPath()}>← Hosts</a>
      </p>
      <h2>{host?.name ?? "…"}</h2>
      {host && (
        <p class="facts">
          <span class={"badge " + host.status}>{host.status}</span> {host.os_version} · Docker {host.docker_version} ·{" "}
          {host.num_cpus} CPUs · {bytes(host.total_memory)} · agent {host.agent?.version ?? "–"}
          <TagChips tags={host.tags} />
          {allowed && (
            <button type="button" class="link" onClick={() => retag(["hosts", hostId], host.name, host.tags ?? [])}>
              {host.tags?.length ? "edit tags" : "add tags"}
            </button>
          )}
        </p>
      )}
      {disks.length > 0 && (
        <p class="disks" aria-label="Disks">
          Disks:{" "}
          {disks.map((d, i) => (
            <span key={d.mount} class={d.used_percent >= 90 ? "full" : undefined} title={`${bytes(d.used_bytes)} of ${bytes(d.total_bytes)}`}>
              {i > 0 && " · "}
              {d.mount} {Math.round(d.used_percent)}%
            </span>
          ))}
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
        <TagFilter items={containers ?? []} value={tag} onChange={setTag} />
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
            {/* Fixed widths: the table fits the page at desktop widths, long names and images are cut
                with an ellipsis (the whole text in the title), and live numbers never move a column. */}
            <colgroup>
              <col class="c-name" />
              <col class="c-state" />
              <col class="c-health" />
              <col class="c-uptime" />
              <col class="c-image" />
              <col class="c-num" />
              <col class="c-num" />
              <col class="c-actions" />
            </colgroup>
            <thead>
              <tr>
                <th>Name</th>
                <th>State</th>
                <th>Health</th>
                <th>Uptime</th>
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
                const h = health(c);
                return (
                  <tr key={c.id} data-container={c.name}>
                    <td class="name" title={`${c.name}\n${c.id}`}>
                      <a href={hashPath("hosts", hostId, "containers", c.id)}>{c.name}</a>
                      <TagChips tags={c.tags} />
                    </td>
                    <td>
                      <span class={"badge " + c.state} data-state={c.state}>
                        {c.state}
                      </span>
                    </td>
                    <td>{h ? <span class={"badge " + h}>{h}</span> : <span class="muted">–</span>}</td>
                    <td class="uptime" title={c.status}>{uptime(c) || <span class="muted">{c.status}</span>}</td>
                    <td class="image" title={c.image}>{c.image}</td>
                    <td class="num spark-cell" data-cpu>
                      {running && <Sparkline values={cpuHistory.current[c.id] ?? []} label={"CPU trend of " + c.name} />}
                      <span>{running ? percent(p?.cpu_percent) : "–"}</span>
                    </td>
                    <td class="num spark-cell">
                      {running && <Sparkline values={memHistory.current[c.id] ?? []} label={"memory trend of " + c.name} />}
                      <span>{running ? bytes(p?.memory_usage) : "–"}</span>
                    </td>
                    <td class="actions">
                      {(running ? (["stop", "restart", "kill", "rename"] as Action[]) : (["start", "rename", "remove"] as Action[])).map((a) => (
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
                      {allowed && (
                        <button type="button" disabled={busy !== null} onClick={() => retag(["hosts", hostId, "containers", c.id], c.name, userTags(c))}>
                          tags
                        </button>
                      )}
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
