// Small shared pieces: loading, empty and error states, badges, times.
import type { ComponentChildren } from "preact";
import { ApiError } from "../api";
import { formatTime, formatTimeLong, isoTime } from "../format";
import { missingEvals, type MissingEval } from "../gates";

/** A loading line, announced to screen readers. */
export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

/** An empty state. */
export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** A badge: `tone` picks its colour; the text always says what it means. */
export function Badge({ tone, children, title }: { tone: "ok" | "warn" | "bad" | "muted" | "info"; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

/** A time in the viewer's zone, with the full time as a tooltip. */
export function Time({ at }: { at: number | string | null | undefined }) {
  if (at === null || at === undefined || at === "") return <span>—</span>;
  return (
    <time dateTime={isoTime(at)} title={formatTimeLong(at)}>
      {formatTime(at)}
    </time>
  );
}

/** The problems an error's details list: `invalid_manifest`'s "PATH: reason" lines, or `{path, reason}` objects. */
export function problemsOf(details: unknown): { path: string; reason: string }[] {
  const list = (details as { problems?: unknown } | null)?.problems;
  if (!Array.isArray(list)) return [];
  return list.map((p) => {
    if (typeof p === "string") {
      const i = p.indexOf(": ");
      return i > 0 ? { path: p.slice(0, i), reason: p.slice(i + 2) } : { path: "", reason: p };
    }
    const o = p as { path?: unknown; reason?: unknown };
    return { path: String(o.path ?? ""), reason: String(o.reason ?? JSON.stringify(p)) };
  });
}

/** An error from the API or the engine, with its code, status and every listed problem. */
export function ErrorBox({ error, title, children }: { error: Error; title?: string; children?: ComponentChildren }) {
  const api = error instanceof ApiError ? error : null;
  const code = (error as { code?: string }).code;
  const details = (error as { details?: unknown }).details;
  const engineProblems = (error as { problems?: { path: string; reason: string }[] }).problems;
  const problems = engineProblems ?? problemsOf(details);
  const missing = (details as { missing?: unknown } | null | undefined)?.missing;
  const variables = Array.isArray(missing) && missing.every((x) => typeof x === "string") ? (missing as string[]) : null;
  const evals = variables ? [] : missingEvals(details);
  // A gate's refusal says everything in its message (its details are for programs: the
  // window, the change); a frozen label's end is shown as a time.
  const gate = code === "label_frozen" || code === "label_moved" || code === "change_decided" || code === "change_expired";
  const until = code === "label_frozen" ? (details as { until_ms?: unknown } | null)?.until_ms : null;
  const other =
    details && typeof details === "object" && !gate && !problems.length && !Array.isArray(missing) ? JSON.stringify(details) : null;
  return (
    <div class="error" role="alert">
      <p class="error-title">
        {title ?? "Something went wrong"}
        {api && api.status > 0 ? ` (${api.status}${code ? ` ${code}` : ""})` : code ? ` (${code})` : ""}
      </p>
      <p class="error-message">{error.message}</p>
      {typeof until === "number" && (
        <p>
          Frozen until <Time at={until} />.
        </p>
      )}
      {variables && <p>Missing variables: {variables.join(", ")}</p>}
      {evals.length > 0 && <MissingEvals list={evals} />}
      {problems.length > 0 && (
        <ul class="problems">
          {problems.map((p, i) => (
            <li key={i}>
              {p.path && <code class="path">{p.path}</code>} {p.reason}
            </li>
          ))}
        </ul>
      )}
      {other && <pre class="details">{other}</pre>}
      {children}
    </div>
  );
}

/** The versions a 412 `eval_required` names, and how to record a report for them. */
export function MissingEvals({ list }: { list: MissingEval[] }) {
  return (
    <>
      <p>No passing eval report for:</p>
      <ul class="problems missing-evals">
        {list.map((m) => (
          <li key={`${m.prompt}/${m.content_hash}`}>
            {m.prompt}
            {m.label ? `/${m.label}` : ""} version {m.version ?? "?"}, content hash{" "}
            <code class="hash">{m.content_hash}</code>
          </li>
        ))}
      </ul>
      <p class="help">
        Run the prompt's evals and record the result with <code>edgeprompt eval --report</code>; once a report for that content passed, send the change again.
      </p>
    </>
  );
}
