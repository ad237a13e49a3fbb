// Promotion gates in real workerd (docs/gates.md): a label's policy requires a passing
// eval report for the version's content hash and an approval by another token holder;
// freeze windows refuse every change but a rollback; pending changes are approved,
// rejected, expire, and fail when the label moved; a rollout's start is gated and a
// freeze holds its advances. Driven with the CLI (exit codes and --json) and the API.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import http from "node:http";
import path from "node:path";
import { startEdge, cli, cliRun, waitFor } from "./harness.mjs";

/** Pending changes expire this fast here (a dev fault; policies say hours). */
const TTL_MS = 20_000;
let edge, dir, receiver;
/** The webhook deliveries received: parsed bodies. */
const events = [];
before(async () => {
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      events.push(JSON.parse(body));
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  edge = await startEdge({ controlVars: { EDGEPROMPT_DEV_FAULTS: `control_approval_ttl_ms=${TTL_MS}` } });
  const hook = await admin("webhooks", { url: `http://127.0.0.1:${receiver.address().port}/hook`, events: ["change.*", "policy.*"] });
  assert.equal(hook.status, 201, hook.text);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgeprompt-gates-"));
  await cli(["init", dir]);
});
after(async () => {
  receiver?.close();
  await edge?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const auth = (token) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
const admin = (p, body, token = edge.tokens.admin) =>
  edge.fetch(`/admin/v1/${p}`, body === undefined ? { headers: auth(token) } : { method: "POST", headers: auth(token), body: JSON.stringify(body) });
const live = async () => (await admin("manifest")).json;
/** The CLI as `who` (admin, approver or viewer). */
const ep = (args, who = "admin") => cliRun(args, { EDGEPROMPT_URL: edge.url, EDGEPROMPT_TOKEN: edge.tokens[who] });
const serves = async (prompt, label) => (await live()).prompts[prompt].labels[label].default;

/** Changes the starter prompt's system template, so the next publish adds a version. */
function edit(text) {
  const p = path.join(dir, "prompts/assistant/system.mustache");
  fs.writeFileSync(p, fs.readFileSync(p, "utf8").trimEnd() + `\n${text}\n`);
}

test("a protected label: refused without an eval, held for approval after --report, applied by another token holder", async () => {
  let r = await ep(["publish", dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await serves("assistant", "production"), { version: 1 });
  r = await ep(["label", "policy", "assistant", "--label", "production", "--require-eval", "--require-approval"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /requires a passing eval, requires approval/);
  // A second version, published (new versions are not gated: only what a label serves).
  edit("Be brief.");
  r = await ep(["publish", dir]);
  assert.equal(r.code, 0, r.stderr);

  // No eval report for version 2's content: refused, with what is missing.
  r = await ep(["promote", "assistant", "2", "--label", "production"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /eval_required \(412\): no passing eval report for assistant\/production version 2/);
  const j = await ep(["promote", "assistant", "2", "--label", "production", "--json"]);
  assert.equal(j.code, 1);
  const refusal = JSON.parse(j.stdout);
  assert.equal(refusal.error.code, "eval_required");
  const local = JSON.parse(await cli(["eval", dir, "--json"]));
  assert.equal(refusal.error.details.missing[0].content_hash, local.versions[0].hash, "the refusal names the content the eval must cover");
  // The console's review (a dry run) is refused the same way.
  const dry = await admin("promote", { base_revision: (await live()).revision, prompt: "assistant", label: "production", version: 2, dry_run: true });
  assert.equal(dry.status, 412, dry.text);

  // After --report the eval gate passes and the approval gate holds the change.
  r = await ep(["eval", dir, "--report"]);
  assert.equal(r.code, 0, r.stderr);
  const dry2 = await admin("promote", { base_revision: (await live()).revision, prompt: "assistant", label: "production", version: 2, dry_run: true });
  assert.equal(dry2.status, 200, dry2.text);
  assert.equal(dry2.json.needs_approval, true);
  r = await ep(["promote", "assistant", "2", "--label", "production", "--json"]);
  assert.equal(r.code, 3, r.stderr);
  const pending = JSON.parse(r.stdout).pending;
  assert.equal(pending.state, "pending");
  assert.equal(pending.requested_by, "admin");
  assert.deepEqual(await serves("assistant", "production"), { version: 1 }, "nothing applied yet");
  r = await ep(["changes"]);
  assert.match(r.stdout, new RegExp(`#${pending.id} pending assistant/production promote`));

  // Approval by the same name, or without rw+approve, is refused; another name applies it.
  r = await ep(["approve", String(pending.id)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /approval_not_allowed \(403\)/);
  assert.equal((await admin(`changes/${pending.id}/approve`, {}, edge.tokens.viewer)).status, 403);
  r = await ep(["approve", String(pending.id)], "approver");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`change #${pending.id} approved and applied`));
  assert.deepEqual(await serves("assistant", "production"), { version: 2 });
  const history = (await admin("history?limit=1")).json.revisions[0];
  assert.equal(history.actor, `admin (approved by approver, change #${pending.id})`);
  const done = (await admin(`changes/${pending.id}`)).json;
  assert.equal(done.state, "applied");
  assert.equal(done.decided_by, "approver");
  assert.equal(done.revision, history.revision);
  // Deciding it twice is refused.
  assert.equal((await admin(`changes/${pending.id}/approve`, {}, edge.tokens.approver)).json.error.code, "change_decided");
});

test("a pending change fails with 409 when the label moved, is rejected with a reason, and expires", async () => {
  // Going back to version 1 by a promotion is a change like any other: it needs version
  // 1's eval too (evaluated from the live manifest this time).
  let r = await ep(["eval", "--version", "1", "--prompt", "assistant", dir, "--report"]);
  assert.equal(r.code, 0, r.stderr);
  r = await ep(["promote", "assistant", "1", "--label", "production", "--json"]);
  assert.equal(r.code, 3, r.stderr);
  const first = JSON.parse(r.stdout).pending;
  // A rollback is never gated: applied at once, audited as an emergency bypass.
  r = await ep(["rollback", "assistant", "--label", "production"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /emergency rollback of protected assistant\/production: gates bypassed/);
  assert.deepEqual(await serves("assistant", "production"), { version: 1 });
  const moved = await admin(`changes/${first.id}/approve`, {}, edge.tokens.approver);
  assert.equal(moved.status, 409, moved.text);
  assert.equal(moved.json.error.code, "label_moved");
  assert.equal((await admin(`changes/${first.id}`)).json.state, "failed");

  r = await ep(["promote", "assistant", "2", "--label", "production", "--json"]);
  assert.equal(r.code, 3, r.stderr);
  const second = JSON.parse(r.stdout).pending;
  r = await ep(["reject", String(second.id), "--reason", "not during the launch"], "approver");
  assert.equal(r.code, 0, r.stderr);
  const rejected = (await admin(`changes/${second.id}`)).json;
  assert.equal(rejected.state, "rejected");
  assert.equal(rejected.reason, "not during the launch");
  assert.equal(rejected.decided_by, "approver");

  r = await ep(["promote", "assistant", "2", "--label", "production", "--json"]);
  const third = JSON.parse(r.stdout).pending;
  assert.ok(third.expires_at_ms - third.requested_at_ms <= TTL_MS + 1000);
  await new Promise((res) => setTimeout(res, Math.max(0, third.expires_at_ms - Date.now()) + 500));
  const late = await admin(`changes/${third.id}/approve`, {}, edge.tokens.approver);
  assert.equal(late.status, 410, late.text);
  assert.equal((await admin(`changes/${third.id}`)).json.state, "expired");
  assert.deepEqual(await serves("assistant", "production"), { version: 1 });
  r = await ep(["changes", "--all", "--json"]);
  const states = Object.fromEntries(JSON.parse(r.stdout).changes.map((c) => [c.id, c.state]));
  assert.equal(states[first.id], "failed");
  assert.equal(states[second.id], "rejected");
  assert.equal(states[third.id], "expired");
});

test("an approved change applies as it was shown or not at all; nobody approves their own", async () => {
  // A publish with its label is held; the same content is then published without it.
  edit("Be precise.");
  let r = await ep(["eval", dir, "--report"]);
  assert.equal(r.code, 0, r.stderr);
  r = await ep(["publish", dir, "--label", "production", "--json"]);
  assert.equal(r.code, 3, r.stderr);
  const held = JSON.parse(r.stdout).pending;
  assert.equal(held.op, "publish");
  r = await ep(["publish", dir]);
  assert.equal(r.code, 0, r.stderr);
  const before = await serves("assistant", "production");
  // Applied now it would publish nothing and move no label: not what was approved.
  const moved = await admin(`changes/${held.id}/approve`, {}, edge.tokens.approver);
  assert.equal(moved.status, 409, moved.text);
  assert.equal(moved.json.error.code, "label_moved");
  assert.equal((await admin(`changes/${held.id}`)).json.state, "failed");
  assert.deepEqual(await serves("assistant", "production"), before);

  // An approver's own change waits for someone else, and can be withdrawn.
  r = await ep(["promote", "assistant", "2", "--label", "production", "--json"], "approver");
  assert.equal(r.code, 3, r.stderr);
  const own = JSON.parse(r.stdout).pending;
  r = await ep(["approve", String(own.id)], "approver");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /approval_not_allowed \(403\): change #\d+ was asked for by approver: someone else must approve it/);
  r = await ep(["reject", String(own.id)], "approver");
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await admin(`changes/${own.id}`)).json.state, "rejected");
});

test("changing a policy that requires approval needs one; the policy's changes are audited", async () => {
  let r = await ep(["label", "policy", "assistant", "--label", "production", "--require-eval", "--json"]);
  assert.equal(r.code, 3, r.stderr);
  const change = JSON.parse(r.stdout).pending;
  assert.equal(change.op, "policy");
  r = await ep(["approve", String(change.id)], "approver");
  assert.equal(r.code, 0, r.stderr);
  const pol = (await admin("policies?prompt=assistant&label=production")).json.policies[0];
  assert.equal(pol.policy.require_approval, false);
  assert.equal(pol.policy.require_eval, true);
  assert.equal(pol.set_by, `admin (approved by approver, change #${change.id})`);
  const log = (await admin("policies/log?prompt=assistant&label=production")).json.log;
  assert.equal(log[0].approved_by, "approver");
  assert.equal(log[1].actor, "admin");
  assert.equal(log[1].approved_by, null);
  // Without the approval gate, a change with its eval applies directly.
  r = await ep(["promote", "assistant", "2", "--label", "production"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await serves("assistant", "production"), { version: 2 });
});

test("an invalid policy is refused with every path; an unknown time zone by the runtime", async () => {
  const bad = await admin("policies", { prompt: "assistant", label: "staging", policy: { require_eval: "yes", freeze: [{ start: "2026-01-01", end: "2026-01-02T00:00:00Z" }, { days: ["fri"], from: "16:00", to: "16:00", time_zone: "UTC" }], extra: 1 } });
  assert.equal(bad.status, 422, bad.text);
  const paths = bad.json.error.details.fields.map((f) => f.path);
  for (const p of ["policy.require_eval", "policy.freeze[0].start", "policy.freeze[1].to", "policy.extra"]) assert.ok(paths.includes(p), `${p} in ${paths}`);
  const tz = await admin("policies", { prompt: "assistant", label: "staging", policy: { freeze: [{ days: ["mon"], from: "00:00", to: "24:00", time_zone: "Mars/Olympus_Mons" }] } });
  assert.equal(tz.status, 422, tz.text);
  assert.equal(tz.json.error.details.fields[0].path, "policy.freeze[0].time_zone");
  assert.equal((await admin("policies", { prompt: "assistant", label: "staging", policy: null }, edge.tokens.viewer)).status, 403);
  assert.deepEqual((await admin("policies?prompt=assistant&label=staging")).json.policies, [], "nothing was stored");
});

test("a freeze window refuses every change but a rollback, and holds a rollout's advances", async () => {
  // A greeting prompt with two versions, on a label without a policy yet.
  let m = await live();
  let r = await admin("publish", {
    base_revision: m.revision,
    sources: { prompts: [{ name: "greet", versions: [{ text: "Hi" }, { text: "Hello" }], labels: { production: { default: { version: 1 } } } }] },
  });
  assert.equal(r.status, 200, r.text);
  // Every day, all day, in a named zone (the runtime's Intl resolves it).
  const always = { days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], from: "00:00", to: "24:00", time_zone: "Europe/Berlin", note: "launch week" };
  r = await ep(["label", "policy", "greet", "--label", "production", "--freeze", JSON.stringify(always)]);
  assert.equal(r.code, 0, r.stderr);
    r = await ep(["label", "policy", "greet", "--label", "production"]);
  assert.match(r.stdout, /FROZEN NOW: freeze window 1 .*launch week\) is in effect/);
  for (const args of [["promote", "greet", "2"], ["split", "greet", "1=50", "2=50"], ["ramp", "greet", "--to", "2", "--percent", "10"]]) {
    r = await ep([...args, "--label", "production"]);
    assert.equal(r.code, 1, `${args}: ${r.stdout}`);
    assert.match(r.stderr, /label_frozen \(423\): greet\/production is frozen: freeze window 1/);
  }
  m = await live();
  const rollout = { base_revision: m.revision, prompt: "greet", label: "production", candidate: 2, stages: [50, 100], min_units: 0, min_duration_ms: 1, check_interval_ms: 3_600_000 };
  r = await admin("rollouts", rollout);
  assert.equal(r.status, 423, r.text);

  // Lift the freeze: a rollout starts; freeze again: its check holds instead of advancing.
  assert.equal((await admin("policies", { prompt: "greet", label: "production", policy: null })).status, 200);
  r = await admin("rollouts", { ...rollout, base_revision: (await live()).revision });
  assert.equal(r.status, 201, r.text);
  assert.equal((await admin("policies", { prompt: "greet", label: "production", policy: { freeze: [always] } })).status, 200);
  const held = await admin("rollouts/greet/production/check", {});
  assert.equal(held.status, 200, held.text);
  assert.equal(held.json.last_decision.action, "hold", JSON.stringify(held.json.last_decision));
  assert.match(held.json.last_decision.reason, /^held: freeze window 1 .* \(the evidence says (advance|complete)/);
  assert.equal(held.json.stage, 1);
  assert.deepEqual((await serves("greet", "production")).split, [{ version: 1, weight: 50 }, { version: 2, weight: 50 }]);
  // A rollback still goes through, ends the rollout, and is audited as a bypass.
  r = await ep(["rollback", "greet", "--label", "production"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await serves("greet", "production"), { version: 1 });
  const ended = (await admin("rollouts/greet/production")).json;
  assert.notEqual(ended.status, "running");
});

test("a rollout on a label that requires approval waits for it to start", async () => {
  assert.equal((await admin("policies", { prompt: "greet", label: "production", policy: { require_approval: true } })).status, 200);
  const m = await live();
  const r = await admin("rollouts", { base_revision: m.revision, prompt: "greet", label: "production", candidate: 2, stages: [50, 100], min_units: 0, min_duration_ms: 1, check_interval_ms: 3_600_000 });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.json.pending.op, "rollout.start");
  assert.deepEqual(await serves("greet", "production"), { version: 1 });
    const ok = await admin(`changes/${r.json.pending.id}/approve`, {}, edge.tokens.approver);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.change.revision, (await live()).revision, "the applied change names the revision it became");
  const started = (await admin("rollouts/greet/production")).json;
  assert.equal(started.status, "running");
  assert.deepEqual((await serves("greet", "production")).split, [{ version: 1, weight: 50 }, { version: 2, weight: 50 }]);
});

test("a weekly window follows the named zone's wall clock: in force around now there, not an hour later", async () => {
  // A zone whose wall clock is now between 02:00 and 21:00 (Kolkata is +05:30, St. John's
  // -03:30 or -02:30: one of them is), so that both windows stay within one day.
  const local = (tz) => {
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", { timeZone: tz, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date()).map((p) => [p.type, p.value]));
    return { day: parts.weekday.toLowerCase(), minute: (Number(parts.hour) % 24) * 60 + Number(parts.minute) };
  };
  const tz = ["Asia/Kolkata", "America/St_Johns"].find((z) => local(z).minute >= 120 && local(z).minute <= 21 * 60);
  const { day, minute } = local(tz);
  const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
  const around = { days: [day], from: hhmm(minute - 60), to: hhmm(minute + 60), time_zone: tz };
  const later = { days: [day], from: hhmm(minute + 60), to: hhmm(minute + 120), time_zone: tz };
  const promote = async () => admin("promote", { base_revision: (await live()).revision, prompt: "greet", label: "weekly", version: 1, dry_run: true });
  assert.equal((await admin("policies", { prompt: "greet", label: "weekly", policy: { freeze: [around] } })).status, 200);
  let r = await promote();
  assert.equal(r.status, 423, `${tz} ${JSON.stringify(around)}: ${r.text}`);
  assert.match(r.json.error.message, /is in effect/);
  assert.equal((await admin("policies", { prompt: "greet", label: "weekly", policy: { freeze: [later] } })).status, 200);
  r = await promote();
  assert.equal(r.status, 200, `${tz} ${JSON.stringify(later)}: ${r.text}`);
});

test("an absolute freeze window is in force from its start to its end", async () => {
  const iso = (ms) => new Date(ms).toISOString();
  const end = Date.now() + 3_600_000;
  let r = await admin("policies", { prompt: "greet", label: "staging", policy: { freeze: [{ start: iso(Date.now() - 60_000), end: iso(end), note: "release freeze" }] } });
  assert.equal(r.status, 200, r.text);
  const listed = (await admin("policies?prompt=greet&label=staging")).json.policies[0];
  assert.equal(listed.frozen.until_ms, end);
  r = await admin("promote", { base_revision: (await live()).revision, prompt: "greet", label: "staging", version: 2 });
  assert.equal(r.status, 423, r.text);
  assert.equal(r.json.error.details.until_ms, end);
  assert.match(r.json.error.message, /release freeze/);
  // Over: the same change goes through (and creates the label).
  r = await admin("policies", { prompt: "greet", label: "staging", policy: { freeze: [{ start: iso(Date.now() - 120_000), end: iso(Date.now() - 60_000) }] } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await admin("policies?prompt=greet&label=staging")).json.policies[0].frozen, null);
  r = await admin("promote", { base_revision: (await live()).revision, prompt: "greet", label: "staging", version: 2 });
  assert.equal(r.status, 200, r.text);
});

test("approvals, rejections, failures, policies and emergency rollbacks are notified", async () => {
  const want = ["change.pending", "change.approved", "change.rejected", "change.failed", "change.rollback", "policy.set"];
  await waitFor("every kind of gate event delivered", () => want.every((e) => events.some((x) => x.event === e)), 60_000, 300);
  const approved = events.find((e) => e.event === "change.approved");
  assert.equal(approved.actor, "approver");
  assert.equal(approved.change.state, "applied");
  const rollback = events.find((e) => e.event === "change.rollback");
  assert.match(rollback.summary, /emergency rollback of protected .*: gates bypassed/);
  const policy = events.find((e) => e.event === "policy.set");
  assert.equal(policy.prompt, "assistant");
  assert.equal(policy.previous, null);
});
