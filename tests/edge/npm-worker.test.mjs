// The npm package inside a JavaScript Worker in real workerd: the golden set decides
// exactly as natively, and loadFromKV serves the KV manifest, picks up a new revision
// and keeps the last good one when a corrupt revision appears.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startEdge, waitFor, ROOT } from "./harness.mjs";

const golden = (f) => JSON.parse(fs.readFileSync(path.join(ROOT, "tests/golden", f), "utf8"));
const manifest = golden("manifest.json");
let worker;

before(async () => {
  worker = await startEdge({ manifest, config: "tests/npm-worker/wrangler.toml" });
});
after(() => worker?.stop());

test("the golden set in workerd equals the native engine's", async () => {
  const r = await worker.post("/golden", { manifest, cases: golden("decisions.json") });
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.total >= 60);
  assert.deepEqual(r.json.failures, []);
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
