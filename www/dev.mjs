// A small development server for the console, until the Workers serve it: serves
// build-www/console/ at /console/ with the Content-Security-Policy the Workers send,
// and proxies /admin/v1/* (and /v1/*) to the local edge (scripts/run.sh).
//   node www/dev.mjs            http://127.0.0.1:8788/console/ -> edge on 127.0.0.1:8787
//   PORT=N EDGE=http://host:port node www/dev.mjs
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DIR = path.join(ROOT, "build-www", "console");

/** The policy the console is served with (the same as the Workers'). */
export const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

function proxy(EDGE, req, res) {
  const upstream = http.request(
    { host: EDGE.hostname, port: EDGE.port, path: req.url, method: req.method, headers: { ...req.headers, host: EDGE.host } },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on("error", (e) => {
    console.error(`www/dev.mjs: ${req.method} ${req.url}: the edge at ${EDGE.origin}: ${e.message}`);
    res.writeHead(502, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: "dev_proxy", message: `the edge at ${EDGE.origin}: ${e.message}`, details: null } }));
  });
  req.pipe(upstream);
}

function serveFile(req, res) {
  const url = new URL(req.url, "http://x");
  let rel = decodeURIComponent(url.pathname.slice("/console/".length)) || "index.html";
  const file = path.normalize(path.join(DIR, rel));
  if (!file.startsWith(DIR + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404, { "content-type": "text/plain" });
    return res.end("not found");
  }
  rel = path.relative(DIR, file);
  const headers = {
    "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    // index.html names hashed files: revalidate it, keep the rest.
    "cache-control": rel === "index.html" ? "no-cache" : "public, max-age=31536000, immutable",
  };
  res.writeHead(200, headers);
  fs.createReadStream(file).pipe(res);
}

/**
 * Starts the server on `port` (0: any free one) in front of the edge at `edge`;
 * resolves to the server (its address() names the port).
 */
export function startDevServer({ port = 8788, edge = "http://127.0.0.1:8787" } = {}) {
  const EDGE = new URL(edge);
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, "http://x").pathname;
    if (p.startsWith("/admin/v1/") || p.startsWith("/v1/")) return proxy(EDGE, req, res);
    if (p === "/" || p === "/console") {
      res.writeHead(302, { location: "/console/" });
      return res.end();
    }
    if (p.startsWith("/console/")) return serveFile(req, res);
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const edge = process.env.EDGE ?? "http://127.0.0.1:8787";
  const server = await startDevServer({ port: Number(process.env.PORT ?? 8788), edge });
  console.log(`www/dev.mjs: http://127.0.0.1:${server.address().port}/console/ (API proxied to ${edge})`);
}
