// A container's usage charts (uPlot), loaded lazily with the first container page.
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { api, apiPath, History, Point, query } from "./api";
import { bytes } from "./format";
import { batchPerFrame, onFrame } from "./live";

type Range = "1h" | "24h" | "30d";

interface Series {
  t: number[];
  cpu: (number | null)[];
  mem: (number | null)[];
  rx: (number | null)[];
  tx: (number | null)[];
  rd: (number | null)[];
  wr: (number | null)[];
}

// Network and disk arrive as running totals; the charts show rates. A total that went down (a restart)
// has no rate for that step.
function rateOf(prev: number | undefined, cur: number, dt: number): number | null {
  if (prev === undefined || dt <= 0 || cur < prev) return null;
  return (cur - prev) / dt;
}

function append(s: Series, p: Point, last: Point | undefined) {
  const t = Date.parse(p.timestamp) / 1000;
  const dt = last ? t - Date.parse(last.timestamp) / 1000 : 0;
  s.t.push(t);
  s.cpu.push(p.cpu_percent);
  s.mem.push(p.memory_usage);
  s.rx.push(rateOf(last?.network_rx, p.network_rx, dt));
  s.tx.push(rateOf(last?.network_tx, p.network_tx, dt));
  s.rd.push(rateOf(last?.disk_read, p.disk_read, dt));
  s.wr.push(rateOf(last?.disk_write, p.disk_write, dt));
}

const empty = (): Series => ({ t: [], cpu: [], mem: [], rx: [], tx: [], rd: [], wr: [] });
const byteAxis = (_: uPlot, ticks: number[]) => ticks.map((v) => bytes(v));
const rateAxis = (_: uPlot, ticks: number[]) => ticks.map((v) => bytes(v) + "/s");

interface ChartSpec {
  key: string;
  title: string;
  series: { label: string; pick: (s: Series) => (number | null)[]; color: string }[];
  axis?: (u: uPlot, ticks: number[]) => string[];
  max?: number;
}

const charts: ChartSpec[] = [
  { key: "cpu", title: "CPU %", series: [{ label: "CPU %", pick: (s) => s.cpu, color: "#2257d6" }] },
  { key: "mem", title: "Memory", axis: byteAxis, series: [{ label: "used", pick: (s) => s.mem, color: "#7b3fd1" }] },
  {
    key: "net",
    title: "Network",
    axis: rateAxis,
    series: [
      { label: "received", pick: (s) => s.rx, color: "#1f7a3a" },
      { label: "sent", pick: (s) => s.tx, color: "#c76a00" },
    ],
  },
  {
    key: "disk",
    title: "Disk",
    axis: rateAxis,
    series: [
      { label: "read", pick: (s) => s.rd, color: "#0f766e" },
      { label: "written", pick: (s) => s.wr, color: "#a33" },
    ],
  },
];

function Chart({ spec, data, width }: { spec: ChartSpec; data: Series; width: number }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const aligned = (): uPlot.AlignedData => [data.t, ...spec.series.map((x) => x.pick(data))] as uPlot.AlignedData;
  useEffect(() => {
    const opts: uPlot.Options = {
      width,
      height: 160,
      series: [{}, ...spec.series.map((x) => ({ label: x.label, stroke: x.color, width: 1.5, spanGaps: false }))],
      axes: [{}, { values: spec.axis, size: spec.axis ? 84 : 50 }],
      scales: { y: { range: (_u, min, max) => [Math.min(0, min), Math.max(max, spec.key === "cpu" ? 1 : 1024)] } },
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    };
    plot.current = new uPlot(opts, aligned(), el.current!);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [width]);
  useEffect(() => {
    plot.current?.setData(aligned());
  }, [data, data.t.length]);
  return (
    <figure class="chart" data-chart={spec.key} data-points={data.t.length}>
      <figcaption>{spec.title}</figcaption>
      <div ref={el} role="img" aria-label={`${spec.title} over the chosen range`} />
    </figure>
  );
}

// CPU, memory, network and disk of one container over 1 h, 24 h or 30 days; the hour view grows live.
export function ContainerCharts({ hostId, containerId }: { hostId: string; containerId: string }) {
  const [range, setRange] = useState<Range>("1h");
  const [data, setData] = useState<Series>(empty());
  const [note, setNote] = useState("");
  const [width, setWidth] = useState(360);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const measure = () => {
      const w = box.current?.clientWidth ?? 360;
      // One column on a phone, two side by side otherwise.
      setWidth(Math.max(240, Math.floor(w < 700 ? w - 16 : w / 2 - 24)));
    };
    measure();
    addEventListener("resize", measure);
    return () => removeEventListener("resize", measure);
  }, []);

  useEffect(() => {
    let alive = true;
    let last: Point | undefined;
    const series = empty();
    setNote("Loading…");
    api<History>("GET", apiPath("hosts", hostId, "containers", containerId, "stats") + query({ range }))
      .then((h) => {
        if (!alive) return;
        for (const p of h.points) {
          append(series, p, last);
          last = p;
        }
        setData({ ...series });
        setNote(h.points.length ? "" : "No samples in this range yet.");
      })
      .catch((e) => alive && setNote((e as Error).message));
    if (range !== "1h") return () => void (alive = false);
    // The hour view: live samples are appended as they come.
    const batch = batchPerFrame<Point>((items) => {
      for (const p of items) {
        append(series, p, last);
        last = p;
      }
      const cutoff = Date.now() / 1000 - 3600;
      while (series.t.length && series.t[0] < cutoff) (Object.values(series) as unknown[][]).forEach((a) => a.shift());
      setData({ ...series });
      setNote("");
    });
    const off = onFrame((f) => {
      if (f.type === "container_stats" && f.host_id === hostId && String(f.container_id).startsWith(containerId))
        batch.push(f as unknown as Point);
    });
    return () => {
      alive = false;
      off();
      batch.cancel();
    };
  }, [hostId, containerId, range]);

  return (
    <section aria-label="Charts">
      <div class="title-row">
        <h3>Usage</h3>
        <div class="segmented" role="group" aria-label="Range">
          {(["1h", "24h", "30d"] as Range[]).map((r) => (
            <button key={r} type="button" aria-pressed={range === r} onClick={() => setRange(r)}>
              {r}
            </button>
          ))}
        </div>
      </div>
      {note && <p class="muted" role="status">{note}</p>}
      <div class="charts" ref={box}>
        {charts.map((c) => (
          <Chart key={c.key} spec={c} data={data} width={width} />
        ))}
      </div>
    </section>
  );
}
