// The npm package inside a JavaScript Worker (worker/) in real workerd: the conformance
// set decides, assigns, evaluates and renders exactly as specified, and loadFromKV serves
// the KV manifest, picks up a new revision and keeps the last good one when a corrupt
// revision appears.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startEdge, waitFor, ROOT } from "../../../tests/edge/harness.mjs";
import { SECTIONS } from "../conformance.mjs";

const conformance = (f) => fs.readFileSync(path.join(ROOT, "tests/conformance", f), "utf8");
const manifest = JSON.parse(conformance("manifest.json"));
let worker;

before(async () => {
  worker = await startEdge({ manifest, config: "npm/test/e2e/worker/wrangler.toml" });
});
after(() => worker?.stop());

test("the conformance set in workerd: every section as specified", async () => {
  const set = { manifest: conformance("manifest.json") };
  for (const name of SECTIONS) set[name] = JSON.parse(conformance(`${name}.json`));
  const r = await worker.post("/conformance", set);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(Object.keys(r.json).sort(), [...SECTIONS].sort());
  for (const name of SECTIONS) assert.ok(r.json[name].total > 0, name);
  // Every section's failures at once.
  const failures = Object.fromEntries(SECTIONS.map((name) => [name, r.json[name].failures]));
  assert.deepEqual(failures, Object.fromEntries(SECTIONS.map((name) => [name, []])));
  assert.ok(r.json.decisions.total >= 60);
  assert.ok(r.json.rendering.checked >= 90);
});

test("the worker refuses a section of another spec version", async () => {
  const set = { manifest: conformance("manifest.json") };
  for (const name of SECTIONS) set[name] = JSON.parse(conformance(`${name}.json`));
  set.conditions.spec_version += 1;
  const r = await worker.post("/conformance", set);
  assert.equal(r.status, 500);
  assert.match(r.json.error.message, /pins spec_version/);
});

test("loadFromKV serves KV's manifest, follows new revisions, ignores corrupt ones", async () => {
  const req = { prompt: "golden", unit: "u1", variables: { question: "q?" } };
  const first = await worker.post("/resolve", req);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.revision, manifest.revision);
  const next = structuredClone(manifest);
  next.revision = manifest.revision + 1;
  await worker.publish(next);
  await waitFor("the worker to load the new revision", async () => (await worker.post("/resolve", req)).json?.revision === next.revision, 30_000);
  // A corrupt document under a newer revision: the last good one keeps serving.
  await worker.kvPut(`manifest/${next.revision + 1}`, "{ not json");
  await worker.kvPut("manifest/current", String(next.revision + 1));
  for (let i = 0; i < 5; i++) {
    const r = await worker.post("/resolve", req);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.revision, next.revision);
    await new Promise((res) => setTimeout(res, 150));
  }
});

test("loadFromKV compiles once per isolate: later requests get the same engine", async () => {
  const first = await worker.post("/cached", {});
  assert.equal(first.status, 200, first.text);
  for (let i = 0; i < 3; i++) {
    const r = await worker.post("/cached", {});
    assert.equal(r.json.same, true, "a request compiled the manifest again");
  }
});
