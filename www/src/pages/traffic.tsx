// The traffic page: a label's route (rules in order, the default's split) and, for a
// read-write token, promote, split, ramp and rollback, each reviewed as the server's dry
// run before it is sent; where the label serves one version, a form that starts a
// guarded rollout; where a rollout steers the label, a link to it.
import { useMemo, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { sinceTime } from "../types";
import { useAsync, useTitle } from "../hooks";
import { links } from "../router";
import { usePending, useSession } from "../session";
import { isPending, type ChangeRequest, type MetricDeclaration, type Rollout, type Route, type WriteAnswer } from "../types";
import { Badge, Empty, ErrorBox, Loading, Time } from "../components/ui";
import { TargetView } from "../components/route";
import { ChangeReview, SentForApproval } from "../components/change";
import { PolicyView } from "../components/gates";
import { gateRefusalTitle } from "../gates";
import { describeMatch, formatBp, servesOneVersion, shares, sumPercents } from "../routes";
import { propose, type Intent, type Proposal } from "../proposals";
import { defaultStartForm, fieldOfRefusal, isActive, stageText, startBody, statusText, type FieldErrors, type StartForm } from "../rollouts";

/** The traffic page of one label. */
export function Traffic({ prompt, label }: { prompt: string; label: string }) {
  useTitle(`${prompt}/${label} traffic`);
  const session = useSession();
  const pending = usePending();
  const [data, reload] = useAsync(async () => {
    const [manifest, labels, rollout, policies] = await Promise.all([
      api.manifest(),
      api.labels().catch(() => null),
      // No rollout ever (404), or an API without rollouts: nothing to show.
      api.rollout(prompt, label).catch(() => null),
      // No policy, or an API without policies: the label is not protected.
      api.policies(prompt, label).catch(() => null),
    ]);
    const policy = policies?.policies.find((p) => p.prompt === prompt && p.label === label) ?? null;
    return { manifest, since: labels?.labels.find((l) => l.prompt === prompt && l.label === label) ?? null, rollout, policy };
  }, [prompt, label]);
  const [proposal, setProposal] = useState<Proposal | null>(null);
  const [preparing, setPreparing] = useState<Error | "busy" | null>(null);
  const [done, setDone] = useState<WriteAnswer | null>(null);
  const waiting: ChangeRequest[] = (pending.changes ?? []).filter((c) => c.prompt === prompt && c.label === label && c.state === "pending");

  if (data.state === "error" && !data.value) return <ErrorBox error={data.error} title="The manifest could not be loaded" />;
  if (!data.value) return <Loading what="the route" />;
  const { manifest, since, rollout, policy } = data.value;
  const route = manifest.prompts[prompt]?.labels?.[label];
  if (!route)
    return (
      <section>
        <h1>
          {prompt}/{label}
        </h1>
        <Empty>
          The live manifest (revision {manifest.revision}) has no label “{label}” on prompt “{prompt}”. <a href={links.overview()}>Back to the overview</a>
        </Empty>
      </section>
    );
  const versions = manifest.prompts[prompt]!.versions.length;
  const active = rollout !== null && isActive(rollout);

  const review = async (intent: Intent) => {
    setPreparing("busy");
    setDone(null);
    try {
      setProposal(await propose(prompt, label, intent, manifest.revision));
      setPreparing(null);
    } catch (e) {
      setPreparing(e as Error);
    }
  };

  return (
    <section>
      <div class="page-head">
        <p class="crumbs">
          <a href={links.overview()}>Overview</a> / <a href={links.prompt(prompt)}>{prompt}</a> / traffic
        </p>
        <h1>
          {prompt}/{label}
        </h1>
        <p class="muted">
          Live revision {manifest.revision}
          {since && (
            <>
              {" "}
              · this route since <a href={links.history(since.since_revision)}>revision {since.since_revision}</a> (<Time at={sinceTime(since)} />, {since.since_actor})
            </>
          )}{" "}
          · <a href={links.metrics(prompt, label)}>Metrics</a> · <a href={links.preview(prompt, { label })}>Preview</a>
          {rollout && !active && (
            <>
              {" "}
              · <a href={links.rollout(prompt, label)}>Last rollout</a> ({statusText(rollout.status)})
            </>
          )}{" "}
          ·{" "}
          <button type="button" class="link" onClick={reload} disabled={data.state === "loading"}>
            {data.state === "loading" ? "Reloading…" : "Reload"}
          </button>
        </p>
      </div>
      {active && <RolloutBanner rollout={rollout} />}
      <PolicyView policy={policy} pending={waiting} />
      {done && isPending(done) && <SentForApproval change={done.pending} />}
      {done && !isPending(done) && (
        <div class="success" role="status">
          <p>
            Revision {done.revision}: {done.summaries.join("; ")}
            {done.kv_written === false && " (the edge's KV is being updated: it serves the change within seconds)"}.{" "}
            <a href={links.history(done.revision)}>See it in the history</a>
          </p>
        </div>
      )}
      <RouteTable route={route} />
      {proposal ? (
        <ChangeReview
          initial={proposal}
          onCancel={() => setProposal(null)}
          onReloaded={reload}
          onDone={(r) => {
            setDone(r);
            setProposal(null);
            reload();
            if (isPending(r)) pending.refresh();
          }}
        />
      ) : session.canWrite ? (
        <>
          <Actions key={manifest.revision} route={route} versions={versions} onReview={review} busy={preparing === "busy"} />
          {!active && versions > 1 && servesOneVersion(route) && (
            <StartRollout
              prompt={prompt}
              label={label}
              route={route}
              versions={versions}
              metrics={manifest.metrics ?? {}}
              base={manifest.revision}
              onStale={reload}
              onPending={(a) => {
                setDone(a);
                pending.refresh();
              }}
            />
          )}
        </>
      ) : (
        <p class="muted">This token is read-only: it sees the route, and cannot change it.</p>
      )}
      {preparing instanceof Error && <ErrorBox error={preparing} title="The server could not be asked about the change" />}
    </section>
  );
}

/** Says that a rollout steers the label, and links to it. */
function RolloutBanner({ rollout }: { rollout: Rollout }) {
  return (
    <div class="notice" role="status">
      <p>
        <Badge tone={rollout.status === "running" ? "info" : "warn"}>rollout {statusText(rollout.status)}</Badge> A guarded rollout steers this label: version{" "}
        {rollout.plan.candidate} at {stageText(rollout)}, control version {rollout.plan.control}. Promote, split and ramp wait until it ends; a rollback
        always goes through, and ends it. <a href={links.rollout(rollout.prompt, rollout.label)}>Open the rollout</a>
      </p>
    </div>
  );
}

function RouteTable({ route }: { route: Route }) {
  const rules = route.rules ?? [];
  return (
    <>
      <h2>Route</h2>
      <p class="muted">Rules are tried in order; the first that matches decides. Units no rule matches get the default.{route.salt ? ` Salt: ${route.salt}.` : ""}</p>
      <div class="table-scroll">
        <table class="route">
          <thead>
            <tr>
              <th scope="col" class="num">
                #
              </th>
              <th scope="col">Rule</th>
              <th scope="col">Matches</th>
              <th scope="col">Serves</th>
            </tr>
          </thead>
          <tbody>
            {rules.map((r, i) => (
              <tr key={r.name}>
                <td class="num">{i + 1}</td>
                <th scope="row">{r.name}</th>
                <td>{describeMatch(r)}</td>
                <td>
                  <TargetView target={r.target} />
                </td>
              </tr>
            ))}
            <tr class="default-row">
              <td class="num">{rules.length + 1}</td>
              <th scope="row">default</th>
              <td>every other unit</td>
              <td>
                <TargetView target={route.default} />
              </td>
            </tr>
          </tbody>
        </table>
      </div>
    </>
  );
}

type Op = Intent["op"];

function Actions({ route, versions, onReview, busy }: { route: Route; versions: number; onReview: (i: Intent) => void; busy: boolean }) {
  const [op, setOp] = useState<Op>("split");
  const ruleNames = (route.rules ?? []).map((r) => r.name);
  const [rule, setRule] = useState<string | null>(null);
  const target = rule === null ? route.default : (route.rules ?? []).find((r) => r.name === rule)?.target ?? route.default;
  const current = useMemo(() => shares(target), [target]);
  const all = Array.from({ length: versions }, (_, i) => i + 1);

  const [promoteTo, setPromoteTo] = useState(versions);
  const [clearRules, setClearRules] = useState(false);
  const initialWeights = () => Object.fromEntries(all.map((v) => [v, current.find((s) => s.version === v) ? formatBp(current.find((s) => s.version === v)!.bp) : ""]));
  const [weights, setWeights] = useState<Record<number, string>>(initialWeights);
  const control = current[0]?.version ?? 1;
  const [rampTo, setRampTo] = useState(all.find((v) => v !== control) ?? versions);
  const [percent, setPercent] = useState("");
  const [rollbackMode, setRollbackMode] = useState<"last" | "revision">("last");
  const [toRevision, setToRevision] = useState("");

  // A hint only: the server checks the split (and says why it refuses one).
  const sum = sumPercents(Object.values(weights));

  const submit = (e: Event) => {
    e.preventDefault();
    if (op === "promote") onReview({ op, version: promoteTo, clearRules });
    else if (op === "split")
      onReview({ op, rule, weights: all.filter((v) => (weights[v] ?? "").trim() !== "").map((v) => [v, weights[v]!]) });
    else if (op === "ramp") onReview({ op, rule, to: rampTo, percent });
    else onReview({ op, toRevision: rollbackMode === "revision" ? Number(toRevision) : null });
  };

  const ops: [Op, string][] = [
    ["promote", "Promote"],
    ["split", "Split"],
    ["ramp", "Ramp"],
    ["rollback", "Roll back"],
  ];
  const targetSelect = (
    <div class="field">
      <label for="act-rule">Target</label>
      <select
        id="act-rule"
        value={rule ?? ""}
        onChange={(e) => {
          const v = e.currentTarget.value;
          setRule(v === "" ? null : v);
          const t = v === "" ? route.default : (route.rules ?? []).find((r) => r.name === v)?.target ?? route.default;
          const s = shares(t);
          setWeights(Object.fromEntries(all.map((x) => [x, s.find((y) => y.version === x) ? formatBp(s.find((y) => y.version === x)!.bp) : ""])));
        }}
      >
        <option value="">the default</option>
        {ruleNames.map((n) => (
          <option key={n} value={n}>
            rule {n}
          </option>
        ))}
      </select>
    </div>
  );

  return (
    <form class="card actions-form" onSubmit={submit} aria-labelledby="actions-h">
      <h2 id="actions-h">Change the route</h2>
      <fieldset class="segmented">
        <legend>Action</legend>
        {ops.map(([o, name]) => (
          <label key={o} class={op === o ? "on" : ""}>
            <input type="radio" name="op" value={o} checked={op === o} onChange={() => setOp(o)} /> {name}
          </label>
        ))}
      </fieldset>
      {op === "promote" && (
        <>
          <p class="help">The default serves one version to everyone no rule matches.</p>
          <div class="field">
            <label for="act-version">Version</label>
            <select id="act-version" value={String(promoteTo)} onChange={(e) => setPromoteTo(Number(e.currentTarget.value))}>
              {all.map((v) => (
                <option key={v} value={String(v)}>
                  version {v}
                </option>
              ))}
            </select>
          </div>
          <label class="checkbox">
            <input type="checkbox" checked={clearRules} onChange={(e) => setClearRules(e.currentTarget.checked)} /> Also remove the rules
          </label>
        </>
      )}
      {op === "split" && (
        <>
          <p class="help">Weights in percent (up to two decimals) summing to 100; leave a version empty to leave it out. Changing weights moves units between versions.</p>
          {targetSelect}
          <div class="weights">
            {all.map((v) => (
              <div class="field weight" key={v}>
                <label for={`w-${v}`}>Version {v} (%)</label>
                <input
                  id={`w-${v}`}
                  inputMode="decimal"
                  value={weights[v] ?? ""}
                  onInput={(e) => {
                    const val = e.currentTarget.value;
                    setWeights((w) => ({ ...w, [v]: val }));
                  }}
                />
              </div>
            ))}
          </div>
          <p class={sum === 100 ? "help" : "warning"} aria-live="polite">
            Sum: {sum === null ? "not a number" : `${sum}%`}
          </p>
        </>
      )}
      {op === "ramp" && (
        <>
          <p class="help">Raises a candidate's share, taking it from the control (the first version of the split, now version {control}). Everyone who had the candidate keeps it.</p>
          {targetSelect}
          <div class="field-row">
            <div class="field">
              <label for="act-to">Candidate</label>
              <select id="act-to" value={String(rampTo)} onChange={(e) => setRampTo(Number(e.currentTarget.value))}>
                {all.map((v) => (
                  <option key={v} value={String(v)}>
                    version {v}
                    {current.find((s) => s.version === v) ? ` (now ${formatBp(current.find((s) => s.version === v)!.bp)}%)` : ""}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="act-percent">To (%)</label>
              <input id="act-percent" inputMode="decimal" value={percent} onInput={(e) => setPercent(e.currentTarget.value)} required />
            </div>
          </div>
        </>
      )}
      {op === "rollback" && (
        <fieldset>
          <legend>Restore the route of</legend>
          <label class="radio">
            <input type="radio" name="rb" checked={rollbackMode === "last"} onChange={() => setRollbackMode("last")} /> the last revision in which it served one version
          </label>
          <label class="radio">
            <input type="radio" name="rb" checked={rollbackMode === "revision"} onChange={() => setRollbackMode("revision")} /> revision
          </label>
          <label for="act-rev" class="visually-hidden">
            Revision number
          </label>
          <input
            id="act-rev"
            class="narrow"
            inputMode="numeric"
            value={toRevision}
            onFocus={() => setRollbackMode("revision")}
            onInput={(e) => setToRevision(e.currentTarget.value)}
            required={rollbackMode === "revision"}
            pattern="[0-9]+"
          />
        </fieldset>
      )}
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Asking the server…" : "Review the change"}
        </button>
      </div>
    </form>
  );
}

/** The version a route's default serves alone. */
function soleVersion(route: Route): number | null {
  const serving = shares(route.default).filter((s) => s.bp > 0);
  return serving.length === 1 ? serving[0]!.version : null;
}

/** A field's error under it, tied to its input by `aria-describedby`. */
function FieldError({ id, errors, field }: { id: string; errors: FieldErrors; field: string }) {
  const e = errors[field];
  return e ? (
    <p class="field-error" id={id} role="alert">
      {e}
    </p>
  ) : null;
}

/**
 * Starts a guarded rollout from the version the label serves alone. Nothing is worked
 * out here: the server checks the plan and names the field at fault (422), shown
 * beside that field.
 */
function StartRollout({
  prompt,
  label,
  route,
  versions,
  metrics,
  base,
  onStale,
  onPending,
}: {
  prompt: string;
  label: string;
  base: number;
  route: Route;
  versions: number;
  metrics: Record<string, MetricDeclaration>;
  onStale: () => void;
  /** The label's policy wants an approval: the start waits as a change. */
  onPending: (a: WriteAnswer) => void;
}) {
  const session = useSession();
  const control = soleVersion(route);
  const candidates = Array.from({ length: versions }, (_, i) => i + 1).filter((v) => v !== control);
  const [form, setForm] = useState<StartForm>(() => defaultStartForm(candidates[candidates.length - 1] ?? 1, metrics));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<StartForm>) => setForm((f) => ({ ...f, ...patch }));
  const setGuardrail = (metric: string, patch: Partial<StartForm["guardrails"][number]>) =>
    setForm((f) => ({ ...f, guardrails: f.guardrails.map((g) => (g.metric === metric ? { ...g, ...patch } : g)) }));

  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setFailure(null);
    setBusy(true);
    try {
      // Based on the revision the page shows: the control is the version seen there.
      const made = startBody(form, base, prompt, label);
      if ("errors" in made) {
        setErrors(made.errors);
        return;
      }
      try {
        const answer = await api.startRollout(made.body);
        if (isPending(answer)) onPending(answer);
        else location.hash = links.rollout(prompt, label);
      } catch (err) {
        if (err instanceof ApiError && err.status === 403) session.markReadOnly();
        const field = err instanceof ApiError && (err.status === 422 || err.status === 400) ? fieldOfRefusal(err.message, made.body) : null;
        if (field) setErrors({ [field]: err instanceof ApiError ? `${err.message} (${err.status} ${err.code})` : String(err) });
        else setFailure(err as Error);
      }
    } catch (err) {
      setFailure(err as Error);
    } finally {
      setBusy(false);
    }
  };

  const described = (field: string, id: string) => (errors[field] ? id : undefined);
  const api409 = failure instanceof ApiError && failure.status === 409 ? failure : null;
  return (
    <form class="card rollout-form" onSubmit={submit} aria-labelledby="start-h" noValidate>
      <h2 id="start-h">Start a guarded rollout</h2>
      <p class="help">
        The label serves version {control} alone. A rollout ramps a candidate through stages (every unit keeps its version), advances when a stage has its
        units and time and no guardrail has tripped, and rolls back by itself when one trips. The server checks the plan and says what it refuses.
      </p>
      {Object.keys(errors).length > 0 && (
        <p class="warning" role="alert">
          The plan was not accepted: see the field{Object.keys(errors).length === 1 ? "" : "s"} marked below.
        </p>
      )}
      <div class="field-row">
        <div class="field">
          <label for="ro-candidate">Candidate</label>
          <select id="ro-candidate" value={String(form.candidate)} onChange={(e) => set({ candidate: Number(e.currentTarget.value) })} aria-describedby={described("candidate", "ro-candidate-e")}>
            {candidates.map((v) => (
              <option key={v} value={String(v)}>
                version {v}
              </option>
            ))}
          </select>
          <FieldError id="ro-candidate-e" errors={errors} field="candidate" />
        </div>
        <div class="field">
          <label for="ro-stages">Stages (candidate's %)</label>
          <input id="ro-stages" value={form.stages} onInput={(e) => set({ stages: e.currentTarget.value })} aria-describedby={described("stages", "ro-stages-e")} />
          <FieldError id="ro-stages-e" errors={errors} field="stages" />
        </div>
      </div>
      <div class="field-row">
        <div class="field">
          <label for="ro-units">Minimum candidate units per stage</label>
          <input id="ro-units" inputMode="numeric" value={form.minUnits} onInput={(e) => set({ minUnits: e.currentTarget.value })} aria-describedby={described("min_units", "ro-units-e")} />
          <FieldError id="ro-units-e" errors={errors} field="min_units" />
        </div>
        <div class="field">
          <label for="ro-minutes">Minimum minutes per stage</label>
          <input id="ro-minutes" inputMode="decimal" value={form.minMinutes} onInput={(e) => set({ minMinutes: e.currentTarget.value })} aria-describedby={described("min_duration", "ro-minutes-e")} />
          <FieldError id="ro-minutes-e" errors={errors} field="min_duration" />
        </div>
      </div>
      <fieldset>
        <legend>Guardrails</legend>
        {form.guardrails.length === 0 ? (
          <p class="muted">The manifest declares no metric: a rollout without guardrails advances on units and time alone.</p>
        ) : (
          <>
            <p class="help">
              A guardrail trips when its always-valid interval lies wholly beyond the tolerated regression, on the worse side. The regression is absolute, in the
              metric's unit (a rate: 0.01 is one point).
            </p>
            <FieldError id="ro-guardrails-e" errors={errors} field="guardrails" />
            {form.guardrails.map((g) => {
              const decl = metrics[g.metric];
              const base = `ro-g-${g.metric}`;
              const mr = `guardrail:${g.metric}:max_regression`;
              const mde = `guardrail:${g.metric}:mde`;
              return (
                <div class="guardrail-row" key={g.metric}>
                  <label class="checkbox">
                    <input type="checkbox" checked={g.on} onChange={(e) => setGuardrail(g.metric, { on: e.currentTarget.checked })} /> Watch <strong>{g.metric}</strong>{" "}
                    <span class="muted">
                      ({decl?.kind ?? "?"}, {decl?.higher_is_better === false ? "lower" : "higher"} is better)
                    </span>
                  </label>
                  <FieldError id={`${base}-metric-e`} errors={errors} field={`guardrail:${g.metric}:metric`} />
                  {g.on && (
                    <div class="field-row">
                      <div class="field">
                        <label for={`${base}-mr`}>Max regression of {g.metric}</label>
                        <input id={`${base}-mr`} inputMode="decimal" value={g.maxRegression} onInput={(e) => setGuardrail(g.metric, { maxRegression: e.currentTarget.value })} aria-describedby={described(mr, `${base}-mr-e`)} />
                        <FieldError id={`${base}-mr-e`} errors={errors} field={mr} />
                      </div>
                      <div class="field">
                        <label for={`${base}-mde`}>Regression worth catching (optional)</label>
                        <input id={`${base}-mde`} inputMode="decimal" value={g.mde} onInput={(e) => setGuardrail(g.metric, { mde: e.currentTarget.value })} aria-describedby={described(mde, `${base}-mde-e`)} />
                        <FieldError id={`${base}-mde-e`} errors={errors} field={mde} />
                      </div>
                    </div>
                  )}
                </div>
              );
            })}
          </>
        )}
      </fieldset>
      <div class="field-row">
        <div class="field">
          <label for="ro-alpha">Alpha (all guardrails together)</label>
          <input id="ro-alpha" inputMode="decimal" value={form.alpha} onInput={(e) => set({ alpha: e.currentTarget.value })} aria-describedby={described("alpha", "ro-alpha-e")} />
          <FieldError id="ro-alpha-e" errors={errors} field="alpha" />
        </div>
        <div class="field">
          <label for="ro-trip">When a guardrail trips</label>
          <select id="ro-trip" value={form.onTrip} onChange={(e) => set({ onTrip: e.currentTarget.value === "pause" ? "pause" : "rollback" })} aria-describedby={described("on_trip", "ro-trip-e")}>
            <option value="rollback">roll back to the control</option>
            <option value="pause">pause</option>
          </select>
          <FieldError id="ro-trip-e" errors={errors} field="on_trip" />
        </div>
        <div class="field">
          <label for="ro-every">Check every (minutes)</label>
          <input id="ro-every" inputMode="decimal" value={form.intervalMinutes} onInput={(e) => set({ intervalMinutes: e.currentTarget.value })} aria-describedby={described("check_interval", "ro-every-e")} />
          <FieldError id="ro-every-e" errors={errors} field="check_interval" />
        </div>
      </div>
      {api409?.code === "conflict" ? (
        <div class="error" role="alert">
          <p class="error-title">Someone changed the manifest meanwhile (409 conflict)</p>
          <p class="error-message">{api409.message}</p>
          <p>
            <button type="button" onClick={onStale}>
              Reload the route
            </button>{" "}
            and start again (the form keeps what you typed).
          </p>
        </div>
      ) : api409?.code === "rollout_running" ? (
        <div class="error" role="alert">
          <p class="error-title">A rollout already steers this label (409 rollout_running)</p>
          <p class="error-message">{api409.message}</p>
          <p>
            <a href={links.rollout(prompt, label)}>Open the rollout</a>
          </p>
        </div>
      ) : (
        failure && (
          <ErrorBox
            error={failure}
            title={
              failure instanceof ApiError && failure.status === 403
                ? "This token is read-only"
                : ((failure instanceof ApiError ? gateRefusalTitle(failure.status, failure.code) : null) ?? "The rollout was not started")
            }
          />
        )
      )}
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Starting…" : "Start the rollout"}
        </button>
      </div>
    </form>
  );
}
