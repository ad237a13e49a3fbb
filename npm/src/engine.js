// The engine: the Rust decision engine compiled to Wasm, with the lean per-resolve
// crossing (a packed string in, the ops form out; see npm/rust/request.rs and
// npm/rust/ops.rs in the repository).
import { Engine as WasmEngine, specVersion } from "../pkg/edgeprompt.js";

const SEP = "\0";

// The ops form, word by word: the same names and values as npm/rust/ops.rs (a Rust
// test checks that they agree).
const HEAD_STATUS = 0;
const HEAD_TEXT = 1;
const HEAD_TEXT_LEN = 2;
const HEAD_VERSION = 3;
const HEAD_BUCKET = 4;
const HEAD_FORCED = 5;
const HEAD_VERSION_KEY = 6;
const HEAD_RULE = 7;
const HEAD_RULE_LEN = 8;
const HEAD_LABEL = 9;
const HEAD_LABEL_LEN = 10;
const HEAD_KIND = 11;
const HEAD_OUTPUTS = 12;
const HEAD_LEN = 13;
const STATUS_DECISION = 0;
const STATUS_ERROR = 1;
const STATUS_JSON = 2;
const KIND_CHAT = 1;
const PIECE_TEXT = 0;
const PIECE_ENTRY = 1;
const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

/**
 * The request's time for `$now` conditions, in ms since the epoch: `now` given as a
 * number or a Date, else the clock (`Date.now()`).
 */
export function timeOf(now) {
  if (now === undefined || now === null) return Date.now();
  const ms = now instanceof Date ? now.getTime() : now;
    // A Date holds at most 8.64e15 ms either way; beyond it no time is meant.
  if (typeof ms !== "number" || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    throw new EdgepromptError("invalid_request", "invalid request: now must be a time in ms since the epoch or a valid Date");
  }
  return Math.floor(ms);
}

// Resolves at a time already read (the client reports the same time with the exposure).
let resolveAtTime;

/** Resolves `req` at `now` (ms since the epoch), as `engine.resolve` does at `req.now`. */
export function resolveAt(engine, req, now) {
  return resolveAtTime(engine, req, now);
}

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
  const err = new EdgepromptError(e.code, e.message, e.details);
  if (e.problems) err.problems = e.problems;
  return err;
}

// A value's packed form, or null when the value needs the JSON path; undefined skips
// the key (as JSON.stringify does). Nothing looks for NUL here: the packed text ends
// with its count of NULs, and the engine sends a request whose fields hold NUL back
// to the JSON path.
function packValue(v) {
  switch (typeof v) {
    case "string":
      return "s" + v;
    case "number":
      // JSON.stringify turns NaN and the infinities into null.
      return Number.isFinite(v) ? "n" + String(v) : "z";
    case "boolean":
      return v ? "t" : "f";
    case "object":
      return v === null ? "z" : packStructured(v);
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    default:
      return null; // bigint: JSON.stringify throws; the JSON path reports it.
  }
}

// Kept out of packValue, which stays small enough to be inlined where scalars go.
function packStructured(v) {
  const list = Array.isArray(v) ? packList(v) : null;
  if (list !== null) return list;
  v = JSON.stringify(v);
  return v === undefined ? undefined : "j" + v;
}

// A list of scalars, item by item (its string items can then be named in the answer
// rather than sent back); null when an item is not a scalar (the list goes as JSON).
function packList(list) {
  const start = itemCount;
  let s = "a" + list.length;
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    let t;
    switch (typeof v) {
      case "string":
        t = "s" + v;
        break;
      case "number":
        t = Number.isFinite(v) ? "n" + String(v) : "z";
        break;
      case "boolean":
        t = v ? "t" : "f";
        break;
      case "undefined":
      case "function":
      case "symbol":
        t = "z"; // JSON.stringify writes null for these in a list
        break;
      default:
        if (v !== null) {
          itemCount = start;
          return null;
        }
        t = "z";
    }
    s += SEP + t;
    packedItems[itemCount++] = v;
  }
  return s;
}

// Entries written by the last packObject.
let packedEntries = 0;
// The string values of the last packed request, by entry index: a decision names a
// value it renders unchanged by that index instead of sending it back.
const packedStrings = [];
let entryIndex = 0;
// The items of packed lists, in order: named in the answer after the entries.
// (A count, not the array's length: setting an array's length is slow.)
const packedItems = [];
let itemCount = 0;

function packObject(o) {
  packedEntries = 0;
  if (o === undefined || o === null) return "0";
  if (typeof o !== "object" || Array.isArray(o)) return null;
  let n = 0;
  let s = "";
  for (const k of Object.keys(o)) {
    const t = packValue(o[k]);
    if (t === undefined) continue;
    if (t === null) return null;
    s += SEP + k + SEP + t;
    packedStrings[entryIndex++] = o[k];
    n++;
  }
  packedEntries = n;
  return n + s;
}

function pack(req) {
  const { prompt, label, unit } = req;
  if (typeof prompt !== "string" || typeof unit !== "string") return null;
  if (label !== undefined && label !== null && (typeof label !== "string" || label === "")) return null;
  entryIndex = 0;
  itemCount = 0;
  const a = packObject(req.attributes);
  if (a === null) return null;
  const entries = packedEntries;
  const v = packObject(req.variables);
  if (v === null) return null;
  const nuls = 5 + 2 * (entries + packedEntries) + itemCount;
  // The answer names list items after the entries.
  for (let k = 0; k < itemCount; k++) packedStrings[entryIndex + k] = packedItems[k];
  return prompt + SEP + (label ?? "") + SEP + unit + SEP + a + SEP + v + SEP + nuls;
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
  /** The conformance spec version this engine implements (tests/conformance/ in the repository). */
  static get specVersion() {
    return specVersion();
  }

  #wasm;
  // What is fixed per version, by the version's address in the engine's memory.
  #info = new Map();
  // Text held by the compiled manifest (template literals, rules, labels, roles) by
  // its address: a decision names it instead of carrying its bytes, so each crosses
  // the boundary once per engine.
  #literals = new Map();
  #memory;
  // Views of the engine's memory; a grown memory detaches them (their length reads 0).
  #words = null;
  #bytes = null;
  #input = 0;
  #inputCapacity = 0;
  #inputView = null;
  // A direct-mapped cache in front of #literals: most decisions repeat a few texts.
  #slotKeys = new Uint32Array(1024);
  #slotTexts = new Array(1024);

  constructor(manifest) {
    const text = typeof manifest === "string" ? manifest : JSON.stringify(manifest);
    try {
      this.#wasm = new WasmEngine(text);
    } catch (e) {
      throw typeof e === "string" ? fromEngine(e) : e;
    }
    this.#memory = WasmEngine.memory();
    this.#input = this.#wasm.inputBuffer(0);
    this.#inputCapacity = this.#wasm.inputCapacity();
    /** The manifest's revision. */
    this.revision = this.#wasm.revision();
  }

  static {
    resolveAtTime = (engine, req, now) => engine.#resolveAt(req, now);
  }

  /**
   * Assigns the unit to a version and renders it: the same decision as the edge's, at
   * the request's time `req.now` (ms or a Date; default `Date.now()`) for `$now` rules.
   */
  resolve(req) {
    if (req === null || typeof req !== "object") {
      throw new EdgepromptError("invalid_request", "invalid request: resolve() takes {prompt, unit, label?, attributes?, variables?, now?}");
    }
    return this.#resolveAt(req, timeOf(req.now));
  }

  #resolveAt(req, now) {
    const packed = pack(req);
    if (packed === null) return this.#resolveJson(req, now);
    // The request is written straight into the engine's request buffer.
    this.#view();
    let { read, written } = utf8Encoder.encodeInto(packed, this.#inputView);
    if (read < packed.length) {
      this.#input = this.#wasm.inputBuffer(packed.length * 3);
      this.#inputCapacity = this.#wasm.inputCapacity();
      this.#inputView = null;
      this.#view();
      ({ written } = utf8Encoder.encodeInto(packed, this.#inputView));
    }
    return this.#answer(req, this.#wasm.resolveBuffer(written, now) >>> 2, now);
  }

  // The decision or error in the ops form at word `at` of the engine's memory.
  #answer(req, at, now) {
    const bytes = this.#view();
    const words = this.#words;
    const status = words[at + HEAD_STATUS];
    if (status === STATUS_JSON) return this.#resolveJson(req, now); // a field holds NUL
    const textAt = words[at + HEAD_TEXT];
    const textLen = words[at + HEAD_TEXT_LEN];
    const text = textLen === 0 ? "" : utf8.decode(bytes.subarray(textAt, textAt + textLen));
    if (status === STATUS_ERROR) throw fromEngine(text);
    if (status !== STATUS_DECISION) throw new EdgepromptError("internal", `unknown status ${status}`);
    return this.#decision(req.prompt, text, words, at);
  }

  // The byte view of the engine's memory, renewing both views after the memory grew.
  #view() {
    let bytes = this.#bytes;
    if (bytes === null || bytes.byteLength === 0) {
      bytes = this.#bytes = new Uint8Array(this.#memory.buffer);
      this.#words = new Uint32Array(this.#memory.buffer);
      this.#inputView = null;
    }
    if (this.#inputView === null) this.#inputView = bytes.subarray(this.#input, this.#input + this.#inputCapacity);
    return bytes;
  }

  #resolveJson(req, now) {
    const { prompt, label, unit, attributes, variables } = req ?? {};
    let text;
    try {
      text = JSON.stringify({ prompt, label, unit, attributes, variables });
    } catch (e) {
      throw new EdgepromptError("invalid_request", `invalid request: ${e.message}`);
    }
    // The JSON path answers in the same ops form (naming no request entries).
    return this.#answer(req, this.#wasm.resolveJson(text, now) >>> 2, now);
  }

  // Assembles a decision from the ops form (npm/rust/ops.rs): words of the engine's
  // memory from `at`, and the value text they cut into pieces.
  #decision(prompt, text, w, at) {
    const version = w[at + HEAD_VERSION];
    const versionKey = w[at + HEAD_VERSION_KEY];
    const d = {
      prompt,
      label: this.#literal(w[at + HEAD_LABEL], w[at + HEAD_LABEL_LEN]),
      version,
      rule: this.#literal(w[at + HEAD_RULE], w[at + HEAD_RULE_LEN]),
      bucket: w[at + HEAD_BUCKET],
    };
    const chat = w[at + HEAD_KIND] === KIND_CHAT;
    const outputs = w[at + HEAD_OUTPUTS];
    let i = at + HEAD_LEN;
    let pos = 0;
    const messages = chat ? [] : undefined;
    for (let k = 0; k < outputs; k++) {
      let role;
      if (chat) {
        role = w[i] === PIECE_TEXT ? text.slice(pos, (pos += w[i + 1])) : this.#literal(w[i], w[i + 1]);
        i += 2;
      }
      const pieces = w[i++];
      let content = "";
      for (let j = 0; j < pieces; j++, i += 2) {
        const a = w[i];
        content +=
          a === PIECE_TEXT ? text.slice(pos, (pos += w[i + 1])) : a === PIECE_ENTRY ? packedStrings[w[i + 1]] : this.#literal(a, w[i + 1]);
      }
      if (chat) messages.push({ role, content });
      else d.text = content;
    }
    if (chat) d.messages = messages;
    // Last: a call into the engine may grow its memory, which detaches `w`.
    let info = this.#info.get(versionKey);
    if (info === undefined) {
      info = deepFreeze(JSON.parse(this.#wasm.versionInfo(prompt, version)));
      this.#info.set(versionKey, info);
    }
    d.model = info.model;
    d.tools = info.tools;
    d.response_format = info.response_format;
    d.revision = this.revision;
    d.hash = info.hash;
    return d;
  }

  #literal(ptr, len) {
    const slot = (ptr ^ (ptr >>> 10)) & 1023;
    if (this.#slotKeys[slot] === ptr) return this.#slotTexts[slot];
    let s = this.#literals.get(ptr);
    if (s === undefined) {
      // The text lives in the compiled manifest (or the engine's static data), which
      // never moves while the engine lives.
      s = utf8.decode(new Uint8Array(this.#memory.buffer, ptr, len));
      this.#literals.set(ptr, s);
    }
    this.#slotKeys[slot] = ptr;
    this.#slotTexts[slot] = s;
    return s;
  }

  /**
   * Checks an outcome against the manifest's metric declarations, by the edge's rules:
   * throws an EdgepromptError (`undeclared_metric`, `invalid_value`, `missing_id`) for
   * one the edge would refuse.
   */
  checkOutcome(metric, value, id) {
    const text = JSON.stringify(value);
    const out = this.#wasm.checkOutcome(String(metric), text === undefined ? "null" : text, id !== undefined && id !== null);
    if (out !== "") throw fromEngine(out);
  }

  /** Frees the compiled manifest's Wasm memory; the engine cannot be used afterwards. */
  free() {
    this.#literals.clear();
    this.#slotKeys.fill(0);
    this.#wasm.free();
  }
}
