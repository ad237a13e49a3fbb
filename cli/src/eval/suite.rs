//! Eval suites: `prompts/<name>/evals/*.json` beside the prompt's sources, one suite
//! per file, read with every problem named by file and path.

use super::assert::{self, Assertion};
use edgeprompt::value::canonical::{canonical, sha256_hex};
use serde_json::{Map, Value};
use std::path::Path;

/// One suite file.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The prompt it evaluates (its folder's name).
    pub prompt: String,
    /// The file's name without `.json`.
    pub name: String,
    /// Its path relative to the sources directory (`prompts/p/evals/basic.json`).
    pub file: String,
    /// Hex SHA-256 of the file's canonical JSON: what exactly was checked.
    pub hash: String,
    /// Its cases, in file order.
    pub cases: Vec<Case>,
}

/// One case of a suite.
#[derive(Debug, Clone)]
pub struct Case {
    /// Unique in its suite.
    pub name: String,
    /// The template variables (an object).
    pub variables: Value,
    /// Request attributes for a label's rules (an object, or null).
    pub attributes: Value,
    /// Evaluate what this label serves `unit` instead of the version under test.
    pub label: Option<String>,
    /// The unit a label is resolved for.
    pub unit: Option<String>,
    /// The suite's shared assertions, then the case's own.
    pub assertions: Vec<Assertion>,
}

impl Case {
    /// Whether the case resolves through a label (it names a label or a unit).
    pub fn routed(&self) -> bool {
        self.label.is_some() || self.unit.is_some()
    }
}

const SUITE_KEYS: &[&str] = &["description", "assertions", "cases"];
const CASE_KEYS: &[&str] = &[
    "name",
    "description",
    "variables",
    "attributes",
    "label",
    "unit",
    "assertions",
];

/// Reads every suite under `dir/prompts/*/evals/` (only `prompt`'s, when given), sorted
/// by file; problems come back as `PATH: reason`, all of them.
pub fn load(dir: &Path, prompt: Option<&str>) -> Result<Vec<Suite>, Vec<String>> {
    let mut problems = Vec::new();
    let mut suites = Vec::new();
    let root = dir.join("prompts");
    let mut prompts: Vec<String> = match std::fs::read_dir(&root) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("evals").is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) => return Err(vec![format!("{}: {e}", root.display())]),
    };
    prompts.sort();
    for name in prompts.iter().filter(|n| prompt.is_none_or(|p| p == *n)) {
        let evals = root.join(name).join("evals");
        let mut files: Vec<_> = match std::fs::read_dir(&evals) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
                .collect(),
            Err(e) => {
                problems.push(format!("{}: {e}", evals.display()));
                continue;
            }
        };
        files.sort();
        for path in files {
            let rel = format!(
                "prompts/{name}/evals/{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(format!("{rel}: {e}"));
                    continue;
                }
            };
            if let Some(s) = parse(name, &rel, &text, &mut problems) {
                suites.push(s);
            }
        }
    }
    if problems.is_empty() {
        Ok(suites)
    } else {
        Err(problems)
    }
}

/// Reads one suite's text; problems are pushed as `FILE: PATH: reason`.
pub fn parse(prompt: &str, file: &str, text: &str, problems: &mut Vec<String>) -> Option<Suite> {
    let doc: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!("{file}: not valid JSON: {e}"));
            return None;
        }
    };
    let mut p = Vec::new();
    let cases = cases(&doc, &mut p);
    let failed = !p.is_empty();
    problems.extend(p.into_iter().map(|l| format!("{file}: {l}")));
    if failed {
        return None;
    }
    let name = file
        .rsplit('/')
        .next()
        .unwrap_or(file)
        .trim_end_matches(".json")
        .to_string();
    Some(Suite {
        prompt: prompt.to_string(),
        name,
        file: file.to_string(),
        hash: sha256_hex(canonical(&doc).as_bytes()),
        cases,
    })
}

fn unknown_keys(obj: &Map<String, Value>, allowed: &[&str], at: &str, p: &mut Vec<String>) {
    for key in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
        let at = if at.is_empty() {
            String::new()
        } else {
            format!("{at}: ")
        };
        p.push(format!(
            "{at}unknown field {key:?} (expected one of: {})",
            allowed.join(", ")
        ));
    }
}

fn assertions(v: Option<&Value>, at: &str, p: &mut Vec<String>) -> Vec<Assertion> {
    let Some(v) = v else {
        return Vec::new();
    };
    let Some(list) = v.as_array() else {
        p.push(format!("{at}: expected a list of assertions"));
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, a)| assert::parse(a, &format!("{at}[{i}]"), p))
        .collect()
}

fn cases(doc: &Value, p: &mut Vec<String>) -> Vec<Case> {
    let Some(top) = doc.as_object() else {
        p.push("expected an object with \"cases\"".into());
        return Vec::new();
    };
    unknown_keys(top, SUITE_KEYS, "", p);
    if let Some(d) = top.get("description").filter(|d| !d.is_string()) {
        p.push(format!("description: expected a string, not {d}"));
    }
    let shared = assertions(top.get("assertions"), "assertions", p);
    let Some(list) = top.get("cases").and_then(Value::as_array) else {
        p.push("cases: expected a list of cases".into());
        return Vec::new();
    };
    if list.is_empty() {
        p.push("cases: a suite needs at least one case".into());
    }
    let mut out: Vec<Case> = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let at = format!("cases[{i}]");
        let Some(obj) = c.as_object() else {
            p.push(format!("{at}: expected an object"));
            continue;
        };
        unknown_keys(obj, CASE_KEYS, &at, p);
        let name = match obj.get("name").and_then(Value::as_str) {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => {
                p.push(format!("{at}.name: expected a non-empty string"));
                continue;
            }
        };
        if out.iter().any(|c| c.name == name) {
            p.push(format!(
                "{at}.name: {name:?} is already the name of an earlier case"
            ));
        }
        let object = |key: &str, p: &mut Vec<String>| match obj.get(key) {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => {
                p.push(format!("{at}.{key}: expected an object"));
                Value::Null
            }
        };
        let variables = object("variables", p);
        let attributes = object("attributes", p);
        let text = |key: &str, p: &mut Vec<String>| match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(_) => {
                p.push(format!("{at}.{key}: expected a non-empty string"));
                None
            }
        };
        let (label, unit) = (text("label", p), text("unit", p));
        let mut all = shared.clone();
        all.extend(assertions(
            obj.get("assertions"),
            &format!("{at}.assertions"),
            p,
        ));
        if all.is_empty()
            && obj
                .get("assertions")
                .is_none_or(|a| a.as_array().is_some_and(Vec::is_empty))
        {
            p.push(format!(
                "{at}.assertions: a case needs at least one assertion (its own or the suite's)"
            ));
        }
        out.push(Case {
            name,
            variables,
            attributes,
            label,
            unit,
            assertions: all,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let mut p = Vec::new();
        assert!(parse("p", "prompts/p/evals/s.json", text, &mut p).is_none());
        p
    }

    #[test]
    fn a_suite_reads_with_shared_assertions_and_a_stable_hash() {
        let text = r#"{"assertions": [{"type": "no_unrendered"}],
            "cases": [{"name": "a", "variables": {"q": "hi"}, "assertions": [{"type": "contains", "value": "hi"}]},
                      {"name": "b", "label": "production", "unit": "u1"}]}"#;
        let mut p = Vec::new();
        let s = parse("p", "prompts/p/evals/basic.json", text, &mut p).unwrap();
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s.name, "basic");
        assert_eq!(s.cases.len(), 2);
        assert_eq!(s.cases[0].assertions.len(), 2);
        assert_eq!(s.cases[1].assertions[0].kind(), "no_unrendered");
        assert!(s.cases[1].routed() && !s.cases[0].routed());
        // The hash is the content's, not the file's spacing.
        let compact: Value = serde_json::from_str(text).unwrap();
        let s2 = parse("p", "f", &compact.to_string(), &mut p).unwrap();
        assert_eq!(s.hash, s2.hash);
    }

    #[test]
    fn every_problem_is_named_by_file_and_path() {
        let p = problems(
            r#"{"cases": [{"name": "a", "variables": [], "assertions": [{"type": "contains"}]},
                {"name": "a", "assertions": [{"type": "matches", "pattern": "("}, {"type": "shout"},
                {"type": "length"}, {"type": "length", "min": 5, "max": 2}, {"type": "judge", "prompt": "g"},
                {"type": "contains", "value": "x", "case_sensitive": true}]},
                {"name": "c"}], "extra": 1}"#,
        );
        let want = [
            "prompts/p/evals/s.json: unknown field \"extra\"",
            "prompts/p/evals/s.json: cases[0].variables: expected an object",
            "prompts/p/evals/s.json: cases[0].assertions[0].value: expected a non-empty string",
            "prompts/p/evals/s.json: cases[1].name: \"a\" is already the name of an earlier case",
            "prompts/p/evals/s.json: cases[1].assertions[0].pattern: not a valid regular expression",
            "prompts/p/evals/s.json: cases[1].assertions[1].type: unknown assertion \"shout\"",
            "prompts/p/evals/s.json: cases[1].assertions[2]: give \"min\", \"max\" or both",
            "prompts/p/evals/s.json: cases[1].assertions[3]: min 5 is over max 2",
            "prompts/p/evals/s.json: cases[1].assertions[4].threshold: expected a number",
            "prompts/p/evals/s.json: cases[1].assertions[5]: unknown field \"case_sensitive\" for contains",
            "prompts/p/evals/s.json: cases[2].assertions: a case needs at least one assertion",
        ];
        for w in want {
            assert!(p.iter().any(|l| l.starts_with(w)), "{w}\n{p:#?}");
        }
        assert_eq!(p.len(), want.len(), "{p:#?}");
        assert_eq!(
            problems("[1]"),
            vec!["prompts/p/evals/s.json: expected an object with \"cases\""]
        );
        assert!(problems("{").first().unwrap().contains("not valid JSON"));
    }
}
