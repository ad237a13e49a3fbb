// Types for JSON values and the manifest document (docs/manifest.md); index.d.ts
// exports them with the rest of the package's types.

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
/** Membership operators (a list attribute: whether any of its items is listed). */
export type MembershipOperator = "in" | "not_in";
/** Ordering operators: numerically against a number, by UTF-8 bytes against a string. */
export type NumericOperator = "lt" | "lte" | "gt" | "gte";
/** Operators on a string attribute. */
export type TextOperator = "starts_with" | "ends_with" | "contains_str";
/** Operators on a list attribute, with an array of values. */
export type ListOperator = "contains_any" | "contains_all" | "contains_none";
/** Operators on an RFC 3339 time attribute (or `$now`, the request's time). */
export type TimeOperator = "before" | "after";
/** SemVer precedence operators. */
export type SemverOperator = "semver_eq" | "semver_lt" | "semver_lte" | "semver_gt" | "semver_gte";
/** Every comparison operator. */
export type ComparisonOperator =
  | EqualityOperator
  | MembershipOperator
  | NumericOperator
  | TextOperator
  | "matches"
  | "contains"
  | ListOperator
  | TimeOperator
  | SemverOperator
  | "exists";

/** `eq`: equal; `ne`: present and not equal. */
export interface EqualityComparison {
  attr: string;
  op: EqualityOperator;
  value: ConditionScalar;
  /** Compare strings by Unicode simple case folding. */
  case_insensitive?: boolean;
}

/** `in`: equal to one; `not_in`: present and equal to none. */
export interface MembershipComparison {
  attr: string;
  op: MembershipOperator;
  value: ConditionScalar[];
  /** Compare strings by Unicode simple case folding. */
  case_insensitive?: boolean;
}

/** Ordering: against a number numerically (numeric strings too), against a string by bytes. */
export interface NumericComparison {
  attr: string;
  op: NumericOperator;
  value: number | string;
}

/** A string attribute starts with, ends with or contains the value (at most 1,024 bytes). */
export interface TextComparison {
  attr: string;
  op: TextOperator;
  value: string;
  /** Compare by Unicode simple case folding. */
  case_insensitive?: boolean;
}

/** A string attribute matches the regular expression somewhere (regex-lite syntax, at most 256 bytes). */
export interface MatchesComparison {
  attr: string;
  op: "matches";
  value: string;
  /** Ignore the case of ASCII letters. */
  case_insensitive?: boolean;
}

/** A list attribute has an item equal to the value. */
export interface ContainsComparison {
  attr: string;
  op: "contains";
  value: ConditionScalar;
  /** Compare strings by Unicode simple case folding. */
  case_insensitive?: boolean;
}

/** A list attribute has an item equal to one / to each / to none of the values. */
export interface ListComparison {
  attr: string;
  op: ListOperator;
  value: ConditionScalar[];
  /** Compare strings by Unicode simple case folding. */
  case_insensitive?: boolean;
}

/** An RFC 3339 attribute (or `$now`, the request's time) strictly before / after the value's instant. */
export interface TimeComparison {
  attr: string;
  op: TimeOperator;
  /** RFC 3339 with an offset, e.g. `2026-01-01T00:00:00Z`. */
  value: string;
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
export type Comparison =
  | EqualityComparison
  | MembershipComparison
  | NumericComparison
  | TextComparison
  | MatchesComparison
  | ContainsComparison
  | ListComparison
  | TimeComparison
  | SemverComparison
  | ExistsComparison;

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
