// Bundles the peer Worker with its npm dependencies (GrowthBook, mustache) into
// dist/worker.js: one ES module, minified, as `wrangler deploy` would ship it.
//
//   node benches/peer-worker/build.mjs
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const OUTFILE = path.join(HERE, "dist/worker.js");

export async function build() {
  await esbuild.build({
    entryPoints: [path.join(HERE, "worker.js")],
    outfile: OUTFILE,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    minify: true,
    // GrowthBook guards its debug logging with process.env.NODE_ENV (no `process` in a Worker).
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
  return OUTFILE;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await build();
  console.log(`built ${path.relative(process.cwd(), out)}`);
}
