// Types for the `edgeprompt` package: the manifest document (docs/manifest.md), the
// resolve request and its decision, the engine, the client, the KV loader and the
// edge's exposure and event payloads. One declaration file serves every entry
// (browser, Node, workerd): they export the same names. JSON values and the manifest
// document are declared in manifest.d.ts and exported from here.

export * from "./manifest.js";
import type { JsonInput, JsonObject, JsonObjectInput, JsonValue, Manifest, ModelSettings, ResponseFormat, ToolDefinition } from "./manifest.js";

// ---------------------------------------------------------------------------
// Resolve and the decision
// ---------------------------------------------------------------------------

/** A resolve request. */
export interface ResolveRequest {
  /** The prompt's name. */
  prompt: string;
  /** The label (default `production`). */
  label?: string;
  /** The unit (user, session...) assigned stickily; at most 512 bytes. */
  unit: string;
  /** Attributes for rule conditions (top-level keys); reported with the exposure. */
  attributes?: JsonObjectInput | null;
  /** Template variables; override defaults; undeclared ones are ignored. */
  variables?: JsonObjectInput | null;
  /**
   * The request's time for `$now` rule conditions: ms since the epoch or a Date
   * (default `Date.now()`); a client reports it with the exposure (`decided_at`).
   */
  now?: number | Date | null;
}

/** A rendered chat message. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** What every decision carries. */
export interface DecisionCommon {
  /** The prompt's name. */
  prompt: string;
  /** The label resolved (`production` when the request named none). */
  label: string;
  /** The version served. */
  version: number;
  /** The name of the rule that matched, or `default`. */
  rule: string;
  /** The unit's bucket in [0, 10000). */
  bucket: number;
  /** The version's model settings, `null` when unset (shared and frozen: do not mutate). */
  model: Readonly<ModelSettings> | null;
  /** The version's tool definitions, `null` when unset (shared and frozen). */
  tools: readonly ToolDefinition[] | null;
  /** The version's output schema, `null` when unset (shared and frozen). */
  response_format: ResponseFormat | null;
  /** The manifest's revision. */
  revision: number;
  /** The version's content hash (hex SHA-256). */
  hash: string;
}

/** The decision for a text version. */
export interface TextDecision extends DecisionCommon {
  /** The rendered text. */
  text: string;
}

/** The decision for a chat version. */
export interface ChatDecision extends DecisionCommon {
  /** The rendered messages, placeholders expanded. */
  messages: ChatMessage[];
}

/** A decision: exactly one of `text` / `messages`; narrow with `"text" in decision`. */
export type Decision = TextDecision | ChatDecision;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** The codes edgeprompt raises; other codes from the edge may appear. */
export type KnownErrorCode =
  // the engine
  | "invalid_manifest"
  | "unknown_prompt"
  | "unknown_label"
  | "missing_variables"
  | "invalid_variable"
  | "invalid_request"
  | "render_limit"
  | "internal"
  // outcomes (the engine, locally, and the edge)
  | "undeclared_metric"
  | "invalid_value"
  | "missing_id"
  // the client
  | "invalid_options"
  | "not_ready"
  | "unknown_decision"
  | "http_error"
  | "queue_full"
  // the KV loader and the edge
  | "no_manifest"
  | "stale_revision"
  | "invalid_events"
  | "batch_too_large"
  | "body_too_large"
  | "malformed_json"
  | "unreadable_body"
  | "missing_secret"
  | "d1_unavailable"
  | "not_found"
  | "method_not_allowed";

/** An error code: a known one, or another string from the edge. */
export type EdgepromptErrorCode = KnownErrorCode | (string & {});

/** One problem of an invalid manifest. */
export interface Problem {
  /** Where, e.g. `prompts.support.versions[1].text`. */
  path: string;
  /** What is wrong there. */
  reason: string;
}

/** An error from edgeprompt, with a stable `code`. */
export declare class EdgepromptError extends Error {
  constructor(code: EdgepromptErrorCode, message: string, details?: unknown);
  name: "EdgepromptError";
  /** The stable code (`unknown_prompt`, `missing_variables`...). */
  code: EdgepromptErrorCode;
  /** For `invalid_manifest` from the engine: every problem with its path. */
  problems?: Problem[];
  /**
   * Details to act on: for `missing_variables` `{missing: string[]}`, for
   * `invalid_variable` `{variable: string}` (locally and from the edge); the edge's
   * `error.details` otherwise (for `invalid_events`: `{errors: EventRejection[]}`).
   */
  details?: unknown;
  /** The HTTP status, for errors answered by the edge. */
  status?: number;
}

// ---------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------

/** A compiled manifest; in the browser entry, `await ready()` before constructing one. */
export declare class Engine {
  /** The conformance spec version this engine implements (the repository's tests/conformance/). */
  static readonly specVersion: number;
  /** Parses, validates and compiles the manifest once; throws an EdgepromptError `invalid_manifest` with `problems`. */
  constructor(manifest: Manifest | string);
  /** The manifest's revision. */
  readonly revision: number;
  /** Assigns the unit to a version and renders it: the same decision as the edge's. */
  resolve(request: ResolveRequest): Decision;
  /**
   * Checks an outcome against the manifest's metric declarations by the edge's rules;
   * throws an EdgepromptError (`undeclared_metric`, `invalid_value`, `missing_id`).
   */
  checkOutcome(metric: string, value: number | boolean, id?: string | number): void;
  /** Frees the compiled manifest's Wasm memory; the engine cannot be used afterwards. */
  free(): void;
}

/** Where the browser entry loads the Wasm from. */
export type WasmSource =
  | string
  | URL
  | Request
  | Response
  | ArrayBuffer
  | ArrayBufferView
  | WebAssembly.Module
  | Promise<string | URL | Request | Response | ArrayBuffer | ArrayBufferView | WebAssembly.Module>;

/** Resolves once the Wasm is ready; the browser entry loads it once (from `wasm`, default next to the module); Node and workerd are ready on import. */
export declare function ready(wasm?: WasmSource): Promise<void>;

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

/** Options shared by every client. */
export interface ClientOptionsCommon {
  /** How often to check the edge for a new manifest, in ms (default 60,000; 0 disables); only when no `manifest` is given. */
  refreshIntervalMs?: number;
  /** How long exposures and outcomes wait to be sent in a batch, in ms (default 2,000); a failed send retries after this, doubled per failure in a row, at most 60,000. */
  flushIntervalMs?: number;
  /** Most exposures, and most outcomes, waiting to be sent (default 10,000); past it the oldest is dropped with a `queue_full` error to `onError`. */
  maxQueue?: number;
  /**
   * Most reported exposures remembered, so that a unit resolved again is not reported again
   * (default 10,000); past it the least recently resolved is forgotten. Exposures waiting to be
   * sent are never forgotten, and a decision still held keeps its own, so its outcomes are sent.
   */
  maxEntries?: number;
  /** The manifest used when the first fetch from the edge fails. */
  fallback?: Manifest | string;
  /** Report exposures and outcomes to the edge (default: `true` when `edge` is given). */
  report?: boolean;
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Called with each error met in the background (a failed refresh or report). */
  onError?: (error: Error) => void;
}

/** A client with a given manifest (and, optionally, an edge to report to). */
export interface ClientOptionsWithManifest extends ClientOptionsCommon {
  /** The manifest to use (not refreshed). */
  manifest: Manifest | string;
  /** The edge's base URL, e.g. `https://prompts.example.com`. */
  edge?: string;
}

/** A client that loads its manifest from the edge and keeps it fresh. */
export interface ClientOptionsWithEdge extends ClientOptionsCommon {
  /** The manifest to use instead of the edge's. */
  manifest?: Manifest | string;
  /** The edge's base URL, e.g. `https://prompts.example.com`. */
  edge: string;
}

/** Client options: at least one of `manifest` or `edge`. */
export type ClientOptions = ClientOptionsWithManifest | ClientOptionsWithEdge;

/** Resolves prompts locally and reports what it decided; create one with `createClient`. */
export declare class Client {
  /** Prefer `createClient`, which also loads the first manifest (`start()`). */
  constructor(options: ClientOptions);
  /** The revision of the manifest in use (undefined at run time only before `start()` resolves). */
  readonly revision: number;
  /** The last error met in the background (a failed refresh or report), if any. */
  lastError: Error | null;
  /** Loads the first manifest: the given one, else the edge's, else the fallback; resolves to the client. */
  start(): Promise<this>;
  /** Fetches the edge's manifest unless unchanged (ETag); resolves to whether the engine changed. */
  refresh(): Promise<boolean>;
  /** Assigns and renders locally; with reporting on, the exposure is sent to the edge in the background. */
  resolve(request: ResolveRequest): Decision;
  /**
   * Records an outcome of a decision this client's `resolve` returned (reporting on): `value`
   * 0/1/true/false for binary metrics, a number otherwise; `id` makes repeats count once (count metrics need one).
   * Checked against the manifest first: throws `undeclared_metric`, `invalid_value` or `missing_id`.
   */
  track(decision: Decision, metric: string, value: number | boolean, id?: string | number): void;
  /** Sends every pending exposure, then every outcome whose token is known. */
  flush(): Promise<void>;
  /** Stops the timers and listeners, then (when reporting) sends what is queued. */
  close(): Promise<void>;
  /**
   * Counts, for monitoring: `entries` exposures remembered (those waiting for the edge's answer, and
   * at most `maxEntries` answered ones), `exposures` waiting to be sent, `outcomes` with a known token waiting to be sent.
   */
  stats(): ClientStats;
}

/** What `client.stats()` returns. */
export interface ClientStats {
  entries: number;
  exposures: number;
  outcomes: number;
}

/** Creates a client and loads its first manifest (in the browser entry, after the Wasm is ready). */
export declare function createClient(options: ClientOptions): Promise<Client>;

// ---------------------------------------------------------------------------
// Workers KV
// ---------------------------------------------------------------------------

/** The part of a Workers KV namespace binding the loader uses; a Cloudflare `KVNamespace` fits. */
export interface KVLike {
  get(key: string, options: { type: "text" }): Promise<string | null>;
}

/** Options of `loadFromKV`. */
export interface LoadFromKVOptions {
  /** How long the isolate answers from its engine before re-reading the pointer, in ms (default 10,000). */
  refreshIntervalMs?: number;
  /** The clock, in ms (default `Date.now`). */
  now?: () => number;
  /** The request's context (anything with `waitUntil`): a stale engine is revalidated after the response instead of before. */
  ctx?: { waitUntil(promise: Promise<unknown>): void };
}

/**
 * The engine for the manifest a KV namespace serves (`manifest/current` -> `manifest/<rev>`),
 * compiled once per revision and cached in the isolate; throws `no_manifest` when there is none yet.
 */
export declare function loadFromKV(kv: KVLike, options?: LoadFromKVOptions): Promise<Engine>;

// ---------------------------------------------------------------------------
// The edge's exposure and event payloads
// ---------------------------------------------------------------------------

/** One decision made by a client, as sent to `POST /v1/exposures`. */
export interface ExposureItem {
  prompt: string;
  label?: string;
  unit: string;
  attributes?: JsonObject;
  /** The revision the client decided with. */
  revision: number;
}

/** The body of `POST /v1/exposures` (at most 100 items). */
export interface ExposuresRequest {
  exposures: ExposureItem[];
}

/** An exposure the edge re-derived and recorded, with the token for its outcomes. */
export interface ExposureAccepted {
  version: number;
  rule: string;
  bucket: number;
  revision: number;
  /** The signed event token. */
  token: string;
}

/** An exposure the edge could not record (e.g. `stale_revision`). */
export interface ExposureRefused {
  error: { code: EdgepromptErrorCode; message: string };
}

/** The edge's answer for one exposure. */
export type ExposureResult = ExposureAccepted | ExposureRefused;

/** The answer of `POST /v1/exposures`, one result per item, in order. */
export interface ExposuresResponse {
  results: ExposureResult[];
}

/** One outcome, as sent to `POST /v1/events`. */
export interface OutcomeEvent {
  /** The exposure's token. */
  token: string;
  /** A metric declared in the manifest. */
  metric: string;
  /** 0/1/true/false for binary metrics, a finite number for continuous, a number >= 0 for count. */
  value: number | boolean;
  /** Makes repeats count once; required for count metrics. */
  id?: string;
}

/** The body of `POST /v1/events` (at most 100 events). */
export interface EventsRequest {
  events: OutcomeEvent[];
}

/** The 202 answer of `POST /v1/events`. */
export interface EventsResponse {
  /** New outcomes queued. */
  accepted: number;
  /** Outcomes already counted (by id). */
  duplicates: number;
}

/** Why the edge refused one event of a batch (`invalid_events` details: `{errors: EventRejection[]}`). */
export interface EventRejection {
  /** The event's index in the batch. */
  index: number;
  code: "expired_token" | "invalid_token" | "malformed_token" | "undeclared_metric" | "invalid_value" | "missing_id" | (string & {});
  message: string;
}
