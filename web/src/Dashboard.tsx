import { useEffect, useState } from "preact/hooks";
import { api, Host, HostPoint } from "./api";
import { bytes, percent, rate } from "./format";
import { onFrame } from "./live";

// Every host at a glance: state, versions, live CPU, memory and network.
export function Dashboard() {
  const [hosts, setHosts] = useState<Host[] | null>(null);
  const [error, setError] = useState("");
  const [points, setPoints] = useState<Record<string, HostPoint>>({});

  useEffect(() => {
    let alive = true;
    const load = () =>
      api<Host[]>("GET", "/api/hosts")
        .then((h) => alive && setHosts(h))
        .catch((e) => alive && setError((e as Error).message));
    load();
    const timer = setInterval(load, 10000);  // online/offline and new hosts
    const off = onFrame((f) => {
      if (f.type === "host_stats") setPoints((p) => ({ ...p, [String(f.host_id)]: f as unknown as HostPoint }));
    });
    return () => {
      alive = false;
      clearInterval(timer);
      off();
    };
  }, []);

  if (error) return <p class="error" role="alert">{error}</p>;
  if (!hosts) return <p>Loading hosts…</p>;
  if (hosts.length === 0) return <p>No hosts yet. An admin adds one with a registration token.</p>;
  return (
    <section>
      <h2>Hosts</h2>
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
            </tr>
          </thead>
          <tbody>
            {hosts.map((h) => {
              const p = points[h.id];
              return (
                <tr key={h.id} data-host-id={h.id}>
                  <td>
                    <a href={"#/hosts/" + h.id}>{h.name}</a>
                  </td>
                  <td>
                    <span class={"badge " + h.status}>{h.status}</span>
                  </td>
                  <td>{h.agent?.version ?? "–"}</td>
                  <td>{h.os_version || h.os_type}</td>
                  <td>{h.docker_version}</td>
                  <td class="num">{percent(p?.cpu_percent)}</td>
                  <td class="num" title={bytes(h.total_memory)}>
                    {percent(p?.mem_percent)}
                  </td>
                  <td class="num">{rate(p?.net_bytes_per_sec)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
