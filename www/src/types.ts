// The admin API's answers as the console reads them (README, "The control plane";
// control/src and shell/src/metrics.rs). The manifest document's types come from the
// npm package's declarations.
import type { JsonValue, Route as LabelRoute } from "edgeprompt";

export type { JsonValue, JsonObject, Manifest, Prompt, PromptVersion, Route, Rule, Target, Condition, MetricDeclaration } from "edgeprompt";

/** `GET /admin/v1/whoami`: the token's name and scope. */
export interface WhoAmI {
  name: string;
  /** `rw+approve` writes as `rw` does and may also approve another person's change to a protected label. */
  scope: "rw" | "ro" | "rw+approve";
}

/** One label of the live manifest and the revision since which it serves its route. */
export interface LabelSince {
  prompt: string;
  label: string;
  since_revision: number;
  /** When, in ms since the epoch (as the history's `at_ms`)... */
  since_at_ms?: number;
  /** ...or as RFC 3339 text. */
  since_at?: string;
  since_actor: string;
}

/** When a label's route was set, whichever form the server gave. */
export function sinceTime(l: LabelSince): number | string | null {
  return l.since_at_ms ?? l.since_at ?? null;
}

/** `GET /admin/v1/labels`. */
export interface LabelsResponse {
  revision: number;
  labels: LabelSince[];
}

/** One audit entry of `GET /admin/v1/history`. */
export interface RevisionEntry {
  revision: number;
  actor: string;
  at_ms: number;
  action: string;
  summary: string;
}

/** A page of `GET /admin/v1/history`. */
export interface HistoryPage {
  revisions: RevisionEntry[];
  next_before: number | null;
}

/** One difference of `GET /admin/v1/diff` (src/ops/history.rs). */
export interface Change {
  path: string;
  kind: "added" | "removed" | "changed";
  before?: JsonValue;
  after?: JsonValue;
}

/** `GET /admin/v1/diff?from=A&to=B`. */
export interface DiffResponse {
  from: number;
  to: number;
  changes: Change[];
}

/** An estimate with its 95% interval. */
export interface Interval {
  estimate: number;
  ci: [number, number];
}

/** One version's figures for one metric (src/metrics/report.rs). */
export interface MetricCell {
  units: number;
  count: number;
  values: number;
  sum: number;
  estimate: number | null;
  ci: [number, number] | null;
  diff: Interval | null;
}

/** One version of a metrics report. */
export interface VersionReport {
  version: number;
  weight: number | null;
  exposed_units: number;
  exposures: number;
  metrics: Record<string, MetricCell>;
}

/** The sample-ratio check of the current period. */
export interface SrmCheck {
  chi_square: number;
  df: number;
  p_value: number;
  mismatch: boolean;
  observed_default_units: number[];
}

/** Additive aggregates of one hour, version and metric (`""`: exposures); src/metrics/mod.rs `Sums`. */
export interface Sums {
  units: number;
  default_units: number;
  exposures: number;
  forced: number;
  values: number;
  sum: number;
  obs_sum: number;
  obs_sum_sq: number;
}

/** One entry of `series=hour`: what that hour added. */
export interface SeriesEntry {
  hour: number;
  version: number;
  metric: string;
  sums: Sums;
}

/** `GET /admin/v1/metrics/{prompt}?label=&period=&series=`. */
export interface MetricsReport {
  prompt: string;
  label: string;
  period: string;
  revision: number;
  control: number;
  versions: VersionReport[];
  srm: SrmCheck | null;
  series?: SeriesEntry[];
}

/** The answer of an accepted change. */
export interface WriteResult {
  revision: number;
  changed: boolean;
  summaries: string[];
  kv_written?: boolean;
}

/** One revision a dry run would store: its summary and its changes, path by path. */
export interface DryRunRevision {
  revision: number;
  action: string;
  summary: string;
  changes: Change[];
}

/** The answer of a change sent with `"dry_run": true`: checked as the change, nothing stored. */
export interface DryRunResult {
  dry_run: true;
  /** The live revision the change was checked against. */
  revision: number;
  changed: boolean;
  summaries: string[];
  revisions: DryRunRevision[];
  /** The label's route before and after (when the change names a prompt and a label). */
  route?: { before: LabelRoute; after: LabelRoute };
  /** The label's policy requires an approval: the real write would become a pending change. */
  needs_approval?: boolean;
}

/** The route operations the traffic page sends. */
export type RouteAction =
  | { op: "promote"; prompt: string; label: string; version: number; clear_rules: boolean }
  | { op: "split"; prompt: string; label: string; rule: string | null; weights: Record<string, number | string> }
  | { op: "ramp"; prompt: string; label: string; rule: string | null; to: number; percent: number | string }
  | { op: "rollback"; prompt: string; label: string; to_revision: number | null };

/** A rollout's status. */
export type RolloutStatus = "running" | "paused" | "completed" | "rolled_back" | "aborted";

/** A guardrail of a plan: a declared metric and the regression it tolerates (absolute). */
export interface PlanGuardrail {
  metric: string;
  max_regression: number;
  mde?: number;
}

/** A rollout's plan as stored (src/rollout/plan.rs). */
export interface RolloutPlan {
  candidate: number;
  control: number;
  stages: number[];
  min_units: number;
  min_duration_ms: number;
  guardrails: PlanGuardrail[];
  alpha: number;
  on_trip: "rollback" | "pause";
}

/** A stage as set: its weights period, when, and the revision that set it. */
export interface RolloutStage {
  stage: number;
  percent: number;
  period: string;
  started_ms: number;
  revision: number;
}

/** One guardrail's always-valid interval at a check (src/rollout/evidence.rs). */
export interface GuardrailEvidence {
  metric: string;
  kind: "binary" | "count" | "continuous";
  higher_is_better: boolean;
  /** Candidate minus control, combined over the periods (null: too few units yet). */
  estimate: number | null;
  ci: [number, number] | null;
  /** The difference past which the candidate is worse than tolerated (signed). */
  threshold: number;
  scale: number | null;
  alpha: number;
  /** Units observed: [control, candidate]. */
  units: [number, number];
  tripped: boolean;
}

/** One period's sample-ratio check. */
export interface SrmEvidence {
  stage: number;
  started_ms: number;
  /** Exposed units per weighted version. */
  exposed: Record<string, number>;
  /** Null: too few units to check yet. */
  p_value: number | null;
  mismatch: boolean;
  waived: boolean;
}

/** The numbers behind a decision. */
export interface RolloutEvidence {
  guardrails: GuardrailEvidence[];
  srm: SrmEvidence[];
  stage_units: number;
  stage_ms: number;
}

/** What the controller decided. */
export type RolloutAction = "hold" | "advance" | "complete" | "pause" | "rollback";

/** The last decision, with its evidence. */
export interface RolloutDecision {
  at_ms: number;
  action: RolloutAction;
  stage: number;
  percent: number;
  reason: string;
  evidence: RolloutEvidence;
}

/** One check of the controller, kept with its evidence. */
export interface RolloutCheck {
  at_ms: number;
  action: RolloutAction;
  stage: number;
  evidence: RolloutEvidence | null;
}

/** One entry of a rollout's log: what it (or a person) did. */
export interface RolloutLogEntry {
  at_ms: number;
  action: string;
  stage: number;
  percent: number;
  reason: string;
  revision: number | null;
  actor: string;
}

/** A rollout as `GET /admin/v1/rollouts` lists it. */
export interface RolloutSummary {
  id: number;
  prompt: string;
  label: string;
  status: RolloutStatus;
  plan: RolloutPlan;
  stage: number;
  stages: RolloutStage[];
  check_interval_ms: number;
  next_check_ms: number | null;
  started_ms: number;
  updated_ms: number;
  actor: string;
}

/** `GET /admin/v1/rollouts/PROMPT/LABEL`: the label's latest rollout, with its checks and log. */
export interface Rollout extends RolloutSummary {
  last_decision: RolloutDecision | null;
  checks: RolloutCheck[];
  log: RolloutLogEntry[];
}

/** `POST /admin/v1/rollouts`: a plan for a label (defaults on the server). */
export interface RolloutStart {
  base_revision: number;
  prompt: string;
  label: string;
  candidate: number;
  stages?: number[];
  min_units?: number;
  min_duration_ms?: number;
  guardrails?: { metric: string; max_regression?: number; mde?: number }[];
  alpha?: number;
  on_trip?: "rollback" | "pause";
  check_interval_ms?: number;
}

/** A freeze window of a label's policy: between two times, or on days of the week between two clock times of a zone. */
export type FreezeWindow =
  | { start: string; end: string; note?: string }
  | { days: string[]; from: string; to: string; time_zone: string; note?: string };

/** What a protected label's changes need (issue 22's promotion gates). */
export interface Policy {
  require_eval: boolean;
  require_approval: boolean;
  approval_expires_hours: number;
  freeze: FreezeWindow[];
}

/** One label's policy as `GET /admin/v1/policies` lists it, with whether it is frozen now. */
export interface LabelPolicy {
  prompt: string;
  label: string;
  policy: Policy;
  set_by: string;
  set_at_ms: number;
  frozen: { reason: string; until_ms: number | null } | null;
}

/** A change's state. */
export type ChangeState = "pending" | "applied" | "rejected" | "expired" | "failed";

/** A change to a protected label, waiting for (or past) its approval. */
export interface ChangeRequest {
  id: number;
  state: ChangeState;
  op: "promote" | "split" | "ramp" | "publish" | "rollout.start" | "policy" | string;
  prompt: string;
  label: string;
  summary: string;
    /** The original request's body (`null` in a list when it is over 16 KiB: see `request_bytes`). */
  request: Record<string, JsonValue> | null;
  /** The request's size, when a list left it out. */
  request_bytes?: number;
  requested_by: string;
  requested_at_ms: number;
  expires_at_ms: number;
  base_revision: number;
  decided_by: string | null;
  decided_at_ms: number | null;
  reason: string | null;
  revision: number | null;
}

/** A write that became a change waiting for an approval (202). */
export interface PendingAnswer {
  pending: ChangeRequest;
}

/** A write's answer: applied, or sent for approval. */
export type WriteAnswer = WriteResult | PendingAnswer;

/** Whether a write's answer is a change waiting for an approval. */
export function isPending(a: unknown): a is PendingAnswer {
  return typeof a === "object" && a !== null && "pending" in a && typeof (a as PendingAnswer).pending === "object" && (a as PendingAnswer).pending !== null;
}

/** `POST /admin/v1/changes/ID/approve`. */
export interface ApproveResult {
  change: ChangeRequest;
  result: WriteResult;
}

/** One eval report's row for one version (`GET /admin/v1/evals?prompt=&hash=`). */
export interface EvalSummary {
  report: number;
  version: number | null;
  passed: boolean;
  cases: number;
  failed: number;
  errors: number;
  skipped_assertions: number;
  at_ms: number;
  actor: string;
}

/** `GET /admin/v1/evals?prompt=&hash=`: the reports for one content, newest first. */
export interface EvalsResponse {
  prompt: string;
  hash: string;
  reports: EvalSummary[];
}

/** An assertion's outcome in a report (docs/evals.md, `--json`). */
export interface EvalAssertion {
  type: string;
  role: string | null;
  result: "pass" | "fail" | "skip" | "error" | string;
  reason: string | null;
  score?: number;
  threshold?: number;
}

/** One case's result for one version. */
export interface EvalResult {
  prompt: string;
  suite: string;
  case: string;
  version: number | null;
  hash: string | null;
  label?: string | null;
  rule?: string | null;
  result: "pass" | "fail" | "error" | string;
  error: string | null;
  cached?: boolean | null;
  assertions: EvalAssertion[];
}

/** The document `edgeprompt eval --report` sends (schema 1); only the fields the console reads. */
export interface EvalDocument {
  schema: number;
  passed: boolean;
  created_at?: string;
  source?: { kind?: string; dir?: string | null; url?: string | null; revision?: number | null; label?: string | null };
  model?: { url?: string; calls?: number; cache_hits?: number } | null;
  summary?: { cases: number; passed: number; failed: number; errors: number; skipped_assertions: number };
  versions: { prompt: string; version: number | null; hash: string; passed: boolean; cases: number; failed: number; errors: number; skipped_assertions?: number }[];
  results?: EvalResult[];
  client?: { name?: string; version?: string };
}

/** `GET /admin/v1/evals/ID`: one report whole. */
export interface EvalReportWhole {
  id: number;
  at_ms: number;
  actor: string;
  report: EvalDocument;
}
