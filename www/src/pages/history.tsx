// The history: every revision with who, when, the action and its summary, a page at a
// time; each one's changes against the previous revision; and, for a label, restoring
// its route as it was in that revision (a rollback with `to_revision`).
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { useAsync, useTitle } from "../hooks";
import { links } from "../router";
import { useSession } from "../session";
import { isPending, type Change, type Manifest, type RevisionEntry, type WriteAnswer } from "../types";
import { Empty, ErrorBox, Loading, Time } from "../components/ui";
import { ChangeReview, SentForApproval } from "../components/change";
import { ChangeList } from "../components/changes";
import { proposeAction, type Proposal } from "../proposals";

const PAGE = 50;

/** The history page; `revision` opens that revision's changes. */
export function History({ revision }: { revision: number | null }) {
  useTitle("History");
  const [pages, setPages] = useState<{ revisions: RevisionEntry[]; next: number | null; loading: boolean; error: Error | null }>({
    revisions: [],
    next: null,
    loading: true,
    error: null,
  });
  const [open, setOpen] = useState<Set<number>>(new Set(revision ? [revision] : []));
  const [done, setDone] = useState<WriteAnswer | null>(null);
  const [generation, setGeneration] = useState(0);

  const load = async (before: number | null, append: boolean) => {
    setPages((p) => ({ ...p, loading: true, error: null }));
    try {
      const page = await api.history(PAGE, before);
      setPages((p) => ({ revisions: append ? [...p.revisions, ...page.revisions] : page.revisions, next: page.next_before, loading: false, error: null }));
    } catch (e) {
      setPages((p) => ({ ...p, loading: false, error: e as Error }));
    }
  };
  useEffect(() => {
    setOpen(new Set(revision ? [revision] : []));
    // A revision named in the address starts the list there.
    load(revision ? revision + 1 : null, false);
  }, [revision, generation]);

  const toggle = (n: number) => setOpen((o) => (o.has(n) ? new Set([...o].filter((x) => x !== n)) : new Set([...o, n])));

  return (
    <section>
      <div class="page-head">
        <h1>History</h1>
        <p class="muted">
          Every revision of the manifest, newest first.
          {revision && (
            <>
              {" "}
              Starting at revision {revision}: <a href={links.history()}>show the newest</a>.
            </>
          )}
        </p>
      </div>
      {done && isPending(done) && <SentForApproval change={done.pending} />}
      {done && !isPending(done) && (
        <div class="success" role="status">
          <p>
            Revision {done.revision}: {done.summaries.join("; ")}.{" "}
            <a href={links.history()} onClick={() => setGeneration((g) => g + 1)}>
              Show the newest revisions
            </a>
          </p>
        </div>
      )}
      {pages.error && <ErrorBox error={pages.error} title="The history could not be loaded" />}
      {pages.revisions.length === 0 && pages.loading && <Loading what="the history" />}
      {pages.revisions.length === 0 && !pages.loading && !pages.error && <Empty>No revision yet: the control plane has not stored a manifest.</Empty>}
      {pages.revisions.length > 0 && (
        <div class="table-scroll">
          <table class="history">
            <thead>
              <tr>
                <th scope="col" class="num">
                  Revision
                </th>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Summary</th>
                <th scope="col">Changes</th>
              </tr>
            </thead>
            <tbody>
              {pages.revisions.map((r) => (
                <RevisionRows key={r.revision} entry={r} open={open.has(r.revision)} onToggle={() => toggle(r.revision)} onDone={setDone} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pages.next !== null && (
        <p>
          <button type="button" onClick={() => load(pages.next, true)} disabled={pages.loading}>
            {pages.loading ? "Loading…" : `Load older revisions (before ${pages.next})`}
          </button>
        </p>
      )}
    </section>
  );
}

function RevisionRows({ entry, open, onToggle, onDone }: { entry: RevisionEntry; open: boolean; onToggle: () => void; onDone: (r: WriteAnswer) => void }) {
  const id = `rev-${entry.revision}`;
  return (
    <>
      <tr id={id}>
        <th scope="row" class="num">
          {entry.revision}
        </th>
        <td>
          <Time at={entry.at_ms} />
        </td>
        <td>{entry.actor}</td>
        <td>
          <span class={`badge badge-action action-${entry.action}`}>{entry.action}</span>
        </td>
        <td class="summary">{entry.summary}</td>
        <td>
          <button type="button" aria-expanded={open} aria-controls={`${id}-diff`} onClick={onToggle}>
            {open ? "Hide" : "Show"} changes
          </button>
        </td>
      </tr>
      {open && (
        <tr id={`${id}-diff`} class="expanded">
          <td colSpan={6}>
            <RevisionDetail revision={entry.revision} onDone={onDone} />
          </td>
        </tr>
      )}
    </>
  );
}

/** The labels of the live manifest whose route a change touched. */
function touchedLabels(changes: Change[], live: Manifest): [string, string][] {
  const out: [string, string][] = [];
  for (const [p, prompt] of Object.entries(live.prompts)) {
    for (const l of Object.keys(prompt.labels ?? {})) {
      const at = `prompts.${p}.labels.${l}`;
      const hit = changes.some(
        (c) => c.path === at || c.path.startsWith(at + ".") || c.path === `prompts.${p}` || c.path === `prompts.${p}.labels`,
      );
      if (hit) out.push([p, l]);
    }
  }
  return out;
}

function RevisionDetail({ revision, onDone }: { revision: number; onDone: (r: WriteAnswer) => void }) {
  const session = useSession();
  const [data] = useAsync(async () => {
    const [diff, live] = await Promise.all([api.diff(revision - 1, revision), api.manifest()]);
    return { diff, live };
  }, [revision]);
  const [restore, setRestore] = useState<string>("");
  const [proposal, setProposal] = useState<Proposal | null>(null);
  const [preparing, setPreparing] = useState<Error | "busy" | null>(null);
  if (data.state === "error") return <ErrorBox error={data.error} title={`The changes of revision ${revision} could not be loaded`} />;
  if (!data.value) return <Loading what={`the changes of revision ${revision}`} />;
  const { diff, live } = data.value;
  const touched = touchedLabels(diff.changes, live);
  const allLabels = Object.entries(live.prompts).flatMap(([p, x]) => Object.keys(x.labels ?? {}).map((l) => [p, l] as [string, string]));
  const key = (p: string, l: string) => JSON.stringify([p, l]);
  const chosen = restore || (touched[0] ? key(touched[0][0], touched[0][1]) : allLabels[0] ? key(allLabels[0][0], allLabels[0][1]) : "");

  const review = async () => {
    const [p, l] = JSON.parse(chosen) as [string, string];
    setPreparing("busy");
    try {
      // The server's dry run of restoring this revision's route, on the live revision.
      const live = await api.manifest();
      setProposal(await proposeAction({ op: "rollback", prompt: p, label: l, to_revision: revision }, live.revision));
      setPreparing(null);
    } catch (e) {
      setPreparing(e as Error);
    }
  };

  return (
    <div class="revision-detail">
      <h3>
        Changes from revision {diff.from} to {diff.to}
      </h3>
      {diff.changes.length === 0 ? <Empty>No change to the manifest (besides its revision number).</Empty> : <ChangeList changes={diff.changes} />}
      {session.canWrite && allLabels.length > 0 && revision < live.revision && (
        <div class="restore">
          {proposal ? (
            <ChangeReview
              initial={proposal}
              onCancel={() => setProposal(null)}
              onDone={(r) => {
                setProposal(null);
                onDone(r);
              }}
            />
          ) : (
            <form
              class="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                review();
              }}
            >
              <label for={`restore-${revision}`}>Restore the route of</label>
              <select id={`restore-${revision}`} value={chosen} onChange={(e) => setRestore(e.currentTarget.value)}>
                {allLabels.map(([p, l]) => (
                  <option key={`${p}/${l}`} value={key(p, l)}>
                    {p}/{l}
                    {touched.some(([a, b]) => a === p && b === l) ? " (changed here)" : ""}
                  </option>
                ))}
              </select>
              <span> as it was in revision {revision}</span>
              <button type="submit" disabled={preparing === "busy"}>
                {preparing === "busy" ? "Asking the server…" : "Review restoring this route"}
              </button>
            </form>
          )}
          {preparing instanceof Error && <ErrorBox error={preparing} title="The server could not be asked about the rollback" />}
        </div>
      )}
    </div>
  );
}
