// Measures the event pipeline in a local run (wrangler dev: real Queues and SQLite
// Durable Objects, S = 8 shards, Q = 4 queues as in wrangler.toml): SQLite rows written
// per exposure and per outcome (from each aggregator object's own counters), bytes
// stored per unit, the time of /v1/metrics, and the events/s the local consumer folds.
// Prints figures for docs/scale.md and BENCHMARKS.md.
//
//   scripts/build-worker.sh edge && scripts/build-worker.sh control && node scripts/measure-events.mjs [units, default 5000]
//   MIX=0 node scripts/measure-events.mjs 100000   (exposures only: /v1/metrics over 10^5 units)
import { startEdge, waitFor } from "../tests/edge/harness.mjs";
import { PER_REQUEST, chunks, manifest, pool, settled, workload } from "../tests/edge/workload.mjs";

const UNITS = Number(process.argv[2] ?? 5000);
const edge = await startEdge({ manifest: manifest() });
const auth = { authorization: `Bearer ${edge.tokens.viewer}` };
const storage = async () => {
  const r = await edge.fetch("/admin/v1/aggregates/support/production", { headers: auth });
  if (r.status !== 200) throw new Error(r.text);
  const shards = r.json.periods.flatMap((p) => p.shards);
  const sum = (k) => shards.reduce((s, x) => s + x[k], 0);
  return { rows: sum("rows_written"), events: sum("events"), batches: sum("batches"), bytes: sum("database_bytes"), units: sum("exposed_units"), shards: shards.length };
};
try {
  // Phase 1: exposures only (one per unit), as a resolve path sends them.
  const exposeStart = Date.now();
  const items = Array.from({ length: UNITS }, (_, i) => ({ prompt: "support", unit: `x-${i}`, attributes: { app_version: "2.5.0" }, revision: 1 }));
  await pool(chunks(items, PER_REQUEST), 8, async (batch) => {
    const r = await edge.post("/v1/exposures", { exposures: batch });
    if (r.status !== 200) throw new Error(r.text);
  });
  await waitFor("exposures applied", async () => (await storage()).events >= UNITS, 300_000, 1000);
  const afterExposures = await storage();
  const exposeMs = Date.now() - exposeStart;
  console.log(`S = ${afterExposures.shards} shards, Q = 4 queues`);
  console.log(`exposures only: ${afterExposures.events} events, ${afterExposures.rows} rows written in ${afterExposures.batches} batches: ${(afterExposures.rows / afterExposures.events).toFixed(3)} rows per exposure; folded in ${exposeMs} ms (${(afterExposures.events / exposeMs * 1000).toFixed(0)} events/s end to end)`);
  console.log(`storage after the exposures: ${afterExposures.bytes} bytes for ${afterExposures.units} units: ${(afterExposures.bytes / afterExposures.units).toFixed(0)} bytes per exposed unit`);
  if (process.env.MIX !== "0") await mix(afterExposures, exposeMs);
  await timeMetrics((await storage()));
} finally {
  await edge.stop();
}

async function mix(afterExposures) {
  // Phase 2: a realistic mix on other units (exposures, then about 5 outcomes per unit).
  const mixStart = Date.now();
  const { posted } = await workload(edge, UNITS, 3, "m", { twice: false });
  await settled(edge, 2 * UNITS);
  const mixMs = Date.now() - mixStart;
  const total = await storage();
  const outcomes = posted - UNITS;
  const mixRows = total.rows - afterExposures.rows;
  const rowsExposure = afterExposures.rows / afterExposures.events;
  const rowsOutcome = (mixRows - UNITS * rowsExposure) / outcomes;
  console.log(`mix: ${posted} events (${UNITS} exposures, ${outcomes} outcomes), ${mixRows} rows: ${(mixRows / posted).toFixed(3)} rows per event on average, ${rowsOutcome.toFixed(3)} per outcome; folded in ${mixMs} ms (${(posted / mixMs * 1000).toFixed(0)} events/s end to end)`);
  console.log(`storage: ${total.bytes} bytes in ${total.shards} objects for ${total.units} units: ${(total.bytes / total.units).toFixed(0)} bytes per unit (SQLite pages, dedup state included); the mix's outcomes added ${((total.bytes - afterExposures.bytes - UNITS * afterExposures.bytes / afterExposures.units) / outcomes).toFixed(0)} bytes each`);
}

async function timeMetrics(total) {
  // /v1/metrics: the first call after the 5 s cache merges every shard.
  const times = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 5200));
    const t0 = performance.now();
    const r = await edge.fetch("/v1/metrics/support?label=production");
    times.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(r.text);
  }
  times.sort((a, b) => a - b);
  console.log(`/v1/metrics (uncached, ${total.units} units, ${total.shards} shards): median ${times[2].toFixed(1)} ms of 5`);
}
