// The manifest type against docs/manifest.md: every section, operator and form is
// accepted; documented mistakes are type errors.
import type { Condition, Manifest, PromptVersion, Route, Rule, Target } from "edgeprompt";

// The demo manifest (examples/demo.json; scripts/check-types.sh also checks the file itself).
export const demo = {
  schema: 1,
  revision: 1,
  metrics: {
    resolved: { kind: "binary", higher_is_better: true, description: "the user's issue was resolved" },
    thumbs_up: { kind: "binary", higher_is_better: true },
    latency_ms: { kind: "continuous", higher_is_better: false },
    follow_ups: { kind: "count", higher_is_better: false },
  },
  snippets: {
    tone: {
      description: "house style for customer-facing answers",
      versions: [
        { version: 1, template: "Be friendly and concise." },
        { version: 2, template: "Be warm, concise and concrete. Answer in {{language}}.", author: "a", note: "n", created_at: "2026-11-02T09:00:00Z" },
      ],
    },
  },
  prompts: {
    support: {
      client: true,
      description: "the support assistant's chat prompt",
      versions: [
        {
          version: 1,
          messages: [
            { role: "system", content: "You are the support assistant of {{company}}. {{> tone}}" },
            { placeholder: "history" },
            { role: "user", content: "{{question}}" },
          ],
          model: { provider: "openai", name: "gpt-4o-mini", params: { temperature: 0.2, max_tokens: 600 } },
          variables: {
            company: { default: "Acme" },
            question: { required: true },
            history: { default: [] },
            plan: { default: null, description: "the customer's plan" },
            flag: { required: false, default: { nested: [1, "two", null] } },
          },
          snippets: { tone: 1 },
          author: "ana@example.com",
          note: "first version",
          created_at: "2026-11-02T09:00:00Z",
        },
        {
          version: 2,
          text: "Hello {{name}}",
          tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
          response_format: { type: "json_object" },
          variables: { name: { required: true } },
        },
      ],
      labels: {
        production: {
          salt: "support/production",
          rules: [
            { name: "qa", units: ["qa-alice", "qa-bob"], target: { version: 2 } },
            { name: "qa-hashed", unit_hashes: ["0".repeat(64)], target: { version: 2 } },
            { name: "old-apps", when: { attr: "app_version", op: "semver_lt", value: "2.0.0" }, target: { version: 1 } },
            {
              name: "eu-pro",
              when: { all: [{ attr: "country", op: "in", value: ["DE", "FR"] }, { attr: "plan", op: "eq", value: "pro" }] },
              target: { split: [{ version: 1, weight: 50 }, { version: 2, weight: 50 }] },
            },
          ],
          default: { split: [{ version: 1, weight: 90 }, { version: 2, weight: 10 }] },
        },
        staging: { default: { version: 2 } },
      },
    },
    bare: { versions: [{ version: 1, text: "no labels" }] },
  },
  rollouts: {},
} satisfies Manifest;

// Every operator of the conditions table, and the combinators.
export const conditions: Condition[] = [
  { attr: "plan", op: "eq", value: "pro" },
  { attr: "level", op: "eq", value: 3 },
  { attr: "beta", op: "ne", value: true },
  { attr: "country", op: "in", value: ["DE", 1, false] },
  { attr: "country", op: "not_in", value: [] },
  { attr: "age", op: "lt", value: 18 },
  { attr: "age", op: "lte", value: 18 },
  { attr: "age", op: "gt", value: 1.5 },
  { attr: "age", op: "gte", value: 0 },
  { attr: "app", op: "semver_eq", value: "2.3.0" },
  { attr: "app", op: "semver_lt", value: "v2.3.0-beta.1" },
  { attr: "app", op: "semver_lte", value: "2.3.0" },
  { attr: "app", op: "semver_gt", value: "2.3.0" },
  { attr: "app", op: "semver_gte", value: "2.3.0+build" },
  { attr: "email", op: "exists" },
  { all: [] },
  { any: [{ attr: "a", op: "exists" }, { not: { attr: "b", op: "exists" } }] },
  { not: { all: [{ any: [] }] } },
];

// Documented mistakes.
export const badKind = {
  schema: 1,
  revision: 1,
  prompts: {},
  // @ts-expect-error: a metric kind is binary, continuous or count
  metrics: { share: { kind: "percent" } },
} satisfies Manifest;

// @ts-expect-error: this engine reads schema 1 only
export const schema2: Manifest = { schema: 2, revision: 1, prompts: {} };

// @ts-expect-error: revision is required
export const noRevision: Manifest = { schema: 1, prompts: {} };

// @ts-expect-error: under schema 1, rollouts accepts only {}
export const rollouts: Manifest = { schema: 1, revision: 1, prompts: {}, rollouts: { plan: 1 } };

// @ts-expect-error: a version has text or messages, not both
export const both: PromptVersion = { version: 1, text: "a", messages: [{ role: "user", content: "b" }] };

// @ts-expect-error: a version needs text or messages
export const neither: PromptVersion = { version: 1 };

// @ts-expect-error: a placeholder has no role or content
export const placeholderRole: PromptVersion = { version: 1, messages: [{ placeholder: "history", role: "user" }] };

// @ts-expect-error: a required variable cannot have a default
export const requiredDefault: PromptVersion = { version: 1, text: "{{a}}", variables: { a: { required: true, default: 1 } } };

// @ts-expect-error: every variable needs a source
export const noSource: PromptVersion = { version: 1, text: "{{a}}", variables: { a: {} } };

// @ts-expect-error: a default must be JSON
export const fnDefault: PromptVersion = { version: 1, text: "{{a}}", variables: { a: { default: () => 1 } } };

// @ts-expect-error: snippet pins are version numbers
export const pinName: PromptVersion = { version: 1, text: "{{> tone}}", snippets: { tone: "latest" } };

// @ts-expect-error: model params are an object
export const params: PromptVersion = { version: 1, text: "a", model: { params: [0.2] } };

// @ts-expect-error: tools are definition objects
export const tools: PromptVersion = { version: 1, text: "a", tools: ["lookup"] };

// @ts-expect-error: a rule takes one of when, units, unit_hashes
export const twoMatchers: Rule = { name: "r", units: ["u"], when: { attr: "a", op: "exists" }, target: { version: 1 } };

// @ts-expect-error: a rule needs a matcher
export const noMatcher: Rule = { name: "r", target: { version: 1 } };

// @ts-expect-error: a rule needs a name
export const noName: Rule = { units: ["u"], target: { version: 1 } };

// @ts-expect-error: a target is a version or a split, not both
export const twoTargets: Target = { version: 1, split: [{ version: 1, weight: 100 }] };

// @ts-expect-error: a split entry needs a weight
export const noWeight: Target = { split: [{ version: 1 }] };

// @ts-expect-error: a route needs a default
export const noDefault: Route = { rules: [] };

// @ts-expect-error: exists takes no value
export const existsValue: Condition = { attr: "a", op: "exists", value: true };

// @ts-expect-error: ordering operators compare numbers or strings
export const ltBoolean: Condition = { attr: "a", op: "lt", value: true };

// Strings order by their bytes.
export const ltString: Condition = { attr: "a", op: "lt", value: "5" };

// @ts-expect-error: in takes an array
export const inScalar: Condition = { attr: "a", op: "in", value: "DE" };

// @ts-expect-error: eq compares scalars, not null
export const eqNull: Condition = { attr: "a", op: "eq", value: null };

// @ts-expect-error: semver operators take a version string
export const semverNumber: Condition = { attr: "a", op: "semver_gte", value: 2 };

// @ts-expect-error: unknown operator
export const within: Condition = { attr: "a", op: "within", value: "x" };

// The targeting operators of issue 23.
export const targeting: Condition = {
  any: [
    { attr: "email", op: "matches", value: "@example\\.com$", case_insensitive: true },
    { attr: "email", op: "ends_with", value: "@example.com", case_insensitive: true },
    { attr: "groups", op: "contains", value: "beta" },
    { attr: "groups", op: "contains_any", value: ["beta", 3] },
    { attr: "signed_up", op: "before", value: "2026-01-01T00:00:00Z" },
    { attr: "$now", op: "after", value: "2026-06-01T09:00:00+02:00" },
  ],
};

// @ts-expect-error: contains_all takes an array
export const containsAllScalar: Condition = { attr: "g", op: "contains_all", value: "beta" };

// @ts-expect-error: a combinator holds one key
export const allAndAny: Condition = { all: [], any: [] };

// @ts-expect-error: not takes one condition, not a list
export const notList: Condition = { not: [] };
