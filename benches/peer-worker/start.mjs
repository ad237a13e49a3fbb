// Starts the peer Worker in workerd as scripts/bench-edge.mjs starts ours: Miniflare,
// the worker's own direct socket on loopback (no entry worker in front), local KV with
// the manifest in our layout, the same secrets.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { build, OUTFILE } from "./build.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const NAME = "edgeprompt-peer";
// Our producer binding EVENTS_0's queue (wrangler.toml); the peer sends to one queue.
const QUEUE = "edgeprompt-events-0";

function compatibilityDate() {
  return fs.readFileSync(path.join(ROOT, "wrangler.toml"), "utf8").match(/^compatibility_date = "(.*)"$/m)[1];
}

/** Builds dist/worker.js when it is missing or older than worker.js. */
export async function ensureBuilt() {
  const src = fs.statSync(path.join(HERE, "worker.js")).mtimeMs;
  const out = fs.existsSync(OUTFILE) ? fs.statSync(OUTFILE).mtimeMs : 0;
  if (out < src) await build();
  return OUTFILE;
}

/**
 * Starts the peer with `manifest` in KV. `serverKey` goes into EDGE_KEYS (random when
 * omitted). `kvLayout`, optional: the KV entries to write instead of the whole-document
 * layout ({"manifest/<revision>": document, "manifest/current": "<revision>"}), as an
 * object or a function of the manifest. The peer reads the pointer's first token and
 * then `manifest/<revision>` as one whole document, whatever else is written.
 * Returns { url (the worker's direct socket origin), mf, serverKey, dispose() }.
 */
export async function startPeer({ manifest, serverKey = randomBytes(32).toString("hex"), kvLayout, kvPersist } = {}) {
  const scriptPath = await ensureBuilt();
  // `kvPersist`: a KV directory seeded earlier (kept on dispose); then `manifest` may be omitted.
  const persist = kvPersist ? null : fs.mkdtempSync(path.join(os.tmpdir(), "edgeprompt-peer-"));
  const mf = new Miniflare({
    name: NAME,
    modules: true,
    scriptPath,
    modulesRoot: path.dirname(scriptPath),
    compatibilityDate: compatibilityDate(),
    host: "127.0.0.1",
    port: 0,
    cf: false, // Miniflare's built-in request.cf (no download of cf.json)
    kvNamespaces: ["MANIFESTS"],
    kvPersist: kvPersist ?? path.join(persist, "kv"),
    queueProducers: { EVENTS: { queueName: QUEUE } },
    bindings: {
      EDGE_KEYS: `bench:${serverKey}`,
      EVENT_SIGNING_KEY: randomBytes(32).toString("hex"),
      UNIT_HASH_KEY: randomBytes(32).toString("hex"),
    },
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  });
  await mf.ready;
  const url = (await mf.unsafeGetDirectURL(NAME)).origin;
  const kv = await mf.getKVNamespace("MANIFESTS");
  const ours = manifest && { [`manifest/${manifest.revision}`]: JSON.stringify(manifest), "manifest/current": String(manifest.revision) };
  const entries = typeof kvLayout === "function" ? kvLayout(manifest) : (kvLayout ?? ours ?? {});
  // The document before the pointer, as the control plane writes them.
  for (const [k, v] of Object.entries(entries)) await kv.put(k, typeof v === "string" ? v : JSON.stringify(v));
  return {
    url,
    mf,
    serverKey,
    async dispose() {
      await mf.dispose();
      if (persist) fs.rmSync(persist, { recursive: true, force: true });
    },
  };
}
