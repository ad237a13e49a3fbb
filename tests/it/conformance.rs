//! The conformance set (`tests/conformance/`, see its README): the behaviour every
//! platform must reproduce exactly, run here against the native engine. The set is an
//! input: these tests read it and never write it; a change of behaviour is a new
//! `spec_version`, written by hand with the engine's `edgeprompt::SPEC_VERSION`.

use edgeprompt::assign::{bucket, hash64};
use edgeprompt::manifest::{self, CompiledManifest};
use edgeprompt::render::{self, NoPartials, RenderOptions, Template};
use edgeprompt::resolve::{self, Request};
use serde_json::{json, Map, Value};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance");

/// The sections, each `{"spec_version", "section", ..., "cases": [...]}`.
const SECTIONS: [&str; 4] = ["assignment", "decisions", "conditions", "rendering"];

fn read(file: &str) -> String {
    let path = format!("{DIR}/{file}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A section's document, after checking that it pins the behaviour this engine
/// implements.
pub(crate) fn section_doc(name: &str) -> Value {
    let doc: Value = serde_json::from_str(&read(&format!("{name}.json")))
        .unwrap_or_else(|e| panic!("{name}.json: {e}"));
    assert_eq!(
        doc["spec_version"],
        json!(edgeprompt::SPEC_VERSION),
        "{name}.json pins spec_version {}, the engine implements {}: a change of behaviour \
         bumps both together (tests/conformance/README.md)",
        doc["spec_version"],
        edgeprompt::SPEC_VERSION
    );
    assert_eq!(doc["section"], name, "{name}.json names another section");
    doc
}

/// A section's cases.
pub(crate) fn cases(name: &str) -> Vec<Value> {
    match section_doc(name).get_mut("cases").map(Value::take) {
        Some(Value::Array(cases)) if !cases.is_empty() => cases,
        other => panic!("{name}.json: \"cases\" is not a non-empty array: {other:?}"),
    }
}

/// The manifest the decisions section names, compiled.
pub(crate) fn decisions_manifest() -> CompiledManifest {
    let file = section_doc("decisions")["manifest"]
        .as_str()
        .expect("decisions.json names its manifest")
        .to_string();
    manifest::compile(&read(&file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn every_section_pins_the_engines_spec_version() {
    for name in SECTIONS {
        let doc = section_doc(name);
        let cases = doc["cases"].as_array().map_or(0, Vec::len);
        assert!(cases > 0, "{name}.json has no cases");
    }
    // The manifest stays a plain manifest document (its format is the manifest
    // schema's); its spec version is the one of decisions.json, which names it.
    let m: Value = serde_json::from_str(&read("manifest.json")).unwrap();
    assert_eq!(m["schema"], 1);
    assert!(m.get("spec_version").is_none() && m.get("section").is_none());
    assert_eq!(section_doc("decisions")["manifest"], "manifest.json");
}

#[test]
fn case_names_are_unique_in_each_section() {
    for name in ["decisions", "conditions", "rendering"] {
        let mut names: Vec<String> = cases(name)
            .iter()
            .map(|c| {
                c["name"]
                    .as_str()
                    .expect("every case has a name")
                    .to_string()
            })
            .collect();
        let total = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), total, "{name}.json repeats a case name");
    }
}

#[test]
fn assignment_hashes_and_buckets() {
    let cases = cases("assignment");
    assert!(cases.len() >= 132, "{} cases", cases.len());
    for c in &cases {
        let (salt, unit) = (c["salt"].as_str().unwrap(), c["unit"].as_str().unwrap());
        assert_eq!(
            format!("{:016x}", hash64(salt, unit)),
            c["hash64"],
            "hash64({salt:?}, {unit:?})"
        );
        assert_eq!(
            json!(bucket(salt, unit)),
            c["bucket"],
            "bucket({salt:?}, {unit:?})"
        );
    }
}

/// The case's request resolved, as the set records it: the decision, or the error's
/// code and message.
fn outcome(m: &CompiledManifest, request: &Value) -> Value {
    let decided = Request::from_json(request, &[]).and_then(|req| resolve::resolve(m, &req));
    match decided {
        Ok(d) => json!({"decision": d}),
        Err(e) => json!({"error": {"code": e.code(), "message": e.to_string()}}),
    }
}

#[test]
fn decisions_and_errors() {
    let m = decisions_manifest();
    let cases = cases("decisions");
    assert!(cases.len() >= 60, "{} cases", cases.len());
    for case in &cases {
        let got = outcome(&m, &case["request"]);
        assert_eq!(got, case["expected"], "case {}", case["name"]);
    }
}

/// The manifest that evaluates one condition (README: one rule `r` with the case's
/// `when`, targeting version 2; the default serves version 1).
fn condition_manifest(when: &Value) -> Value {
    json!({
        "schema": 1,
        "revision": 1,
        "prompts": {"c": {
            "versions": [{"version": 1, "text": "1"}, {"version": 2, "text": "2"}],
            "labels": {"production": {
                "rules": [{"name": "r", "when": when, "target": {"version": 2}}],
                "default": {"version": 1},
            }},
        }},
    })
}

#[test]
fn conditions() {
    let cases = cases("conditions");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let doc = condition_manifest(&case["when"]);
        let m = manifest::compile(&doc.to_string())
            .unwrap_or_else(|e| panic!("case {name}: the condition does not compile: {e}"));
        let req = Request {
            prompt: "c",
            label: None,
            unit: "u",
            attributes: case.get("attributes"),
            variables: None,
            // The request's time, when the case gives one (README: `now`).
            now_ms: case.get("now").map(|t| {
                edgeprompt::time::parse_rfc3339(t.as_str().unwrap())
                    .unwrap_or_else(|e| panic!("case {name}: now: {e}"))
            }),
        };
        let a = resolve::assign(&m, &req).unwrap_or_else(|e| panic!("case {name}: {e}"));
        let holds = a.rule == "r";
        assert_eq!(a.version, if holds { 2 } else { 1 }, "case {name}");
        if json!(holds) != case["expected"] {
            failures.push(format!(
                "{name}: expected {}, got {holds}",
                case["expected"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} condition cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every operator (and all/any/not) appears in the conditions section, in a case that
/// holds and in one that does not.
#[test]
fn conditions_cover_every_operator_both_ways() {
    fn ops(c: &Value, out: &mut Vec<String>) {
        if let Some(op) = c.get("op").and_then(Value::as_str) {
            out.push(op.to_string());
        }
        for key in ["all", "any"] {
            if let Some(list) = c.get(key).and_then(Value::as_array) {
                out.push(key.to_string());
                list.iter().for_each(|x| ops(x, out));
            }
        }
        if let Some(inner) = c.get("not") {
            out.push("not".to_string());
            ops(inner, out);
        }
    }
    let cases = cases("conditions");
    for op in [
        "eq",
        "ne",
        "in",
        "not_in",
        "lt",
        "lte",
        "gt",
        "gte",
        "starts_with",
        "ends_with",
        "contains_str",
        "matches",
        "contains",
        "contains_any",
        "contains_all",
        "contains_none",
        "before",
        "after",
        "semver_eq",
        "semver_lt",
        "semver_lte",
        "semver_gt",
        "semver_gte",
        "exists",
        "all",
        "any",
        "not",
    ] {
        for expected in [true, false] {
            let found = cases.iter().any(|c| {
                let mut used = Vec::new();
                ops(&c["when"], &mut used);
                c["expected"] == expected && used.iter().any(|u| u == op)
            });
            assert!(found, "no case with {op} that evaluates to {expected}");
        }
    }
}

/// The manifest that renders one case through resolve (README): a text prompt whose
/// template is the case's, declaring each key of the data as a variable.
fn rendering_manifest(case: &Value) -> Value {
    let data = case["data"].as_object().expect("data is an object");
    let variables: Map<String, Value> = data
        .keys()
        .map(|k| (k.clone(), json!({"default": null})))
        .collect();
    json!({
        "schema": 1,
        "revision": 1,
        "prompts": {"t": {
            "versions": [{"version": 1, "text": case["template"], "variables": variables}],
            "labels": {"production": {"default": {"version": 1}}},
        }},
    })
}

#[test]
fn rendering() {
    let cases = cases("rendering");
    let mut failures = Vec::new();
    let mut through_resolve = 0;
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let template = case["template"].as_str().unwrap();
        let expected = case["expected"].as_str().unwrap();
        let tpl = Template::compile(template)
            .unwrap_or_else(|e| panic!("case {name}: the template does not compile: {e}"));
        let got = render::render(
            &tpl,
            &[&case["data"]],
            &NoPartials,
            &RenderOptions::default(),
        )
        .unwrap_or_else(|e| panic!("case {name}: {e}"));
        if got != expected {
            failures.push(format!("{name}: expected {expected:?}, rendered {got:?}"));
        }
        // What the other platforms run: the same case through a manifest and resolve.
        let doc = rendering_manifest(case);
        let compiled = manifest::compile(&doc.to_string());
        if case.get("native_only").is_some() {
            // Only a case that cannot go through a manifest may stay native.
            assert!(
                compiled.is_err(),
                "case {name} is marked native_only, but its manifest validates"
            );
            continue;
        }
        let m = compiled.unwrap_or_else(|e| panic!("case {name}: {e}"));
        let req = Request {
            prompt: "t",
            label: None,
            unit: "u",
            attributes: None,
            variables: Some(&case["data"]),
            now_ms: None,
        };
        let d = resolve::resolve(&m, &req).unwrap_or_else(|e| panic!("case {name}: {e}"));
        let text = json!(d)["text"].clone();
        if text != expected {
            failures.push(format!(
                "{name} (resolve): expected {expected:?}, got {text}"
            ));
        }
        through_resolve += 1;
    }
    assert!(
        failures.is_empty(),
        "{} rendering failures in {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(
        through_resolve + 5 >= cases.len(),
        "{through_resolve} through resolve"
    );
}
