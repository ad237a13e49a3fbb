//! Property tests over generated manifests: validation and compilation agree, and
//! whatever compiles resolves every prompt and label to an existing version.

use edgeprompt::manifest;
use edgeprompt::resolve::{self, Request, ResolveError};
use proptest::prelude::*;
use serde_json::{json, Value};

fn template() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z ]{0,8}".prop_map(|s| s),
        Just("{{name}}".to_string()),
        Just("{{other}}".to_string()),
        Just("{{#items}}{{.}}{{/items}}".to_string()),
        Just("{{^name}}none{{/name}}".to_string()),
        Just("{{> snip}}".to_string()),
        Just("{{#open}}".to_string()),
        Just("{{/close}}".to_string()),
        Just("{{{name}}}".to_string()),
    ];
    proptest::collection::vec(piece, 0..5).prop_map(|v| v.concat())
}

fn version(n: usize) -> impl Strategy<Value = Value> {
    (template(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        move |(t, declare, items, pin)| {
            let mut v = json!({"version": n, "text": t});
            let mut vars = serde_json::Map::new();
            if declare {
                vars.insert("name".into(), json!({"default": "x"}));
            }
            if items {
                vars.insert("items".into(), json!({"default": [1, 2]}));
            }
            if !vars.is_empty() {
                v["variables"] = Value::Object(vars);
            }
            if pin {
                v["snippets"] = json!({"snip": 1});
            }
            v
        },
    )
}

fn target(versions: usize) -> impl Strategy<Value = Value> {
    prop_oneof![
        (1..=versions + 1).prop_map(|v| json!({"version": v})),
        proptest::collection::vec((1..=versions + 1, 0u32..=10000), 0..4).prop_map(|entries| {
            let split: Vec<Value> = entries
                .into_iter()
                .map(|(v, bp)| json!({"version": v, "weight": f64::from(bp) / 100.0}))
                .collect();
            json!({"split": split})
        }),
        (1..=versions).prop_map(move |c| {
            // A valid 2-way split.
            json!({"split": [{"version": 1, "weight": 90}, {"version": c, "weight": 10}]})
        }),
    ]
}

fn doc() -> impl Strategy<Value = Value> {
    (1usize..4)
        .prop_flat_map(|n| {
            let versions: Vec<_> = (1..=n).map(version).collect();
            (versions, target(n), target(n), any::<bool>())
        })
        .prop_map(|(versions, default, rule_target, with_rule)| {
            let mut route = json!({"default": default});
            if with_rule {
                route["rules"] = json!([{"name": "de", "when": {"attr": "country", "op": "eq", "value": "DE"}, "target": rule_target}]);
            }
            json!({
                "schema": 1, "revision": 1,
                "snippets": {"snip": {"versions": [{"version": 1, "template": "S"}]}},
                "prompts": {"p": {"versions": versions, "labels": {"production": route}}}
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn validation_and_compilation_agree_and_compiled_manifests_resolve(d in doc()) {
        let text = d.to_string();
        let problems = manifest::validate(&text);
        let compiled = manifest::compile(&text);
        prop_assert_eq!(problems.is_empty(), compiled.is_ok());
        for p in &problems {
            let (path, reason) = p.split_once(": ").expect("PATH: reason");
            prop_assert!(!path.is_empty() && !reason.is_empty(), "{}", p);
        }
        if let Ok(m) = compiled {
            let prompt = m.prompt("p").expect("prompt p");
            let vars = json!({});
            for country in ["DE", "FR"] {
                let attrs = json!({"country": country});
                for i in 0..50 {
                    let unit = format!("user-{i}");
                    let req = Request { prompt: "p", label: None, unit: &unit, attributes: Some(&attrs), variables: Some(&vars), now_ms: None };
                    match resolve::resolve(&m, &req) {
                        Ok(dec) => prop_assert!(prompt.version(dec.assignment.version).is_some()),
                        Err(ResolveError::MissingVariables(_)) => {}
                        Err(e) => prop_assert!(false, "unexpected error {e}"),
                    }
                }
            }
            // Compiling the same document again gives the same hashes.
            let again = manifest::compile(&text).expect("recompiles");
            for v in &prompt.versions {
                prop_assert_eq!(&again.prompt("p").unwrap().version(v.number).unwrap().hash, &v.hash);
            }
        }
    }

    #[test]
    fn text_that_is_not_json_gets_exactly_one_json_error(s in "\\PC{0,300}") {
        let lines = manifest::validate(&s);
        if serde_json::from_str::<Value>(&s).is_err() {
            prop_assert_eq!(lines.len(), 1);
            prop_assert!(lines[0].starts_with("manifest is not valid JSON: "), "{}", lines[0]);
        } else {
            // JSON, but no manifest: refused with at least one located problem.
            prop_assert!(!lines.is_empty());
        }
    }
}
