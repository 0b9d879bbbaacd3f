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

// An ISO time as local date and time, seconds included; "–" when absent.
export function when(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  return isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { hour12: false });
}

// Seconds left as m:ss, for countdowns.
export function countdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}
