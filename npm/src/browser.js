// Browser (and bundler) entry: the Wasm is fetched next to this module and
// instantiated once; `createClient` and `ready` wait for it.
import init from "../pkg/edgeprompt.js";
import { createClient as create } from "./client.js";

let loading = null;

/** Loads the Wasm once; pass a URL, Response or bytes to load it from elsewhere. */
export function ready(wasm) {
  loading ??= init({ module_or_path: wasm ?? new URL("../pkg/edgeprompt_bg.wasm", import.meta.url) });
  return loading.then(() => undefined);
}

/** Creates a client once the Wasm is ready. */
export async function createClient(opts) {
  await ready();
  return create(opts);
}

export { Engine, EdgepromptError } from "./engine.js";
export { Client } from "./client.js";
export { loadFromKV } from "./kv.js";
