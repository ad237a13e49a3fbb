// Checks that the peer Worker answers like our edge on the demo manifest:
//   node benches/peer-worker/check.mjs
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startPeer } from "./start.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "examples/demo.json"), "utf8"));
const peer = await startPeer({ manifest });
const auth = { authorization: `Bearer ${peer.serverKey}` };
const post = async (body, headers = auth) => {
  const r = await fetch(`${peer.url}/v1/resolve`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
};
const ok = (what) => console.log(`ok - ${what}`);

try {
  const req = { prompt: "support", unit: "user-42", variables: { question: "Where is my order?", plan: "pro" } };

  let r = await post(req, {});
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, "unauthorized");
  r = await post(req, { authorization: "Bearer not-a-key" });
  assert.equal(r.status, 401);
  ok("401 without a server key and with an unknown one");

  const first = await post(req);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const d = first.body;
  assert.deepEqual(Object.keys(d), ["prompt", "label", "version", "rule", "bucket", "messages", "model", "tools", "response_format", "revision", "hash", "token"]);
  const text = d.messages.map((m) => m.content).join("\n");
  assert.ok(text.includes("Where is my order?"), text);
  assert.ok(text.includes("Acme"), text);
  assert.match(d.hash, /^[0-9a-f]{64}$/);
  const [payload, sig] = d.token.split(".");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
  assert.equal(Buffer.from(sig, "base64url").length, 32);
  assert.deepEqual([claims.p, claims.l, claims.v, claims.r, claims.rev], ["support", "production", d.version, d.rule, 1]);
  assert.match(claims.u, /^[0-9a-f]{32}$/);
  ok(`resolved: version ${d.version} by rule ${d.rule}, bucket ${d.bucket}; messages have the question and "Acme"; token claims ${JSON.stringify(claims)}`);

  const again = await post({ ...req, track: false });
  assert.equal(again.body.version, d.version);
  assert.equal(again.body.bucket, d.bucket);
  assert.notEqual(again.body.token, d.token);
  ok("the same unit gets the same version again");

  r = await post({ ...req, unit: "qa-alice" });
  assert.deepEqual([r.body.version, r.body.rule, r.body.bucket], [2, "qa", null]);
  r = await post({ ...req, unit: "user-42", attributes: { app_version: "1.9.3" } });
  assert.deepEqual([r.body.version, r.body.rule], [1, "old-apps"]);
  r = await post({ ...req, label: "staging" });
  assert.deepEqual([r.body.version, r.body.rule], [2, "default"]);
  assert.ok(r.body.messages[0].content.includes("The customer is on the pro plan."));
  r = await post({ ...req, variables: { ...req.variables, history: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }] } });
  assert.deepEqual(r.body.messages.slice(1, 3), [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }]);
  r = await post({ prompt: "summarize", unit: "u", variables: { text: "<b>A & B</b>" } });
  assert.equal(r.body.text, "Summarize the following text in 50 words or fewer:\n\n<b>A & B</b>");
  ok("forced units, a semver rule, another label, a placeholder, a text version (values verbatim)");

  const counts = { 1: 0, 2: 0 };
  const N = 2000;
  for (let i = 0; i < N; i += 50) {
    const batch = Array.from({ length: 50 }, (_, j) => post({ ...req, unit: `unit-${i + j}`, track: false }));
    for (const { status, body } of await Promise.all(batch)) {
      assert.equal(status, 200);
      counts[body.version]++;
    }
  }
  const share = counts[1] / N;
  assert.ok(Math.abs(share - 0.9) < 0.03, `version 1 got ${share}`);
  ok(`split over ${N} units: version 1 ${counts[1]} (${(100 * share).toFixed(1)}%), version 2 ${counts[2]}; the demo's weights are 90/10`);

  r = await post({ prompt: "support", unit: "user-42", variables: { plan: "pro" } });
  assert.equal(r.status, 422); // as our edge answers missing_variables
  assert.equal(r.body.error.code, "missing_variables");
  assert.deepEqual(r.body.error.details.missing, ["question"]);
  ok(`a missing required variable: ${r.status} ${JSON.stringify(r.body.error)}`);

  r = await post({ prompt: "nope", unit: "u" });
  assert.deepEqual([r.status, r.body.error.code], [404, "unknown_prompt"]);
  r = await post({ prompt: "support", label: "nope", unit: "u" });
  assert.deepEqual([r.status, r.body.error.code], [404, "unknown_label"]);
  r = await post("{not json");
  assert.deepEqual([r.status, r.body.error.code], [400, "malformed_json"]);
  r = await post({ prompt: "support", unit: "" });
  assert.deepEqual([r.status, r.body.error.code], [400, "invalid_request"]);
  r = await post({ ...req, variables: { question: "x".repeat(256 * 1024) } });
  assert.deepEqual([r.status, r.body.error.code], [413, "body_too_large"]);
  ok("404 unknown prompt/label, 400 malformed JSON/invalid unit, 413 over 262144 bytes");

  assert.equal(await (await fetch(`${peer.url}/healthz`)).text(), "ok");
  assert.equal(await (await fetch(`${peer.url}/echo`, { method: "POST", body: JSON.stringify(req) })).text(), "ok");
  ok("GET /healthz and POST /echo answer ok");
} finally {
  await peer.dispose();
}
console.log("peer worker check passed");
