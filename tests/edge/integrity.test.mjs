// The control plane's promises under faults and with a long history, in real workerd:
// a reset between storing a revision and writing KV, KV writes that fail, and a
// rollback that must find its target behind 1,000 revisions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEdge, waitFor } from "./harness.mjs";

const auth = (token) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
const admin = (edge, path, body) =>
  edge.fetch(`/admin/v1/${path}`, body === undefined ? { headers: auth(edge.tokens.admin) } : { method: "POST", headers: auth(edge.tokens.admin), body: JSON.stringify(body) });
const sources = (...texts) => ({ prompts: [{ name: "greet", versions: texts.map((text) => ({ text })), labels: { production: { default: { version: 1 } } } }] });
const servedRevision = async (edge) => (await edge.fetch("/v1/status")).json?.revision ?? 0;

// The documented backoff: the alarm set with the change fires after 2 s, failed writes
// retry after 2, 4, 8 ... s. Locally KV is immediate and the edge refreshes every 200 ms.
const FIRST_RETRY_MS = 2_000;

test("a reset right after a revision is stored (before any KV write) still ends with KV on it, with no further admin call", async () => {
  const edge = await startEdge({ vars: { REFRESH_INTERVAL_MS: 200 }, controlVars: { EDGEPROMPT_DEV_FAULTS: "control_after_store" } });
  try {
    // The panic leaves the request unanswered (workerd reinitialises the Wasm): give up
    // on it after 5 s; a 5xx is as good.
    const status = await fetch(`${edge.url}/admin/v1/publish`, { method: "POST", headers: auth(edge.tokens.admin), body: JSON.stringify({ base_revision: 0, sources: sources("Hi") }), signal: AbortSignal.timeout(5_000) })
      .then((res) => res.status, (e) => e.name);
    assert.ok(status === "TimeoutError" || status >= 500, `the injected panic fails the request: ${status}`);
    const t0 = Date.now() - 5_000;
    // Only the edge is asked from here on: the alarm stored with the revision must do it.
    await waitFor("the edge to serve revision 1", async () => (await servedRevision(edge)) === 1, 30_000, 100);
    const took = Date.now() - t0;
    console.log(`# KV reached the stored revision ${took} ms after the reset`);
    assert.ok(took < FIRST_RETRY_MS + 10_000, `within the documented backoff (${took} ms, counted from the request)`);
    const h = await admin(edge, "history");
    assert.deepEqual(h.json.revisions.map((x) => x.revision), [1]);
    assert.match(edge.log.join(""), /injected fault \(control_after_store\)/);
  } catch (e) {
    console.log(edge.log.join("").slice(-6000));
    throw e;
  } finally {
    await edge.stop();
  }
});

test("a reset right after a rollout's start commits leaves the rollout steering its label (its row commits with the revision)", async () => {
  const edge = await startEdge({ vars: { REFRESH_INTERVAL_MS: 200 }, controlVars: { EDGEPROMPT_DEV_FAULTS: "control_rollout_after_store" } });
  try {
    const versions = { prompts: [{ name: "greet", versions: [{ text: "Hi" }, { text: "Hello" }], labels: { production: { default: { version: 1 } } } }] };
    const p = await edge.fetch("/admin/v1/publish", { method: "POST", headers: auth(edge.tokens.admin), body: JSON.stringify({ base_revision: 0, sources: versions }) });
    assert.equal(p.status, 200, p.text);
    const plan = { base_revision: p.json.revision, prompt: "greet", label: "production", candidate: 2, stages: [10, 100], min_units: 10, check_interval_ms: 3_600_000 };
    const status = await fetch(`${edge.url}/admin/v1/rollouts`, { method: "POST", headers: auth(edge.tokens.admin), body: JSON.stringify(plan), signal: AbortSignal.timeout(5_000) })
      .then((res) => res.status, (e) => e.name);
    assert.ok(status === "TimeoutError" || status >= 500, `the injected panic fails the request: ${status}`);
    assert.match(edge.log.join(""), /injected fault \(control_rollout_after_store\)/);
    const r = await admin(edge, "rollouts/greet/production");
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, "running");
    const h = await admin(edge, "history?limit=1");
    assert.equal(r.json.stages[0].revision, h.json.revisions[0].revision);
    assert.equal(h.json.revisions[0].action, "rollout.start");
    // And it still steers the label: a manual change waits for it.
    const split = await edge.fetch("/admin/v1/split", { method: "POST", headers: auth(edge.tokens.admin), body: JSON.stringify({ base_revision: h.json.revisions[0].revision, prompt: "greet", label: "production", weights: { 1: 50, 2: 50 } }) });
    assert.equal(split.status, 409, split.text);
    assert.equal(split.json.error.code, "rollout_running");
  } catch (e) {
    console.log(edge.log.join("").slice(-6000));
    throw e;
  } finally {
    await edge.stop();
  }
});

test("failed KV writes are retried by the alarm, backing off, until the edge serves the revision", async () => {
  const edge = await startEdge({ vars: { REFRESH_INTERVAL_MS: 200 }, controlVars: { EDGEPROMPT_DEV_FAULTS: "control_kv_fail=2" } });
  try {
    const r = await admin(edge, "publish", { base_revision: 0, sources: sources("Hi") });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.kv_written, false, "the first write failed, and the answer says so");
    assert.equal(await servedRevision(edge), 0);
    const t0 = Date.now();
    await waitFor("the edge to serve revision 1", async () => (await servedRevision(edge)) === 1, 30_000, 100);
    const took = Date.now() - t0;
    console.log(`# KV reached revision 1 ${took} ms after two failed writes`);
    // Failed at once and at +2 s, written at +6 s (2 s, then 4 s).
    assert.ok(took >= 4_000 && took < 6_000 + 10_000, `backed off (${took} ms)`);
    const logs = edge.log.join("");
    assert.match(logs, /writing revision 1 to KV failed \(injected fault.*retrying in 2000 ms/);
    assert.match(logs, /retrying in 4000 ms/);
    // The next change writes through at once: the backoff was reset.
    const r2 = await admin(edge, "publish", { base_revision: 1, sources: sources("Hi", "Hello") });
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.json.kv_written, true);
  } finally {
    await edge.stop();
  }
});

test("changes that overlap a slow KV write end with KV on the newest revision, never moved back", async () => {
  const edge = await startEdge({ vars: { REFRESH_INTERVAL_MS: 200 }, controlVars: { EDGEPROMPT_DEV_FAULTS: "control_kv_delay_ms=1500" } });
  try {
    // The first change's sync is still writing (slowly) when the second is stored.
    const first = admin(edge, "publish", { base_revision: 0, sources: sources("Hi") });
    await waitFor("revision 1 to be stored", async () => (await admin(edge, "history")).json?.revisions?.length === 1, 10_000, 50);
    const second = await admin(edge, "publish", { base_revision: 1, sources: sources("Hi", "Hello") });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.json.kv_written, false, "the running sync takes it over");
    assert.equal((await first).status, 200);
    await waitFor("the edge to serve revision 2", async () => (await servedRevision(edge)) === 2, 30_000, 100);
    await new Promise((r) => setTimeout(r, 4_000));
    assert.equal(await servedRevision(edge), 2, "and it stays there");
    assert.equal(edge.log.join("").match(/KV now serves revision 1\b/g), null, "the older revision's pointer was never written after a newer one was stored");
  } finally {
    await edge.stop();
  }
});

test("rollback finds its target behind 1,000 revisions, and history pages through all of them", async () => {
  const edge = await startEdge({ vars: { REFRESH_INTERVAL_MS: 200 } });
  try {
    let r = await admin(edge, "publish", { base_revision: 0, sources: sources("one", "two") });
    assert.equal(r.status, 200, r.text);
    let rev = r.json.revision;
    const single = rev; // production serves version 1 alone
    const N = 1_000;
    for (let i = 0; i < N; i++) {
      const a = 10 + (i % 80);
      r = await admin(edge, "split", { base_revision: rev, prompt: "greet", label: "production", weights: { 1: 100 - a, 2: a } });
      assert.equal(r.status, 200, r.text);
      rev = r.json.revision;
    }
    const t0 = Date.now();
    const back = await admin(edge, "rollback", { base_revision: rev, prompt: "greet", label: "production" });
    console.log(`# rollback behind ${N} revisions answered in ${Date.now() - t0} ms`);
    assert.equal(back.status, 200, back.text);
    assert.match(back.json.summaries[0], new RegExp(`to revision ${single} `));
    const live = (await admin(edge, "manifest")).json;
    assert.deepEqual(live.prompts.greet.labels.production.default, { version: 1 });

    // A named revision works as well, and an unknown one is refused by name.
    const named = await admin(edge, "rollback", { base_revision: live.revision, prompt: "greet", label: "production", to_revision: rev });
    assert.equal(named.status, 200, named.text);
    const unknown = await admin(edge, "rollback", { base_revision: named.json.revision, prompt: "greet", label: "production", to_revision: 99_999 });
    assert.equal(unknown.status, 409, unknown.text);
    assert.match(unknown.json.error.message, /revision 99999 is not in the history/);

    // Pages of 300 cover every revision once, newest first.
    const seen = [];
    let before = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await admin(edge, `history?limit=300${before ? `&before=${before}` : ""}`);
      assert.equal(page.status, 200, page.text);
      assert.ok(page.json.revisions.length <= 300);
      seen.push(...page.json.revisions.map((x) => x.revision));
      before = page.json.next_before;
      if (before === null) break;
    }
    const total = named.json.revision;
    assert.deepEqual(seen, Array.from({ length: total }, (_, i) => total - i));
    assert.equal((await admin(edge, "history")).json.revisions.length, 100, "the default page");
    const bad = await admin(edge, "history?limit=ten");
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /"limit" must be a whole number/);
  } finally {
    await edge.stop();
  }
});
