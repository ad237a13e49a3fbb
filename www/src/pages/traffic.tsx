// The traffic page: a label's route (rules in order, the default's split) and, for a
// read-write token, promote, split, ramp and rollback, each reviewed as the server's dry
// run before it is sent.
import { useMemo, useState } from "preact/hooks";
import { api } from "../api";
import { sinceTime } from "../types";
import { useAsync, useTitle } from "../hooks";
import { links } from "../router";
import { useSession } from "../session";
import type { Route, WriteResult } from "../types";
import { Empty, ErrorBox, Loading, Time } from "../components/ui";
import { TargetView } from "../components/route";
import { ChangeReview } from "../components/change";
import { describeMatch, formatBp, shares, sumPercents } from "../routes";
import { propose, type Intent, type Proposal } from "../proposals";

/** The traffic page of one label. */
export function Traffic({ prompt, label }: { prompt: string; label: string }) {
  useTitle(`${prompt}/${label} traffic`);
  const session = useSession();
  const [data, reload] = useAsync(async () => {
    const [manifest, labels] = await Promise.all([api.manifest(), api.labels().catch(() => null)]);
    return { manifest, since: labels?.labels.find((l) => l.prompt === prompt && l.label === label) ?? null };
  }, [prompt, label]);
  const [proposal, setProposal] = useState<Proposal | null>(null);
  const [preparing, setPreparing] = useState<Error | "busy" | null>(null);
  const [done, setDone] = useState<WriteResult | null>(null);

  if (data.state === "error" && !data.value) return <ErrorBox error={data.error} title="The manifest could not be loaded" />;
  if (!data.value) return <Loading what="the route" />;
  const { manifest, since } = data.value;
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
          · <a href={links.metrics(prompt, label)}>Metrics</a> · <a href={links.preview(prompt, { label })}>Preview</a> ·{" "}
          <button type="button" class="link" onClick={reload} disabled={data.state === "loading"}>
            {data.state === "loading" ? "Reloading…" : "Reload"}
          </button>
        </p>
      </div>
      {done && (
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
          }}
        />
      ) : session.canWrite ? (
        <Actions key={manifest.revision} route={route} versions={versions} onReview={review} busy={preparing === "busy"} />
      ) : (
        <p class="muted">This token is read-only: it sees the route, and cannot change it.</p>
      )}
      {preparing instanceof Error && <ErrorBox error={preparing} title="The server could not be asked about the change" />}
    </section>
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
