// The rollout page of a label (its latest guarded rollout): the status and the next
// check, the plan, the stages as a timeline with their start times and revisions, the
// last decision with its evidence, each guardrail's always-valid interval over the
// checks against its threshold (a chart in the lazily loaded chart chunk, and a table),
// the sample-ratio checks, the log, and, for a read-write token, pause, resume, check
// now and abort (after a confirmation).
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { useAsync, useTitle } from "../hooks";
import { links } from "../router";
import { useSession } from "../session";
import type { MetricDeclaration, PlanGuardrail, Rollout, RolloutAction, RolloutEvidence, SrmEvidence } from "../types";
import { Badge, Empty, ErrorBox, Loading, Time } from "../components/ui";
import { Chart } from "../components/chart";
import { formatCi, formatDiff, formatDuration, formatInt, formatNum, formatP } from "../format";
import { currentPercent, guardrailPoints, isActive, percentText, stageText, statusText, type GuardrailPoint } from "../rollouts";

/** How often an active rollout's page asks for it again. */
const POLL_MS = 30_000;

const STATUS_TONE = { running: "info", paused: "warn", completed: "ok", rolled_back: "bad", aborted: "muted" } as const;
const ACTION_TONE: Record<string, "ok" | "warn" | "bad" | "muted" | "info"> = {
  hold: "muted",
  advance: "info",
  complete: "ok",
  pause: "warn",
  rollback: "bad",
  start: "info",
  resume: "info",
  abort: "muted",
};

/** The rollout page of one label. */
export function RolloutPage({ prompt, label }: { prompt: string; label: string }) {
  useTitle(`${prompt}/${label} rollout`);
  const [data, reload] = useAsync(async () => {
    const [rollout, manifest] = await Promise.all([
      api.rollout(prompt, label).catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 404 && e.code === "no_rollout") return null;
        throw e;
      }),
      api.manifest().catch(() => null),
    ]);
    return { rollout, metrics: manifest?.metrics ?? {} };
  }, [prompt, label]);
  // The rollout as last answered: by the load, or by a control since (a control
  // answers the rollout after it); a newer load wins.
  const [answer, setAnswer] = useState<{ rollout: Rollout; after: unknown } | null>(null);
  const rollout = answer && answer.after === data.value ? answer.rollout : (data.value?.rollout ?? null);
  const setRollout = (r: Rollout) => setAnswer({ rollout: r, after: data.value });
  const active = rollout !== null && isActive(rollout);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => {
      if (document.visibilityState === "visible") reload();
    }, POLL_MS);
    return () => clearInterval(t);
  }, [active, reload]);

  const head = (
    <div class="page-head">
      <p class="crumbs">
        <a href={links.overview()}>Overview</a> / <a href={links.prompt(prompt)}>{prompt}</a> / rollout
      </p>
      <h1>
        {prompt}/{label} rollout {rollout && <Badge tone={STATUS_TONE[rollout.status] ?? "muted"}>{statusText(rollout.status)}</Badge>}
      </h1>
      <div class="toolbar">
        <a href={links.traffic(prompt, label)}>Traffic</a>
        <a href={links.metrics(prompt, label)}>Metrics</a>
        <button type="button" onClick={reload} disabled={data.state === "loading"}>
          {data.state === "loading" ? "Loading…" : "Refresh"}
        </button>
      </div>
    </div>
  );
  if (data.state === "error" && !data.value)
    return (
      <section>
        {head}
        <ErrorBox error={data.error} title="The rollout could not be loaded" />
      </section>
    );
  if (!data.value)
    return (
      <section>
        {head}
        <Loading what="the rollout" />
      </section>
    );
  if (!rollout)
    return (
      <section>
        {head}
        <Empty>
          No guarded rollout has run on {prompt}/{label}. One starts from the <a href={links.traffic(prompt, label)}>traffic page</a> when the label serves one
          version.
        </Empty>
      </section>
    );
  const metrics = data.value.metrics;
  return (
    <section>
      {head}
      {data.state === "error" && <ErrorBox error={data.error} title="The rollout could not be refreshed (showing the last answer)" />}
      <Status rollout={rollout} />
      <Controls rollout={rollout} onAnswer={setRollout} onStale={reload} />
      <Decision rollout={rollout} metrics={metrics} />
      <Stages rollout={rollout} />
      <Plan rollout={rollout} metrics={metrics} />
      <Guardrails rollout={rollout} metrics={metrics} />
      <SampleRatio rollout={rollout} />
      <Log rollout={rollout} />
    </section>
  );
}

function Status({ rollout: r }: { rollout: Rollout }) {
  return (
    <dl class="facts words rollout-facts" data-testid="rollout-status">
      <dt>Status</dt>
      <dd>
        <span data-testid="rollout-state">{statusText(r.status)}</span>
        {isActive(r) && <> · {stageText(r)}</>}
        {r.status === "completed" && " · the candidate serves 100%"}
        {r.status === "rolled_back" && " · the control serves 100%"}
        {r.status === "aborted" && ` · the label keeps its split (version ${r.plan.candidate} at ${percentText(currentPercent(r))}%)`}
      </dd>
      <dt>Versions</dt>
      <dd>
        candidate version {r.plan.candidate}, control version {r.plan.control}
      </dd>
      <dt>Next check</dt>
      <dd>
        {r.status === "running" && r.next_check_ms !== null ? (
          <>
            <Time at={r.next_check_ms} /> (every {formatDuration(r.check_interval_ms)})
          </>
        ) : r.status === "paused" ? (
          "none while paused (a tripped guardrail still acts on a check)"
        ) : (
          "none: the rollout has ended"
        )}
      </dd>
      <dt>Started</dt>
      <dd>
        <Time at={r.started_ms} /> by {r.actor}
      </dd>
      <dt>Updated</dt>
      <dd>
        <Time at={r.updated_ms} />
      </dd>
    </dl>
  );
}

type ControlOp = "pause" | "resume" | "check" | "abort";

/** Pause, resume, check now and abort, for a read-write token while the rollout steers its label. */
function Controls({ rollout: r, onAnswer, onStale }: { rollout: Rollout; onAnswer: (r: Rollout) => void; onStale: () => void }) {
  const session = useSession();
  const [busy, setBusy] = useState<ControlOp | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [said, setSaid] = useState<string | null>(null);
  if (!session.canWrite || !isActive(r)) return null;

  const run = async (op: ControlOp) => {
    setBusy(op);
    setError(null);
    setSaid(null);
    try {
      const next = await api.rolloutControl(r.prompt, r.label, op);
      setConfirming(false);
      onAnswer(next);
      setSaid(
        op === "check"
          ? next.last_decision
            ? `Checked: ${next.last_decision.action}. ${next.last_decision.reason}`
            : "Checked."
          : op === "abort"
            ? "Aborted: the label keeps its current split."
            : op === "pause"
              ? "Paused: the rollout does not advance until resumed."
              : "Resumed.",
      );
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) session.markReadOnly();
      setError(e as Error);
    } finally {
      setBusy(null);
    }
  };
  const stale = error instanceof ApiError && (error.status === 404 || error.status === 409);
  return (
    <div class="card rollout-controls" role="region" aria-label="Rollout controls">
      <div class="buttons">
        {r.status === "running" ? (
          <button type="button" onClick={() => run("pause")} disabled={busy !== null}>
            {busy === "pause" ? "Pausing…" : "Pause"}
          </button>
        ) : (
          <button type="button" onClick={() => run("resume")} disabled={busy !== null}>
            {busy === "resume" ? "Resuming…" : "Resume"}
          </button>
        )}
        <button type="button" onClick={() => run("check")} disabled={busy !== null}>
          {busy === "check" ? "Checking…" : "Check now"}
        </button>
        <button type="button" class="danger" onClick={() => setConfirming(true)} disabled={busy !== null || confirming}>
          Abort…
        </button>
      </div>
      <p class="help">
        Pause stops advancing (a tripped guardrail still acts); resume accepts the sample-ratio state so far; check now runs the controller at once, as its
        interval would.
      </p>
      {confirming && (
        <div class="warning confirm" role="alertdialog" aria-labelledby="abort-q">
          <p id="abort-q">
            <strong>
              Abort the rollout of {r.prompt}/{r.label}?
            </strong>{" "}
            It ends here: the label keeps its current split (version {r.plan.candidate} at {percentText(currentPercent(r))}%) and no further check runs.
            To send everyone back to version {r.plan.control}, roll back from the traffic page instead.
          </p>
          <div class="buttons">
            <button type="button" class="primary danger" onClick={() => run("abort")} disabled={busy !== null}>
              {busy === "abort" ? "Aborting…" : "Abort the rollout"}
            </button>
            <button type="button" onClick={() => setConfirming(false)} disabled={busy !== null}>
              Keep it
            </button>
          </div>
        </div>
      )}
      {said && (
        <p class="success" role="status">
          {said}
        </p>
      )}
      {error && (
        <ErrorBox error={error} title={error instanceof ApiError && error.status === 403 ? "This token is read-only" : "The server refused"}>
          {stale && (
            <p>
              <button type="button" onClick={onStale}>
                Reload the rollout
              </button>
            </p>
          )}
        </ErrorBox>
      )}
    </div>
  );
}

function isBinary(metric: string, metrics: Record<string, MetricDeclaration>, kind?: string): boolean {
  return (kind ?? metrics[metric]?.kind) === "binary";
}

/** A signed difference in the metric's unit (binary: percentage points). */
function diffText(v: number, binary: boolean): string {
  return v === 0 ? (binary ? "0 pp" : "0") : formatDiff(v, binary);
}

function Decision({ rollout: r, metrics }: { rollout: Rollout; metrics: Record<string, MetricDeclaration> }) {
  const d = r.last_decision;
  return (
    <div class="card decision-card" data-testid="rollout-decision">
      <h2>Last decision</h2>
      {!d ? (
        <p class="muted">No check has run yet{r.status === "running" && r.next_check_ms !== null ? <>: the first is due <Time at={r.next_check_ms} /></> : ""}.</p>
      ) : (
        <>
          <p>
            <ActionBadge action={d.action} /> <Time at={d.at_ms} /> · stage {d.stage} ({percentText(d.percent)}%)
          </p>
          <p class="reason" data-testid="decision-reason">
            {d.reason}
          </p>
          <EvidenceSummary evidence={d.evidence} rollout={r} metrics={metrics} />
        </>
      )}
    </div>
  );
}

function EvidenceSummary({ evidence: e, rollout: r, metrics }: { evidence: RolloutEvidence; rollout: Rollout; metrics: Record<string, MetricDeclaration> }) {
  return (
    <ul class="plain evidence">
      <li>
        This stage: {formatInt(e.stage_units)} of {formatInt(r.plan.min_units)} candidate units, {formatDuration(e.stage_ms)} of{" "}
        {formatDuration(r.plan.min_duration_ms)}
      </li>
      {e.guardrails.map((g) => {
        const binary = isBinary(g.metric, metrics, g.kind);
        return (
          <li key={g.metric}>
            {g.metric}: {g.estimate === null ? "no interval yet" : `${diffText(g.estimate, binary)} ${formatCi(g.ci, (v) => diffText(v, binary))}`}, trips beyond{" "}
            {diffText(g.threshold, binary)} {g.tripped && <Badge tone="bad">tripped</Badge>}
          </li>
        );
      })}
    </ul>
  );
}

function ActionBadge({ action }: { action: RolloutAction | string }) {
  return <Badge tone={ACTION_TONE[action] ?? "muted"}>{action}</Badge>;
}

/** The stages as a timeline: each with its percent, when it started and the revision that set it. */
function Stages({ rollout: r }: { rollout: Rollout }) {
  const ended = r.log.filter((l) => ["complete", "rollback", "abort"].includes(l.action)).at(-1);
  return (
    <>
      <h2>Stages</h2>
      <ol class="timeline" data-testid="rollout-stages">
        {r.plan.stages.map((percent, i) => {
          const n = i + 1;
          const set = r.stages.find((s) => s.stage === n);
          const state = !set ? "upcoming" : n < r.stage || r.status === "completed" ? "done" : isActive(r) ? "current" : "stopped";
          return (
            <li key={n} class={`step step-${state}`} aria-current={state === "current" ? "step" : undefined}>
              <span class="step-marker" aria-hidden="true" />
              <span class="step-title">
                Stage {n} · {percentText(percent)}%
              </span>{" "}
              {set ? (
                <span class="step-meta">
                  started <Time at={set.started_ms} /> · <a href={links.history(set.revision)}>revision {set.revision}</a>
                  {state === "current" && <Badge tone={r.status === "paused" ? "warn" : "info"}>{r.status === "paused" ? "paused here" : "now"}</Badge>}
                </span>
              ) : (
                <span class="step-meta muted">not started</span>
              )}
            </li>
          );
        })}
        {!isActive(r) && ended && (
          <li class={`step step-end step-${r.status}`}>
            <span class="step-marker" aria-hidden="true" />
            <span class="step-title">{statusText(r.status)}</span>{" "}
            <span class="step-meta">
              <Time at={ended.at_ms} />
              {ended.revision !== null && (
                <>
                  {" "}
                  · <a href={links.history(ended.revision)}>revision {ended.revision}</a>
                </>
              )}{" "}
              · {ended.actor}
            </span>
          </li>
        )}
      </ol>
    </>
  );
}

function Plan({ rollout: r, metrics }: { rollout: Rollout; metrics: Record<string, MetricDeclaration> }) {
  const p = r.plan;
  return (
    <>
      <h2>Plan</h2>
      <dl class="facts words" data-testid="rollout-plan">
        <dt>Candidate / control</dt>
        <dd>
          version {p.candidate} / version {p.control}
        </dd>
        <dt>Stages</dt>
        <dd>{p.stages.map((s) => `${percentText(s)}%`).join(" → ")}</dd>
        <dt>Each stage needs</dt>
        <dd>
          {formatInt(p.min_units)} candidate units and {formatDuration(p.min_duration_ms)}
        </dd>
        <dt>Guardrails</dt>
        <dd>
          {p.guardrails.length === 0
            ? "none"
            : p.guardrails.map((g, i) => (
                <span key={g.metric}>
                  {i > 0 && "; "}
                  {guardrailText(g, metrics)}
                </span>
              ))}
        </dd>
        <dt>Alpha</dt>
        <dd>{p.alpha} (all guardrails together)</dd>
        <dt>On a trip</dt>
        <dd>{p.on_trip === "pause" ? "pause" : "roll back to the control"}</dd>
        <dt>Checks</dt>
        <dd>every {formatDuration(r.check_interval_ms)}</dd>
      </dl>
    </>
  );
}

function guardrailText(g: PlanGuardrail, metrics: Record<string, MetricDeclaration>): string {
  const binary = isBinary(g.metric, metrics);
  const unit = (v: number) => (binary ? `${formatNum(v * 100, 3)} pp` : formatNum(v));
  return `${g.metric} (tolerates ${unit(g.max_regression)} worse${g.mde !== undefined ? `, catches ${unit(g.mde)}` : ""})`;
}

function Guardrails({ rollout: r, metrics }: { rollout: Rollout; metrics: Record<string, MetricDeclaration> }) {
  if (r.plan.guardrails.length === 0) return null;
  return (
    <>
      <h2>Guardrails over time</h2>
      <p class="muted">
        The candidate's difference against the control at each check, with its always-valid interval (valid at every look), against the threshold past which
        it trips (dashed red). Dashed grey lines: the stages' starts.
      </p>
      {r.plan.guardrails.map((g) => (
        <GuardrailSection key={g.metric} rollout={r} guardrail={g} metrics={metrics} />
      ))}
    </>
  );
}

const timeSeconds = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", second: "2-digit" });
const timeShort = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const timeDay = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });

function GuardrailSection({ rollout: r, guardrail: g, metrics }: { rollout: Rollout; guardrail: PlanGuardrail; metrics: Record<string, MetricDeclaration> }) {
  const points = guardrailPoints(r.checks, g.metric);
  const kind = r.checks.flatMap((c) => c.evidence?.guardrails ?? []).find((x) => x.metric === g.metric)?.kind;
  const binary = isBinary(g.metric, metrics, kind);
  const fmt = (v: number) => diffText(v, binary);
  const last = points.at(-1);
  const threshold = last?.threshold ?? (metrics[g.metric]?.higher_is_better === false ? g.max_regression : -g.max_regression);
  const stages = r.stages.map((s) => ({ time: new Date(s.started_ms), label: `${percentText(s.percent)}%` }));
  const span = Math.max(...points.map((p) => p.at), ...r.stages.map((s) => s.started_ms)) - Math.min(...points.map((p) => p.at), ...r.stages.map((s) => s.started_ms));
  // Ticks as fine as the checks' span needs (minutes apart: seconds; days apart: dates).
  const tick = span > 86_400_000 ? timeDay : span > 3_600_000 ? timeShort : timeSeconds;
  const title = (p: GuardrailPoint) =>
    `${new Date(p.at).toLocaleString()} · stage ${p.stage} · ${fmt(p.estimate)} [${fmt(p.low)}, ${fmt(p.high)}]${p.tripped ? " · tripped" : ""}`;
  return (
    <section class="metric guardrail" data-testid={`guardrail-${g.metric}`}>
      <h3>
        {g.metric} <span class="muted small">({binary ? "difference in percentage points" : "difference in the metric's unit"}; trips beyond {fmt(threshold)})</span>
      </h3>
      {!last ? (
        <Empty>No interval yet: each version needs outcomes from at least two units in a stage's period{r.checks.length === 0 ? ", and a check" : ""}.</Empty>
      ) : (
        <>
          <p>
            Latest (<Time at={last.at} />): <strong>{fmt(last.estimate)}</strong> {formatCi([last.low, last.high], fmt)} over {formatInt(last.units[0])} control and{" "}
            {formatInt(last.units[1])} candidate units{" "}
            {last.tripped ? <Badge tone="bad">tripped</Badge> : last.tone === "better" ? <Badge tone="ok">better</Badge> : <Badge tone="muted">within tolerance</Badge>}
          </p>
          <ul class="legend" aria-hidden="true">
            <li>
              <span class="swatch tone-unclear" /> not beyond the threshold
            </li>
            <li>
              <span class="swatch tone-better" /> better (interval above zero)
            </li>
            <li>
              <span class="swatch tone-worse" /> tripped
            </li>
          </ul>
          <Chart
            label={`${g.metric}: the candidate's difference at each of ${points.length} check${points.length === 1 ? "" : "s"}, with its always-valid interval, against the threshold ${fmt(threshold)}`}
            deps={[r.updated_ms, r.checks.length, g.metric]}
            draw={(charts, width) =>
              charts.guardrail(
                points.map((p) => ({ time: new Date(p.at), estimate: p.estimate, low: p.low, high: p.high, tone: p.tone, title: title(p) })),
                { width, percent: binary, label: binary ? "difference (pp)" : "difference", threshold, stages, formatTime: (d) => tick.format(d) },
              )
            }
          />
          <details>
            <summary>As a table</summary>
            <div class="table-scroll">
              <table class="compact-table guardrail-table">
                <thead>
                  <tr>
                    <th scope="col">Check</th>
                    <th scope="col">Decision</th>
                    <th scope="col" class="num">
                      Stage after
                    </th>
                    <th scope="col" class="num">
                      Difference
                    </th>
                    <th scope="col">Always-valid interval</th>
                    <th scope="col" class="num">
                      Units (control / candidate)
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {points.map((p) => (
                    <tr key={p.at}>
                      <td>
                        <Time at={p.at} />
                      </td>
                      <td>
                        <ActionBadge action={p.action} />
                      </td>
                      <td class="num">{p.stage}</td>
                      <td class="num">{fmt(p.estimate)}</td>
                      <td>
                        {formatCi([p.low, p.high], fmt)} {p.tripped && <Badge tone="bad">tripped</Badge>}
                      </td>
                      <td class="num">
                        {formatInt(p.units[0])} / {formatInt(p.units[1])}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </section>
  );
}

/** The sample-ratio checks of the latest evidence: per stage's period, exposed units per version against its weights. */
function SampleRatio({ rollout: r }: { rollout: Rollout }) {
  const srm: SrmEvidence[] = r.last_decision?.evidence.srm ?? r.checks.at(-1)?.evidence?.srm ?? [];
  return (
    <>
      <h2>Sample-ratio checks</h2>
      <p class="muted">
        Per stage's weights period: the units each version was given against the split's weights (Pearson's chi-square; a p-value below 0.001 pauses the
        rollout). A period resumed past is waived.
      </p>
      {srm.length === 0 ? (
        <Empty>No check has run yet.</Empty>
      ) : (
        <div class="table-scroll">
          <table class="compact-table srm-table">
            <thead>
              <tr>
                <th scope="col" class="num">
                  Stage
                </th>
                <th scope="col">Period started</th>
                <th scope="col">Exposed units</th>
                <th scope="col" class="num">
                  p-value
                </th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {srm.map((s) => (
                <tr key={`${s.stage}-${s.started_ms}`}>
                  <td class="num">{s.stage}</td>
                  <td>
                    <Time at={s.started_ms} />
                  </td>
                  <td>
                    {Object.entries(s.exposed)
                      .map(([v, n]) => `v${v}: ${formatInt(n)}`)
                      .join(" · ")}
                  </td>
                  <td class="num">{s.p_value === null ? "—" : formatP(s.p_value)}</td>
                  <td>
                    {s.mismatch ? (
                      <Badge tone={s.waived ? "muted" : "bad"}>{s.waived ? "mismatch (waived)" : "mismatch"}</Badge>
                    ) : s.p_value === null ? (
                      <span class="muted">too few units yet</span>
                    ) : (
                      <Badge tone="ok">ok</Badge>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function Log({ rollout: r }: { rollout: Rollout }) {
  return (
    <>
      <h2>Log</h2>
      {r.log.length === 0 ? (
        <Empty>Nothing logged yet.</Empty>
      ) : (
        <div class="table-scroll">
          <table class="rollout-log" data-testid="rollout-log">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col" class="num">
                  Stage
                </th>
                <th scope="col" class="num">
                  Candidate
                </th>
                <th scope="col">Reason</th>
                <th scope="col">Revision</th>
                <th scope="col">Who</th>
              </tr>
            </thead>
            <tbody>
              {[...r.log].reverse().map((l, i) => (
                <tr key={`${l.at_ms}-${i}`}>
                  <td>
                    <Time at={l.at_ms} />
                  </td>
                  <td>
                    <ActionBadge action={l.action} />
                  </td>
                  <td class="num">{l.stage}</td>
                  <td class="num">{percentText(l.percent)}%</td>
                  <td class="summary">{l.reason}</td>
                  <td>{l.revision === null ? "—" : <a href={links.history(l.revision)}>{l.revision}</a>}</td>
                  <td>{l.actor}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
