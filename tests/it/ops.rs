//! Publishing and route operations: every result validates with the engine, ramps keep
//! every unit that had the candidate, rollbacks restore routes exactly.

use edgeprompt::manifest;
use edgeprompt::ops::{self, OpError, PromptSource, Sources};
use edgeprompt::resolve::{self, Request};
use serde_json::{json, Value};

fn source(name: &str, texts: &[&str]) -> PromptSource {
    PromptSource {
        name: name.into(),
        versions: texts
            .iter()
            .map(|t| json!({"text": t, "variables": {"name": {"default": "you"}}}))
            .collect(),
        labels: Some(json!({"production": {"default": {"version": 1}}})),
        client: false,
        description: None,
    }
}

fn sources(texts: &[&str]) -> Sources {
    Sources {
        prompts: vec![source("greet", texts)],
        ..Sources::default()
    }
}

fn compiles(doc: &Value) -> edgeprompt::CompiledManifest {
    manifest::compile_value(doc.clone()).unwrap_or_else(|e| panic!("{e:?}\n{doc:#}"))
}

fn version_of(doc: &Value, unit: &str) -> u32 {
    let m = compiles(doc);
    let req = Request {
        prompt: "greet",
        label: None,
        unit,
        attributes: None,
        variables: None,
        now_ms: None,
    };
    resolve::assign(&m, &req).unwrap().version
}

#[test]
fn publishing_adds_only_new_content_and_is_idempotent() {
    let first = ops::publish(None, &sources(&["Hi {{name}}"])).unwrap();
    assert!(first.changed);
    assert_eq!(first.doc["revision"], 1);
    assert_eq!(first.added, vec![("greet".to_string(), 1)]);
    compiles(&first.doc);
    let again = ops::publish(Some(&first.doc), &sources(&["Hi {{name}}"])).unwrap();
    assert!(!again.changed);
    assert_eq!(again.doc, first.doc);
    assert_eq!(again.summary, "publish: nothing new");
    // A new version is numbered after the live ones; an unchanged one keeps its number.
    let second = ops::publish(
        Some(&first.doc),
        &sources(&["Hi {{name}}", "Hello {{name}}!"]),
    )
    .unwrap();
    assert_eq!(second.added, vec![("greet".to_string(), 2)]);
    assert_eq!(second.doc["revision"], 2);
    assert_eq!(second.summary, "publish: greet v2 (revision 2)");
    // Publishing never touches an existing route, even when the sources name labels.
    let mut src = sources(&["Hi {{name}}", "Hello {{name}}!"]);
    src.prompts[0].labels = Some(json!({"production": {"default": {"version": 2}}}));
    let third = ops::publish(Some(&second.doc), &src).unwrap();
    assert!(!third.changed);
    assert_eq!(
        third.doc["prompts"]["greet"]["labels"]["production"]["default"]["version"],
        1
    );
    compiles(&third.doc);
}

#[test]
fn metrics_from_sources_are_added_updated_and_never_removed() {
    let mut src = sources(&["Hi {{name}}"]);
    src.metrics.insert(
        "resolved".into(),
        json!({"kind": "binary", "higher_is_better": true}),
    );
    let first = ops::publish(None, &src).unwrap();
    assert_eq!(first.added_metrics, vec!["resolved".to_string()]);
    assert!(
        first.summary.contains("metric resolved"),
        "{}",
        first.summary
    );
    assert_eq!(
        compiles(&first.doc)
            .metric("resolved")
            .map(|m| m.higher_is_better),
        Some(true)
    );
    // Unchanged: nothing to publish.
    let same = ops::publish(Some(&first.doc), &src).unwrap();
    assert!(!same.changed);
    // A description is metadata; a kind or direction is a redefinition.
    src.metrics.insert(
        "resolved".into(),
        json!({"kind": "binary", "higher_is_better": true, "description": "solved"}),
    );
    let described = ops::publish(Some(&first.doc), &src).unwrap();
    assert!(described.changed && described.redefined_metrics.is_empty());
    src.metrics.insert(
        "resolved".into(),
        json!({"kind": "count", "higher_is_better": true}),
    );
    let redefined = ops::publish(Some(&first.doc), &src).unwrap();
    assert_eq!(redefined.redefined_metrics, vec!["resolved".to_string()]);
    assert!(redefined.summary.contains("metric resolved redefined"));
    // Sources without a metric leave the live declaration in place.
    let without = ops::publish(Some(&first.doc), &sources(&["Hi {{name}}"])).unwrap();
    assert!(!without.changed);
    assert!(compiles(&without.doc).metric("resolved").is_some());
}

#[test]
fn metrics_json_is_read_with_its_path_in_every_problem() {
    let mut files = std::collections::BTreeMap::new();
    files.insert("prompts/greet/prompt.json".to_string(), "{}".to_string());
    files.insert(
        "prompts/greet/prompt.mustache".to_string(),
        "Hi".to_string(),
    );
    files.insert(
        "metrics.json".to_string(),
        r#"{"thumbs_up": {"kind": "binary", "higher_is_better": true}}"#.to_string(),
    );
    let src = ops::sources::sources_from_files(&files).unwrap();
    assert_eq!(src.metrics["thumbs_up"]["kind"], "binary");
    files.insert("metrics.json".to_string(), "[1]".to_string());
    let problems = ops::sources::sources_from_files(&files).unwrap_err();
    assert!(
        problems[0].starts_with("metrics.json: expected an object"),
        "{problems:?}"
    );
    files.insert("metrics.json".to_string(), "{".to_string());
    let problems = ops::sources::sources_from_files(&files).unwrap_err();
    assert!(
        problems[0].starts_with("metrics.json: not valid JSON"),
        "{problems:?}"
    );
}

#[test]
fn snippet_versions_are_immutable() {
    let mut src = sources(&["Hi {{name}}"]);
    src.snippets.insert(
        "sig".into(),
        vec![json!({"version": 1, "template": "-- ops"})],
    );
    let first = ops::publish(None, &src).unwrap();
    assert_eq!(first.added_snippets, vec![("sig".to_string(), 1)]);
    src.snippets.insert(
        "sig".into(),
        vec![json!({"version": 1, "template": "-- team"})],
    );
    let e = ops::publish(Some(&first.doc), &src).unwrap_err();
    assert!(
        e.to_string()
            .contains("snippet versions are immutable: add version 2"),
        "{e}"
    );
    src.snippets
        .insert("sig".into(), vec![json!({"version": 3, "template": "x"})]);
    assert!(ops::publish(Some(&first.doc), &src)
        .unwrap_err()
        .to_string()
        .contains("gap"));
}

fn two_versions() -> Value {
    ops::publish(None, &sources(&["one {{name}}", "two {{name}}"]))
        .unwrap()
        .doc
}

#[test]
fn split_and_promote_produce_valid_manifests() {
    let doc = two_versions();
    let s = ops::split(
        &doc,
        "greet",
        "production",
        None,
        &[(1, "90".into()), (2, "10".into())],
    )
    .unwrap();
    assert_eq!(s.summary, "split greet/production: 1=90 2=10 (revision 2)");
    assert_eq!(
        s.doc["prompts"]["greet"]["labels"]["production"]["default"],
        json!({"split": [{"version": 1, "weight": 90}, {"version": 2, "weight": 10}]})
    );
    compiles(&s.doc);
    let p = ops::promote(&s.doc, "greet", "production", 2, false).unwrap();
    assert_eq!(
        p.doc["prompts"]["greet"]["labels"]["production"]["default"],
        json!({"version": 2})
    );
    compiles(&p.doc);
    assert!(
        matches!(ops::split(&doc, "greet", "production", None, &[(1, "90".into()), (2, "5".into())]), Err(OpError::Invalid(m)) if m == "weights sum to 95, expected 100")
    );
    assert!(matches!(
        ops::split(&doc, "greet", "production", None, &[(3, "100".into())]),
        Err(OpError::UnknownVersion { version: 3, .. })
    ));
    assert!(matches!(
        ops::promote(&doc, "greet", "canary", 1, false),
        Err(OpError::UnknownLabel { .. })
    ));
    assert!(matches!(
        ops::split(
            &doc,
            "greet",
            "production",
            Some("qa"),
            &[(1, "100".into())]
        ),
        Err(OpError::UnknownRule { .. })
    ));
}

#[test]
fn a_ramp_keeps_every_unit_that_had_the_candidate() {
    let doc = two_versions();
    let mut doc = ops::split(
        &doc,
        "greet",
        "production",
        None,
        &[(1, "99".into()), (2, "1".into())],
    )
    .unwrap()
    .doc;
    let units: Vec<String> = (0..5000).map(|i| format!("user-{i}")).collect();
    let mut had: Vec<bool> = units.iter().map(|u| version_of(&doc, u) == 2).collect();
    for pct in ["10", "25", "50", "100"] {
        let r = ops::ramp(&doc, "greet", "production", None, 2, pct).unwrap();
        assert!(
            r.summary
                .starts_with(&format!("ramp greet/production: version 2 to {pct}%")),
            "{}",
            r.summary
        );
        doc = r.doc;
        let m = compiles(&doc);
        let mut on = 0;
        for (i, u) in units.iter().enumerate() {
            let req = Request {
                prompt: "greet",
                label: None,
                unit: u,
                attributes: None,
                variables: None,
                now_ms: None,
            };
            let v = resolve::assign(&m, &req).unwrap().version;
            if had[i] {
                assert_eq!(v, 2, "{u} left the candidate at {pct}%");
            }
            had[i] |= v == 2;
            on += usize::from(v == 2);
        }
        let share = on as f64 / units.len() as f64 * 100.0;
        let want: f64 = pct.parse().unwrap();
        assert!((share - want).abs() < 2.5, "{share}% at {pct}%");
    }
    // Lowering, over-spending the control and ramping the control are refused.
    let back = two_versions();
    let s = ops::split(
        &back,
        "greet",
        "production",
        None,
        &[(1, "50".into()), (2, "50".into())],
    )
    .unwrap()
    .doc;
    assert!(ops::ramp(&s, "greet", "production", None, 2, "25")
        .unwrap_err()
        .to_string()
        .contains("only raises"));
    assert!(ops::ramp(&s, "greet", "production", None, 1, "60")
        .unwrap_err()
        .to_string()
        .contains("is the control"));
    assert!(ops::ramp(&s, "greet", "production", None, 2, "100.01").is_err());
}

#[test]
fn ramping_a_new_candidate_appends_it_and_takes_from_the_control() {
    let doc = ops::publish(None, &sources(&["one", "two", "three"]))
        .unwrap()
        .doc;
    let s = ops::split(
        &doc,
        "greet",
        "production",
        None,
        &[(1, "90".into()), (2, "10".into())],
    )
    .unwrap()
    .doc;
    let r = ops::ramp(&s, "greet", "production", None, 3, "5")
        .unwrap()
        .doc;
    assert_eq!(
        r["prompts"]["greet"]["labels"]["production"]["default"],
        json!({"split": [{"version": 1, "weight": 85}, {"version": 2, "weight": 10}, {"version": 3, "weight": 5}]})
    );
    for i in 0..3000 {
        let u = format!("u{i}");
        if version_of(&s, &u) == 2 {
            assert_eq!(version_of(&r, &u), 2);
        }
    }
}

#[test]
fn rollback_restores_the_last_single_version_route_or_a_named_revision() {
    let r1 = two_versions(); // revision 1: production serves version 1
    let r2 = ops::split(
        &r1,
        "greet",
        "production",
        None,
        &[(1, "90".into()), (2, "10".into())],
    )
    .unwrap()
    .doc;
    let r3 = ops::ramp(&r2, "greet", "production", None, 2, "50")
        .unwrap()
        .doc;
    let history = vec![r1.clone(), r2.clone(), r3.clone()];
    let back = ops::rollback(&r3, &history, "greet", "production", None).unwrap();
    assert_eq!(
        back.summary,
        "rollback of greet/production to revision 1 (revision 4)"
    );
    assert_eq!(
        back.doc["prompts"]["greet"]["labels"]["production"],
        r1["prompts"]["greet"]["labels"]["production"]
    );
    for i in 0..500 {
        assert_eq!(version_of(&back.doc, &format!("u{i}")), 1);
    }
    // Undo the rollback: back to the ramp's route, every unit on the version it had.
    let mut history = history;
    history.push(back.doc.clone());
    let undo = ops::rollback(&back.doc, &history, "greet", "production", Some(3)).unwrap();
    assert_eq!(
        undo.summary,
        "rollback of greet/production to revision 3 (revision 5)"
    );
    for i in 0..2000 {
        let u = format!("u{i}");
        assert_eq!(version_of(&undo.doc, &u), version_of(&r3, &u));
    }
    assert!(matches!(
        ops::rollback(&r1, &[], "greet", "production", None),
        Err(OpError::NoRollbackTarget(_))
    ));
    assert!(matches!(
        ops::rollback(&r3, &history, "greet", "production", Some(42)),
        Err(OpError::NoRollbackTarget(_))
    ));
}

#[test]
fn publish_with_a_label_points_it_at_the_new_version() {
    let doc = two_versions();
    let p = ops::publish(
        Some(&doc),
        &sources(&["one {{name}}", "two {{name}}", "three {{name}}"]),
    )
    .unwrap();
    let staged = ops::point(&p.doc, "greet", "staging", 3).unwrap();
    assert_eq!(
        staged.summary,
        "create label greet/staging serving version 3 (revision 3)"
    );
    compiles(&staged.doc);
    assert_eq!(
        staged.doc["prompts"]["greet"]["labels"]["production"]["default"]["version"],
        1
    );
    let moved = ops::point(&staged.doc, "greet", "staging", 2).unwrap();
    assert!(moved
        .summary
        .starts_with("promote greet/staging to version 2"));
}

#[test]
fn a_new_prompt_without_labels_is_published_and_labelled() {
    // A client sends `"labels": null` for a prompt whose sources name none.
    for labels in [None, Some(Value::Null)] {
        let src = Sources {
            prompts: vec![PromptSource {
                labels,
                ..source("fresh", &["hi {{name}}"])
            }],
            ..Sources::default()
        };
        let p = ops::publish(None, &src).unwrap();
        assert!(p.doc["prompts"]["fresh"].get("labels").is_none());
        let staged = ops::point(&p.doc, "fresh", "staging", 1).unwrap();
        compiles(&staged.doc);
        assert_eq!(
            staged.doc["prompts"]["fresh"]["labels"]["staging"]["default"]["version"],
            1
        );
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Publishing any sources twice changes nothing the second time, and every
        /// published document validates.
        #[test]
        fn publishing_is_idempotent(texts in proptest::collection::vec("[a-z ]{0,12}", 1..4)) {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let first = ops::publish(None, &sources(&refs)).unwrap();
            compiles(&first.doc);
            let again = ops::publish(Some(&first.doc), &sources(&refs)).unwrap();
            prop_assert!(!again.changed);
            prop_assert_eq!(again.doc, first.doc);
        }

        /// A sequence of ramps to increasing percents never moves a unit off the candidate.
        #[test]
        fn ramps_through_the_api_are_monotonic(steps in proptest::collection::vec(1u32..=10000, 1..5)) {
            let mut steps = steps;
            steps.sort_unstable();
            steps.dedup();
            let mut doc = two_versions();
            let mut had: Vec<bool> = vec![false; 400];
            for bp in steps {
                let pct = edgeprompt::assign::format_bp(bp);
                doc = ops::ramp(&doc, "greet", "production", None, 2, &pct).unwrap().doc;
                for (i, h) in had.iter_mut().enumerate() {
                    let v = version_of(&doc, &format!("u{i}"));
                    if *h {
                        prop_assert_eq!(v, 2);
                    }
                    *h |= v == 2;
                }
            }
        }
    }
}
