// Numbers as people read them, in fixed-width forms so live updates do not make the layout jump.

export function percent(v: number | undefined | null): string {
  if (v === undefined || v === null || !isFinite(v)) return "–";
  return v.toFixed(1).padStart(5, "\u2007") + "%";
}

export function bytes(v: number | undefined | null): string {
  if (v === undefined || v === null || !isFinite(v)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + "\u00a0" + units[i];
}

export function rate(v: number | undefined | null): string {
  return v === undefined || v === null ? "–" : bytes(v) + "/s";
}
