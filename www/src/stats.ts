// The server's interval arithmetic (src/stats.rs, src/metrics/report.rs), used to turn
// the hourly additions of `series=hour` into the running difference against the
// control and its 95% interval, computed exactly as the report computes its totals.
import type { Interval, MetricDeclaration, SeriesEntry, Sums } from "./types";

const Z95 = 1.959963984540054;

/** Wilson score interval for `s` successes out of `n`. */
export function wilson(s: number, n: number): Interval | null {
  if (n === 0) return null;
  const p = Math.min(s, n) / n;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { estimate: p, ci: [Math.max(centre - half, 0), Math.min(centre + half, 1)] };
}

/** Newcombe's hybrid score interval for the difference of two proportions (a minus b). */
export function diffProportions(a: [number, number], b: [number, number]): Interval | null {
  const ea = wilson(a[0], a[1]);
  const eb = wilson(b[0], b[1]);
  if (!ea || !eb) return null;
  const d = ea.estimate - eb.estimate;
  const low = d - Math.sqrt((ea.estimate - ea.ci[0]) ** 2 + (eb.ci[1] - eb.estimate) ** 2);
  const high = d + Math.sqrt((ea.ci[1] - ea.estimate) ** 2 + (eb.estimate - eb.ci[0]) ** 2);
  return { estimate: d, ci: [low, high] };
}

/** Observations: how many, their sum and sum of squares. */
export interface Moments {
  n: number;
  sum: number;
  sumSq: number;
}

function varOfMean(m: Moments): number {
  if (m.n < 2) return 0;
  const v = Math.max((m.sumSq - (m.sum * m.sum) / m.n) / (m.n - 1), 0);
  return v / m.n;
}

/** The mean with a normal 95% interval. */
export function mean(m: Moments): Interval | null {
  if (m.n === 0) return null;
  const mu = m.sum / m.n;
  const se = Math.sqrt(varOfMean(m));
  return { estimate: mu, ci: [mu - Z95 * se, mu + Z95 * se] };
}

/** Welch's normal interval for the difference of two means (a minus b). */
export function diffMeans(a: Moments, b: Moments): Interval | null {
  if (a.n === 0 || b.n === 0) return null;
  const d = a.sum / a.n - b.sum / b.n;
  const se = Math.sqrt(varOfMean(a) + varOfMean(b));
  return { estimate: d, ci: [d - Z95 * se, d + Z95 * se] };
}

const ZERO: Sums = { units: 0, default_units: 0, exposures: 0, forced: 0, values: 0, sum: 0, obs_sum: 0, obs_sum_sq: 0 };

function add(a: Sums, b: Sums): Sums {
  return {
    units: a.units + b.units,
    default_units: a.default_units + b.default_units,
    exposures: a.exposures + b.exposures,
    forced: a.forced + b.forced,
    values: a.values + b.values,
    sum: a.sum + b.sum,
    obs_sum: a.obs_sum + b.obs_sum,
    obs_sum_sq: a.obs_sum_sq + b.obs_sum_sq,
  };
}

/** One hour of the running comparison of a version with the control, for one metric. */
export interface RunningPoint {
  hour: number;
  version: number;
  /** Exposed units so far. */
  units: number;
  /** The version's estimate so far. */
  estimate: Interval | null;
  /** Its difference against the control so far. */
  diff: Interval | null;
}

/**
 * Accumulates the hourly additions: the totals up to the end of each hour are exactly
 * what the report would have said then (a shard's summary is the sum of its hourly
 * buckets), so each hour's estimate and difference are computed from them as the
 * server computes its report.
 */
export function running(series: SeriesEntry[], metric: string, decl: MetricDeclaration, versions: number[], control: number): RunningPoint[] {
  const hours = [...new Set(series.map((e) => e.hour))].sort((a, b) => a - b);
  if (hours.length === 0) return [];
  const byKey = new Map<string, Sums>();
  for (const e of series) byKey.set(`${e.hour}/${e.version}/${e.metric}`, e.sums);
  const total = new Map<string, Sums>();
  const get = (v: number, m: string) => total.get(`${v}/${m}`) ?? ZERO;
  const out: RunningPoint[] = [];
  // Hours without data in between are filled so that the line shows time as it passed.
  const first = hours[0] ?? 0;
  const last = hours[hours.length - 1] ?? first;
  for (let h = first; h <= last; h++) {
    for (const v of versions) {
      for (const m of ["", metric]) {
        const s = byKey.get(`${h}/${v}/${m}`);
        if (s) total.set(`${v}/${m}`, add(get(v, m), s));
      }
    }
    for (const v of versions) {
      const obs = (x: number): Moments => {
        const n = decl.kind === "continuous" ? get(x, metric).units : get(x, "").units;
        const s = get(x, metric);
        return { n, sum: s.obs_sum, sumSq: s.obs_sum_sq };
      };
      let estimate: Interval | null;
      let diff: Interval | null;
      if (decl.kind === "binary") {
        estimate = wilson(get(v, metric).units, obs(v).n);
        diff = diffProportions([get(v, metric).units, obs(v).n], [get(control, metric).units, obs(control).n]);
      } else {
        estimate = mean(obs(v));
        diff = diffMeans(obs(v), obs(control));
      }
      out.push({ hour: h, version: v, units: get(v, "").units, estimate, diff: v === control ? null : diff });
    }
  }
  return out;
}
