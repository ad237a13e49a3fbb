// Guarded rollouts in real workerd: a rollout advances through its stages on posted
// events, and completes; a rollout whose candidate is worse rolls back by itself, with
// its audit entries and a signed webhook delivery received by a local HTTP receiver;
// manual changes of the label are refused while one runs, a rollback ends it; the CLI
// drives it. The controller runs on demand here (`check`): the alarm runs the same code
// at the plan's interval.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createHmac } from "node:crypto";
import { startEdge, waitFor, cli } from "./harness.mjs";

let edge, receiver, port;
const got = [];
const SECRET = "r".repeat(40);

before(async () => {
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      got.push({ headers: req.headers, body });
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  port = receiver.address().port;
  edge = await startEdge({ vars: { REFRESH_INTERVAL_MS: 300, EXPOSURE_FLUSH_DELAY_MS: 5 } });
});
after(async () => {
  receiver?.close();
  await edge?.stop();
});

const auth = (token = edge.tokens.admin) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
const admin = (p, body, token) => edge.fetch(`/admin/v1/${p}`, body === undefined ? { headers: auth(token) } : { method: "POST", headers: auth(token), body: JSON.stringify(body) });
const live = async () => (await admin("manifest")).json;

async function publish(name) {
  const m = await live();
  const r = await admin("publish", {
    base_revision: m.revision,
    sources: {
      prompts: [{ name, versions: [{ text: "Hi" }, { text: "Hello" }], labels: { production: { default: { version: 1 } } } }],
      metrics: { resolved: { kind: "binary", higher_is_better: true } },
    },
  });
  assert.equal(r.status, 200, r.text);
  return r.json.revision;
}

/** Waits until the edge serves `revision`. */
async function served(prompt, revision) {
  await waitFor(`the edge to serve revision ${revision}`, async () => {
    const r = await edge.post("/v1/resolve", { prompt, unit: "probe", track: false });
    return r.status === 200 && r.json.revision >= revision;
  }, 60_000, 200);
}

let unitCounter = 0;
/** `n` new units resolve `prompt` (tracked) and report `resolved` with each version's rate. */
async function traffic(prompt, n, rate) {
  const tokens = [];
  for (let i = 0; i < n; i += 25) {
    const batch = await Promise.all(Array.from({ length: Math.min(25, n - i) }, async () => {
      const r = await edge.post("/v1/resolve", { prompt, unit: `u-${unitCounter++}` });
      assert.equal(r.status, 200, r.text);
      return r.json;
    }));
    tokens.push(...batch);
  }
  const events = tokens
    .map((d, i) => ({ token: d.token, metric: "resolved", value: (i % 100) < rate[d.version] * 100 }))
    .filter((e) => e.value);
  for (let i = 0; i < events.length; i += 100) {
    const r = await edge.post("/v1/events", { events: events.slice(i, i + 100) });
    assert.equal(r.status, 202, r.text);
  }
  return tokens;
}

async function exposed(prompt, wantUnits) {
  await waitFor(`${wantUnits} exposed units of ${prompt} in the current period`, async () => {
    const m = await admin(`metrics/${prompt}?label=production`);
    if (m.status !== 200) return false;
    return m.json.versions.reduce((a, v) => a + v.exposed_units, 0) >= wantUnits;
  }, 60_000, 300);
}

const plan = (prompt, extra = {}) => ({
  prompt, label: "production", candidate: 2, stages: [20, 50, 100], min_units: 20, min_duration_ms: 1,
  guardrails: [{ metric: "resolved", max_regression: 0 }], check_interval_ms: 3_600_000, ...extra,
});

test("a rollout advances through its stages on posted events and completes; manual changes wait for it", async () => {
  const rev = await publish("greet");
  const wh = await admin("webhooks", { url: `http://127.0.0.1:${port}/hook`, events: ["rollout.*"], secret: SECRET });
  assert.equal(wh.status, 201, wh.text);
  const started = await admin("rollouts", { base_revision: rev, ...plan("greet") });
  assert.equal(started.status, 201, started.text);
  assert.equal(started.json.status, "running");
  assert.equal(started.json.plan.control, 1);
  assert.deepEqual((await live()).prompts.greet.labels.production.default.split, [{ version: 1, weight: 80 }, { version: 2, weight: 20 }]);
  // Another rollout on the label, and manual changes of its route, are refused.
  const m = await live();
  const twice = await admin("rollouts", { base_revision: m.revision, ...plan("greet") });
  assert.equal(twice.status, 409, twice.text);
  const split = await admin("split", { base_revision: m.revision, prompt: "greet", label: "production", weights: { 1: 50, 2: 50 } });
  assert.equal(split.status, 409, split.text);
  assert.equal(split.json.error.code, "rollout_running");
  // Not enough units yet: hold.
  let c = await admin("rollouts/greet/production/check", {});
  assert.equal(c.status, 200, c.text);
  assert.equal(c.json.last_decision.action, "hold", JSON.stringify(c.json.last_decision));
  assert.equal(c.json.stage, 1);
  // Both versions resolve 60%: stage 1 -> 2, then the last stage (100%) completes it.
  for (const stage of [1, 2]) {
    await served("greet", (await live()).revision);
    await traffic("greet", 240, { 1: 0.6, 2: 0.6 });
    await exposed("greet", 200);
    c = await admin("rollouts/greet/production/check", {});
    assert.equal(c.status, 200, c.text);
    const want = stage < 2 ? "advance" : "complete";
    assert.equal(c.json.last_decision.action, want, JSON.stringify(c.json.last_decision));
  }
  assert.equal(c.json.status, "completed");
  // Every check kept its evidence: each guardrail's interval over time.
  assert.deepEqual(c.json.checks.map((x) => x.action), ["hold", "advance", "complete"]);
  for (const x of c.json.checks.slice(1)) {
    const g = x.evidence.guardrails[0];
    assert.equal(g.metric, "resolved");
    assert.ok(g.ci[0] < g.estimate && g.estimate < g.ci[1], JSON.stringify(g));
  }
  assert.deepEqual((await live()).prompts.greet.labels.production.default, { version: 2 });
  // Each change of traffic is an audited revision that gives the evidence.
  const hist = (await admin("history?limit=10")).json.revisions.filter((r) => r.action.startsWith("rollout."));
  assert.deepEqual(hist.map((r) => r.action), ["rollout.complete", "rollout.advance", "rollout.start"]);
  assert.match(hist[1].summary, /stage 1 -> 2 \(50%\): .*resolved/);
  assert.match(hist[0].summary, /complete, version 2 serves 100%: .*resolved [+-]\d/);
  assert.equal(hist[0].actor, "rollout");
  // Webhooks heard every action, signed.
  await waitFor("the rollout's webhook deliveries", async () => got.filter((d) => JSON.parse(d.body).event === "rollout.complete").length === 1, 30_000, 200);
  for (const d of got) {
    const [t, v1] = d.headers["x-edgeprompt-signature"].split(",").map((p) => p.split("=")[1]);
    assert.equal(v1, createHmac("sha256", SECRET).update(`${t}.${d.body}`).digest("hex"));
  }
  assert.deepEqual(got.map((d) => JSON.parse(d.body).event), ["rollout.start", "rollout.advance", "rollout.complete"]);
  // Ended: manual changes are allowed again.
  const after = await live();
  const ok = await admin("split", { base_revision: after.revision, prompt: "greet", label: "production", weights: { 1: 50, 2: 50 } });
  assert.equal(ok.status, 200, ok.text);
});

test("a rollout whose candidate is worse rolls back by itself", async () => {
  const rev = await publish("worse");
  const started = await admin("rollouts", { base_revision: rev, ...plan("worse", { stages: [50, 100] }) });
  assert.equal(started.status, 201, started.text);
  await served("worse", started.json.stages[0].revision);
  // The control resolves 90%, the candidate 10%.
  await traffic("worse", 300, { 1: 0.9, 2: 0.1 });
  await exposed("worse", 300);
  const c = await admin("rollouts/worse/production/check", {});
  assert.equal(c.status, 200, c.text);
  assert.equal(c.json.last_decision.action, "rollback", JSON.stringify(c.json.last_decision));
  assert.equal(c.json.status, "rolled_back");
  assert.deepEqual((await live()).prompts.worse.labels.production.default, { version: 1 });
  const hist = (await admin("history?limit=3")).json.revisions;
  assert.equal(hist[0].action, "rollout.rollback");
  assert.match(hist[0].summary, /rollback, version 1 serves 100%: .*resolved/);
  // The webhook from the first test (rollout.*) heard the rollback, signed.
  await waitFor("the rollback's webhook delivery", async () => got.some((d) => JSON.parse(d.body).event === "rollout.rollback"), 30_000, 200);
  const d = got.find((x) => JSON.parse(x.body).event === "rollout.rollback");
  const [t, v1] = d.headers["x-edgeprompt-signature"].split(",").map((p) => p.split("=")[1]);
  assert.equal(v1, createHmac("sha256", SECRET).update(`${t}.${d.body}`).digest("hex"));
  assert.equal(JSON.parse(d.body).revision, hist[0].revision);
  await served("worse", hist[0].revision);
  const units = await Promise.all(["a", "b", "c", "d"].map((u) => edge.post("/v1/resolve", { prompt: "worse", unit: u, track: false })));
  assert.deepEqual(units.map((r) => r.json.version), [1, 1, 1, 1]);
});

test("pause, resume and abort from the CLI; a person's rollback ends a rollout", async () => {
  const rev = await publish("third");
  const env = ["--remote", edge.url, "--token", edge.tokens.admin];
  const start = await cli(["rollout", "start", "third", "--candidate", "2", "--stages", "5,100", "--guardrail", "resolved:0.01", "--min-units", "10", ...env]);
  assert.match(start, /^third\/production: running at stage 1 of 2 \(version 2 at 5%, control version 1\)/);
  void rev;
  assert.match(await cli(["rollout", "pause", "third", ...env]), /third\/production: paused/);
  await assert.rejects(cli(["rollout", "pause", "third", ...env]), /rollout_not_changed \(409\)/);
  // A paused rollout is still checked (a tripped guardrail would still act) and stays paused.
  const checked = await admin("rollouts/third/production/check", {});
  assert.equal(checked.status, 200, checked.text);
  assert.equal(checked.json.status, "paused");
  assert.ok(checked.json.next_check_ms > Date.now(), "a paused rollout keeps its next check");
  assert.match(await cli(["rollout", "resume", "third", ...env]), /third\/production: running/);
  const status = await cli(["rollout", "status", "third", ...env]);
  assert.match(status, /  start  rollout third\/production: start, version 2 to 5%/);
  assert.match(status, /  pause  .*\n  resume  /);
  assert.match(await cli(["rollout", "abort", "third", ...env]), /third\/production: aborted/);
  // The split stays as it was; manual changes are allowed again.
  assert.equal((await live()).prompts.third.labels.production.default.split[1].weight, 5);
  // A new rollout, ended by a person's rollback.
  const m = await live();
  const again = await admin("promote", { base_revision: m.revision, prompt: "third", label: "production", version: 1 });
  assert.equal(again.status, 200, again.text);
  const r2 = await admin("rollouts", { base_revision: again.json.revision, ...plan("third") });
  assert.equal(r2.status, 201, r2.text);
  const rb = await admin("rollback", { base_revision: r2.json.stages[0].revision, prompt: "third", label: "production" });
  assert.equal(rb.status, 200, rb.text);
  const s = await admin("rollouts/third/production");
  assert.equal(s.json.status, "rolled_back");
  assert.equal(s.json.log.at(-1).actor, "admin");
  // A refused plan names its field, in the message and in details.
  const base = (await live()).revision;
  for (const [extra, field] of [[{ stages: [10, 5, 100] }, "plan.stages[1]"], [{ min_units: 1.5 }, "plan.min_units"], [{ guardrails: [{ metric: "nope" }] }, "plan.guardrails[0].metric"], [{ check_interval_ms: 5 }, "check_interval_ms"]]) {
    const r = await admin("rollouts", { base_revision: base, ...plan("third"), ...extra });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.error.code, "invalid_plan");
    assert.equal(r.json.error.details.field, field, r.text);
    assert.ok(r.json.error.message.startsWith(`${field}: `), r.text);
  }
  // The list: every active one, or one label's.
  const greet = await admin("rollouts?prompt=greet&label=production");
  assert.deepEqual(greet.json.rollouts.map((x) => x.status), ["completed"]);
  assert.deepEqual((await admin("rollouts?active=1")).json.rollouts, []);
  // Read-only tokens see rollouts and cannot start one.
  assert.equal((await admin("rollouts/third/production", undefined, edge.tokens.viewer)).status, 200);
  const ro = await admin("rollouts", { base_revision: rb.json.revision, ...plan("third") }, edge.tokens.viewer);
  assert.equal(ro.status, 403);
});
