// Measures the local edge against the JavaScript a user would deploy instead (the peer
// Worker, benches/peer-worker/: GrowthBook + mustache + WebCrypto) in the same run:
// wrk on loopback against each worker's own socket in workerd (Miniflare's direct
// socket: neither wrangler's proxy nor Miniflare's entry worker in front), routes
// interleaved over rounds; the Wasm size; a cold isolate's first /v1/resolve with 2,
// 10, 1,000 and 10,000 prompts (fresh workerd each time, KV seeded beforehand) and the
// isolate's memory. Prints figures for BENCHMARKS.md.
//
//   scripts/build-worker.sh && cargo build --release --bin edgeprompt && \
//     node scripts/bench-edge.mjs [seconds per run, default 10] [rounds, default 3] [cold runs, default 5]
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
const COLD_RUNS = Number(process.argv[4] ?? 5);
const { startPeer } = await import("../benches/peer-worker/start.mjs");
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

/** The CLI (the newer of its release and debug builds): a manifest's per-prompt KV pairs. */
function kvBulk(manifest) {
  const target = process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target");
  const bin = ["release", "debug"]
    .map((p) => path.join(target, p, "edgeprompt"))
    .filter((p) => fs.existsSync(p))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  if (!bin) throw new Error("build the CLI first: cargo build --release --bin edgeprompt");
  const file = path.join(os.tmpdir(), `bench-manifest-${randomBytes(4).toString("hex")}.json`);
  fs.writeFileSync(file, JSON.stringify(manifest));
  const out = execFileSync(bin, ["kv-bulk", file, "--current"], { encoding: "utf8", maxBuffer: 1 << 30 });
  fs.rmSync(file);
  return JSON.parse(out);
}

/** KV pairs of a manifest: the per-prompt layout (kv-bulk) or one document. */
function pairsOf(manifest, layout) {
  if (layout === "document") {
    return [{ key: `manifest/${manifest.revision}`, value: JSON.stringify(manifest) }, { key: "manifest/current", value: String(manifest.revision) }];
  }
  return kvBulk(manifest);
}

/** Starts our edge; with `pairs`, writes them to its KV first (else reuses `kvPersist`). */
async function startEdge({ pairs, kvPersist } = {}) {
  const persist = fs.mkdtempSync(path.join(os.tmpdir(), "edgeprompt-bench-"));
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));
  // The admin API's service binding is not benchmarked (its Worker is not started).
  delete workerOptions.serviceBindings;
  const mf = new Miniflare({
    ...workerOptions,
    name: "edgeprompt",
    modules: true,
    scriptPath: path.join(ROOT, "build/entry.mjs"),
    modulesRoot: path.join(ROOT, "build"), modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }, { type: "CompiledWasm", include: ["**/*.wasm"] }],
    host: "127.0.0.1",
    port: 0,
    bindings: { ...workerOptions.bindings, EDGEPROMPT_DEV_PANIC: "1", EVENT_SIGNING_KEY: randomBytes(32).toString("hex"), UNIT_HASH_KEY: randomBytes(32).toString("hex"), EDGE_KEYS: `bench:${SERVER_KEY}` },
    kvPersist: kvPersist ?? path.join(persist, "kv"),
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    durableObjectsPersist: path.join(persist, "do"),
  });
  await mf.ready;
  // The worker's own socket: no Miniflare entry worker (a JavaScript proxy) in between.
  const url = (await mf.unsafeGetDirectURL("edgeprompt")).origin;
  const kv = await mf.getKVNamespace("MANIFESTS");
  for (const { key, value } of pairs ?? []) await kv.put(key, value);
  return { mf, url, persist, async dispose() { await mf.dispose(); fs.rmSync(persist, { recursive: true, force: true }); } };
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

// Throughput on the demo manifest: ours and the peer, each on its own workerd socket,
// next to a plain JavaScript worker with two no-op routes (GET, and a POST that parses
// the same body): the platform's own cost of a request body. Routes are interleaved
// over ROUNDS rounds and each figure is the median, so that drift on this shared
// machine hits all alike.
const demo = JSON.parse(fs.readFileSync(path.join(ROOT, "examples/demo.json"), "utf8"));
const ours = await startEdge({ pairs: pairsOf(demo) });
const url = ours.url;
const peer = await startPeer({ manifest: demo, serverKey: SERVER_KEY });
const body = { prompt: "support", unit: "user-42", variables: { question: "Where is my order?", plan: "pro" } };
for (const u of [url, peer.url]) {
  const r = await fetch(u + "/v1/resolve", { method: "POST", headers: { authorization: `Bearer ${SERVER_KEY}` }, body: JSON.stringify(body) }); // load the manifest
  if (r.status !== 200) throw new Error(`${u}: ${r.status} ${await r.text()}`);
}
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
const trackedBody = luaPost(body);
const routes = [
  ["ours: GET /healthz", url + "/healthz"],
  ["ours: POST /__dev/echo (reads the same body, answers ok)", url + "/__dev/echo", untrackedBody],
  ["ours: POST /v1/resolve, track: false", url + "/v1/resolve", untrackedBody],
  ["peer: GET /healthz", peer.url + "/healthz"],
  ["peer: POST /echo", peer.url + "/echo", untrackedBody],
  ["peer: POST /v1/resolve, track: false", peer.url + "/v1/resolve", untrackedBody],
  ["plain JS worker: GET", jsUrl + "/healthz"],
  ["plain JS worker: POST reading the same body", jsUrl + "/echo", untrackedBody],
];
for (const u of [url, peer.url, jsUrl]) wrk(u + "/healthz"); // warm-up
const runs = routes.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  routes.forEach(([, u, script], i) => runs[i].push(wrk(u, script)));
}
// Tracked runs last, interleaved ours/peer: the queue consumer's aggregation goes on
// after each run and would slow whatever ran next.
const tracked = [
  ["ours: POST /v1/resolve, tracked", url + "/v1/resolve", trackedBody],
  ["peer: POST /v1/resolve, tracked (its own queue send)", peer.url + "/v1/resolve", trackedBody],
];
const trackedRuns = tracked.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  tracked.forEach(([, u, script], i) => trackedRuns[i].push(wrk(u, script)));
  await new Promise((r) => setTimeout(r, 3000));
}
routes.push(...tracked);
runs.push(...trackedRuns);
await ours.dispose();
await peer.dispose();
await jsWorker.dispose();
const median = (rs) => [...rs].sort((a, b) => a.rps - b.rps)[Math.floor(rs.length / 2)];
const results = runs.map(median);
const byName = (n) => results[routes.findIndex(([name]) => name.startsWith(n))];
console.log(`\nwrk -t1 -c16 -d${SECONDS}s, median of ${ROUNDS} interleaved rounds, on each worker's own socket in workerd (Miniflare's direct socket: no entry worker, no wrangler proxy)`);
console.log("| route | requests/s (median) | all rounds | p50 | p90 | p99 | ratio to its GET no-op | non-2xx |");
console.log("|---|---|---|---|---|---|---|---|");
routes.forEach(([name], i) => {
  const r = results[i];
  const base = byName(name.split(":")[0] + ": GET");
  const all = runs[i].map((x) => x.rps.toFixed(0)).join(", ");
  console.log(`| ${name} | ${r.rps.toFixed(0)} | ${all} | ${r.p50} | ${r.p90} | ${r.p99} | ${(r.rps / base.rps).toFixed(2)} | ${runs[i].reduce((n, x) => n + x.non2xx, 0)} |`);
});
const ratio = (a, b) => (byName(a).rps / byName(b).rps).toFixed(2);
console.log(`\nours / peer, requests per second (medians): resolve untracked ${ratio("ours: POST /v1/resolve, track: false", "peer: POST /v1/resolve, track: false")}, tracked ${ratio("ours: POST /v1/resolve, tracked", "peer: POST /v1/resolve, tracked")}, GET no-op ${ratio("ours: GET", "peer: GET")}; ours resolve / ours GET ${ratio("ours: POST /v1/resolve, track: false", "ours: GET")}, echo / GET ${ratio("ours: POST /__dev/echo", "ours: GET")}`);

// Cold isolates: the first /v1/resolve of a fresh workerd, KV seeded beforehand (a
// template KV directory per worker and manifest, copied for each run).
function manifestOf(n) {
  const m = { schema: 1, revision: 1, prompts: {} };
  for (let i = 0; i < n; i++) {
    const v = (k) => ({ version: k, messages: [
      { role: "system", content: `You are assistant number ${i} of {{company}}. Answer concisely and politely; never invent facts. Version ${k}.` },
      { role: "user", content: "{{question}}" }],
      model: { provider: "openai", name: "gpt-4o-mini", params: { temperature: 0.2 } },
      variables: { company: { default: "Acme" }, question: { required: true } } });
    m.prompts[`prompt-${i}`] = { versions: [v(1), v(2)], labels: { production: { default: { split: [{ version: 1, weight: 90 }, { version: 2, weight: 10 }] } } } };
  }
  return m;
}
async function template(start, pairs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgeprompt-kv-"));
  const w = await start(path.join(dir, "kv"));
  const kv = await w.mf.getKVNamespace("MANIFESTS");
  for (const { key, value } of pairs) await kv.put(key, value);
  await w.dispose();
  return dir;
}
async function coldRun(start, dir, request) {
  {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "edgeprompt-kv-run-"));
    fs.cpSync(dir, copy, { recursive: true });
    const s0 = performance.now();
    const w = await start(path.join(copy, "kv"));
    const startup = performance.now() - s0;
    const send = () => fetch(w.url + "/v1/resolve", { method: "POST", headers: { authorization: `Bearer ${SERVER_KEY}` }, body: JSON.stringify(request) });
    const t0 = performance.now();
    const first = await send();
    const t1 = performance.now();
    const text = await first.text();
    if (first.status !== 200) throw new Error(`cold resolve ${first.status}: ${text}`);
    await (await send()).text();
    const t2 = performance.now();
    const status = w.isOurs ? await (await fetch(w.url + "/v1/status")).json() : null;
    await w.dispose();
    fs.rmSync(copy, { recursive: true, force: true });
    return { startup, first: t1 - t0, warm: t2 - t1, memory: status?.memory_bytes };
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const startOurs = async (kvPersist) => ({ ...(await startEdge({ kvPersist })), isOurs: true });
const startThePeer = (kvPersist) => startPeer({ serverKey: SERVER_KEY, kvPersist });
const coldRequest = (prompt, variables) => ({ prompt, unit: "user-42", variables, track: false });
const cases = [
  ["demo (2 prompts)", demo, coldRequest("support", body.variables)],
  ["10 prompts", manifestOf(10), coldRequest("prompt-7", { question: "Q" })],
  ["1,000 prompts", manifestOf(1000), coldRequest("prompt-777", { question: "Q" })],
  ["10,000 prompts", manifestOf(10000), coldRequest("prompt-7777", { question: "Q" })],
];
const coldRows = [];
let allServed = null;
for (const [name, manifest, request] of cases) {
  const size = JSON.stringify(manifest).length;
  const perPrompt = await template(startOurs, pairsOf(manifest));
  const document = await template(startOurs, pairsOf(manifest, "document"));
  const peerKv = await template(startThePeer, pairsOf(manifest, "document"));
  // Interleaved: one run of each in turn.
  const rows = { ours: [], document: [], peer: [] };
  for (let run = 0; run < COLD_RUNS; run++) {
    rows.ours.push(await coldRun(startOurs, perPrompt, request));
    rows.document.push(await coldRun(startOurs, document, request));
    rows.peer.push(await coldRun(startThePeer, peerKv, request));
  }
  if (name.startsWith("10,000")) {
    // Memory once every prompt has been served (all compiled, within the entry budget).
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "edgeprompt-kv-run-"));
    fs.cpSync(perPrompt, copy, { recursive: true });
    const w = await startOurs(path.join(copy, "kv"));
    const names = Object.keys(manifest.prompts);
    for (let i = 0; i < names.length; i += 32) {
      await Promise.all(names.slice(i, i + 32).map(async (prompt) => {
        const r = await fetch(w.url + "/v1/resolve", { method: "POST", headers: { authorization: `Bearer ${SERVER_KEY}` }, body: JSON.stringify({ ...request, prompt }) });
        if (r.status !== 200) throw new Error(`${prompt}: ${r.status} ${await r.text()}`);
      }));
    }
    const s = await (await fetch(w.url + "/v1/status")).json();
    allServed = { prompts: names.length, held: s.prompts_compiled, entryBytes: s.prompt_entry_bytes, memory: s.memory_bytes };
    await w.dispose();
    fs.rmSync(copy, { recursive: true, force: true });
  }
  for (const d of [perPrompt, document, peerKv]) fs.rmSync(d, { recursive: true, force: true });
  coldRows.push({ name, size, rows });
}
console.log(`\nCold isolates: wall time of the first POST /v1/resolve of a fresh workerd (median of ${COLD_RUNS}, interleaved), then of the next request; startup = from starting Miniflare to ready (the workerd process and the module's evaluation); memory = our isolate's Wasm linear memory after both`);
console.log("| manifest | JSON bytes | ours, per-prompt layout: first / next | ours, document layout: first / next | peer: first / next | ours per-prompt / peer | startup: ours / peer | memory (per-prompt / document) |");
console.log("|---|---|---|---|---|---|---|---|");
for (const { name, size, rows } of coldRows) {
  const f = (rs) => `${med(rs.map((r) => r.first)).toFixed(1)} / ${med(rs.map((r) => r.warm)).toFixed(1)} ms`;
  const mem = (rs) => `${(med(rs.map((r) => r.memory)) / 1048576).toFixed(1)} MiB`;
  const up = (rs) => med(rs.map((r) => r.startup)).toFixed(0);
  console.log(`| ${name} | ${size} | ${f(rows.ours)} | ${f(rows.document)} | ${f(rows.peer)} | ${(med(rows.ours.map((r) => r.first)) / med(rows.peer.map((r) => r.first))).toFixed(2)} | ${up(rows.ours)} / ${up(rows.peer)} ms | ${mem(rows.ours)} / ${mem(rows.document)} |`);
}
const firstOf = (n) => med(coldRows.find((c) => c.name === n).rows.ours.map((r) => r.first));
console.log(`\nours per-prompt, 10,000 prompts / 10 prompts, first request: ${(firstOf("10,000 prompts") / firstOf("10 prompts")).toFixed(2)}`);
if (allServed) {
  console.log(`10,000 prompts, every one served once by one isolate: ${allServed.held} entries compiled (${(allServed.entryBytes / 1048576).toFixed(1)} MiB of entry text), Wasm linear memory ${(allServed.memory / 1048576).toFixed(1)} MiB`);
}
