// A route change, reviewed before it is sent: the route before and after (in words and
// as a line diff), a confirmation, and the server's answer: accepted, 409 (the manifest
// changed meanwhile: reload and review again), 422 (every path and reason), 403.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { useSession } from "../session";
import type { Manifest, Route, RouteAction, WriteResult } from "../types";
import { DiffView } from "./diffview";
import { ErrorBox, Loading } from "./ui";
import { RulesView, TargetView } from "./route";
import { prettyJson } from "../diff";
import { links } from "../router";

/** A change worked out against one revision of the manifest. */
export interface Proposal {
  /** What the console will send. */
  action: RouteAction;
  /** The revision the change is based on (`base_revision`). */
  base: number;
  /** The route now. */
  before: Route;
  /** The route after the change, or null when it could not be worked out here. */
  after: Route | null;
  /** Why the server will likely refuse it (it can still be sent, to hear the server). */
  problem: string | null;
  /** The change in one line. */
  summary: string;
}

/** Works out a proposal from a freshly loaded manifest. */
export type Propose = (manifest: Manifest) => Promise<Proposal>;

type State =
  | { s: "working" }
  | { s: "review"; p: Proposal }
  | { s: "sending"; p: Proposal }
  | { s: "done"; p: Proposal; result: WriteResult }
  | { s: "failed"; p: Proposal; error: Error };

/** Reviews and sends one change; `initial` is the proposal worked out from the page's manifest. */
export function ChangeReview({ initial, propose, onCancel, onDone }: { initial: Proposal; propose: Propose; onCancel: () => void; onDone: (r: WriteResult) => void }) {
  const session = useSession();
  const [state, setState] = useState<State>({ s: "review", p: initial });
  const [reloadError, setReloadError] = useState<Error | null>(null);
  useEffect(() => setState({ s: "review", p: initial }), [initial]);

  const send = async (p: Proposal) => {
    setState({ s: "sending", p });
    try {
      const result = await api.change(p.action, p.base);
      setState({ s: "done", p, result });
      onDone(result);
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) session.markReadOnly();
      setState({ s: "failed", p, error: e as Error });
    }
  };
  // After a 409: the live manifest again, and the same change worked out against it.
  const reload = async () => {
    setState({ s: "working" });
    setReloadError(null);
    try {
      setState({ s: "review", p: await propose(await api.manifest()) });
    } catch (e) {
      setReloadError(e as Error);
      setState({ s: "review", p: initial });
    }
  };

  if (state.s === "working") return <Loading what="the live manifest" />;
  const p = state.p;
  const err = state.s === "failed" ? state.error : null;
  const api409 = err instanceof ApiError && err.status === 409 && err.code === "conflict";
  return (
    <div class="change card" role="region" aria-label="Review the change">
      <h2>Review: {p.summary}</h2>
      <p class="muted">Based on revision {p.base}.</p>
      {reloadError && <ErrorBox error={reloadError} title="The manifest could not be reloaded" />}
      {p.after ? (
        <>
          <div class="before-after">
            <div>
              <h3>Before</h3>
              <RouteSummary route={p.before} />
            </div>
            <div>
              <h3>After</h3>
              <RouteSummary route={p.after} />
            </div>
          </div>
          <h3>The route, line by line</h3>
          {prettyJson(p.before as never) === prettyJson(p.after as never) ? (
            <p class="muted">The route would not change (a new revision is still recorded).</p>
          ) : (
            <DiffView before={prettyJson(p.before as never)} after={prettyJson(p.after as never)} labels={[`revision ${p.base}`, "after the change"]} />
          )}
        </>
      ) : (
        <p>The route after this change could not be worked out here.</p>
      )}
      {p.problem && (
        <p class="warning" role="alert">
          The server will likely refuse this: {p.problem}
        </p>
      )}
      {state.s === "done" ? (
        <div class="success" role="status">
          <p>
            Done: revision {state.result.revision}. {state.result.summaries.join("; ")}
            {state.result.kv_written === false && " (the edge's KV is being updated: it serves the change within seconds)"}
          </p>
          <p>
            <a href={links.history(state.result.revision)}>See it in the history</a>
          </p>
        </div>
      ) : api409 ? (
        <div class="error" role="alert">
          <p class="error-title">Someone changed the manifest meanwhile (409 conflict)</p>
          <p class="error-message">{err.message}</p>
          <p>Reload to see the live route and this change worked out against it, then confirm again.</p>
          <div class="buttons">
            <button type="button" class="primary" onClick={reload}>
              Reload and review again
            </button>
            <button type="button" onClick={onCancel}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <>
          {err && (
            <ErrorBox
              error={err}
              title={
                err instanceof ApiError && err.status === 422
                  ? "The server refused the change: it would be invalid"
                  : err instanceof ApiError && err.status === 403
                    ? "This token is read-only"
                    : "The server refused the change"
              }
            />
          )}
          {err instanceof ApiError && err.status === 403 && (
            <p>
              <button type="button" onClick={() => session.signOut(`The token of ${session.name ?? "this session"} is read-only: sign in with a read-write token to change routes.`)}>
                Sign in with another token
              </button>
            </p>
          )}
          <div class="buttons">
            <button type="button" class="primary" disabled={state.s === "sending" || (err instanceof ApiError && err.status === 403)} onClick={() => send(p)}>
              {state.s === "sending" ? "Sending…" : p.problem ? "Send anyway" : err ? "Send again" : "Confirm and send"}
            </button>
            <button type="button" onClick={onCancel} disabled={state.s === "sending"}>
              Cancel
            </button>
          </div>
        </>
      )}
    </div>
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
