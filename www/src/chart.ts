// The metrics charts (Observable Plot), in their own chunk: only the metrics page loads
// this module. Plot puts a <style> element in each SVG; the page's Content-Security-
// Policy (style-src 'self') would refuse it, so it is removed before the chart is shown
// (a detached element's style is never applied, so no violation is raised) and the same
// rules live in console.css under the class given here.
import * as Plot from "@observablehq/plot";
import { PALETTE, TONES } from "./palette";

/** The class every chart's SVG carries (styled in console.css). */
const CLASS = "ep-plot";


/** One interval to draw. */
export interface IntervalRow {
  label: string;
  estimate: number;
  low: number;
  high: number;
  tone: keyof typeof TONES;
  title: string;
}

/** One hour of a running difference. */
export interface RunningRow {
  time: Date;
  series: string;
  estimate: number;
  low: number;
  high: number;
}

/** The extent of the values (and zero, when drawn), widened when it is a single point (Plot's ticks are then meaningless). */
function extent(values: number[], withZero: boolean, percent: boolean): [number, number] {
  const all = withZero ? [...values, 0] : values;
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (!(hi - lo > 1e-12)) {
    const pad = Math.abs(lo) * 0.1 || (percent ? 5 : 1);
    lo -= pad;
    hi += pad;
  }
  return [lo, hi];
}

function strip(node: SVGSVGElement | HTMLElement): SVGSVGElement | HTMLElement {
  for (const s of node.querySelectorAll("style")) s.remove();
  return node;
}

/** Rates as percents (Plot's own `percent` option would not scale a given domain). */
function scaled<T extends { estimate: number; low: number; high: number }>(rows: T[], percent: boolean): T[] {
  return percent ? rows.map((r) => ({ ...r, estimate: r.estimate * 100, low: r.low * 100, high: r.high * 100 })) : rows;
}

/** Intervals per row against an optional zero line (the difference against the control). */
export function intervals(input: IntervalRow[], opts: { width: number; zero: boolean; percent: boolean; label: string }): Element {
  const rows = scaled(input, opts.percent);
  return strip(
    Plot.plot({
      className: CLASS,
      width: opts.width,
      height: 40 + rows.length * 34,
      marginLeft: 90,
      marginRight: 24,
      x: { label: opts.label, grid: true, nice: true, domain: extent(rows.flatMap((r) => [r.low, r.high]), opts.zero, opts.percent) },
      y: { label: null, domain: rows.map((r) => r.label) },
      marks: [
        opts.zero ? Plot.ruleX([0], { stroke: "#24292f", strokeWidth: 1.5 }) : null,
        Plot.ruleY(rows, { y: "label", x1: "low", x2: "high", stroke: (d: IntervalRow) => TONES[d.tone], strokeWidth: 3 }),
        Plot.tickX(rows, { y: "label", x: "low", stroke: (d: IntervalRow) => TONES[d.tone] }),
        Plot.tickX(rows, { y: "label", x: "high", stroke: (d: IntervalRow) => TONES[d.tone] }),
        Plot.dot(rows, { y: "label", x: "estimate", fill: (d: IntervalRow) => TONES[d.tone], r: 5, title: "title" }),
      ],
    }),
  );
}

/** The running difference per hour with its interval as a band, against a zero line. */
export function running(
  input: RunningRow[],
  opts: { width: number; percent: boolean; label: string; series: string[]; formatTime: (d: Date) => string },
): Element {
  const rows = scaled(input, opts.percent);
  const times = rows.map((r) => r.time.getTime());
  const first = Math.min(...times);
  const last = Math.max(...times);
  // A few hours: each hour's interval and estimate drawn too (a band needs two hours).
  const few = new Set(times).size <= 48;
  const HOUR = 3_600_000;
  const HALF_HOUR = HOUR / 2;
  // Ticks on whole hours, as many as fit (Plot's own would fall between hours).
  const hours = Math.round((last - first) / HOUR) + 1;
  const step = Math.max(1, Math.ceil(hours / Math.max(2, Math.floor(opts.width / 140))));
  const ticks: Date[] = [];
  for (let t = first; t <= last; t += step * HOUR) ticks.push(new Date(t));
  return strip(
    Plot.plot({
      className: CLASS,
      width: opts.width,
      height: 260,
      marginLeft: 56,
      y: { label: opts.label, grid: true, nice: true, domain: extent(rows.flatMap((r) => [r.low, r.high]), true, opts.percent) },
      // Local time (Plot's default for dates is UTC), labelled in the viewer's zone.
      x: { label: null, type: "time", domain: [new Date(first - HALF_HOUR), new Date(last + HALF_HOUR)], tickFormat: opts.formatTime, ticks },
      // The legend is the page's own markup (Plot's legends carry <style> elements too).
      color: { domain: opts.series, range: [...PALETTE] },
      marks: [
        Plot.areaY(rows, { x: "time", y1: "low", y2: "high", fill: "series", fillOpacity: 0.15, curve: "step-after" }),
        Plot.lineY(rows, { x: "time", y: "estimate", stroke: "series", strokeWidth: 2, curve: "step-after" }),
        few ? Plot.ruleX(rows, { x: "time", y1: "low", y2: "high", stroke: "series", strokeWidth: 2 }) : null,
        few ? Plot.dot(rows, { x: "time", y: "estimate", fill: "series", r: 3.5 }) : null,
        Plot.ruleY([0], { stroke: "#24292f" }),
      ],
    }),
  );
}

/** One check of a guardrail: the difference and its always-valid interval. */
export interface GuardrailRow {
  time: Date;
  estimate: number;
  low: number;
  high: number;
  tone: keyof typeof TONES;
  title: string;
}

/** A stage's start, drawn as a vertical line. */
export interface StageMark {
  time: Date;
  label: string;
}

/**
 * A guardrail over the checks: each check's estimate and always-valid interval (as a
 * band with its line once there are many), against zero and the threshold past which
 * the guardrail trips (dashed, red), with the stages' starts as vertical lines.
 */
export function guardrail(
  input: GuardrailRow[],
  opts: { width: number; percent: boolean; label: string; threshold: number; stages: StageMark[]; formatTime: (d: Date) => string },
): Element {
  const rows = scaled(input, opts.percent);
  const threshold = opts.percent ? opts.threshold * 100 : opts.threshold;
  const times = [...rows.map((r) => r.time.getTime()), ...opts.stages.map((s) => s.time.getTime())];
  const first = Math.min(...times);
  const last = Math.max(...times);
  const pad = Math.max((last - first) * 0.04, 60_000);
  const few = rows.length <= 48;
  return strip(
    Plot.plot({
      className: CLASS,
      width: opts.width,
      height: 260,
      marginLeft: 56,
      marginTop: 24,
      y: { label: opts.label, grid: true, nice: true, domain: extent([...rows.flatMap((r) => [r.low, r.high]), threshold], true, opts.percent) },
      // Local time (Plot's default for dates is UTC), labelled in the viewer's zone.
      x: { label: null, type: "time", domain: [new Date(first - pad), new Date(last + pad)], tickFormat: opts.formatTime, ticks: Math.max(2, Math.floor(opts.width / 150)) },
      marks: [
        Plot.ruleX(opts.stages, { x: "time", stroke: "#8c959f", strokeDasharray: "3,3" }),
        Plot.text(opts.stages, { x: "time", text: "label", frameAnchor: "top", textAnchor: "start", dx: 4, dy: -14, fill: "#59636e" }),
        few ? null : Plot.areaY(rows, { x: "time", y1: "low", y2: "high", fill: TONES.unclear, fillOpacity: 0.15, curve: "step-after" }),
        Plot.lineY(rows, { x: "time", y: "estimate", stroke: TONES.unclear, strokeWidth: 1.5, curve: "step-after" }),
        few ? Plot.ruleX(rows, { x: "time", y1: "low", y2: "high", stroke: (d: GuardrailRow) => TONES[d.tone], strokeWidth: 3 }) : null,
        Plot.dot(rows, { x: "time", y: "estimate", fill: (d: GuardrailRow) => TONES[d.tone], r: few ? 4.5 : 2.5, title: "title" }),
        Plot.ruleY([0], { stroke: "#24292f" }),
        Plot.ruleY([threshold], { stroke: TONES.worse, strokeWidth: 1.5, strokeDasharray: "6,4" }),
      ],
    }),
  );
}
