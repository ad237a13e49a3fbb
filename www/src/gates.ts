// Promotion gates in words (issue 22): a label's policy and its freeze windows, who may
// approve or withdraw a change, the pending changes per label, an eval report's status,
// and the gates' refusals. Pure: the server decides; this only says what it answered.
import { formatDuration, formatTime } from "./format";
import type { ChangeRequest, EvalSummary, FreezeWindow, JsonValue, Policy } from "./types";

const DAYS: Record<string, [number, string]> = {
  mon: [0, "Monday"],
  tue: [1, "Tuesday"],
  wed: [2, "Wednesday"],
  thu: [3, "Thursday"],
  fri: [4, "Friday"],
  sat: [5, "Saturday"],
  sun: [6, "Sunday"],
};

/** A list in words: "a", "a and b", "a, b and c". */
export function listWords(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** Days of the week in words, runs of three or more as ranges: "Monday to Friday", "Saturday and Sunday". */
export function daysWords(days: string[]): string {
  const known = [...new Set(days.map((d) => d.toLowerCase().slice(0, 3)))].filter((d) => d in DAYS).sort((a, b) => DAYS[a]![0] - DAYS[b]![0]);
  const unknown = days.filter((d) => !(d.toLowerCase().slice(0, 3) in DAYS));
  if (known.length === 7) return ["every day", ...unknown].join(", ");
  const parts: string[] = [];
  let i = 0;
  while (i < known.length) {
    let j = i;
    while (j + 1 < known.length && DAYS[known[j + 1]!]![0] === DAYS[known[j]!]![0] + 1) j++;
    if (j - i >= 2) parts.push(`${DAYS[known[i]!]![1]} to ${DAYS[known[j]!]![1]}`);
    else for (let k = i; k <= j; k++) parts.push(DAYS[known[k]!]![1]);
    i = j + 1;
  }
  return listWords([...parts, ...unknown]);
}

/** A freeze window in words; `fmt` writes a time (the viewer's zone by default). */
export function describeFreeze(w: FreezeWindow, fmt: (t: string) => string = formatTime): string {
  const note = w.note ? ` (${w.note})` : "";
  if ("start" in w) return `from ${fmt(w.start)} to ${fmt(w.end)}${note}`;
  const days = daysWords(w.days);
  const every = days === "every day" ? days : `every ${days}`;
  const span = w.from === w.to || (w.from === "00:00" && w.to === "24:00") ? "all day" : w.to < w.from ? `${w.from} to ${w.to} the next day` : `${w.from} to ${w.to}`;
  return `${every}, ${span} (${w.time_zone})${note}`;
}

/** What a policy requires of a change, one requirement per entry. */
export function requirements(p: Policy): string[] {
  const out: string[] = [];
  if (p.require_approval)
    out.push(`an approval by another person with an rw+approve token (a request expires after ${formatDuration(p.approval_expires_hours * 3_600_000)})`);
  if (p.require_eval) out.push("a passing eval report (edgeprompt eval --report) for the content of every version it would serve");
  if (p.freeze.length > 0) out.push(`no change during ${p.freeze.length === 1 ? "its freeze window" : `its ${p.freeze.length} freeze windows`} (a rollback always goes through)`);
  return out;
}

/** A policy in one line, for a title: "Protected: needs an approval…; …". */
export function policyTitle(p: Policy): string {
  const r = requirements(p);
  const freeze = p.freeze.map((w) => describeFreeze(w)).join("; ");
  return r.length === 0 ? "Protected: a policy without requirements" : `Protected: needs ${r.join("; ")}${freeze ? `. Frozen ${freeze}` : ""}.`;
}

/** What a signed-in token may do with a change: approve and reject it (another person's, rw+approve) or withdraw it (its own). */
export function changeControls(c: ChangeRequest, who: { name: string | null; canWrite: boolean; canApprove: boolean }): { approve: boolean; reject: boolean; withdraw: boolean } {
  const open = c.state === "pending";
  const own = who.name !== null && who.name === c.requested_by;
  return { approve: open && who.canApprove && !own, reject: open && who.canApprove && !own, withdraw: open && own && who.canWrite };
}

/** The key of a label in maps. */
export function gateKey(prompt: string, label: string): string {
  return `${prompt}\u0000${label}`;
}

/** The pending changes of each label. */
export function pendingByLabel(changes: ChangeRequest[] | null): Map<string, ChangeRequest[]> {
  const m = new Map<string, ChangeRequest[]>();
  for (const c of changes ?? []) {
    if (c.state !== "pending") continue;
    const k = gateKey(c.prompt, c.label);
    m.set(k, [...(m.get(k) ?? []), c]);
  }
  return m;
}

/**
 * A change's summary without what the state says already and what no longer holds: the
 * server's " (needs approval: p/l)" and the " (revision N)" its dry run would have stored
 * when it was asked for (applied, it gets the revision of its approval).
 */
export function changeSummary(summary: string): string {
  return summary
    .replace(/ \(needs approval: [^)]*\)$/, "")
    .replace(/ \(revision \d+\)/g, "")
    .trim();
}

/** Whether a change's request can be reviewed as a dry run of a route operation. */
export function previewable(c: ChangeRequest): c is ChangeRequest & { op: "promote" | "split" | "ramp"; request: Record<string, JsonValue> } {
  return (c.op === "promote" || c.op === "split" || c.op === "ramp") && c.request !== null;
}

/** How long ago: "5 min ago". */
export function ago(atMs: number, now: number): string {
  return now - atMs < 5_000 ? "just now" : `${formatDuration(now - atMs)} ago`;
}

/** Until when: "in 23 h", or "expired". */
export function expiresIn(atMs: number, now: number): string {
  return atMs <= now ? "expired" : `in ${formatDuration(atMs - now)}`;
}

/** A change's state in words and its badge's tone. */
export function stateBadge(state: ChangeRequest["state"]): { text: string; tone: "ok" | "warn" | "bad" | "muted" | "info" } {
  switch (state) {
    case "pending":
      return { text: "pending", tone: "warn" };
    case "applied":
      return { text: "applied", tone: "ok" };
    case "rejected":
      return { text: "rejected", tone: "bad" };
    case "expired":
      return { text: "expired", tone: "muted" };
    case "failed":
      return { text: "failed", tone: "bad" };
    default:
      return { text: String(state), tone: "muted" };
  }
}

/** An eval report's outcome for one version in words. */
export function evalStatus(r: EvalSummary): { text: string; tone: "ok" | "bad"; detail: string } {
  const cases = `${r.cases} case${r.cases === 1 ? "" : "s"}`;
  const bits: string[] = [];
  if (r.failed > 0) bits.push(`${r.failed} failed`);
  if (r.errors > 0) bits.push(`${r.errors} error${r.errors === 1 ? "" : "s"}`);
  if (r.skipped_assertions > 0) bits.push(`${r.skipped_assertions} assertion${r.skipped_assertions === 1 ? "" : "s"} skipped`);
  const detail = bits.length ? `${cases}: ${bits.join(", ")}` : cases;
  return { text: r.passed ? "passed" : "failed", tone: r.passed ? "ok" : "bad", detail };
}

/** A version without a passing eval report, as a 412 `eval_required` lists it. */
export interface MissingEval {
  prompt: string;
  label: string | null;
  version: number | null;
  content_hash: string;
}

/** The versions a 412 `eval_required` names (`details.missing`); empty for other details. */
export function missingEvals(details: unknown): MissingEval[] {
  const list = (details as { missing?: unknown } | null | undefined)?.missing;
  if (!Array.isArray(list)) return [];
  return list
    .filter((x): x is Record<string, unknown> => typeof x === "object" && x !== null)
    .map((x) => ({
      prompt: String(x.prompt ?? ""),
      label: typeof x.label === "string" ? x.label : null,
      version: typeof x.version === "number" ? x.version : null,
      content_hash: String(x.content_hash ?? x.hash ?? ""),
    }));
}

/** The title of a gate's refusal (null: not a gate's code). */
export function gateRefusalTitle(status: number, code: string): string | null {
  switch (code) {
    case "label_frozen":
      return "The label is frozen: the change is refused until its freeze window ends";
    case "eval_required":
      return "A version it would serve has no passing eval report";
    case "approval_not_allowed":
      return "This token may not approve this change";
    case "label_moved":
      return "The label changed since the request: the change can no longer be applied";
    case "change_decided":
      return "The change was already decided";
    case "change_expired":
      return "The change expired before it was approved";
    default:
      return status === 423 ? "The label is frozen" : null;
  }
}
