// Turns what a user asked for into a Proposal against a given manifest: the route
// operations of routes.ts, and rollbacks, whose route comes from a stored revision.
import { api } from "./api";
import type { Proposal } from "./components/change";
import type { Manifest, Route, RouteAction } from "./types";
import { formatBp, parseWeight, proposePromote, proposeRamp, proposeSplit, servesOneVersion } from "./routes";

/** How many earlier revisions a rollback looks through to find the route it restores. */
const ROLLBACK_SEARCH = 50;

/** A change the traffic page's forms describe. */
export type Intent =
  | { op: "promote"; version: number; clearRules: boolean }
  | { op: "split"; rule: string | null; weights: [number, string][] }
  | { op: "ramp"; rule: string | null; to: number; percent: string }
  | { op: "rollback"; toRevision: number | null };

/** A weight as the API's body carries it: a number when it is a plain decimal, else the text (for the server to name). */
function weightValue(text: string): number | string {
  const t = text.trim();
  return /^\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

function routeIn(doc: Manifest, prompt: string, label: string): Route | undefined {
  return doc.prompts[prompt]?.labels?.[label];
}

/** Works out an intent against `m` for prompt/label. */
export async function propose(m: Manifest, prompt: string, label: string, intent: Intent): Promise<Proposal> {
  const before = routeIn(m, prompt, label);
  if (!before) throw new Error(`the live manifest (revision ${m.revision}) has no label ${prompt}/${label}`);
  const versions = m.prompts[prompt]?.versions.length ?? 0;
  const where = (rule: string | null) => `${prompt}/${label}${rule ? ` rule "${rule}"` : ""}`;
  const base = m.revision;
  switch (intent.op) {
    case "promote": {
      const r = proposePromote(before, versions, intent.version, intent.clearRules);
      const action: RouteAction = { op: "promote", prompt, label, version: intent.version, clear_rules: intent.clearRules };
      return { action, base, before, after: r.route, problem: r.problem, summary: `promote ${prompt}/${label} to version ${intent.version}${intent.clearRules ? ", rules cleared" : ""}` };
    }
    case "split": {
      const r = proposeSplit(before, versions, intent.rule, intent.weights);
      const weights: Record<string, number | string> = {};
      for (const [v, w] of intent.weights) weights[String(v)] = weightValue(w);
      const described = intent.weights.map(([v, w]) => {
        const bp = parseWeight(w);
        return `${v}=${typeof bp === "number" ? formatBp(bp) : w}`;
      });
      return { action: { op: "split", prompt, label, rule: intent.rule, weights }, base, before, after: r.route, problem: r.problem, summary: `split ${where(intent.rule)}: ${described.join(" ")}` };
    }
    case "ramp": {
      const r = proposeRamp(before, versions, intent.rule, intent.to, intent.percent);
      return {
        action: { op: "ramp", prompt, label, rule: intent.rule, to: intent.to, percent: weightValue(intent.percent) },
        base,
        before,
        after: r.route,
        problem: r.problem,
        summary: `ramp ${where(intent.rule)}: version ${intent.to} to ${intent.percent.trim()}%`,
      };
    }
    case "rollback":
      return proposeRollback(m, prompt, label, before, intent.toRevision);
  }
}

/**
 * A rollback: the route of `toRevision`, or (as the server does without one) of the
 * newest earlier revision in which the label served one version, found here so that
 * the exact route is shown and then named in the request.
 */
async function proposeRollback(m: Manifest, prompt: string, label: string, before: Route, toRevision: number | null): Promise<Proposal> {
  const base = m.revision;
  if (toRevision !== null) {
    let after: Route | null = null;
    let problem: string | null = null;
    if (toRevision >= base) problem = `revision ${toRevision} is not an earlier revision (the live one is ${base})`;
    else {
      const doc = await api.revision(toRevision);
      after = routeIn(doc, prompt, label) ?? null;
      if (!after) problem = `${prompt}/${label} did not exist in revision ${toRevision}`;
    }
    return { action: { op: "rollback", prompt, label, to_revision: toRevision }, base, before, after, problem, summary: `rollback of ${prompt}/${label} to revision ${toRevision}` };
  }
  let before_: number | null = base;
  let looked = 0;
  while (before_ !== null && looked < ROLLBACK_SEARCH) {
    const page = await api.history(Math.min(100, ROLLBACK_SEARCH - looked), before_);
    for (const r of page.revisions) {
      looked++;
      const route = routeIn(await api.revision(r.revision), prompt, label);
      if (servesOneVersion(route)) {
        return {
          action: { op: "rollback", prompt, label, to_revision: r.revision },
          base,
          before,
          after: route!,
          problem: null,
          summary: `rollback of ${prompt}/${label} to revision ${r.revision}, the last in which it served one version`,
        };
      }
    }
    before_ = page.next_before;
  }
  return {
    action: { op: "rollback", prompt, label, to_revision: null },
    base,
    before,
    after: null,
    problem:
      before_ === null
        ? `no earlier revision in which ${prompt}/${label} served a single version; name a revision`
        : null,
    summary: `rollback of ${prompt}/${label} to the last revision in which it served one version (not among the last ${ROLLBACK_SEARCH}: the server will search further)`,
  };
}
