// The admin API client: same origin, `Authorization: Bearer <token>`, errors in the
// API's one shape (`{"error": {"code", "message", "details"}}`) turned into ApiError.
import type {
  ApproveResult,
  ChangeRequest,
  ChangeState,
  DiffResponse,
  EvalReportWhole,
  EvalsResponse,
  LabelPolicy,
  PendingAnswer,
  Policy,
  DryRunResult,
  HistoryPage,
  LabelsResponse,
  Manifest,
  MetricsReport,
  Rollout,
  RolloutStart,
  RolloutSummary,
  RouteAction,
  WhoAmI,
  WriteAnswer,
} from "./types";
import { loadToken } from "./auth";

/** An error answer of the admin API (or a failed request: status 0). */
export class ApiError extends Error {
  /** The HTTP status (0: the request did not complete). */
  readonly status: number;
  /** The API's stable code (`conflict`, `invalid_manifest`...). */
  readonly code: string;
  /** The API's details, as sent. */
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Called with every 401 and 403 answer, so the shell can ask for a token again. */
let onAuthError: ((e: ApiError) => void) | null = null;

/** Sets the handler of 401/403 answers. */
export function setAuthErrorHandler(handler: ((e: ApiError) => void) | null): void {
  onAuthError = handler;
}

async function request<T>(method: "GET" | "POST", path: string, body?: unknown, token?: string): Promise<T> {
  const t = token ?? loadToken();
  const headers: Record<string, string> = { accept: "application/json" };
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(`/admin/v1/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // The token travels in the header only; no cookies are involved.
      credentials: "omit",
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiError(0, "network", `the admin API could not be reached: ${(e as Error).message}`, null);
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: reported below */
  }
  if (!res.ok) {
    const err = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    const e = new ApiError(
      res.status,
      err?.code ?? `http_${res.status}`,
      err?.message ?? (text.slice(0, 300) || res.statusText || `HTTP ${res.status}`),
      err?.details ?? null,
    );
    // A token being checked (given explicitly) is the sign-in form's business.
    if ((res.status === 401 || res.status === 403) && onAuthError && token === undefined) onAuthError(e);
    throw e;
  }
  if (parsed === undefined) throw new ApiError(res.status, "malformed_answer", `the admin API answered ${path} with something that is not JSON`, null);
  return parsed as T;
}

const q = (s: string) => encodeURIComponent(s);

/** The admin API's endpoints. */
export const api = {
  /** Who the token is, and whether it may write; `token` checks one before saving it. */
  whoami: (token?: string) => request<WhoAmI>("GET", "whoami", undefined, token),
  /** The live manifest document. */
  manifest: () => request<Manifest>("GET", "manifest"),
  /** Since which revision each label serves its route. */
  labels: () => request<LabelsResponse>("GET", "labels"),
  /** A prompt's label's metrics (`period` current or all; `hourly` adds the series). */
  metrics: (prompt: string, label: string, period: "current" | "all" = "current", hourly = false) =>
    request<MetricsReport>(
      "GET",
      `metrics/${q(prompt)}?label=${q(label)}&period=${period}${hourly ? "&series=hour" : ""}`,
    ),
  /** A page of the audit log, newest first. */
  history: (limit: number, before?: number | null) =>
    request<HistoryPage>("GET", `history?limit=${limit}${before != null ? `&before=${before}` : ""}`),
  /** One revision's document. */
  revision: (n: number) => request<Manifest>("GET", `history/${n}`),
  /** The changes between two revisions. */
  diff: (from: number, to: number) => request<DiffResponse>("GET", `diff?from=${from}&to=${to}`),
  /** Sends a route change based on `base`, the revision the page shows (202: sent for approval). */
  change: (action: RouteAction, base: number) => request<WriteAnswer>("POST", action.op, changeBody(action, base, false)),
  /** The same change as a dry run: checked exactly as the change (409, 403, 422), nothing stored. */
  dryRun: (action: RouteAction, base: number) => request<DryRunResult>("POST", action.op, changeBody(action, base, true)),
  /** Recent rollouts, newest first. */
  rollouts: () => request<{ rollouts: RolloutSummary[] }>("GET", "rollouts?active=1"),
  /** A label's latest rollout (404 `no_rollout` when it never had one). */
  rollout: (prompt: string, label: string) => request<Rollout>("GET", `rollouts/${q(prompt)}/${q(label)}`),
  /** Starts a guarded rollout (201 with the rollout; 202 when the label's policy wants an approval). */
  startRollout: (body: RolloutStart) => request<Rollout | PendingAnswer>("POST", "rollouts", body),
  /** Pauses, resumes, aborts or checks a label's rollout now; answers the rollout after it. */
  rolloutControl: (prompt: string, label: string, op: "pause" | "resume" | "abort" | "check") =>
    request<Rollout>("POST", `rollouts/${q(prompt)}/${q(label)}/${op}`, {}),
  /** The labels' policies (one label's with `prompt` and `label`), each with whether it is frozen now. */
  policies: (prompt?: string, label?: string) =>
    request<{ policies: LabelPolicy[] }>("GET", `policies${prompt !== undefined && label !== undefined ? `?prompt=${q(prompt)}&label=${q(label)}` : ""}`),
  /** Sets (or with null removes) a label's policy; 202 when its current policy wants an approval. */
  setPolicy: (prompt: string, label: string, policy: Policy | null) =>
    request<{ policy: Policy | null; changed: boolean } | PendingAnswer>("POST", "policies", { prompt, label, policy }),
  /** Changes to protected labels, newest first (`state`: only those). */
  changes: (state?: ChangeState) => request<{ changes: ChangeRequest[] }>("GET", `changes${state ? `?state=${state}` : ""}`),
  /** One change. */
  changeRequest: (id: number) => request<ChangeRequest>("GET", `changes/${id}`),
  /** Approves another person's change (a rw+approve token): it is applied now. */
  approve: (id: number) => request<ApproveResult>("POST", `changes/${id}/approve`, {}),
  /** Rejects a change (or withdraws one's own), with an optional reason. */
  reject: (id: number, reason: string) => request<{ change: ChangeRequest }>("POST", `changes/${id}/reject`, reason.trim() ? { reason: reason.trim() } : {}),
  /** The dry run of a stored request (a change's), based on `base`. */
  dryRunRequest: (op: string, body: Record<string, unknown>, base: number) =>
    request<DryRunResult>("POST", op, { ...body, base_revision: base, dry_run: true }),
  /** The eval reports recorded for one content hash of a prompt, newest first. */
  evals: (prompt: string, hash: string) => request<EvalsResponse>("GET", `evals?prompt=${q(prompt)}&hash=${q(hash)}`),
  /** One eval report whole. */
  evalReport: (id: number) => request<EvalReportWhole>("GET", `evals/${id}`),
};

/** A route change's body: `base_revision`, the action's fields (optional ones only when set) and `dry_run` when asked. */
export function changeBody(action: RouteAction, base: number, dryRun: boolean): Record<string, unknown> {
  const { op: _op, ...rest } = action;
  const body: Record<string, unknown> = { base_revision: base, ...rest };
  // Optional fields go only when set, as the README's bodies show them.
  for (const k of ["rule", "to_revision"]) if (body[k] === null) delete body[k];
  if (dryRun) body.dry_run = true;
  return body;
}
