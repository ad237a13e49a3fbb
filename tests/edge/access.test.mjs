// Access and bounds at the edge, in real workerd: server keys (EDGE_KEYS) on the
// endpoints that serve prompt text or results, public endpoints and CORS, short
// secrets refused, expired tokens, chunked bodies over the limit, decisions reported at
// revisions the edge does not hold, a cold isolate whose pointer names a document not
// readable yet, a revalidation that never settles, and raw unit ids that never reach
// storage or logs.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { startEdge, waitFor, sleep, demoManifest, ROOT } from "./harness.mjs";

const second = randomBytes(32).toString("hex");
const question = { question: "Where is my order?" };

test("server keys, public endpoints, CORS, expired tokens, chunked bodies, revisions outside the window, and no raw unit id persisted or logged", async (t) => {
  const doc = demoManifest();
  const edge = await startEdge({ manifest: doc, vars: { TOKEN_TTL_SECONDS: 3, REFRESH_INTERVAL_MS: 500 } });
  // Rotation: the harness's key and a second one, both valid at once.
  let halted = false;
  try {
    await t.test("the endpoints that serve prompt text or results need a server key", async () => {
      for (const [what, send] of [
        ["resolve", (init) => edge.post("/v1/resolve", { prompt: "support", unit: "u", variables: question, track: false }, init)],
        ["prompts", (init) => edge.post("/v1/prompts/support", { unit: "u", track: false }, init)],
        ["metrics", (init) => edge.fetch("/v1/metrics/support", init)],
      ]) {
        const none = await send({ auth: false });
        assert.equal(none.status, 401, `${what} without a key: ${none.text}`);
        assert.equal(none.json.error.code, "unauthorized");
        assert.match(none.json.error.message, /server key is required/);
        const wrong = await send({ headers: { authorization: `Bearer ${randomBytes(32).toString("hex")}` } });
        assert.equal(wrong.status, 401, `${what} with a wrong key`);
        assert.equal((await send({})).status, 200, `${what} with the key`);
      }
    });

    await t.test("the public endpoints need none, and only they answer other origins", async () => {
      const origin = { origin: "https://app.example" };
      const m = await edge.fetch("/v1/manifest", { headers: origin });
      assert.equal(m.status, 200);
      assert.equal(m.headers.get("access-control-allow-origin"), "*");
      assert.equal((await edge.fetch("/healthz")).status, 200);
      const ev = await edge.post("/v1/events", { events: [] }, { headers: origin });
      assert.notEqual(ev.status, 401);
      assert.equal(ev.headers.get("access-control-allow-origin"), "*");
      const x = await edge.post("/v1/exposures", { exposures: [] }, { headers: origin });
      assert.equal(x.status, 200, x.text);
      for (const p of ["/v1/resolve", "/v1/prompts/support", "/v1/metrics/support"]) {
        const pre = await edge.fetch(p, { method: "OPTIONS", auth: false, headers: { ...origin, "access-control-request-method": "POST" } });
        assert.equal(pre.headers.get("access-control-allow-origin"), null, `no CORS on ${p}`);
      }
      const r = await edge.post("/v1/resolve", { prompt: "support", unit: "u", variables: question, track: false }, { headers: origin });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("access-control-allow-origin"), null);
    });

    await t.test("an expired token is refused by the edge", async () => {
      const r = await edge.post("/v1/resolve", { prompt: "support", unit: "expiring", variables: question });
      assert.equal(r.status, 200, r.text);
      const fresh = await edge.post("/v1/events", { events: [{ token: r.json.token, metric: "thumbs_up", value: true }] });
      assert.equal(fresh.status, 202, fresh.text);
      await sleep(4_500); // TOKEN_TTL_SECONDS is 3
      const late = await edge.post("/v1/events", { events: [{ token: r.json.token, metric: "thumbs_up", value: true, id: "later" }] });
      assert.equal(late.status, 422, late.text);
      assert.equal(late.json.error.details.errors[0].code, "expired_token", late.text);
    });

    await t.test("a chunked body (no Content-Length) over the limit is refused with 413, one within it is read", async () => {
      // node:http, chunk by chunk: the answer may come (and the socket close) before
      // everything is sent, which is the point.
      const send = (text) => new Promise((resolve, reject) => {
        const u = new URL(`${edge.url}/v1/resolve`);
        const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers: { authorization: `Bearer ${edge.serverKey}`, "content-type": "application/json" } }, (res) => {
          let body = "";
          res.on("data", (d) => (body += d));
          res.on("end", () => resolve({ status: res.status ?? res.statusCode, body }));
        });
        req.on("error", (e) => (e.code === "EPIPE" || e.code === "ECONNRESET" ? undefined : reject(e)));
        assert.equal(req.getHeader("content-length"), undefined);
        const bytes = Buffer.from(text);
        let at = 0;
        const pump = () => {
          while (at < bytes.length) {
            const more = req.write(bytes.subarray(at, at + 16_384));
            at += 16_384;
            if (!more) return req.once("drain", pump);
          }
          req.end();
        };
        pump();
      });
      const big = JSON.stringify({ prompt: "support", unit: "u", variables: { question: "x".repeat(2 << 20) }, track: false });
      const r = await send(big);
      assert.equal(r.status, 413, r.body);
      assert.equal(JSON.parse(r.body).error.code, "body_too_large");
      const ok = await send(JSON.stringify({ prompt: "support", unit: "u", variables: question, track: false }));
      assert.equal(ok.status, 200, ok.body);
    });

    await t.test("decisions at revisions outside the window are refused without a KV read; each revision is loaded once per request", async () => {
      const held = (await edge.fetch("/v1/status")).json;
      const item = (revision, unit = "w") => ({ prompt: "support", unit, revision });
      // The demo's revision is low: past the window on the far side is ahead of it.
      const far = await edge.post("/v1/exposures", { exposures: [item(held.revision + 50), item(held.revision + 2)] });
      assert.equal(far.status, 200, far.text);
      for (const r of far.json.results) {
        assert.equal(r.error.code, "stale_revision");
        assert.match(r.error.message, /only revisions \d+ to \d+ are accepted/);
      }
      const after = (await edge.fetch("/v1/status")).json;
      assert.equal(after.manifest_loads, held.manifest_loads, "no document was read for them");
      // The revision just ahead of the held one (in the window, not in KV): 100 items, one read.
      const ahead = await edge.post("/v1/exposures", { exposures: Array.from({ length: 100 }, (_, i) => item(held.revision + 1, `a-${i}`)) });
      assert.ok(ahead.json.results.every((r) => r.error?.code === "stale_revision" && /cannot be loaded/.test(r.error.message)), ahead.text);
      assert.equal((await edge.fetch("/v1/status")).json.manifest_loads, held.manifest_loads + 1);
    });

    await t.test("the raw unit ids of a workload appear in no byte the Workers persisted, nor in their logs", async () => {
      const marker = `rawunit${randomBytes(6).toString("hex")}`;
      const units = Array.from({ length: 20 }, (_, i) => `${marker}-${i}`);
      const tokens = [];
      for (const unit of units.slice(0, 10)) {
        const r = await edge.post("/v1/resolve", { prompt: "support", unit, attributes: { plan: "pro" }, variables: question });
        assert.equal(r.status, 200, r.text);
        tokens.push(r.json.token);
        assert.equal((await edge.post("/v1/prompts/support", { unit })).status, 200);
      }
      const x = await edge.post("/v1/exposures", { exposures: units.slice(10).map((unit) => ({ prompt: "support", unit, revision: doc.revision })) });
      assert.equal(x.status, 200, x.text);
      tokens.push(...x.json.results.map((r) => r.token));
      const ev = await edge.post("/v1/events", { events: tokens.map((token) => ({ token, metric: "thumbs_up", value: true })) });
      assert.equal(ev.status, 202, ev.text);
      // Wait until the aggregates hold all of them (every byte that will be written is).
      await waitFor("the workload's outcomes to be aggregated", async () => {
        const m = (await edge.fetch("/v1/metrics/support")).json;
        return (m?.versions ?? []).reduce((n, v) => n + (v.metrics.thumbs_up?.count ?? 0), 0) >= units.length;
      }, 60_000, 500);
      await edge.halt();
      halted = true;
      const files = [];
      const walk = (d) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else files.push(p);
        }
      };
      walk(edge.persist);
      const stored = files.filter((f) => !f.endsWith("test.env") && !f.endsWith(".dev.vars") && !f.endsWith("wrangler.toml"));
      assert.ok(stored.some((f) => /sqlite/.test(f)), `the Durable Objects' databases are among ${stored.length} files`);
      for (const f of stored) {
        const bytes = fs.readFileSync(f);
        assert.equal(bytes.indexOf(marker), -1, `a raw unit id is in ${path.relative(edge.persist, f)}`);
      }
      assert.ok(!edge.log.join("").includes(marker), "a raw unit id is in the Workers' logs");
    });
  } finally {
    if (!halted) await edge.halt();
    await edge.stop();
  }
});

test("short or missing secrets are refused naming them: server keys, admin tokens, signing keys", async () => {
  const edge = await startEdge({ manifest: demoManifest(), secrets: { EDGE_KEYS: `ok:${second},short:abc123`, ADMIN_TOKENS: "admin:rw:tooshort", UNIT_HASH_KEY: "0123456789" } });
  try {
    const r = await edge.post("/v1/resolve", { prompt: "support", unit: "u", variables: question });
    assert.equal(r.status, 500, r.text);
    assert.equal(r.json.error.code, "weak_secret");
    assert.equal(r.json.error.details.secret, "EDGE_KEYS");
    assert.match(r.json.error.message, /key of "short" in the secret EDGE_KEYS is shorter than 32 characters/);
    const a = await edge.fetch("/admin/v1/manifest", { headers: { authorization: "Bearer tooshort" } });
    assert.equal(a.status, 500, a.text);
    assert.equal(a.json.error.details.secret, "ADMIN_TOKENS");
    const x = await edge.post("/v1/exposures", { exposures: [{ prompt: "support", unit: "u", revision: 1 }] });
    assert.equal(x.status, 500, x.text);
    assert.equal(x.json.error.code, "weak_secret");
    assert.equal(x.json.error.details.secret, "UNIT_HASH_KEY");
  } finally {
    await edge.stop();
  }
});

test("a cold isolate serves the previous revision while the pointer's document is not readable, and a revalidation that never settles is given up on", async () => {
  const edge = await startEdge({ vars: { REFRESH_INTERVAL_MS: 200, EDGEPROMPT_DEV_FAULTS: "refresh_hang=1" } });
  try {
    const two = { ...demoManifest(), revision: 2 };
    await edge.kvPut("manifest/2", two);
    await edge.kvPut("manifest/current", "3 2"); // revision 3's document has not arrived
    const s = await edge.fetch("/v1/status");
    assert.equal(s.status, 200, s.text);
    assert.equal(s.json.revision, 2);
    assert.match(s.json.last_problem.reason, /serving revision 2 until revision 3 can be read: manifest\/3 is missing/);
    const r = await edge.post("/v1/resolve", { prompt: "support", unit: "u", variables: question, track: false });
    assert.equal(r.json.revision, 2);
    await sleep(300);
    // This request starts the first background revalidation, which hangs (the fault).
    await edge.fetch("/v1/status");
    await edge.kvPut("manifest/3", { ...two, revision: 3 });
    const t0 = Date.now();
    await waitFor("the edge to serve revision 3", async () => (await edge.fetch("/v1/status")).json.revision === 3, 60_000, 250);
    const took = Date.now() - t0;
    console.log(`# revision 3 served ${took} ms after it became readable (the hung revalidation timed out)`);
    assert.ok(took >= 5_000, `not before the hung revalidation timed out (${took} ms)`);
    assert.ok(edge.log.join("").includes("now serving manifest revision 3"));
  } finally {
    await edge.stop();
  }
});

test("the production wrangler files switch no dev route or fault on", async () => {
  const edgeToml = fs.readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
  const controlToml = fs.readFileSync(path.join(ROOT, "wrangler.control.toml"), "utf8");
  assert.match(edgeToml, /^EDGEPROMPT_DEV_PANIC = "0"$/m);
  assert.doesNotMatch(edgeToml + controlToml, /EDGEPROMPT_DEV_FAULTS/);
  assert.match(controlToml, /^workers_dev = false$/m);
});
