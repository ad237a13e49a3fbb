// For JavaScript Workers: the manifest read from a Workers KV binding (the edge's
// layout: `manifest/current` holds the live revision, `manifest/<rev>` its document),
// compiled once and cached in the isolate.
import { Engine, EdgepromptError } from "./engine.js";

const POINTER = "manifest/current";
const cache = new WeakMap(); // KV binding -> {engine, checkedAt}

/**
 * The engine for the manifest a KV namespace serves. Within `refreshIntervalMs` of
 * the last check (default 10 s) it answers from the isolate; after that it re-reads
 * the pointer and only a new revision is fetched and compiled. A failed read or an
 * invalid document keeps the last good engine; with none, it throws. Pass the request's
 * `ctx` (anything with `waitUntil`) to revalidate after the response instead of before.
 */
export async function loadFromKV(kv, { refreshIntervalMs = 10_000, now = Date.now, ctx } = {}) {
  let c = cache.get(kv);
  if (c === undefined) {
    c = { engine: null, checkedAt: -Infinity };
    cache.set(kv, c);
  }
  if (c.engine && now() - c.checkedAt < refreshIntervalMs) return c.engine;
  // Workers cannot share a pending KV read between requests, so each stale request
  // revalidates on its own; checkedAt moves first so that only one does.
  if (c.engine && ctx?.waitUntil) {
    c.checkedAt = now();
    ctx.waitUntil(refresh(kv, c, now).catch(() => {}));
    return c.engine;
  }
  await refresh(kv, c, now);
  return c.engine;
}

async function refresh(kv, c, now) {
  try {
    const pointer = await kv.get(POINTER, { type: "text" });
    const rev = Number(pointer);
    if (pointer === null || !Number.isSafeInteger(rev) || rev < 1) {
      throw new EdgepromptError("no_manifest", `${POINTER} is ${pointer === null ? "missing" : JSON.stringify(pointer)}`);
    }
    if (!c.engine || rev > c.engine.revision) {
      const text = await kv.get(`manifest/${rev}`, { type: "text" });
      if (text === null) throw new EdgepromptError("no_manifest", `manifest/${rev} is missing`);
      const engine = new Engine(text);
      if (engine.revision !== rev) {
        throw new EdgepromptError("invalid_manifest", `manifest/${rev} holds revision ${engine.revision}`);
      }
      c.engine = engine;
    }
    c.checkedAt = now();
  } catch (e) {
    c.checkedAt = now(); // retried after the interval, not on every request
    if (!c.engine) throw e;
  }
}
