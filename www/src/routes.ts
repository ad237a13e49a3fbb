// Label routes as the console shows them: targets, rules and conditions described in
// words. The route operations (promote, split, ramp, rollback) are the server's alone:
// a change is shown before it is sent from the server's dry run of it (proposals.ts).
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
  starts_with: "starts with",
  ends_with: "ends with",
  contains_str: "contains text",
  matches: "matches",
  contains: "contains",
  contains_any: "contains any of",
  contains_all: "contains all of",
  contains_none: "contains none of",
  before: "before",
  after: "after",
};

/** A rule condition in words: `app_version < (semver) "2.0.0" and plan in ["pro"]`. */
export function describeCondition(c: Condition): string {
  if ("all" in c && c.all) return c.all.length === 0 ? "always" : c.all.map((x) => wrap(x)).join(" and ");
  if ("any" in c && c.any) return c.any.length === 0 ? "never" : c.any.map((x) => wrap(x)).join(" or ");
  if ("not" in c && c.not) return `not ${wrap(c.not)}`;
  const cmp = c as { attr: string; op: string; value?: unknown; case_insensitive?: boolean };
  if (cmp.op === "exists") return `${cmp.attr} exists`;
  const value = Array.isArray(cmp.value) ? `[${cmp.value.map(scalar).join(", ")}]` : scalar(cmp.value);
  return `${cmp.attr} ${OPS[cmp.op] ?? cmp.op} ${value}${cmp.case_insensitive ? " (any case)" : ""}`;
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

/** Whether a route's default serves one version (where a guarded rollout can start). */
export function servesOneVersion(route: Route | undefined): boolean {
  return route !== undefined && shares(route.default).filter((s) => s.bp > 0).length === 1;
}

/**
 * The sum of the percents typed into a split form, as a hint beside it (null when one
 * is not a plain decimal); empty entries count as 0. The server checks the split itself.
 */
export function sumPercents(texts: string[]): number | null {
  let sum = 0;
  for (const t of texts) {
    const s = t.trim();
    if (s === "") continue;
    if (!/^\d+(\.\d+)?$/.test(s)) return null;
    sum += Number(s);
  }
  return Math.round(sum * 100) / 100;
}
