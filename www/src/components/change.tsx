// A route change, reviewed before it is sent: the server's dry run of it (the route
// before and after, in words and as a line diff, its summary and its changes path by
// path), a confirmation, and the server's answer. A refusal, of the dry run or of the
// change, shows the server's reasons: 409 conflict (the manifest changed meanwhile:
// reload and check again), 409 rollout_running (a link to the rollout), 422 (every path
// and reason), 403 (read-only).
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { useSession } from "../session";
import { isPending, type DryRunResult, type Route, type WriteAnswer } from "../types";
import { DiffView } from "./diffview";
import { ErrorBox, Loading } from "./ui";
import { RulesView, TargetView } from "./route";
import { ChangeList } from "./changes";
import { prettyJson } from "../diff";
import { links } from "../router";
import { proposalTitle, proposeAction, type Proposal } from "../proposals";
import { changeSummary, gateRefusalTitle } from "../gates";

type State =
  | { s: "working" }
  | { s: "review"; p: Proposal }
  | { s: "sending"; p: Proposal }
  | { s: "done"; p: Proposal; result: WriteAnswer }
  | { s: "failed"; p: Proposal; error: Error };

/**
 * Reviews and sends one change; `initial` is the server's dry run of it against the
 * page's revision. `onReloaded` is told when the review moved to a newer revision.
 */
export function ChangeReview({
  initial,
  onCancel,
  onDone,
  onReloaded,
}: {
  initial: Proposal;
  onCancel: () => void;
  onDone: (r: WriteAnswer) => void;
  onReloaded?: () => void;
}) {
  const session = useSession();
  const [state, setState] = useState<State>({ s: "review", p: initial });
  const [reloadError, setReloadError] = useState<Error | null>(null);
  useEffect(() => setState({ s: "review", p: initial }), [initial]);
  const refusal = state.s === "failed" ? state.error : state.s === "review" ? state.p.refused : null;
  useEffect(() => {
    if (refusal instanceof ApiError && refusal.status === 403) session.markReadOnly();
  }, [refusal]);

  const send = async (p: Proposal) => {
    setState({ s: "sending", p });
    try {
      const result = await api.change(p.action, p.base);
      setState({ s: "done", p, result });
      onDone(result);
    } catch (e) {
      setState({ s: "failed", p, error: e as Error });
    }
  };
  // After a 409: the live revision, and the server's dry run of the same change on it.
  const reload = async (p: Proposal) => {
    setState({ s: "working" });
    setReloadError(null);
    try {
      const live = await api.manifest();
      setState({ s: "review", p: await proposeAction(p.action, live.revision) });
      onReloaded?.();
    } catch (e) {
      setReloadError(e as Error);
      setState({ s: "review", p });
    }
  };

  if (state.s === "working") return <Loading what="the live revision and the server's dry run" />;
  const p = state.p;
  const dry = p.dry;
  const stored = dry?.revisions.map((r) => r.revision) ?? [];
  return (
    <div class="change card" role="region" aria-label="Review the change">
      <h2>Review: {proposalTitle(p)}</h2>
      <p class="muted">
        Based on revision {p.base}.{" "}
        {dry
          ? `Checked by the server (a dry run): nothing is stored until you confirm${stored.length ? `; it would be stored as revision ${stored.join(" and ")}` : ""}.`
          : "The server refused it in a dry run: nothing was stored."}
      </p>
      {dry && p.action.op === "rollback" && p.action.to_revision === null && dry.revisions[0] && (
        <p class="help">The server found the revision to restore: the last one in which the label served a single version.</p>
      )}
      {reloadError && <ErrorBox error={reloadError} title="The live revision could not be loaded" />}
      {dry && <DryRunView dry={dry} base={p.base} />}
      {dry?.needs_approval && state.s !== "done" && !refusal && (
        <p class="notice" role="note">
          This change will need approval: the label's policy asks another person with an rw+approve token to approve it. Sending it stores a pending change;
          the route changes once it is approved.
        </p>
      )}
      {state.s === "done" ? (
        isPending(state.result) ? (
          <SentForApproval change={state.result.pending} />
        ) : (
          <div class="success" role="status">
            <p>
              Done: revision {state.result.revision}. {state.result.summaries.join("; ")}
              {state.result.kv_written === false && " (the edge's KV is being updated: it serves the change within seconds)"}
            </p>
            <p>
              <a href={links.history(state.result.revision)}>See it in the history</a>
            </p>
          </div>
        )
      ) : refusal ? (
        <Refusal
          error={refusal}
          p={p}
          onReload={() => reload(p)}
          onCancel={onCancel}
          onRetry={state.s === "failed" && dry ? () => send(p) : null}
        />
      ) : (
        <div class="buttons">
          <button type="button" class="primary" disabled={state.s === "sending"} onClick={() => send(p)}>
            {state.s === "sending" ? "Sending…" : dry?.needs_approval ? "Send for approval" : "Confirm and send"}
          </button>
          <button type="button" onClick={onCancel} disabled={state.s === "sending"}>
            Cancel
          </button>
        </div>
      )}
    </div>
  );
}

/** A 202 answer: the change waits for an approval, with a link to it. */
export function SentForApproval({ change }: { change: { id: number; summary?: string } }) {
  return (
    <div class="notice" role="status">
      <p>
        Sent for approval as <a href={links.changes(change.id)}>change #{change.id}</a>
        {change.summary ? `: ${changeSummary(change.summary)}` : ""}. Nothing changes until a person with an rw+approve token approves it.
      </p>
    </div>
  );
}

/** What the server's dry run says the change does (based on revision `base`). */
export function DryRunView({ dry, base }: { dry: DryRunResult; base: number }) {
  const route = dry.route;
  const changes = dry.revisions.flatMap((r) => r.changes);
  return (
    <>
      {route ? (
        <>
          <div class="before-after">
            <div>
              <h3>Before</h3>
              <RouteSummary route={route.before} />
            </div>
            <div>
              <h3>After</h3>
              <RouteSummary route={route.after} />
            </div>
          </div>
          <h3>The route, line by line</h3>
          {prettyJson(route.before as never) === prettyJson(route.after as never) ? (
            <p class="muted">The route would not change (a new revision is still recorded).</p>
          ) : (
            <DiffView before={prettyJson(route.before as never)} after={prettyJson(route.after as never)} labels={[`revision ${base}`, "after the change"]} />
          )}
        </>
      ) : (
        <p class="muted">The server's answer names no route for this label.</p>
      )}
      {!dry.changed && <p class="muted">The server says nothing would change.</p>}
      {changes.length > 0 && (
        <details class="dry-changes">
          <summary>
            Every change to the manifest, path by path ({changes.length} path{changes.length === 1 ? "" : "s"})
          </summary>
          <ChangeList changes={changes} />
        </details>
      )}
    </>
  );
}

/** The server's refusal of a change (or of its dry run), with what one can do about it. */
export function Refusal({
  error,
  p,
  onReload,
  onCancel,
  onRetry,
}: {
  error: Error;
  p: Proposal;
  onReload: () => void;
  onCancel: () => void;
  onRetry: (() => void) | null;
}) {
  const session = useSession();
  const api = error instanceof ApiError ? error : null;
  const cancel = (
    <button type="button" onClick={onCancel}>
      Cancel
    </button>
  );
  if (api?.status === 409 && api.code === "conflict")
    return (
      <div class="error" role="alert">
        <p class="error-title">Someone changed the manifest meanwhile (409 conflict)</p>
        <p class="error-message">{api.message}</p>
        <p>Reload to see the live route and have the server check this change against it, then confirm again.</p>
        <div class="buttons">
          <button type="button" class="primary" onClick={onReload}>
            Reload and review again
          </button>
          {cancel}
        </div>
      </div>
    );
  if (api?.status === 409 && api.code === "rollout_running")
    return (
      <div class="error" role="alert">
        <p class="error-title">A guarded rollout steers this label (409 rollout_running)</p>
        <p class="error-message">{api.message}</p>
        <p>
          <a href={links.rollout(p.action.prompt, p.action.label)}>
            Open the rollout of {p.action.prompt}/{p.action.label}
          </a>{" "}
          to pause or abort it; a rollback always goes through, and ends it.
        </p>
        <div class="buttons">{cancel}</div>
      </div>
    );
  const title =
    api?.status === 403
      ? "This token is read-only"
      : api?.status === 422
        ? "The server refused the change: it would be invalid"
        : ((api ? gateRefusalTitle(api.status, api.code) : null) ?? "The server refused the change");
  return (
    <>
      <ErrorBox error={error} title={title} />
      {api?.status === 403 && (
        <p>
          <button type="button" onClick={() => session.signOut(`The token of ${session.name ?? "this session"} is read-only: sign in with a read-write token to change routes.`)}>
            Sign in with another token
          </button>
        </p>
      )}
      <div class="buttons">
        {onRetry && api?.status !== 403 && (
          <button type="button" class="primary" onClick={onRetry}>
            Send again
          </button>
        )}
        {cancel}
      </div>
    </>
  );
}

/** A route in words: the rules in order and the default. */
export function RouteSummary({ route }: { route: Route }) {
  return (
    <div class="route-summary">
      <RulesView route={route} />
      <p>
        default: <TargetView target={route.default} />
      </p>
    </div>
  );
}
