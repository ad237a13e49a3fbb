// The control plane in real workerd: admin tokens, compare-and-swap, publish, route
// operations, rollback, history and diff, and the write-through to KV that the edge serves.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEdge, waitFor } from "./harness.mjs";

let edge;
before(async () => {
  edge = await startEdge({ vars: { REFRESH_INTERVAL_MS: 500 } });
});
after(async () => {
  await edge?.stop();
});

const auth = (token) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
const admin = (path, body, token = edge.tokens.admin) =>
  edge.fetch(`/admin/v1/${path}`, body === undefined ? { headers: auth(token) } : { method: "POST", headers: auth(token), body: JSON.stringify(body) });

const version = (text) => ({ text, variables: { name: { default: "you" } } });
const sources = (...texts) => ({ prompts: [{ name: "greet", versions: texts.map(version), labels: { production: { default: { version: 1 } } } }] });

async function live() {
  const r = await admin("manifest");
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function served(unit, label = "production") {
  const r = await edge.post("/v1/resolve", { prompt: "greet", label, unit, track: false });
  return r.status === 200 ? r.json : null;
}

/** Polls until the edge serves `revision`. */
async function servedRevision(revision) {
  await waitFor(`the edge to serve revision ${revision}`, async () => (await served("probe"))?.revision === revision, 60_000, 250);
}

const units = Array.from({ length: 400 }, (_, i) => `unit-${i}`);
const versionsOf = async (label = "production") => Promise.all(units.map(async (u) => (await served(u, label)).version));

test("tokens: none is 401, unknown is 401, read-only cannot write", async () => {
  assert.equal((await edge.fetch("/admin/v1/manifest")).status, 401);
  assert.equal((await admin("manifest", undefined, "nope")).status, 401);
  assert.equal((await admin("manifest", undefined, edge.tokens.viewer)).status, 200);
  const w = await admin("publish", { base_revision: 0, sources: sources("Hi {{name}}") }, edge.tokens.viewer);
  assert.equal(w.status, 403, w.text);
  assert.equal(w.json.error.code, "forbidden");
});

test("the release cycle: publish, stage, split, ramp, roll back and undo", async () => {
  const p1 = await admin("publish", { base_revision: 0, sources: sources("Hi {{name}}") });
  assert.equal(p1.status, 200, p1.text);
  assert.equal(p1.json.revision, 1);
  await servedRevision(1);
  assert.equal((await served("u")).text, "Hi you");

  // Publishing the same sources again changes nothing.
  const same = await admin("publish", { base_revision: 1, sources: sources("Hi {{name}}") });
  assert.equal(same.json.changed, false);

  // v2 on staging only: two audited changes.
  const p2 = await admin("publish", { base_revision: 1, sources: sources("Hi {{name}}", "Hello {{name}}!"), label: "staging" });
  assert.equal(p2.status, 200, p2.text);
  assert.equal(p2.json.revision, 3);
  assert.deepEqual(p2.json.summaries, ["publish: greet v2 (revision 2)", "create label greet/staging serving version 2 (revision 3)"]);
  await servedRevision(3);
  assert.equal((await served("u", "staging")).version, 2);
  assert.equal((await served("u")).version, 1);

  // 10% of production to v2.
  const s = await admin("split", { base_revision: 3, prompt: "greet", label: "production", weights: { 1: 90, 2: 10 } });
  assert.equal(s.status, 200, s.text);
  await servedRevision(4);
  const atTen = await versionsOf();
  const share = atTen.filter((v) => v === 2).length / units.length;
  assert.ok(share > 0.04 && share < 0.16, `v2 share ${share}`);

  // Ramp to 50%: everyone who had v2 keeps it.
  const r = await admin("ramp", { base_revision: 4, prompt: "greet", label: "production", to: 2, percent: 50 });
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.summaries[0], /^ramp greet\/production: version 2 to 50% \(was 10%\)/);
  await servedRevision(5);
  const atFifty = await versionsOf();
  atTen.forEach((v, i) => { if (v === 2) assert.equal(atFifty[i], 2, `${units[i]} left v2`); });

  // Roll back: only v1 again.
  const back = await admin("rollback", { base_revision: 5, prompt: "greet", label: "production" });
  assert.equal(back.status, 200, back.text);
  assert.equal(back.json.summaries[0], "rollback of greet/production to revision 3 (revision 6)");
  await servedRevision(6);
  assert.ok((await versionsOf()).every((v) => v === 1));

  // Undo the rollback: the ramp's route again, each unit on the version it had.
  const undo = await admin("rollback", { base_revision: 6, prompt: "greet", label: "production", to_revision: 5 });
  assert.equal(undo.status, 200, undo.text);
  await servedRevision(7);
  assert.deepEqual(await versionsOf(), atFifty);
});

test("two changes from the same base: exactly one wins, the other gets 409", async () => {
  const base = (await live()).revision;
  const [a, b] = await Promise.all([
    admin("publish", { base_revision: base, sources: sources("Hi {{name}}", "Hello {{name}}!", "Hey {{name}}") }),
    admin("publish", { base_revision: base, sources: sources("Hi {{name}}", "Hello {{name}}!", "Yo {{name}}") }),
  ]);
  const statuses = [a.status, b.status].sort();
  assert.deepEqual(statuses, [200, 409], `${a.text} ${b.text}`);
  const lost = a.status === 409 ? a : b;
  assert.equal(lost.json.error.details.current_revision, base + 1);
});

test("an invalid change is refused with the engine's reasons and nothing moves", async () => {
  const before = await live();
  await servedRevision(before.revision);
  const bad = await admin("publish", { base_revision: before.revision, sources: { prompts: [{ name: "broken", versions: [{ text: "{{#open}}" }] }] } });
  assert.equal(bad.status, 422, bad.text);
  assert.equal(bad.json.error.code, "invalid_manifest");
  assert.ok(bad.json.error.details.problems.some((p) => p.startsWith("prompts.broken.versions[0].text: template does not compile")), bad.text);
  const split = await admin("split", { base_revision: before.revision, prompt: "greet", label: "production", weights: { 1: 90, 2: 5 } });
  assert.equal(split.status, 422, split.text);
  assert.match(split.json.error.message, /weights sum to 95, expected 100/);
  assert.equal((await live()).revision, before.revision);
  assert.equal((await edge.fetch("/v1/status")).json.revision, before.revision);
});

test("history and diff list every revision with who and what", async () => {
  const h = await admin("history");
  assert.equal(h.status, 200);
  const revs = h.json.revisions;
  assert.equal(revs[0].revision, (await live()).revision);
  assert.ok(revs.every((r) => r.actor === "admin" && r.summary && r.action && r.at_ms > 0));
  assert.deepEqual(revs.map((r) => r.action).reverse().slice(0, 7), ["publish", "publish", "label", "split", "ramp", "rollback", "rollback"]);
  const d = await admin("diff?from=4&to=5");
  assert.equal(d.status, 200, d.text);
  assert.ok(d.json.changes.some((c) => c.path.startsWith("prompts.greet.labels.production.default.split")), d.text);
  const old = await admin("history/1");
  assert.equal(old.json.revision, 1);
  assert.equal(old.json.prompts.greet.versions.length, 1);
});

test("a version over the 2 MB value limit is refused naming it, nothing is stored, and the next publish stores what it validated", async () => {
  const before = await live();
  const history = (await admin("history")).json.revisions.length;
  const big = { messages: Array.from({ length: 40 }, (_, i) => ({ role: i % 2 ? "user" : "system", content: `${i} ${"x".repeat(60_000)}` })) };
  // "aaa" comes first: a store that wrote it before failing on "huge" would leave its
  // row behind, and the next publish of "aaa" would be served that stale body.
  const label = { production: { default: { version: 1 } } };
  const r = await admin("publish", { base_revision: before.revision, sources: { prompts: [{ name: "aaa", versions: [{ text: "first body" }], labels: label }, { name: "huge", versions: [big], labels: label }] } });
  assert.equal(r.status, 413, r.text);
  assert.equal(r.json.error.code, "version_too_large");
  assert.match(r.json.error.message, /prompt "huge" version 1/);
  assert.equal((await admin("history")).json.revisions.length, history, "nothing stored");
  assert.equal((await live()).revision, before.revision);
  // The same prompt, small: stored and served as validated.
  const ok = await admin("publish", { base_revision: before.revision, sources: { prompts: [{ name: "aaa", versions: [{ text: "second body" }], labels: label }, { name: "huge", versions: [{ text: "small now" }], labels: label }] } });
  assert.equal(ok.status, 200, ok.text);
  const rev = ok.json.revision;
  await waitFor("the edge to serve the small version", async () => {
    const res = await edge.post("/v1/resolve", { prompt: "huge", unit: "u", track: false });
    return res.status === 200 && res.json.revision === rev && res.json.text === "small now";
  }, 60_000, 250);
  const aaa = await edge.post("/v1/resolve", { prompt: "aaa", unit: "u", track: false });
  assert.equal(aaa.json.text, "second body");
});
