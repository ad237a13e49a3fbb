// A realistic event workload through the HTTP API, its brute-force answer, and checks
// that /v1/metrics equals it: shared by tests/edge/events.test.mjs and
// scripts/measure-events.mjs.
import assert from "node:assert/strict";
import { demoManifest, waitFor } from "./harness.mjs";

export const PER_REQUEST = 100;

/** The demo with an even split on support/production, so both versions get units. */
export function manifest() {
  const m = demoManifest();
  m.prompts.support.labels.production.default = { split: [{ version: 1, weight: 50 }, { version: 2, weight: 50 }] };
  return m;
}

/** Runs `fn` over items with bounded concurrency. */
export async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

export const chunks = (xs, n) => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));

/** A deterministic generator, so a failure can be replayed. */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Exposes `units` units through /v1/exposures (every batch posted twice), then posts
 * outcomes of every metric kind through /v1/events (every batch posted twice); returns
 * the brute-force aggregates per version and the number of events posted once.
 */
export async function workload(edge, units, seed, prefix = "u", { twice = true } = {}) {
  const rand = rng(seed);
  const items = Array.from({ length: units }, (_, i) => ({
    prompt: "support",
    unit: `${prefix}-${i}`,
    attributes: { app_version: i % 10 === 0 ? "1.2.0" : "2.5.0" },
    revision: 1,
  }));
  const tokens = new Array(units);
  const versions = new Array(units);
  const rules = new Array(units);
  await pool(chunks(items.map((it, i) => [it, i]), PER_REQUEST), 8, async (batch) => {
    let r;
    for (let round = 0; round < (twice ? 2 : 1); round++) {
      r = await edge.post("/v1/exposures", { exposures: batch.map(([it]) => it) });
      assert.equal(r.status, 200, r.text);
    }
    r.json.results.forEach((res, k) => {
      const i = batch[k][1];
      assert.ok(res.token, JSON.stringify(res));
      tokens[i] = res.token;
      versions[i] = res.version;
      rules[i] = res.rule;
    });
  });
  const events = [];
  const want = {};
  const cell = (v) => (want[v] ??= { units: 0, defaultUnits: 0, resolved: 0, follow: { sum: 0, units: 0 }, latency: { values: 0, sum: 0, units: 0 } });
  for (let i = 0; i < units; i++) {
    const w = cell(versions[i]);
    w.units += 1;
    if (rules[i] === "default") w.defaultUnits += 1;
    const ok = rand() < (versions[i] === 2 ? 0.6 : 0.5) ? 1 : 0;
    events.push({ token: tokens[i], metric: "resolved", value: ok });
    w.resolved += ok;
    const follows = Math.floor(rand() * 5);
    if (follows > 0) w.follow.units += 1;
    for (let k = 0; k < follows; k++) {
      const value = 1 + Math.floor(rand() * 3);
      events.push({ token: tokens[i], metric: "follow_ups", value, id: `f${k}` });
      w.follow.sum += value;
    }
    const lats = Math.floor(rand() * 5);
    if (lats > 0) w.latency.units += 1;
    for (let k = 0; k < lats; k++) {
      // Multiples of 2^-10: sums agree exactly in any order.
      const value = Math.floor(rand() * 400_000) / 1024;
      events.push({ token: tokens[i], metric: "latency_ms", value, id: `l${k}` });
      w.latency.values += 1;
      w.latency.sum += value;
    }
  }
  // Shuffled, so that a unit's outcomes arrive in many batches and queues.
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [events[i], events[j]] = [events[j], events[i]];
  }
  await pool(chunks(events, PER_REQUEST), 8, async (batch) => {
    for (let round = 0; round < (twice ? 2 : 1); round++) {
      const r = await edge.post("/v1/events", { events: batch });
      assert.equal(r.status, 202, r.text);
      assert.equal(r.json.accepted, batch.length);
    }
  });
  return { want, posted: units + events.length, tokens };
}

/** Metrics once they stop changing and show every unit. */
export async function settled(edge, units) {
  // Unchanged over more than the queues' retry delay (10 s, wrangler.toml): a message
  // redelivered after a failure lands within it, so a shorter quiet spell can be the
  // gap before a retry rather than the end.
  const QUIET_POLLS = 3;
  let last, quiet = 0;
  await waitFor(`metrics for ${units} units`, async () => {
    const r = await edge.fetch("/v1/metrics/support?label=production");
    assert.equal(r.status, 200, r.text);
    const total = r.json.versions.reduce((s, v) => s + v.exposed_units, 0);
    const counted = JSON.stringify(r.json.versions.map((v) => [v.exposed_units, v.metrics.resolved.count, v.metrics.follow_ups.count, v.metrics.latency_ms.values]));
    quiet = last === counted ? quiet + 1 : 0;
    last = counted;
    return total === units && quiet >= QUIET_POLLS ? r.json : false;
  }, 600_000, 6_000);
  return (await edge.fetch("/v1/metrics/support?label=production")).json;
}

export function assertExact(m, want) {
  for (const [v, w] of Object.entries(want)) {
    const got = m.versions.find((x) => x.version === Number(v));
    assert.ok(got, `version ${v} missing`);
    assert.equal(got.exposed_units, w.units, `v${v} exposed units`);
    assert.equal(m.srm.observed_default_units[m.versions.indexOf(got)], w.defaultUnits, `v${v} default units`);
    assert.equal(got.metrics.resolved.count, w.resolved, `v${v} resolved units`);
    assert.equal(got.metrics.resolved.units, w.units);
    assert.equal(got.metrics.follow_ups.count, w.follow.sum, `v${v} follow_ups total`);
    assert.equal(got.metrics.follow_ups.units, w.units, "count metrics: every exposed unit is an observation");
    assert.equal(got.metrics.latency_ms.values, w.latency.values, `v${v} latency values`);
    assert.equal(got.metrics.latency_ms.sum, w.latency.sum, `v${v} latency sum`);
    assert.equal(got.metrics.latency_ms.units, w.latency.units, `v${v} latency reporting units`);
    assert.ok(Math.abs(got.metrics.follow_ups.estimate - w.follow.sum / w.units) < 1e-9);
  }
}
