// Formatting for display: times in the viewer's zone, numbers, percents, intervals.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateTimeLong = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" });
const hourFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "numeric" });
const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/** A time (ms since the epoch, or RFC 3339 text) in the viewer's zone; "—" when absent or unreadable. */
export function formatTime(t: number | string | null | undefined): string {
  if (t === null || t === undefined || t === "") return "—";
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : dateTime.format(d);
}

/** The same with seconds and the zone's name, for tooltips. */
export function formatTimeLong(t: number | string | null | undefined): string {
  if (t === null || t === undefined || t === "") return "";
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : dateTimeLong.format(d);
}

/** The start of an hour (hours since the epoch) in the viewer's zone. */
export function formatHour(hour: number): string {
  return hourFormat.format(new Date(hour * 3_600_000));
}

/** An ISO text for a `<time datetime>` attribute. */
export function isoTime(t: number | string): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

/** A whole number with the viewer's grouping. */
export function formatInt(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : integer.format(n);
}

/** A number with about `digits` significant digits, trailing zeros dropped. */
export function formatNum(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  if (n === 0) return "0";
  const abs = Math.abs(n);
  if (abs >= 1000) return integer.format(n);
  const decimals = Math.max(0, Math.min(6, digits - 1 - Math.floor(Math.log10(abs))));
  return n.toFixed(decimals).replace(/\.?0+$/, "").replace(/^-0$/, "0");
}

/** A rate (0..1) as a percent. */
export function formatRate(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return "—";
  return `${formatNum(p * 100, 3)}%`;
}

/** A metric value: binary metrics as percents, others as numbers. */
export function formatMetric(v: number | null | undefined, binary: boolean): string {
  return binary ? formatRate(v) : formatNum(v);
}

/** A difference with its sign (binary: percentage points). */
export function formatDiff(v: number | null | undefined, binary: boolean): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  const sign = v > 0 ? "+" : v < 0 ? "−" : "±";
  const abs = Math.abs(v);
  return binary ? `${sign}${formatNum(abs * 100, 3)} pp` : `${sign}${formatNum(abs)}`;
}

/** An interval `[low, high]`. */
export function formatCi(ci: [number, number] | null | undefined, fmt: (v: number) => string): string {
  return ci ? `[${fmt(ci[0])}, ${fmt(ci[1])}]` : "—";
}

/** A p-value. */
export function formatP(p: number): string {
  if (p < 0.0001) return "< 0.0001";
  return formatNum(p, 2);
}

/** The first characters of a content hash. */
export function shortHash(h: string | undefined): string {
  return h ? h.slice(0, 12) : "…";
}

/** A duration in words: "45 s", "12 min", "1.5 h", "2 d". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${formatNum(ms / 60_000, 2)} min`;
  if (ms < 86_400_000) return `${formatNum(ms / 3_600_000, 2)} h`;
  return `${formatNum(ms / 86_400_000, 2)} d`;
}
