// An eval report as the control plane keeps it (`GET /admin/v1/evals/ID`: the document
// `edgeprompt eval --report` sent): whether it passed, where it ran, each version's
// counts, and every case with its assertions and their outcomes.
import { useState } from "preact/hooks";
import { api } from "../api";
import { useAsync, useTitle } from "../hooks";
import { links } from "../router";
import type { EvalAssertion, EvalDocument, EvalResult } from "../types";
import { Badge, Empty, ErrorBox, Loading, Time } from "../components/ui";
import { shortHash } from "../format";

const tone = (result: string): "ok" | "bad" | "warn" | "muted" => (result === "pass" ? "ok" : result === "fail" || result === "error" ? "bad" : result === "skip" ? "muted" : "warn");

/** The report page; `prompt` and `hash` narrow the cases to one version's (from the prompt page). */
export function EvalReportPage({ id, prompt, hash }: { id: number; prompt: string | null; hash: string | null }) {
  useTitle(`Eval report #${id}`);
  const [data] = useAsync(() => api.evalReport(id), [id]);
  const [all, setAll] = useState(prompt === null && hash === null);
  if (data.state === "error") return <ErrorBox error={data.error} title={`Eval report #${id} could not be loaded`} />;
  if (!data.value) return <Loading what={`eval report #${id}`} />;
  const { report: doc, actor, at_ms } = data.value;
  const results = doc.results ?? [];
  const mine = results.filter((r) => (prompt === null || r.prompt === prompt) && (hash === null || r.hash === hash));
  const shown = all ? results : mine;
  return (
    <section>
      <div class="page-head">
        <p class="crumbs">
          <a href={links.overview()}>Overview</a>
          {prompt !== null && (
            <>
              {" "}
              / <a href={links.prompt(prompt)}>{prompt}</a>
            </>
          )}{" "}
          / eval report
        </p>
        <h1>
          Eval report #{id} <Badge tone={doc.passed ? "ok" : "bad"}>{doc.passed ? "passed" : "failed"}</Badge>
        </h1>
        <p class="muted">
          Recorded by {actor}, <Time at={at_ms} />
          {doc.created_at && (
            <>
              {" "}
              (run <Time at={doc.created_at} />)
            </>
          )}
          {sourceText(doc) && ` · ${sourceText(doc)}`}
          {doc.model?.url && ` · model ${doc.model.url}${doc.model.calls !== undefined ? `, ${doc.model.calls} calls` : ""}${doc.model.cache_hits ? `, ${doc.model.cache_hits} from the cache` : ""}`}
          {doc.client?.version && ` · ${doc.client.name ?? "edgeprompt"} ${doc.client.version}`}
        </p>
      </div>
      <h2>Versions</h2>
      <div class="table-scroll">
        <table class="eval-versions">
          <thead>
            <tr>
              <th scope="col">Prompt</th>
              <th scope="col" class="num">
                Version
              </th>
              <th scope="col">Content hash</th>
              <th scope="col">Result</th>
              <th scope="col" class="num">
                Cases
              </th>
              <th scope="col" class="num">
                Failed
              </th>
              <th scope="col" class="num">
                Errors
              </th>
              <th scope="col" class="num">
                Skipped assertions
              </th>
            </tr>
          </thead>
          <tbody>
            {doc.versions.map((v) => (
              <tr key={`${v.prompt}/${v.hash}`} class={v.prompt === prompt && v.hash === hash ? "focused" : undefined}>
                <th scope="row">
                  <a href={links.prompt(v.prompt)}>{v.prompt}</a>
                </th>
                <td class="num">{v.version ?? "—"}</td>
                <td>
                  <code title={v.hash}>{shortHash(v.hash)}</code>
                </td>
                <td>
                  <Badge tone={v.passed ? "ok" : "bad"}>{v.passed ? "passed" : "failed"}</Badge>
                </td>
                <td class="num">{v.cases}</td>
                <td class="num">{v.failed}</td>
                <td class="num">{v.errors}</td>
                <td class="num">{v.skipped_assertions ?? 0}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Cases</h2>
      {(prompt !== null || hash !== null) && (
        <p class="muted">
          {all ? `Every case of the report (${results.length}).` : `The cases of ${prompt ?? "the prompt"}${hash ? ` with content hash ${shortHash(hash)}` : ""} (${mine.length} of ${results.length}).`}{" "}
          <button type="button" class="link" onClick={() => setAll(!all)}>
            {all ? "Show only this version's cases" : "Show every case"}
          </button>
        </p>
      )}
      {shown.length === 0 ? <Empty>The report lists no case{all ? "" : " for this version"}.</Empty> : <CasesTable results={shown} />}
    </section>
  );
}

function sourceText(doc: EvalDocument): string {
  const s = doc.source;
  if (!s) return "";
  if (s.kind === "remote") return `against ${s.url ?? "a control plane"}${s.revision != null ? ` at revision ${s.revision}` : ""}${s.label ? `, label ${s.label}` : ""}`;
  if (s.kind === "local") return `local sources${s.dir ? ` in ${s.dir}` : ""}`;
  return "";
}

/** Every case with its outcome and its assertions in order. */
function CasesTable({ results }: { results: EvalResult[] }) {
  return (
    <div class="table-scroll">
      <table class="eval-cases" data-testid="eval-cases">
        <thead>
          <tr>
            <th scope="col">Case</th>
            <th scope="col">Suite</th>
            <th scope="col">Prompt</th>
            <th scope="col" class="num">
              Version
            </th>
            <th scope="col">Result</th>
            <th scope="col">Assertions</th>
          </tr>
        </thead>
        <tbody>
          {results.map((r, i) => (
            <tr key={i}>
              <th scope="row">{r.case}</th>
              <td>{r.suite}</td>
              <td>{r.prompt}</td>
              <td class="num">{r.version ?? "—"}</td>
              <td>
                <Badge tone={tone(r.result)}>{r.result}</Badge>
                {r.error && <div class="small">{r.error}</div>}
              </td>
              <td>
                {r.assertions.length === 0 ? (
                  <span class="muted">none</span>
                ) : (
                  <ul class="plain assertions">
                    {r.assertions.map((a, j) => (
                      <AssertionItem key={j} a={a} />
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AssertionItem({ a }: { a: EvalAssertion }) {
  return (
    <li>
      <Badge tone={tone(a.result)}>{a.result}</Badge> <code>{a.type}</code>
      {a.role ? ` [${a.role}]` : ""}
      {a.score !== undefined && ` score ${a.score}${a.threshold !== undefined ? ` (threshold ${a.threshold})` : ""}`}
      {a.reason && <span>: {a.reason}</span>}
    </li>
  );
}
