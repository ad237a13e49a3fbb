// JavaScript Workers entry (workerd): the Wasm is a static module import, compiled at
// deploy time, and instantiated synchronously.
import wasm from "../pkg/edgeprompt_bg.wasm";
import { initSync } from "../pkg/edgeprompt.js";

initSync({ module: wasm });

export { Engine, EdgepromptError } from "./engine.js";
export { Client, createClient } from "./client.js";
export { loadFromKV } from "./kv.js";
/** Resolves once the Wasm is ready (already the case in a Worker). */
export const ready = () => Promise.resolve();
