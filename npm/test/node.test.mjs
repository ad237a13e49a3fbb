// The package in Node: the conformance set bit for bit, the packed and JSON paths, errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { Engine, EdgepromptError, createClient } from "edgeprompt";
import { SPEC_VERSION, SECTIONS, casesOf, checkAssignment, checkConditions, checkDecisions, checkRendering } from "./conformance.mjs";

const conformance = (f) => fs.readFileSync(new URL(`../../tests/conformance/${f}`, import.meta.url), "utf8");
const section = (name) => JSON.parse(conformance(`${name}.json`));
const manifest = conformance("manifest.json");
const cases = casesOf(section("decisions"), "decisions");

test("the conformance set pins the spec version this package implements", () => {
  for (const name of SECTIONS) {
    assert.equal(section(name).spec_version, SPEC_VERSION, `${name}.json`);
    assert.ok(casesOf(section(name), name).length > 0);
  }
  // A section of another version is refused, not run.
  assert.throws(() => casesOf({ ...section("conditions"), spec_version: SPEC_VERSION + 1 }, "conditions"), /pins spec_version/);
  // The build itself says which version it implements, and the checks hold it to it.
  assert.equal(Engine.specVersion, SPEC_VERSION);
  assert.equal(section("decisions").manifest, "manifest.json");
});

test("conformance decisions: every decision and error equals the expected one", () => {
  const { total, failures } = checkDecisions(Engine, manifest, section("decisions"));
  assert.ok(total >= 60);
  assert.deepEqual(failures, []);
});

test("conformance assignment: every bucket equals the expected one", () => {
  const { checked, failures } = checkAssignment(Engine, section("assignment"));
  assert.ok(checked >= 99, `${checked} checked`);
  assert.deepEqual(failures, []);
});

test("conformance conditions: every condition evaluates as expected", () => {
  const { total, failures } = checkConditions(Engine, section("conditions"));
  assert.ok(total >= 150);
  assert.deepEqual(failures, []);
});

test("conformance rendering: every template renders as expected", () => {
  const { checked, failures } = checkRendering(Engine, section("rendering"));
  assert.ok(checked >= 90, `${checked} checked`);
  assert.deepEqual(failures, []);
});

test("a manifest object and its JSON text compile to the same engine", () => {
  const a = new Engine(JSON.parse(manifest));
  const b = new Engine(manifest);
  const req = cases[0].request;
  assert.deepEqual(a.resolve(req), b.resolve(req));
  assert.equal(a.revision, 7);
});

test("values the packed form cannot carry take the JSON path and decide the same", () => {
  const engine = new Engine(manifest);
  const base = { prompt: "golden", unit: "u1", variables: { question: "q?" } };
  const plain = engine.resolve({ ...base, variables: { question: "q?", s: "a" } });
  // A NUL in a value, an empty label, a bigint: each changes the path, not the rules.
  const nul = engine.resolve({ ...base, variables: { question: "q\0?", s: "a" } });
  assert.equal(nul.version, plain.version);
  assert.equal(nul.messages.at(-1).content, "q\0?");
  // A NUL in template text, a key or a unit: text by address and the NUL count keep
  // the decision whole.
  const m = JSON.parse(manifest);
  m.prompts.golden.versions[1].messages[0].content = "v2\0{{question}}";
  const nulManifest = new Engine(m).resolve({ ...base, variables: { question: "q?", s: "a" } });
  assert.equal(nulManifest.messages[0].content, "v2\0q?");
  const nulKey = engine.resolve({ ...base, variables: { question: "q?", "s\x00": "a" } });
  assert.deepEqual(nulKey, plain);
  const nulUnit = engine.resolve({ ...base, unit: "u\x001" });
  assert.deepEqual(nulUnit, engine.resolve({ ...base, unit: "u\x001" }));
  assert.ok(nulUnit.bucket >= 0 && nulUnit.bucket < 10000);
  assert.throws(() => engine.resolve({ ...base, label: "" }), (e) => e instanceof EdgepromptError && e.code === "unknown_label");
  assert.throws(() => engine.resolve({ ...base, variables: { question: 1n } }), (e) => e.code === "invalid_request");
  // undefined values are skipped, like JSON.stringify does.
  assert.deepEqual(engine.resolve({ ...base, variables: { question: "q?", s: undefined } }), engine.resolve(base));
});

test("an invalid manifest is refused with every problem and its path", () => {
  const bad = JSON.parse(manifest);
  bad.prompts.golden.versions[0].text = "{{#open}}";
  assert.throws(() => new Engine(bad), (e) => {
    assert.ok(e instanceof EdgepromptError);
    assert.equal(e.code, "invalid_manifest");
    assert.ok(e.problems.length >= 1);
    assert.match(e.problems[0].path, /^prompts\.golden\.versions\[0\]/);
    return true;
  });
  assert.throws(() => new Engine("{"), (e) => e.code === "invalid_manifest");
});

test("decisions do not share mutable state", () => {
  const engine = new Engine(manifest);
  const req = { prompt: "golden", unit: "u1", variables: { question: "q?" } };
  const d = engine.resolve(req);
  assert.equal(d.model.name, "gpt-4o");
  assert.throws(() => { d.model.params.temperature = 2; }, TypeError);
  assert.throws(() => { d.tools.push({}); }, TypeError);
  assert.equal(engine.resolve(req).model.params.temperature, 0.5);
  assert.notEqual(engine.resolve(req).messages, d.messages);
});

test("a client with a given manifest resolves without any network", async () => {
  const client = await createClient({ manifest });
  assert.equal(client.revision, 7);
  assert.deepEqual(client.resolve(cases[0].request), new Engine(manifest).resolve(cases[0].request));
  assert.throws(() => client.track(client.resolve(cases[0].request), "resolved", 1), (e) => e.code === "unknown_decision");
  await client.close();
});

test("decisions stay whole when the engine's memory grows between and during resolves", () => {
  const engine = new Engine(manifest);
  const base = { prompt: "golden", unit: "u1", variables: { question: "q?" } };
  const units = Array.from({ length: 200 }, (_, i) => `grow-${i}`);
  // Decided before any growth, by another engine (its own caches).
  const reference = new Engine(manifest);
  const expected = units.map((unit) => reference.resolve({ ...base, unit }));
  const before = engine.resolve(base);
  // A request far larger than the request buffer and the memory grown so far: the
  // buffer and then the memory grow, which detaches every view of the old memory.
  const big = "é".repeat(400_000);
  const large = engine.resolve({ ...base, variables: { question: big } });
  assert.equal(large.messages.at(-1).content, big);
  assert.deepEqual(engine.resolve(base), before);
  // Versions first met after the growth: their text and fixed parts are read then.
  assert.deepEqual(units.map((unit) => engine.resolve({ ...base, unit })), expected);
  assert.ok(new Set(expected.map((d) => d.version)).size > 1);
});

test("local errors carry the details the edge gives", () => {
  const engine = new Engine(manifest);
  // Whatever version the unit gets, its required variable is missing.
  assert.throws(() => engine.resolve({ prompt: "golden", unit: "u1" }), (e) => {
    assert.equal(e.code, "missing_variables");
    assert.deepEqual(e.details, { missing: ["question"] });
    return true;
  });
});

test("outcomes are checked by the edge's rules before they are queued", async () => {
  const engine = new Engine(manifest);
  engine.checkOutcome("resolved", 1);
  engine.checkOutcome("resolved", true);
  assert.throws(() => engine.checkOutcome("resolved", 0.5), (e) => e.code === "invalid_value");
  assert.throws(() => engine.checkOutcome("nope", 1), (e) => e.code === "undeclared_metric");
  const m = JSON.parse(manifest);
  m.metrics.items = { kind: "count" };
  assert.throws(() => new Engine(m).checkOutcome("items", 2), (e) => e.code === "missing_id");
  new Engine(m).checkOutcome("items", 2, "order-1");

  const client = await createClient({ manifest, edge: "http://edge.test", fetch: async () => new Response("{}", { status: 503 }), refreshIntervalMs: 0, flushIntervalMs: 60_000 });
  const d = client.resolve({ prompt: "golden", unit: "u1", variables: { question: "q?" } });
  assert.throws(() => client.track(d, "resolved", 2), (e) => e.code === "invalid_value");
  assert.throws(() => client.track(d, "nope", 1), (e) => e.code === "undeclared_metric");
  client.track(d, "resolved", 1);
  await client.close().catch(() => {});
});

test("the client resends what the edge did not take, after a backoff, and drops only refused events", async () => {
  const posts = [];
  let exposureCalls = 0;
  const fetch = async (url, init) => {
    const path = new URL(url).pathname;
    const body = JSON.parse(init.body);
    posts.push({ path, body });
    if (path === "/v1/exposures") {
      // The edge is unreachable once, then answers with a token per exposure.
      if (exposureCalls++ === 0) throw new TypeError("fetch failed");
      return Response.json({ results: body.exposures.map((_, i) => ({ version: 1, token: `t${i}` })) });
    }
    if (body.events.length === 2) {
      // The first outcome's token has expired: the batch is refused, naming it.
      return Response.json({ error: { code: "invalid_events", message: "1 of 2 event(s) refused", details: { errors: [{ index: 0, code: "expired_token", message: "token expired" }] } } }, { status: 422 });
    }
    return Response.json({ accepted: body.events.length, duplicates: 0 }, { status: 202 });
  };
  const errors = [];
  const client = await createClient({ manifest, edge: "http://edge.test", fetch, refreshIntervalMs: 0, flushIntervalMs: 5, onError: (e) => errors.push(e.code ?? e.message) });
  const a = client.resolve({ prompt: "golden", unit: "u1", variables: { question: "q?" } });
  const b = client.resolve({ prompt: "golden", unit: "u2", variables: { question: "q?" } });
  client.track(a, "resolved", 1);
  client.track(b, "resolved", 0);
  const deadline = Date.now() + 5_000;
  while (!posts.some((p) => p.path === "/v1/events" && p.body.events.length === 1) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const events = posts.filter((p) => p.path === "/v1/events").map((p) => p.body.events.map((e) => e.token));
  assert.equal(posts.filter((p) => p.path === "/v1/exposures").length, 2, "the exposures were sent again after the failure");
  assert.deepEqual(events, [["t0", "t1"], ["t1"]], "only the refused outcome was dropped");
  assert.ok(errors.includes("expired_token"));
  await client.close();
});

test("a full queue drops its oldest item and says so", async () => {
  const errors = [];
  const client = await createClient({ manifest, edge: "http://edge.test", fetch: async () => { throw new TypeError("offline"); }, refreshIntervalMs: 0, flushIntervalMs: 60_000, maxQueue: 3, onError: (e) => errors.push(e.code) });
  for (let i = 0; i < 5; i++) client.resolve({ prompt: "golden", unit: `u${i}`, variables: { question: "q?" } });
  assert.equal(errors.filter((c) => c === "queue_full").length, 2);
  await client.close().catch(() => {});
});

test("lists sent item by item render as JSON.stringify would have sent them", () => {
  const m = {
    schema: 1,
    revision: 1,
    prompts: {
      p: {
        versions: [{ version: 1, text: "{{list}}|{{#list}}[{{.}}]{{/list}}|{{list.1}}", variables: { list: { required: true }, zz: { default: null } } }],
        labels: { production: { default: { version: 1 } } },
      },
    },
  };
  const engine = new Engine(m);
  const lists = [
    ["a", "b"],
    [],
    [1, 1.5, -0, 1e21, 2 ** 60, NaN, Infinity],
    [true, false, null, undefined, () => 1, Symbol("s")],
    ["é😀", "x"],
    ["a", { b: 1 }],
  ];
  for (const list of lists) {
    const packed = engine.resolve({ prompt: "p", unit: "u", variables: { list } }).text;
    // A NUL elsewhere sends the request down the JSON path (JSON.stringify semantics).
    const json = engine.resolve({ prompt: "p", unit: "u", variables: { list, zz: "\0" } }).text;
    assert.equal(packed, json, JSON.stringify(list));
  }
  assert.equal(engine.resolve({ prompt: "p", unit: "u", variables: { list: ["a", "b"] } }).text, '["a","b"]|[a][b]|b');
});

test("the engine's memory stops growing: resolves and recompiles reuse freed blocks", async () => {
  const { Engine: WasmEngine } = await import("../pkg/edgeprompt.js");
  const size = () => WasmEngine.memory().buffer.byteLength;
  const requests = cases.map((c) => c.request).filter((r) => r && typeof r === "object");
  const work = () => {
    const engine = new Engine(manifest);
    for (let i = 0; i < 200; i++) {
      for (const req of requests) {
        try {
          engine.resolve({ ...req, unit: `${req.unit}-${i % 7}` });
        } catch (e) {
          if (!(e instanceof EdgepromptError)) throw e;
        }
      }
    }
    engine.free();
  };
  work(); // the first round takes what the workload needs
  const before = size();
  for (let round = 0; round < 5; round++) work();
  assert.equal(size(), before, `memory grew from ${before} to ${size()} bytes`);
});

test("a large manifest compiles and every prompt in it resolves (large blocks of the heap)", () => {
  const filler = "Answer in the customer's language, politely and briefly. ".repeat(40);
  const prompts = {};
  for (let i = 0; i < 400; i++) {
    prompts[`p${i}`] = {
      versions: [1, 2].map((version) => ({
        version,
        text: `${filler}[${i}/${version}] {{name}}`,
        variables: { name: { required: true } },
      })),
      labels: { production: { default: { split: [{ version: 1, weight: 50 }, { version: 2, weight: 50 }] } } },
    };
  }
  const text = JSON.stringify({ schema: 1, revision: 3, prompts });
  assert.ok(text.length > 1_000_000, `manifest is ${text.length} bytes`);
  const engine = new Engine(text);
  for (let i = 0; i < 400; i++) {
    const d = engine.resolve({ prompt: `p${i}`, unit: `user-${i}`, variables: { name: "Ada" } });
    assert.equal(d.text, `${filler}[${i}/${d.version}] Ada`);
  }
  engine.free();
});
