// The changes page: changes to protected labels waiting for an approval (what each would
// do: the server's dry run of its request against the live revision, or the request),
// with Approve and Reject for a person with an rw+approve token other than the
// requester and Withdraw for the requester; then the recently decided ones.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { useAsync, useTitle } from "../hooks";
import { links } from "../router";
import { usePending, useSession } from "../session";
import type { ChangeRequest, Policy } from "../types";
import { Badge, Empty, ErrorBox, Loading, Time } from "../components/ui";
import { DryRunView } from "../components/change";
import { prettyJson } from "../diff";
import { ago, changeControls, changeSummary, describeFreeze, expiresIn, gateRefusalTitle, previewable, requirements, stateBadge } from "../gates";

/** How many decided changes are listed. */
const DECIDED = 50;

/** The changes page; `focus` names one change (shown first, marked). */
export function ChangesPage({ focus }: { focus: number | null }) {
  useTitle(focus === null ? "Changes" : `Change #${focus}`);
  const session = useSession();
  const pending = usePending();
  const [data, reload] = useAsync(async () => {
    const [list, manifest] = await Promise.all([api.changes(), api.manifest()]);
    let changes = list.changes;
    // A change older than the list: asked for on its own.
    if (focus !== null && !changes.some((c) => c.id === focus)) {
      const one = await api.changeRequest(focus).catch(() => null);
      if (one) changes = [one, ...changes];
    }
    return { changes, revision: manifest.revision };
  }, [focus]);
  const [flash, setFlash] = useState<string | null>(null);
  const changed = (message: string) => {
    setFlash(message);
    reload();
    pending.refresh();
  };
  useEffect(() => {
    if (focus !== null && data.state === "done") document.getElementById(`change-${focus}`)?.scrollIntoView({ block: "start" });
  }, [focus, data.state]);

  if (data.state === "error" && !data.value)
    return (
      <section>
        <h1>Changes</h1>
        <ErrorBox error={data.error} title="The changes could not be loaded">
          {data.error instanceof ApiError && data.error.status === 404 && <p>This control plane may not have promotion gates yet.</p>}
        </ErrorBox>
      </section>
    );
  if (!data.value) return <Loading what="the changes" />;
  const { changes, revision } = data.value;
  const open = changes.filter((c) => c.state === "pending");
  const decided = changes.filter((c) => c.state !== "pending").slice(0, DECIDED);
  return (
    <section>
      <div class="page-head">
        <h1>Changes</h1>
        <p class="muted">
          A change to a protected label whose policy requires an approval waits here until a person with an rw+approve token, other than the one who asked,
          approves it. {roleHint(session)} Live revision {revision} ·{" "}
          <button type="button" class="link" onClick={reload} disabled={data.state === "loading"}>
            {data.state === "loading" ? "Reloading…" : "Reload"}
          </button>
        </p>
      </div>
      {flash && (
        <div class="success" role="status">
          <p>{flash}</p>
        </div>
      )}
      {data.state === "error" && <ErrorBox error={data.error} title="The changes could not be loaded again" />}
      <h2>Waiting for an approval ({open.length})</h2>
      {open.length === 0 ? (
        <Empty>No change is waiting for an approval.</Empty>
      ) : (
        open.map((c) => <PendingCard key={`${c.id}/${revision}`} change={c} revision={revision} focused={c.id === focus} onChanged={changed} onStale={reload} />)
      )}
      <h2>Recently decided</h2>
      {decided.length === 0 ? <Empty>No change has been decided yet.</Empty> : <DecidedTable changes={decided} focus={focus} />}
    </section>
  );
}

function roleHint(s: { name: string | null; canWrite: boolean; canApprove: boolean }): string {
  if (s.canApprove) return `As ${s.name ?? "this token"} (rw+approve) you can approve or reject other people's changes, and withdraw your own.`;
  if (s.canWrite) return `As ${s.name ?? "this token"} (rw) you can withdraw your own changes; approving needs an rw+approve token.`;
  return "This token is read-only: it sees the changes.";
}

/** A pending change: who asked and when, what it would do, and the controls this token has. */
function PendingCard({
  change: c,
  revision,
  focused,
  onChanged,
  onStale,
}: {
  change: ChangeRequest;
  revision: number;
  focused: boolean;
  onChanged: (message: string) => void;
  onStale: () => void;
}) {
  const session = useSession();
  const controls = changeControls(c, session);
  const now = Date.now();
  const state = stateBadge(c.state);
  const headingId = `change-${c.id}-h`;
  return (
    <article id={`change-${c.id}`} class={`card change-request${focused ? " focused" : ""}`} aria-labelledby={headingId} data-testid={`change-${c.id}`}>
      <h3 id={headingId}>
        #{c.id} {changeSummary(c.summary)} <Badge tone={state.tone}>{state.text}</Badge>
      </h3>
      <p class="change-meta">
        <a href={links.traffic(c.prompt, c.label)}>
          {c.prompt}/{c.label}
        </a>{" "}
        · {c.op} · requested by <strong>{c.requested_by}</strong> <Time at={c.requested_at_ms} /> ({ago(c.requested_at_ms, now)}) · expires{" "}
        <Time at={c.expires_at_ms} /> ({expiresIn(c.expires_at_ms, now)}) · asked at revision {c.base_revision}
      </p>
      <h4>What it would do</h4>
      {previewable(c) ? <DryRunOfRequest change={c} revision={revision} /> : <RequestView change={c} />}
      <Decide change={c} controls={controls} onChanged={onChanged} onStale={onStale} />
    </article>
  );
}

/** The server's dry run of a change's request against the live revision. */
function DryRunOfRequest({ change: c, revision }: { change: ChangeRequest; revision: number }) {
  const [dry] = useAsync(() => api.dryRunRequest(c.op, c.request ?? {}, revision), [c.id, revision]);
  if (dry.state === "loading") return <Loading what="the server's dry run of this change" />;
  if (dry.state === "error") {
    const e = dry.error;
    const gate = e instanceof ApiError ? gateRefusalTitle(e.status, e.code) : null;
    return <ErrorBox error={e} title={`Applied now, it would be refused${gate ? `: ${gate.charAt(0).toLowerCase()}${gate.slice(1)}` : ""}`} />;
  }
  return (
    <>
      <p class="muted">The server's dry run of the request against the live revision {revision} (nothing is stored):</p>
      <DryRunView dry={dry.value} base={revision} />
    </>
  );
}

/** A request that is not a route operation: its body (and a policy in words). */
function RequestView({ change: c }: { change: ChangeRequest }) {
  const policy = c.op === "policy" && c.request ? (c.request.policy as Policy | null | undefined) : undefined;
  return (
    <>
      {policy === null && <p>Removes the label's policy: its changes would need nothing.</p>}
      {policy && (
        <>
          <p>Sets the label's policy: a change would need</p>
          <ul>
            {requirements(policy).map((r) => (
              <li key={r}>{r}</li>
            ))}
            {(policy.freeze ?? []).map((w, i) => (
              <li key={`f${i}`}>frozen {describeFreeze(w)}</li>
            ))}
          </ul>
        </>
      )}
      <details open={policy === undefined}>
        <summary>The request</summary>
                {c.request === null ? (
          <p class="muted">
            The request is {c.request_bytes ?? "?"} bytes, too large to list here (<code>GET /admin/v1/changes/{c.id}</code> has it whole).
          </p>
        ) : (
          <pre class="code">{prettyJson(c.request)}</pre>
        )}
      </details>
    </>
  );
}

/** Approve, Reject (with a reason) or Withdraw, as this token may; every refusal with the server's code and message. */
function Decide({
  change: c,
  controls,
  onChanged,
  onStale,
}: {
  change: ChangeRequest;
  controls: { approve: boolean; reject: boolean; withdraw: boolean };
  onChanged: (message: string) => void;
  onStale: () => void;
}) {
  const session = useSession();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState<"approve" | "reject" | null>(null);
  const [refused, setRefused] = useState<Error | null>(null);
  if (!controls.approve && !controls.reject && !controls.withdraw)
    return (
      <p class="muted">
        {session.canApprove
          ? "You asked for this change: another person with an rw+approve token approves it."
          : session.canWrite
            ? "Waiting for an approval by a person with an rw+approve token."
            : "This token is read-only."}
      </p>
    );

  const approve = async () => {
    setBusy("approve");
    setRefused(null);
    try {
      const r = await api.approve(c.id);
      onChanged(`Change #${c.id} approved and applied: revision ${r.result.revision}. ${r.result.summaries.join("; ")}`);
    } catch (e) {
      setRefused(e as Error);
    } finally {
      setBusy(null);
    }
  };
  const reject = async (e: Event) => {
    e.preventDefault();
    setBusy("reject");
    setRefused(null);
    try {
      await api.reject(c.id, reason);
      onChanged(`Change #${c.id} ${controls.withdraw ? "withdrawn" : "rejected"}${reason.trim() ? `: ${reason.trim()}` : ""}.`);
    } catch (err) {
      setRefused(err as Error);
    } finally {
      setBusy(null);
    }
  };
  const api_ = refused instanceof ApiError ? refused : null;
  const verb = controls.withdraw ? "Withdraw" : "Reject";
  return (
    <form class="decide" onSubmit={reject} aria-label={`Decide change #${c.id}`}>
      <div class="field">
        <label for={`reason-${c.id}`}>Reason (optional)</label>
        <input id={`reason-${c.id}`} value={reason} onInput={(e) => setReason(e.currentTarget.value)} maxLength={500} />
      </div>
      <div class="buttons">
        {controls.approve && (
          <button type="button" class="primary" disabled={busy !== null} onClick={approve}>
            {busy === "approve" ? "Approving…" : "Approve"}
          </button>
        )}
        <button type="submit" class={controls.approve ? "danger" : undefined} disabled={busy !== null}>
          {busy === "reject" ? `${verb === "Withdraw" ? "Withdrawing" : "Rejecting"}…` : verb}
        </button>
      </div>
      {refused && (
        <ErrorBox
          error={refused}
          title={(api_ ? gateRefusalTitle(api_.status, api_.code) : null) ?? (api_?.status === 403 ? "This token may not do this" : "The server refused")}
        >
          {api_ && ["label_moved", "change_decided", "change_expired"].includes(api_.code) && (
            <p>
              <button type="button" onClick={onStale}>
                Reload the changes
              </button>
            </p>
          )}
        </ErrorBox>
      )}
    </form>
  );
}

/** The decided changes: state, who decided and when, the reason, the revision applied. */
function DecidedTable({ changes, focus }: { changes: ChangeRequest[]; focus: number | null }) {
  return (
    <div class="table-scroll">
      <table class="decided" data-testid="decided">
        <thead>
          <tr>
            <th scope="col" class="num">
              #
            </th>
            <th scope="col">Change</th>
            <th scope="col">Label</th>
            <th scope="col">State</th>
            <th scope="col">Requested by</th>
            <th scope="col">Decided by</th>
            <th scope="col">When</th>
            <th scope="col">Reason</th>
            <th scope="col">Revision</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((c) => {
            const state = stateBadge(c.state);
            return (
              <tr key={c.id} id={`change-${c.id}`} class={c.id === focus ? "focused" : undefined}>
                <th scope="row" class="num">
                  {c.id}
                </th>
                <td>{changeSummary(c.summary)}</td>
                <td>
                  <a href={links.traffic(c.prompt, c.label)}>
                    {c.prompt}/{c.label}
                  </a>
                </td>
                <td>
                  <Badge tone={state.tone}>{state.text}</Badge>
                </td>
                <td>{c.requested_by}</td>
                <td>{c.decided_by ?? "—"}</td>
                <td>
                  <Time at={c.decided_at_ms ?? c.expires_at_ms} />
                </td>
                <td class="change-reason">{c.reason ?? "—"}</td>
                <td>{c.revision !== null ? <a href={links.history(c.revision)}>revision {c.revision}</a> : "—"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
