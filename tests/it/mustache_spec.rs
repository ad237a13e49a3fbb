//! Runs the official Mustache spec suites (with HTML escaping, as the spec expects).

use std::collections::HashMap;

use edgeprompt::render::{render, Escape, RenderOptions, Template, Value};

fn run_suite(file: &str) -> (usize, Vec<String>) {
    let path = format!(
        "{}/tests/mustache-spec/{file}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let suite: Value = serde_json::from_str(&text).unwrap();
    let opts = RenderOptions {
        escape: Escape::Html,
        ..RenderOptions::default()
    };
    let mut failures = Vec::new();
    let tests = suite["tests"].as_array().unwrap();
    for case in tests {
        let name = case["name"].as_str().unwrap();
        let template = case["template"].as_str().unwrap();
        let expected = case["expected"].as_str().unwrap();
        let mut partials = HashMap::new();
        if let Some(map) = case.get("partials").and_then(Value::as_object) {
            for (k, v) in map {
                match Template::compile(v.as_str().unwrap()) {
                    Ok(t) => {
                        partials.insert(k.clone(), t);
                    }
                    Err(e) => failures.push(format!("{file} / {name}: partial {k}: {e}")),
                }
            }
        }
        let tpl = match Template::compile(template) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{file} / {name}: compile error: {e}"));
                continue;
            }
        };
        match render(&tpl, &[&case["data"]], &partials, &opts) {
            Ok(out) if out == expected => {}
            Ok(out) => failures.push(format!(
                "{file} / {name}:\n  template: {template:?}\n  expected: {expected:?}\n  actual:   {out:?}"
            )),
            Err(e) => failures.push(format!("{file} / {name}: render error: {e}")),
        }
    }
    (tests.len(), failures)
}

fn check(file: &str) {
    let (total, failures) = run_suite(file);
    assert!(total > 0, "{file}: no test cases");
    assert!(
        failures.is_empty(),
        "{} of {total} cases in {file} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn spec_comments() {
    check("comments");
}

#[test]
fn spec_delimiters() {
    check("delimiters");
}

#[test]
fn spec_interpolation() {
    check("interpolation");
}

#[test]
fn spec_inverted() {
    check("inverted");
}

#[test]
fn spec_partials() {
    check("partials");
}

#[test]
fn spec_sections() {
    check("sections");
}

#[test]
fn spec_inheritance() {
    check("~inheritance");
}
