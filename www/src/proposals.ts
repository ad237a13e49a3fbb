// What a person asked for -> the server's dry run of it (`"dry_run": true`): the label's
// route before and after, the summaries and each revision's changes path by path, or
// the server's refusal, which is the one the change itself would get (409, 403, 422).
// The rules of promote, split, ramp and rollback live on the server only.
import { api, ApiError } from "./api";
import type { DryRunResult, RouteAction } from "./types";

/** A change the traffic page's forms describe. */
export type Intent =
  | { op: "promote"; version: number; clearRules: boolean }
  | { op: "split"; rule: string | null; weights: [number, string][] }
  | { op: "ramp"; rule: string | null; to: number; percent: string }
  | { op: "rollback"; toRevision: number | null };

/** A change checked by the server against one revision. */
export interface Proposal {
  /** What the console sends (again, without `dry_run`, once confirmed). */
  action: RouteAction;
  /** The revision it is based on (`base_revision`). */
  base: number;
  /** The server's dry run; null when the server refused the change. */
  dry: DryRunResult | null;
  /** The server's refusal (the change would be refused the same way). */
  refused: ApiError | null;
}

/** A weight as the API's body carries it: a number when it is a plain decimal, else the text (for the server to name). */
export function weightValue(text: string): number | string {
  const t = text.trim();
  return /^\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

/** The request an intent makes for prompt/label. */
export function actionOf(prompt: string, label: string, intent: Intent): RouteAction {
  switch (intent.op) {
    case "promote":
      return { op: "promote", prompt, label, version: intent.version, clear_rules: intent.clearRules };
    case "split": {
      const weights: Record<string, number | string> = {};
      for (const [v, w] of intent.weights) weights[String(v)] = weightValue(w);
      return { op: "split", prompt, label, rule: intent.rule, weights };
    }
    case "ramp":
      return { op: "ramp", prompt, label, rule: intent.rule, to: intent.to, percent: weightValue(intent.percent) };
    case "rollback":
      return { op: "rollback", prompt, label, to_revision: intent.toRevision };
  }
}

/** A request in words (what was asked, not what the server made of it). */
export function describeAction(a: RouteAction): string {
  const where = (rule: string | null) => `${a.prompt}/${a.label}${rule ? ` rule "${rule}"` : ""}`;
  switch (a.op) {
    case "promote":
      return `promote ${a.prompt}/${a.label} to version ${a.version}${a.clear_rules ? ", rules cleared" : ""}`;
    case "split":
      return `split ${where(a.rule)}: ${Object.entries(a.weights)
        .map(([v, w]) => `${v}=${w}`)
        .join(" ")}`;
    case "ramp":
      return `ramp ${where(a.rule)}: version ${a.to} to ${a.percent}%`;
    case "rollback":
      return a.to_revision === null
        ? `rollback of ${a.prompt}/${a.label} to the last revision in which it served one version`
        : `rollback of ${a.prompt}/${a.label} to revision ${a.to_revision}`;
  }
}

/** A summary without the trailing " (revision N)" the server adds for the revision it would store. */
export function withoutRevision(summary: string, revision: number): string {
  const tail = ` (revision ${revision})`;
  return summary.endsWith(tail) ? summary.slice(0, -tail.length) : summary;
}

/** What the review calls the change: the server's summaries when it answered, else the request in words. */
export function proposalTitle(p: Proposal): string {
  if (!p.dry || p.dry.revisions.length === 0) return p.dry?.summaries.join("; ") || describeAction(p.action);
  return p.dry.revisions.map((r) => withoutRevision(r.summary, r.revision)).join("; ");
}

/** Asks the server for the dry run of `action` based on `base`; a refusal is part of the proposal. */
export async function proposeAction(action: RouteAction, base: number): Promise<Proposal> {
  try {
    return { action, base, dry: await api.dryRun(action, base), refused: null };
  } catch (e) {
    // A request that did not complete is no answer of the server's: the page shows it.
    if (e instanceof ApiError && e.status !== 0) return { action, base, dry: null, refused: e };
    throw e;
  }
}

/** The dry run of an intent for prompt/label, based on `base`. */
export function propose(prompt: string, label: string, intent: Intent, base: number): Promise<Proposal> {
  return proposeAction(actionOf(prompt, label, intent), base);
}
