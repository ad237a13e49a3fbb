// Types for the `edgeprompt` package: the manifest document (docs/manifest.md), the
// resolve request and its decision, the engine, the client, the KV loader and the
// edge's exposure and event payloads. One declaration file serves every entry
// (browser, Node, workerd): they export the same names.

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

/** A JSON scalar. */
export type JsonPrimitive = string | number | boolean | null;

/** A JSON value, as it comes out of JSON.parse. */
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object, as it comes out of JSON.parse. */
export type JsonObject = { [key: string]: JsonValue };

/** A value given to resolve where JSON is expected; `undefined` object members are skipped, as JSON.stringify skips them. */
export type JsonInput = JsonPrimitive | readonly JsonInput[] | { readonly [key: string]: JsonInput | undefined };

/** An object given to resolve (attributes, variables): name -> JSON value; `undefined` members are skipped. */
export type JsonObjectInput = { readonly [key: string]: JsonInput | undefined };

// ---------------------------------------------------------------------------
// The manifest (docs/manifest.md)
// ---------------------------------------------------------------------------

/** One manifest document: every prompt, its immutable versions and the routes that pick one. */
export interface Manifest {
  /** The schema; this engine reads schema 1 only. */
  schema: 1;
  /** Integer >= 0; increases with every published change. */
  revision: number;
  /** Prompt name -> prompt. */
  prompts: { [name: string]: Prompt };
  /** Snippet name -> snippet (shared partials, `{{> name}}`). */
  snippets?: { [name: string]: Snippet };
  /** Metric name -> declaration; outcome events for undeclared metrics are refused. */
  metrics?: { [name: string]: MetricDeclaration };
  /** Reserved for staged rollout plans; under schema 1 only `{}` is accepted. */
  rollouts?: { [key: string]: never };
}

/** How a metric's outcomes aggregate: a rate of units (binary), a mean (continuous) or events per unit (count). */
export type MetricKind = "binary" | "continuous" | "count";

/** A metric declaration. */
export interface MetricDeclaration {
  /** `binary` (0/1 per unit), `continuous` (a mean) or `count` (events per exposed unit). */
  kind: MetricKind;
  /** Whether a larger value is better (default `true`). */
  higher_is_better?: boolean;
  /** Free text. */
  description?: string;
}

/** A snippet: versioned shared partials, always used through the version a prompt version pins. */
export interface Snippet {
  /** Versions numbered exactly 1..n. */
  versions: SnippetVersion[];
  /** Free text. */
  description?: string;
}

/** One immutable snippet version. */
export interface SnippetVersion {
  /** Its number, 1..n. */
  version: number;
  /** A Mustache template. */
  template: string;
  /** Free text. */
  author?: string;
  /** Free text. */
  note?: string;
  /** Free text, conventionally RFC 3339. */
  created_at?: string;
}

/** A prompt: its versions and its labels' routes. */
export interface Prompt {
  /** Versions numbered exactly 1..n (each number once, order free). */
  versions: PromptVersion[];
  /** Label name -> route; a prompt without labels validates but cannot be resolved. */
  labels?: { [label: string]: Route };
  /** `true` includes the prompt in the npm clients' projection served by `/v1/manifest` (default `false`). */
  client?: boolean;
  /** Free text. */
  description?: string;
}

/** Model settings, each optional; returned with the decision as given. */
export interface ModelSettings {
  /** e.g. `openai`. */
  provider?: string;
  /** e.g. `gpt-4o`. */
  name?: string;
  /** Free-form model parameters (`temperature`, `max_tokens`...). */
  params?: { [key: string]: unknown };
}

/** A tool (function) definition object, returned as given. */
export type ToolDefinition = { [key: string]: unknown };

/** An output schema object, returned as given. */
export type ResponseFormat = { [key: string]: unknown };

/** A variable declaration: exactly one source, `required: true` or a `default` (`null` is a valid default). */
export type VariableDeclaration =
  | { required: true; default?: never; description?: string }
  | { required?: false; default: JsonValue; description?: string };

/** What every prompt version may carry besides its template. */
export interface VersionCommon {
  /** Its number, 1..n. */
  version: number;
  /** Model settings, returned with the decision. */
  model?: ModelSettings;
  /** Tool definitions, returned with the decision. */
  tools?: ToolDefinition[];
  /** An output schema, returned with the decision. */
  response_format?: ResponseFormat;
  /** Variable name -> declaration; every root-scope name the templates use must be declared. */
  variables?: { [name: string]: VariableDeclaration };
  /** Snippet name -> pinned snippet version, for every partial the version reaches. */
  snippets?: { [name: string]: number };
  /** Free text. */
  author?: string;
  /** Free text. */
  note?: string;
  /** Free text, conventionally RFC 3339. */
  created_at?: string;
}

/** A text version: one Mustache template. */
export interface TextVersion extends VersionCommon {
  /** One Mustache template. */
  text: string;
  messages?: never;
}

/** A chat version: message templates and placeholders. */
export interface ChatVersion extends VersionCommon {
  /** At least one message template or placeholder. */
  messages: ChatTemplate[];
  text?: never;
}

/** An immutable prompt version: exactly one of `text` / `messages`. */
export type PromptVersion = TextVersion | ChatVersion;

/** A chat message template: a role and Mustache content. */
export interface MessageTemplate {
  /** 1 to 64 bytes, e.g. `system`, `user`, `assistant`. */
  role: string;
  /** A Mustache template. */
  content: string;
  placeholder?: never;
}

/** A placeholder: expands the named variable's list of `{role, content}` messages verbatim (`null` or missing: nothing). */
export interface MessagePlaceholder {
  /** The (declared) variable holding the messages, e.g. `history`. */
  placeholder: string;
  role?: never;
  content?: never;
}

/** One entry of a chat version's `messages`. */
export type ChatTemplate = MessageTemplate | MessagePlaceholder;

/** A label's route: ordered rules, the first match decides, else the default. */
export interface Route {
  /** Assignment salt, default `<prompt>/<label>` (at most 256 bytes). */
  salt?: string;
  /** Ordered rules; the first that matches decides. */
  rules?: Rule[];
  /** The target when no rule matches. */
  default: Target;
}

/** What every rule carries. */
export interface RuleCommon {
  /** Unique in the route; `default` is reserved. */
  name: string;
  /** Where the rule sends the units it matches. */
  target: Target;
}

/** A rule matching a condition on the request's attributes. */
export interface ConditionRule extends RuleCommon {
  /** The condition. */
  when: Condition;
  units?: never;
  unit_hashes?: never;
}

/** A rule forcing listed unit ids (QA). */
export interface UnitsRule extends RuleCommon {
  /** Forced unit ids, 1-256 bytes each, at most 1,000. */
  units: string[];
  when?: never;
  unit_hashes?: never;
}

/** A rule forcing units listed as hex `SHA-256(salt ‖ 0xFF ‖ unit)` (the clients' projection form). */
export interface UnitHashesRule extends RuleCommon {
  /** 64 lower-case hex digits each, at most 1,000. */
  unit_hashes: string[];
  when?: never;
  units?: never;
}

/** A rule: a name, a target and exactly one of `when`, `units`, `unit_hashes`. */
export type Rule = ConditionRule | UnitsRule | UnitHashesRule;

/** One version for everyone the target applies to. */
export interface VersionTarget {
  /** A version number of the prompt. */
  version: number;
  split?: never;
}

/** A weighted split between versions; weights are percents (at most two decimals) summing to 100. */
export interface SplitTarget {
  /** Each version at most once; zero weights are allowed. */
  split: SplitEntry[];
  version?: never;
}

/** One version's share of a split. */
export interface SplitEntry {
  /** A version number of the prompt. */
  version: number;
  /** A percent with at most two decimals (`33.33`). */
  weight: number;
}

/** A rule's or route's target: `{version}` or `{split}`. */
export type Target = VersionTarget | SplitTarget;

/** A value `eq` / `ne` / `in` / `not_in` compare with. */
export type ConditionScalar = string | number | boolean;

/** Equality operators. */
export type EqualityOperator = "eq" | "ne";
/** Membership operators. */
export type MembershipOperator = "in" | "not_in";
/** Numeric comparison operators. */
export type NumericOperator = "lt" | "lte" | "gt" | "gte";
/** SemVer precedence operators. */
export type SemverOperator = "semver_eq" | "semver_lt" | "semver_lte" | "semver_gt" | "semver_gte";
/** Every comparison operator. */
export type ComparisonOperator = EqualityOperator | MembershipOperator | NumericOperator | SemverOperator | "exists";

/** `eq`: equal; `ne`: present and not equal. */
export interface EqualityComparison {
  attr: string;
  op: EqualityOperator;
  value: ConditionScalar;
}

/** `in`: equal to one; `not_in`: present and equal to none. */
export interface MembershipComparison {
  attr: string;
  op: MembershipOperator;
  value: ConditionScalar[];
}

/** Numeric comparison (numeric strings compare as numbers). */
export interface NumericComparison {
  attr: string;
  op: NumericOperator;
  value: number;
}

/** SemVer precedence; the value is a SemVer 2.0 string such as `2.3.0` (optional leading `v`). */
export interface SemverComparison {
  attr: string;
  op: SemverOperator;
  value: string;
}

/** The attribute is present and not null; takes no value. */
export interface ExistsComparison {
  attr: string;
  op: "exists";
  value?: never;
}

/** A comparison of one top-level request attribute. */
export type Comparison = EqualityComparison | MembershipComparison | NumericComparison | SemverComparison | ExistsComparison;

/** Holds when every condition holds (`all: []` holds). */
export interface AllCondition {
  all: Condition[];
  any?: never;
  not?: never;
  attr?: never;
}

/** Holds when one condition holds (`any: []` does not). */
export interface AnyCondition {
  any: Condition[];
  all?: never;
  not?: never;
  attr?: never;
}

/** Holds when the condition does not. */
export interface NotCondition {
  not: Condition;
  all?: never;
  any?: never;
  attr?: never;
}

/** A rule condition: a comparison or `all` / `any` / `not` (nesting at most 16, 256 comparisons per rule). */
export type Condition = Comparison | AllCondition | AnyCondition | NotCondition;

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
