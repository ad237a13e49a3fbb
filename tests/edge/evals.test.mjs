// Eval reports in real workerd: `edgeprompt eval --report` records a run with the
// control plane, bound to each version's content hash; the report is listed for that
// hash and kept whole; malformed reports are refused with their path; read-only tokens
// read and cannot record.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEdge, cli } from "./harness.mjs";

let edge, dir;
before(async () => {
  edge = await startEdge();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgeprompt-evals-"));
  await cli(["init", dir]);
});
after(async () => {
  await edge?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const auth = (token = edge.tokens.admin) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
const admin = (p, body, token) => edge.fetch(`/admin/v1/${p}`, body === undefined ? { headers: auth(token) } : { method: "POST", headers: auth(token), body: JSON.stringify(body) });

test("eval --report records the run, bound to the version's content hash", async () => {
  const local = JSON.parse(await cli(["eval", dir, "--json"]));
  assert.equal(local.passed, true, JSON.stringify(local.summary));
  const { prompt, hash } = local.versions[0];
  const out = await cli(["eval", dir, "--report", "--remote", edge.url, "--token", edge.tokens.admin]);
  const id = Number(out.match(/reported to .* as (\d+)/)[1]);
  const listed = await admin(`evals?prompt=${prompt}&hash=${hash}`, undefined, edge.tokens.viewer);
  assert.equal(listed.status, 200, listed.text);
  assert.equal(listed.json.reports.length, 1);
  assert.equal(listed.json.reports[0].report, id);
  assert.equal(listed.json.reports[0].passed, true);
  assert.equal(listed.json.reports[0].actor, "admin");
  assert.equal(listed.json.reports[0].cases, local.versions[0].cases);
  const whole = await admin(`evals/${id}`);
  assert.equal(whole.status, 200, whole.text);
  assert.deepEqual(whole.json.report.versions.map((v) => v.hash), [hash]);
  // Another content is not covered by it.
  assert.deepEqual((await admin(`evals?prompt=${prompt}&hash=${"0".repeat(64)}`)).json.reports, []);
});

test("malformed reports are refused with their path; read-only tokens cannot record", async () => {
  const good = { schema: 1, passed: true, versions: [{ prompt: "p", hash: "a".repeat(64), passed: true, cases: 1 }] };
  for (const [bad, p] of [[{ ...good, schema: 2 }, "schema"], [{ ...good, versions: [] }, "versions"], [{ ...good, versions: [{ ...good.versions[0], hash: "A".repeat(64) }] }, "versions[0].hash"], [{ ...good, versions: [{ prompt: "p", hash: "a".repeat(64) }] }, "versions[0].passed"]]) {
    const r = await admin("evals", bad);
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.error.details.path, p);
  }
  assert.equal((await admin("evals", good, edge.tokens.viewer)).status, 403);
  assert.equal((await admin("evals", good)).status, 201);
});
