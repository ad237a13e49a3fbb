// An edge with no manifest in KV and no secrets: it answers, and says why it cannot serve.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEdge, demoManifest, waitFor } from "./harness.mjs";

let edge;
before(async () => {
  edge = await startEdge({ secrets: false, vars: { REFRESH_INTERVAL_MS: 500 } });
});
after(async () => {
  await edge?.stop();
});

test("a cold isolate without a manifest answers 503 with a JSON error", async () => {
  for (const r of [await edge.fetch("/v1/manifest"), await edge.fetch("/v1/status")]) {
    assert.equal(r.status, 503, r.text);
  }
  const r = await edge.fetch("/v1/manifest");
  assert.equal(r.json.error.code, "no_manifest");
  assert.match(r.json.error.message, /manifest\/current is missing/);
  assert.equal((await edge.fetch("/healthz")).status, 200);
  // Under the production wrangler.toml's variables, the dev routes do not exist.
  assert.equal((await edge.fetch("/__dev/panic")).status, 404, "no panic route by default");
  assert.equal((await edge.post("/__dev/echo", {})).status, 404, "no echo route by default");
  assert.equal((await edge.post("/__dev/queue/0", { batch: "x", events: [] })).status, 404, "no queue route by default");
});

test("a missing secret is a 500 naming it, never a default key", async () => {
  for (const r of [await edge.post("/v1/resolve", { prompt: "support", unit: "u", variables: { question: "q" } }), await edge.fetch("/v1/metrics/support")]) {
    assert.equal(r.status, 500, r.text);
    assert.equal(r.json.error.code, "missing_secret");
    assert.equal(r.json.error.details.secret, "EDGE_KEYS");
  }
  const x = await edge.post("/v1/exposures", { exposures: [] });
  assert.equal(x.status, 500, x.text);
  assert.equal(x.json.error.details.secret, "EVENT_SIGNING_KEY");
  const e = await edge.post("/v1/events", { events: [] });
  assert.equal(e.status, 500);
  assert.equal(e.json.error.details.secret, "EVENT_SIGNING_KEY");
});

test("once a manifest is written, the same isolate loads it", async () => {
  const doc = demoManifest();
  await edge.publish(doc);
  // KV caches a "not found" for a while: poll to a deadline.
  await waitFor("the manifest to load", async () => (await edge.fetch("/v1/manifest")).status === 200, 90_000, 500);
});
