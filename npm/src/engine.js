// The engine: the Rust decision engine compiled to Wasm, with the lean per-resolve
// crossing (one packed string each way; see src/packed.rs in the repository).
import { Engine as WasmEngine } from "../pkg/edgeprompt.js";

const SEP = "\0";

/** An error from edgeprompt, with a stable `code` (`unknown_prompt`, `missing_variables`...). */
export class EdgepromptError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = "EdgepromptError";
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

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

// A value's packed form, or null when the value needs the JSON path; undefined skips
// the key (as JSON.stringify does).
function packValue(v) {
  switch (typeof v) {
    case "string":
      return v.includes(SEP) ? null : "s" + v;
    case "number":
      // JSON.stringify turns NaN and the infinities into null.
      return Number.isFinite(v) ? "n" + String(v) : "z";
    case "boolean":
      return v ? "t" : "f";
    case "object":
      if (v === null) return "z";
      v = JSON.stringify(v);
      // A NUL inside a structured value could reach the rendered output.
      if (v === undefined) return undefined;
      return v.includes("\\u0000") ? null : "j" + v;
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    default:
      return null; // bigint: JSON.stringify throws; the JSON path reports it.
  }
}

function packObject(o) {
  if (o === undefined || o === null) return "0";
  if (typeof o !== "object" || Array.isArray(o)) return null;
  let n = 0;
  let s = "";
  for (const k of Object.keys(o)) {
    const t = packValue(o[k]);
    if (t === undefined) continue;
    if (t === null || k.includes(SEP)) return null;
    s += SEP + k + SEP + t;
    n++;
  }
  return n + s;
}

function pack(req) {
  const { prompt, label, unit } = req;
  if (typeof prompt !== "string" || typeof unit !== "string") return null;
  if (label !== undefined && label !== null && (typeof label !== "string" || label === "")) return null;
  if (prompt.includes(SEP) || unit.includes(SEP) || (label && label.includes(SEP))) return null;
  const a = packObject(req.attributes);
  if (a === null) return null;
  const v = packObject(req.variables);
  if (v === null) return null;
  return prompt + SEP + (label ?? "") + SEP + unit + SEP + a + SEP + v;
}

function deepFreeze(v) {
  if (v && typeof v === "object") {
    for (const k of Object.keys(v)) deepFreeze(v[k]);
    Object.freeze(v);
  }
  return v;
}

/**
 * A compiled manifest. `new Engine(manifest)` parses, validates and compiles it once
 * (throws an EdgepromptError with code `invalid_manifest` and `problems`).
 */
export class Engine {
  #wasm;
  #jsonOnly;
  #info = new Map();

  constructor(manifest) {
    const text = typeof manifest === "string" ? manifest : JSON.stringify(manifest);
    try {
      this.#wasm = new WasmEngine(text);
    } catch (e) {
      throw typeof e === "string" ? fromEngine(e) : e;
    }
    // A NUL inside the manifest's strings could reach rendered output, where it would
    // break the packed answer: such a manifest always takes the JSON path.
    this.#jsonOnly = text.includes("\\u0000");
    /** The manifest's revision. */
    this.revision = this.#wasm.revision();
  }

  /** Assigns the unit to a version and renders it: the same decision as the edge's. */
  resolve(req) {
    if (req === null || typeof req !== "object") {
      throw new EdgepromptError("invalid_request", "invalid request: resolve() takes {prompt, unit, label?, attributes?, variables?}");
    }
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
    if (info === undefined) {
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
}
