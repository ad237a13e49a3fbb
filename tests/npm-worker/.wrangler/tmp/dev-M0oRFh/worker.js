var __defProp = Object.defineProperty;
var __name = (target, value) => __defProp(target, "name", { value, configurable: true });

// ../../npm/src/workerd.js
import wasm2 from "./67e17782df411494ef2290aad59142936b3e6566-edgeprompt_bg.wasm";

// ../../npm/pkg/edgeprompt.js
var Engine = class {
  static {
    __name(this, "Engine");
  }
  __destroy_into_raw() {
    const ptr = this.__wbg_ptr;
    this.__wbg_ptr = 0;
    EngineFinalization.unregister(this);
    return ptr;
  }
  free() {
    const ptr = this.__destroy_into_raw();
    wasm.__wbg_engine_free(ptr, 0);
  }
  /**
   * Parses, validates and compiles a manifest; throws `{code, message, problems}` as JSON text.
   * @param {string} manifest_json
   */
  constructor(manifest_json) {
    const ptr0 = passStringToWasm0(manifest_json, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
    const len0 = WASM_VECTOR_LEN;
    const ret = wasm.engine_new(ptr0, len0);
    if (ret[2]) {
      throw takeFromExternrefTable0(ret[1]);
    }
    this.__wbg_ptr = ret[0];
    EngineFinalization.register(this, this.__wbg_ptr, this);
    return this;
  }
  /**
   * Resolves a JSON request into the decision as JSON (or `!` and an error).
   * @param {string} request
   * @returns {string}
   */
  resolveJson(request) {
    let deferred2_0;
    let deferred2_1;
    try {
      const ptr0 = passStringToWasm0(request, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
      const len0 = WASM_VECTOR_LEN;
      const ret = wasm.engine_resolveJson(this.__wbg_ptr, ptr0, len0);
      deferred2_0 = ret[0];
      deferred2_1 = ret[1];
      return getStringFromWasm0(ret[0], ret[1]);
    } finally {
      wasm.__wbindgen_free(deferred2_0, deferred2_1, 1);
    }
  }
  /**
   * Resolves a packed request into a packed decision (or `!` and an error).
   * @param {string} request
   * @returns {string}
   */
  resolvePacked(request) {
    let deferred2_0;
    let deferred2_1;
    try {
      const ptr0 = passStringToWasm0(request, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
      const len0 = WASM_VECTOR_LEN;
      const ret = wasm.engine_resolvePacked(this.__wbg_ptr, ptr0, len0);
      deferred2_0 = ret[0];
      deferred2_1 = ret[1];
      return getStringFromWasm0(ret[0], ret[1]);
    } finally {
      wasm.__wbindgen_free(deferred2_0, deferred2_1, 1);
    }
  }
  /**
   * The manifest's revision.
   * @returns {number}
   */
  revision() {
    const ret = wasm.engine_revision(this.__wbg_ptr);
    return ret;
  }
  /**
   * What a decision carries that is fixed per version, as JSON:
   * `{model, tools, response_format, hash}`; empty when there is no such version.
   * @param {string} prompt
   * @param {number} version
   * @returns {string}
   */
  versionInfo(prompt, version) {
    let deferred2_0;
    let deferred2_1;
    try {
      const ptr0 = passStringToWasm0(prompt, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
      const len0 = WASM_VECTOR_LEN;
      const ret = wasm.engine_versionInfo(this.__wbg_ptr, ptr0, len0, version);
      deferred2_0 = ret[0];
      deferred2_1 = ret[1];
      return getStringFromWasm0(ret[0], ret[1]);
    } finally {
      wasm.__wbindgen_free(deferred2_0, deferred2_1, 1);
    }
  }
};
if (Symbol.dispose) Engine.prototype[Symbol.dispose] = Engine.prototype.free;
function __wbg_get_imports() {
  const import0 = {
    __proto__: null,
    __wbg___wbindgen_throw_41e9ee4f547fc59a: /* @__PURE__ */ __name(function(arg0, arg1) {
      throw new Error(getStringFromWasm0(arg0, arg1));
    }, "__wbg___wbindgen_throw_41e9ee4f547fc59a"),
    __wbindgen_generic_0000000000000001: /* @__PURE__ */ __name(function(arg0, arg1) {
      const ret = getStringFromWasm0(arg0, arg1);
      return ret;
    }, "__wbindgen_generic_0000000000000001"),
    __wbindgen_init_externref_table: /* @__PURE__ */ __name(function() {
      const table = wasm.__wbindgen_externrefs;
      const offset = table.grow(4);
      table.set(0, void 0);
      table.set(offset + 0, void 0);
      table.set(offset + 1, null);
      table.set(offset + 2, true);
      table.set(offset + 3, false);
    }, "__wbindgen_init_externref_table")
  };
  return {
    __proto__: null,
    "./edgeprompt_bg.js": import0
  };
}
__name(__wbg_get_imports, "__wbg_get_imports");
var EngineFinalization = typeof FinalizationRegistry === "undefined" ? { register: /* @__PURE__ */ __name(() => {
}, "register"), unregister: /* @__PURE__ */ __name(() => {
}, "unregister") } : new FinalizationRegistry((ptr) => wasm.__wbg_engine_free(ptr, 1));
function getStringFromWasm0(ptr, len) {
  return decodeText(ptr >>> 0, len);
}
__name(getStringFromWasm0, "getStringFromWasm0");
var cachedUint8ArrayMemory0 = null;
function getUint8ArrayMemory0() {
  if (cachedUint8ArrayMemory0 === null || cachedUint8ArrayMemory0.byteLength === 0) {
    cachedUint8ArrayMemory0 = new Uint8Array(wasm.memory.buffer);
  }
  return cachedUint8ArrayMemory0;
}
__name(getUint8ArrayMemory0, "getUint8ArrayMemory0");
function passStringToWasm0(arg, malloc, realloc) {
  if (realloc === void 0) {
    const buf = cachedTextEncoder.encode(arg);
    const ptr2 = malloc(buf.length, 1) >>> 0;
    getUint8ArrayMemory0().subarray(ptr2, ptr2 + buf.length).set(buf);
    WASM_VECTOR_LEN = buf.length;
    return ptr2;
  }
  let len = arg.length;
  let ptr = malloc(len, 1) >>> 0;
  const mem = getUint8ArrayMemory0();
  let offset = 0;
  for (; offset < len; offset++) {
    const code = arg.charCodeAt(offset);
    if (code > 127) break;
    mem[ptr + offset] = code;
  }
  if (offset !== len) {
    if (offset !== 0) {
      arg = arg.slice(offset);
    }
    ptr = realloc(ptr, len, len = offset + arg.length * 3, 1) >>> 0;
    const view = getUint8ArrayMemory0().subarray(ptr + offset, ptr + len);
    const ret = cachedTextEncoder.encodeInto(arg, view);
    offset += ret.written;
    ptr = realloc(ptr, len, offset, 1) >>> 0;
  }
  WASM_VECTOR_LEN = offset;
  return ptr;
}
__name(passStringToWasm0, "passStringToWasm0");
function takeFromExternrefTable0(idx) {
  const value = wasm.__wbindgen_externrefs.get(idx);
  wasm.__externref_table_dealloc(idx);
  return value;
}
__name(takeFromExternrefTable0, "takeFromExternrefTable0");
var cachedTextDecoder = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });
cachedTextDecoder.decode();
var MAX_SAFARI_DECODE_BYTES = 2146435072;
var numBytesDecoded = 0;
function decodeText(ptr, len) {
  numBytesDecoded += len;
  if (numBytesDecoded >= MAX_SAFARI_DECODE_BYTES) {
    cachedTextDecoder = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });
    cachedTextDecoder.decode();
    numBytesDecoded = len;
  }
  return cachedTextDecoder.decode(getUint8ArrayMemory0().subarray(ptr, ptr + len));
}
__name(decodeText, "decodeText");
var cachedTextEncoder = new TextEncoder();
if (!("encodeInto" in cachedTextEncoder)) {
  cachedTextEncoder.encodeInto = function(arg, view) {
    const buf = cachedTextEncoder.encode(arg);
    view.set(buf);
    return {
      read: arg.length,
      written: buf.length
    };
  };
}
var WASM_VECTOR_LEN = 0;
var wasmModule;
var wasmInstance;
var wasm;
function __wbg_finalize_init(instance, module) {
  wasmInstance = instance;
  wasm = instance.exports;
  wasmModule = module;
  cachedUint8ArrayMemory0 = null;
  wasm.__wbindgen_start();
  return wasm;
}
__name(__wbg_finalize_init, "__wbg_finalize_init");
function initSync(module) {
  if (wasm !== void 0) return wasm;
  if (module !== void 0) {
    if (Object.getPrototypeOf(module) === Object.prototype) {
      ({ module } = module);
    } else {
      console.warn("using deprecated parameters for `initSync()`; pass a single object instead");
    }
  }
  const imports = __wbg_get_imports();
  if (!(module instanceof WebAssembly.Module)) {
    module = new WebAssembly.Module(module);
  }
  const instance = new WebAssembly.Instance(module, imports);
  return __wbg_finalize_init(instance, module);
}
__name(initSync, "initSync");

// ../../npm/src/engine.js
var SEP = "\0";
var EdgepromptError = class extends Error {
  static {
    __name(this, "EdgepromptError");
  }
  constructor(code, message, details) {
    super(message);
    this.name = "EdgepromptError";
    this.code = code;
    if (details !== void 0) this.details = details;
  }
};
function fromEngine(text) {
  let e;
  try {
    e = JSON.parse(text);
  } catch {
    return new EdgepromptError("internal", String(text));
  }
  const err = new EdgepromptError(e.code, e.message);
  if (e.problems) err.problems = e.problems;
  return err;
}
__name(fromEngine, "fromEngine");
function packValue(v) {
  switch (typeof v) {
    case "string":
      return v.includes(SEP) ? null : "s" + v;
    case "number":
      return Number.isFinite(v) ? "n" + String(v) : "z";
    case "boolean":
      return v ? "t" : "f";
    case "object":
      if (v === null) return "z";
      v = JSON.stringify(v);
      if (v === void 0) return void 0;
      return v.includes("\\u0000") ? null : "j" + v;
    case "undefined":
    case "function":
    case "symbol":
      return void 0;
    default:
      return null;
  }
}
__name(packValue, "packValue");
function packObject(o) {
  if (o === void 0 || o === null) return "0";
  if (typeof o !== "object" || Array.isArray(o)) return null;
  let n = 0;
  let s = "";
  for (const k of Object.keys(o)) {
    const t = packValue(o[k]);
    if (t === void 0) continue;
    if (t === null || k.includes(SEP)) return null;
    s += SEP + k + SEP + t;
    n++;
  }
  return n + s;
}
__name(packObject, "packObject");
function pack(req) {
  const { prompt, label, unit } = req;
  if (typeof prompt !== "string" || typeof unit !== "string") return null;
  if (label !== void 0 && label !== null && (typeof label !== "string" || label === "")) return null;
  if (prompt.includes(SEP) || unit.includes(SEP) || label && label.includes(SEP)) return null;
  const a = packObject(req.attributes);
  if (a === null) return null;
  const v = packObject(req.variables);
  if (v === null) return null;
  return prompt + SEP + (label ?? "") + SEP + unit + SEP + a + SEP + v;
}
__name(pack, "pack");
function deepFreeze(v) {
  if (v && typeof v === "object") {
    for (const k of Object.keys(v)) deepFreeze(v[k]);
    Object.freeze(v);
  }
  return v;
}
__name(deepFreeze, "deepFreeze");
var Engine2 = class {
  static {
    __name(this, "Engine");
  }
  #wasm;
  #jsonOnly;
  #info = /* @__PURE__ */ new Map();
  constructor(manifest) {
    const text = typeof manifest === "string" ? manifest : JSON.stringify(manifest);
    try {
      this.#wasm = new Engine(text);
    } catch (e) {
      throw typeof e === "string" ? fromEngine(e) : e;
    }
    this.#jsonOnly = text.includes("\\u0000");
    this.revision = this.#wasm.revision();
  }
  /** Assigns the unit to a version and renders it: the same decision as the edge's. */
  resolve(req) {
    const packed = this.#jsonOnly ? null : pack(req);
    if (packed === null) return this.#resolveJson(req);
    const out = this.#wasm.resolvePacked(packed);
    if (out.charCodeAt(0) === 33) throw fromEngine(out.slice(1));
    return this.#decision(req.prompt, out);
  }
  #resolveJson(req) {
    const { prompt, label, unit, attributes, variables } = req ?? {};
    let text;
    try {
      text = JSON.stringify({ prompt, label, unit, attributes, variables });
    } catch (e) {
      throw new EdgepromptError("invalid_request", `invalid request: ${e.message}`);
    }
    const out = this.#wasm.resolveJson(text);
    if (out.charCodeAt(0) === 33) throw fromEngine(out.slice(1));
    return JSON.parse(out);
  }
  #decision(prompt, out) {
    const f = out.split(SEP);
    const version = +f[0];
    const key = prompt + SEP + f[0];
    let info = this.#info.get(key);
    if (info === void 0) {
      info = deepFreeze(JSON.parse(this.#wasm.versionInfo(prompt, version)));
      this.#info.set(key, info);
    }
    const d = { prompt, label: f[4], version, rule: f[3], bucket: +f[1] };
    if (f[5] === "t") {
      d.text = f.length === 7 ? f[6] : f.slice(6).join(SEP);
    } else {
      const messages = [];
      for (let i = 6; i < f.length; i += 2) messages.push({ role: f[i], content: f[i + 1] });
      d.messages = messages;
    }
    d.model = info.model;
    d.tools = info.tools;
    d.response_format = info.response_format;
    d.revision = this.revision;
    d.hash = info.hash;
    return d;
  }
  /** Frees the compiled manifest's Wasm memory; the engine cannot be used afterwards. */
  free() {
    this.#wasm.free();
  }
};

// ../../npm/src/kv.js
var POINTER = "manifest/current";
var cache = /* @__PURE__ */ new WeakMap();
async function loadFromKV(kv, { refreshIntervalMs = 1e4, now = Date.now } = {}) {
  let c = cache.get(kv);
  if (c === void 0) {
    c = { engine: null, checkedAt: -Infinity, pending: null, lastError: null };
    cache.set(kv, c);
  }
  if (c.engine && now() - c.checkedAt < refreshIntervalMs) return c.engine;
  if (!c.pending) {
    c.pending = refresh(kv, c, now).finally(() => c.pending = null);
  }
  if (c.engine) {
    c.pending.catch(() => {
    });
    return c.engine;
  }
  await c.pending;
  return c.engine;
}
__name(loadFromKV, "loadFromKV");
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
      const engine = new Engine2(text);
      if (engine.revision !== rev) {
        throw new EdgepromptError("invalid_manifest", `manifest/${rev} holds revision ${engine.revision}`);
      }
      c.engine = engine;
    }
    c.checkedAt = now();
    c.lastError = null;
  } catch (e) {
    c.lastError = e;
    c.checkedAt = now();
    if (!c.engine) throw e;
  }
}
__name(refresh, "refresh");

// ../../npm/src/workerd.js
initSync({ module: wasm2 });

// ../../npm/test/golden.mjs
function checkGolden(Engine3, manifest, cases) {
  const engine = new Engine3(manifest);
  const failures = [];
  for (const c of cases) {
    let got;
    try {
      got = { decision: engine.resolve(c.request) };
    } catch (e) {
      got = { error: { code: e.code, message: e.message } };
    }
    const a = JSON.stringify(sortKeys(got));
    const b = JSON.stringify(sortKeys(c.expected));
    if (a !== b) failures.push({ name: c.name, got: a, expected: b });
  }
  return { total: cases.length, failures };
}
__name(checkGolden, "checkGolden");
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  }
  return v;
}
__name(sortKeys, "sortKeys");

// worker.js
var worker_default = {
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/golden" && request.method === "POST") {
        const { manifest, cases } = await request.json();
        return Response.json(checkGolden(Engine2, manifest, cases));
      }
      if (url.pathname === "/resolve" && request.method === "POST") {
        const engine = await loadFromKV(env.MANIFESTS, { refreshIntervalMs: 100 });
        return Response.json({ revision: engine.revision, decision: engine.resolve(await request.json()) });
      }
      if (url.pathname === "/healthz") return new Response("ok");
      return new Response("not found", { status: 404 });
    } catch (e) {
      return Response.json({ error: { code: e.code ?? "internal", message: e.message } }, { status: 500 });
    }
  }
};

// ../../node_modules/wrangler/templates/middleware/middleware-ensure-req-body-drained.ts
var drainBody = /* @__PURE__ */ __name(async (request, env, _ctx, middlewareCtx) => {
  try {
    return await middlewareCtx.next(request, env);
  } finally {
    try {
      if (request.body !== null && !request.bodyUsed) {
        const reader = request.body.getReader();
        while (!(await reader.read()).done) {
        }
      }
    } catch (e) {
      console.error("Failed to drain the unused request body.", e);
    }
  }
}, "drainBody");
var middleware_ensure_req_body_drained_default = drainBody;

// ../../node_modules/wrangler/templates/middleware/middleware-miniflare3-json-error.ts
function reduceError(e) {
  return {
    name: e?.name,
    message: e?.message ?? String(e),
    stack: e?.stack,
    cause: e?.cause === void 0 ? void 0 : reduceError(e.cause)
  };
}
__name(reduceError, "reduceError");
var jsonError = /* @__PURE__ */ __name(async (request, env, _ctx, middlewareCtx) => {
  try {
    return await middlewareCtx.next(request, env);
  } catch (e) {
    const error = reduceError(e);
    return Response.json(error, {
      status: 500,
      headers: { "MF-Experimental-Error-Stack": "true" }
    });
  }
}, "jsonError");
var middleware_miniflare3_json_error_default = jsonError;

// .wrangler/tmp/bundle-OsB44v/middleware-insertion-facade.js
var __INTERNAL_WRANGLER_MIDDLEWARE__ = [
  middleware_ensure_req_body_drained_default,
  middleware_miniflare3_json_error_default
];
var middleware_insertion_facade_default = worker_default;

// ../../node_modules/wrangler/templates/middleware/common.ts
var __facade_middleware__ = [];
function __facade_register__(...args) {
  __facade_middleware__.push(...args.flat());
}
__name(__facade_register__, "__facade_register__");
function __facade_invokeChain__(request, env, ctx, dispatch, middlewareChain) {
  const [head, ...tail] = middlewareChain;
  const middlewareCtx = {
    dispatch,
    next(newRequest, newEnv) {
      return __facade_invokeChain__(newRequest, newEnv, ctx, dispatch, tail);
    }
  };
  return head(request, env, ctx, middlewareCtx);
}
__name(__facade_invokeChain__, "__facade_invokeChain__");
function __facade_invoke__(request, env, ctx, dispatch, finalMiddleware) {
  return __facade_invokeChain__(request, env, ctx, dispatch, [
    ...__facade_middleware__,
    finalMiddleware
  ]);
}
__name(__facade_invoke__, "__facade_invoke__");

// .wrangler/tmp/bundle-OsB44v/middleware-loader.entry.ts
var __Facade_ScheduledController__ = class ___Facade_ScheduledController__ {
  constructor(scheduledTime, cron, noRetry) {
    this.scheduledTime = scheduledTime;
    this.cron = cron;
    this.#noRetry = noRetry;
  }
  static {
    __name(this, "__Facade_ScheduledController__");
  }
  #noRetry;
  noRetry() {
    if (!(this instanceof ___Facade_ScheduledController__)) {
      throw new TypeError("Illegal invocation");
    }
    this.#noRetry();
  }
};
function wrapExportedHandler(worker) {
  if (__INTERNAL_WRANGLER_MIDDLEWARE__ === void 0 || __INTERNAL_WRANGLER_MIDDLEWARE__.length === 0) {
    return worker;
  }
  for (const middleware of __INTERNAL_WRANGLER_MIDDLEWARE__) {
    __facade_register__(middleware);
  }
  const fetchDispatcher = /* @__PURE__ */ __name(function(request, env, ctx) {
    if (worker.fetch === void 0) {
      throw new Error("Handler does not export a fetch() function.");
    }
    return worker.fetch(request, env, ctx);
  }, "fetchDispatcher");
  return {
    ...worker,
    fetch(request, env, ctx) {
      const dispatcher = /* @__PURE__ */ __name(function(type, init) {
        if (type === "scheduled" && worker.scheduled !== void 0) {
          const controller = new __Facade_ScheduledController__(
            Date.now(),
            init.cron ?? "",
            () => {
            }
          );
          return worker.scheduled(controller, env, ctx);
        }
      }, "dispatcher");
      return __facade_invoke__(request, env, ctx, dispatcher, fetchDispatcher);
    }
  };
}
__name(wrapExportedHandler, "wrapExportedHandler");
function wrapWorkerEntrypoint(klass) {
  if (__INTERNAL_WRANGLER_MIDDLEWARE__ === void 0 || __INTERNAL_WRANGLER_MIDDLEWARE__.length === 0) {
    return klass;
  }
  for (const middleware of __INTERNAL_WRANGLER_MIDDLEWARE__) {
    __facade_register__(middleware);
  }
  return class extends klass {
    #fetchDispatcher = /* @__PURE__ */ __name((request, env, ctx) => {
      this.env = env;
      this.ctx = ctx;
      if (super.fetch === void 0) {
        throw new Error("Entrypoint class does not define a fetch() function.");
      }
      return super.fetch(request);
    }, "#fetchDispatcher");
    #dispatcher = /* @__PURE__ */ __name((type, init) => {
      if (type === "scheduled" && super.scheduled !== void 0) {
        const controller = new __Facade_ScheduledController__(
          Date.now(),
          init.cron ?? "",
          () => {
          }
        );
        return super.scheduled(controller);
      }
    }, "#dispatcher");
    fetch(request) {
      return __facade_invoke__(
        request,
        this.env,
        this.ctx,
        this.#dispatcher,
        this.#fetchDispatcher
      );
    }
  };
}
__name(wrapWorkerEntrypoint, "wrapWorkerEntrypoint");
var WRAPPED_ENTRY;
if (typeof middleware_insertion_facade_default === "object") {
  WRAPPED_ENTRY = wrapExportedHandler(middleware_insertion_facade_default);
} else if (typeof middleware_insertion_facade_default === "function") {
  WRAPPED_ENTRY = wrapWorkerEntrypoint(middleware_insertion_facade_default);
}
var middleware_loader_entry_default = WRAPPED_ENTRY;
export {
  __INTERNAL_WRANGLER_MIDDLEWARE__,
  middleware_loader_entry_default as default
};
//# sourceMappingURL=worker.js.map
