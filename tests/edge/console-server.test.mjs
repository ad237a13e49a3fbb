// The web console's server side in real workerd: its assets served through the edge's
// origin with the security headers, the admin endpoints it needs (whoami, labels with
// "since"), and what a read-only token may do. The pages themselves are tested in
// Chromium (tests/edge/console.test.mjs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startEdge, ROOT } from "./harness.mjs";

let edge;
before(async () => {
  edge = await startEdge();
});
after(async () => {
  await edge?.stop();
});

const auth = (token) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
const admin = (p, body, token = edge.tokens.admin) =>
  edge.fetch(`/admin/v1/${p}`, body === undefined ? { headers: auth(token) } : { method: "POST", headers: auth(token), body: JSON.stringify(body) });
const sources = (name, texts, route = { default: { version: 1 } }) => ({
  prompts: [{ name, versions: texts.map((text) => ({ text })), labels: { production: route } }],
});

test("the console's page and assets come from the edge's origin with a strict CSP", async () => {
  const page = await edge.fetch("/console/");
  assert.equal(page.status, 200, page.text);
  assert.match(page.headers.get("content-type"), /^text\/html/);
  const csp = page.headers.get("content-security-policy");
  for (const part of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "frame-ancestors 'none'", "connect-src 'self'"]) {
    assert.ok(csp.includes(part), `${part} in ${csp}`);
  }
  assert.ok(!/unsafe-inline/.test(csp), csp);
  assert.equal(page.headers.get("x-content-type-options"), "nosniff");
  assert.equal(page.headers.get("x-frame-options"), "DENY");
  // No inline script: every script is a file the Worker serves, from this origin.
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(page.text), "an inline <script> in index.html");
  const scripts = [...page.text.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(scripts.length > 0);
  for (const src of scripts) {
    assert.ok(src.startsWith("/console/"), src);
    const js = await edge.fetch(src);
    assert.equal(js.status, 200, src);
    assert.match(js.headers.get("content-type"), /javascript/);
    assert.ok(js.headers.get("content-security-policy"));
  }
  // The engine's Wasm for the preview is served too, as Wasm.
  const wasm = fs.readdirSync(path.join(ROOT, "build-www/console")).find((f) => f.endsWith(".wasm"));
  const w = await fetch(`${edge.url}/console/${wasm}`);
  assert.equal(w.status, 200);
  assert.equal(w.headers.get("content-type"), "application/wasm");
  // Without the slash: redirected to the console.
  const bare = await fetch(`${edge.url}/console`, { redirect: "manual" });
  assert.equal(bare.status, 308);
  assert.equal(bare.headers.get("location"), "/console/");
  // Only reads: a POST is not an asset request.
  assert.equal((await edge.fetch("/console/", { method: "POST", body: "x" })).status, 404);
});

test("whoami names the token and its scope", async () => {
  const rw = await admin("whoami");
  assert.equal(rw.status, 200, rw.text);
  assert.deepEqual(rw.json, { name: "admin", scope: "rw" });
  assert.deepEqual((await admin("whoami", undefined, edge.tokens.viewer)).json, { name: "viewer", scope: "ro" });
  assert.deepEqual((await admin("whoami", undefined, edge.tokens.approver)).json, { name: "approver", scope: "rw+approve" });
  assert.equal((await edge.fetch("/admin/v1/whoami")).status, 401);
  assert.equal((await admin("whoami", undefined, "x".repeat(64))).status, 401);
});

test("labels: since which revision, when and by whom each label serves its route", async () => {
  const empty = await admin("labels");
  assert.equal(empty.status, 200, empty.text);
  assert.deepEqual(empty.json, { revision: 0, labels: [] });

  const p1 = await admin("publish", { base_revision: 0, sources: sources("greet", ["Hi", "Hello"]) });
  assert.equal(p1.status, 200, p1.text);
  const p2 = await admin("publish", { base_revision: 1, sources: { prompts: [...sources("greet", ["Hi", "Hello"]).prompts, ...sources("other", ["Yo"]).prompts] } });
  assert.equal(p2.json.revision, 2, p2.text);
  let l = await admin("labels");
  const find = (json, prompt) => json.labels.find((x) => x.prompt === prompt && x.label === "production");
  assert.equal(l.json.revision, 2);
  assert.equal(find(l.json, "greet").since_revision, 1, "an unchanged route keeps its revision");
  assert.equal(find(l.json, "other").since_revision, 2);
  assert.equal(find(l.json, "greet").since_actor, "admin");
  assert.ok(Math.abs(find(l.json, "greet").since_at_ms - Date.now()) < 120_000);
  assert.deepEqual(find(l.json, "greet").route, { default: { version: 1 } });

  // A split changes greet's route (revision 3); a rollback restores it (revision 4).
  const s = await admin("split", { base_revision: 2, prompt: "greet", label: "production", weights: { 1: 80, 2: 20 } });
  assert.equal(s.status, 200, s.text);
  l = await admin("labels");
  assert.equal(find(l.json, "greet").since_revision, 3);
  assert.equal(find(l.json, "other").since_revision, 2);
  assert.deepEqual(find(l.json, "greet").route.default.split.map((x) => x.weight), [80, 20]);
  const r = await admin("rollback", { base_revision: 3, prompt: "greet", label: "production" });
  assert.equal(r.status, 200, r.text);
  l = await admin("labels");
  assert.equal(find(l.json, "greet").since_revision, 4, "restoring a route is a change of route");
  assert.deepEqual(find(l.json, "greet").route, { default: { version: 1 } });
  // Read-only tokens read it too; every label of the live manifest is listed once.
  const ro = await admin("labels", undefined, edge.tokens.viewer);
  assert.equal(ro.status, 200);
  assert.deepEqual(ro.json.labels.map((x) => `${x.prompt}/${x.label}`), ["greet/production", "other/production"]);
});

test("an approver's token writes as rw does", async () => {
  const m = (await admin("manifest")).json;
  const dry = await admin("split", { base_revision: m.revision, prompt: "greet", label: "production", weights: { 1: 60, 2: 40 }, dry_run: true }, edge.tokens.approver);
  assert.equal(dry.status, 200, dry.text);
});

test("a read-only token cannot change traffic through the API the console uses", async () => {
  const live = await admin("manifest");
  const w = await admin("promote", { base_revision: live.json.revision, prompt: "greet", label: "production", version: 2 }, edge.tokens.viewer);
  assert.equal(w.status, 403, w.text);
  assert.equal(w.json.error.code, "forbidden");
  assert.equal((await admin("manifest")).json.revision, live.json.revision, "nothing changed");
});

test("the live manifest carries its revision as an ETag, and a caller holding it gets 304", async () => {
  const first = await admin("manifest");
  assert.equal(first.status, 200);
  const tag = first.headers.get("etag");
  assert.equal(tag, `"${first.json.revision}"`);
  const again = await edge.fetch("/admin/v1/manifest", { headers: { ...auth(edge.tokens.viewer), "if-none-match": tag } });
  assert.equal(again.status, 304);
  assert.equal(again.text, "");
  // The metrics compile the live manifest once per revision (held in the isolate).
  const before = await admin("metrics/greet?label=production");
  assert.equal(before.status, 200, before.text);
  assert.equal((await admin("metrics/third?label=production")).status, 404, "not published yet");
  // A new revision: the old tag gets the new document.
  const p = await admin("publish", { base_revision: first.json.revision, sources: sources("third", ["Hey"]) });
  assert.equal(p.status, 200, p.text);
  const changed = await edge.fetch("/admin/v1/manifest", { headers: { ...auth(edge.tokens.admin), "if-none-match": tag } });
  assert.equal(changed.status, 200);
  assert.equal(changed.json.revision, p.json.revision);
  assert.equal(changed.headers.get("etag"), `"${p.json.revision}"`);
  // The metrics the console reads per label follow the new revision (its cached
  // compiled manifest is keyed by that tag): the new prompt is known at once.
  const m = await admin("metrics/third?label=production");
  assert.equal(m.status, 200, m.text);
  assert.equal(m.json.prompt, "third");
});

test("a dry run validates a change and answers what it would do, storing nothing", async () => {
  const m = (await admin("manifest")).json;
  const dry = await admin("split", { base_revision: m.revision, prompt: "greet", label: "production", weights: { 1: 70, 2: 30 }, dry_run: true });
  assert.equal(dry.status, 200, dry.text);
  assert.equal(dry.json.dry_run, true);
  assert.match(dry.json.summaries[0], /^split greet\/production: 1=70 2=30/);
  assert.deepEqual(dry.json.route.after.default.split.map((x) => x.weight), [70, 30]);
  assert.deepEqual(dry.json.route.before, m.prompts.greet.labels.production);
  assert.ok(dry.json.revisions[0].changes[0].path.startsWith("prompts.greet.labels.production.default"), dry.text);
  assert.equal((await admin("manifest")).json.revision, m.revision, "nothing stored");
  // Refused as the change itself would be; a read-only token may not ask either.
  const bad = await admin("split", { base_revision: m.revision, prompt: "greet", label: "production", weights: { 1: 70, 2: 20 }, dry_run: true });
  assert.equal(bad.status, 422, bad.text);
  const stale = await admin("split", { base_revision: m.revision - 1, prompt: "greet", label: "production", weights: { 1: 70, 2: 30 }, dry_run: true });
  assert.equal(stale.status, 409);
  assert.equal((await admin("split", { base_revision: m.revision, prompt: "greet", label: "production", weights: { 1: 70, 2: 30 }, dry_run: true }, edge.tokens.viewer)).status, 403);
  // A rollback's dry run names the route it would restore.
  const rb = await admin("rollback", { base_revision: m.revision, prompt: "greet", label: "production", dry_run: true });
  assert.equal(rb.status, 200, rb.text);
  assert.ok(rb.json.route.after.default.version !== undefined, JSON.stringify(rb.json.route));
});
