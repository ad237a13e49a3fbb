// Webhooks in real workerd: a local HTTP receiver gets each audited change, signed with
// HMAC-SHA256 over "<time>.<body>"; a failed delivery is retried from the alarm with
// backoff and logged; a receiver that never answers does not hold up the change; the
// settings are checked and a read-only token cannot change them; the CLI drives them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createHmac } from "node:crypto";
import { startEdge, waitFor, cli } from "./harness.mjs";

let edge, receiver, port;
const got = [];
// What the receiver answers next: a status, or "hang" (never answers).
const plan = [];
const hanging = [];

before(async () => {
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      got.push({ path: req.url, headers: req.headers, body });
      const next = plan.shift() ?? 200;
      if (next === "hang") return hanging.push(res);
      res.writeHead(next).end();
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  port = receiver.address().port;
  edge = await startEdge();
});
after(async () => {
  for (const res of hanging) res.destroy();
  receiver?.close();
  await edge?.stop();
});

const SECRET = "s".repeat(40);
const auth = (token) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
const admin = (p, body, token = edge.tokens.admin, method) =>
  edge.fetch(`/admin/v1/${p}`, body === undefined && !method ? { headers: auth(token) } : { method: method ?? "POST", headers: auth(token), body: body === undefined ? undefined : JSON.stringify(body) });
const sources = (text) => ({ prompts: [{ name: "greet", versions: [{ text }], labels: { production: { default: { version: 1 } } } }] });

function verify(d) {
  const [t, v1] = d.headers["x-edgeprompt-signature"].split(",").map((p) => p.split("=")[1]);
  const want = createHmac("sha256", SECRET).update(`${t}.${d.body}`).digest("hex");
  return v1 === want && Math.abs(Number(t) - Date.now()) < 120_000;
}

let hook;
test("settings: checked, read-only tokens refused, the secret never listed", async () => {
  const ro = await admin("webhooks", { url: `http://127.0.0.1:${port}/h` }, edge.tokens.viewer);
  assert.equal(ro.status, 403, ro.text);
  const badUrl = await admin("webhooks", { url: "http://hooks.example.com/x", secret: SECRET });
  assert.equal(badUrl.status, 422, badUrl.text);
  assert.match(badUrl.json.error.message, /^url: .*https only/);
  const badEvent = await admin("webhooks", { url: `http://127.0.0.1:${port}/h`, events: ["change.*", "nope"], secret: SECRET });
  assert.equal(badEvent.status, 422);
  assert.match(badEvent.json.error.message, /^events\[1\]: "nope"/);
  const short = await admin("webhooks", { url: `http://127.0.0.1:${port}/h`, secret: "short" });
  assert.match(short.json.error.message, /^secret: at least 32/);
  const generated = await admin("webhooks", { url: `http://127.0.0.1:${port}/other`, events: ["rollout.*"] });
  assert.equal(generated.status, 201, generated.text);
  assert.equal(generated.json.secret.length, 64, "a generated secret is shown once");
  const made = await admin("webhooks", { url: `http://127.0.0.1:${port}/h`, events: ["change.*"], secret: SECRET });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.json.secret, undefined, "a given secret is not echoed");
  hook = made.json.id;
    const list = await admin("webhooks", undefined, edge.tokens.viewer);
  assert.equal(list.status, 200);
  // A read-only token sees where deliveries go, not the path (a credential at some receivers).
  assert.deepEqual(list.json.webhooks.map((h) => h.url), [`http://127.0.0.1:${port}/…`, `http://127.0.0.1:${port}/…`]);
  const full = await admin("webhooks");
  assert.deepEqual(full.json.webhooks.map((h) => h.url), [`http://127.0.0.1:${port}/other`, `http://127.0.0.1:${port}/h`]);
  assert.ok(!list.text.includes(SECRET) && !list.text.includes(generated.json.secret));
  const removed = await admin(`webhooks/${generated.json.id}`, undefined, edge.tokens.admin, "DELETE");
  assert.equal(removed.status, 200, removed.text);
  assert.equal((await admin("webhooks")).json.webhooks.length, 1);
});

test("each audited change is delivered, signed; a failure is retried and logged", async () => {
  plan.push(302); // the first attempt of the first delivery is redirected: not followed, a failure
  const p = await admin("publish", { base_revision: 0, sources: sources("Hi") });
  assert.equal(p.status, 200, p.text);
  const split = await admin("publish", { base_revision: 1, sources: { prompts: [{ name: "greet", versions: [{ text: "Hi" }, { text: "Hello" }] }] } });
  assert.equal(split.status, 200, split.text);
  const sp = await admin("split", { base_revision: 2, prompt: "greet", label: "production", weights: { 1: 50, 2: 50 } });
  assert.equal(sp.status, 200, sp.text);
  await waitFor("both events delivered, the first after its retry", async () => {
    const events = got.filter((d) => d.path === "/h").map((d) => JSON.parse(d.body).event);
    return events.filter((e) => e === "change.publish").length >= 3 && events.includes("change.split");
  }, 60_000, 250);
  for (const d of got.filter((d) => d.path === "/h")) {
    assert.ok(verify(d), "signed with the webhook's secret over time and body");
    assert.equal(d.headers["x-edgeprompt-event"], JSON.parse(d.body).event);
    assert.match(d.headers["x-edgeprompt-delivery"], /^\d+$/);
  }
  const first = got.find((d) => d.path === "/h" && JSON.parse(d.body).revision === 1);
  const body = JSON.parse(first.body);
  assert.equal(body.action, "publish");
  assert.equal(body.actor, "admin");
  assert.match(body.summary, /publish: greet v1/);
  // The first delivery was attempted twice with one id; the log says so.
  const attempts = got.filter((d) => d.path === "/h" && JSON.parse(d.body).revision === 1);
  assert.equal(attempts.length, 2);
  assert.equal(attempts[0].headers["x-edgeprompt-delivery"], attempts[1].headers["x-edgeprompt-delivery"]);
  const log = await admin(`webhooks/${hook}/deliveries`);
  assert.equal(log.status, 200, log.text);
  const logged = log.json.deliveries.find((d) => String(d.id) === attempts[0].headers["x-edgeprompt-delivery"]);
  assert.equal(logged.state, "delivered");
  assert.equal(logged.attempts, 2);
  assert.equal(logged.last_status, 200);
  assert.ok(log.json.deliveries.every((d) => d.state === "delivered"), log.text);
});

test("a receiver that never answers does not hold up a change", async () => {
  plan.push("hang");
  const before = got.length;
  const live = (await admin("manifest")).json.revision;
  const r = await admin("split", { base_revision: live, prompt: "greet", label: "production", weights: { 1: 90, 2: 10 } });
  assert.equal(r.status, 200, r.text);
  // The change was answered; its delivery is sent afterwards and hangs there.
  await waitFor("the delivery to reach the receiver", async () => got.length > before, 30_000, 100);
  assert.equal(hanging.length, 1);
  const next = await admin("split", { base_revision: live + 1, prompt: "greet", label: "production", weights: { 1: 80, 2: 20 } });
  assert.equal(next.status, 200, "another change goes through while a delivery hangs");
});

test("the CLI lists, tests and shows the log", async () => {
  const env = ["--remote", edge.url, "--token", edge.tokens.admin];
  const list = await cli(["webhooks", "list", ...env]);
  assert.match(list, new RegExp(`^1 webhook\\(s\\)\\n${hook}  http://127.0.0.1:${port}/h  events change\\.\\*  deliveries: `));
  await cli(["webhooks", "test", hook, ...env]);
  await waitFor("the ping", async () => got.some((d) => JSON.parse(d.body).event === "ping"), 30_000, 200);
  await waitFor("the ping logged as delivered", async () => /ping  delivered  1 attempt\(s\)  answered 200/.test(await cli(["webhooks", "deliveries", hook, ...env])), 10_000, 200);
  await assert.rejects(cli(["webhooks", "add", "ftp://x", ...env]), /exited 1: invalid_webhook \(422\): url:/);
});
