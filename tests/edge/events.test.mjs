// The event pipeline at scale, in real workerd (wrangler dev) with local Queues and
// Durable Objects: exact metrics under redelivery and repeated posts, bad values refused
// before queueing, poisoned messages dead-lettered alone, untracked tokens refused, and
// shard counts that do not change the answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEdge, waitFor, cli } from "./harness.mjs";
import { PER_REQUEST, assertExact, chunks, manifest, pool, settled, workload } from "./workload.mjs";

const UNITS = Number(process.env.EVENTS_TEST_UNITS ?? 20_000);

let edge;
before(async () => {
  edge = await startEdge({ manifest: manifest(), vars: { EDGEPROMPT_DEV_FAULTS: "consumer=0.2,aggregator=0.05", EDGEPROMPT_DEV_PANIC: "1" } });
});
after(async () => {
  await edge?.stop();
});

test(`${UNITS} units and their outcomes, every batch posted twice, 20% of messages redelivered, 5% of aggregator calls failing mid-transaction: exact`, async () => {
  const started = Date.now();
  const { want, posted } = await workload(edge, UNITS, 17);
  const postedMs = Date.now() - started;
  const m = await settled(edge, UNITS);
  console.log(`# ${posted} events (${UNITS} units) posted twice in ${postedMs} ms; metrics exact after ${Date.now() - started} ms`);
  assert.ok(posted >= 5 * UNITS, `${posted} events`);
  assertExact(m, want);
  // Each exposure was posted twice: a repeat only bumps the decisions served, and a
  // call that failed mid-transaction left nothing behind (or this would be higher).
  for (const v of m.versions) assert.equal(v.exposures, 2 * want[v.version].units, `v${v.version} exposures`);
  assert.equal(m.srm.mismatch, false);
  // One period so far: the cumulative view has the same units and no ratio check.
  const all = (await edge.fetch("/v1/metrics/support?label=production&period=all")).json;
  assert.equal(all.period, "all");
  assert.equal(all.srm, null);
  assert.deepEqual(all.versions.map((v) => v.exposed_units), m.versions.map((v) => v.exposed_units));
  // The hourly series adds up to the totals.
  const hourly = (await edge.fetch("/v1/metrics/support?label=production&series=hour")).json;
  assert.ok(hourly.series.length > 0);
  for (const v of m.versions) {
    const rows = hourly.series.filter((r) => r.version === v.version);
    const add = (metric, key) => rows.filter((r) => r.metric === metric).reduce((s, r) => s + r.sums[key], 0);
    assert.equal(add("", "units"), v.exposed_units);
    assert.equal(add("follow_ups", "sum"), v.metrics.follow_ups.count);
    assert.equal(add("latency_ms", "values"), v.metrics.latency_ms.values);
  }
});

test("an npm client's exposure sent again names the same exposure: its outcomes count once", async () => {
  const totals = async () => {
    const m = (await edge.fetch("/v1/metrics/support?label=production")).json;
    return { values: m.versions.reduce((s, v) => s + v.metrics.latency_ms.values, 0), sum: m.versions.reduce((s, v) => s + v.metrics.latency_ms.sum, 0) };
  };
  const base = await totals();
  const item = { prompt: "support", unit: "resend-1", attributes: { app_version: "2.5.0" }, revision: 1 };
  const first = (await edge.post("/v1/exposures", { exposures: [item] })).json.results[0];
  const again = (await edge.post("/v1/exposures", { exposures: [item] })).json.results[0];
  assert.notEqual(first.token, again.token);
  const probe = (await edge.post("/v1/exposures", { exposures: [{ ...item, unit: "resend-probe" }] })).json.results[0];
  // No client id: the outcome's id is the exposure's with the metric, the same for both.
  for (const token of [first.token, again.token]) {
    assert.equal((await edge.post("/v1/events", { events: [{ token, metric: "latency_ms", value: 512 }] })).status, 202);
  }
  assert.equal((await edge.post("/v1/events", { events: [{ token: probe.token, metric: "latency_ms", value: 1 }] })).status, 202);
  await waitFor("two new values", async () => (await totals()).values >= base.values + 2, 60_000, 1000);
  // Past the 5 s cache and any redelivery: still one value of 512.
  await new Promise((r) => setTimeout(r, 12_000));
  assert.deepEqual(await totals(), { values: base.values + 2, sum: base.sum + 513 });
});

test("metrics are declared through a publish; a kind or direction change is refused while the metric has data", async () => {
  const admin = { authorization: `Bearer ${edge.tokens.admin}`, "content-type": "application/json" };
  const publish = async (metrics) => {
    const live = await edge.fetch("/admin/v1/manifest", { headers: admin });
    assert.equal(live.status, 200, live.text);
    return edge.fetch("/admin/v1/publish", { method: "POST", headers: admin, body: JSON.stringify({ base_revision: live.json.revision, sources: { prompts: [], metrics } }) });
  };
  // follow_ups has data in support/production's current period (the load above).
  const refused = await publish({ follow_ups: { kind: "continuous", higher_is_better: false } });
  assert.equal(refused.status, 409, refused.text);
  assert.equal(refused.json.error.code, "metric_in_use");
  assert.match(refused.json.error.message, /follow_ups on support\/production/);
  // A new name is the way; a metric without data may still change.
  const added = await publish({ csat: { kind: "continuous", higher_is_better: true }, thumbs_up: { kind: "count", higher_is_better: true } });
  assert.equal(added.status, 200, added.text);
  assert.match(added.json.summaries.join(" "), /metric csat/);
  assert.match(added.json.summaries.join(" "), /metric thumbs_up redefined/);
  const manifest = (await edge.fetch("/admin/v1/manifest", { headers: admin })).json;
  assert.equal(manifest.metrics.csat.kind, "continuous");
  assert.equal(manifest.metrics.follow_ups.kind, "count");
});

test("a value that cannot be aggregated exactly is refused with its index, before anything is queued", async () => {
  const r = await edge.post("/v1/exposures", { exposures: [{ prompt: "support", unit: "big-1", revision: 1 }] });
  const token = r.json.results[0].token;
  const bad = await edge.post("/v1/events", { events: [
    { token, metric: "latency_ms", value: 12, id: "a" },
    { token, metric: "latency_ms", value: 1e200, id: "b" },
    { token, metric: "latency_ms", value: -2e12, id: "c" },
    { token, metric: "follow_ups", value: 1.5, id: "d" },
  ] });
  assert.equal(bad.status, 422, bad.text);
  assert.deepEqual(bad.json.error.details.errors.map((e) => [e.index, e.code]), [[1, "invalid_value"], [2, "invalid_value"], [3, "invalid_value"]]);
});

test("a token resolved with track: false cannot report outcomes", async () => {
  const r = await edge.post("/v1/resolve", { prompt: "summarize", unit: "quiet", variables: { text: "t" }, track: false });
  assert.equal(r.status, 200, r.text);
  const e = await edge.post("/v1/events", { events: [{ token: r.json.token, metric: "resolved", value: 1 }] });
  assert.equal(e.status, 422, e.text);
  assert.equal(e.json.error.details.errors[0].code, "untracked");
});

test("a poisoned message is dead-lettered alone with its reason; every other event counts; the CLI lists it", async () => {
  const poison = await edge.post("/__dev/queue/0", { batch: "poison", events: [{ bogus: true }] });
  assert.equal(poison.status, 202, poison.text);
  const tokens = [];
  for (let i = 0; i < 20; i++) {
    const r = await edge.post("/v1/resolve", { prompt: "summarize", unit: `after-poison-${i}`, variables: { text: "t" } });
    tokens.push(r.json.token);
  }
  assert.equal((await edge.post("/v1/events", { events: tokens.map((token) => ({ token, metric: "resolved", value: 1 })) })).status, 202);
  const auth = { authorization: `Bearer ${edge.tokens.viewer}` };
  const letters = await waitFor("the dead letter", async () => {
    const r = await edge.fetch("/admin/v1/dead-letters", { headers: auth });
    assert.equal(r.status, 200, r.text);
    return r.json.dead_letters.length > 0 ? r.json.dead_letters : false;
  }, 60_000, 1000);
  assert.equal(letters.length, 1, JSON.stringify(letters));
  assert.match(letters[0].reason, /unreadable message/);
  assert.match(letters[0].body, /bogus/);
  await waitFor("the 20 good outcomes", async () => {
    const m = (await edge.fetch("/v1/metrics/summarize")).json;
    return m.versions[0].metrics.resolved.count === 20;
  }, 60_000, 1000);
  const listed = await cli(["events", "dead-letters", "--remote", edge.url, "--token", edge.tokens.viewer]);
  assert.match(listed, /^1 dead letter\(s\)/);
  assert.match(listed, /unreadable message/);
  // Replaying needs a read-write token; the poison is dead-lettered again, once.
  const denied = await edge.post("/admin/v1/dead-letters/replay", {});
  assert.equal(denied.status, 401);
  const replayed = await cli(["events", "dead-letters", "--replay", "--remote", edge.url, "--token", edge.tokens.admin]);
  assert.match(replayed, /replayed 1 dead letter/);
  await waitFor("the replayed poison back in the dead letters", async () => {
    const r = await edge.fetch("/admin/v1/dead-letters", { headers: auth });
    return r.json.dead_letters.length === 1;
  }, 60_000, 1000);
});

test("the status counts the events this isolate queued", async () => {
  const s = (await edge.fetch("/v1/status")).json;
  assert.ok(s.events.queued > 0, JSON.stringify(s));
  assert.equal(s.events.unsent, 0);
});

test("one shard or eight: the same events give the same metrics, and a correlated unit is one observation", async () => {
  const one = await startEdge({ manifest: manifest(), vars: { EVENT_SHARDS: "1" } });
  const eight = await startEdge({ manifest: manifest(), vars: { EVENT_SHARDS: "8" } });
  try {
    // One edge at a time: three workerd processes share this machine's cores.
    const a = await workload(one, 600, 5, "s");
    const b = await workload(eight, 600, 5, "s");
    assert.deepEqual(a.want, b.want);
    const [ma, mb] = await Promise.all([settled(one, 600), settled(eight, 600)]);
    assertExact(ma, a.want);
    assertExact(mb, b.want);
    for (const [va, vb] of ma.versions.map((v, i) => [v, mb.versions[i]])) {
      for (const name of Object.keys(va.metrics)) {
        const [x, y] = [va.metrics[name], vb.metrics[name]];
        assert.deepEqual([x.units, x.count, x.values, x.sum], [y.units, y.count, y.values, y.sum], name);
        if (x.estimate !== null) assert.ok(Math.abs(x.estimate - y.estimate) <= 1e-9 * Math.abs(y.estimate), name);
      }
    }
    // Continuous values on summarize (one version): 10 units x 100 values (each unit
    // one decile of the same 1,000 values) vs 1,000 units x 1 value.
    const values = Array.from({ length: 1000 }, (_, i) => i / 8);
    const width = async (target, prefix, unitsN) => {
      const toks = await pool(Array.from({ length: unitsN }, (_, u) => u), 8, async (u) =>
        (await target.post("/v1/resolve", { prompt: "summarize", unit: `${prefix}-${u}`, variables: { text: "t" } })).json.token);
      const evs = values.map((value, i) => ({ token: toks[Math.floor(i / (1000 / unitsN))], metric: "latency_ms", value, id: `v${i}` }));
      for (const c of chunks(evs, PER_REQUEST)) assert.equal((await target.post("/v1/events", { events: c })).status, 202);
      const m = await waitFor("1,000 latency values", async () => {
        const r = (await target.fetch("/v1/metrics/summarize")).json;
        return r.versions[0].metrics.latency_ms.values === 1000 ? r : false;
      }, 120_000, 2000);
      const ci = m.versions[0].metrics.latency_ms.ci;
      return ci[1] - ci[0];
    };
    const clustered = await width(one, "cluster", 10);
    const spread = await width(eight, "spread", 1000);
    assert.ok(clustered >= 3 * spread, `10 units: ${clustered}, 1,000 units: ${spread}`);
  } finally {
    await Promise.all([one.stop(), eight.stop()]);
  }
});
