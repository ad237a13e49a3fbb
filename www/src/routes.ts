// Label routes as the console shows and changes them: targets, rules and conditions
// described in words, and the route operations computed locally (mirroring
// src/ops/routes.rs) so that a change is shown as a before/after diff before it is sent.
// The server computes and validates the change itself; a local problem is shown as a
// warning, and the change can still be sent to hear the server's reasons.
import type { Condition, Prompt, Route, Rule, Target } from "./types";

/** Basis points in 100%. */
export const BUCKETS = 10_000;

/** One version's share of a target, in basis points. */
export interface Share {
  version: number;
  bp: number;
}

/** A target's shares: one version at 100%, or the split's entries in order. */
export function shares(target: Target): Share[] {
  if ("split" in target && target.split) return target.split.map((e) => ({ version: e.version, bp: Math.round(e.weight * 100) }));
  return [{ version: (target as { version: number }).version, bp: BUCKETS }];
}

/** Basis points as a percent text: 9500 -> "95", 3333 -> "33.33" (format_bp). */
export function formatBp(bp: number): string {
  const int = Math.floor(bp / 100);
  const frac = bp % 100;
  if (frac === 0) return String(int);
  if (frac % 10 === 0) return `${int}.${frac / 10}`;
  return `${int}.${String(frac).padStart(2, "0")}`;
}

/** Parses a percent with at most two decimals into basis points, as the server does (parse_weight). */
export function parseWeight(text: string): number | string {
  const t = text.trim();
  const [int = "", frac = "", extra] = t.split(".");
  if (extra !== undefined || !/^\d+$/.test(int)) return `weight "${t}" is not a percent between 0 and 100`;
  if (!/^\d*$/.test(frac)) return `weight "${t}" must be written as a plain decimal`;
  const f = frac.replace(/0+$/, "");
  if (f.length > 2) return `weight "${t}" has more than two decimals`;
  const bp = Number(int) * 100 + Number((f + "00").slice(0, 2));
  if (bp > BUCKETS) return `weight "${t}" is over 100`;
  return bp;
}

/** A percent as a JSON number (percent_value): 9000 -> 90, 3333 -> 33.33. */
function percentValue(bp: number): number {
  return bp / 100;
}

/** A target as the manifest writes it. */
export function targetOf(list: Share[]): Target {
  return { split: list.map((s) => ({ version: s.version, weight: percentValue(s.bp) })) };
}

/** A target in words: "version 2", or "1: 90% · 2: 10%". */
export function describeTarget(target: Target): string {
  if (!("split" in target) || !target.split) return `version ${(target as { version: number }).version}`;
  return target.split.map((e) => `v${e.version} ${formatBp(Math.round(e.weight * 100))}%`).join(" · ");
}

function scalar(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

const OPS: Record<string, string> = {
  eq: "=",
  ne: "≠",
  in: "in",
  not_in: "not in",
  lt: "<",
  lte: "≤",
  gt: ">",
  gte: "≥",
  semver_eq: "= (semver)",
  semver_lt: "< (semver)",
  semver_lte: "≤ (semver)",
  semver_gt: "> (semver)",
  semver_gte: "≥ (semver)",
};

/** A rule condition in words: `app_version < (semver) "2.0.0" and plan in ["pro"]`. */
export function describeCondition(c: Condition): string {
  if ("all" in c && c.all) return c.all.length === 0 ? "always" : c.all.map((x) => wrap(x)).join(" and ");
  if ("any" in c && c.any) return c.any.length === 0 ? "never" : c.any.map((x) => wrap(x)).join(" or ");
  if ("not" in c && c.not) return `not ${wrap(c.not)}`;
  const cmp = c as { attr: string; op: string; value?: unknown };
  if (cmp.op === "exists") return `${cmp.attr} exists`;
  const value = Array.isArray(cmp.value) ? `[${cmp.value.map(scalar).join(", ")}]` : scalar(cmp.value);
  return `${cmp.attr} ${OPS[cmp.op] ?? cmp.op} ${value}`;
}

function wrap(c: Condition): string {
  const s = describeCondition(c);
  return ("all" in c && c.all && c.all.length > 1) || ("any" in c && c.any && c.any.length > 1) ? `(${s})` : s;
}

/** What a rule matches, in words. */
export function describeMatch(rule: Rule): string {
  if ("units" in rule && rule.units) return `forced units (${rule.units.length}): ${rule.units.slice(0, 5).join(", ")}${rule.units.length > 5 ? ", …" : ""}`;
  if ("unit_hashes" in rule && rule.unit_hashes) return `forced units (${rule.unit_hashes.length} hashed)`;
  if ("when" in rule && rule.when) return `when ${describeCondition(rule.when)}`;
  return "—";
}

/** The attributes a route's conditions read, for the preview's hints. */
export function attributesOf(route: Route): string[] {
  const out = new Set<string>();
  const walk = (c: Condition) => {
    if ("all" in c && c.all) c.all.forEach(walk);
    else if ("any" in c && c.any) c.any.forEach(walk);
    else if ("not" in c && c.not) walk(c.not);
    else out.add((c as { attr: string }).attr);
  };
  for (const r of route.rules ?? []) if ("when" in r && r.when) walk(r.when);
  return [...out].sort();
}

/** How each version of a prompt is pointed at: "production (default 90%)", "production rule qa". */
export function pointers(prompt: Prompt): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const add = (v: number, s: string) => out.set(v, [...(out.get(v) ?? []), s]);
  for (const [label, route] of Object.entries(prompt.labels ?? {})) {
    for (const rule of route.rules ?? []) {
      for (const s of shares(rule.target)) if (s.bp > 0) add(s.version, `${label}: rule ${rule.name}${s.bp < BUCKETS ? ` ${formatBp(s.bp)}%` : ""}`);
    }
    for (const s of shares(route.default)) {
      if (s.bp > 0) add(s.version, `${label}: ${s.bp < BUCKETS ? `split ${formatBp(s.bp)}%` : "default"}`);
    }
  }
  return out;
}

/** Whether a route's default serves one version (what a rollback without a revision restores). */
export function servesOneVersion(route: Route | undefined): boolean {
  return route !== undefined && shares(route.default).filter((s) => s.bp > 0).length === 1;
}

/** A proposed route, or why the server would refuse it (the route is then null). */
export interface Proposal {
  route: Route | null;
  problem: string | null;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** The target a change addresses: the default (`rule` null) or a named rule's. */
function targetSlot(route: Route, rule: string | null): { get: () => Target; set: (t: Target) => void } | null {
  if (rule === null) return { get: () => route.default, set: (t) => (route.default = t) };
  const r = (route.rules ?? []).find((x) => x.name === rule);
  if (!r) return null;
  return { get: () => r.target, set: (t) => (r.target = t) };
}

/** promote: the default serves one version; rules stay unless cleared. */
export function proposePromote(route: Route, versions: number, version: number, clearRules: boolean): Proposal {
  if (!(version >= 1 && version <= versions)) return { route: null, problem: `the prompt has no version ${version}` };
  const next = clone(route);
  next.default = { version };
  if (clearRules) delete next.rules;
  return { route: next, problem: null };
}

/** split: the default's (or a rule's) weights, percents summing to 100. */
export function proposeSplit(route: Route, versions: number, rule: string | null, weights: [number, string][]): Proposal {
  if (weights.length === 0) return { route: null, problem: "a split needs at least one version with a weight" };
  const list: Share[] = [];
  for (const [v, w] of weights) {
    if (!(v >= 1 && v <= versions)) return { route: null, problem: `the prompt has no version ${v}` };
    if (list.some((s) => s.version === v)) return { route: null, problem: `version ${v} appears twice` };
    const bp = parseWeight(w);
    if (typeof bp === "string") return { route: null, problem: bp };
    list.push({ version: v, bp });
  }
  const sum = list.reduce((a, s) => a + s.bp, 0);
  if (sum !== BUCKETS) return { route: null, problem: `weights sum to ${formatBp(sum)}, expected 100` };
  const next = clone(route);
  const slot = targetSlot(next, rule);
  if (!slot) return { route: null, problem: `the route has no rule "${rule}"` };
  slot.set(targetOf(list));
  return { route: next, problem: null };
}

/** ramp: raises the candidate's share, taking it from the control (the first version). */
export function proposeRamp(route: Route, versions: number, rule: string | null, candidate: number, percent: string): Proposal {
  if (!(candidate >= 1 && candidate <= versions)) return { route: null, problem: `the prompt has no version ${candidate}` };
  const want = parseWeight(percent);
  if (typeof want === "string") return { route: null, problem: want };
  const next = clone(route);
  const slot = targetSlot(next, rule);
  if (!slot) return { route: null, problem: `the route has no rule "${rule}"` };
  const list = shares(slot.get());
  const control = list[0]?.version ?? candidate;
  if (control === candidate) return { route: null, problem: `version ${candidate} is the control; ramp a candidate, or promote` };
  if (!list.some((s) => s.version === candidate)) list.push({ version: candidate, bp: 0 });
  const had = list.find((s) => s.version === candidate)?.bp ?? 0;
  if (want < had) return { route: null, problem: `version ${candidate} already has ${formatBp(had)}%; a ramp only raises a share (use split or rollback)` };
  const delta = want - had;
  const controlBp = list[0]?.bp ?? 0;
  if (delta > controlBp)
    return { route: null, problem: `the control (version ${control}) has only ${formatBp(controlBp)}% to give; ${candidate} can reach at most ${formatBp(had + controlBp)}%` };
  for (const s of list) {
    if (s.version === control) s.bp -= delta;
    else if (s.version === candidate) s.bp = want;
  }
  slot.set(targetOf(list));
  return { route: next, problem: null };
}
