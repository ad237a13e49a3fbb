// The preview: the npm package's engine (the same Wasm as the edge) renders a version,
// or resolves a label for a unit and shows which version and rule it gets, from the live
// manifest, in the browser.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { replaceRoute } from "../router";
import type { JsonValue, Manifest, PromptVersion } from "../types";
import type { Compiled, Decision } from "../engine";
import { ErrorBox, Loading } from "../components/ui";
import { attributesOf } from "../routes";
import { prettyJson } from "../diff";
import { contentHash } from "../hash";

/** The console-only label that serves the picked version in the preview's copy of the manifest. */
const PREVIEW_LABEL = "__console_preview";

/** A JSON text area's value: the object, or why it is not one. */
function parseObject(text: string, what: string): { value: Record<string, JsonValue> | null; error: string | null } {
  if (text.trim() === "") return { value: {}, error: null };
  try {
    const v = JSON.parse(text) as JsonValue;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return { value: null, error: `${what} must be a JSON object` };
    return { value: v, error: null };
  } catch (e) {
    return { value: null, error: `${what}: ${(e as Error).message}` };
  }
}

/** The variables a version declares, with defaults (required ones as ""), as JSON text. */
function declaredVariables(versions: PromptVersion[]): string {
  const out: Record<string, JsonValue> = {};
  for (const v of versions) {
    for (const [k, d] of Object.entries(v.variables ?? {})) {
      out[k] = "default" in d && d.default !== undefined ? d.default : "";
    }
  }
  return prettyJson(out);
}

/**
 * The manifest the preview compiles: only this prompt (the decision depends on nothing
 * else: the salt is the route's, templates use only pinned snippets), so a large
 * manifest compiles quickly; with the console's label when a version is picked.
 */
function previewManifest(m: Manifest, name: string, version: number | null): Manifest {
  const p = m.prompts[name]!;
  const labels = version === null ? p.labels : { ...p.labels, [PREVIEW_LABEL]: { default: { version } } };
  return { ...m, prompts: { [name]: { ...p, labels } } };
}

/** The preview tab. */
export function Preview({ name, manifest, query, onReload, reloading }: { name: string; manifest: Manifest; query: URLSearchParams; onReload: () => void; reloading: boolean }) {
  const prompt = manifest.prompts[name]!;
  const versions = useMemo(() => [...prompt.versions].sort((a, b) => a.version - b.version), [prompt]);
  const labelNames = Object.keys(prompt.labels ?? {}).sort();
  const initialLabel = query.get("label");
  const [mode, setMode] = useState<"version" | "label">(initialLabel !== null && labelNames.includes(initialLabel) ? "label" : "version");
  const qv = Number(query.get("version"));
  const [version, setVersion] = useState(Number.isInteger(qv) && qv >= 1 && qv <= versions.length ? qv : versions.length);
  const [label, setLabel] = useState(initialLabel !== null && labelNames.includes(initialLabel) ? initialLabel : (labelNames.includes("production") ? "production" : (labelNames[0] ?? "")));
  const [unit, setUnit] = useState(query.get("unit") ?? "user-42");
  const served = mode === "version" ? versions.filter((v) => v.version === version) : versions;
  const [variables, setVariables] = useState(() => declaredVariables(served));
  // Another version declares other variables: fill them in again, unless edited.
  const prefilled = useRef(variables);
  const prefill = declaredVariables(served);
  useEffect(() => {
    if (variables === prefilled.current) setVariables(prefill);
    prefilled.current = prefill;
  }, [prefill]);
  const [attributes, setAttributes] = useState("{}");
  const [engine, setEngine] = useState<{ key: string; compiled: Compiled | null; error: Error | null } | null>(null);

  // Keeps the address in step with the form, so a preview can be shared or reloaded.
  useEffect(() => {
    const q: Record<string, string> = mode === "version" ? { version: String(version) } : { label, unit };
    replaceRoute({ page: "prompt", prompt: name, tab: "preview", query: new URLSearchParams(q) });
  }, [mode, version, label, unit, name]);

  // Compiles the preview's manifest when the revision or the picked version changes.
  const engineKey = `${manifest.revision}/${mode === "version" ? version : "labels"}`;
  const current = useRef<Compiled | null>(null);
  useEffect(() => {
    let live = true;
    import("../engine")
      .then((m) => m.compile(previewManifest(manifest, name, mode === "version" ? version : null)))
      .then(
        (compiled) => {
          if (!live) return compiled.free();
          current.current?.free();
          current.current = compiled;
          setEngine({ key: engineKey, compiled, error: null });
        },
        (error: Error) => live && setEngine({ key: engineKey, compiled: null, error }),
      );
    return () => {
      live = false;
    };
  }, [engineKey]);
  useEffect(() => () => current.current?.free(), []);

  const vars = parseObject(variables, "Variables");
  const attrs = parseObject(attributes, "Attributes");
  let result: { decision: Decision | null; error: Error | null } = { decision: null, error: null };
  if (engine?.compiled && engine.key === engineKey && vars.value && attrs.value) {
    try {
      result.decision = engine.compiled.resolve({
        prompt: name,
        label: mode === "version" ? PREVIEW_LABEL : label,
        unit: mode === "version" ? "console-preview" : unit,
        attributes: attrs.value,
        variables: vars.value,
      });
    } catch (e) {
      result = { decision: null, error: e as Error };
    }
  }
  const routeAttrs = mode === "label" && prompt.labels?.[label] ? attributesOf(prompt.labels[label]!) : [];
  const required = served.flatMap((v) => Object.entries(v.variables ?? {}).filter(([, d]) => "required" in d && d.required).map(([k]) => k));

  return (
    <div class="preview">
      <form class="card preview-form" onSubmit={(e) => e.preventDefault()}>
        <fieldset>
          <legend>What to preview</legend>
          <label class="radio">
            <input type="radio" name="mode" value="version" checked={mode === "version"} onChange={() => setMode("version")} /> A version
          </label>
          <label class="radio">
            <input type="radio" name="mode" value="label" checked={mode === "label"} onChange={() => setMode("label")} disabled={labelNames.length === 0} /> A label
            and a unit (which version and rule the unit gets)
          </label>
        </fieldset>
        {mode === "version" ? (
          <div class="field">
            <label for="pv-version">Version</label>
            <select id="pv-version" value={String(version)} onChange={(e) => setVersion(Number(e.currentTarget.value))}>
              {versions.map((v) => (
                <option key={v.version} value={String(v.version)}>
                  version {v.version}
                  {v.note ? ` — ${v.note.slice(0, 50)}` : ""}
                </option>
              ))}
            </select>
          </div>
        ) : (
          <div class="field-row">
            <div class="field">
              <label for="pv-label">Label</label>
              <select id="pv-label" value={label} onChange={(e) => setLabel(e.currentTarget.value)}>
                {labelNames.map((l) => (
                  <option key={l} value={l}>
                    {l}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="pv-unit">Unit</label>
              <input id="pv-unit" value={unit} onInput={(e) => setUnit(e.currentTarget.value)} spellcheck={false} />
            </div>
          </div>
        )}
        <div class="field">
          <label for="pv-vars">Variables (JSON)</label>
          <textarea id="pv-vars" rows={8} spellcheck={false} value={variables} onInput={(e) => setVariables(e.currentTarget.value)} aria-describedby="pv-vars-help" />
          <p id="pv-vars-help" class="help">
            Prefilled with the declared variables and their defaults{required.length > 0 && <> (required: {[...new Set(required)].join(", ")})</>}.{" "}
            <button type="button" class="link" onClick={() => setVariables(declaredVariables(served))}>
              Fill in again
            </button>
          </p>
          {vars.error && (
            <p class="error" role="alert">
              {vars.error}
            </p>
          )}
        </div>
        <div class="field">
          <label for="pv-attrs">Attributes (JSON)</label>
          <textarea id="pv-attrs" rows={3} spellcheck={false} value={attributes} onInput={(e) => setAttributes(e.currentTarget.value)} aria-describedby="pv-attrs-help" />
          <p id="pv-attrs-help" class="help">
            For the rules' conditions{routeAttrs.length > 0 ? `; this route reads: ${routeAttrs.join(", ")}` : ""}.
          </p>
          {attrs.error && (
            <p class="error" role="alert">
              {attrs.error}
            </p>
          )}
        </div>
        <p class="help">
          Rendered in this browser by the npm package (the edge's engine) from the live manifest, revision {manifest.revision}.{" "}
          <button type="button" onClick={onReload} disabled={reloading}>
            {reloading ? "Reloading…" : "Reload the manifest"}
          </button>
        </p>
      </form>
      <div class="preview-out" aria-live="polite">
        {engine === null || (engine.key !== engineKey && !engine.error) ? (
          <Loading what="the engine" />
        ) : engine.error ? (
          <ErrorBox error={engine.error} title="The engine could not compile the manifest" />
        ) : result.error ? (
          <ErrorBox error={result.error} title="The engine refused this request" />
        ) : result.decision ? (
          <DecisionView decision={result.decision} mode={mode} version={versions.find((v) => v.version === result.decision!.version)} />
        ) : (
          <p class="muted">Fix the JSON above to see the rendered prompt.</p>
        )}
      </div>
    </div>
  );
}

function DecisionView({ decision, mode, version }: { decision: Decision; mode: "version" | "label"; version: PromptVersion | undefined }) {
  // Checks the console's own hash (shown on the versions list) against the engine's.
  const [hashOk, setHashOk] = useState<boolean | null>(null);
  useEffect(() => {
    let live = true;
    if (version) contentHash(version).then((h) => live && setHashOk(h === decision.hash), () => {});
    return () => {
      live = false;
    };
  }, [version, decision.hash]);
  return (
    <div class="decision">
      <h2>Rendered</h2>
      <dl class="facts">
        <dt>Version</dt>
        <dd data-testid="pv-version">{decision.version}</dd>
        {mode === "label" && (
          <>
            <dt>Rule</dt>
            <dd data-testid="pv-rule">{decision.rule}</dd>
            <dt>Bucket</dt>
            <dd>{decision.bucket}</dd>
          </>
        )}
        <dt>Revision</dt>
        <dd>{decision.revision}</dd>
        <dt>Content hash</dt>
        <dd>
          <code>{decision.hash}</code>
          {hashOk === false && <span class="badge badge-warn">differs from the console's computation</span>}
        </dd>
      </dl>
      {"messages" in decision ? (
        <ol class="messages" data-testid="pv-messages">
          {decision.messages.map((m, i) => (
            <li key={i} class={`message role-${m.role.replace(/[^a-z0-9_-]/gi, "")}`}>
              <span class="role">{m.role}</span>
              <pre class="content">{m.content}</pre>
            </li>
          ))}
        </ol>
      ) : (
        <pre class="content" data-testid="pv-text">
          {decision.text}
        </pre>
      )}
      <h3>Model settings</h3>
      <pre class="code">{decision.model ? prettyJson(decision.model as never) : "not set"}</pre>
      {decision.tools && (
        <>
          <h3>Tools</h3>
          <pre class="code">{prettyJson(decision.tools as never)}</pre>
        </>
      )}
      {decision.response_format && (
        <>
          <h3>Response format</h3>
          <pre class="code">{prettyJson(decision.response_format as never)}</pre>
        </>
      )}
    </div>
  );
}
