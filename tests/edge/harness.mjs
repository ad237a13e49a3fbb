// Starts the real Workers (edge and control plane) in workerd with `wrangler dev` on a free loopback port, with a
// fresh --persist-to directory (local KV, Queues, Durable Objects), and stops every process it started.
import { spawn, execFile } from "node:child_process";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const execFileP = promisify(execFile);
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", FORCE_COLOR: "0" };
const START_TIMEOUT_MS = Number(process.env.EDGE_TEST_START_TIMEOUT_MS ?? 300_000);
const groups = new Set();
/** The endpoints that need a server key (EDGE_KEYS). */
export const PROTECTED = /^\/v1\/(resolve|prompts\/|metrics\/)/;

process.on("exit", () => {
  for (const pid of groups) {
    try { process.kill(-pid, "SIGKILL"); } catch { /* gone */ }
  }
});

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function waitFor(what, fn, timeoutMs, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function wrangler(...args) {
  const { stdout, stderr } = await execFileP("npx", ["wrangler", ...args], { cwd: ROOT, env: ENV, timeout: 120_000, maxBuffer: 16 << 20 });
  return stdout + stderr;
}

/** The CLI binary built by cargo (EDGEPROMPT_BIN, or the debug build in the target dir). */
export function cliPath() {
  if (process.env.EDGEPROMPT_BIN) return process.env.EDGEPROMPT_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target");
  for (const profile of ["debug", "release"]) {
    const p = path.join(target, profile, "edgeprompt");
    if (fs.existsSync(p)) return p;
  }
  throw new Error("edgeprompt CLI not built: run `cargo build --bin edgeprompt` or set EDGEPROMPT_BIN");
}

/** Runs the CLI with extra environment variables; resolves to {code, stdout, stderr} (never rejects). */
export function cliRun(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cliPath(), args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the CLI; returns stdout. */
export async function cli(args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(cliPath(), args, { cwd: ROOT, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`edgeprompt ${args.join(" ")} exited ${code}: ${err}`))));
    if (input !== undefined) {
      // The CLI may exit before reading everything (e.g. on an error): not a test failure.
      child.stdin.on("error", () => {});
      child.stdin.end(input);
    }
  });
}

/**
 * Starts an edge. Options: `manifest` (a document to seed as revision/current), `secrets`
 * (default true), `vars` (wrangler --var overrides), `controlVars` (variables of the
 * control-plane Worker, e.g. its dev faults), `config` (another Worker's wrangler
 * config to run alone instead of the edge and the control plane).
 */
export async function startEdge({ manifest, secrets = true, vars = {}, controlVars = {}, config } = {}) {
  const persist = fs.mkdtempSync(path.join(os.tmpdir(), "edgeprompt-edge-"));
  const envFile = path.join(persist, "test.env");
  const admin = randomBytes(32).toString("hex");
  const viewer = randomBytes(32).toString("hex");
  const approver = randomBytes(32).toString("hex");
  const serverKey = randomBytes(32).toString("hex");
  const keys = {
    EDGE_KEYS: `tests:${serverKey}`,
    EVENT_SIGNING_KEY: randomBytes(32).toString("hex"),
    UNIT_HASH_KEY: randomBytes(32).toString("hex"),
    ADMIN_TOKENS: `admin:rw:${admin},viewer:ro:${viewer},approver:rw+approve:${approver}`,
  };
  // `secrets` may also be an object: these values over the generated ones (an empty
  // string leaves one out).
  if (typeof secrets === "object") Object.assign(keys, secrets);
  // --env-file replaces .dev.vars: each edge gets its own keys (or none).
  const lines = Object.entries(keys).filter(([, v]) => v !== "").map(([k, v]) => `${k}=${v}`);
  fs.writeFileSync(envFile, secrets ? lines.join("\n") + "\n" : "\n");
  const edge = {
    persist,
    keys,
    tokens: { admin, viewer, approver },
    serverKey,
    url: null,
    log: [],
    async kvPut(key, value) {
      const file = path.join(persist, `value-${Date.now()}-${Math.random().toString(16).slice(2)}`);
      fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
      await wrangler("kv", "key", "put", key, "--path", file, "--binding", "MANIFESTS", "--local", "--persist-to", persist, ...(config ? ["-c", config] : []));
    },
    /** Writes `doc` in the per-prompt layout as ops do: `edgeprompt kv-bulk` then `wrangler kv bulk put` (with the pointer unless `current: false`). Returns the pairs written. */
    async publishPerPrompt(doc, { current = true } = {}) {
      const src = path.join(persist, `manifest-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
      const bulk = `${src}.kv.json`;
      fs.writeFileSync(src, JSON.stringify(doc));
      await cli(["kv-bulk", src, ...(current ? ["--current"] : []), "-o", bulk]);
      await wrangler("kv", "bulk", "put", bulk, "--binding", "MANIFESTS", "--local", "--persist-to", persist, ...(config ? ["-c", config] : []));
      return JSON.parse(fs.readFileSync(bulk, "utf8"));
    },
    async publish(doc) {
      await edge.kvPut(`manifest/${doc.revision}`, doc);
      await edge.kvPut("manifest/current", String(doc.revision));
    },
    // The endpoints behind a server key get this edge's, unless the caller sets its own
    // Authorization (or `auth: false` to send none).
    async fetch(p, { auth = true, ...init } = {}) {
      const headers = new Headers(init.headers);
      if (auth && PROTECTED.test(p) && !headers.has("authorization")) headers.set("authorization", `Bearer ${serverKey}`);
      const res = await fetch(edge.url + p, { ...init, headers, signal: AbortSignal.timeout(30_000) });
      const text = await res.text();
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      return { status: res.status, headers: res.headers, text, json };
    },
    post(p, body, init = {}) {
      return edge.fetch(p, { ...init, method: "POST", headers: { "content-type": "application/json", ...init.headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
    },
    /** Stops the processes and keeps what they persisted (for inspection). */
    async halt() {
      const pid = edge.child?.pid;
      if (!pid) return;
      const kill = (sig) => { try { process.kill(-pid, sig); } catch { /* gone */ } };
      kill("SIGTERM");
      await Promise.race([edge.exited, sleep(10_000)]);
      kill("SIGKILL");
      groups.delete(pid);
    },
    async stop() {
      await edge.halt();
      fs.rmSync(persist, { recursive: true, force: true });
    },
  };
  if (manifest) await edge.publish(manifest);
  const port = await freePort();
  const configs = config ? ["-c", config] : ["-c", edgeConfig(persist), "-c", controlConfig(persist, envFile, controlVars)];
  const args = ["wrangler", "dev", ...configs, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", "0", "--persist-to", persist, "--env-file", envFile, "--show-interactive-dev-session=false"];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child = spawn("npx", args, { cwd: ROOT, env: ENV, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  groups.add(child.pid);
  edge.child = child;
  edge.exited = new Promise((r) => child.once("exit", r));
  child.stdout.on("data", (d) => edge.log.push(d.toString()));
  child.stderr.on("data", (d) => edge.log.push(d.toString()));
  edge.url = `http://127.0.0.1:${port}`;
  try {
    await waitFor("the edge to answer /healthz", async () => (await fetch(edge.url + "/healthz", { signal: AbortSignal.timeout(2000) })).status === 200, START_TIMEOUT_MS, 500);
  } catch (e) {
    await edge.stop();
    throw new Error(`${e.message}\n--- wrangler output ---\n${edge.log.join("").slice(-4000)}`);
  }
  return edge;
}

/**
 * Both Workers run in one process: the edge (first config, on the port) and the control
 * plane it reaches over the CONTROL_PLANE service binding, sharing local KV. wrangler
 * gives --env-file only to the first config; the second reads `.dev.vars` beside its
 * config file, so the control config is copied next to this edge's own secrets (without
 * [build], as the edge's: `built`).
 */
function controlConfig(persist, envFile, vars) {
  const dir = path.join(persist, "control");
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "wrangler.toml"), built("wrangler.control.toml"));
  const extra = Object.entries(vars).map(([k, v]) => `${k}=${v}\n`).join("");
  fs.writeFileSync(path.join(dir, ".dev.vars"), fs.readFileSync(envFile, "utf8") + extra);
  return path.join(dir, "wrangler.toml");
}

/**
 * The edge's wrangler.toml for a test: as the repository's, without [build], so that
 * the test serves the Workers built beforehand (scripts/build-worker.sh) and an edit to
 * a source file during a run neither rebuilds nor restarts them.
 */
function edgeConfig(persist) {
  const dir = path.join(persist, "edge");
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "wrangler.toml"), built("wrangler.toml"));
  return path.join(dir, "wrangler.toml");
}

/** A wrangler config of the repository without [build], its paths made absolute. */
function built(file) {
  let toml = fs.readFileSync(path.join(ROOT, file), "utf8");
  toml = toml.replace(/^main = "(.*)"$/m, (_, main) => `main = ${JSON.stringify(path.join(ROOT, main))}`);
  toml = toml.replace(/^\[build\]\n(?:[^\[\n].*\n|\n)*/m, "");
  toml = toml.replace(/^directory = "(.*)"$/m, (_, dir) => `directory = ${JSON.stringify(path.join(ROOT, dir))}`);
  if (toml.includes("[build]") || !toml.includes(ROOT)) throw new Error(`harness: cannot adapt ${file}`);
  return toml;
}

/** The demo manifest, parsed. */
export function demoManifest() {
  return JSON.parse(fs.readFileSync(path.join(ROOT, "examples/demo.json"), "utf8"));
}
