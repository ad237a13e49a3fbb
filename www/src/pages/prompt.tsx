// The prompt page: its labels, its versions (hash, author, note, time, which labels
// point at each), a side-by-side diff of any two versions, and the preview.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api } from "../api";
import { useAsync, useTitle } from "../hooks";
import { links, replaceRoute } from "../router";
import type { EvalsResponse, Manifest, Prompt, PromptVersion } from "../types";
import { Badge, Empty, ErrorBox, Loading, Time } from "../components/ui";
import { evalStatus } from "../gates";
import { RulesView, TargetView } from "../components/route";
import { DiffView } from "../components/diffview";
import { contentHash } from "../hash";
import { prettyJson, templateText } from "../diff";
import { pointers } from "../routes";
import { shortHash } from "../format";
import { Preview } from "./preview";

/** The prompt page with its three tabs. */
export function PromptPage({ prompt, tab, query }: { prompt: string; tab: "versions" | "diff" | "preview"; query: URLSearchParams }) {
  useTitle(prompt);
  const [data, reload] = useAsync(() => api.manifest(), [prompt]);
  if (data.state === "error" && !data.value) return <ErrorBox error={data.error} title="The manifest could not be loaded" />;
  if (!data.value) return <Loading what={`prompt ${prompt}`} />;
  const manifest = data.value;
  const p = manifest.prompts[prompt];
  if (!p)
    return (
      <section>
        <h1>{prompt}</h1>
        <Empty>
          The live manifest (revision {manifest.revision}) has no prompt “{prompt}”. <a href={links.overview()}>Back to the overview</a>
        </Empty>
      </section>
    );
  const versions = [...p.versions].sort((a, b) => a.version - b.version);
  const tabs: [typeof tab, string, string][] = [
    ["versions", "Versions", links.prompt(prompt)],
    ["diff", "Diff", links.diff(prompt, Math.max(1, versions.length - 1), versions.length)],
    ["preview", "Preview", links.preview(prompt)],
  ];
  return (
    <section>
      <div class="page-head">
        <p class="crumbs">
          <a href={links.overview()}>Overview</a> / prompt
        </p>
        <h1>{prompt}</h1>
        {p.description && <p>{p.description}</p>}
        <p class="muted">
          Revision {manifest.revision} · {versions.length} version{versions.length === 1 ? "" : "s"}
          {p.client ? " · served to npm clients (client: true)" : ""}
        </p>
      </div>
      <nav class="tabs" aria-label="Prompt sections">
        {tabs.map(([t, name, h]) => (
          <a key={t} href={h} aria-current={t === tab ? "page" : undefined}>
            {name}
          </a>
        ))}
      </nav>
      {tab === "versions" && <Versions name={prompt} prompt={p} versions={versions} />}
      {tab === "diff" && <VersionDiff key={query.toString()} name={prompt} manifest={manifest} versions={versions} query={query} />}
      {tab === "preview" && <Preview key={query.toString()} name={prompt} manifest={manifest} query={query} onReload={reload} reloading={data.state === "loading"} />}
    </section>
  );
}

/** Content hashes of versions, computed in the background. */
function useHashes(versions: PromptVersion[]): Map<number, string> {
  const [hashes, setHashes] = useState(new Map<number, string>());
  useEffect(() => {
    let live = true;
    Promise.all(versions.map(async (v) => [v.version, await contentHash(v)] as const)).then(
      (list) => live && setHashes(new Map(list)),
      () => {
        /* crypto.subtle needs a secure context; the column then shows "…" */
      },
    );
    return () => {
      live = false;
    };
  }, [versions]);
  return hashes;
}

/** Each content's eval reports (`GET /admin/v1/evals?prompt=&hash=`), four requests at a time; an Error when the API could not say. */
function useEvals(prompt: string, hashes: Map<number, string>): Map<string, EvalsResponse | Error> {
  const [evals, setEvals] = useState(new Map<string, EvalsResponse | Error>());
  const wanted = [...new Set(hashes.values())].sort().join(",");
  useEffect(() => {
    if (!wanted) return;
    let live = true;
    const queue = wanted.split(",");
    const next = async (): Promise<void> => {
      const hash = queue.shift();
      if (hash === undefined || !live) return;
      const answer = await api.evals(prompt, hash).catch((e: Error) => e);
      if (live) setEvals((m) => new Map(m).set(hash, answer));
      return next();
    };
    for (let i = 0; i < 4; i++) void next();
    return () => {
      live = false;
    };
  }, [prompt, wanted]);
  return evals;
}

/** A version's eval status: the latest report for its content hash, with a link to it. */
function EvalCell({ prompt, hash, evals }: { prompt: string; hash: string | undefined; evals: EvalsResponse | Error | undefined }) {
  if (!hash || evals === undefined) return <span class="muted">…</span>;
  if (evals instanceof Error) return <span class="muted" title={evals.message}>—</span>;
  const latest = evals.reports[0];
  if (!latest) return <span class="muted">no report</span>;
  const st = evalStatus(latest);
  return (
    <div class="eval-status" data-testid="eval-status">
      <Badge tone={st.tone}>{st.text}</Badge> <span class="small">{st.detail}</span>
      <div class="small">
        <Time at={latest.at_ms} /> · {latest.actor} ·{" "}
        <a href={links.evalReport(latest.report, prompt, hash)} aria-label={`Open eval report #${latest.report}`}>
          report #{latest.report}
        </a>
        {evals.reports.length > 1 && <span class="muted"> ({evals.reports.length} reports)</span>}
      </div>
    </div>
  );
}

function Versions({ name, prompt, versions }: { name: string; prompt: Prompt; versions: PromptVersion[] }) {
  const hashes = useHashes(versions);
  const evals = useEvals(name, hashes);
  const pointed = useMemo(() => pointers(prompt), [prompt]);
  const labels = Object.entries(prompt.labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <h2>Labels</h2>
      {labels.length === 0 ? (
        <Empty>No label points at this prompt; it cannot be resolved.</Empty>
      ) : (
        <div class="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col">Serves</th>
                <th scope="col">Rules, in order</th>
                <th scope="col">Pages</th>
              </tr>
            </thead>
            <tbody>
              {labels.map(([label, route]) => (
                <tr key={label}>
                  <th scope="row">{label}</th>
                  <td>
                    <TargetView target={route.default} />
                  </td>
                  <td>
                    <RulesView route={route} compact />
                  </td>
                  <td class="actions">
                    <a href={links.traffic(name, label)}>Traffic</a> <a href={links.metrics(name, label)}>Metrics</a>{" "}
                    <a href={links.preview(name, { label })}>Preview</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Versions</h2>
      <div class="table-scroll">
        <table class="versions">
          <thead>
            <tr>
              <th scope="col" class="num">
                Version
              </th>
              <th scope="col">Content hash</th>
              <th scope="col">Author</th>
              <th scope="col">Note</th>
              <th scope="col">Created</th>
              <th scope="col">Labels pointing at it</th>
              <th scope="col">Eval (latest report)</th>
              <th scope="col">Compare, preview</th>
            </tr>
          </thead>
          <tbody>
            {[...versions].reverse().map((v) => (
              <tr key={v.version}>
                <th scope="row" class="num">
                  {v.version}
                </th>
                <td>
                  <code title={hashes.get(v.version)}>{shortHash(hashes.get(v.version))}</code>
                </td>
                <td>{v.author ?? "—"}</td>
                <td>{v.note ?? "—"}</td>
                <td>
                  <Time at={v.created_at} />
                </td>
                <td>
                  {(pointed.get(v.version) ?? []).length === 0 ? (
                    <span class="muted">none</span>
                  ) : (
                    <ul class="plain">
                      {pointed.get(v.version)!.map((s) => (
                        <li key={s}>{s}</li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>
                  <EvalCell prompt={name} hash={hashes.get(v.version)} evals={hashes.has(v.version) ? evals.get(hashes.get(v.version)!) : undefined} />
                </td>
                <td class="actions">
                  {v.version > 1 && <a href={links.diff(name, v.version - 1, v.version)}>Diff with v{v.version - 1}</a>}{" "}
                  <a href={links.preview(name, { version: String(v.version) })}>Preview</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function VersionSelect({ id, label, value, versions, onChange }: { id: string; label: string; value: number; versions: PromptVersion[]; onChange: (v: number) => void }) {
  return (
    <span class="field-inline">
      <label for={id}>{label}</label>
      <select id={id} value={String(value)} onChange={(e) => onChange(Number(e.currentTarget.value))}>
        {versions.map((v) => (
          <option key={v.version} value={String(v.version)}>
            version {v.version}
            {v.note ? ` — ${v.note.slice(0, 40)}` : ""}
          </option>
        ))}
      </select>
    </span>
  );
}

function VersionDiff({ name, manifest, versions, query }: { name: string; manifest: Manifest; versions: PromptVersion[]; query: URLSearchParams }) {
  const n = versions.length;
  const pick = (k: string, d: number) => {
    const v = Number(query.get(k));
    return Number.isInteger(v) && v >= 1 && v <= n ? v : d;
  };
  const [a, setA] = useState(pick("a", Math.max(1, n - 1)));
  const [b, setB] = useState(pick("b", n));
  const set = (na: number, nb: number) => {
    setA(na);
    setB(nb);
    replaceRoute({ page: "prompt", prompt: name, tab: "diff", query: new URLSearchParams({ a: String(na), b: String(nb) }) });
  };
  const va = versions.find((v) => v.version === a);
  const vb = versions.find((v) => v.version === b);
  const hashes = useHashes(useMemo(() => [va, vb].filter((v): v is PromptVersion => !!v), [va, vb]));
  if (!va || !vb) return <Empty>This prompt has no versions to compare.</Empty>;
  const labels: [string, string] = [`version ${a}`, `version ${b}`];
  const pins = [...new Set([...Object.keys(va.snippets ?? {}), ...Object.keys(vb.snippets ?? {})])].sort();
  const snippetText = (s: string, pin: number | undefined) =>
    pin === undefined ? "" : (manifest.snippets?.[s]?.versions.find((x) => x.version === pin)?.template ?? "");
  const sections: [string, string, string][] = [
    ["Model settings", prettyJson(va.model as never), prettyJson(vb.model as never)],
    ["Tools", prettyJson(va.tools as never), prettyJson(vb.tools as never)],
    ["Response format", prettyJson(va.response_format as never), prettyJson(vb.response_format as never)],
    ["Variables", prettyJson(va.variables as never), prettyJson(vb.variables as never)],
  ];
  return (
    <>
      <div class="toolbar">
        <VersionSelect id="diff-a" label="Before" value={a} versions={versions} onChange={(v) => set(v, b)} />
        <VersionSelect id="diff-b" label="After" value={b} versions={versions} onChange={(v) => set(a, v)} />
        <button type="button" onClick={() => set(b, a)}>
          Swap
        </button>
      </div>
      <table class="meta">
        <thead>
          <tr>
            <th scope="col" />
            <th scope="col">version {a}</th>
            <th scope="col">version {b}</th>
          </tr>
        </thead>
        <tbody>
          {(
            [
              ["Content hash", <code>{shortHash(hashes.get(a))}</code>, <code>{shortHash(hashes.get(b))}</code>],
              ["Author", va.author ?? "—", vb.author ?? "—"],
              ["Note", va.note ?? "—", vb.note ?? "—"],
              ["Created", <Time at={va.created_at} />, <Time at={vb.created_at} />],
            ] as const
          ).map(([k, x, y]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>{x}</td>
              <td>{y}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <DiffSection title="Template" before={templateText(va)} after={templateText(vb)} labels={labels} />
      {sections.map(([title, x, y]) => (
        <DiffSection key={title} title={title} before={x} after={y} labels={labels} />
      ))}
      <h2>Snippet pins</h2>
      {pins.length === 0 ? (
        <Empty>Neither version uses a snippet.</Empty>
      ) : (
        pins.map((s) => {
          const pa = va.snippets?.[s];
          const pb = vb.snippets?.[s];
          return (
            <div key={s} class="snippet-pin">
              <h3>
                {s}: {pa === undefined ? "not used" : `version ${pa}`} → {pb === undefined ? "not used" : `version ${pb}`}
                {pa === pb && <span class="muted"> (unchanged)</span>}
              </h3>
              {pa !== pb && (
                <DiffView
                  before={snippetText(s, pa)}
                  after={snippetText(s, pb)}
                  labels={[pa === undefined ? "—" : `${s} v${pa}`, pb === undefined ? "—" : `${s} v${pb}`]}
                />
              )}
            </div>
          );
        })
      )}
    </>
  );
}

function DiffSection({ title, before, after, labels }: { title: string; before: string; after: string; labels: [string, string] }) {
  const same = before === after;
  return (
    <div class="diff-section">
      <h2>
        {title}
        {same && <span class="muted"> (unchanged{before === "" ? ", not set" : ""})</span>}
      </h2>
      {!same && <DiffView before={before} after={after} labels={labels} />}
      {same && before !== "" && (
        <details>
          <summary>Show</summary>
          <pre class="code">{before}</pre>
        </details>
      )}
    </div>
  );
}
