// The web console in headless Chromium (Debian's, driven by playwright-core) against the
// real Workers in workerd (tests/edge/harness.mjs): sign-in by form and by link, every
// page against the admin API, a change reviewed as the server's dry run (nothing stored
// until confirmed) and then reaching the history and the edge, a raced change's 409 and
// its recovery, refusals (422, 409 rollout_running, 403), the metrics after real events,
// a guarded rollout started, checked, paused and aborted from the console, a read-only
// token, and no Content-Security-Policy violation anywhere. Saves a screenshot of each
// page in www/screenshots/ (git-ignored).
//   node --test www/test/            (builds the console first; needs the Workers built)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { startEdge, demoManifest, waitFor, ROOT } from "../../tests/edge/harness.mjs";
import { startDevServer } from "../dev.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = path.join(ROOT, "www", "screenshots");
let edge, dev, browser, base;
const violations = [];

before(async () => {
  execFileSync(process.execPath, [path.join(ROOT, "www", "build.mjs")], { stdio: "inherit" });
  fs.mkdirSync(SHOTS, { recursive: true });
  // The edge looks for a new revision every half second (10 s by default), so that the
  // traffic a test sends counts in the period of the route it just set.
  edge = await startEdge({ manifest: demoManifest(), vars: { REFRESH_INTERVAL_MS: 500 } });
  // The Workers serve the console at /console/; until they do, www/dev.mjs serves the
  // same files with the same policy in front of this edge.
  const served = await fetch(`${edge.url}/console/`).catch(() => null);
  if (served?.status === 200 && served.headers.get("content-security-policy")) base = edge.url;
  else {
    dev = await startDevServer({ port: 0, edge: edge.url });
    base = `http://127.0.0.1:${dev.address().port}`;
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  dev?.close();
  await edge?.stop();
  assert.deepEqual(violations, [], "no Content-Security-Policy violation and no page error");
});

/** A new page (own sessionStorage) that records CSP violations and page errors. */
async function newPage({ width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (/Content Security Policy|Content-Security-Policy/i.test(m.text())) violations.push(m.text());
  });
  page.on("pageerror", (e) => violations.push(`page error: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  return page;
}

/** A page signed in with `token` through the link form (`/console/#token=`). */
async function signedIn(token, hash = "#/", opts) {
  const page = await newPage(opts);
  await page.goto(`${base}/console/#token=${token}`);
  try {
    await page.getByRole("heading", { name: "Overview" }).waitFor();
  } catch (e) {
    // Say what the page shows instead (a sign-in form with its reason, an error...).
    const shown = (await page.locator("body").innerText().catch((err) => `(the page's text could not be read: ${err.message})`)).trim().replace(/\s+/g, " ");
    const file = path.join(SHOTS, `signin-failed-${Date.now()}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    throw new Error(`signing in did not reach the overview (${e.message.split("\n")[0]}); the page shows: ${shown.slice(0, 1000)} (screenshot: ${file})`);
  }
  if (hash !== "#/") await go(page, hash);
  return page;
}

async function go(page, hash) {
  await page.evaluate((h) => (location.hash = h), hash);
}

const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/** The admin API with a token (the admin's by default): GET without a body, POST with one. */
async function admin(p, body, token = edge.tokens.admin) {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  return edge.fetch(`/admin/v1/${p}`, body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) });
}

/** The bodies of the admin API POSTs a page sends, as they go. */
function posts(page) {
  const sent = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().includes("/admin/v1/")) sent.push({ path: new URL(r.url()).pathname, body: JSON.parse(r.postData() ?? "null") });
  });
  return sent;
}

test("the page is served with the policy, and signs in with the form", async () => {
  const res = await fetch(`${base}/console/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-security-policy") ?? "", /script-src 'self' 'wasm-unsafe-eval'/);
  const page = await newPage();
  await page.goto(`${base}/console/`);
  await page.getByLabel("Admin token").fill("0".repeat(64));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText(/refused the token \(401/).waitFor();
  await shot(page, "signin");
  await page.getByLabel("Admin token").fill(edge.tokens.admin);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Admin token").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await page.context().close();
});

test("signs in with the link's fragment and removes the token from the address", async () => {
  const page = await signedIn(edge.tokens.admin);
  assert.ok(!page.url().includes(edge.tokens.admin), page.url());
  assert.equal(await page.evaluate(() => sessionStorage.getItem("edgeprompt.console.token")), edge.tokens.admin);
  // The entry with the token was replaced, not followed: going back leaves the console.
  await page.goBack();
  assert.ok(!page.url().includes("token"), page.url());
  await page.context().close();
});

test("a whoami without an answer (or a 5xx) is tried three times, then Try again, keeping the token", async () => {
  const page = await newPage();
  let calls = 0;
  let down = true;
  await page.route("**/admin/v1/whoami", (r) => {
    calls++;
    if (!down) return r.continue();
    // First no answer at all, then a 503.
    return calls === 1 ? r.abort("connectionreset") : r.fulfill({ status: 503, contentType: "application/json", body: '{"error": {"code": "unavailable", "message": "down for a moment"}}' });
  });
  await page.goto(`${base}/console/#token=${edge.tokens.admin}`);
  await page.getByRole("heading", { name: "The admin API did not answer" }).waitFor();
  assert.equal(calls, 3);
  await page.getByText("(503 unavailable)", { exact: false }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("edgeprompt.console.token")), edge.tokens.admin);
  await shot(page, "whoami-unreachable");
  down = false;
  await page.getByRole("button", { name: "Try again" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  await page.context().close();
});

test("the overview lists the demo's prompts, labels and splits, then their metrics", async () => {
  const page = await signedIn(edge.tokens.admin);
  const support = page.locator("tr", { has: page.getByRole("rowheader", { name: /^support/ }) }).filter({ hasText: "production" });
  await support.getByText("v1 90%").waitFor();
  await support.getByText("v2 10%").waitFor();
  await support.getByText(/qa: forced units \(2\)/).waitFor();
  const summarize = page.locator("tr", { hasText: "summarize" });
  await summarize.getByText("version 1").waitFor();
  // The badges fill in after the table: no traffic yet.
  await support.getByText("no traffic").waitFor();
  await page.getByLabel("Filter").fill("summ");
  await page.getByText("1 of 3 shown").waitFor();
  await page.getByLabel("Filter").fill("");
  await shot(page, "overview");
  const phone = await signedIn(edge.tokens.admin, "#/", { width: 390, height: 844 });
  await phone.getByText("v1 90%").first().waitFor();
  await shot(phone, "overview-phone");
  await phone.context().close();
  await page.context().close();
});

test("the prompt page lists versions with hashes, and the diff shows the changed template lines", async () => {
  const page = await signedIn(edge.tokens.admin, "#/prompt/support");
  const v2 = page.locator("table.versions tr", { has: page.getByRole("rowheader", { name: "2", exact: true }) });
  await v2.getByText("production: split 10%").waitFor();
  await v2.getByText("production: rule qa").waitFor();
  await v2.getByText("staging: default").waitFor();
  // The console's hash equals the engine's (the edge's) for the version.
  const r = await edge.post("/v1/resolve", { prompt: "support", label: "staging", unit: "u", variables: { question: "q" }, track: false });
  await v2.locator("code[title]").waitFor();
  assert.equal(await v2.locator("code").getAttribute("title"), r.json.hash);
  await shot(page, "prompt");
  await go(page, "#/prompt/support/diff?a=1&b=2");
  // Version 2 adds a line to the system message and changes the model.
  await page.locator(".diff-ins", { hasText: "The customer is on the {{plan}} plan." }).first().waitFor();
  await page.locator(".diff-same", { hasText: "You are the support assistant of {{company}}. {{> tone}}" }).first().waitFor();
  await page.locator(".diff-del", { hasText: '"name": "gpt-4o-mini"' }).waitFor();
  await page.getByRole("heading", { name: /tone: version 1 → version 2/ }).waitFor();
  await page.locator(".diff-ins", { hasText: '"name": "gpt-4o"' }).waitFor();
  await shot(page, "diff");
  await page.context().close();
});

test("the preview renders what /v1/resolve serves for the same unit, attributes and variables", async () => {
  const page = await signedIn(edge.tokens.admin, "#/prompt/support/preview?label=production&unit=user-42");
  const variables = { question: "Where is my order?", plan: "pro" };
  const attributes = { app_version: "2.4.0" };
  await page.getByLabel("Variables (JSON)").fill(JSON.stringify(variables));
  await page.getByLabel("Attributes (JSON)").fill(JSON.stringify(attributes));
  for (const unit of ["user-42", "qa-alice", "user-7"]) {
    await page.getByLabel("Unit", { exact: true }).fill(unit);
    const edgeSays = (await edge.post("/v1/resolve", { prompt: "support", unit, attributes, variables, track: false })).json;
    await page.getByTestId("pv-rule").filter({ hasText: edgeSays.rule }).waitFor();
    const shown = await page.getByTestId("pv-messages").locator("li").evaluateAll((lis) =>
      lis.map((li) => ({ role: li.querySelector(".role").textContent, content: li.querySelector(".content").textContent })),
    );
    assert.equal(Number(await page.getByTestId("pv-version").textContent()), edgeSays.version, unit);
    assert.deepEqual(shown, edgeSays.messages, unit);
  }
  // Old apps are pinned to version 1 by a rule.
  await page.getByLabel("Attributes (JSON)").fill('{"app_version": "1.9.0"}');
  await page.getByTestId("pv-rule").filter({ hasText: "old-apps" }).waitFor();
  await shot(page, "preview");
  // A missing required variable is the engine's error, shown with its code.
  await page.getByRole("radio", { name: "A version" }).check();
  await page.getByLabel("Variables (JSON)").fill("{}");
  await page.getByText(/missing_variables/).waitFor();
  await page.getByText(/Missing variables: question/).waitFor();
  await page.context().close();
});

test("a split set to 80/20 is reviewed as the server's dry run, stored only when confirmed, and reaches the history and the edge", async () => {
  const page = await signedIn(edge.tokens.admin, "#/traffic/support/production");
  const sent = posts(page);
  const before = (await admin("manifest")).json.revision;
  const top = (await admin("history?limit=1")).json.revisions[0];
  await page.getByRole("radio", { name: "Split" }).check();
  await page.getByLabel("Version 1 (%)").fill("80");
  await page.getByLabel("Version 2 (%)").fill("20");
  await page.getByRole("button", { name: "Review the change" }).click();
  // The review is the server's answer: its summary, and the route after as it says.
  await page.getByRole("heading", { name: /Review: split support\/production: 1=80 2=20$/ }).waitFor();
  await page.getByText(`it would be stored as revision ${before + 1}`).waitFor();
  const after = page.locator(".before-after > div").filter({ has: page.getByRole("heading", { name: "After" }) });
  await after.getByText("v1 80%").waitFor();
  await after.getByText("v2 20%").waitFor();
  // The route line by line (the first diff; the changes path by path are folded below it).
  await page.locator(".diff-ins", { hasText: '"weight": 80' }).first().waitFor();
  assert.deepEqual(sent, [{ path: "/admin/v1/split", body: { base_revision: before, prompt: "support", label: "production", weights: { 1: 80, 2: 20 }, dry_run: true } }]);
  // Nothing is stored until confirmed.
  assert.equal((await admin("manifest")).json.revision, before);
  assert.deepEqual((await admin("history?limit=1")).json.revisions[0], top);
  await page.getByText(/Every change to the manifest, path by path \(1 path\)/).click();
  await page.locator("ul.changes code.path", { hasText: "prompts.support.labels.production.default" }).waitFor();
  await shot(page, "traffic-review");
  await page.getByRole("button", { name: "Confirm and send" }).click();
  await page.getByText(/Revision \d+: split support\/production: 1=80 2=20/).waitFor();
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1].body, { base_revision: before, prompt: "support", label: "production", weights: { 1: 80, 2: 20 } });
  await page.locator("table.route").getByText("v1 80%").waitFor();
  await shot(page, "traffic");
  const history = (await admin("history")).json;
  assert.match(history.revisions[0].summary, /split support\/production: 1=80 2=20/);
  assert.equal(history.revisions[0].revision, before + 1);
  assert.equal(history.revisions[0].actor, "admin");
  // The edge serves it: the clients' manifest carries the new weights.
  await waitFor("the edge to serve 80/20", async () => {
    const m = (await edge.fetch("/v1/manifest")).json;
    const split = m?.prompts?.support?.labels?.production?.default?.split;
    return split && split[0].weight === 80 && split[1].weight === 20;
  }, 30_000);
  await page.context().close();
});

test("a change raced by another shows the 409 and recovers after a reload", async () => {
  const page = await signedIn(edge.tokens.admin, "#/traffic/support/production");
  await page.getByRole("radio", { name: "Ramp" }).check();
  await page.getByLabel("To (%)").fill("30");
  await page.getByRole("button", { name: "Review the change" }).click();
  await page.getByRole("heading", { name: /Review: ramp support\/production/ }).waitFor();
  // Someone else changes the manifest meanwhile.
  const auth = { authorization: `Bearer ${edge.tokens.admin}` };
  const live = (await edge.fetch("/admin/v1/manifest", { headers: auth })).json;
  const other = await edge.post("/admin/v1/promote", { base_revision: live.revision, prompt: "summarize", label: "production", version: 1 }, { headers: auth });
  assert.equal(other.status, 200, other.text);
  await page.getByRole("button", { name: "Confirm and send" }).click();
  await page.getByText(/Someone changed the manifest meanwhile \(409 conflict\)/).waitFor();
  await shot(page, "traffic-409");
  await page.getByRole("button", { name: "Reload and review again" }).click();
  await page.getByText(`Based on revision ${live.revision + 1}.`).waitFor();
  await page.getByRole("button", { name: "Confirm and send" }).click();
  await page.getByText(/ramp support\/production: version 2 to 30% \(was 20%\)/).waitFor();
  // The page reloads the route (and a new form) after the change.
  await page.locator("table.route").getByText("v2 30%").waitFor();
  // A refused dry run shows the server's reasons, and nothing can be sent.
  const top = (await admin("history?limit=1")).json.revisions[0];
  await page.getByRole("radio", { name: "Ramp" }).check();
  await page.getByLabel("To (%)").fill("10");
  await page.getByRole("button", { name: "Review the change" }).click();
  await page.getByRole("heading", { name: "Review: ramp support/production: version 2 to 10%" }).waitFor();
  await page.getByText(/The server refused the change: it would be invalid \(422 invalid_change\)/).waitFor();
  await page.getByText(/version 2 already has 30%; a ramp only raises a share/).waitFor();
  assert.equal(await page.getByRole("button", { name: "Confirm and send" }).count(), 0);
  assert.deepEqual((await admin("history?limit=1")).json.revisions[0], top);
  await shot(page, "traffic-422");
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("button", { name: "Review the change" }).waitFor();
  await page.context().close();
});

test("after exposures and outcomes, the metrics page shows the counts and intervals", async () => {
  const n = 60;
  const events = [];
  const auth = { authorization: `Bearer ${edge.tokens.admin}` };
  // Exposures count in the weights period of the route the edge serves: wait until it
  // serves the live revision (the ramp above started a new period).
  const live = (await edge.fetch("/admin/v1/manifest", { headers: auth })).json.revision;
  await waitFor("the edge to serve the live revision", async () => (await edge.fetch("/v1/status")).json?.revision === live, 30_000);
  for (let i = 0; i < n; i++) {
    const r = await edge.post("/v1/resolve", { prompt: "support", unit: `m-${i}`, attributes: { app_version: "2.4.0" }, variables: { question: "hi" } });
    assert.equal(r.status, 200, r.text);
    events.push({ token: r.json.token, metric: "resolved", value: i % 3 !== 0 });
    events.push({ token: r.json.token, metric: "latency_ms", value: 500 + 7 * i });
  }
  // At most 100 events per request.
  for (let i = 0; i < events.length; i += 100) {
    const ev = await edge.post("/v1/events", { events: events.slice(i, i + 100) });
    assert.equal(ev.status, 202, ev.text);
  }
  const report = await waitFor("the events in the metrics", async () => {
    const m = (await edge.fetch("/admin/v1/metrics/support?label=production", { headers: auth })).json;
    const exposed = m.versions.reduce((a, v) => a + v.exposed_units, 0);
    const values = m.versions.reduce((a, v) => a + v.metrics.latency_ms.values, 0);
    return exposed >= n && values >= n ? m : null;
  }, 60_000);
  const page = await signedIn(edge.tokens.admin, "#/metrics/support/production");
  for (const v of report.versions) {
    await page.getByTestId(`exposed-${v.version}`).filter({ hasText: String(v.exposed_units) }).waitFor();
  }
  const withData = report.versions.find((v) => v.metrics.resolved.ci);
  const ci = await page.getByTestId(`ci-resolved-${withData.version}`).textContent();
  assert.match(ci, /^\[\d+(\.\d+)?%, \d+(\.\d+)?%\]$/);
  // The charts are drawn by Observable Plot, without the <style> elements it makes.
  await page.locator("svg.ep-plot").first().waitFor();
  assert.equal(await page.locator(".chart-box style").count(), 0);
  await page.getByText("Over time").first().waitFor();
  // The running difference's last hour is the report's difference, computed in the
  // browser from the hourly series as the server computes its report.
  const candidate = report.versions.find((v) => v.version !== report.control && v.metrics.resolved.diff);
  if (candidate) {
    const resolved = page.locator("section.metric", { has: page.getByRole("heading", { name: /^resolved/ }) });
    await resolved.getByText("As a table").click();
    const last = resolved.locator("details tbody tr", { hasText: `v${candidate.version} − v${report.control}` }).last();
    const shown = await resolved.locator("table.metric-table tr", { has: page.getByRole("rowheader", { name: String(candidate.version), exact: true }) }).locator("td").nth(5).textContent();
    assert.equal((await last.locator("td").nth(4).textContent()).trim(), shown.replace(/\s*(better|worse|not clear yet)$/, "").trim());
  }
  await shot(page, "metrics");
  await go(page, "#/metrics/support/production?period=all");
  await page.getByText("every weights period").waitFor();
  await page.getByText(/Sample-ratio check: only for the current weights period/).waitFor();
  // The overview's units (fetched again when it is shown again).
  await go(page, "#/");
  const total = report.versions.reduce((a, v) => a + v.exposed_units, 0);
  await page.locator("tr", { hasText: "support" }).filter({ hasText: "production" }).getByRole("link", { name: String(total), exact: true }).waitFor();
  await page.context().close();
});

test("the history lists revisions with their changes, and restores a route", async () => {
  const page = await signedIn(edge.tokens.admin, "#/history");
  const split = page.locator("tr", { hasText: "split support/production: 1=80 2=20" });
  await split.getByRole("button", { name: "Show changes" }).click();
  await page.locator(".diff-ins", { hasText: '"weight": 80' }).first().waitFor();
  await shot(page, "history");
  // Restore the production route as it was before the split (the revision before it).
  const rev = Number(await split.locator("th").textContent());
  const auth = { authorization: `Bearer ${edge.tokens.admin}` };
  await go(page, `#/history/${rev - 1}`);
  const row = page.locator("tr", { has: page.getByRole("rowheader", { name: String(rev - 1), exact: true }) });
  await row.getByRole("button", { name: "Hide changes" }).waitFor();
  await page.getByLabel("Restore the route of").selectOption(JSON.stringify(["support", "production"]));
  await page.getByRole("button", { name: "Review restoring this route" }).click();
  await page.getByRole("heading", { name: new RegExp(`Review: rollback of support/production to revision ${rev - 1}`) }).waitFor();
  await page.getByRole("button", { name: "Confirm and send" }).click();
  await page.getByText(new RegExp(`rollback of support/production to revision ${rev - 1}`)).last().waitFor();
  const live = (await edge.fetch("/admin/v1/manifest", { headers: auth })).json;
  assert.deepEqual(live.prompts.support.labels.production.default, demoManifest().prompts.support.labels.production.default);
  await page.context().close();
});

test("promote, then roll back to the last single-version route, from the console", async () => {
  const auth = { authorization: `Bearer ${edge.tokens.admin}` };
  const page = await signedIn(edge.tokens.admin, "#/traffic/support/production");
  const sent = posts(page);
  await page.getByRole("radio", { name: "Promote" }).check();
  await page.getByLabel("Version", { exact: true }).selectOption("2");
  await page.getByRole("button", { name: "Review the change" }).click();
  await page.getByRole("heading", { name: "Review: promote support/production to version 2" }).waitFor();
  await page.getByRole("button", { name: "Confirm and send" }).click();
  await page.getByText(/promote support\/production to version 2 \(revision (\d+)\)/).waitFor();
  const promoted = (await edge.fetch("/admin/v1/manifest", { headers: auth })).json.revision;
  // Someone splits it again; the rollback finds the promoted route.
  const split = await edge.post("/admin/v1/split", { base_revision: promoted, prompt: "support", label: "production", weights: { 1: 50, 2: 50 } }, { headers: auth });
  assert.equal(split.status, 200, split.text);
  await page.getByRole("button", { name: "Reload" }).click();
  await page.locator("table.route").getByText("v1 50%").waitFor();
  await page.getByRole("radio", { name: "Roll back" }).check();
  await page.getByRole("button", { name: "Review the change" }).click();
  // The server found the route to restore; the review shows it from the dry run.
  await page.getByRole("heading", { name: `Review: rollback of support/production to revision ${promoted}` }).waitFor();
  await page.getByText("The server found the revision to restore").waitFor();
  const restored = page.locator(".before-after > div").filter({ has: page.getByRole("heading", { name: "After" }) });
  await restored.getByText("default: version 2").waitFor();
  await page.getByRole("button", { name: "Confirm and send" }).click();
  await page.getByText(new RegExp(`rollback of support/production to revision ${promoted}`)).last().waitFor();
  // No revision was named: the server restores what its dry run showed.
  const rollbacks = sent.filter((r) => r.path === "/admin/v1/rollback");
  assert.deepEqual(rollbacks.map((r) => r.body), [
    { base_revision: promoted + 1, prompt: "support", label: "production", dry_run: true },
    { base_revision: promoted + 1, prompt: "support", label: "production" },
  ]);
  const live = (await edge.fetch("/admin/v1/manifest", { headers: auth })).json;
  assert.deepEqual(live.prompts.support.labels.production.default, { version: 2 });
  await shot(page, "traffic-rollback");
  await page.context().close();
});

/** Publishes a prompt with two versions whose production label serves version 1 (the demo declares `resolved`). */
async function publishTwoVersions(name) {
  const live = (await admin("manifest")).json;
  const r = await admin("publish", {
    base_revision: live.revision,
    sources: { prompts: [{ name, versions: [{ text: "Hi" }, { text: "Hello" }], labels: { production: { default: { version: 1 } } } }] },
  });
  assert.equal(r.status, 200, r.text);
  return r.json.revision;
}

/** `n` new units resolve `prompt` at production (tracked); 60% of them, either version, report `resolved`. Returns how many did. */
async function traffic(prompt, n, tag) {
  const tokens = [];
  for (let i = 0; i < n; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, n - i) }, async (_, j) => {
        const r = await edge.post("/v1/resolve", { prompt, unit: `${tag}-${i + j}` });
        assert.equal(r.status, 200, r.text);
        return r.json;
      }),
    );
    tokens.push(...batch);
  }
  const events = tokens.map((d, i) => ({ token: d.token, metric: "resolved", value: i % 5 < 3 })).filter((e) => e.value);
  for (let i = 0; i < events.length; i += 100) {
    const r = await edge.post("/v1/events", { events: events.slice(i, i + 100) });
    assert.equal(r.status, 202, r.text);
  }
  return events.length;
}

test("a guarded rollout started from the traffic page: the server's refusal per field, its page, the overview's badge, manual changes refused", async () => {
  await publishTwoVersions("greet");
  const page = await signedIn(edge.tokens.admin, "#/traffic/greet/production");
  await page.getByRole("heading", { name: "Start a guarded rollout" }).waitFor();
  // A plan the server refuses: its reason is shown at the field it names, and nothing starts.
  await page.getByLabel("Stages (candidate's %)").fill("1, 50, 10, 100");
  await page.getByLabel("Watch resolved").check();
  await page.getByRole("button", { name: "Start the rollout" }).click();
  await page.locator("#ro-stages-e", { hasText: "plan.stages[2]: 10 does not increase on 50 (422 invalid_plan)" }).waitFor();
  assert.equal(await page.getByLabel("Stages (candidate's %)").getAttribute("aria-describedby"), "ro-stages-e");
  assert.equal((await admin("rollouts/greet/production")).status, 404);
  await shot(page, "rollout-start-422");
  await page.getByLabel("Stages (candidate's %)").fill("20, 50, 100");
  await page.getByLabel("Minimum candidate units per stage").fill("20");
  await page.getByLabel("Minimum minutes per stage").fill("0");
  await page.getByRole("button", { name: "Start the rollout" }).click();
  // The rollout's page: running at its first stage.
  await page.getByRole("heading", { name: /^greet\/production rollout running$/ }).waitFor();
  await page.getByTestId("rollout-status").getByText("running · stage 1 of 3 (20%)").waitFor();
  const started = (await admin("rollouts/greet/production")).json;
  assert.equal(started.status, "running");
  assert.deepEqual(started.plan.stages, [20, 50, 100]);
  assert.deepEqual(started.plan.guardrails, [{ metric: "resolved", max_regression: 0 }]);
  const stage1 = page.getByTestId("rollout-stages").locator("li").first();
  await stage1.getByText("Stage 1 · 20%").waitFor();
  await stage1.getByRole("link", { name: `revision ${started.stages[0].revision}` }).waitFor();
  await page.getByTestId("rollout-plan").getByText("20% → 50% → 100%").waitFor();
  await page.getByTestId("rollout-log").getByText(/rollout greet\/production: start, version 2 to 20%/).waitFor();
  // The traffic page says a rollout steers the label; a manual split is refused by the server's dry run.
  await go(page, "#/traffic/greet/production");
  await page.getByText("A guarded rollout steers this label").waitFor();
  assert.equal(await page.getByRole("heading", { name: "Start a guarded rollout" }).count(), 0);
  await page.getByRole("radio", { name: "Split" }).check();
  await page.getByLabel("Version 1 (%)").fill("50");
  await page.getByLabel("Version 2 (%)").fill("50");
  await page.getByRole("button", { name: "Review the change" }).click();
  await page.getByText("A guarded rollout steers this label (409 rollout_running)").waitFor();
  assert.equal(await page.getByRole("button", { name: "Confirm and send" }).count(), 0);
  await shot(page, "traffic-rollout-running");
  await page.getByRole("link", { name: "Open the rollout of greet/production" }).click();
  await page.getByRole("heading", { name: /^greet\/production rollout/ }).waitFor();
  // The overview's badge: the rollout's stage and percent, linking to its page.
  await go(page, "#/");
  const badge = page.locator("tr", { hasText: "greet" }).getByRole("link", { name: "rollout: stage 1, 20%" });
  await badge.waitFor();
  assert.equal(await badge.getAttribute("href"), "#/rollout/greet/production");
  await page.context().close();
});

test("check now shows the controller's decision; with traffic the rollout advances and its guardrail's interval is drawn", async () => {
  const page = await signedIn(edge.tokens.admin, "#/rollout/greet/production");
  await page.getByRole("button", { name: "Check now" }).click();
  await page.getByText(/^Checked: hold\. stage 1 \(20%\) holds/).waitFor();
  const decision = page.getByTestId("rollout-decision");
  await decision.getByText("hold", { exact: true }).waitFor();
  assert.equal(await decision.getByTestId("decision-reason").textContent(), (await admin("rollouts/greet/production")).json.last_decision.reason);
  // Traffic in the first stage's period: the edge must serve the rollout's revision first.
  const live = (await admin("manifest")).json.revision;
  await waitFor("the edge to serve the rollout's revision", async () => (await edge.fetch("/v1/status")).json?.revision === live, 30_000);
  const resolved = await traffic("greet", 200, "ro");
  await waitFor("the rollout's units and outcomes in the metrics", async () => {
    const m = await admin("metrics/greet?label=production");
    if (m.status !== 200) return false;
    const sum = (f) => m.json.versions.reduce((a, v) => a + f(v), 0);
    return sum((v) => v.exposed_units) >= 200 && sum((v) => v.metrics.resolved?.count ?? 0) >= resolved;
  }, 60_000, 300);
  await page.getByRole("button", { name: "Check now" }).click();
  await page.getByText(/^Checked: advance\. stage 1 -> 2 \(50%\)/).waitFor();
  await page.getByTestId("rollout-status").getByText("running · stage 2 of 3 (50%)").waitFor();
  const after = (await admin("rollouts/greet/production")).json;
  assert.equal(after.last_decision.action, "advance");
  assert.equal(await decision.getByTestId("decision-reason").textContent(), after.last_decision.reason);
  const stage2 = page.getByTestId("rollout-stages").locator("li").nth(1);
  await stage2.getByText("now").waitFor();
  await stage2.getByRole("link", { name: `revision ${after.stages[1].revision}` }).waitFor();
  // The guardrail's always-valid interval at the advancing check, drawn (without Plot's <style>) and as a table.
  const g = after.checks.at(-1).evidence.guardrails[0];
  assert.ok(g.ci, JSON.stringify(g));
  const section = page.getByTestId("guardrail-resolved");
  await section.locator("svg.ep-plot").waitFor();
  assert.equal(await section.locator("style").count(), 0);
  await section.getByText("As a table").click();
  const row = section.locator("table.guardrail-table tbody tr");
  assert.equal(await row.count(), 1);
  await row.getByText("advance").waitFor();
  assert.match(await row.locator("td").nth(3).textContent(), /^[+−±]?\d.* pp$/);
  // A second check holds (the new stage has no units yet): two points over time, and
  // the sample-ratio checks of both stages' periods.
  await page.getByRole("button", { name: "Check now" }).click();
  await page.getByText(/^Checked: hold\. stage 2 \(50%\) holds/).waitFor();
  await section.locator("table.guardrail-table tbody tr").nth(1).waitFor();
  await page.locator("table.srm-table tbody tr").nth(1).waitFor();
  await shot(page, "rollout");
  await page.context().close();
});

test("pause, resume and abort from the console; a read-only token sees the rollout without its controls", async () => {
  const page = await signedIn(edge.tokens.admin, "#/rollout/greet/production");
  await page.getByRole("button", { name: "Pause" }).click();
  await page.getByText("Paused: the rollout does not advance until resumed.").waitFor();
  await page.getByRole("heading", { name: /^greet\/production rollout paused$/ }).waitFor();
  assert.equal((await admin("rollouts/greet/production")).json.status, "paused");
  await go(page, "#/");
  await page.locator("tr", { hasText: "greet" }).getByRole("link", { name: "rollout paused: stage 2, 50%" }).waitFor();
  // A read-only token: the same page, no control (here on a phone's width: nothing but
  // the tables scrolls sideways).
  const viewer = await signedIn(edge.tokens.viewer, "#/rollout/greet/production", { width: 390, height: 844 });
  await viewer.getByRole("heading", { name: /^greet\/production rollout paused$/ }).waitFor();
  await viewer.getByTestId("guardrail-resolved").locator("svg.ep-plot").waitFor();
  await viewer.getByTestId("rollout-log").getByText("pause", { exact: true }).waitFor();
  for (const name of ["Pause", "Resume", "Check now", "Abort…"]) assert.equal(await viewer.getByRole("button", { name }).count(), 0, name);
  assert.ok(await viewer.evaluate(() => document.documentElement.scrollWidth <= innerWidth), "the page fits a phone's width");
  await shot(viewer, "readonly-rollout-phone");
  await viewer.context().close();
  await go(page, "#/rollout/greet/production");
  await page.getByRole("button", { name: "Resume" }).click();
  await page.getByRole("heading", { name: /^greet\/production rollout running$/ }).waitFor();
  // Abort asks first; "Keep it" keeps it.
  await page.getByRole("button", { name: "Abort…" }).click();
  await page.getByText("Abort the rollout of greet/production?").waitFor();
  await page.getByRole("button", { name: "Keep it" }).click();
  assert.equal((await admin("rollouts/greet/production")).json.status, "running");
  await page.getByRole("button", { name: "Abort…" }).click();
  await page.getByRole("button", { name: "Abort the rollout" }).click();
  await page.getByRole("heading", { name: /^greet\/production rollout aborted$/ }).waitFor();
  await page.getByTestId("rollout-status").getByText(/aborted · the label keeps its split \(version 2 at 50%\)/).waitFor();
  for (const name of ["Pause", "Resume", "Check now", "Abort…"]) assert.equal(await page.getByRole("button", { name }).count(), 0, name);
  const ended = (await admin("rollouts/greet/production")).json;
  assert.equal(ended.status, "aborted");
  assert.deepEqual(ended.log.map((l) => l.action), ["start", "advance", "pause", "resume", "abort"]);
  assert.deepEqual((await admin("manifest")).json.prompts.greet.labels.production.default.split, [{ version: 1, weight: 50 }, { version: 2, weight: 50 }]);
  await page.context().close();
});

test("a read-only token sees every page and no write control; a write through the API is refused with 403", async () => {
  const page = await signedIn(edge.tokens.viewer, "#/traffic/support/production");
  await page.getByText("read-only", { exact: true }).waitFor();
  await page.locator("table.route").waitFor();
  assert.equal(await page.getByRole("button", { name: "Review the change" }).count(), 0);
  await page.getByText(/This token is read-only/).waitFor();
  await go(page, "#/history");
  await page.getByRole("button", { name: "Show changes" }).first().click();
  await page.getByText(/Changes from revision/).waitFor();
  assert.equal(await page.getByRole("button", { name: "Review restoring this route" }).count(), 0);
  await go(page, "#/metrics/support/production");
  await page.getByRole("heading", { name: "support/production metrics" }).waitFor();
  await go(page, "#/prompt/support/preview?version=1");
  await page.getByTestId("pv-messages").waitFor();
  const refused = await page.evaluate(async (token) => {
    const r = await fetch("/admin/v1/promote", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ base_revision: 1, prompt: "support", label: "production", version: 2 }),
    });
    return { status: r.status, body: await r.json() };
  }, edge.tokens.viewer);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, "forbidden");
  await shot(page, "readonly-preview");
  await page.context().close();
  // Were the console told the token could write, the server's 403 is shown, the write
  // controls go, and the sign-in form is one click away.
  const fooled = await newPage();
  await fooled.route("**/admin/v1/whoami", (r) => r.fulfill({ status: 200, contentType: "application/json", body: '{"name": "viewer", "scope": "rw"}' }));
  await fooled.goto(`${base}/console/#token=${edge.tokens.viewer}`);
  await go(fooled, "#/traffic/support/production");
  await fooled.getByRole("radio", { name: "Promote" }).check();
  await fooled.getByRole("button", { name: "Review the change" }).click();
  // The dry run is checked as the change: the server's 403 comes with the review.
  await fooled.getByText(/This token is read-only \(403 forbidden\)/).waitFor();
  assert.equal(await fooled.getByRole("button", { name: "Confirm and send" }).count(), 0);
  await fooled.getByText("read-only", { exact: true }).waitFor();
  await fooled.getByRole("button", { name: "Sign in with another token" }).click();
  await fooled.getByLabel("Admin token").waitFor();
  await fooled.getByText(/sign in with a read-write token/).waitFor();
  await fooled.context().close();
});

// Promotion gates (issue 22): on prompts of their own, published here, so that the tests
// above do not depend on them.

test("an rw+approve token writes: it is not read-only", async () => {
  const page = await signedIn(edge.tokens.approver, "#/traffic/summarize/production");
  await page.getByText("read-write + approve", { exact: true }).waitFor();
  await page.getByRole("button", { name: "Review the change" }).waitFor();
  assert.equal(await page.getByText(/This token is read-only/).count(), 0);
  await page.context().close();
});

/** Records an eval report for `prompt`'s content `hash` (version `version`): one passing case, and one failing unless `passed`. */
async function postReport(prompt, version, hash, passed) {
  const result = (name, ok, reason) => ({
    prompt, suite: "basic", suite_file: `prompts/${prompt}/evals/basic.json`, suite_hash: "b".repeat(64), case: name, version, hash, label: null, unit: null, rule: null,
    result: ok ? "pass" : "fail", error: null, model: null, cached: null,
    assertions: [{ type: ok ? "contains" : "regex", role: null, result: ok ? "pass" : "fail", reason }],
  });
  const results = [result("greets", true, null), ...(passed ? [] : [result("is polite", false, "no match for /please/")])];
  const r = await admin("evals", {
    schema: 1, passed, created_at: new Date().toISOString(), client: { name: "edgeprompt", version: "0.1.0" },
    source: { kind: "local", dir: ".", url: null, revision: null, version: null, label: null }, model: null,
    summary: { cases: results.length, passed: passed ? results.length : 1, failed: passed ? 0 : 1, errors: 0, skipped_assertions: 0 },
    suites: [], versions: [{ prompt, version, hash, passed, cases: results.length, failed: passed ? 0 : 1, errors: 0, skipped_assertions: 0, suites: [], models: [] }], results,
  });
  assert.equal(r.status, 201, r.text);
  return r.json.id;
}

/** The console's content hash of a version, from the prompt page (equal to the engine's: tested above). */
async function versionHash(page, prompt, version) {
  await go(page, `#/prompt/${prompt}`);
  const row = page.locator("table.versions tr", { has: page.getByRole("rowheader", { name: String(version), exact: true }) });
  await row.locator("code[title]").waitFor();
  return { row, hash: await row.locator("code").first().getAttribute("title") };
}

test("the prompt page shows each version's eval status from its latest report, and opens the report's cases", async () => {
  await publishTwoVersions("gated");
  const page = await signedIn(edge.tokens.admin);
  const { row, hash } = await versionHash(page, "gated", 2);
  await row.getByText("no report").waitFor();
  const failed = await postReport("gated", 2, hash, false);
  await go(page, "#/");
  const again = await versionHash(page, "gated", 2);
  const status = again.row.getByTestId("eval-status");
  await status.getByText("failed", { exact: true }).waitFor();
  await status.getByText("2 cases: 1 failed").waitFor();
  await status.getByText("admin", { exact: false }).waitFor();
  const v1 = page.locator("table.versions tr", { has: page.getByRole("rowheader", { name: "1", exact: true }) });
  await v1.getByText("no report").waitFor();
  await shot(page, "prompt-evals");
  await status.getByRole("link", { name: `Open eval report #${failed}` }).click();
  await page.getByRole("heading", { name: `Eval report #${failed} failed` }).waitFor();
  const cases = page.getByTestId("eval-cases");
  const polite = cases.locator("tr", { has: page.getByRole("rowheader", { name: "is polite" }) });
  await polite.getByText("no match for /please/").waitFor();
  await polite.getByText("regex").waitFor();
  await cases.locator("tr", { has: page.getByRole("rowheader", { name: "greets" }) }).getByText("pass", { exact: true }).first().waitFor();
  await shot(page, "eval-report");
  // A later passing report is the one shown.
  const passed = await postReport("gated", 2, hash, true);
  const latest = await versionHash(page, "gated", 2);
  await latest.row.getByTestId("eval-status").getByText("passed", { exact: true }).waitFor();
  await latest.row.getByRole("link", { name: `Open eval report #${passed}` }).waitFor();
  await latest.row.getByText("(2 reports)").waitFor();
  await page.context().close();
});

test("a change to a label that requires an approval becomes pending; the requester can withdraw it, an approver approves it and the route changes", async () => {
  const set = await admin("policies", { prompt: "gated", label: "production", policy: { require_approval: true, approval_expires_hours: 24 } });
  assert.equal(set.status, 200, set.text);
  const before = (await admin("manifest")).json;
  const page = await signedIn(edge.tokens.admin, "#/traffic/gated/production");
  const policy = page.getByTestId("policy");
  await policy.getByRole("heading", { name: /^Protection/ }).waitFor();
  await policy.getByText(/an approval by another person with an rw\+approve token \(a request expires after 1 d\)/).waitFor();
  await page.getByRole("radio", { name: "Promote" }).check();
  await page.getByLabel("Version", { exact: true }).selectOption("2");
  await page.getByRole("button", { name: "Review the change" }).click();
  await page.getByText("This change will need approval").waitFor();
  await shot(page, "traffic-needs-approval");
  await page.getByRole("button", { name: "Send for approval" }).click();
  const sent = page.locator(".notice", { hasText: /Sent for approval as change #\d+/ }).first();
  await sent.waitFor();
  const pending = (await admin("changes?state=pending")).json.changes;
  assert.equal(pending.length, 1, JSON.stringify(pending));
  const id = pending[0].id;
  assert.equal(pending[0].requested_by, "admin");
  assert.match(await sent.textContent(), new RegExp(`change #${id}\\b`));
  // Nothing changed yet.
  assert.deepEqual((await admin("manifest")).json.prompts.gated.labels.production, before.prompts.gated.labels.production);
  // The header counts it; the overview marks the label.
  await page.getByRole("link", { name: "Changes 1 pending" }).waitFor();
  await go(page, "#/");
  const row = page.locator("tr", { has: page.getByRole("rowheader", { name: /^gated/ }) });
  await row.getByText("protected", { exact: true }).waitFor();
  assert.match(await row.getByText("protected", { exact: true }).getAttribute("title"), /needs an approval/);
  await row.getByRole("link", { name: "1 pending" }).click();
  // The requester sees Withdraw, and no Approve.
  const mine = page.getByTestId(`change-${id}`);
  await mine.getByRole("button", { name: "Withdraw" }).waitFor();
  assert.equal(await mine.getByRole("button", { name: "Approve" }).count(), 0);
  await mine.locator(".change-meta", { hasText: "requested by admin" }).waitFor();
  // An approver approves it from the changes page; the server's dry run shows what it does first.
  const approver = await signedIn(edge.tokens.approver, "#/changes");
  const card = approver.getByTestId(`change-${id}`);
  const after = card.locator(".before-after > div").filter({ has: approver.getByRole("heading", { name: "After" }) });
  await after.getByText("default: version 2").waitFor();
  await shot(approver, "changes");
  await card.getByRole("button", { name: "Approve" }).click();
  await approver.getByText(new RegExp(`Change #${id} approved and applied: revision \\d+`)).waitFor();
  assert.deepEqual((await admin("manifest")).json.prompts.gated.labels.production.default, { version: 2 });
  const decided = approver.getByTestId("decided").locator("tr", { has: approver.getByRole("rowheader", { name: String(id), exact: true }) });
  await decided.getByText("applied", { exact: true }).waitFor();
  await decided.getByText("approver", { exact: true }).waitFor();
  await approver.context().close();
  await page.context().close();
});

test("a rejected change shows its reason; the server's refusal of an approval shows its code", async () => {
  const live = (await admin("manifest")).json.revision;
  const asked = await admin("split", { base_revision: live, prompt: "gated", label: "production", weights: { 1: 50, 2: 50 } });
  assert.equal(asked.status, 202, asked.text);
  const id = asked.json.pending.id;
  // The requester may not approve their own change: the server says so (a token of rw+approve would be refused the same way).
  const own = await admin(`changes/${id}/approve`, {});
  assert.equal(own.status, 403, own.text);
  const page = await signedIn(edge.tokens.approver, `#/changes/${id}`);
  const card = page.getByTestId(`change-${id}`);
  await card.locator(".before-after").getByText("v1 50%").waitFor();
  await card.getByLabel("Reason (optional)").fill("not during the launch");
  await card.getByRole("button", { name: "Reject" }).click();
  await page.getByText(`Change #${id} rejected: not during the launch.`).waitFor();
  const row = page.getByTestId("decided").locator("tr", { has: page.getByRole("rowheader", { name: String(id), exact: true }) });
  await row.getByText("rejected", { exact: true }).waitFor();
  await row.getByText("not during the launch").waitFor();
  assert.equal((await admin(`changes/${id}`)).json.reason, "not during the launch");
  assert.deepEqual((await admin("manifest")).json.prompts.gated.labels.production.default, { version: 2 });
  await shot(page, "changes-rejected");
  await page.context().close();
});

test("approving a change whose label moved meanwhile shows 409 label_moved; reloaded, the change is failed", async () => {
  const live = (await admin("manifest")).json.revision;
  const asked = await admin("split", { base_revision: live, prompt: "gated", label: "production", weights: { 1: 30, 2: 70 } });
  assert.equal(asked.status, 202, asked.text);
  const id = asked.json.pending.id;
  const page = await signedIn(edge.tokens.approver, `#/changes/${id}`);
  const card = page.getByTestId(`change-${id}`);
  await card.getByRole("button", { name: "Approve" }).waitFor();
  // A rollback is never held: it moves the label under the pending change.
  const promoted = (await admin("changes?state=applied")).json.changes.find((c) => c.prompt === "gated" && c.op === "promote");
  const rollback = await admin("rollback", { base_revision: live, prompt: "gated", label: "production", to_revision: promoted.base_revision });
  assert.equal(rollback.status, 200, rollback.text);
  await card.getByRole("button", { name: "Approve" }).click();
  await card.getByText(/The label changed since the request.*\(409 label_moved\)/).waitFor();
  await shot(page, "changes-label-moved");
  await card.getByRole("button", { name: "Reload the changes" }).click();
  const row = page.getByTestId("decided").locator("tr", { has: page.getByRole("rowheader", { name: String(id), exact: true }) });
  await row.getByText("failed", { exact: true }).waitFor();
  assert.equal((await admin(`changes/${id}`)).json.state, "failed");
  await page.context().close();
});

test("a label that requires an eval or is frozen: the dry run's 412 lists the versions without a passing report, a 423 says which window", async () => {
  await publishTwoVersions("gated2");
  const set = await admin("policies", { prompt: "gated2", label: "production", policy: { require_eval: true } });
  assert.equal(set.status, 200, set.text);
  const page = await signedIn(edge.tokens.admin);
  const { hash } = await versionHash(page, "gated2", 2);
  await go(page, "#/traffic/gated2/production");
  await page.getByTestId("policy").getByText(/a passing eval report/).waitFor();
  await page.getByRole("radio", { name: "Promote" }).check();
  await page.getByLabel("Version", { exact: true }).selectOption("2");
  await page.getByRole("button", { name: "Review the change" }).click();
  await page.getByText(/has no passing eval report \(412 eval_required\)/).waitFor();
  await page.locator(".missing-evals").getByText(hash).waitFor();
  await page.getByText("edgeprompt eval --report").first().waitFor();
  assert.equal(await page.getByRole("button", { name: "Confirm and send" }).count(), 0);
  await shot(page, "traffic-412");
  await page.getByRole("button", { name: "Cancel" }).click();
  // Frozen now: the policy says so, and the dry run is refused with the window.
  const now = Date.now();
  const frozen = await admin("policies", {
    prompt: "gated2",
    label: "production",
    policy: { freeze: [{ start: new Date(now - 3_600_000).toISOString(), end: new Date(now + 3_600_000).toISOString(), note: "launch" }] },
  });
  assert.equal(frozen.status, 200, frozen.text);
  await page.getByRole("button", { name: "Reload" }).click();
  await page.getByTestId("policy").getByText(/Frozen now: .*launch/).waitFor();
  await page.getByRole("radio", { name: "Promote" }).check();
  await page.getByLabel("Version", { exact: true }).selectOption("2");
  await page.getByRole("button", { name: "Review the change" }).click();
  await page.getByText(/The label is frozen.*\(423 label_frozen\)/).waitFor();
  await page.getByText(/launch/).first().waitFor();
  await shot(page, "traffic-423");
  await go(page, "#/");
  const row = page.locator("tr", { has: page.getByRole("rowheader", { name: /^gated2/ }) });
  await row.getByText("frozen", { exact: true }).waitFor();
  await page.context().close();
});
