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

function strip(node: SVGSVGElement | HTMLElement): SVGSVGElement | HTMLElement {
  for (const s of node.querySelectorAll("style")) s.remove();
  return node;
}

/** Intervals per row against an optional zero line (the difference against the control). */
export function intervals(rows: IntervalRow[], opts: { width: number; zero: boolean; percent: boolean; label: string }): Element {
  return strip(
    Plot.plot({
      className: CLASS,
      width: opts.width,
      height: 40 + rows.length * 34,
      marginLeft: 90,
      marginRight: 24,
      x: { label: opts.label, grid: true, percent: opts.percent, nice: true },
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
export function running(rows: RunningRow[], opts: { width: number; percent: boolean; label: string; series: string[] }): Element {
  return strip(
    Plot.plot({
      className: CLASS,
      width: opts.width,
      height: 260,
      marginLeft: 56,
      y: { label: opts.label, grid: true, percent: opts.percent },
      x: { label: null, type: "time" },
      // The legend is the page's own markup (Plot's legends carry <style> elements too).
      color: { domain: opts.series, range: [...PALETTE] },
      marks: [
        Plot.areaY(rows, { x: "time", y1: "low", y2: "high", fill: "series", fillOpacity: 0.15, curve: "step-after" }),
        Plot.lineY(rows, { x: "time", y: "estimate", stroke: "series", strokeWidth: 2, curve: "step-after" }),
        Plot.ruleY([0], { stroke: "#24292f" }),
      ],
    }),
  );
}
