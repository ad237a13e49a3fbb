// The npm package in a real headless Chromium (Debian's, driven by playwright-core): a
// page served on loopback loads the browser entry, runs the conformance set, and then
// reports exposures and outcomes to a local edge (another origin: CORS), whose metrics
// then show them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { chromium } from "playwright-core";
import { startEdge, demoManifest, waitFor, ROOT } from "../../../tests/edge/harness.mjs";
import { SECTIONS } from "../conformance.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json", ".html": "text/html" };
let edge, server, browser, page, origin;

// Serves the repository's npm/ and tests/conformance/ read-only, plus an empty page.
function serve() {
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      const p = decodeURIComponent(new URL(req.url, "http://x").pathname);
      if (p === "/") {
        res.writeHead(200, { "content-type": "text/html" });
        return res.end("<!doctype html><title>edgeprompt</title>");
      }
      const file = path.normalize(path.join(ROOT, p));
      const allowed = [path.join(ROOT, "npm") + path.sep, path.join(ROOT, "tests/conformance") + path.sep];
      if (!allowed.some((d) => file.startsWith(d)) || !fs.existsSync(file)) {
        res.writeHead(404);
        return res.end();
      }
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" });
      fs.createReadStream(file).pipe(res);
    });
    s.listen(0, "127.0.0.1", () => resolve(s));
  });
}

before(async () => {
  edge = await startEdge({ manifest: demoManifest() });
  server = await serve();
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(origin + "/");
});
after(async () => {
  await browser?.close();
  server?.close();
  await edge?.stop();
});

test("the conformance set in Chromium: every section as specified", async () => {
  const result = await page.evaluate(async (sections) => {
    const { ready, Engine } = await import("/npm/src/browser.js");
    const { runAll } = await import("/npm/test/conformance.mjs");
    await ready();
    const get = (f) => fetch(`/tests/conformance/${f}`).then((r) => r.text());
    const set = { manifest: await get("manifest.json") };
    for (const name of sections) set[name] = JSON.parse(await get(`${name}.json`));
    return runAll(Engine, set);
  }, SECTIONS);
  for (const name of SECTIONS) assert.ok(result[name].total > 0, name);
  // Every section's failures at once.
  const failures = Object.fromEntries(SECTIONS.map((name) => [name, result[name].failures]));
  assert.deepEqual(failures, Object.fromEntries(SECTIONS.map((name) => [name, []])));
  assert.ok(result.decisions.total >= 60);
  assert.ok(result.rendering.checked >= 90);
});

test("a page reports exposures and outcomes to the edge, and its metrics show them", async () => {
  const n = 25;
  const decided = await page.evaluate(async ({ edgeUrl, n }) => {
    const { createClient } = await import("/npm/src/browser.js");
    const client = await createClient({ edge: edgeUrl, flushIntervalMs: 10, refreshIntervalMs: 0 });
    const versions = [];
    for (let i = 0; i < n; i++) {
      const d = client.resolve({ prompt: "support", unit: `browser-${i}`, variables: { question: "hi" } });
      versions.push(d.version);
      client.track(d, "thumbs_up", 1);
    }
    await client.flush();
    return { versions, error: client.lastError && String(client.lastError), revision: client.revision };
  }, { edgeUrl: edge.url, n });
  assert.equal(decided.error, null);
  // The same units resolved at the edge get the same versions.
  for (let i = 0; i < n; i++) {
    const r = await edge.post("/v1/resolve", { prompt: "support", unit: `browser-${i}`, variables: { question: "hi" }, track: false });
    assert.equal(r.json.version, decided.versions[i], `browser-${i}`);
  }
  const m = await waitFor("the page's events in the metrics", async () => {
    const m = (await edge.fetch("/v1/metrics/support")).json;
    const sum = (f) => m.versions.reduce((s, v) => s + f(v), 0);
    const t = { exposed: sum((v) => v.exposed_units), thumbs: sum((v) => v.metrics.thumbs_up.count) };
    return t.exposed >= n && t.thumbs >= n ? t : null;
  }, 30_000);
  assert.deepEqual(m, { exposed: n, thumbs: n });
});
