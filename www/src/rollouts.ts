// Guarded rollouts as the console shows them: a rollout's stage and percent in words,
// each guardrail's interval over the checks, and the start form's request and the
// server's refusals mapped back to the form's fields. The plan's rules (stages, alpha,
// guardrails) are checked by the server only: the form parses numbers, nothing more.
import type { MetricDeclaration, RolloutCheck, RolloutStart, RolloutStatus, RolloutSummary } from "./types";

/** Whether a rollout still steers its label. */
export function isActive(r: Pick<RolloutSummary, "status">): boolean {
  return r.status === "running" || r.status === "paused";
}

/** The candidate's share the label serves now, in percent. */
export function currentPercent(r: RolloutSummary): number {
  if (r.status === "rolled_back") return 0;
  return r.stages.at(-1)?.percent ?? r.plan.stages[r.stage - 1] ?? 0;
}

/** A percent as text: 10 -> "10", 0.5 -> "0.5", 33.33 -> "33.33". */
export function percentText(p: number): string {
  return String(Math.round(p * 100) / 100);
}

/** "stage 2 of 4 (10%)". */
export function stageText(r: RolloutSummary): string {
  return `stage ${r.stage} of ${r.plan.stages.length} (${percentText(currentPercent(r))}%)`;
}

/** A status in words. */
export function statusText(s: RolloutStatus): string {
  return s === "rolled_back" ? "rolled back" : s;
}

/** The overview's badge of a label's rollout (running or paused), or null. */
export function rolloutBadge(r: RolloutSummary | undefined): { text: string; tone: "info" | "warn" } | null {
  if (!r || !isActive(r)) return null;
  const where = `stage ${r.stage}, ${percentText(currentPercent(r))}%`;
  return r.status === "running" ? { text: `rollout: ${where}`, tone: "info" } : { text: `rollout paused: ${where}`, tone: "warn" };
}

/** The key of a prompt's label. */
export const labelKey = (prompt: string, label: string) => `${prompt}\u0000${label}`;

/** Each label's latest rollout, from `GET /admin/v1/rollouts` (newest first). */
export function latestByLabel(list: RolloutSummary[]): Map<string, RolloutSummary> {
  const out = new Map<string, RolloutSummary>();
  for (const r of [...list].sort((a, b) => b.id - a.id)) {
    const k = labelKey(r.prompt, r.label);
    if (!out.has(k)) out.set(k, r);
  }
  return out;
}

/** One check's interval of a guardrail. */
export interface GuardrailPoint {
  at: number;
  stage: number;
  action: string;
  estimate: number;
  low: number;
  high: number;
  threshold: number;
  tripped: boolean;
  /** Units observed: [control, candidate]. */
  units: [number, number];
  /** Beyond the threshold on the worse side (tripped), clearly on the better side of 0, or neither. */
  tone: "worse" | "better" | "unclear";
}

/** A guardrail's always-valid interval at each check that had one, in time order. */
export function guardrailPoints(checks: RolloutCheck[], metric: string): GuardrailPoint[] {
  const out: GuardrailPoint[] = [];
  for (const c of checks) {
    const g = c.evidence?.guardrails.find((x) => x.metric === metric);
    if (!g || g.estimate === null || !g.ci) continue;
    const better = g.higher_is_better ? g.ci[0] > 0 : g.ci[1] < 0;
    out.push({
      at: c.at_ms,
      stage: c.stage,
      action: c.action,
      estimate: g.estimate,
      low: g.ci[0],
      high: g.ci[1],
      threshold: g.threshold,
      tripped: g.tripped,
      units: g.units,
      tone: g.tripped ? "worse" : better ? "better" : "unclear",
    });
  }
  return out.sort((a, b) => a.at - b.at);
}

/** The start form as typed. */
export interface StartForm {
  candidate: number;
  stages: string;
  minUnits: string;
  minMinutes: string;
  guardrails: { metric: string; on: boolean; maxRegression: string; mde: string }[];
  alpha: string;
  onTrip: "rollback" | "pause";
  intervalMinutes: string;
}

/** The form's defaults: the server's own (stages 1/10/50/100, 500 units, an hour, alpha 0.05, roll back, a check an hour). */
export function defaultStartForm(candidate: number, metrics: Record<string, MetricDeclaration>): StartForm {
  return {
    candidate,
    stages: "1, 10, 50, 100",
    minUnits: "500",
    minMinutes: "60",
    guardrails: Object.keys(metrics)
      .sort()
      .map((metric) => ({ metric, on: false, maxRegression: "0", mde: "" })),
    alpha: "0.05",
    onTrip: "rollback",
    intervalMinutes: "60",
  };
}

/** A field of the start form: `candidate`, `stages`..., or `guardrail:METRIC:max_regression`. */
export type FieldErrors = Record<string, string>;

function number(text: string): number | null {
  const t = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** Stages as typed ("1, 10, 50, 100") -> numbers, or why one is not a number. */
export function parseStages(text: string): number[] | string {
  const parts = text.split(/[\s,]+/).filter((s) => s !== "");
  if (parts.length === 0) return "no stages given";
  const out: number[] = [];
  for (const p of parts) {
    const n = number(p.replace(/%$/, ""));
    if (n === null) return `"${p}" is not a number`;
    out.push(n);
  }
  return out;
}

/**
 * The request the form makes, or the fields that are not numbers (nothing else is
 * judged here: the server checks the plan and names the field at fault).
 */
export function startBody(form: StartForm, base: number, prompt: string, label: string): { body: RolloutStart } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  const body: RolloutStart = { base_revision: base, prompt, label, candidate: form.candidate, on_trip: form.onTrip };
  const stages = parseStages(form.stages);
  if (typeof stages === "string") errors.stages = stages;
  else body.stages = stages;
  const num = (field: string, text: string, set: (n: number) => void) => {
    if (text.trim() === "") return;
    const n = number(text);
    if (n === null) errors[field] = `"${text.trim()}" is not a number`;
    else set(n);
  };
  num("min_units", form.minUnits, (n) => (body.min_units = n));
  num("min_duration", form.minMinutes, (n) => (body.min_duration_ms = Math.round(n * 60_000)));
  num("alpha", form.alpha, (n) => (body.alpha = n));
  num("check_interval", form.intervalMinutes, (n) => (body.check_interval_ms = Math.round(n * 60_000)));
  const guardrails: NonNullable<RolloutStart["guardrails"]> = [];
  for (const g of form.guardrails.filter((x) => x.on)) {
    const entry: { metric: string; max_regression?: number; mde?: number } = { metric: g.metric };
    num(`guardrail:${g.metric}:max_regression`, g.maxRegression, (n) => (entry.max_regression = n));
    num(`guardrail:${g.metric}:mde`, g.mde, (n) => (entry.mde = n));
    guardrails.push(entry);
  }
  body.guardrails = guardrails;
  return Object.keys(errors).length ? { errors } : { body };
}

/**
 * Which of the form's fields a refusal of `POST /admin/v1/rollouts` names (its message
 * starts with the plan's field: `plan.stages[2]: 10 does not increase on 50`), or null
 * when it names none the form has. `sent` is the request (its guardrails' order).
 */
export function fieldOfRefusal(message: string, sent: RolloutStart): string | null {
  const m = /^(plan\.)?([a-z_]+)(\[(\d+)\])?(\.([a-z_]+))?: /.exec(message);
  if (m) {
    const [, , name, , index, , sub] = m;
    switch (name) {
      case "candidate":
      case "control":
        return "candidate";
      case "stages":
        return "stages";
      case "min_units":
        return "min_units";
      case "min_duration_ms":
        return "min_duration";
      case "alpha":
        return "alpha";
      case "on_trip":
        return "on_trip";
      case "guardrails": {
        const g = index === undefined ? undefined : sent.guardrails?.[Number(index)];
        return g ? `guardrail:${g.metric}:${sub ?? "metric"}` : "guardrails";
      }
    }
  }
  if (message.includes('"check_interval_ms"')) return "check_interval";
  return null;
}
