// Builds the web console into build-www/console/: the ES module entry and its chunks
// (esbuild, code splitting: Observable Plot and the engine load only on the pages that
// use them), the style sheet, index.html naming the hashed files, and the npm package's
// Wasm for the preview. Works offline; needs `npm ci` and npm/pkg/ (scripts/build-npm.sh).
//   node www/build.mjs [--watch] [--dev]   (--dev: no minification, source maps)
import * as esbuild from "esbuild";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = path.join(ROOT, "build-www", "console");
const WASM = path.join(ROOT, "npm", "pkg", "edgeprompt_bg.wasm");
const args = new Set(process.argv.slice(2));
const dev = args.has("--dev") || args.has("--watch");

if (!fs.existsSync(WASM) || !fs.existsSync(path.join(ROOT, "npm", "pkg", "edgeprompt.js"))) {
  console.error("www/build.mjs: npm/pkg/ is missing: run scripts/build-npm.sh first (the preview runs the npm package's Wasm)");
  process.exit(1);
}

// index.html names the hashed entry and style sheet (so they can be cached for good
// while index.html is revalidated). Absolute /console/ URLs: the page also works when
// opened as /console without the trailing slash. No inline script or style: the page
// is served with a strict Content-Security-Policy.
function writeIndex(metafile) {
  const outputs = Object.entries(metafile.outputs);
  const entry = outputs.find(([, o]) => o.entryPoint === "www/src/main.tsx");
  const css = outputs.find(([file, o]) => file.endsWith(".css") && o.entryPoint === "www/src/console.css");
  if (!entry || !css) throw new Error("www/build.mjs: the entry or the style sheet is missing from the build");
  const url = (file) => "/console/" + path.relative(OUT, path.join(ROOT, file)).split(path.sep).join("/");
  // The entry's static imports (shared chunks) are fetched with it, not after it.
  const preloads = entry[1].imports
    .filter((i) => i.kind === "import-statement")
    .map((i) => `<link rel="modulepreload" href="${url(i.path)}">\n`)
    .join("");
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>edgeprompt console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${url(css[0])}">
${preloads}<script type="module" src="${url(entry[0])}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading the console…</p></div>
<noscript>The edgeprompt console needs JavaScript.</noscript>
</body>
</html>
`;
  fs.writeFileSync(path.join(OUT, "index.html"), html);
}

const options = {
  absWorkingDir: ROOT,
  entryPoints: ["www/src/main.tsx", "www/src/console.css"],
  outdir: OUT,
  outbase: "www/src",
  bundle: true,
  splitting: true,
  format: "esm",
  target: ["es2022", "chrome110", "firefox115", "safari16"],
  platform: "browser",
  // The npm package's browser entry (package.json "exports" condition `browser`).
  conditions: ["browser"],
  entryNames: "[name]-[hash]",
  // Chunks sit beside the entry: new URL("edgeprompt_bg.wasm", import.meta.url) then
  // names the Wasm from whichever file the preview code lands in.
  chunkNames: "[name]-[hash]",
  assetNames: "assets/[name]-[hash]",
  jsx: "automatic",
  jsxImportSource: "preact",
  minify: !dev,
  sourcemap: dev ? "linked" : false,
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
  define: { "process.env.NODE_ENV": dev ? '"development"' : '"production"' },
};

// Files of an earlier build are removed only after the new ones are written, so that a
// server watching the directory (wrangler dev) never finds it without an index.html.
function removeStale(metafile) {
  const keep = new Set(["index.html", "edgeprompt_bg.wasm", ...Object.keys(metafile.outputs).map((f) => path.relative(OUT, path.join(ROOT, f)))]);
  for (const f of fs.readdirSync(OUT, { recursive: true })) {
    const full = path.join(OUT, f);
    if (fs.statSync(full).isFile() && !keep.has(String(f))) fs.rmSync(full);
  }
}

fs.mkdirSync(OUT, { recursive: true });
fs.copyFileSync(WASM, path.join(OUT, "edgeprompt_bg.wasm"));

if (args.has("--watch")) {
  const ctx = await esbuild.context({
    ...options,
    plugins: [{ name: "index", setup: (b) => b.onEnd((r) => r.metafile && (writeIndex(r.metafile), removeStale(r.metafile))) }],
  });
  await ctx.watch();
  console.log("www/build.mjs: watching www/src, writing build-www/console/");
} else {
  const result = await esbuild.build(options);
  writeIndex(result.metafile);
  removeStale(result.metafile);
  const sizes = Object.entries(result.metafile.outputs)
    .filter(([f]) => !f.endsWith(".map") && !f.endsWith(".txt"))
    .map(([f, o]) => `${path.relative(OUT, path.join(ROOT, f))} ${o.bytes} B`);
  console.log(`www/build.mjs: build-www/console/: index.html, edgeprompt_bg.wasm, ${sizes.join(", ")}`);
}
