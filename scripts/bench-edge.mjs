// Measures the local edge: wrk on loopback against the worker's own socket in workerd
// (Miniflare's direct socket: neither wrangler's proxy nor Miniflare's entry worker in
// front, both of which would add their own per-request cost to every route),
// /v1/resolve with and without tracking versus /healthz in the same run; the Wasm size;
// the cold load of a 1,000-prompt manifest. Prints figures for BENCHMARKS.md.
//
//   scripts/build-worker.sh && node scripts/bench-edge.mjs [seconds per run, default 10] [rounds, default 3]
//   WRK_CPU=1 taskset -c 0 node scripts/bench-edge.mjs   (wrk on core 1, workerd on core 0)
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = Number(process.argv[2] ?? 10);
const ROUNDS = Number(process.argv[3] ?? 3);
const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
const { Miniflare } = await import("miniflare");

try {
  execFileSync("wrk", ["--version"], { stdio: "ignore" });
} catch (e) {
  if (e.code === "ENOENT") {
    console.error("installing wrk (Debian package)");
    execFileSync("sh", ["-c", "apt-get update -qq && apt-get install -y -qq wrk"], { stdio: "inherit" });
  }
}

// The server key /v1/resolve requires: the bench pays for its check like any caller.
const SERVER_KEY = randomBytes(32).toString("hex");

async function startEdge(manifest) {
  const persist = fs.mkdtempSync(path.join(os.tmpdir(), "edgeprompt-bench-"));
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));
  // The admin API's service binding is not benchmarked (its Worker is not started).
  delete workerOptions.serviceBindings;
  const mf = new Miniflare({
    ...workerOptions,
    name: "edgeprompt",
    modules: true,
    scriptPath: path.join(ROOT, "build/index.js"),
    modulesRoot: path.join(ROOT, "build"),
    host: "127.0.0.1",
    port: 0,
    bindings: { ...workerOptions.bindings, EDGEPROMPT_DEV_PANIC: "1", EVENT_SIGNING_KEY: randomBytes(32).toString("hex"), UNIT_HASH_KEY: randomBytes(32).toString("hex"), EDGE_KEYS: `bench:${SERVER_KEY}` },
    kvPersist: path.join(persist, "kv"),
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    durableObjectsPersist: path.join(persist, "do"),
  });
  await mf.ready;
  // The worker's own socket: no Miniflare entry worker (a JavaScript proxy) in between.
  const url = (await mf.unsafeGetDirectURL("edgeprompt")).origin;
  const kv = await mf.getKVNamespace("MANIFESTS");
  await kv.put(`manifest/${manifest.revision}`, JSON.stringify(manifest));
  await kv.put("manifest/current", String(manifest.revision));
  return { mf, url, persist };
}

function wrk(url, script) {
  const args = ["-t1", "-c16", `-d${SECONDS}s`, "--latency"];
  if (script) args.push("-s", script);
  // WRK_CPU pins wrk to a core (with the rest of the run pinned to another by taskset).
  const [cmd, argv] = process.env.WRK_CPU
    ? ["taskset", ["-c", process.env.WRK_CPU, "wrk", ...args, url]]
    : ["wrk", [...args, url]];
  const out = execFileSync(cmd, argv, { encoding: "utf8" });
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]);
  const pct = (p) => out.match(new RegExp(`\\s${p}%\\s+([\\d.]+\\w+)`))?.[1];
  const non2xx = out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? "0";
  return { rps, p50: pct(50), p90: pct(90), p99: pct(99), non2xx: Number(non2xx) };
}

function workerCompatibilityDate() {
  return fs.readFileSync(path.join(ROOT, "wrangler.toml"), "utf8").match(/^compatibility_date = "(.*)"$/m)[1];
}

function luaPost(body) {
  const file = path.join(os.tmpdir(), `wrk-${randomBytes(4).toString("hex")}.lua`);
  fs.writeFileSync(file, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(JSON.stringify(body))}\nwrk.headers["content-type"] = "application/json"\nwrk.headers["authorization"] = "Bearer ${SERVER_KEY}"\n`);
  return file;
}

// Wasm size.
const wasm = fs.readFileSync(path.join(ROOT, "build/index_bg.wasm"));
const gz = zlib.gzipSync(wasm, { level: 9 }).length;
console.log(`worker Wasm: ${wasm.length} bytes raw, ${gz} bytes gzipped (-9)`);

// Throughput on the demo manifest, next to a plain JavaScript worker with the same two
// no-op routes (GET, and a POST that parses the same body): the platform's own cost of
// a request body, measured in the same run. Routes are interleaved over ROUNDS rounds
// and each figure is the median, so that drift on this shared machine hits all alike.
const demo = JSON.parse(fs.readFileSync(path.join(ROOT, "examples/demo.json"), "utf8"));
const { mf, url } = await startEdge(demo);
const body = { prompt: "support", unit: "user-42", variables: { question: "Where is my order?", plan: "pro" } };
await fetch(url + "/v1/resolve", { method: "POST", headers: { authorization: `Bearer ${SERVER_KEY}` }, body: JSON.stringify(body) }); // load the manifest
const jsWorker = new Miniflare({
  modules: true,
  host: "127.0.0.1",
  port: 0,
  compatibilityDate: workerCompatibilityDate(),
  name: "plain",
  unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  script: `export default { async fetch(req) {
    if (req.method === "POST") { JSON.parse(await req.text()); }
    return new Response("ok", { headers: { "content-type": "text/plain" } });
  } };`,
});
await jsWorker.ready;
const jsUrl = (await jsWorker.unsafeGetDirectURL("plain")).origin;
const untrackedBody = luaPost({ ...body, track: false });
const routes = [
  ["GET /healthz", url + "/healthz"],
  ["POST /__dev/echo (reads the same body, answers ok)", url + "/__dev/echo", untrackedBody],
  ["POST /v1/resolve, track: false", url + "/v1/resolve", untrackedBody],
  ["plain JS worker: GET", jsUrl + "/healthz"],
  ["plain JS worker: POST reading the same body", jsUrl + "/echo", untrackedBody],
];
wrk(url + "/healthz"); // warm-up
wrk(jsUrl + "/healthz");
const runs = routes.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  routes.forEach(([, u, script], i) => runs[i].push(wrk(u, script)));
}
// Tracked runs last: the queue consumer's aggregation goes on after each run and would
// slow whatever ran next.
const tracked = ["POST /v1/resolve, tracked", url + "/v1/resolve", luaPost(body)];
const trackedRuns = [];
for (let round = 0; round < ROUNDS; round++) {
  trackedRuns.push(wrk(tracked[1], tracked[2]));
  await new Promise((r) => setTimeout(r, 3000));
}
routes.push(tracked);
runs.push(trackedRuns);
await mf.dispose();
await jsWorker.dispose();
const median = (rs) => [...rs].sort((a, b) => a.rps - b.rps)[Math.floor(rs.length / 2)];
const results = runs.map(median);
const [health, , , jsHealth] = results;
console.log(`\nwrk -t1 -c16 -d${SECONDS}s, median of ${ROUNDS} interleaved rounds, on each worker's own socket in workerd (Miniflare's direct socket: no entry worker, no wrangler proxy)`);
console.log("| route | requests/s (median) | all rounds | p50 | p90 | p99 | ratio to its GET no-op | non-2xx |");
console.log("|---|---|---|---|---|---|---|---|");
routes.forEach(([name], i) => {
  const r = results[i];
  const base = name.startsWith("plain") ? jsHealth : health;
  const all = runs[i].map((x) => x.rps.toFixed(0)).join(", ");
  console.log(`| ${name} | ${r.rps.toFixed(0)} | ${all} | ${r.p50} | ${r.p90} | ${r.p99} | ${(r.rps / base.rps).toFixed(2)} | ${runs[i].reduce((n, x) => n + x.non2xx, 0)} |`);
});

// Cold load of a 1,000-prompt manifest inside the worker.
const big = { schema: 1, revision: 1, prompts: {} };
for (let i = 0; i < 1000; i++) {
  const v = (n) => ({ version: n, messages: [
    { role: "system", content: `You are assistant number ${i} of {{company}}. Answer concisely and politely; never invent facts. Version ${n}.` },
    { role: "user", content: "{{question}}" }],
    model: { provider: "openai", name: "gpt-4o-mini", params: { temperature: 0.2 } },
    variables: { company: { default: "Acme" }, question: { required: true } } });
  big.prompts[`prompt-${i}`] = { versions: [v(1), v(2)], labels: { production: { default: { split: [{ version: 1, weight: 90 }, { version: 2, weight: 10 }] } } } };
}
const text = JSON.stringify(big);
const cold = [];
for (let run = 0; run < 5; run++) {
  const e = await startEdge(big);
  const t0 = performance.now();
  const first = await fetch(e.url + "/v1/status");
  const t1 = performance.now();
  await fetch(e.url + "/v1/status");
  const t2 = performance.now();
  if (first.status !== 200) throw new Error(`cold status ${first.status}`);
  cold.push({ first: t1 - t0, warm: t2 - t1 });
  await e.mf.dispose();
}
const med = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\n1,000-prompt manifest (${text.length} bytes): first request after start (KV read + parse + validate + compile) median ${med(cold.map((c) => c.first)).toFixed(1)} ms, next request ${med(cold.map((c) => c.warm)).toFixed(1)} ms (5 fresh isolates)`);
