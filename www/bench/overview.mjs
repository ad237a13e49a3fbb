// How fast the console's overview appears with many prompts: the real Workers in
// workerd (tests/edge/harness.mjs), N prompts published (each with two versions, a
// split and a rule on `production`, a `staging` label), headless Chromium opening
// /console/ signed in. For each fresh page (own context: nothing cached), the time from
// navigation start to the overview's table holding every label's row (the first view),
// and to every row's metrics badge filled in (each label's /admin/v1/metrics, four at
// a time). The baseline, measured in the same run: the two admin API calls the first
// view needs (manifest and labels), made from Node.
//   scripts/build-worker.sh edge && scripts/build-worker.sh control && scripts/build-console.sh && \
//     cargo build --bin edgeprompt && node www/bench/overview.mjs [prompts, default 200] [loads, default 7]
import { chromium } from "playwright-core";
import { startEdge } from "../../tests/edge/harness.mjs";

const PROMPTS = Number(process.argv[2] ?? 200);
const LOADS = Number(process.argv[3] ?? 7);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const edge = await startEdge();
const token = edge.tokens.admin;
const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
const prompts = Array.from({ length: PROMPTS }, (_, i) => ({
  name: `prompt-${String(i).padStart(3, "0")}`,
  description: `benchmark prompt ${i}`,
  versions: [
    { messages: [{ role: "system", content: `You help with topic ${i}.` }, { role: "user", content: "{{question}}" }], variables: { question: { required: true } } },
    { messages: [{ role: "system", content: `You help with topic ${i}, briefly.` }, { role: "user", content: "{{question}}" }], variables: { question: { required: true } } },
  ],
  labels: {
    production: {
      rules: [{ name: "beta", when: { attr: "plan", op: "eq", value: "beta" }, target: { version: 2 } }],
      default: { split: [{ version: 1, weight: 90 }, { version: 2, weight: 10 }] },
    },
    staging: { default: { version: 2 } },
  },
}));
const pub = await fetch(`${edge.url}/admin/v1/publish`, { method: "POST", headers, body: JSON.stringify({ base_revision: 0, sources: { prompts } }) });
if (pub.status !== 200) throw new Error(`publish: ${pub.status} ${await pub.text()}`);
const rows = PROMPTS * 2;

async function apiBaseline() {
  const t = performance.now();
  await Promise.all(["manifest", "labels"].map(async (p) => (await fetch(`${edge.url}/admin/v1/${p}`, { headers })).text()));
  return performance.now() - t;
}

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
async function load() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // Marks, in the page's own clock (0 = navigation start), when every row is drawn and
  // when every badge is filled.
  await page.addInitScript((want) => {
    const marks = (window.__marks = {});
    new MutationObserver(() => {
      const trs = document.querySelectorAll("table.overview tbody tr");
      if (marks.firstView === undefined && trs.length >= want) marks.firstView = performance.now();
      if (marks.firstView !== undefined && marks.badges === undefined) {
        const pending = [...trs].some((tr) => tr.textContent.includes("…"));
        if (!pending) marks.badges = performance.now();
      }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  }, rows);
  await page.goto(`${edge.url}/console/#token=${token}`);
  await page.waitForFunction(() => window.__marks.badges !== undefined, null, { timeout: 120_000 });
  const marks = await page.evaluate(() => window.__marks);
  await context.close();
  return marks;
}

const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const first = [], badges = [], api = [];
for (let i = 0; i < LOADS; i++) {
  api.push(await apiBaseline());
  const m = await load();
  first.push(m.firstView);
  badges.push(m.badges);
}
await browser.close();
await edge.stop();
console.log(`console overview, ${PROMPTS} prompts (${rows} labels), ${LOADS} fresh page loads, medians:`);
console.log(`| figure | ms | / baseline |`);
console.log(`|---|---|---|`);
console.log(`| baseline: GET /admin/v1/manifest + /labels from Node | ${med(api).toFixed(0)} | 1.00 |`);
console.log(`| first view: every row drawn (from navigation start) | ${med(first).toFixed(0)} | ${(med(first) / med(api)).toFixed(2)} |`);
console.log(`| every row's metrics badge filled | ${med(badges).toFixed(0)} | ${(med(badges) / med(api)).toFixed(2)} |`);
console.log(`all loads, first view: ${first.map((x) => x.toFixed(0)).join(" ")}; badges: ${badges.map((x) => x.toFixed(0)).join(" ")}`);
