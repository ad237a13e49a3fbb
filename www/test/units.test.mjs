// The console's pure modules in Node (bundled on the fly by esbuild): routes in words, the
// requests a change and its dry run make (the route operations themselves are the
// server's), rollouts' badges, guardrail series and start requests with the server's
// refusals mapped to fields, the content hash against the engine's, the interval
// arithmetic against published values and the server's report, the side-by-side diff,
// hash routes, and how error details are read.
//   node --test www/test/units.test.mjs   (needs npm/pkg/ for the engine)
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { Engine } from "edgeprompt";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const demo = JSON.parse(fs.readFileSync(path.join(ROOT, "examples/demo.json"), "utf8"));

// One bundle of the modules under test; preact and diff are bundled in, nothing touches the DOM on import.
const entry = `
export * as routes from "./routes";
export * as proposals from "./proposals";
export * as rollouts from "./rollouts";
export * as format from "./format";
export { changeBody } from "./api";
export * as stats from "./stats";
export * as hash from "./hash";
export * as diff from "./diff";
export * as router from "./router";
export { problemsOf } from "./components/ui";
export * as gates from "./gates";
export * as session from "./session";
`;
const out = await esbuild.build({
  stdin: { contents: entry, resolveDir: path.join(ROOT, "www/src"), loader: "ts" },
  bundle: true,
  write: false,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  jsx: "automatic",
  jsxImportSource: "preact",
  logLevel: "error",
});
const m = await import("data:text/javascript;base64," + Buffer.from(out.outputFiles[0].text).toString("base64"));

test("split weights add up as a hint only; targets and single-version routes read as shown", () => {
  const { sumPercents, formatBp, servesOneVersion } = m.routes;
  assert.equal(sumPercents(["80", "20"]), 100);
  assert.equal(sumPercents(["33.33", "33.33", "33.34", ""]), 100);
  assert.equal(sumPercents(["0.1", "0.2"]), 0.3);
  assert.equal(sumPercents(["90", "1e1"]), null);
  assert.equal(sumPercents(["-5", "105"]), null);
  assert.equal(formatBp(9500), "95");
  assert.equal(formatBp(3333), "33.33");
  assert.equal(formatBp(1250), "12.5");
  assert.equal(servesOneVersion({ default: { split: [{ version: 1, weight: 100 }, { version: 2, weight: 0 }] } }), true);
  assert.equal(servesOneVersion({ default: { version: 3 } }), true);
  assert.equal(servesOneVersion(demo.prompts.support.labels.production), false);
  // The route operations are the server's: nothing here computes a split or a ramp.
  for (const gone of ["proposeSplit", "proposeRamp", "proposePromote", "parseWeight"]) assert.equal(m.routes[gone], undefined, gone);
});

test("a change's request, its dry run's body, and the review's title", () => {
  const { actionOf, describeAction, withoutRevision, proposalTitle } = m.proposals;
  const split = actionOf("support", "production", { op: "split", rule: null, weights: [[1, "80"], [2, " 20.5 "], [3, "1e1"]] });
  assert.deepEqual(split, { op: "split", prompt: "support", label: "production", rule: null, weights: { 1: 80, 2: 20.5, 3: "1e1" } });
  assert.deepEqual(m.changeBody(split, 7, true), { base_revision: 7, prompt: "support", label: "production", weights: { 1: 80, 2: 20.5, 3: "1e1" }, dry_run: true });
  const rollback = actionOf("a", "b", { op: "rollback", toRevision: null });
  // to_revision only when a person picked one; dry_run only for the dry run.
  assert.deepEqual(m.changeBody(rollback, 3, false), { base_revision: 3, prompt: "a", label: "b" });
  assert.deepEqual(m.changeBody(actionOf("a", "b", { op: "rollback", toRevision: 2 }), 3, false), { base_revision: 3, prompt: "a", label: "b", to_revision: 2 });
  assert.deepEqual(m.changeBody(actionOf("a", "b", { op: "ramp", rule: "qa", to: 2, percent: "25" }), 1, true), { base_revision: 1, prompt: "a", label: "b", rule: "qa", to: 2, percent: 25, dry_run: true });
  assert.equal(describeAction(rollback), "rollback of a/b to the last revision in which it served one version");
  assert.equal(describeAction(split), "split support/production: 1=80 2=20.5 3=1e1");
  assert.equal(withoutRevision("split a/b: 1=80 2=20 (revision 8)", 8), "split a/b: 1=80 2=20");
  assert.equal(withoutRevision("split a/b: 1=80 2=20 (revision 8)", 9), "split a/b: 1=80 2=20 (revision 8)");
  const dry = { dry_run: true, revision: 7, changed: true, summaries: ["rollback of a/b to revision 4 (revision 8)"], revisions: [{ revision: 8, action: "rollback", summary: "rollback of a/b to revision 4 (revision 8)", changes: [] }] };
  assert.equal(proposalTitle({ action: rollback, base: 7, dry, refused: null }), "rollback of a/b to revision 4");
  assert.equal(proposalTitle({ action: rollback, base: 7, dry: null, refused: new Error("no") }), describeAction(rollback));
});

test("routes and conditions read as words", () => {
  const { describeTarget, describeMatch, pointers } = m.routes;
  assert.equal(describeTarget({ split: [{ version: 1, weight: 33.33 }, { version: 2, weight: 66.67 }] }), "v1 33.33% · v2 66.67%");
  const [qa, old] = demo.prompts.support.labels.production.rules;
  assert.equal(describeMatch(qa), "forced units (2): qa-alice, qa-bob");
  assert.equal(describeMatch(old), 'when app_version < (semver) "2.0.0"');
  assert.equal(describeMatch({ name: "x", when: { all: [{ attr: "plan", op: "in", value: ["pro", "team"] }, { not: { attr: "beta", op: "exists" } }] }, target: { version: 1 } }), 'when plan in ["pro", "team"] and not beta exists');
  assert.deepEqual(pointers(demo.prompts.support).get(2), ["production: rule qa", "production: split 10%", "staging: default"]);
});

test("a version's content hash equals the engine's", async () => {
  const manifest = structuredClone(demo);
  // Edge cases of the canonical form: key order by UTF-8 bytes, escapes, numbers as JavaScript prints them.
  manifest.prompts.summarize.versions.push({
    version: 2,
    text: "Tab\there, \"quoted\", \u0001 \u007f, é, 𝄞, \u2028 {{text}}",
    model: { params: { "\uffff": 1, "𝄞": 2, a: 1.0, b: 1e21, c: 0.1, d: -0, e: 123456789012 } },
    tools: [{ name: "x", parameters: { z: null, a: [true, false] } }],
    variables: { text: { required: true } },
  });
  manifest.prompts.summarize.labels.v2 = { default: { version: 2 } };
  const engine = new Engine(manifest);
  const cases = [
    ["support", "production", 1, { app_version: "1.0.0" }],
    ["support", "staging", 2, {}],
    ["summarize", "production", 1, {}],
    ["summarize", "v2", 2, {}],
  ];
  for (const [prompt, label, version, attributes] of cases) {
    const d = engine.resolve({ prompt, label, unit: "u", attributes, variables: { question: "q", text: "t" } });
    assert.equal(d.version, version);
    const v = manifest.prompts[prompt].versions.find((x) => x.version === version);
    assert.equal(await m.hash.contentHash(v), d.hash, `${prompt} v${version}`);
  }
});

test("intervals match published values and the server's arithmetic", () => {
  const { wilson, diffProportions, mean, diffMeans, running } = m.stats;
  const w = wilson(10, 100);
  assert.ok(Math.abs(w.ci[0] - 0.0552) < 1e-4 && Math.abs(w.ci[1] - 0.1744) < 1e-4);
  // Newcombe (1998): 56/70 vs 48/80 -> 0.2000, 95% CI 0.0524 .. 0.3339.
  const d = diffProportions([56, 70], [48, 80]);
  assert.ok(Math.abs(d.estimate - 0.2) < 1e-12 && Math.abs(d.ci[0] - 0.0524) < 1e-4 && Math.abs(d.ci[1] - 0.3339) < 1e-4);
  const a = { n: 5, sum: 15, sumSq: 55 };
  assert.ok(Math.abs(mean(a).ci[1] - 3 - 1.959963984540054 * Math.sqrt(0.5)) < 1e-12);
  assert.ok(Math.abs(diffMeans(a, { n: 5, sum: 10, sumSq: 30 }).estimate - 1) < 1e-12);
  // Hourly additions summed: the last hour is the totals' comparison.
  const s = (units, extra = {}) => ({ units, default_units: units, exposures: units, forced: 0, values: 0, sum: 0, obs_sum: 0, obs_sum_sq: 0, ...extra });
  const series = [
    { hour: 10, version: 1, metric: "", sums: s(40) },
    { hour: 10, version: 2, metric: "", sums: s(40) },
    { hour: 10, version: 1, metric: "ok", sums: s(20, { obs_sum: 20, obs_sum_sq: 20 }) },
    { hour: 12, version: 1, metric: "", sums: s(30) },
    { hour: 12, version: 2, metric: "", sums: s(40) },
    { hour: 12, version: 2, metric: "ok", sums: s(48, { obs_sum: 48, obs_sum_sq: 48 }) },
    { hour: 12, version: 1, metric: "ok", sums: s(28, { obs_sum: 28, obs_sum_sq: 28 }) },
  ];
  const points = running(series, "ok", { kind: "binary" }, [1, 2], 1);
  assert.deepEqual(points.map((p) => `${p.hour}/${p.version}`), ["10/1", "10/2", "11/1", "11/2", "12/1", "12/2"]);
  const last = points.at(-1);
  assert.deepEqual(last.diff, diffProportions([48, 80], [48, 70]));
  assert.equal(last.units, 80);
  assert.equal(points[1].diff.estimate, -0.5);
});

test("the side-by-side diff pairs replaced lines and keeps numbering", () => {
  const rows = m.diff.sideBySide("a\nb\nc\nd", "a\nB\nc\nd\ne");
  assert.deepEqual(rows.map((r) => r.kind), ["same", "changed", "same", "same", "added"]);
  assert.deepEqual(rows[4], { kind: "added", left: null, right: { n: 5, text: "e" } });
  assert.deepEqual(m.diff.sideBySide("", "x").map((r) => r.kind), ["added"]);
  const [l, r] = m.diff.wordPieces("gpt-4o-mini", "gpt-4o");
  assert.ok(l.some((p) => p.marked) && r.every((p) => !p.marked || p.text.trim() !== ""));
  assert.equal(m.diff.templateText(demo.prompts.support.versions[0]).split("\n")[0], "── system ──");
  assert.equal(m.diff.prettyJson({ b: 1, a: { d: 2, c: 3 } }), '{\n  "a": {\n    "c": 3,\n    "d": 2\n  },\n  "b": 1\n}');
});

test("hash routes round-trip, names escaped", () => {
  const { parseHash, href } = m.router;
  for (const h of ["#/", "#/prompt/sup%2Fport", "#/prompt/a/diff?a=1&b=2", "#/traffic/a.b/prod-1", "#/metrics/a/b?period=all", "#/rollout/a%20b/prod", "#/history", "#/history/7"]) {
    assert.equal(href(parseHash(h)), h, h);
  }
  assert.deepEqual(parseHash("#/prompt/sup%2Fport"), { page: "prompt", prompt: "sup/port", tab: "versions", query: new URLSearchParams() });
  assert.equal(parseHash("#/nowhere").page, "notfound");
  assert.equal(parseHash("#/history/0").page, "notfound");
  assert.deepEqual(parseHash("#/rollout/support/production"), { page: "rollout", prompt: "support", label: "production" });
  assert.equal(parseHash("#/rollout/support").page, "notfound");
  assert.equal(m.router.links.rollout("a/b", "c"), "#/rollout/a%2Fb/c");
});

test("error details: every problem's path and reason", () => {
  assert.deepEqual(m.problemsOf({ problems: ["prompts.a.labels.b.default.split: weights sum to 95, expected 100", "no path here"] }), [
    { path: "prompts.a.labels.b.default.split", reason: "weights sum to 95, expected 100" },
    { path: "", reason: "no path here" },
  ]);
  assert.deepEqual(m.problemsOf({ problems: [{ path: "x", reason: "y" }] }), [{ path: "x", reason: "y" }]);
  assert.deepEqual(m.problemsOf(null), []);
});

const rollout = (over = {}) => ({
  id: 3, prompt: "greet", label: "production", status: "running", stage: 2, check_interval_ms: 3_600_000, next_check_ms: 5, started_ms: 1, updated_ms: 2, actor: "admin",
  plan: { candidate: 2, control: 1, stages: [1, 10.5, 50, 100], min_units: 500, min_duration_ms: 3_600_000, guardrails: [{ metric: "resolved", max_regression: 0 }], alpha: 0.05, on_trip: "rollback" },
  stages: [{ stage: 1, percent: 1, period: "p1", started_ms: 1, revision: 4 }, { stage: 2, percent: 10.5, period: "p2", started_ms: 3, revision: 6 }],
  ...over,
});

test("rollouts: the stage in words, the overview's badge, each label's latest", () => {
  const { stageText, rolloutBadge, currentPercent, latestByLabel, labelKey, isActive } = m.rollouts;
  assert.equal(stageText(rollout()), "stage 2 of 4 (10.5%)");
  assert.deepEqual(rolloutBadge(rollout()), { text: "rollout: stage 2, 10.5%", tone: "info" });
  assert.deepEqual(rolloutBadge(rollout({ status: "paused" })), { text: "rollout paused: stage 2, 10.5%", tone: "warn" });
  for (const status of ["completed", "rolled_back", "aborted"]) assert.equal(rolloutBadge(rollout({ status })), null, status);
  assert.equal(rolloutBadge(undefined), null);
  assert.equal(currentPercent(rollout({ status: "rolled_back" })), 0);
  assert.equal(currentPercent(rollout({ stages: [] })), 10.5);
  assert.equal(isActive({ status: "paused" }), true);
  // Newest (highest id) first per label, whatever the order given.
  const latest = latestByLabel([rollout({ id: 1, status: "aborted" }), rollout({ id: 5 }), rollout({ id: 2, label: "staging" })]);
  assert.equal(latest.get(labelKey("greet", "production")).id, 5);
  assert.equal(latest.get(labelKey("greet", "staging")).id, 2);
  assert.equal(latest.size, 2);
});

test("rollouts: a guardrail's intervals over the checks, with their tone", () => {
  const g = (estimate, ci, tripped = false, higher_is_better = true) => ({ metric: "resolved", kind: "binary", higher_is_better, estimate, ci, threshold: -0.01, scale: 0.05, alpha: 0.05, units: [100, 10], tripped });
  const check = (at_ms, guardrail, action = "hold") => ({ at_ms, action, stage: 1, evidence: { guardrails: [guardrail], srm: [], stage_units: 10, stage_ms: 1 } });
  const points = m.rollouts.guardrailPoints(
    [
      check(30, g(-0.2, [-0.3, -0.1], true), "rollback"),
      check(10, g(null, null)),
      check(20, g(0.05, [0.01, 0.09]), "advance"),
      { at_ms: 25, action: "hold", stage: 2, evidence: null },
      check(40, g(0.0, [-0.1, 0.1])),
    ],
    "resolved",
  );
  assert.deepEqual(points.map((p) => [p.at, p.tone, p.action]), [[20, "better", "advance"], [30, "worse", "rollback"], [40, "unclear", "hold"]]);
  assert.deepEqual([points[1].low, points[1].high, points[1].threshold, points[1].units], [-0.3, -0.1, -0.01, [100, 10]]);
  // Lower is better: an interval below zero is better.
  assert.equal(m.rollouts.guardrailPoints([check(1, g(-5, [-8, -2], false, false))], "resolved")[0].tone, "better");
  assert.deepEqual(m.rollouts.guardrailPoints([check(1, g(1, [0, 2]))], "latency_ms"), []);
});

test("rollouts: the start form's request (numbers parsed, nothing judged) and the server's refusals by field", () => {
  const { defaultStartForm, startBody, parseStages, fieldOfRefusal } = m.rollouts;
  const form = defaultStartForm(2, demo.metrics);
  assert.deepEqual(form.guardrails.map((g) => g.metric), ["follow_ups", "latency_ms", "resolved", "thumbs_up"]);
  form.guardrails[2].on = true;
  form.guardrails[2].maxRegression = "0.01";
  form.guardrails[1].on = true;
  form.guardrails[1].mde = "50";
  form.minMinutes = "0.5";
  const made = startBody(form, 9, "greet", "production");
  assert.deepEqual(made.body, {
    base_revision: 9, prompt: "greet", label: "production", candidate: 2, on_trip: "rollback",
    stages: [1, 10, 50, 100], min_units: 500, min_duration_ms: 30_000, alpha: 0.05, check_interval_ms: 3_600_000,
    guardrails: [{ metric: "latency_ms", max_regression: 0, mde: 50 }, { metric: "resolved", max_regression: 0.01 }],
  });
  // Values the server would refuse go to it as they are (it names the field).
  assert.deepEqual(parseStages("50, 10 100"), [50, 10, 100]);
  assert.deepEqual(parseStages("1%, 100%"), [1, 100]);
  assert.equal(parseStages(" , "), "no stages given");
  assert.equal(parseStages("1, ten, 100"), '"ten" is not a number');
  const bad = startBody({ ...form, minUnits: "lots", alpha: "", stages: "1,x" }, 9, "greet", "production");
  assert.deepEqual(bad.errors, { min_units: '"lots" is not a number', stages: '"x" is not a number' });
  // Empty optional fields are left to the server's defaults.
  assert.equal("alpha" in startBody({ ...form, alpha: " " }, 9, "g", "p").body, false);
  const sent = made.body;
  assert.equal(fieldOfRefusal("plan.stages[2]: 10 does not increase on 50", sent), "stages");
  assert.equal(fieldOfRefusal("plan.stages: ends at 50, expected 100", sent), "stages");
  assert.equal(fieldOfRefusal("plan.alpha: 1 is not between 0 and 1 (exclusive)", sent), "alpha");
  assert.equal(fieldOfRefusal("plan.control: equals the candidate (2)", sent), "candidate");
  assert.equal(fieldOfRefusal("candidate: greet has no version 7", sent), "candidate");
  assert.equal(fieldOfRefusal("plan.guardrails[1].max_regression: -1 is not a number >= 0", sent), "guardrail:resolved:max_regression");
  assert.equal(fieldOfRefusal("plan.guardrails[0].mde: 0 is not a number > 0", sent), "guardrail:latency_ms:mde");
  assert.equal(fieldOfRefusal('plan.guardrails[0].metric: unknown metric "x"', sent), "guardrail:latency_ms:metric");
  assert.equal(fieldOfRefusal("plan.guardrails[5].metric: unknown metric", sent), "guardrails");
  assert.equal(fieldOfRefusal('"check_interval_ms" must be a whole number of at least 1000', sent), "check_interval");
  assert.equal(fieldOfRefusal("plan: invalid type: floating point `1.5`, expected u64", sent), null);
});

test("durations read in words", () => {
  const { formatDuration } = m.format;
  assert.equal(formatDuration(45_000), "45 s");
  assert.equal(formatDuration(12 * 60_000), "12 min");
  assert.equal(formatDuration(90 * 60_000), "1.5 h");
  assert.equal(formatDuration(3_600_000), "1 h");
  assert.equal(formatDuration(2 * 86_400_000), "2 d");
});

test("gates: freeze windows and policies in words", () => {
  const { describeFreeze, daysWords, requirements, policyTitle } = m.gates;
  const fmt = (t) => `<${t}>`;
  assert.equal(describeFreeze({ start: "2026-12-20T00:00:00Z", end: "2027-01-04T00:00:00+01:00", note: "holidays" }, fmt), "from <2026-12-20T00:00:00Z> to <2027-01-04T00:00:00+01:00> (holidays)");
  assert.equal(describeFreeze({ days: ["fri", "sat"], from: "16:00", to: "08:00", time_zone: "Europe/Berlin", note: "weekend" }), "every Friday and Saturday, 16:00 to 08:00 the next day (Europe/Berlin) (weekend)");
  assert.equal(describeFreeze({ days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "10:30", time_zone: "UTC" }), "every Monday to Friday, 09:00 to 10:30 (UTC)");
  assert.equal(describeFreeze({ days: ["sun"], from: "00:00", to: "24:00", time_zone: "UTC" }), "every Sunday, all day (UTC)");
  assert.equal(daysWords(["sun", "mon", "tue", "wed", "thu", "fri", "sat"]), "every day");
  assert.equal(daysWords(["mon", "wed", "thu", "fri", "sun"]), "Monday, Wednesday to Friday and Sunday");
  assert.equal(daysWords(["sat", "sun"]), "Saturday and Sunday");
  const policy = { require_eval: true, require_approval: true, approval_expires_hours: 72, freeze: [{ days: ["fri"], from: "16:00", to: "08:00", time_zone: "Europe/Berlin" }] };
  assert.deepEqual(requirements(policy), [
    "an approval by another person with an rw+approve token (a request expires after 3 d)",
    "a passing eval report (edgeprompt eval --report) for the content of every version it would serve",
    "no change during its freeze window (a rollback always goes through)",
  ]);
  assert.match(policyTitle(policy), /^Protected: needs an approval .*\. Frozen every Friday, 16:00 to 08:00 the next day \(Europe\/Berlin\)\.$/);
  assert.deepEqual(requirements({ require_eval: false, require_approval: false, approval_expires_hours: 72, freeze: [] }), []);
});

const change = (over = {}) => ({
  id: 4, state: "pending", op: "promote", prompt: "gated", label: "production", summary: "promote gated/production to version 2",
  request: { prompt: "gated", label: "production", version: 2 }, requested_by: "admin", requested_at_ms: 0, expires_at_ms: 3_600_000,
  base_revision: 7, decided_by: null, decided_at_ms: null, reason: null, revision: null, ...over,
});

test("gates: who may approve, reject or withdraw a change; pending changes per label", () => {
  const { changeControls, pendingByLabel, gateKey, previewable, stateBadge, ago, expiresIn } = m.gates;
  const approver = { name: "approver", canWrite: true, canApprove: true };
  const writer = { name: "other", canWrite: true, canApprove: false };
  assert.deepEqual(changeControls(change(), approver), { approve: true, reject: true, withdraw: false });
  // The requester withdraws, never approves (even with rw+approve).
  assert.deepEqual(changeControls(change(), { name: "admin", canWrite: true, canApprove: false }), { approve: false, reject: false, withdraw: true });
  assert.deepEqual(changeControls(change({ requested_by: "approver" }), approver), { approve: false, reject: false, withdraw: true });
  assert.deepEqual(changeControls(change(), writer), { approve: false, reject: false, withdraw: false });
  assert.deepEqual(changeControls(change(), { name: "admin", canWrite: false, canApprove: false }), { approve: false, reject: false, withdraw: false });
  assert.deepEqual(changeControls(change({ state: "applied" }), approver), { approve: false, reject: false, withdraw: false });
  const by = pendingByLabel([change(), change({ id: 5 }), change({ id: 6, label: "staging" }), change({ id: 7, state: "rejected" })]);
  assert.deepEqual(by.get(gateKey("gated", "production")).map((c) => c.id), [4, 5]);
  assert.equal(by.get(gateKey("gated", "staging")).length, 1);
  assert.equal(by.size, 2);
  assert.equal(pendingByLabel(null).size, 0);
  assert.equal(previewable(change()), true);
  assert.equal(previewable(change({ op: "policy" })), false);
  assert.equal(previewable(change({ op: "rollout.start" })), false);
  assert.deepEqual(stateBadge("rejected"), { text: "rejected", tone: "bad" });
  assert.equal(ago(0, 300_000), "5 min ago");
  assert.equal(ago(0, 1_000), "just now");
  assert.equal(expiresIn(3_600_000, 0), "in 1 h");
  assert.equal(expiresIn(3_600_000, 3_600_000), "expired");
  // The server's summary of a held change, without what the page says otherwise.
  assert.equal(m.gates.changeSummary("promote gated/production to version 2 (revision 13) (needs approval: gated/production)"), "promote gated/production to version 2");
  assert.equal(m.gates.changeSummary("publish p (revision 4); label p/production to version 3 (revision 5) (needs approval: p/production, q/x)"), "publish p; label p/production to version 3");
  assert.equal(m.gates.changeSummary("policy a/b: removed"), "policy a/b: removed");
});

test("gates: eval status, a 412's missing versions, refusal titles", () => {
  const { evalStatus, missingEvals, gateRefusalTitle } = m.gates;
  const r = { report: 3, version: 2, passed: true, cases: 12, failed: 0, errors: 0, skipped_assertions: 0, at_ms: 1, actor: "ci" };
  assert.deepEqual(evalStatus(r), { text: "passed", tone: "ok", detail: "12 cases" });
  assert.deepEqual(evalStatus({ ...r, passed: false, cases: 1, failed: 1, errors: 1, skipped_assertions: 2 }), { text: "failed", tone: "bad", detail: "1 case: 1 failed, 1 error, 2 assertions skipped" });
  const hash = "a".repeat(64);
  assert.deepEqual(missingEvals({ missing: [{ prompt: "p", label: "prod", version: 2, content_hash: hash }] }), [{ prompt: "p", label: "prod", version: 2, content_hash: hash }]);
  // A 422 missing_variables' list is of names, not versions.
  assert.deepEqual(missingEvals({ missing: ["question"] }), []);
  assert.deepEqual(missingEvals(null), []);
  assert.match(gateRefusalTitle(423, "label_frozen"), /frozen/);
  assert.match(gateRefusalTitle(409, "label_moved"), /label changed/);
  assert.equal(gateRefusalTitle(409, "conflict"), null);
});

test("session: scopes' rights; whoami is tried again only when the API did not answer", async () => {
  const { scopeRights, transientFailure, withRetries } = m.session;
  assert.deepEqual(scopeRights("rw"), { canWrite: true, canApprove: false });
  // rw+approve writes too (it was shown read-only once).
  assert.deepEqual(scopeRights("rw+approve"), { canWrite: true, canApprove: true });
  assert.deepEqual(scopeRights("ro"), { canWrite: false, canApprove: false });
  assert.deepEqual(scopeRights("something-new"), { canWrite: false, canApprove: false });
  for (const status of [0, 500, 502, 503, 429]) assert.equal(transientFailure({ status }), true, String(status));
  for (const status of [400, 401, 403, 404]) assert.equal(transientFailure({ status }), false, String(status));
  const slept = [];
  const sleep = async (ms) => void slept.push(ms);
  let calls = 0;
  const flaky = async () => {
    calls++;
    if (calls < 3) throw Object.assign(new Error("down"), { status: calls === 1 ? 0 : 503 });
    return "ok";
  };
  assert.equal(await withRetries(flaky, [500, 1000], sleep), "ok");
  assert.deepEqual(slept, [500, 1000]);
  // Three tries at most; the last failure is thrown.
  calls = 0;
  slept.length = 0;
  await assert.rejects(withRetries(async () => { calls++; throw Object.assign(new Error("down"), { status: 502 }); }, [500, 1000], sleep), /down/);
  assert.equal(calls, 3);
  // A 401 is an answer: no second try.
  calls = 0;
  await assert.rejects(withRetries(async () => { calls++; throw Object.assign(new Error("no"), { status: 401 }); }, [500, 1000], sleep), /no/);
  assert.equal(calls, 1);
});

test("changes and eval reports have routes", () => {
  const { parseHash, href, links } = m.router;
  for (const h of ["#/changes", "#/changes/12", "#/evals/3", "#/evals/3?prompt=support&hash=abc"]) assert.equal(href(parseHash(h)), h, h);
  assert.deepEqual(parseHash("#/changes/12"), { page: "changes", id: 12 });
  assert.equal(parseHash("#/changes/x").page, "notfound");
  assert.deepEqual(parseHash("#/evals/3?prompt=a%2Fb&hash=h"), { page: "eval", id: 3, prompt: "a/b", hash: "h" });
  assert.equal(links.evalReport(3, "a/b", "h"), "#/evals/3?prompt=a%2Fb&hash=h");
});
