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

test("a batch of exposures the edge refuses as malformed fails its exposures instead of being resent", async () => {
  let exposureCalls = 0;
  const fetch = async (url) => {
    if (new URL(url).pathname === "/v1/exposures") exposureCalls++;
    return Response.json({ error: { code: "invalid_request", message: "unknown field" } }, { status: 400 });
  };
  const errors = [];
  const client = await createClient({ manifest, edge: "http://edge.test", fetch, refreshIntervalMs: 0, flushIntervalMs: 5, onError: (e) => errors.push(e.code) });
  const d = client.resolve({ prompt: "golden", unit: "u1", variables: { question: "q?" } });
  await client.flush().catch(() => {});
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(exposureCalls, 1, "sent once, not again");
  assert.equal(client.stats().exposures, 0, "nothing left queued behind it");
  assert.ok(errors.includes("invalid_request"));
  assert.throws(() => client.track(d, "resolved", 1), (e) => e.code === "invalid_request");
  await client.close().catch(() => {});
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

// An edge that answers each exposure with a token named after its unit; `offline` makes it unreachable.
function stubEdge() {
  const edge = { posts: [], offline: false };
  edge.fetch = async (url, init) => {
    if (edge.offline) throw new TypeError("fetch failed");
    const path = new URL(url).pathname;
    const body = JSON.parse(init.body);
    edge.posts.push({ path, body, keepalive: init.keepalive });
    if (path === "/v1/exposures") return Response.json({ results: body.exposures.map((e) => ({ version: 1, token: `t-${e.unit}` })) });
    return Response.json({ accepted: body.events.length, duplicates: 0 }, { status: 202 });
  };
  edge.exposed = () => edge.posts.filter((p) => p.path === "/v1/exposures").flatMap((p) => p.body.exposures.map((e) => e.unit));
  edge.events = () => edge.posts.filter((p) => p.path === "/v1/events").flatMap((p) => p.body.events);
  return edge;
}

// A page in Node: the globals the client looks for, a sendBeacon that records what it is
// handed and accepts it or not (`accept`), and `hide()` to fire pagehide. Undone after the test.
function fakePage(t) {
  const listeners = [];
  const page = { beacons: [], accept: true, hide: () => listeners.forEach((fn) => fn({ type: "pagehide" })) };
  const globals = {
    document: { visibilityState: "visible" },
    navigator: { sendBeacon: (url, blob) => (page.beacons.push({ path: new URL(url).pathname, blob }), page.accept) },
    addEventListener: (type, fn) => type === "pagehide" && listeners.push(fn),
    removeEventListener: () => {},
  };
  for (const [name, value] of Object.entries(globals)) {
    const saved = Object.getOwnPropertyDescriptor(globalThis, name);
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
    t.after(() => (saved ? Object.defineProperty(globalThis, name, saved) : delete globalThis[name]));
  }
  page.sent = () => Promise.all(page.beacons.map(async (b) => ({ path: b.path, size: b.blob.size, body: JSON.parse(await b.blob.text()) })));
  return page;
}

const golden = (client) => (unit, attributes) => client.resolve({ prompt: "golden", unit, attributes, variables: { question: "q?" } });

test("the client remembers at most maxEntries answered exposures, the most recently used, and never one still to be sent", async () => {
  const edge = stubEdge();
  const client = await createClient({ manifest, edge: "http://edge.test", fetch: edge.fetch, refreshIntervalMs: 0, flushIntervalMs: 60_000, maxEntries: 3, onError: () => {} });
  const resolve = golden(client);
  // The edge unreachable: every exposure waits to be sent, none is forgotten or queued twice.
  edge.offline = true;
  const held = resolve("u0");
  for (let i = 1; i < 10; i++) resolve(`u${i}`);
  resolve("u0");
  assert.deepEqual(client.stats(), { entries: 10, exposures: 10, outcomes: 0 });
  await assert.rejects(client.flush());
  assert.deepEqual(client.stats(), { entries: 10, exposures: 10, outcomes: 0 });
  edge.offline = false;
  await client.flush();
  assert.deepEqual(edge.exposed(), Array.from({ length: 10 }, (_, i) => `u${i}`));
  assert.deepEqual(client.stats(), { entries: 3, exposures: 0, outcomes: 0 });

  // Many distinct units: the memory stays bounded.
  for (let i = 0; i < 1_000; i++) resolve(`many-${i}`);
  await client.flush();
  assert.equal(edge.exposed().length, 1_010);
  assert.deepEqual(client.stats(), { entries: 3, exposures: 0, outcomes: 0 });

  // many-998 used again becomes the most recent: many-997 and many-999 make room.
  resolve("many-998");
  resolve("v1");
  resolve("v2");
  await client.flush();
  for (const unit of ["many-998", "v1", "v2"]) resolve(unit);
  assert.equal(client.stats().exposures, 0, "the most recently used are remembered");
  resolve("many-999");
  assert.equal(client.stats().exposures, 1, "an evicted unit is reported again");

  // A decision still held keeps its own entry: its outcome goes with its token.
  client.track(held, "resolved", 1);
  await client.flush();
  assert.deepEqual(edge.events(), [{ token: "t-u0", metric: "resolved", value: 1 }]);
  assert.deepEqual(client.stats(), { entries: 3, exposures: 0, outcomes: 0 });
  await client.close();
});

test("what a refused beacon carried stays queued for the next flush; an accepted one is sent once", async (t) => {
  const page = fakePage(t);
  const edge = stubEdge();
  const client = await createClient({ manifest, edge: "http://edge.test", fetch: edge.fetch, refreshIntervalMs: 0, flushIntervalMs: 60_000 });
  const resolve = golden(client);
  const a = resolve("u1");
  await client.flush();
  client.track(a, "resolved", 1);
  const b = resolve("u2");
  resolve("u3");

  page.accept = false;
  page.hide();
  assert.equal(page.beacons.length, 1, "nothing more is tried once the browser refused a beacon");
  assert.deepEqual(client.stats(), { entries: 3, exposures: 2, outcomes: 1 });
  await client.flush();
  assert.deepEqual(edge.exposed(), ["u1", "u2", "u3"]);
  assert.deepEqual(edge.events(), [{ token: "t-u1", metric: "resolved", value: 1 }]);

  client.track(b, "resolved", 0);
  resolve("u4");
  page.accept = true;
  page.hide();
  const sent = (await page.sent()).slice(1);
  assert.deepEqual(sent.map((s) => s.path), ["/v1/exposures", "/v1/events"]);
  assert.deepEqual(sent[0].body.exposures.map((e) => e.unit), ["u4"]);
  assert.deepEqual(sent[1].body.events, [{ token: "t-u2", metric: "resolved", value: 0 }]);
  assert.deepEqual(client.stats(), { entries: 3, exposures: 0, outcomes: 0 });
  const posts = edge.posts.length;
  await client.flush();
  assert.equal(edge.posts.length, posts, "what a beacon took is not sent again");
  await client.close();
});

test("beacons stay under the browsers' 64 KiB, carry every item once, and drop only what no beacon can carry", async (t) => {
  const page = fakePage(t);
  const edge = stubEdge();
  const errors = [];
  const client = await createClient({ manifest, edge: "http://edge.test", fetch: edge.fetch, refreshIntervalMs: 0, flushIntervalMs: 60_000, onError: (e) => errors.push(e.code) });
  const resolve = golden(client);
  const withToken = resolve("with-token");
  await client.flush();
  client.track(withToken, "resolved", 1, "i".repeat(70_000));
  client.track(withToken, "resolved", 1, "ok");

  const expected = [];
  const expose = (unit, attributes) => (expected.push(unit), resolve(unit, attributes));
  for (let i = 0; i < 150; i++) expose(`small-${i}`);
  for (let i = 0; i < 60; i++) expose(`large-${i}`, { note: "é".repeat(2_000) }); // 4,000 bytes of UTF-8 each
  const huge = resolve("huge", { note: "x".repeat(70_000) });
  for (let i = 0; i < 5; i++) expose(`last-${i}`);

  page.hide();
  const sent = await page.sent();
  for (const s of sent) {
    assert.ok(s.size <= 60_000, `a beacon of ${s.size} bytes`);
    assert.ok((s.body.exposures ?? s.body.events).length <= 100);
  }
  const exposures = sent.filter((s) => s.path === "/v1/exposures");
  assert.ok(exposures.length >= 4, `${exposures.length} beacons of exposures`);
  assert.deepEqual(exposures.flatMap((s) => s.body.exposures.map((e) => e.unit)), expected);
  assert.deepEqual(sent.filter((s) => s.path === "/v1/events").flatMap((s) => s.body.events), [{ token: "t-with-token", metric: "resolved", value: 1, id: "ok" }]);
  assert.deepEqual(errors, ["beacon_too_large", "beacon_too_large"]);
  assert.deepEqual(client.stats().exposures + client.stats().outcomes, 0);
  // The dropped exposure's outcomes could never be sent: they are refused with the reason.
  assert.throws(() => client.track(huge, "resolved", 1), (e) => e instanceof EdgepromptError && e.code === "beacon_too_large");
  await client.close();
});

test("a regular flush asks for keepalive only when the browser would allow it (64 KiB)", async () => {
  const edge = stubEdge();
  const client = await createClient({ manifest, edge: "http://edge.test", fetch: edge.fetch, refreshIntervalMs: 0, flushIntervalMs: 60_000 });
  const resolve = golden(client);
  resolve("small");
  await client.flush();
  for (let i = 0; i < 30; i++) resolve(`large-${i}`, { note: "x".repeat(4_000) });
  await client.flush();
  assert.deepEqual(edge.posts.map((p) => [p.body.exposures.length, p.keepalive]), [[1, true], [30, false]]);
  await client.close();
});

test("$now rules use the request's now (ms or a Date), else Date.now()", () => {
  const engine = new Engine({
    schema: 1, revision: 1,
    prompts: { p: {
      versions: [{ version: 1, text: "old" }, { version: 2, text: "new" }],
      labels: { production: {
        rules: [{ name: "launch", when: { attr: "$now", op: "after", value: "2026-06-01T09:00:00+02:00" }, target: { version: 2 } }],
        default: { version: 1 },
      } },
    } },
  });
  const launch = Date.parse("2026-06-01T07:00:00Z");
  assert.equal(engine.resolve({ prompt: "p", unit: "u", now: launch }).rule, "default");
  assert.equal(engine.resolve({ prompt: "p", unit: "u", now: launch + 1 }).rule, "launch");
  assert.equal(engine.resolve({ prompt: "p", unit: "u", now: new Date(launch + 1) }).rule, "launch");
  // The JSON path (a NUL in a field) takes the same time.
  assert.equal(engine.resolve({ prompt: "p", unit: "u\0x", now: launch }).rule, "default");
  assert.equal(engine.resolve({ prompt: "p", unit: "u\0x", now: launch + 1 }).rule, "launch");
  assert.equal(engine.resolve({ prompt: "p", unit: "u" }).rule, Date.now() > launch ? "launch" : "default");
  assert.throws(() => engine.resolve({ prompt: "p", unit: "u", now: "soon" }), (e) => e.code === "invalid_request");
  assert.throws(() => engine.resolve({ prompt: "p", unit: "u", now: new Date(NaN) }), (e) => e.code === "invalid_request");
});

test("the client reports the time it decided at with each exposure (decided_at), the same time the rules saw", async () => {
  const posts = [];
  const fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    posts.push(body);
    return Response.json({ results: body.exposures.map((_, i) => ({ version: 1, token: `t${i}` })) });
  };
  const client = await createClient({ manifest, edge: "http://edge.test", fetch, refreshIntervalMs: 0, flushIntervalMs: 60_000 });
  const given = Date.parse("2026-01-15T10:00:00Z");
  client.resolve({ prompt: "golden", unit: "u1", variables: { question: "q?" }, now: given });
  client.resolve({ prompt: "golden", unit: "u2", variables: { question: "q?" }, now: new Date(given + 1) });
  const start = Date.now();
  client.resolve({ prompt: "golden", unit: "u3", variables: { question: "q?" } });
  await client.flush();
  const items = posts.flatMap((b) => b.exposures);
  assert.equal(items.length, 3);
  assert.equal(items[0].decided_at, given);
  assert.equal(items[1].decided_at, given + 1);
  assert.ok(items[2].decided_at >= start && items[2].decided_at <= Date.now());
  assert.throws(() => client.resolve({ prompt: "golden", unit: "u4", now: "later" }), (e) => e.code === "invalid_request");
  await client.close();
});
