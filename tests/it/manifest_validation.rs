//! Validation reports every problem with its exact path and reason, and refuses
//! before anything is compiled into use.

use edgeprompt::manifest::{self, ManifestError};
use serde_json::{json, Value};

fn demo() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo.json"))
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn base() -> Value {
    json!({
        "schema": 1,
        "revision": 3,
        "prompts": {
            "support": {
                "versions": [
                    {"version": 1, "text": "Hello {{name}}", "variables": {"name": {"required": true}}},
                    {"version": 2, "text": "Hi {{name}}!", "variables": {"name": {"default": "there"}}}
                ],
                "labels": {"production": {"default": {"version": 1}}}
            }
        }
    })
}

fn problems(doc: &Value) -> Vec<String> {
    match manifest::compile(&doc.to_string()) {
        Ok(_) => Vec::new(),
        Err(e) => e.lines(),
    }
}

fn set(doc: &mut Value, pointer: &str, v: Value) {
    *doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}")) = v;
}

fn assert_problem(doc: &Value, expected: &str) {
    let ps = problems(doc);
    assert!(
        ps.iter().any(|p| p == expected),
        "expected {expected:?} in {ps:#?}"
    );
}

#[test]
fn the_demo_and_the_base_are_valid() {
    assert_eq!(problems(&demo()), Vec::<String>::new());
    assert_eq!(problems(&base()), Vec::<String>::new());
}

#[test]
fn split_weights_must_sum_to_100() {
    let mut d = base();
    set(
        &mut d,
        "/prompts/support/labels/production/default",
        json!({"split": [{"version": 1, "weight": 90}, {"version": 2, "weight": 5}]}),
    );
    assert_problem(
        &d,
        "prompts.support.labels.production.default.split: weights sum to 95, expected 100",
    );
}

#[test]
fn weights_are_exact_to_two_decimals() {
    let mut d = base();
    d["prompts"]["support"]["versions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"version": 3, "text": "x"}));
    set(
        &mut d,
        "/prompts/support/labels/production/default",
        json!({"split": [
        {"version": 1, "weight": 33.33}, {"version": 2, "weight": 33.33}, {"version": 3, "weight": 33.34}]}),
    );
    assert_eq!(problems(&d), Vec::<String>::new());
    set(
        &mut d,
        "/prompts/support/labels/production/default/split/0/weight",
        json!(33.333),
    );
    assert_problem(&d, "prompts.support.labels.production.default.split[0].weight: weight 33.333 has more than two decimals");
    set(
        &mut d,
        "/prompts/support/labels/production/default/split/0/weight",
        json!("33.33"),
    );
    assert_problem(&d, "prompts.support.labels.production.default.split[0].weight: expected a percent, found a string");
}

#[test]
fn empty_splits_and_unknown_versions_are_refused() {
    let mut d = base();
    set(
        &mut d,
        "/prompts/support/labels/production/default",
        json!({"split": []}),
    );
    assert_problem(
        &d,
        "prompts.support.labels.production.default.split: split is empty",
    );
    set(
        &mut d,
        "/prompts/support/labels/production/default",
        json!({"version": 7}),
    );
    assert_problem(&d, "prompts.support.labels.production.default.version: unknown version 7: this prompt has versions 1..2");
    set(
        &mut d,
        "/prompts/support/labels/production/default",
        json!({"split": [{"version": 1, "weight": 50}, {"version": 1, "weight": 50}]}),
    );
    assert_problem(&d, "prompts.support.labels.production.default.split[1].version: version 1 appears twice in the split");
}

#[test]
fn version_numbers_run_from_one_without_gaps_or_duplicates() {
    let mut d = base();
    set(&mut d, "/prompts/support/versions/1/version", json!(1));
    assert_problem(
        &d,
        "prompts.support.versions[1].version: duplicate version 1",
    );
    let mut d = base();
    set(&mut d, "/prompts/support/versions/1/version", json!(3));
    assert_problem(
        &d,
        "prompts.support.versions[1].version: expected an integer from 1 to 2, found 3",
    );
}

#[test]
fn unknown_fields_are_named_at_every_level() {
    let mut d = base();
    d["extra"] = json!(1);
    d["prompts"]["support"]["versions"][0]["temprature"] = json!(0.2);
    d["prompts"]["support"]["labels"]["production"]["default"]["weight"] = json!(1);
    let ps = problems(&d);
    assert!(
        ps.iter().any(|p| p.starts_with("extra: unknown field")),
        "{ps:#?}"
    );
    assert!(ps.iter().any(|p| p.starts_with("prompts.support.versions[0].temprature: unknown field (expected one of: version, text, messages")), "{ps:#?}");
    assert!(
        ps.iter()
            .any(|p| p
                .starts_with("prompts.support.labels.production.default.weight: unknown field")),
        "{ps:#?}"
    );
    assert_eq!(ps.len(), 3, "every problem reported at once: {ps:#?}");
}

#[test]
fn variables_need_a_source() {
    let mut d = base();
    set(
        &mut d,
        "/prompts/support/versions/0/variables/name",
        json!({"required": true, "default": "x"}),
    );
    assert_problem(
        &d,
        "prompts.support.versions[0].variables.name: a required variable cannot have a default",
    );
    set(
        &mut d,
        "/prompts/support/versions/0/variables/name",
        json!({}),
    );
    assert_problem(&d, "prompts.support.versions[0].variables.name: give the variable a source: \"required\": true, or a \"default\" (null for none)");
}

#[test]
fn undeclared_variables_are_named_with_their_position() {
    let mut d = base();
    set(
        &mut d,
        "/prompts/support/versions/0/text",
        json!("Hello {{name}},\n{{greeting}} {{#items}}{{label}}{{/items}}"),
    );
    let ps = problems(&d);
    assert!(ps.contains(&"prompts.support.versions[0].text: undeclared variable \"greeting\" (line 2, column 1): declare it under \"variables\"".to_string()), "{ps:#?}");
    assert!(
        ps.iter()
            .any(|p| p.contains("undeclared variable \"items\"")),
        "section names must be declared: {ps:#?}"
    );
    assert!(
        !ps.iter().any(|p| p.contains("\"label\"")),
        "names inside sections may come from items: {ps:#?}"
    );
}

#[test]
fn templates_that_do_not_compile_are_refused() {
    let mut d = base();
    set(
        &mut d,
        "/prompts/support/versions/0/text",
        json!("Hello {{#name}}"),
    );
    let ps = problems(&d);
    assert!(
        ps.iter().any(|p| p
            .starts_with("prompts.support.versions[0].text: template does not compile: line 1")),
        "{ps:#?}"
    );
}

fn with_snippets(d: &mut Value) {
    d["snippets"] = json!({
        "a": {"versions": [{"version": 1, "template": "A{{> b}}"}]},
        "b": {"versions": [{"version": 1, "template": "B"}, {"version": 2, "template": "B{{> a}}"}]}
    });
}

#[test]
fn partials_must_be_pinned_and_exist() {
    let mut d = base();
    with_snippets(&mut d);
    set(
        &mut d,
        "/prompts/support/versions/0/text",
        json!("{{> a}} {{name}}"),
    );
    let ps = problems(&d);
    assert!(
        ps.iter().any(|p| p.starts_with(
            "prompts.support.versions[0].text: partial \"a\" (line 1, column 1) is not pinned"
        )),
        "{ps:#?}"
    );
    d["prompts"]["support"]["versions"][0]["snippets"] = json!({"a": 1});
    assert_problem(&d, "prompts.support.versions[0].snippets: snippet \"a\" includes partial \"b\", which this version does not pin");
    d["prompts"]["support"]["versions"][0]["snippets"] = json!({"a": 1, "b": 3});
    assert_problem(&d, "prompts.support.versions[0].snippets.b: snippet \"b\" has no version 3 (it has versions 1..2)");
    d["prompts"]["support"]["versions"][0]["snippets"] = json!({"a": 1, "b": 1, "zzz": 1});
    assert_problem(
        &d,
        "prompts.support.versions[0].snippets.zzz: unknown snippet \"zzz\"",
    );
    d["prompts"]["support"]["versions"][0]["snippets"] = json!({"a": 1, "b": 1});
    assert_eq!(problems(&d), Vec::<String>::new());
}

#[test]
fn snippet_cycles_are_refused() {
    let mut d = base();
    with_snippets(&mut d);
    set(
        &mut d,
        "/prompts/support/versions/0/text",
        json!("{{> a}} {{name}}"),
    );
    d["prompts"]["support"]["versions"][0]["snippets"] = json!({"a": 1, "b": 2});
    let ps = problems(&d);
    assert!(
        ps.iter().any(|p| p
            .starts_with("prompts.support.versions[0].snippets: pinned snippets form a cycle: ")),
        "{ps:#?}"
    );
    let mut d = base();
    d["snippets"] = json!({"self": {"versions": [{"version": 1, "template": "x{{> self}}"}]}});
    assert_problem(
        &d,
        "snippets.self.versions[0].template: a snippet cannot include itself",
    );
}

#[test]
fn snippet_variables_must_be_declared_by_the_version() {
    let mut d = base();
    d["snippets"] = json!({"sig": {"versions": [{"version": 1, "template": "-- {{team}}"}]}});
    set(
        &mut d,
        "/prompts/support/versions/0/text",
        json!("Hello {{name}} {{> sig}}"),
    );
    d["prompts"]["support"]["versions"][0]["snippets"] = json!({"sig": 1});
    assert_problem(&d, "prompts.support.versions[0].variables: variable \"team\" used by snippet \"sig\" is not declared");
}

#[test]
fn chat_versions_check_messages_and_placeholders() {
    let mut d = base();
    set(
        &mut d,
        "/prompts/support/versions/0",
        json!({"version": 1, "messages": [
            {"role": "system", "content": "Hi"},
            {"placeholder": "history"},
            {"role": "user"},
            {"placeholder": "h", "role": "user"}
        ]}),
    );
    let ps = problems(&d);
    assert!(ps.contains(&"prompts.support.versions[0].messages[1].placeholder: placeholder variable \"history\" is not declared under \"variables\"".into()), "{ps:#?}");
    assert!(
        ps.contains(
            &"prompts.support.versions[0].messages[2]: missing required field \"content\"".into()
        ),
        "{ps:#?}"
    );
    assert!(ps.contains(&"prompts.support.versions[0].messages[3]: a placeholder message has no \"role\" or \"content\"".into()), "{ps:#?}");
    d["prompts"]["support"]["versions"][0]["text"] = json!("x");
    assert_problem(
        &d,
        "prompts.support.versions[0]: give either \"text\" or \"messages\", not both",
    );
}

#[test]
fn rules_and_conditions_are_checked() {
    let mut d = base();
    d["prompts"]["support"]["labels"]["production"]["rules"] = json!([
        {"name": "eu", "when": {"attr": "country", "op": "within", "value": ["DE"]}, "target": {"version": 2}},
        {"name": "eu", "when": {"attr": "app", "op": "semver_gte", "value": "two"}, "target": {"version": 2}},
        {"name": "big", "when": {"all": [{"attr": "seats", "op": "gt", "value": true}]}, "target": {"version": 2}},
        {"name": "default", "units": ["a"], "target": {"version": 2}},
        {"name": "both", "units": ["a"], "when": {"attr": "x", "op": "exists"}, "target": {"version": 2}}
    ]);
    let ps = problems(&d);
    let base = "prompts.support.labels.production.rules";
    assert!(
        ps.iter()
            .any(|p| p.starts_with(&format!("{base}[0].when.op: unknown operator \"within\""))),
        "{ps:#?}"
    );
    assert!(
        ps.contains(&format!(
            "{base}[1].when.value: expected a SemVer version such as \"2.3.0\", found \"two\""
        )),
        "{ps:#?}"
    );
    assert!(
        ps.contains(&format!(
            "{base}[2].when.all[0].value: operator \"gt\" compares numbers or strings; found a boolean"
        )),
        "{ps:#?}"
    );
    assert!(
        ps.contains(&format!(
            "{base}[3].name: \"default\" names the route's default; choose another rule name"
        )),
        "{ps:#?}"
    );
    assert!(ps.contains(&format!("{base}[4]: a rule takes one of \"when\", \"units\", \"unit_hashes\"; found when and units")), "{ps:#?}");
}

#[test]
fn targeting_operands_are_checked() {
    let mut d = base();
    let many: Vec<Value> = (0..1001).map(|i| json!(i)).collect();
    d["prompts"]["support"]["labels"]["production"]["rules"] = json!([
        {"name": "a", "when": {"attr": "n", "op": "lt", "value": 3, "case_insensitive": true}, "target": {"version": 2}},
        {"name": "b", "when": {"attr": "$user", "op": "eq", "value": "x"}, "target": {"version": 2}},
        {"name": "c", "when": {"attr": "e", "op": "ends_with", "value": "x".repeat(1025)}, "target": {"version": 2}},
        {"name": "d", "when": {"attr": "g", "op": "contains_any", "value": many}, "target": {"version": 2}},
        {"name": "e", "when": {"attr": "g", "op": "contains_all", "value": "beta"}, "target": {"version": 2}},
        {"name": "f", "when": {"attr": "g", "op": "eq", "value": "x", "case_insensitive": "yes"}, "target": {"version": 2}},
        {"name": "g", "when": {"attr": "g", "op": "starts_with", "value": 3}, "target": {"version": 2}},
        {"name": "h", "when": {"attr": "e", "op": "matches", "value": "(a"}, "target": {"version": 2}},
        {"name": "i", "when": {"attr": "e", "op": "matches", "value": "a".repeat(257)}, "target": {"version": 2}},
        {"name": "j", "when": {"attr": "e", "op": "matches", "value": "(?:a{100}){100}"}, "target": {"version": 2}}
    ]);
    let ps = problems(&d);
    let base = "prompts.support.labels.production.rules";
    for want in [
        format!("{base}[0].when.case_insensitive: operator \"lt\" takes no \"case_insensitive\""),
        format!("{base}[1].when.attr: attribute names starting with \"$\" are reserved (\"$user\" is not one)"),
        format!("{base}[2].when.value: longer than 1024 bytes (1025 bytes)"),
        format!("{base}[3].when.value: more than 1000 values (1001)"),
        format!("{base}[4].when.value: expected an array, found a string"),
        format!("{base}[5].when.case_insensitive: expected true or false, found a string"),
        format!("{base}[6].when.value: expected a string, found a number"),
    ] {
        assert!(ps.contains(&want), "{want}\n{ps:#?}");
    }
    for (i, why) in [
        (7, "invalid regular expression: "),
        (8, "regular expression longer than 256 bytes (257 bytes)"),
        (9, "invalid regular expression: "),
    ] {
        let at = format!("{base}[{i}].when.value: {why}");
        assert!(ps.iter().any(|p| p.starts_with(&at)), "{at}\n{ps:#?}");
    }
    assert_eq!(ps.len(), 10, "{ps:#?}");
}

#[test]
fn times_and_now_are_checked() {
    let mut d = base();
    d["prompts"]["support"]["labels"]["production"]["rules"] = json!([
        {"name": "a", "when": {"attr": "signed_up", "op": "before", "value": "2026-01-01"}, "target": {"version": 2}},
        {"name": "b", "when": {"attr": "$now", "op": "eq", "value": "x"}, "target": {"version": 2}},
        {"name": "c", "when": {"attr": "$now", "op": "after", "value": 5}, "target": {"version": 2}},
        {"name": "d", "when": {"attr": "$now", "op": "after", "value": "2026-01-01T00:00:00Z", "case_insensitive": true}, "target": {"version": 2}},
        {"name": "e", "when": {"attr": "$now", "op": "before", "value": "2026-01-01T00:00:00+01:00"}, "target": {"version": 2}}
    ]);
    let ps = problems(&d);
    let base = "prompts.support.labels.production.rules";
    for want in [
        format!("{base}[0].when.value: expected an RFC 3339 time such as \"2026-01-01T00:00:00Z\": "),
        format!("{base}[1].when.op: \"$now\" (the request's time) takes only \"before\" or \"after\" with a time, found \"eq\""),
        format!("{base}[2].when.value: expected an RFC 3339 time such as \"2026-01-01T00:00:00Z\", found a number"),
        format!("{base}[3].when.case_insensitive: operator \"after\" takes no \"case_insensitive\""),
    ] {
        assert!(ps.iter().any(|p| p.starts_with(&want)), "{want}\n{ps:#?}");
    }
    assert_eq!(ps.len(), 4, "{ps:#?}");
}

#[test]
fn schema_is_the_switch_for_new_sections() {
    let mut d = base();
    d["schema"] = json!(2);
    assert_problem(
        &d,
        "schema: unsupported schema 2: this engine reads schema 1",
    );
    let mut d = base();
    d["rollouts"] = json!({});
    assert_eq!(problems(&d), Vec::<String>::new());
    d["rollouts"] = json!({"support": {}});
    assert!(problems(&d)[0].starts_with("rollouts: rollouts are reserved for a later schema"));
}

#[test]
fn sizes_over_the_limits_are_refused() {
    let mut d = base();
    set(
        &mut d,
        "/prompts/support/versions/1/text",
        json!("x".repeat(64 * 1024 + 1)),
    );
    assert_problem(
        &d,
        "prompts.support.versions[1].text: template is 65537 bytes, over the limit of 65536",
    );
    let big = " ".repeat(25 * 1024 * 1024 + 1);
    assert!(matches!(
        manifest::compile(&big),
        Err(ManifestError::TooLarge { .. })
    ));
}

#[test]
fn metrics_are_declared_with_a_kind() {
    let mut d = base();
    d["metrics"] = json!({"resolved": {"kind": "binary"}, "nps": {"kind": "score"}});
    assert_problem(&d, "metrics.nps.kind: unknown metric kind \"score\": expected \"binary\", \"continuous\" or \"count\"");
}

#[test]
fn names_are_restricted_and_quoted_in_paths() {
    let mut d = base();
    let p = d["prompts"]["support"].clone();
    d["prompts"]["bad name"] = p;
    assert!(
        problems(&d)[0].starts_with("prompts[\"bad name\"]: prompt name \"bad name\" must start")
    );
}

#[test]
fn not_json_is_a_single_clear_error() {
    let e = manifest::compile("{\"schema\": 1,").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("manifest is not valid JSON: EOF while parsing"),
        "{e}"
    );
}

fn hash_of(d: &Value) -> String {
    let m = manifest::compile(&d.to_string()).unwrap();
    m.prompt("support")
        .unwrap()
        .version(1)
        .unwrap()
        .hash
        .clone()
}

#[test]
fn content_hash_covers_behaviour_not_metadata() {
    let mut d = base();
    let h1 = hash_of(&d);
    d["prompts"]["support"]["versions"][0]["note"] = json!("typo fix in the note");
    d["prompts"]["support"]["versions"][0]["author"] = json!("someone");
    assert_eq!(hash_of(&d), h1);
    d["prompts"]["support"]["versions"][0]["text"] = json!("Hello {{name}}.");
    assert_ne!(hash_of(&d), h1);
    d["prompts"]["support"]["versions"][0]["model"] = json!({"params": {"temperature": 1.0}});
    let a = hash_of(&d);
    d["prompts"]["support"]["versions"][0]["model"] = json!({"params": {"temperature": 1}});
    assert_eq!(hash_of(&d), a, "1.0 and 1 are the same number");
    d["prompts"]["support"]["versions"][0]["variables"]["name"] = json!({"default": "x"});
    assert_ne!(hash_of(&d), a, "variables are covered");
}
