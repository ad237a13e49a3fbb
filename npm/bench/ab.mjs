// Two builds of the package in one Node process, timed in alternating bursts (the load
// of a shared machine then hits both alike): the best microseconds per resolve+render
// of each, for compare.mjs's workload, with 5 scalar variables and with a list.
//   node npm/bench/ab.mjs OTHER_CHECKOUT [THIS_CHECKOUT]   (each with npm/pkg built)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const [other, mine = here] = process.argv.slice(2);
if (!other) throw new Error("usage: node npm/bench/ab.mjs OTHER_CHECKOUT [THIS_CHECKOUT]");
const { Engine: A } = await import(path.resolve(other, "npm/src/node.js"));
const { Engine: B } = await import(path.resolve(mine, "npm/src/node.js"));
const src = fs.readFileSync(path.join(here, "npm/bench/compare.mjs"), "utf8");
const system = eval(src.slice(src.indexOf("const system ="), src.indexOf("const user =")).replace("const system =", "(") .replace(/;\s*$/, ")"));
const manifest = { schema: 1, revision: 1, prompts: { support: {
  versions: [1, 2].map((version) => ({ version, messages: [{ role: "system", content: system }, { role: "user", content: "{{question}}" }],
    variables: Object.fromEntries(["company", "name", "plan", "language", "question", "items"].map((k) => [k, k === "items" ? { default: [] } : { required: true }])) })),
  labels: { production: { default: { split: [{ version: 1, weight: 90 }, { version: 2, weight: 10 }] } } } } } };
const vars = { company: "Acme", name: "Dana", plan: "pro", language: "English", question: "Where is my order 4417?" };
const structured = { ...vars, items: ["order 4417: shipped", "order 4420: processing", "return 88: open"] };
const engines = { other: new A(manifest), this: new B(manifest) };
const best = { other: [Infinity, Infinity], this: [Infinity, Infinity] };
const K = 20000;
for (let round = 0; round < 40; round++) {
  for (const name of round % 2 ? ["other", "this"] : ["this", "other"]) {
    const e = engines[name];
    [vars, structured].forEach((v, j) => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < K; i++) e.resolve({ prompt: "support", unit: "user-" + i, variables: v });
      const us = Number(process.hrtime.bigint() - t) / 1000 / K;
      best[name][j] = Math.min(best[name][j], us);
    });
  }
}
console.log(JSON.stringify(best));
