// Measures the local edge: wrk on loopback against the worker's own workerd socket
// (Miniflare's entry URL, no wrangler proxy in front), /v1/resolve with and without
// tracking versus /healthz in the same run; the Wasm size; the cold load of a
// 1,000-prompt manifest. Prints figures for BENCHMARKS.md.
//
//   scripts/build-worker.sh && node scripts/bench-edge.mjs [seconds per run, default 10]
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
    bindings: { ...workerOptions.bindings, EDGEPROMPT_DEV_PANIC: "1", EVENT_SIGNING_KEY: randomBytes(32).toString("hex"), UNIT_HASH_KEY: randomBytes(32).toString("hex") },
    kvPersist: path.join(persist, "kv"),
    d1Persist: path.join(persist, "d1"),
  });
  const url = (await mf.ready).origin;
  const db = await mf.getD1Database("METRICS");
  const schema = fs.readFileSync(path.join(ROOT, "migrations/0001_metrics.sql"), "utf8")
    .split(";").map((s) => s.replace(/--.*$/gm, "").trim()).filter(Boolean);
  for (const stmt of schema) await db.prepare(stmt).run();
  const kv = await mf.getKVNamespace("MANIFESTS");
  await kv.put(`manifest/${manifest.revision}`, JSON.stringify(manifest));
  await kv.put("manifest/current", String(manifest.revision));
  return { mf, url, persist };
}

function wrk(url, script) {
  const args = ["-t1", "-c16", `-d${SECONDS}s`, "--latency"];
  if (script) args.push("-s", script);
  const out = execFileSync("wrk", [...args, url], { encoding: "utf8" });
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
  fs.writeFileSync(file, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(JSON.stringify(body))}\nwrk.headers["content-type"] = "application/json"\n`);
  return file;
}

// Wasm size.
const wasm = fs.readFileSync(path.join(ROOT, "build/index_bg.wasm"));
const gz = zlib.gzipSync(wasm, { level: 9 }).length;
console.log(`worker Wasm: ${wasm.length} bytes raw, ${gz} bytes gzipped (-9)`);

// Throughput on the demo manifest.
const demo = JSON.parse(fs.readFileSync(path.join(ROOT, "examples/demo.json"), "utf8"));
const { mf, url } = await startEdge(demo);
const body = { prompt: "support", unit: "user-42", variables: { question: "Where is my order?", plan: "pro" } };
await fetch(url + "/v1/resolve", { method: "POST", body: JSON.stringify(body) }); // load the manifest
wrk(url + "/healthz"); // warm-up
const health = wrk(url + "/healthz");
const echo = wrk(url + "/__dev/echo", luaPost({ ...body, track: false }));
const untracked = wrk(url + "/v1/resolve", luaPost({ ...body, track: false }));
const tracked = wrk(url + "/v1/resolve", luaPost(body));
await mf.dispose();

// The platform's own cost of a POST body: a plain JavaScript worker with the same two
// no-op routes, in the same workerd, measured in the same run.
const jsWorker = new Miniflare({
  modules: true,
  host: "127.0.0.1",
  port: 0,
  compatibilityDate: workerCompatibilityDate(),
  script: `export default { async fetch(req) {
    if (req.method === "POST") { JSON.parse(await req.text()); }
    return new Response("ok", { headers: { "content-type": "text/plain" } });
  } };`,
});
const jsUrl = (await jsWorker.ready).origin;
wrk(jsUrl + "/healthz"); // warm-up
const jsHealth = wrk(jsUrl + "/healthz");
const jsEcho = wrk(jsUrl + "/echo", luaPost({ ...body, track: false }));
await jsWorker.dispose();
const row = (name, r) => console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p90} | ${r.p99} | ${(r.rps / health.rps).toFixed(2)} | ${r.non2xx} |`);
console.log(`\nwrk -t1 -c16 -d${SECONDS}s on ${url} (Miniflare's entry socket: the worker's own workerd, no wrangler proxy)`);
console.log("| route | requests/s | p50 | p90 | p99 | ratio to /healthz | non-2xx |");
console.log("|---|---|---|---|---|---|---|");
row("GET /healthz", health);
row("POST /__dev/echo (reads the same body, answers ok)", echo);
row("POST /v1/resolve, track: false", untracked);
row("POST /v1/resolve, tracked", tracked);
console.log(`\nplain JavaScript worker, same workerd: GET ${jsHealth.rps.toFixed(0)} requests/s, POST reading the same body ${jsEcho.rps.toFixed(0)} requests/s: ratio ${(jsEcho.rps / jsHealth.rps).toFixed(2)} (the platform's cost of a request body)`);

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
