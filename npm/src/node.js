// Node entry: the Wasm is read from disk and instantiated synchronously on import.
import { readFileSync } from "node:fs";
import { initSync } from "../pkg/edgeprompt.js";

initSync({ module: readFileSync(new URL("../pkg/edgeprompt_bg.wasm", import.meta.url)) });

export { Engine, EdgepromptError } from "./engine.js";
export { Client, createClient } from "./client.js";
export { loadFromKV } from "./kv.js";
/** Resolves once the Wasm is ready (already the case in Node). */
export const ready = () => Promise.resolve();
