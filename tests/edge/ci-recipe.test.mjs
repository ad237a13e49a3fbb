// The CI recipe of docs/ci.md, run locally against real workerd: the example prompt
// repository's ci.sh checks a branch without publishing, reports and publishes to
// staging on main, refuses a failing eval with nothing published, and a promotion to
// production waits for another person's approval.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEdge, cli, cliRun, cliPath, ROOT } from "./harness.mjs";

let edge, repo;
before(async () => {
  edge = await startEdge();
  repo = fs.mkdtempSync(path.join(os.tmpdir(), "edgeprompt-ci-"));
  fs.cpSync(path.join(ROOT, "examples/prompt-repo"), repo, { recursive: true });
});
after(async () => {
  await edge?.stop();
  if (repo) fs.rmSync(repo, { recursive: true, force: true });
});

/** Runs one of the repository's scripts as the pipeline (`admin`) or a person; {code, stdout, stderr}. */
function script(name, args, env = {}, who = "admin") {
  return new Promise((resolve) => {
    const child = spawn("bash", [path.join(repo, name), ...args], {
      cwd: repo,
      env: { ...process.env, EDGEPROMPT: cliPath(), EDGEPROMPT_URL: edge.url, EDGEPROMPT_TOKEN: edge.tokens[who], MODEL_URL: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
const auth = (token) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
const admin = (p, body, token = edge.tokens.admin) =>
  edge.fetch(`/admin/v1/${p}`, body === undefined ? { headers: auth(token) } : { method: "POST", headers: auth(token), body: JSON.stringify(body) });
const live = async () => (await admin("manifest")).json;
/** The local sources' content hash (whether or not their eval passes). */
const localHash = async () => JSON.parse((await cliRun(["eval", repo, "--json"])).stdout).versions[0].hash;

test("a branch is validated, evaluated and diffed with a read-only token, and nothing is published", async () => {
  const r = await script("ci.sh", [], { CI_BRANCH: "feature/tone" }, "viewer");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const step of ["validate the sources", "evaluate the sources", "what publishing would change"]) assert.match(r.stdout, new RegExp(`==> ${step}`));
  assert.match(r.stdout, /2 case\(s\): 2 passed/);
  assert.match(r.stdout, /support/, "the diff names the new prompt");
  assert.match(r.stdout, /nothing is published from a branch other than main/);
  assert.equal((await live()).revision, 0);
  assert.deepEqual((await admin(`evals?prompt=support&hash=${await localHash()}`)).json.reports, []);
});

test("main reports the evals and publishes to staging; production waits for an approval", async () => {
  const r = await script("ci.sh", [], { CI_BRANCH: "main" });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual((await live()).prompts.support.labels.staging.default, { version: 1 });
  const reports = (await admin(`evals?prompt=support&hash=${await localHash()}`)).json.reports;
  assert.equal(reports.length, 1);
  assert.equal(reports[0].passed, true);

  // The owners protect production (once, by hand): an eval and an approval.
  const set = await cli(["label", "policy", "support", "--label", "production", "--require-eval", "--require-approval", "--remote", edge.url, "--token", edge.tokens.admin]);
  assert.match(set, /requires a passing eval, requires approval/);
  const asked = await script("promote.sh", ["support", "1"]);
  assert.equal(asked.code, 0, asked.stdout + asked.stderr);
  assert.match(asked.stdout, /change #(\d+) waits for an approval/);
  assert.equal((await live()).prompts.support.labels.production, undefined, "not applied before the approval");
  const id = asked.stdout.match(/change #(\d+)/)[1];
  const ok = await cli(["approve", id, "--remote", edge.url, "--token", edge.tokens.approver]);
  assert.match(ok, new RegExp(`change #${id} approved and applied`));
  assert.deepEqual((await live()).prompts.support.labels.production.default, { version: 1 });
});

test("a failing eval on main fails the job before anything is reported or published", async () => {
  const file = path.join(repo, "prompts/support/system.mustache");
  fs.writeFileSync(file, "You are the support assistant of {{company}}. {{> tone}}\nAnswer questions about orders.\n");
  const before = (await live()).revision;
  const r = await script("ci.sh", [], { CI_BRANCH: "main" });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /fail/);
  assert.doesNotMatch(r.stdout, /==> publish/);
  assert.equal((await live()).revision, before);
  assert.deepEqual((await admin(`evals?prompt=support&hash=${await localHash()}`)).json.reports, []);
  // Fixed: the job reports and publishes it, and production holds it for an approval.
  fs.writeFileSync(file, "You are the support assistant of {{company}}. {{> tone}}\nAnswer questions about orders, refunds and returns.\n");
  const fixed = await script("ci.sh", [], { CI_BRANCH: "main" });
  assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
  assert.deepEqual((await live()).prompts.support.labels.staging.default, { version: 2 });
  const direct = await script("promote.sh", ["support", "2"]);
  assert.equal(direct.code, 0, direct.stdout + direct.stderr);
  assert.match(direct.stdout, /waits for an approval/, "held, not refused: version 2's content was reported by the job");
});
