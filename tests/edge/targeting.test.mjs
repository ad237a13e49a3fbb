// Targeting in the edge Worker (real workerd): the conformance set's conditions through
// POST /v1/resolve (the Worker's decisions equal the native and npm ones), and npm
// clients' exposures re-derived at the time they report (`decided_at`, within the
// documented skew of the edge's clock).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startEdge, ROOT } from "./harness.mjs";

const SPEC_VERSION = 2;
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const conditions = JSON.parse(fs.readFileSync(path.join(ROOT, "tests/conformance/conditions.json"), "utf8"));
// A launch two minutes ahead of the test's clock: within the skew either way.
const launchMs = Math.floor(Date.now() / 1000) * 1000 + 120_000;
const launch = new Date(launchMs).toISOString();

// One prompt per condition case (the conformance README's form), and `launch` whose
// rule holds after `launch`.
function manifest() {
  const prompts = {};
  conditions.cases.forEach((c, i) => {
    prompts[`c${i}`] = {
      versions: [{ version: 1, text: "1" }, { version: 2, text: "2" }],
      labels: { production: { rules: [{ name: "r", when: c.when, target: { version: 2 } }], default: { version: 1 } } },
    };
  });
  prompts.launch = {
    client: true,
    versions: [{ version: 1, text: "old" }, { version: 2, text: "new" }],
    labels: { production: { rules: [{ name: "launch", when: { attr: "$now", op: "after", value: launch }, target: { version: 2 } }], default: { version: 1 } } },
  };
    prompts.steady = {
    client: true,
    versions: [{ version: 1, text: "steady" }],
    labels: { production: { rules: [{ name: "pro", when: { attr: "plan", op: "eq", value: "pro" }, target: { version: 1 } }], default: { version: 1 } } },
  };
  return { schema: 1, revision: 1, prompts };
}

let edge;
before(async () => {
  edge = await startEdge({ manifest: manifest() });
});
after(async () => {
  await edge?.stop();
});

test("the conformance set's conditions through POST /v1/resolve, each as specified", async () => {
  assert.equal(conditions.spec_version, SPEC_VERSION);
  assert.equal((await edge.fetch("/v1/status")).json.spec_version, SPEC_VERSION);
  const failures = [];
  let checked = 0;
  for (const [i, c] of conditions.cases.entries()) {
    // A case with its own time is the engine's and npm's: the edge decides at its clock.
    if (c.now !== undefined) continue;
    const body = { prompt: `c${i}`, unit: "u", track: false };
    if (c.attributes !== undefined) body.attributes = c.attributes;
    const r = await edge.post("/v1/resolve", body);
    assert.equal(r.status, 200, `${c.name}: ${r.text}`);
    const holds = r.json.rule === "r";
    if (holds !== c.expected || r.json.version !== (holds ? 2 : 1)) failures.push({ name: c.name, got: r.json.rule, expected: c.expected });
    checked++;
  }
  assert.ok(checked >= 290, `${checked} cases`);
  assert.deepEqual(failures, []);
});

test("an npm client's exposure is re-derived at its decided_at, and refused beyond the skew", async () => {
  const item = (unit, decided_at) => ({ prompt: "launch", unit, revision: 1, ...(decided_at === undefined ? {} : { decided_at }) });
  const r = await edge.post("/v1/exposures", {
    exposures: [
      item("before-launch", launchMs - 60_000),
      item("after-launch", launchMs + 60_000),
      item("at-launch", launchMs),
      item("edge-clock"),
      item("too-late", Date.now() + MAX_CLOCK_SKEW_MS + 60_000),
      item("too-early", Date.now() - MAX_CLOCK_SKEW_MS - 60_000),
    ],
  });
  assert.equal(r.status, 200, r.text);
  const [beforeLaunch, afterLaunch, atLaunch, edgeClock, late, early] = r.json.results;
  assert.deepEqual([beforeLaunch.rule, beforeLaunch.version], ["default", 1]);
  assert.deepEqual([afterLaunch.rule, afterLaunch.version], ["launch", 2]);
  assert.ok(afterLaunch.token);
  assert.equal(atLaunch.rule, "default", "after is strict");
  // Without decided_at (an older client) the edge's clock decides: before the launch.
  assert.equal(edgeClock.rule, "default");
  assert.equal(late.error.code, "clock_skew");
  assert.equal(early.error.code, "clock_skew");
    assert.match(late.error.message, /more than the 300 s allowed/);
  // A malformed time refuses its item alone; the others are answered.
  const bad = await edge.post("/v1/exposures", { exposures: [{ ...item("x"), decided_at: "soon" }, item("y", launchMs + 60_000), { ...item("z"), decided_at: 1e19 }] });
  assert.equal(bad.status, 200, bad.text);
  assert.equal(bad.json.results[0].error.code, "invalid_request");
  assert.ok(bad.json.results[1].token);
  assert.equal(bad.json.results[2].error.code, "invalid_request");
  // A prompt whose rules do not read the time: a client clock far off does not matter.
  const plain = await edge.post("/v1/exposures", { exposures: [{ prompt: "steady", unit: "u", revision: 1, decided_at: Date.now() + 3_600_000 }] });
  assert.equal(plain.status, 200, plain.text);
  assert.ok(plain.json.results[0].token, JSON.stringify(plain.json.results[0]));
});

test("the edge's own resolve decides $now rules at its clock", async () => {
  const r = await edge.post("/v1/resolve", { prompt: "launch", unit: "u", track: false });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.rule, Date.now() > launchMs ? "launch" : "default");
});
