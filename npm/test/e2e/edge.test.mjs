// The npm package against the real edge in workerd: a Node client fetches the client
// projection, decides locally exactly as the edge does (forced units included, through
// their hashes), reports exposures and outcomes that the edge's metrics then show,
// revalidates with the ETag, and keeps its last good manifest when the edge is away.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createClient, Engine } from "edgeprompt";
import { startEdge, demoManifest, waitFor } from "../../../tests/edge/harness.mjs";

let edge;
const manifest = demoManifest();
const vars = { question: "Where is my order?", plan: "pro" };

before(async () => {
  edge = await startEdge({ manifest, vars: { REFRESH_INTERVAL_MS: "200" } });
});
after(() => edge?.stop());

const strip = ({ token, ...d }) => d;

test("local decisions equal the edge's, unit for unit, forced units included", async () => {
  const client = await createClient({ edge: edge.url, report: false, refreshIntervalMs: 0 });
  assert.equal(client.revision, manifest.revision);
  const units = ["qa-alice", "qa-bob", ...Array.from({ length: 60 }, (_, i) => `npm-unit-${i}`)];
  for (const unit of units) {
    for (const attributes of [{}, { app_version: "1.9.0" }]) {
      const local = client.resolve({ prompt: "support", unit, attributes, variables: vars });
      const remote = await edge.post("/v1/resolve", { prompt: "support", unit, attributes, variables: vars, track: false });
      assert.equal(remote.status, 200, remote.text);
      assert.deepEqual(local, strip(remote.json), unit);
    }
  }
  // The projection hides the forced list, yet qa-alice is still forced onto version 2.
  assert.equal(client.resolve({ prompt: "support", unit: "qa-alice", variables: vars }).rule, "qa");
  // A prompt not marked client: true is not in the projection.
  assert.throws(() => client.resolve({ prompt: "summarize", unit: "u", variables: { text: "t" } }), (e) => e.code === "unknown_prompt");
  await client.close();
});

test("exposures and outcomes reported by the client show up in the edge's metrics", async () => {
  const errors = [];
  const client = await createClient({ edge: edge.url, refreshIntervalMs: 0, flushIntervalMs: 20, onError: (e) => errors.push(e) });
  const n = 40;
  for (let i = 0; i < n; i++) {
    const d = client.resolve({ prompt: "support", unit: `reported-${i}`, variables: vars });
    // Resolving the same unit again reports one exposure, not two.
    client.resolve({ prompt: "support", unit: `reported-${i}`, variables: vars });
    client.track(d, "resolved", i % 2 === 0);
    client.track(d, "follow_ups", 1, "first");
    client.track(d, "follow_ups", 1, "first"); // the same id: counted once
  }
  await client.flush();
  assert.deepEqual(errors, []);
  const totals = async () => {
    const m = (await edge.fetch("/v1/metrics/support")).json;
    const sum = (f) => m.versions.reduce((s, v) => s + f(v), 0);
    return { exposed: sum((v) => v.exposed_units), resolved: sum((v) => v.metrics.resolved.count), follow: sum((v) => v.metrics.follow_ups.count) };
  };
  const t = await waitFor("the client's events in the metrics", async () => {
    const t = await totals();
    return t.exposed >= n && t.resolved >= n / 2 && t.follow >= n ? t : null;
  }, 30_000);
  // qa units were not reported; exactly the n units, n/2 successes, n follow-ups.
  assert.deepEqual(t, { exposed: n, resolved: n / 2, follow: n });
  // An outcome the edge would refuse is refused at once, by the edge's own rules, and
  // costs nothing of what is queued.
  const d = client.resolve({ prompt: "support", unit: "reported-0", variables: vars });
  assert.throws(() => client.track(d, "no_such_metric", 1), (e) => e.code === "undeclared_metric");
  assert.throws(() => client.track(d, "resolved", 2), (e) => e.code === "invalid_value");
  assert.throws(() => client.track(d, "follow_ups", 1), (e) => e.code === "missing_id");
  client.track(d, "follow_ups", 1, "second");
  await client.flush();
  await waitFor("the last outcome in the metrics", async () => (await totals()).follow === n + 1, 30_000);
  assert.deepEqual(errors, []);
  await client.close();
});

test("the ETag revalidates; a new revision is picked up; the last good manifest stays when the edge fails", async () => {
  const client = await createClient({ edge: edge.url, report: false, refreshIntervalMs: 0 });
  assert.equal(await client.refresh(), false, "unchanged manifest: 304");
  const next = structuredClone(manifest);
  next.revision = manifest.revision + 1;
  next.prompts.support.labels.production.default = { version: 2 };
  await edge.publish(next);
  await waitFor("the client to see the new revision", async () => (await client.refresh()) || client.revision === next.revision, 30_000);
  assert.equal(client.revision, next.revision);
  assert.equal(client.resolve({ prompt: "support", unit: "anyone", variables: vars }).version, 2);
  await client.close();

  // Nothing listens on port 9: the fallback serves, and the failure is reported.
  const offline = await createClient({ edge: "http://127.0.0.1:9", fallback: manifest, report: false, refreshIntervalMs: 0 });
  assert.equal(offline.revision, manifest.revision);
  assert.ok(offline.lastError);
  await assert.rejects(createClient({ edge: "http://127.0.0.1:9", report: false, refreshIntervalMs: 0 }));
  await offline.close();
});

test("browsers may call the public API from another origin, not the admin API", async () => {
  const pre = await fetch(edge.url + "/v1/events", { method: "OPTIONS", headers: { origin: "http://example.test", "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-origin"), "*");
  assert.match(pre.headers.get("access-control-allow-headers"), /content-type/);
  const m = await fetch(edge.url + "/v1/manifest", { headers: { origin: "http://example.test" } });
  assert.equal(m.headers.get("access-control-allow-origin"), "*");
  assert.equal(m.headers.get("access-control-expose-headers"), "etag");
  const admin = await fetch(edge.url + "/admin/v1/history", { headers: { origin: "http://example.test" } });
  assert.equal(admin.headers.get("access-control-allow-origin"), null);
  // The projection compiles in the package as it is served.
  assert.equal(new Engine(await m.text()).revision >= manifest.revision, true);
});
