// The edge worker end to end, in real workerd (wrangler dev) with local KV, Queues and
// Durable Objects.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEdge, demoManifest, cli, waitFor, ROOT } from "./harness.mjs";
import { pool } from "./workload.mjs";
import fs from "node:fs";
import path from "node:path";

const REFRESH_MS = 1000;
let edge;
const demo = demoManifest();
const DEMO_PATH = path.join(ROOT, "examples/demo.json");

before(async () => {
  edge = await startEdge({ manifest: demo, vars: { REFRESH_INTERVAL_MS: REFRESH_MS, EDGEPROMPT_DEV_PANIC: "1" } });
});
after(async () => {
  await edge?.stop();
});

const withoutToken = ({ token, ...rest }) => rest;

async function resolve(body) {
  const r = await edge.post("/v1/resolve", body);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function metrics(prompt, query = "") {
  const r = await edge.fetch(`/v1/metrics/${prompt}${query}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

const exposedTotal = (m) => m.versions.reduce((s, v) => s + v.exposed_units, 0);

test("healthz is a no-op 200", async () => {
  const r = await edge.fetch("/healthz");
  assert.equal(r.status, 200);
  assert.equal(r.text, "ok");
});

test("resolve returns the engine's decision, identical to the CLI's, plus a token", async () => {
  for (const [unit, attrs, vars] of [
    ["user-42", {}, { question: "Where is my order?", plan: "pro" }],
    ["qa-alice", { country: "DE" }, { question: "hi", history: [{ role: "user", content: "{{question}}" }] }],
    ["user-7", { app_version: "1.9.0" }, { question: "ünïcödé 日本", company: 1.0 }],
  ]) {
    const d = await resolve({ prompt: "support", unit, attributes: attrs, variables: vars, track: false });
    assert.match(d.token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const expected = JSON.parse(await cli(["resolve", DEMO_PATH, "--prompt", "support", "--unit", unit, "--attrs", JSON.stringify(attrs), "--vars", JSON.stringify(vars), "--compact"]));
    assert.deepEqual(withoutToken(d), expected);
  }
});

test("the conformance set's decisions through POST /v1/resolve, each as specified", async () => {
  // The edge implements the engine's spec version (edgeprompt::SPEC_VERSION).
  const SPEC_VERSION = 2;
  const conformance = (f) => JSON.parse(fs.readFileSync(path.join(ROOT, "tests/conformance", f), "utf8"));
  const section = conformance("decisions.json");
  assert.equal(section.section, "decisions");
  assert.equal(section.spec_version, SPEC_VERSION, "decisions.json pins another spec version than the edge implements");
  const own = await startEdge({ manifest: conformance(section.manifest) });
  try {
    const status = (await own.fetch("/v1/status")).json;
    assert.equal(status.spec_version, section.spec_version, "the edge implements another spec version than decisions.json pins");
    const failures = [];
    for (const c of section.cases) {
      const r = await own.post("/v1/resolve", { ...c.request, track: false });
      const got = r.status === 200
        ? { decision: withoutToken(r.json) }
        : { error: { code: r.json?.error?.code, message: r.json?.error?.message } };
      if (r.status === 200) assert.match(r.json.token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, c.name);
      try {
        assert.deepEqual(got, c.expected);
      } catch {
        failures.push({ name: c.name, status: r.status, got, expected: c.expected });
      }
    }
    assert.ok(section.cases.length >= 60);
    assert.deepEqual(failures, []);
  } finally {
    await own.stop();
  }
});

test("a 90/10 split over 2,000 units lands within 2 points and matches the CLI unit for unit", async () => {
  const units = Array.from({ length: 2000 }, (_, i) => `split-unit-${i}`);
  const decisions = await pool(units, 16, (unit) => resolve({ prompt: "support", unit, variables: { question: "q" } }));
  const share = decisions.filter((d) => d.version === 2).length / units.length;
  assert.ok(Math.abs(share - 0.1) <= 0.02, `version 2 share ${share}`);
  const batch = (await cli(["resolve", DEMO_PATH, "--prompt", "support", "--units-from", "-"], units.join("\n") + "\n"))
    .trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(batch.length, units.length);
  batch.forEach((b, i) => {
    assert.deepEqual({ unit: units[i], version: decisions[i].version, rule: decisions[i].rule, bucket: decisions[i].bucket }, b);
  });
  // Every resolve was tracked: 2,000 distinct exposed units show up in the metrics.
  const m = await waitFor("2,000 exposed units", async () => {
    const m = await metrics("support");
    return exposedTotal(m) >= 2000 ? m : null;
  }, 60_000, 500);
  assert.equal(exposedTotal(m), 2000);
  assert.equal(m.srm.mismatch, false, JSON.stringify(m.srm));
  assert.deepEqual(m.versions.map((v) => [v.version, v.weight]), [[1, 90], [2, 10]]);
});

test("outcome events count exactly once, also when the same batch is posted twice", async () => {
  const tokens = await pool(Array.from({ length: 10 }, (_, i) => `outcome-unit-${i}`), 5, async (unit) =>
    (await resolve({ prompt: "summarize", unit, variables: { text: "t" } })).token);
  const batch = { events: tokens.map((token) => ({ token, metric: "resolved", value: 1 })) };
  const first = await edge.post("/v1/events", batch);
  assert.equal(first.status, 202, first.text);
  assert.deepEqual(first.json, { accepted: 10, duplicates: 0 });
  const counted = () => metrics("summarize").then((m) => m.versions[0].metrics.resolved.count);
  await waitFor("10 outcomes counted", async () => (await counted()) === 10, 30_000);
  // A repeat in another request is queued again and dropped by the aggregators (each
  // outcome id counts once within its unit); repeats within one request are reported.
  const again = await edge.post("/v1/events", batch);
  assert.equal(again.status, 202, again.text);
  assert.deepEqual(again.json, { accepted: 10, duplicates: 0 });
  const doubled = await edge.post("/v1/events", { events: [...batch.events.slice(0, 2), ...batch.events.slice(0, 2)] });
  assert.deepEqual(doubled.json, { accepted: 2, duplicates: 2 });
  // A fresh sentinel outcome, counted after the repeat was posted, shows the repeat is done.
  const sentinel = (await resolve({ prompt: "summarize", unit: "sentinel", variables: { text: "t" } })).token;
  assert.equal((await edge.post("/v1/events", { events: [{ token: sentinel, metric: "resolved", value: true }] })).status, 202);
  await waitFor("the sentinel counted", async () => (await counted()) === 11, 30_000);
  const m = await metrics("summarize");
  const cell = m.versions[0].metrics.resolved;
  assert.equal(cell.count, 11);
  assert.ok(cell.ci[0] <= cell.estimate && cell.estimate <= cell.ci[1]);
  // Continuous values: mean with an interval.
  const lat = { events: tokens.slice(0, 4).map((token, i) => ({ token, metric: "latency_ms", value: 100 + 10 * i })) };
  assert.equal((await edge.post("/v1/events", lat)).status, 202);
  await waitFor("latency mean", async () => (await metrics("summarize")).versions[0].metrics.latency_ms.count === 4, 30_000);
  assert.equal((await metrics("summarize")).versions[0].metrics.latency_ms.estimate, 115);
});

test("forged, tampered and expired-looking tokens, bad metrics and bad values are refused whole", async () => {
  const good = (await resolve({ prompt: "summarize", unit: "refused-unit", variables: { text: "t" } })).token;
  const [body, sig] = good.split(".");
  const payload = JSON.parse(Buffer.from(body, "base64url"));
  payload.v = 2;
  const tampered = Buffer.from(JSON.stringify(payload)).toString("base64url") + "." + sig;
  const forged = body + "." + Buffer.alloc(32, 7).toString("base64url");
  const r = await edge.post("/v1/events", { events: [
    { token: good, metric: "resolved", value: 1 },
    { token: tampered, metric: "resolved", value: 1 },
    { token: forged, metric: "resolved", value: 1 },
    { token: "garbage", metric: "resolved", value: 1 },
    { token: good, metric: "undeclared", value: 1 },
    { token: good, metric: "resolved", value: 0.5 },
    { token: good, metric: "latency_ms", value: "fast" },
    { token: good, metric: "follow_ups", value: 1 },
  ] });
  assert.equal(r.status, 422, r.text);
  assert.deepEqual(r.json.error.details.errors.map((e) => [e.index, e.code]), [
    [1, "invalid_token"], [2, "invalid_token"], [3, "malformed_token"], [4, "undeclared_metric"],
    [5, "invalid_value"], [6, "invalid_value"], [7, "missing_id"],
  ]);
  const tooMany = await edge.post("/v1/events", { events: Array.from({ length: 101 }, () => ({ token: good, metric: "resolved", value: 1 })) });
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.json.error.code, "batch_too_large");
  // Nothing of the refused batch was stored: a later good event is the only one counted.
  const before = (await metrics("summarize")).versions[0].metrics.resolved.count;
  assert.equal((await edge.post("/v1/events", { events: [{ token: good, metric: "resolved", value: 1 }] })).status, 202);
  await waitFor("the good event", async () => (await metrics("summarize")).versions[0].metrics.resolved.count === before + 1, 30_000);
});

test("exposures of decisions made by npm clients are re-derived at their revision and counted", async () => {
  const items = ["client-1", "client-2", "qa-bob", "client-3"].map((unit) => ({ prompt: "support", unit, attributes: { app_version: "2.5.0" }, revision: 1 }));
  items.push({ prompt: "support", unit: "client-4", revision: 999 });
  items.push({ prompt: "nope", unit: "client-5", revision: 1 });
  const r = await edge.post("/v1/exposures", { exposures: items });
  assert.equal(r.status, 200, r.text);
  const results = r.json.results;
  for (let i = 0; i < 4; i++) {
    const expected = JSON.parse(await cli(["resolve", DEMO_PATH, "--prompt", "support", "--unit", items[i].unit, "--attrs", JSON.stringify(items[i].attributes), "--vars", '{"question":"q"}', "--compact"]));
    assert.equal(results[i].version, expected.version);
    assert.equal(results[i].rule, expected.rule);
    assert.equal(results[i].bucket, expected.bucket);
    assert.ok(results[i].token);
  }
  assert.equal(results[4].error.code, "stale_revision");
  assert.equal(results[5].error.code, "unknown_prompt");
  // The forced QA unit is recorded but left out; the other three count.
  const before = exposedTotal(await metrics("support"));
  await waitFor("3 client exposures", async () => exposedTotal(await metrics("support")) >= before + 3, 30_000);
  // Their tokens report outcomes like any other.
  const e = await edge.post("/v1/events", { events: [{ token: results[0].token, metric: "thumbs_up", value: true }] });
  assert.equal(e.status, 202, e.text);
});

test("the raw-template API returns the sources of the unit's version, the unit in the body (not the URL)", async () => {
  const r = await edge.post("/v1/prompts/support", { unit: "qa-alice", attributes: { country: "DE" }, track: false });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.version, 2);
  assert.equal(r.json.rule, "qa");
  assert.match(r.json.messages[0].content, /\{\{> tone\}\}/);
  assert.equal(r.json.snippets.tone, "Be warm, concise and concrete. Answer in {{language}}.");
  assert.equal(r.json.variables.question.required, true);
  assert.equal(r.json.model.name, "gpt-4o");
  assert.ok(r.json.token);
  const old = await edge.post("/v1/prompts/support", { unit: "u1", attributes: { app_version: "1.0.0" } });
  assert.equal(old.json.rule, "old-apps");
  const missing = await edge.post("/v1/prompts/support", {});
  assert.equal(missing.status, 400);
  assert.match(missing.json.error.message, /unit/);
  assert.equal((await edge.post("/v1/prompts/nope", { unit: "u" })).status, 404);
  // The old form, with the unit in the query, is refused by method.
  assert.equal((await edge.fetch("/v1/prompts/support?unit=u1")).status, 405);
});

test("the manifest API serves the client projection with an ETag", async () => {
  const r = await edge.fetch("/v1/manifest");
  assert.equal(r.status, 200);
  const etag = r.headers.get("etag");
  assert.ok(etag);
  assert.deepEqual(Object.keys(r.json.prompts), ["support"]);
  assert.ok(!r.text.includes("qa-alice"), "forced units are hashed");
  assert.equal(r.json.prompts.support.labels.production.rules[0].unit_hashes.length, 2);
  const again = await edge.fetch("/v1/manifest", { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  assert.equal(again.text, "");
});

test("each 4xx has a JSON error with a code", async () => {
  const cases = [
    [await edge.post("/v1/resolve", "{not json"), 400, "malformed_json"],
    [await edge.post("/v1/resolve", { prompt: "support" }), 400, "invalid_request"],
    [await edge.post("/v1/resolve", { prompt: "support", unit: "u", extra: 1 }), 400, "invalid_request"],
    [await edge.post("/v1/resolve", { prompt: "nope", unit: "u" }), 404, "unknown_prompt"],
    [await edge.post("/v1/resolve", { prompt: "support", label: "canary", unit: "u" }), 404, "unknown_label"],
    [await edge.post("/v1/resolve", { prompt: "summarize", unit: "u" }), 422, "missing_variables"],
    [await edge.post("/v1/resolve", { prompt: "support", unit: "u", variables: { question: "q", history: "x" } }), 422, "invalid_variable"],
    [await edge.post("/v1/resolve", { prompt: "support", unit: "u", variables: { question: "x".repeat(300_000) } }), 413, "body_too_large"],
    [await edge.fetch("/v1/resolve"), 405, "method_not_allowed"],
    [await edge.fetch("/v1/nothing"), 404, "not_found"],
    [await edge.fetch("/v1/metrics/support?period=weird"), 400, "invalid_request"],
  ];
  for (const [r, status, code] of cases) {
    assert.equal(r.status, status, r.text);
    assert.equal(r.json.error.code, code, r.text);
    assert.ok(r.json.error.message);
  }
  const missing = await edge.post("/v1/resolve", { prompt: "summarize", unit: "u" });
  assert.deepEqual(missing.json.error.details.missing, ["text"]);
});

test("a new revision in KV is served after the refresh interval; corrupt or lower ones are not", async () => {
  const v2 = structuredClone(demo);
  v2.revision = 2;
  v2.prompts.summarize.versions[0].text = "Summarize in {{max_words}} words:\n\n{{text}}";
  await edge.publish(v2);
  const started = Date.now();
  await waitFor("revision 2 served", async () => (await resolve({ prompt: "summarize", unit: "u", variables: { text: "T" }, track: false })).revision === 2, 60_000);
  console.log(`revision 2 served ${Date.now() - started} ms after it was written (refresh interval ${REFRESH_MS} ms)`);
  const d = await resolve({ prompt: "summarize", unit: "u", variables: { text: "T" }, track: false });
  assert.equal(d.text, "Summarize in 50 words:\n\nT");

  // A document that fails validation under a newer revision is ignored.
  await edge.kvPut("manifest/3", JSON.stringify({ ...v2, revision: 3, prompts: { broken: { versions: [] } } }));
  await edge.kvPut("manifest/current", "3");
  const status = await waitFor("the refusal of revision 3", async () => {
    const s = (await edge.fetch("/v1/status")).json;
    return s.last_problem?.reason.includes("manifest/3 is invalid") ? s : null;
  }, 60_000);
  assert.equal(status.revision, 2);
  assert.equal((await resolve({ prompt: "summarize", unit: "u", variables: { text: "T" }, track: false })).revision, 2);

  // Not JSON at all, and a pointer to a lower revision: also ignored.
  await edge.kvPut("manifest/4", "{ not json");
  await edge.kvPut("manifest/current", "4");
  await waitFor("the refusal of revision 4", async () => (await edge.fetch("/v1/status")).json.last_problem?.reason.includes("manifest/4 is invalid"), 60_000);
  await edge.kvPut("manifest/current", "1");
  await waitFor("the refusal of a lower revision", async () => (await edge.fetch("/v1/status")).json.last_problem?.reason.includes("lower than the held 2"), 60_000);
  assert.equal((await edge.fetch("/v1/status")).json.revision, 2);

  // A good revision 5 is served again.
  await edge.publish({ ...v2, revision: 5 });
  await waitFor("revision 5 served", async () => (await edge.fetch("/v1/status")).json.revision === 5, 60_000);
});

test("after a panic the worker re-initialises and reloads the manifest", async () => {
  const before = (await edge.fetch("/v1/status")).json;
  assert.ok(before.recent_revisions.length > 0, "earlier revisions are held in memory");
  const p = await edge.fetch("/__dev/panic");
  assert.ok(p.status >= 500, `panic route answered ${p.status}`);
  const d = await waitFor("a resolve after the panic", async () => {
    const r = await edge.post("/v1/resolve", { prompt: "summarize", unit: "u", variables: { text: "T" }, track: false });
    return r.status === 200 ? r.json : null;
  }, 30_000);
  assert.equal(d.revision, before.revision);
  // Memory was wiped: the manifest came from KV again, and no older revision is held.
  const after = (await edge.fetch("/v1/status")).json;
  assert.deepEqual(after.recent_revisions, []);
  assert.equal(after.revision, before.revision);
});

test("the control plane adopts the manifest KV already serves, then continues from it", async () => {
  const served = (await edge.fetch("/v1/status")).json.revision;
  const headers = { authorization: `Bearer ${edge.tokens.admin}`, "content-type": "application/json" };
  const h = await edge.fetch("/admin/v1/history", { headers });
  assert.equal(h.status, 200, h.text);
  assert.equal(h.json.revisions.length, 1);
  assert.equal(h.json.revisions[0].action, "import");
  assert.equal(h.json.revisions[0].revision, served);
  const p = await edge.fetch("/admin/v1/promote", { method: "POST", headers, body: JSON.stringify({ base_revision: served, prompt: "support", label: "production", version: 2 }) });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.revision, served + 1);
  await waitFor("the promoted revision", async () => (await edge.fetch("/v1/status")).json.revision === served + 1, 60_000);
  assert.equal((await resolve({ prompt: "support", unit: "anyone", variables: { question: "q" }, track: false })).version, 2);
});
