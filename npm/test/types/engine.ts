// The engine: construction, resolve, the decision union and errors.
import { Engine, EdgepromptError, ready } from "edgeprompt";
import type { ChatDecision, Decision, EdgepromptErrorCode, Manifest, ResolveRequest, TextDecision } from "edgeprompt";

declare const manifest: Manifest;
declare const text: string;

await ready();
const engine = new Engine(manifest);
const fromText = new Engine(text);
const revision: number = engine.revision;
fromText.free();

// Requests: attributes and variables are JSON; undefined members are skipped.
const full: ResolveRequest = {
  prompt: "support",
  label: "production",
  unit: "user-42",
  attributes: { app_version: "2.4.0", country: "DE", level: 3, beta: false, missing: null, skipped: undefined },
  variables: {
    question: "Where is my order?",
    history: [{ role: "user", content: "hi" }],
    nested: { a: [1, { b: true }], c: null },
    optional: undefined,
  },
};
const d: Decision = engine.resolve(full);
engine.resolve({ prompt: "support", unit: "u" });
engine.resolve({ prompt: "support", unit: "u", attributes: null, variables: null });
const frozenList = ["a", "b"] as const;
engine.resolve({ prompt: "support", unit: "u", variables: { list: frozenList } });

// Common fields.
const common: [string, string, number, string, number, number, string] = [d.prompt, d.label, d.version, d.rule, d.bucket, d.revision, d.hash];
const model: string | undefined = d.model?.name;
const params: unknown = d.model?.params?.temperature;
const toolCount: number = d.tools?.length ?? 0;
const format: unknown = d.response_format?.type;

// Narrowing: exactly one of text / messages.
if ("text" in d) {
  const t: TextDecision = d;
  const s: string = d.text;
  // @ts-expect-error: a text decision has no messages
  d.messages;
} else {
  const c: ChatDecision = d;
  for (const m of d.messages) {
    const line: string = `${m.role}: ${m.content}`;
  }
  // @ts-expect-error: a chat decision has no text
  d.text;
}
if ("messages" in d) {
  const c: ChatDecision = d;
}

// Errors.
try {
  new Engine("{");
} catch (e) {
  if (e instanceof EdgepromptError) {
    const code: EdgepromptErrorCode = e.code;
    if (e.code === "invalid_manifest") {
      for (const p of e.problems ?? []) console.log(`${p.path}: ${p.reason}`);
    }
    const status: number | undefined = e.status;
    const details: unknown = e.details;
    const name: "EdgepromptError" = e.name;
    const asError: Error = e;
  }
}
const custom = new EdgepromptError("some_new_code", "message", { any: "details" });
const known = new EdgepromptError("unknown_prompt", "message");

// Mistakes.
// @ts-expect-error: resolve needs a unit
engine.resolve({ prompt: "support" });
// @ts-expect-error: resolve needs a prompt
engine.resolve({ unit: "u" });
// @ts-expect-error: a unit is a string
engine.resolve({ prompt: "support", unit: 42 });
// @ts-expect-error: a label is a string
engine.resolve({ prompt: "support", unit: "u", label: 1 });
// @ts-expect-error: a variable value is JSON, not a function
engine.resolve({ prompt: "support", unit: "u", variables: { fn: () => "x" } });
// @ts-expect-error: nor a bigint
engine.resolve({ prompt: "support", unit: "u", variables: { big: 1n } });
// @ts-expect-error: nor a symbol, deep inside
engine.resolve({ prompt: "support", unit: "u", attributes: { a: [{ s: Symbol("x") }] } });
// @ts-expect-error: attributes are an object, not a list
engine.resolve({ prompt: "support", unit: "u", attributes: ["a"] });
// @ts-expect-error: unknown request fields are refused
engine.resolve({ prompt: "support", unit: "u", track: false });
// @ts-expect-error: the revision is read-only
engine.revision = 2;
// @ts-expect-error: a manifest is an object or JSON text
new Engine(42);
// @ts-expect-error: the decision's model settings are frozen
d.model!.name = "other";
// @ts-expect-error: the decision's tools are frozen
d.tools!.push({});
// @ts-expect-error: text is a string
const notNumber: number = (d as TextDecision).text;

// The spec version is a read-only number on the class.
const spec: number = Engine.specVersion;
void spec;
// @ts-expect-error: read-only
Engine.specVersion = 2;
