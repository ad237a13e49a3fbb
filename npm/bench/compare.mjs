// edgeprompt's local resolve+render against the JavaScript route a user would take
// instead (GrowthBook's SDK for the 90/10 assignment, `mustache` for rendering), in
// one Node process, on the same ~1 KB chat template with 5 variables.
//
//   scripts/build-npm.sh && node npm/bench/compare.mjs [iterations per round, default 200000]
import fs from "node:fs";
import zlib from "node:zlib";
import { GrowthBook } from "@growthbook/growthbook";
import Mustache from "mustache";
import { Engine } from "edgeprompt";

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = 5;

const system =
  "You are the support assistant of {{company}}. You answer questions from {{name}}, a customer on the {{plan}} plan, " +
  "in {{language}}. Be concise, friendly and precise. Never invent order numbers, prices, delivery dates or policies: " +
  "when you do not know, say so and offer to hand the conversation to a human colleague. Customers on the pro plan " +
  "may ask for priority shipping and extended returns; customers on the free plan may not, but you may explain how to " +
  "upgrade. Keep answers under 120 words unless the customer asks for detail. Use short paragraphs and, when you list " +
  "steps, number them. Do not use markdown headings. If the customer is upset, acknowledge it once, then focus on the " +
  "fix. If the question is about a refund, check the order date first: refunds are possible within 30 days. If the " +
  "question is about privacy or account deletion, point to the privacy page and never ask for passwords. Sign off " +
  "with the company name only when the conversation ends.{{#items}}\n- {{.}}{{/items}}";
const user = "{{question}}";
const vars = { company: "Acme", name: "Dana", plan: "pro", language: "English", question: "Where is my order 4417?" };
const structured = { ...vars, items: ["order 4417: shipped", "order 4420: processing", "return 88: open"] };
const manifest = {
  schema: 1,
  revision: 1,
  prompts: {
    support: {
      versions: [1, 2].map((version) => ({
        version,
        messages: [
          { role: "system", content: version === 1 ? system : system.replace("concise", "brief") },
          { role: "user", content: user },
        ],
        model: { provider: "openai", name: "gpt-4o-mini", params: { temperature: 0.2 } },
        variables: Object.fromEntries(["company", "name", "plan", "language", "question", "items"].map((k) => [k, k === "items" ? { default: [] } : { required: true }])),
      })),
      labels: { production: { default: { split: [{ version: 1, weight: 90 }, { version: 2, weight: 10 }] } } },
    },
  },
};

const engine = new Engine(manifest);
const edgeprompt = (unit, variables) => engine.resolve({ prompt: "support", unit, variables });

// The JS route: GrowthBook assigns (a 90/10 experiment on the unit id), mustache renders
// the chosen version's messages verbatim (no HTML escaping, like edgeprompt).
Mustache.escape = (s) => s;
const versions = manifest.prompts.support.versions;
const experiment = { key: "support-production", variations: [1, 2], weights: [0.9, 0.1] };
const js = (unit, variables) => {
  const gb = new GrowthBook({ attributes: { id: unit } });
  const { value } = gb.run(experiment);
  const v = versions[value - 1];
  return { version: value, messages: v.messages.map((m) => ({ role: m.role, content: Mustache.render(m.content, variables) })), model: v.model };
};

// Both routes must do the same work: same rendered text for the same version.
for (const f of [edgeprompt, js]) {
  const d = f("user-1", structured);
  if (!d.messages[0].content.includes("- return 88: open") || d.messages[1].content !== vars.question) throw new Error("routes differ");
}
let split = 0;
for (let i = 0; i < 20_000; i++) split += edgeprompt(`user-${i}`, vars).version === 2;
if (Math.abs(split / 20_000 - 0.1) > 0.01) throw new Error(`split ${split / 20_000}`);

function measure(f, variables) {
  const units = Array.from({ length: 1024 }, (_, i) => `user-${i}`);
  let sink = 0;
  const times = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) sink += f(units[i & 1023], variables).version;
    times.push(Number(process.hrtime.bigint() - t0) / N);
  }
  if (sink === 0) throw new Error("unreachable");
  times.sort((a, b) => a - b);
  return times[Math.floor(ROUNDS / 2)]; // ns per resolve+render, median round
}

const rows = [];
for (const [name, variables] of [["5 scalar variables", vars], ["plus a list variable (structured)", structured]]) {
  measure(edgeprompt, variables); // warm-up
  measure(js, variables);
  const ep = measure(edgeprompt, variables);
  const gb = measure(js, variables);
  rows.push(`| ${name} | ${(ep / 1000).toFixed(2)} us (${Math.round(1e9 / ep).toLocaleString("en")}/s) | ${(gb / 1000).toFixed(2)} us (${Math.round(1e9 / gb).toLocaleString("en")}/s) | **${(ep / gb).toFixed(2)}** |`);
}
const wasm = fs.readFileSync(new URL("../pkg/edgeprompt_bg.wasm", import.meta.url));
console.log(`Node ${process.version}, ${N} resolves per round, median of ${ROUNDS} rounds, template ${system.length + user.length} chars`);
console.log("| variables | edgeprompt (Wasm, packed crossing) | GrowthBook + mustache | ratio edgeprompt / JS |");
console.log("|---|---|---|---|");
for (const r of rows) console.log(r);
console.log(`\npackage Wasm: ${wasm.length} bytes raw, ${zlib.gzipSync(wasm, { level: 9 }).length} bytes gzipped (-9)`);
