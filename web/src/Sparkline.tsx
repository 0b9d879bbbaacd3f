// A tiny trend line of the last live values, drawn as one SVG polyline: cheap enough for every row.
export function Sparkline({ values, max, label }: { values: number[]; max?: number; label: string }) {
  const w = 48;
  const h = 16;
  if (values.length < 2) return <svg class="spark" width={w} height={h} role="img" aria-label={label + ": no data yet"} />;
  const top = Math.max(max ?? 0, ...values, 1e-9);
  const step = w / (values.length - 1);
  const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 1 - (v / top) * (h - 2)).toFixed(1)}`).join(" ");
  return (
    <svg class="spark" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      <polyline points={pts} fill="none" stroke="currentColor" stroke-width="1.2" />
    </svg>
  );
}

// Keeps the last n values per key.
export function pushHistory(history: Record<string, number[]>, key: string, value: number, n = 30) {
  const list = history[key] ?? (history[key] = []);
  list.push(value);
  if (list.length > n) list.shift();
}
