// The release cycle with the CLI against the local edge (real workerd): init, publish,
// stage, split, ramp, roll back, undo; history, diff and status; token errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEdge, waitFor, cliRun } from "./harness.mjs";

let edge;
let dir;
before(async () => {
  edge = await startEdge({ vars: { REFRESH_INTERVAL_MS: 500 } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgeprompt-cli-"));
});
after(async () => {
  await edge?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI with the edge's URL and a token; resolves to {code, stdout, stderr}. */
const ep = (args, token = edge.tokens.admin) => cliRun(args, { EDGEPROMPT_URL: edge.url, EDGEPROMPT_TOKEN: token });

async function ok(args) {
  const r = await ep(args);
  assert.equal(r.code, 0, `edgeprompt ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function served(unit, label = "production") {
  const r = await edge.post("/v1/resolve", { prompt: "assistant", label, unit, variables: { question: "q" }, track: false });
  return r.status === 200 ? r.json : null;
}
const servedRevision = (rev) => waitFor(`revision ${rev} at the edge`, async () => (await served("probe"))?.revision === rev, 60_000, 250);
const units = Array.from({ length: 300 }, (_, i) => `cli-unit-${i}`);
const versions = () => Promise.all(units.map(async (u) => (await served(u)).version));

test("the whole cycle from the CLI", async () => {
  await ok(["init", dir]);
  assert.match(await ok(["publish", dir]), /^publish: assistant v1, snippet tone v1 \(revision 1\)/);
  await servedRevision(1);
  assert.match((await served("u")).messages[0].content, /Be friendly and concise/);

  fs.writeFileSync(path.join(dir, "prompts/assistant/user.mustache"), "Customer question: {{question}}\n");
  const staged = await ok(["publish", dir, "--label", "staging"]);
  assert.deepEqual(staged.trim().split("\n"), ["publish: assistant v2 (revision 2)", "create label assistant/staging serving version 2 (revision 3)"]);
  await servedRevision(3);
  assert.equal((await served("u", "staging")).version, 2);
  assert.equal((await served("u")).version, 1);
  assert.equal((await ep(["publish", dir])).stdout.trim(), "publish: nothing new");

  await ok(["split", "assistant", "1=90", "2=10"]);
  await servedRevision(4);
  const atTen = await versions();
  await ok(["ramp", "assistant", "--to", "2", "--percent", "50"]);
  await servedRevision(5);
  const atFifty = await versions();
  atTen.forEach((v, i) => { if (v === 2) assert.equal(atFifty[i], 2); });
  const share = atFifty.filter((v) => v === 2).length / units.length;
  assert.ok(share > 0.4 && share < 0.6, `share ${share}`);

  assert.match(await ok(["rollback", "assistant"]), /^rollback of assistant\/production to revision 3/);
  await servedRevision(6);
  assert.ok((await versions()).every((v) => v === 1));
  await ok(["rollback", "assistant", "--to-revision", "5"]);
  await servedRevision(7);
  assert.deepEqual(await versions(), atFifty);

  const history = await ok(["history"]);
  assert.equal(history.trim().split("\n").length, 7);
  assert.match(history, /admin\s+rollback\s+rollback of assistant\/production to revision 5/);
  const diff = await ok(["diff", "--from", "4", "--to", "5"]);
  assert.match(diff, /prompts\.assistant\.labels\.production\.default\.split/);
  const status = await ok(["status"]);
  assert.match(status, /^revision 7/);
  assert.match(status, /assistant\/production: 1=50% 2=50% \(0 rule\(s\)\) since revision 7/);
  assert.match(status, /assistant\/staging: version 2 \(0 rule\(s\)\) since revision 3/);
  // A template edit diffs line by line.
  fs.writeFileSync(path.join(dir, "prompts/assistant/system.mustache"), "You are the assistant of {{company}}.\nBe brief. {{> tone}}\n");
  const pending = await ok(["diff", "--sources", dir]);
  assert.match(pending, /\+ prompts\.assistant\.versions\[2\]/);
  const json = JSON.parse(await ok(["history", "--json"]));
  assert.equal(json.revisions.length, 7);
});

test("token errors exit non-zero with the server's reason", async () => {
  const none = await ep(["history"], "");
  assert.notEqual(none.code, 0);
  const bad = await ep(["history"], "not-a-token");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unauthorized \(401\)/);
  const ro = await ep(["promote", "assistant", "1"], edge.tokens.viewer);
  assert.equal(ro.code, 1);
  assert.match(ro.stderr, /forbidden \(403\)/);
  const invalid = await ep(["split", "assistant", "1=90", "2=5"]);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /weights sum to 95, expected 100/);
});
