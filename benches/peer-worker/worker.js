// The JavaScript baseline for edgeprompt's POST /v1/resolve: what a JavaScript developer
// would deploy instead, built on GrowthBook (assignment) and mustache (rendering). It
// exists only to be measured next to our edge (benches/peer-worker/README.md).
import { GrowthBookClient } from "@growthbook/growthbook";
import Mustache from "mustache";

// Prompts are not HTML: values are inserted verbatim.
Mustache.escape = (s) => s;

const DEFAULT_MAX_BODY_BYTES = 256 * 1024; // edge/src/config.rs
const MAX_UNIT_BYTES = 512;
const enc = new TextEncoder();

// ---- isolate state -------------------------------------------------------------------

let loading = null; // Promise<{ manifest, revision, hashes: Map<version object, hex> }>
const features = {}; // "<prompt>\u0000<label>" -> GrowthBook feature definition, built lazily
const forcedRules = new Map(); // feature key -> Set of rule ids that force units
const partialsCache = new Map(); // version object -> { snippet: template }
const gb = new GrowthBookClient().initSync({ payload: { features } });
let secrets = null; // Promise<{ serverKeys, signingKey, unitKey }>

// ---- helpers -------------------------------------------------------------------------

const json = (status, body) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8" } });
const error = (status, code, message, details = null) => json(status, { error: { code, message, details } });
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
const sha256 = (text) => crypto.subtle.digest("SHA-256", enc.encode(text));
const b64url = (bytes) => {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};
const randomHex = () => hex(crypto.getRandomValues(new Uint8Array(16)));
const hmacKey = (secret) =>
  crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);

function loadSecrets(env) {
  return (secrets ??= (async () => {
    for (const name of ["EDGE_KEYS", "EVENT_SIGNING_KEY", "UNIT_HASH_KEY"]) {
      if (!env[name]) throw new Error(`the secret ${name} is not set`);
    }
    const entries = env.EDGE_KEYS.split(",").map((e) => e.trim()).filter(Boolean);
    const serverKeys = await Promise.all(
      entries.map(async (e) => {
        const [name, key] = e.split(/:(.*)/s);
        return { name: name.trim(), digest: await sha256(key.trim()) };
      }),
    );
    return { serverKeys, signingKey: await hmacKey(env.EVENT_SIGNING_KEY), unitKey: await hmacKey(env.UNIT_HASH_KEY) };
  })().catch((e) => {
    secrets = null;
    throw e;
  }));
}

function loadManifest(env) {
  return (loading ??= (async () => {
    const pointer = await env.MANIFESTS.get("manifest/current");
    if (pointer === null) throw new Error("manifest/current is not set");
    const revision = pointer.trim().split(/\s+/)[0];
    const text = await env.MANIFESTS.get(`manifest/${revision}`);
    if (text === null) throw new Error(`manifest/${revision} is not readable`);
    const manifest = JSON.parse(text);
    // Each version's content hash is computed on its first use (not all at load: that
    // would make the peer's cold start grow with the manifest for nothing).
    return { manifest, revision: manifest.revision, hashes: new Map() };
  })().catch((e) => {
    loading = null;
    throw e;
  }));
}

// ---- routes as GrowthBook features ---------------------------------------------------

const OPS = { eq: "$eq", ne: "$ne", in: "$in", not_in: "$nin", lt: "$lt", lte: "$lte", gt: "$gt", gte: "$gte",
  semver_eq: "$veq", semver_lt: "$vlt", semver_lte: "$vlte", semver_gt: "$vgt", semver_gte: "$vgte" };

// Our condition -> GrowthBook's (Mongo-style) condition. A comparison also requires the
// attribute to be present, as ours does (GrowthBook would compare a missing version as "0").
function toCondition(c) {
  if (c.all) return { $and: c.all.map(toCondition) };
  if (c.any) return { $or: c.any.map(toCondition) };
  if (c.not) return { $not: toCondition(c.not) };
  if (c.op === "exists") return { [c.attr]: { $exists: true } };
  return { [c.attr]: { $exists: true, [OPS[c.op]]: c.value } };
}

function buildFeature(key, promptName, labelName, route) {
  const seed = route.salt ?? `${promptName}/${labelName}`;
  const forced = new Set();
  const rule = (id, target, condition) => {
    const r = target.split?.length > 1
      ? { key: `${seed}/${id}`, seed, hashAttribute: "id", hashVersion: 2,
          variations: target.split.map((s) => s.version), weights: target.split.map((s) => s.weight / 100) }
      : { force: target.version ?? target.split[0].version };
    return condition ? { id, condition, ...r } : { id, ...r };
  };
  const rules = [];
  for (const r of route.rules ?? []) {
    if (r.units) {
      forced.add(r.name);
      rules.push(rule(r.name, r.target, { id: { $in: r.units } }));
    } else if (r.when) {
      rules.push(rule(r.name, r.target, toCondition(r.when)));
    }
    // `unit_hashes` rules (the npm projection's form of forced units) have no GrowthBook
    // equivalent without hashing every unit per request: not mapped.
  }
  const d = route.default;
  let defaultValue = d.version;
  if (d.split) {
    defaultValue = d.split[0].version;
    rules.push(rule("default", d, null));
  }
  forcedRules.set(key, forced);
  return { defaultValue, rules };
}

// ---- rendering -----------------------------------------------------------------------

function partialsOf(manifest, version) {
  let p = partialsCache.get(version);
  if (!p) {
    p = {};
    for (const [name, n] of Object.entries(version.snippets ?? {})) {
      p[name] = manifest.snippets[name].versions.find((s) => s.version === n).template;
    }
    partialsCache.set(version, p);
  }
  return p;
}

function render(manifest, version, given) {
  const view = {};
  for (const [name, v] of Object.entries(version.variables ?? {})) {
    if ("default" in v) view[name] = v.default;
  }
  Object.assign(view, given);
  const partials = partialsOf(manifest, version);
  if (version.text !== undefined) return { text: Mustache.render(version.text, view, partials) };
  const messages = [];
  for (const m of version.messages) {
    if (m.placeholder === undefined) {
      messages.push({ role: m.role, content: Mustache.render(m.content, view, partials) });
      continue;
    }
    const history = view[m.placeholder];
    if (history == null) continue;
    if (!Array.isArray(history)) {
      throw Object.assign(new Error(`variable "${m.placeholder}": a placeholder expects a list of messages`), { variable: m.placeholder });
    }
    for (const h of history) messages.push({ role: h.role, content: h.content });
  }
  return { messages };
}

// ---- POST /v1/resolve ----------------------------------------------------------------

async function readJson(req, limit) {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) return { err: error(413, "body_too_large", `request body is over the limit of ${limit} bytes`, { limit }) };
  const text = await req.text();
  if (enc.encode(text).length > limit) return { err: error(413, "body_too_large", `request body is over the limit of ${limit} bytes`, { limit }) };
  try {
    return { body: JSON.parse(text) };
  } catch (e) {
    return { err: error(400, "malformed_json", `request body: ${e.message}`) };
  }
}

// Every entry is compared, in constant time over equal-length digests.
async function isServerKey(given, serverKeys) {
  const digest = await sha256(given);
  let found = false;
  for (const k of serverKeys) found = crypto.subtle.timingSafeEqual(k.digest, digest) || found;
  return found;
}

async function resolve(req, env, ctx) {
  let keys;
  try {
    keys = await loadSecrets(env);
  } catch (e) {
    return error(500, "missing_secret", e.message);
  }
  const given = /^\s*bearer\s+(.+?)\s*$/i.exec(req.headers.get("authorization") ?? "")?.[1];
  if (!given) {
    return error(401, "unauthorized", "a server key is required: Authorization: Bearer KEY (a key from EDGE_KEYS)");
  }
  if (!(await isServerKey(given, keys.serverKeys))) return error(401, "unauthorized", "unknown server key");

  const { body, err } = await readJson(req, Number(env.MAX_BODY_BYTES ?? DEFAULT_MAX_BODY_BYTES));
  if (err) return err;
  const { prompt, label = "production", unit, attributes, variables, track = true } = body ?? {};
  if (typeof prompt !== "string" || typeof unit !== "string" || typeof label !== "string") {
    return error(400, "invalid_request", "request body: prompt and unit must be strings");
  }
  if (unit.length === 0 || enc.encode(unit).length > MAX_UNIT_BYTES) {
    return error(400, "invalid_request", `invalid request: unit must be 1 to ${MAX_UNIT_BYTES} bytes`);
  }
  for (const [name, v] of [["attributes", attributes], ["variables", variables]]) {
    if (v != null && (typeof v !== "object" || Array.isArray(v))) {
      return error(400, "invalid_request", `invalid request: ${name} must be a JSON object`);
    }
  }

  let loaded;
  try {
    loaded = await loadManifest(env);
  } catch (e) {
    return error(503, "no_manifest", `no manifest is loaded: ${e.message}`);
  }
  const { manifest, revision, hashes } = loaded;
  const p = Object.hasOwn(manifest.prompts, prompt) ? manifest.prompts[prompt] : undefined;
  if (!p) return error(404, "unknown_prompt", `unknown prompt "${prompt}"`);
  const route = p.labels && Object.hasOwn(p.labels, label) ? p.labels[label] : undefined;
  if (!route) return error(404, "unknown_label", `prompt "${prompt}" has no label "${label}"`);

  // Assignment: GrowthBook evaluates the label's feature for this unit.
  const key = `${prompt}\u0000${label}`;
  features[key] ??= buildFeature(key, prompt, label, route);
  const res = gb.evalFeature(key, { attributes: { ...attributes, id: unit } });
  const rule = res.source === "defaultValue" ? "default" : res.ruleId;
  // GrowthBook's hash (version 2) is a multiple of 1/10000: the same scale as our bucket.
  const bucket = res.experimentResult?.bucket === undefined ? null : Math.round(res.experimentResult.bucket * 10000);
  const version = p.versions.find((v) => v.version === res.value);

  const vars = version.variables ?? {};
  const missing = Object.keys(vars).filter((n) => vars[n].required && (variables == null || !Object.hasOwn(variables, n)));
  if (missing.length) {
    return error(422, "missing_variables", `missing required variable(s): ${missing.join(", ")}`, { missing });
  }
  let rendered;
  try {
    rendered = render(manifest, version, variables);
  } catch (e) {
    if (e.variable) return error(422, "invalid_variable", e.message, { variable: e.variable });
    return error(422, "render_limit", `render limit exceeded: ${e.message}`);
  }

  // The event token: base64url(claims) "." base64url(HMAC-SHA256(first part)).
  const now = Date.now();
  const unitHash = hex((await crypto.subtle.sign("HMAC", keys.unitKey, enc.encode(unit))).slice(0, 16));
  const forced = forcedRules.get(key).has(rule);
  const claims = { p: prompt, l: label, v: version.version, r: rule, b: bucket, u: unitHash, rev: revision,
    f: forced, iat: now, n: randomHex() };
  if (track === false) claims.x = true;
  const payload = b64url(enc.encode(JSON.stringify(claims)));
  const token = `${payload}.${b64url(await crypto.subtle.sign("HMAC", keys.signingKey, enc.encode(payload)))}`;

  if (track !== false) {
    const exposure = { id: claims.n, prompt, label, version: version.version, rule, bucket, unit_hash: unitHash,
      revision, time_ms: now, location: req.cf?.colo || "local", forced };
    ctx.waitUntil(
      env.EVENTS.send({ batch: randomHex(), events: [{ exposure }] }).catch((e) => console.error(`exposure not queued: ${e}`)),
    );
  }

  return json(200, {
    prompt, label, version: version.version, rule, bucket, ...rendered,
    model: version.model ?? null, tools: version.tools ?? null, response_format: version.response_format ?? null,
    revision, hash: await hashOf(hashes, version), token,
  });
}

async function hashOf(hashes, version) {
  let h = hashes.get(version);
  if (h === undefined) {
    h = hex(await sha256(JSON.stringify(version)));
    hashes.set(version, h);
  }
  return h;
}

// ---- router --------------------------------------------------------------------------

export default {
  async fetch(req, env, ctx) {
    const { pathname } = new URL(req.url);
    if (pathname === "/v1/resolve") {
      return req.method === "POST" ? resolve(req, env, ctx) : error(405, "method_not_allowed", "/v1/resolve accepts POST only");
    }
    if (pathname === "/healthz" && req.method === "GET") {
      return new Response("ok", { headers: { "content-type": "text/plain" } });
    }
    if (pathname === "/echo" && req.method === "POST") {
      JSON.parse(await req.text());
      return new Response("ok", { headers: { "content-type": "text/plain" } });
    }
    return error(404, "not_found", `no route for ${req.method} ${pathname}`);
  },
};
