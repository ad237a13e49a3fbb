// The admin API's answers as the console reads them (README, "The control plane";
// control/src and shell/src/metrics.rs). The manifest document's types come from the
// npm package's declarations.
import type { JsonValue } from "edgeprompt";

export type { JsonValue, JsonObject, Manifest, Prompt, PromptVersion, Route, Rule, Target, Condition, MetricDeclaration } from "edgeprompt";

/** `GET /admin/v1/whoami`: the token's name and scope. */
export interface WhoAmI {
  name: string;
  scope: "rw" | "ro";
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

/** The route operations the traffic page sends. */
export type RouteAction =
  | { op: "promote"; prompt: string; label: string; version: number; clear_rules: boolean }
  | { op: "split"; prompt: string; label: string; rule: string | null; weights: Record<string, number | string> }
  | { op: "ramp"; prompt: string; label: string; rule: string | null; to: number; percent: number | string }
  | { op: "rollback"; prompt: string; label: string; to_revision: number | null };
