//! Assertions: their JSON form, and the checks on a rendered prompt and on a model's
//! answer. Each check passes, or fails with a reason that says what was found.

use super::model::Answer;
use super::render::{self, Rendering};
use edgeprompt::manifest::{CompiledManifest, Version};
use regex::{Regex, RegexBuilder};
use serde_json::{json, Map, Value};

/// One assertion of a case.
#[derive(Debug, Clone)]
pub enum Assertion {
    /// The selected text holds (or, `negate`, does not hold) `value`.
    Contains {
        /// The text looked for.
        value: String,
        /// Compare lower-cased.
        case_insensitive: bool,
        /// `not_contains`.
        negate: bool,
        /// Which messages (`None`: the whole rendering).
        role: Option<String>,
    },
    /// The selected text matches a regular expression.
    Matches {
        /// The compiled expression.
        regex: Regex,
        /// Which messages.
        role: Option<String>,
    },
    /// The selected text's length in characters is within bounds.
    Length {
        /// Fewest characters.
        min: Option<u64>,
        /// Most characters.
        max: Option<u64>,
        /// Which messages.
        role: Option<String>,
    },
    /// Every required variable changes the selected rendering.
    UsesRequiredVariables {
        /// Which messages.
        role: Option<String>,
    },
    /// No `{{` is left in the selected rendering.
    NoUnrendered {
        /// Which messages.
        role: Option<String>,
    },
    /// The answer's text holds (or, `negate`, does not hold) `value`.
    AnswerContains {
        /// The text looked for.
        value: String,
        /// Compare lower-cased.
        case_insensitive: bool,
        /// `answer_not_contains`.
        negate: bool,
    },
    /// The answer's text matches a regular expression.
    AnswerMatches {
        /// The compiled expression.
        regex: Regex,
    },
    /// The answer's text is JSON valid against a schema (the version's
    /// `response_format` unless one is given).
    AnswerJsonSchema {
        /// A schema given in the assertion.
        schema: Option<Value>,
    },
    /// The answer calls the named tool.
    ToolCall {
        /// The tool (function) name.
        name: String,
    },
    /// A judge prompt grades the answer; passes at a score of at least `threshold`.
    Judge {
        /// The judge prompt's name in the sources.
        prompt: String,
        /// The lowest passing score.
        threshold: f64,
        /// Free text handed to the judge as `criteria`.
        criteria: Option<String>,
    },
}

/// How one assertion came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It holds.
    Pass,
    /// It does not hold.
    Fail,
    /// It was not checked (no model endpoint, or the case failed before).
    Skip,
    /// It could not be checked (the model or the judge failed).
    Error,
}

impl Status {
    /// Its name in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }
}

/// One assertion's result: its status, the reason when it did not pass, and extra
/// fields for the JSON output (a judge's score).
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Pass, fail, skip or error.
    pub status: Status,
    /// Why it did not pass.
    pub reason: Option<String>,
    /// Extra fields (`score`, `threshold`, `judge`).
    pub extra: Map<String, Value>,
}

impl Outcome {
    /// A pass.
    pub fn pass() -> Outcome {
        Outcome {
            status: Status::Pass,
            reason: None,
            extra: Map::new(),
        }
    }

    /// A result other than a pass, with its reason.
    pub fn not(status: Status, reason: impl Into<String>) -> Outcome {
        Outcome {
            status,
            reason: Some(reason.into()),
            extra: Map::new(),
        }
    }

    fn check(ok: bool, reason: impl FnOnce() -> String) -> Outcome {
        if ok {
            Outcome::pass()
        } else {
            Outcome::not(Status::Fail, reason())
        }
    }
}

const KINDS: &[&str] = &[
    "contains",
    "not_contains",
    "matches",
    "length",
    "uses_required_variables",
    "no_unrendered",
    "answer_contains",
    "answer_not_contains",
    "answer_matches",
    "answer_json_schema",
    "tool_call",
    "judge",
];

/// Reads an assertion object; problems are pushed as `PATH: reason`.
pub fn parse(v: &Value, path: &str, problems: &mut Vec<String>) -> Option<Assertion> {
    let Some(obj) = v.as_object() else {
        problems.push(format!("{path}: expected an object with \"type\""));
        return None;
    };
    let Some(kind) = obj.get("type").and_then(Value::as_str) else {
        problems.push(format!(
            "{path}.type: missing; one of: {}",
            KINDS.join(", ")
        ));
        return None;
    };
    let allowed: &[&str] = match kind {
        "contains" | "not_contains" => &["value", "case_insensitive", "role"],
        "matches" => &["pattern", "case_insensitive", "role"],
        "length" => &["min", "max", "role"],
        "uses_required_variables" | "no_unrendered" => &["role"],
        "answer_contains" | "answer_not_contains" => &["value", "case_insensitive"],
        "answer_matches" => &["pattern", "case_insensitive"],
        "answer_json_schema" => &["schema"],
        "tool_call" => &["name"],
        "judge" => &["prompt", "threshold", "criteria"],
        other => {
            problems.push(format!(
                "{path}.type: unknown assertion {other:?}; one of: {}",
                KINDS.join(", ")
            ));
            return None;
        }
    };
    let mut f = Fields {
        obj,
        path,
        problems: Vec::new(),
    };
    for key in obj.keys().filter(|k| *k != "type") {
        if !allowed.contains(&key.as_str()) {
            f.push(
                "",
                format!(
                    "unknown field {key:?} for {kind} (expected: {})",
                    allowed.join(", ")
                ),
            );
        }
    }
    let a = f.assertion(kind);
    let ok = f.problems.is_empty();
    problems.append(&mut f.problems);
    a.filter(|_| ok)
}

/// Typed reads of an assertion's fields, each problem named by its path.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    path: &'a str,
    problems: Vec<String>,
}

impl Fields<'_> {
    fn push(&mut self, at: &str, reason: String) {
        self.problems.push(format!("{}{at}: {reason}", self.path));
    }

    fn assertion(&mut self, kind: &str) -> Option<Assertion> {
        Some(match kind {
            "contains" | "not_contains" => Assertion::Contains {
                value: self.string("value")?,
                case_insensitive: self.flag("case_insensitive"),
                negate: kind == "not_contains",
                role: self.role(),
            },
            "matches" => Assertion::Matches {
                regex: self.regex()?,
                role: self.role(),
            },
            "length" => {
                let (min, max) = (self.count("min"), self.count("max"));
                match (min, max) {
                    (None, None) => {
                        self.push("", "give \"min\", \"max\" or both (characters)".into());
                        return None;
                    }
                    (Some(lo), Some(hi)) if lo > hi => {
                        self.push("", format!("min {lo} is over max {hi}"));
                        return None;
                    }
                    _ => Assertion::Length {
                        min,
                        max,
                        role: self.role(),
                    },
                }
            }
            "uses_required_variables" => Assertion::UsesRequiredVariables { role: self.role() },
            "no_unrendered" => Assertion::NoUnrendered { role: self.role() },
            "answer_contains" | "answer_not_contains" => Assertion::AnswerContains {
                value: self.string("value")?,
                case_insensitive: self.flag("case_insensitive"),
                negate: kind == "answer_not_contains",
            },
            "answer_matches" => Assertion::AnswerMatches {
                regex: self.regex()?,
            },
            "answer_json_schema" => {
                let schema = self.obj.get("schema").cloned();
                if let Some(s) = &schema {
                    if let Err(e) = jsonschema::validator_for(s) {
                        self.push(".schema", format!("not a usable JSON Schema: {e}"));
                        return None;
                    }
                }
                Assertion::AnswerJsonSchema { schema }
            }
            "tool_call" => Assertion::ToolCall {
                name: self.string("name")?,
            },
            _ => {
                let prompt = self.string("prompt")?;
                let threshold = match self.obj.get("threshold").and_then(Value::as_f64) {
                    Some(t) => t,
                    None => {
                        self.push(
                            ".threshold",
                            "expected a number: the lowest passing score".into(),
                        );
                        return None;
                    }
                };
                let criteria = match self.obj.get("criteria") {
                    None => None,
                    Some(_) => Some(self.string("criteria")?),
                };
                Assertion::Judge {
                    prompt,
                    threshold,
                    criteria,
                }
            }
        })
    }

    fn string(&mut self, key: &str) -> Option<String> {
        match self.obj.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => {
                self.push(&format!(".{key}"), "expected a non-empty string".into());
                None
            }
        }
    }

    fn flag(&mut self, key: &str) -> bool {
        match self.obj.get(key) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.push(&format!(".{key}"), "expected true or false".into());
                false
            }
        }
    }

    fn count(&mut self, key: &str) -> Option<u64> {
        let v = self.obj.get(key)?;
        let n = v.as_u64();
        if n.is_none() {
            self.push(
                &format!(".{key}"),
                "expected a whole number of characters".into(),
            );
        }
        n
    }

    fn role(&mut self) -> Option<String> {
        self.obj.get("role")?;
        self.string("role")
    }

    fn regex(&mut self) -> Option<Regex> {
        let pattern = self.string("pattern")?;
        let ci = self.flag("case_insensitive");
        match RegexBuilder::new(&pattern).case_insensitive(ci).build() {
            Ok(r) => Some(r),
            Err(e) => {
                self.push(".pattern", format!("not a valid regular expression: {e}"));
                None
            }
        }
    }
}

impl Assertion {
    /// Its `type` in suites and in output.
    pub fn kind(&self) -> &'static str {
        match self {
            Assertion::Contains { negate: false, .. } => "contains",
            Assertion::Contains { negate: true, .. } => "not_contains",
            Assertion::Matches { .. } => "matches",
            Assertion::Length { .. } => "length",
            Assertion::UsesRequiredVariables { .. } => "uses_required_variables",
            Assertion::NoUnrendered { .. } => "no_unrendered",
            Assertion::AnswerContains { negate: false, .. } => "answer_contains",
            Assertion::AnswerContains { negate: true, .. } => "answer_not_contains",
            Assertion::AnswerMatches { .. } => "answer_matches",
            Assertion::AnswerJsonSchema { .. } => "answer_json_schema",
            Assertion::ToolCall { .. } => "tool_call",
            Assertion::Judge { .. } => "judge",
        }
    }

    /// The role it looks at, for assertions on the rendered prompt.
    pub fn role(&self) -> Option<&str> {
        match self {
            Assertion::Contains { role, .. }
            | Assertion::Matches { role, .. }
            | Assertion::Length { role, .. }
            | Assertion::UsesRequiredVariables { role }
            | Assertion::NoUnrendered { role } => role.as_deref(),
            _ => None,
        }
    }

    /// Whether it reads a model's answer.
    pub fn needs_model(&self) -> bool {
        self.kind().starts_with("answer_")
            || matches!(self, Assertion::ToolCall { .. } | Assertion::Judge { .. })
    }

    /// Checks an assertion on the rendered prompt (`None` for assertions on an answer).
    pub fn check_rendered(
        &self,
        m: &CompiledManifest,
        version: &Version,
        vars: &Value,
        rendering: &Rendering,
    ) -> Option<Outcome> {
        if self.needs_model() {
            return None;
        }
        let text = match rendering.select(self.role()) {
            Ok(t) => t,
            Err(reason) => return Some(Outcome::not(Status::Fail, reason)),
        };
        let what = match self.role() {
            Some(r) => format!("the {r:?} messages"),
            None => "the rendering".to_string(),
        };
        Some(match self {
            Assertion::Contains {
                value,
                case_insensitive,
                negate,
                ..
            } => contains(&text, value, *case_insensitive, *negate, &what),
            Assertion::Matches { regex, .. } => Outcome::check(regex.is_match(&text), || {
                format!(
                    "no match for /{}/ in {what}: {}",
                    regex.as_str(),
                    excerpt(&text, 0)
                )
            }),
            Assertion::Length { min, max, .. } => {
                let n = text.chars().count() as u64;
                if let Some(lo) = min.filter(|lo| n < *lo) {
                    Outcome::not(
                        Status::Fail,
                        format!("{what} has {n} characters, under the minimum of {lo}"),
                    )
                } else if let Some(hi) = max.filter(|hi| n > *hi) {
                    Outcome::not(
                        Status::Fail,
                        format!("{what} has {n} characters, over the maximum of {hi}"),
                    )
                } else {
                    Outcome::pass()
                }
            }
            Assertion::UsesRequiredVariables { role } => {
                match render::unused_required(m, version, vars, role.as_deref(), &text) {
                    Ok(unused) if unused.is_empty() => Outcome::pass(),
                    Ok(unused) => Outcome::not(
                        Status::Fail,
                        format!(
                            "required variable(s) {} do not appear in {what} (changing their value changes nothing)",
                            unused.iter().map(|u| format!("{u:?}")).collect::<Vec<_>>().join(", ")
                        ),
                    ),
                    Err(e) => Outcome::not(Status::Error, format!("{}: {e}", e.code())),
                }
            }
            Assertion::NoUnrendered { .. } => match text.find("{{") {
                None => Outcome::pass(),
                Some(at) => Outcome::not(
                    Status::Fail,
                    format!(
                        "\"{{{{\" left in {what} at character {}: {}",
                        char_at(&text, at),
                        excerpt(&text, at)
                    ),
                ),
            },
            _ => return None,
        })
    }

    /// Checks an assertion on a model's answer, except `judge` (see `judge.rs`).
    pub fn check_answer(&self, version: &Version, answer: &Answer) -> Option<Outcome> {
        let text = answer.content.as_deref().unwrap_or("");
        Some(match self {
            Assertion::AnswerContains {
                value,
                case_insensitive,
                negate,
            } => contains(text, value, *case_insensitive, *negate, "the answer"),
            Assertion::AnswerMatches { regex } => Outcome::check(regex.is_match(text), || {
                format!(
                    "no match for /{}/ in the answer: {}",
                    regex.as_str(),
                    excerpt(text, 0)
                )
            }),
            Assertion::AnswerJsonSchema { schema } => {
                json_schema(schema.as_ref(), &version.response_format, answer)
            }
            Assertion::ToolCall { name } => {
                let called: Vec<&str> = answer.tool_calls.iter().map(|c| c.name.as_str()).collect();
                Outcome::check(called.contains(&name.as_str()), || {
                    if called.is_empty() {
                        format!("no call to {name:?}: the answer calls no tool")
                    } else {
                        format!(
                            "no call to {name:?}: the answer calls {}",
                            called.join(", ")
                        )
                    }
                })
            }
            _ => return None,
        })
    }
}

fn contains(text: &str, value: &str, ci: bool, negate: bool, what: &str) -> Outcome {
    let at = if ci {
        // Lower-casing can change byte lengths: find in the lower-cased text and report
        // the position there (close enough for a reason).
        text.to_lowercase().find(&value.to_lowercase())
    } else {
        text.find(value)
    };
    match (at, negate) {
        (Some(_), false) | (None, true) => Outcome::pass(),
        (None, false) => Outcome::not(
            Status::Fail,
            format!("{value:?} not found in {what}: {}", excerpt(text, 0)),
        ),
        (Some(at), true) => {
            let shown = if ci { 0 } else { at };
            Outcome::not(
                Status::Fail,
                format!("{value:?} found in {what}: {}", excerpt(text, shown)),
            )
        }
    }
}

/// The schema an answer is checked against: the assertion's, else the version's
/// `response_format` (OpenAI's `{"type": "json_schema", "json_schema": {"schema"}}`,
/// `{"type": "json_object"}` for any object, or a bare JSON Schema).
pub fn answer_schema(given: Option<&Value>, response_format: &Value) -> Result<Value, String> {
    if let Some(s) = given {
        return Ok(s.clone());
    }
    match response_format.get("type").and_then(Value::as_str) {
        _ if response_format.is_null() => {
            Err("the version has no response_format; give \"schema\" in the assertion".into())
        }
        Some("json_schema") => response_format
            .pointer("/json_schema/schema")
            .cloned()
            .ok_or_else(|| "response_format has no json_schema.schema".to_string()),
        Some("json_object") => Ok(json!({"type": "object"})),
        Some("text") => {
            Err("the version's response_format is text; give \"schema\" in the assertion".into())
        }
        _ => Ok(response_format.clone()),
    }
}

fn json_schema(given: Option<&Value>, response_format: &Value, answer: &Answer) -> Outcome {
    let schema = match answer_schema(given, response_format) {
        Ok(s) => s,
        Err(reason) => return Outcome::not(Status::Fail, reason),
    };
    let validator = match jsonschema::validator_for(&schema) {
        Ok(v) => v,
        Err(e) => {
            return Outcome::not(
                Status::Error,
                format!("the schema is not a usable JSON Schema: {e}"),
            )
        }
    };
    let text = answer.content.as_deref().unwrap_or("");
    let doc: Value = match serde_json::from_str(text) {
        Ok(d) => d,
        Err(e) => {
            return Outcome::not(
                Status::Fail,
                format!("the answer is not JSON ({e}): {}", excerpt(text, 0)),
            )
        }
    };
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .take(3)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!("at {}: {e}", if at.is_empty() { "/" } else { &at })
        })
        .collect();
    Outcome::check(errors.is_empty(), || {
        format!(
            "the answer does not match the schema: {}",
            errors.join("; ")
        )
    })
}

/// The character index of byte offset `at`.
fn char_at(text: &str, at: usize) -> usize {
    text.get(..at).map_or(0, |s| s.chars().count())
}

/// At most 60 characters of `text` from around byte offset `at`, quoted, with `…`
/// where it was cut.
pub fn excerpt(text: &str, at: usize) -> String {
    let start = char_at(text, at).saturating_sub(20);
    let total = text.chars().count();
    let shown: String = text.chars().skip(start).take(60).collect();
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&shown);
    if start + 60 < total {
        out.push('…');
    }
    format!("{out:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::model::ToolCall;

    /// A chat prompt with a required `question` and `plan` (the latter only shown for
    /// pro customers), and a text prompt.
    fn manifest() -> CompiledManifest {
        edgeprompt::manifest::compile_value(json!({"schema": 1, "revision": 1, "prompts": {
            "chat": {"versions": [{"version": 1, "messages": [
                {"role": "system", "content": "You help {{company}} customers.{{#pro}} Plan: {{plan}}.{{/pro}}"},
                {"role": "user", "content": "{{question}}"}],
                "variables": {"company": {"default": "Acme"}, "question": {"required": true},
                              "plan": {"required": true}, "pro": {"default": false}},
                "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema":
                    {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string"}}}}}}],
                "labels": {"production": {"default": {"version": 1}}}},
            "text": {"versions": [{"version": 1, "text": "Summarize: {{text}}",
                "variables": {"text": {"required": true}}}],
                "labels": {"production": {"default": {"version": 1}}}}}}))
        .unwrap()
    }

    fn assertion(v: Value) -> Assertion {
        let mut p = Vec::new();
        let a = parse(&v, "a", &mut p);
        assert!(p.is_empty(), "{p:?}");
        a.unwrap()
    }

    /// Checks `a` on `prompt` rendered with `vars`: the status and reason.
    fn check(prompt: &str, vars: Value, a: Value) -> (Status, String) {
        let m = manifest();
        let v = m.prompt(prompt).unwrap().version(1).unwrap();
        let r = render::render(&m, v, &vars).unwrap();
        let o = assertion(a).check_rendered(&m, v, &vars, &r).unwrap();
        (o.status, o.reason.unwrap_or_default())
    }

    fn chat(a: Value) -> (Status, String) {
        check(
            "chat",
            json!({"question": "Where is my order?", "plan": "pro", "pro": true}),
            a,
        )
    }

    fn pass(r: (Status, String)) {
        assert_eq!(r.0, Status::Pass, "{}", r.1);
    }

    fn fail(r: (Status, String), reason: &str) {
        assert_eq!(r, (Status::Fail, reason.to_string()));
    }

    #[test]
    fn contains_and_not_contains() {
        pass(chat(json!({"type": "contains", "value": "order"})));
        pass(chat(
            json!({"type": "contains", "value": "ACME", "case_insensitive": true}),
        ));
        pass(chat(json!({"type": "not_contains", "value": "refund"})));
        fail(
            chat(json!({"type": "contains", "value": "ACME"})),
            "\"ACME\" not found in the rendering: \"You help Acme customers. Plan: pro.\\nWhere is my order?\"",
        );
        fail(
            chat(json!({"type": "contains", "value": "order", "role": "system"})),
            "\"order\" not found in the \"system\" messages: \"You help Acme customers. Plan: pro.\"",
        );
        fail(
            chat(json!({"type": "not_contains", "value": "Plan"})),
            "\"Plan\" found in the rendering: \"…elp Acme customers. Plan: pro.\\nWhere is my order?\"",
        );
    }

    #[test]
    fn matches_with_and_without_case() {
        pass(chat(
            json!({"type": "matches", "pattern": "^You help \\w+ customers"}),
        ));
        pass(chat(
            json!({"type": "matches", "pattern": "where IS", "case_insensitive": true, "role": "user"}),
        ));
        fail(
            chat(json!({"type": "matches", "pattern": "\\d{4}", "role": "user"})),
            "no match for /\\d{4}/ in the \"user\" messages: \"Where is my order?\"",
        );
    }

    #[test]
    fn length_bounds_on_the_whole_or_a_role() {
        pass(chat(json!({"type": "length", "min": 10, "max": 100})));
        pass(chat(json!({"type": "length", "max": 18, "role": "user"})));
        fail(
            chat(json!({"type": "length", "max": 17, "role": "user"})),
            "the \"user\" messages has 18 characters, over the maximum of 17",
        );
        fail(
            chat(json!({"type": "length", "min": 100})),
            "the rendering has 54 characters, under the minimum of 100",
        );
        // Characters, not bytes.
        pass(check(
            "text",
            json!({"text": "ééé"}),
            json!({"type": "length", "max": 14}),
        ));
    }

    #[test]
    fn roles_that_are_not_there_fail() {
        fail(
            chat(json!({"type": "contains", "value": "x", "role": "tool"})),
            "no \"tool\" message in the rendering",
        );
        fail(
            check(
                "text",
                json!({"text": "t"}),
                json!({"type": "no_unrendered", "role": "user"}),
            ),
            "role \"user\" given, but this version is a text prompt (no messages)",
        );
    }

    #[test]
    fn required_variables_must_change_the_rendering() {
        pass(chat(json!({"type": "uses_required_variables"})));
        // Without `pro`, the plan is not rendered.
        fail(
            check("chat", json!({"question": "q", "plan": "pro"}), json!({"type": "uses_required_variables"})),
            "required variable(s) \"plan\" do not appear in the rendering (changing their value changes nothing)",
        );
        fail(
            chat(json!({"type": "uses_required_variables", "role": "user"})),
            "required variable(s) \"plan\" do not appear in the \"user\" messages (changing their value changes nothing)",
        );
    }

    #[test]
    fn unrendered_braces_fail() {
        pass(chat(json!({"type": "no_unrendered"})));
        fail(
            check(
                "text",
                json!({"text": "see {{this}}"}),
                json!({"type": "no_unrendered"}),
            ),
            "\"{{\" left in the rendering at character 15: \"Summarize: see {{this}}\"",
        );
    }

    fn answer(content: Option<&str>, tools: &[&str]) -> Answer {
        Answer {
            content: content.map(str::to_string),
            tool_calls: tools
                .iter()
                .map(|n| ToolCall {
                    name: n.to_string(),
                    arguments: "{}".into(),
                })
                .collect(),
        }
    }

    fn on_answer(a: Value, ans: &Answer) -> (Status, String) {
        let m = manifest();
        let v = m.prompt("chat").unwrap().version(1).unwrap();
        let o = assertion(a).check_answer(v, ans).unwrap();
        (o.status, o.reason.unwrap_or_default())
    }

    #[test]
    fn answer_assertions() {
        let ok = answer(Some("{\"answer\": \"It ships Monday\"}"), &[]);
        pass(on_answer(
            json!({"type": "answer_contains", "value": "monday", "case_insensitive": true}),
            &ok,
        ));
        pass(on_answer(
            json!({"type": "answer_not_contains", "value": "sorry"}),
            &ok,
        ));
        pass(on_answer(
            json!({"type": "answer_matches", "pattern": "ships \\w+day"}),
            &ok,
        ));
        pass(on_answer(json!({"type": "answer_json_schema"}), &ok));
        fail(
            on_answer(json!({"type": "answer_contains", "value": "Tuesday"}), &ok),
            "\"Tuesday\" not found in the answer: \"{\\\"answer\\\": \\\"It ships Monday\\\"}\"",
        );
        fail(
            on_answer(
                json!({"type": "answer_json_schema"}),
                &answer(Some("{\"answer\": 3}"), &[]),
            ),
            "the answer does not match the schema: at /answer: 3 is not of type \"string\"",
        );
        let r = on_answer(
            json!({"type": "answer_json_schema"}),
            &answer(Some("Monday"), &[]),
        );
        assert_eq!(r.0, Status::Fail);
        assert!(
            r.1.starts_with("the answer is not JSON (expected value"),
            "{}",
            r.1
        );
        pass(on_answer(
            json!({"type": "answer_json_schema", "schema": {"type": "array"}}),
            &answer(Some("[1]"), &[]),
        ));
        let tools = answer(None, &["lookup_order"]);
        pass(on_answer(
            json!({"type": "tool_call", "name": "lookup_order"}),
            &tools,
        ));
        fail(
            on_answer(json!({"type": "tool_call", "name": "refund"}), &tools),
            "no call to \"refund\": the answer calls lookup_order",
        );
        fail(
            on_answer(json!({"type": "tool_call", "name": "refund"}), &ok),
            "no call to \"refund\": the answer calls no tool",
        );
    }

    #[test]
    fn schemas_come_from_the_response_format() {
        let s = json!({"type": "object"});
        assert_eq!(answer_schema(Some(&s), &Value::Null).unwrap(), s);
        assert_eq!(
            answer_schema(None, &json!({"type": "json_object"})).unwrap(),
            s
        );
        let bare = json!({"type": "object", "properties": {"a": {}}});
        assert_eq!(answer_schema(None, &bare).unwrap(), bare);
        assert!(answer_schema(None, &Value::Null)
            .unwrap_err()
            .contains("no response_format"));
        assert!(answer_schema(None, &json!({"type": "text"}))
            .unwrap_err()
            .contains("is text"));
    }
}
