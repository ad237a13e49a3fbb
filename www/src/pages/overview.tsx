// The overview: every prompt and label with what it serves, since when, its exposed
// units in the current period and a status badge (a running or paused rollout, a
// sample-ratio mismatch, no traffic), and whether it is protected by a policy or has
// changes waiting for an approval. The table comes from the manifest first; the labels'
// history, the recent rollouts and the policies (one request each; the pending changes
// are the shell's) and then each label's metrics, four at a time, fill in, so the first
// view does not wait for them.
import { Component } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api } from "../api";
import { sinceTime } from "../types";
import { useAsync, useTitle } from "../hooks";
import { links, replaceRoute } from "../router";
import { usePending } from "../session";
import type { ChangeRequest, LabelPolicy, LabelSince, LabelsResponse, Manifest, MetricsReport, Route, RolloutSummary } from "../types";
import { GateMarkers } from "../components/gates";
import { gateKey, pendingByLabel } from "../gates";
import { Badge, Empty, ErrorBox, Loading, Time } from "../components/ui";
import { RulesView, TargetView } from "../components/route";
import { formatInt } from "../format";
import { labelKey, latestByLabel, rolloutBadge, stageText } from "../rollouts";

/** How many metrics requests run at once. */
const CONCURRENCY = 4;

type Status = { report: MetricsReport | null; error: Error | null };
/** The last answer per label, shown while the overview fetches it again. */
const cache = new Map<string, Status>();

interface RowData {
  key: string;
  prompt: string;
  label: string;
  route: Route;
  description: string;
  /** Undefined while the labels' history loads; null when it has no entry. */
  since: LabelSince | null | undefined;
  /** The label's latest rollout (undefined: none, or not known yet). */
  rollout: RolloutSummary | undefined;
  /** The label's policy (undefined: none, or not known yet). */
  policy: LabelPolicy | undefined;
  /** How many of its changes wait for an approval. */
  pending: number;
}

function rowsOf(
  m: Manifest,
  labels: LabelsResponse | null | undefined,
  rollouts: Map<string, RolloutSummary> | null,
  policies: Map<string, LabelPolicy> | null,
  pending: Map<string, ChangeRequest[]>,
): RowData[] {
  const since = new Map((labels?.labels ?? []).map((l) => [`${l.prompt}\u0000${l.label}`, l]));
  const rows: RowData[] = [];
  for (const name of Object.keys(m.prompts).sort()) {
    const p = m.prompts[name]!;
    for (const label of Object.keys(p.labels ?? {}).sort()) {
      const key = labelKey(name, label);
      rows.push({
        key,
        prompt: name,
        label,
        route: p.labels![label]!,
        description: p.description ?? "",
        since: labels === undefined ? undefined : (since.get(key) ?? null),
        rollout: rollouts?.get(key),
        policy: policies?.get(gateKey(name, label)),
        pending: pending.get(gateKey(name, label))?.length ?? 0,
      });
    }
  }
  return rows;
}

/**
 * Loads each wanted label's metrics once per visit, `CONCURRENCY` at a time, in the
 * order given; the answers of an earlier visit show meanwhile.
 */
function useProgressiveMetrics(wanted: RowData[], revision: number | null): Map<string, Status> {
  const [, bump] = useState(0);
  const queue = useRef<RowData[]>([]);
  const asked = useRef(new Set<string>());
  const running = useRef(0);
  const alive = useRef(true);
  const scheduled = useRef(false);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);
  useEffect(() => {
    if (revision === null) return;
    // The queue follows what is shown: rows filtered away wait until they are shown.
    queue.current = wanted.filter((r) => !asked.current.has(r.key));
    const redraw = () => {
      // One render per frame, however many answers arrived in it.
      if (scheduled.current) return;
      scheduled.current = true;
      requestAnimationFrame(() => {
        scheduled.current = false;
        if (alive.current) bump((n) => n + 1);
      });
    };
    const pump = () => {
      while (alive.current && running.current < CONCURRENCY && queue.current.length > 0) {
        const r = queue.current.shift()!;
        if (asked.current.has(r.key)) continue;
        asked.current.add(r.key);
        running.current++;
        api.metrics(r.prompt, r.label).then(
          (report) => cache.set(r.key, { report, error: null }),
          (error: Error) => cache.set(r.key, { report: null, error }),
        ).finally(() => {
          running.current--;
          redraw();
          pump();
        });
      }
    };
    pump();
  }, [wanted, revision]);
  return cache;
}

type OverviewData = {
  manifest: Manifest;
  labels: Promise<LabelsResponse | null>;
  rollouts: Promise<Map<string, RolloutSummary> | null>;
  policies: Promise<Map<string, LabelPolicy> | null>;
};

/** The manifest, and the labels' history, the rollouts and the policies as promises of their own: the table does not wait for them. */
function loadOverview(): Promise<OverviewData> {
  // The labels' "since" is optional: an API without it shows "—".
  const labels = api.labels().catch(() => null);
  // So are the rollouts' badges...
  const rollouts = api.rollouts().then((r) => latestByLabel(r.rollouts), () => null);
  // ...and the policies' markers (an API without policies: none).
  const policies = api.policies().then((r) => new Map(r.policies.map((p) => [gateKey(p.prompt, p.label), p])), () => null);
  return api.manifest().then((manifest) => ({ manifest, labels, rollouts, policies }));
}

let prefetched: { at: number; data: Promise<OverviewData> } | null = null;

/**
 * Starts loading what the overview's first view needs while the session is still being
 * checked (the token is there: most likely it is good), so that the round trips overlap
 * instead of following each other. A failure is the overview's to show.
 */
export function prefetchOverview(): void {
  const data = loadOverview();
  data.catch(() => {});
  prefetched = { at: Date.now(), data };
}

function takePrefetched(): Promise<OverviewData> | null {
  const p = prefetched;
  prefetched = null;
  return p && Date.now() - p.at < 10_000 ? p.data : null;
}

function matches(r: RowData, q: string): boolean {
  if (!q) return true;
  const s = q.toLowerCase();
  return r.prompt.toLowerCase().includes(s) || r.label.toLowerCase().includes(s) || r.description.toLowerCase().includes(s);
}

/** The overview page. */
export function Overview({ filter }: { filter: string }) {
  useTitle("Overview");
  const [q, setQ] = useState(filter);
  const [data] = useAsync(() => takePrefetched() ?? loadOverview(), []);
  const [labels, setLabels] = useState<LabelsResponse | null | undefined>(undefined);
  const [rollouts, setRollouts] = useState<Map<string, RolloutSummary> | null>(null);
  const [policies, setPolicies] = useState<Map<string, LabelPolicy> | null>(null);
  const pendingChanges = usePending().changes;
  const pending = useMemo(() => pendingByLabel(pendingChanges), [pendingChanges]);
  useEffect(() => {
    let live = true;
    data.value?.labels.then((l) => live && setLabels(l));
    data.value?.rollouts.then((r) => live && setRollouts(r));
    data.value?.policies.then((p) => live && setPolicies(p));
    return () => {
      live = false;
    };
  }, [data.value]);
  const rows = useMemo(
    () => (data.value ? rowsOf(data.value.manifest, labels, rollouts, policies, pending) : []),
    [data.value, labels, rollouts, policies, pending],
  );
  const shown = useMemo(() => rows.filter((r) => matches(r, q.trim())), [rows, q]);
  const metrics = useProgressiveMetrics(shown, data.value?.manifest.revision ?? null);

  if (data.state === "error" && !data.value) return <ErrorBox error={data.error} title="The manifest could not be loaded" />;
  if (!data.value) return <Loading what="the manifest" />;
  const { manifest } = data.value;
  const prompts = Object.keys(manifest.prompts).length;

  return (
    <section>
      <div class="page-head">
        <h1>Overview</h1>
        <p class="muted">
          Revision {manifest.revision} · {prompts} prompt{prompts === 1 ? "" : "s"} · {rows.length} label{rows.length === 1 ? "" : "s"}
          {labels === null && " · label history unavailable"}
        </p>
      </div>
      <div class="toolbar">
        <label for="filter">Filter</label>
        <input
          id="filter"
          type="search"
          placeholder="prompt, label or description"
          value={q}
          onInput={(e) => {
            const v = e.currentTarget.value;
            setQ(v);
            replaceRoute({ page: "overview", filter: v });
          }}
        />
        <span class="muted" aria-live="polite">
          {shown.length} of {rows.length} shown
        </span>
      </div>
      {rows.length === 0 ? (
        <Empty>No prompt has a label yet. Publish one with <code>edgeprompt publish</code>.</Empty>
      ) : shown.length === 0 ? (
        <Empty>Nothing matches “{q}”.</Empty>
      ) : (
        <div class="table-scroll">
          <table class="overview">
            <thead>
              <tr>
                <th scope="col">Prompt</th>
                <th scope="col">Label</th>
                <th scope="col">Serves</th>
                <th scope="col">Rules, in order</th>
                <th scope="col">Since</th>
                <th scope="col" class="num">
                  Exposed units
                  <br />
                  <span class="muted">current period</span>
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <OverviewRow key={r.key} row={r} status={metrics.get(r.key)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** A row, drawn again only when its own data changed (the badges arrive one by one). */
class OverviewRow extends Component<{ row: RowData; status: Status | undefined }> {
  override shouldComponentUpdate(next: { row: RowData; status: Status | undefined }): boolean {
    return next.row !== this.props.row || next.status !== this.props.status;
  }
  override render() {
    return <RowView row={this.props.row} status={this.props.status} />;
  }
}

function RowView({ row, status }: { row: RowData; status: Status | undefined }) {
  const report = status?.report ?? null;
  const exposed = report ? report.versions.reduce((a, v) => a + v.exposed_units, 0) : null;
  return (
    <tr>
      <th scope="row">
        <a href={links.prompt(row.prompt)}>{row.prompt}</a>
        {row.description && <div class="muted small">{row.description}</div>}
      </th>
      <td>
        <a href={links.traffic(row.prompt, row.label)} title={`Traffic of ${row.prompt}/${row.label}`}>
          {row.label}
        </a>
        <GateMarkers policy={row.policy} pending={row.pending} />
      </td>
      <td>
        <TargetView target={row.route.default} />
      </td>
      <td>
        <RulesView route={row.route} compact />
      </td>
      <td>
        {row.since === undefined ? (
          <span class="muted">…</span>
        ) : row.since ? (
          <>
            <a href={links.history(row.since.since_revision)}>rev {row.since.since_revision}</a>
            <div class="small">
              <Time at={sinceTime(row.since)} /> · {row.since.since_actor}
            </div>
          </>
        ) : (
          "—"
        )}
      </td>
      <td class="num">
        <a href={links.metrics(row.prompt, row.label)}>{exposed === null ? "…" : formatInt(exposed)}</a>
      </td>
      <td>
        <RolloutBadge row={row} />
        <StatusBadge status={status} exposed={exposed} />
      </td>
    </tr>
  );
}

/** A running or paused rollout, linking to its page. */
function RolloutBadge({ row }: { row: RowData }) {
  const badge = rolloutBadge(row.rollout);
  if (!badge || !row.rollout) return null;
  return (
    <a class="badge-link" href={links.rollout(row.prompt, row.label)} title={`Guarded rollout of version ${row.rollout.plan.candidate}: ${stageText(row.rollout)}`}>
      <Badge tone={badge.tone}>{badge.text}</Badge>
    </a>
  );
}

function StatusBadge({ status, exposed }: { status: Status | undefined; exposed: number | null }) {
  if (!status || (!status.report && !status.error)) return <span class="muted">…</span>;
  if (status.error) return <Badge tone="muted" title={status.error.message}>metrics unavailable</Badge>;
  const srm = status.report?.srm;
  if (srm?.mismatch) return <Badge tone="bad" title={`p = ${srm.p_value.toExponential(2)} (chi-square ${srm.chi_square.toFixed(1)}, df ${srm.df})`}>sample-ratio mismatch</Badge>;
  if (!exposed) return <Badge tone="muted">no traffic</Badge>;
  return <Badge tone="ok">ok</Badge>;
}
