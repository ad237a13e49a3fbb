// The conformance set (tests/conformance/, see its README) run through the npm
// package's Engine, the same way in Node, in workerd and in Chromium: no file access
// here, the caller hands over the parsed section documents (`{ manifest, assignment,
// decisions, conditions, rendering }`, the manifest as JSON text).

// The spec version the package implements: the engine's edgeprompt::SPEC_VERSION, which
// the package is built from. A section pinning another version fails at once: the
// package's tests must follow a change of behaviour (tests/conformance/README.md).
export const SPEC_VERSION = 2;

export const SECTIONS = ["assignment", "decisions", "conditions", "rendering"];

/** Checks the section's header against the spec version implemented; returns its cases. */
export function casesOf(doc, name, implemented = SPEC_VERSION) {
  if (doc?.section !== name) throw new Error(`not the ${name} section: ${JSON.stringify(doc?.section)}`);
  if (doc.spec_version !== implemented) {
    throw new Error(`${name}.json pins spec_version ${doc.spec_version}; this package implements ${implemented}`);
  }
  if (!Array.isArray(doc.cases) || doc.cases.length === 0) throw new Error(`${name}.json has no cases`);
  return doc.cases;
}

/** Runs every section; `{ section: { total, failures } }`. */
export function runAll(Engine, set) {
  return {
    assignment: checkAssignment(Engine, set.assignment),
    decisions: checkDecisions(Engine, set.manifest, set.decisions),
    conditions: checkConditions(Engine, set.conditions),
    rendering: checkRendering(Engine, set.rendering),
  };
}

// What a resolve gives: the decision, or the error's code and message.
function outcome(engine, request) {
  try {
    return { decision: engine.resolve(request) };
  } catch (e) {
    if (typeof e?.code !== "string") throw e;
    return { error: { code: e.code, message: e.message } };
  }
}

/** Decisions: every case's decision or error equals the expected one exactly. */
export function checkDecisions(Engine, manifest, doc) {
  const cases = casesOf(doc, "decisions", Engine.specVersion);
  const engine = new Engine(manifest);
  const failures = [];
  for (const c of cases) {
    const a = canonical(outcome(engine, c.request));
    const b = canonical(c.expected);
    if (a !== b) failures.push({ name: c.name, got: a, expected: b });
  }
  return { total: cases.length, failures };
}

/**
 * Assignment: the bucket of each (salt, unit) through a resolve, on a route with that
 * salt. (The 64-bit hash is not observable through the package; the native tests check
 * it.) Cases whose salt or unit a manifest or request cannot hold (the empty salt) are
 * counted in `skipped`.
 */
export function checkAssignment(Engine, doc) {
  const cases = casesOf(doc, "assignment", Engine.specVersion);
  const usable = (c) => c.salt.length > 0 && bytes(c.salt) <= 256 && c.unit.length > 0 && bytes(c.unit) <= 512;
  const salts = [...new Set(cases.filter(usable).map((c) => c.salt))];
  const prompts = {};
  salts.forEach((salt, i) => {
    prompts[`a${i}`] = {
      versions: [{ version: 1, text: "" }],
      labels: { production: { salt, default: { version: 1 } } },
    };
  });
  const engine = new Engine({ schema: 1, revision: 1, prompts });
  const failures = [];
  let checked = 0;
  for (const c of cases) {
    if (!usable(c)) continue;
    const d = engine.resolve({ prompt: `a${salts.indexOf(c.salt)}`, unit: c.unit });
    if (d.bucket !== c.bucket) failures.push({ name: `${c.salt} / ${c.unit}`, got: d.bucket, expected: c.bucket });
    checked++;
  }
  return { total: cases.length, checked, skipped: cases.length - checked, failures };
}

/**
 * Conditions: one manifest, one prompt per case, whose route has the single rule `r`
 * (the case's condition, targeting version 2) and serves version 1 by default.
 */
export function checkConditions(Engine, doc) {
  const cases = casesOf(doc, "conditions", Engine.specVersion);
  const prompts = {};
  cases.forEach((c, i) => {
    prompts[`c${i}`] = {
      versions: [{ version: 1, text: "1" }, { version: 2, text: "2" }],
      labels: { production: { rules: [{ name: "r", when: c.when, target: { version: 2 } }], default: { version: 1 } } },
    };
  });
  const engine = new Engine({ schema: 1, revision: 1, prompts });
  const failures = [];
  cases.forEach((c, i) => {
    const request = { prompt: `c${i}`, unit: "u" };
    if (c.attributes !== undefined) request.attributes = c.attributes;
    // The request's time, when the case gives one (an RFC 3339 text in ISO form).
    if (c.now !== undefined) request.now = Date.parse(c.now);
    const d = engine.resolve(request);
    const holds = d.rule === "r";
    if (d.version !== (holds ? 2 : 1) || holds !== c.expected) {
      failures.push({ name: c.name, got: `rule ${d.rule}, version ${d.version}`, expected: c.expected });
    }
  });
  return { total: cases.length, failures };
}

/**
 * Rendering: one manifest, one text prompt per case whose template is the case's and
 * whose variables are the keys of its data (default null), resolved with the data as
 * the request's variables. Cases marked `native_only` use names the data does not
 * hold, which a manifest must declare; they are counted in `skipped`.
 */
export function checkRendering(Engine, doc) {
  const cases = casesOf(doc, "rendering", Engine.specVersion);
  const prompts = {};
  cases.forEach((c, i) => {
    if (c.native_only) return;
    const variables = Object.fromEntries(Object.keys(c.data).map((k) => [k, { default: null }]));
    prompts[`t${i}`] = { versions: [{ version: 1, text: c.template, variables }], labels: { production: { default: { version: 1 } } } };
  });
  const engine = new Engine({ schema: 1, revision: 1, prompts });
  const failures = [];
  let checked = 0;
  cases.forEach((c, i) => {
    if (c.native_only) return;
    const got = outcome(engine, { prompt: `t${i}`, unit: "u", variables: c.data });
    if (got.decision?.text !== c.expected) failures.push({ name: c.name, got: JSON.stringify(got.decision?.text ?? got.error), expected: JSON.stringify(c.expected) });
    checked++;
  });
  return { total: cases.length, checked, skipped: cases.length - checked, failures };
}

const encoder = new TextEncoder();
const bytes = (s) => encoder.encode(s).length;

// JSON with every object's keys sorted: equal texts, equal values.
function canonical(v) {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  }
  return v;
}
