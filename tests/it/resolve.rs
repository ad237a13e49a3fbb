//! Resolve: decisions, rules, splits, rendering through the manifest, typed errors.

use edgeprompt::assign::forced_unit_hash;
use edgeprompt::manifest::{self, CompiledManifest};
use edgeprompt::resolve::{self, Request, ResolveError};
use serde_json::{json, Value};

fn demo() -> CompiledManifest {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo.json"))
        .unwrap();
    manifest::compile(&text).unwrap()
}

fn req<'a>(prompt: &'a str, unit: &'a str, attrs: &'a Value, vars: &'a Value) -> Request<'a> {
    Request {
        prompt,
        label: None,
        unit,
        attributes: Some(attrs),
        variables: Some(vars),
        now_ms: None,
    }
}

#[test]
fn decision_has_the_documented_keys() {
    let m = demo();
    let (attrs, vars) = (json!({}), json!({"question": "Where is my order?"}));
    let d = resolve::resolve(&m, &req("support", "user-1", &attrs, &vars)).unwrap();
    let v = serde_json::to_value(&d).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "bucket",
            "hash",
            "label",
            "messages",
            "model",
            "prompt",
            "response_format",
            "revision",
            "rule",
            "tools",
            "version"
        ]
    );
    assert_eq!(v["prompt"], "support");
    assert_eq!(v["label"], "production");
    assert_eq!(v["rule"], "default");
    assert_eq!(v["revision"], 1);
    assert_eq!(v["tools"], Value::Null);
    assert_eq!(v["hash"].as_str().unwrap().len(), 64);
}

#[test]
fn chat_messages_render_with_snippets_defaults_and_placeholders() {
    let m = demo();
    let attrs = json!({});
    let vars = json!({
        "question": "Is {{company}} open on Sunday?",
        "plan": "pro",
        "history": [{"role": "user", "content": "hi {{plan}}"}, {"role": "assistant", "content": "Hello!"}]
    });
    let d = resolve::resolve(
        &m,
        &Request {
            label: Some("staging"),
            ..req("support", "u", &attrs, &vars)
        },
    )
    .unwrap();
    assert_eq!(d.assignment.version, 2);
    let msgs: Vec<(String, String)> = d
        .messages
        .unwrap()
        .into_iter()
        .map(|m| (m.role.into_owned(), m.content.into_owned()))
        .collect();
    assert_eq!(msgs, vec![
        ("system".into(), "You are the support assistant of Acme. Be warm, concise and concrete. Answer in English.\nThe customer is on the pro plan.".into()),
        ("user".into(), "hi {{plan}}".into()),
        ("assistant".into(), "Hello!".into()),
        // A value is data: never parsed as a template.
        ("user".into(), "Is {{company}} open on Sunday?".into()),
    ]);
}

#[test]
fn inverted_sections_and_null_defaults() {
    let m = demo();
    let (attrs, vars) = (json!({}), json!({"question": "q", "company": "Globex"}));
    let d = resolve::resolve(
        &m,
        &Request {
            label: Some("staging"),
            ..req("support", "u", &attrs, &vars)
        },
    )
    .unwrap();
    let system = &d.messages.unwrap()[0].content;
    assert!(
        system.starts_with("You are the support assistant of Globex."),
        "{system}"
    );
    assert!(
        system.ends_with("The customer's plan is unknown."),
        "{system}"
    );
}

#[test]
fn text_versions_render_numbers_like_javascript() {
    let m = demo();
    let attrs = json!({});
    for (n, expected) in [
        (json!(50), "50"),
        (json!(1.0), "1"),
        (json!(1e21), "1e+21"),
        (json!(0.1), "0.1"),
        (json!(-0.0), "0"),
        (json!(9007199254740993u64), "9007199254740992"),
    ] {
        let vars = json!({"text": "T", "max_words": n});
        let d = resolve::resolve(&m, &req("summarize", "u", &attrs, &vars)).unwrap();
        assert_eq!(
            d.text.as_deref(),
            Some(
                format!("Summarize the following text in {expected} words or fewer:\n\nT").as_str()
            )
        );
    }
}

#[test]
fn missing_variables_are_all_named() {
    let m = demo();
    let (attrs, vars) = (json!({}), json!({}));
    let e = resolve::resolve(&m, &req("summarize", "u", &attrs, &vars)).unwrap_err();
    assert_eq!(e, ResolveError::MissingVariables(vec!["text".into()]));
    assert_eq!(e.to_string(), "missing required variable(s): text");
    assert_eq!(e.code(), "missing_variables");
}

#[test]
fn unknown_prompt_and_label_are_typed() {
    let m = demo();
    let (attrs, vars) = (json!({}), json!({"question": "q"}));
    assert_eq!(
        resolve::resolve(&m, &req("nope", "u", &attrs, &vars))
            .unwrap_err()
            .code(),
        "unknown_prompt"
    );
    let e = resolve::resolve(
        &m,
        &Request {
            label: Some("canary"),
            ..req("support", "u", &attrs, &vars)
        },
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "prompt \"support\" has no label \"canary\"");
    let e = resolve::resolve(&m, &req("support", "", &attrs, &vars)).unwrap_err();
    assert_eq!(e.code(), "invalid_request");
    let bad = json!([1]);
    let e = resolve::resolve(&m, &req("support", "u", &bad, &vars)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid request: attributes must be a JSON object"
    );
}

#[test]
fn placeholders_must_hold_messages() {
    let m = demo();
    let attrs = json!({});
    let vars = json!({"question": "q", "history": [{"role": "user"}]});
    let e = resolve::resolve(&m, &req("support", "u", &attrs, &vars)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "variable \"history\": item 0 needs string \"role\" and \"content\""
    );
}

#[test]
fn rules_decide_before_the_split() {
    let m = demo();
    let vars = json!({"question": "q"});
    let qa = json!({});
    let d = resolve::resolve(&m, &req("support", "qa-alice", &qa, &vars)).unwrap();
    assert_eq!(
        (d.assignment.version, d.assignment.rule, d.assignment.forced),
        (2, "qa", true)
    );
    let old = json!({"app_version": "1.9.3"});
    let d = resolve::resolve(&m, &req("support", "qa-bob-not", &old, &vars)).unwrap();
    assert_eq!(
        (d.assignment.version, d.assignment.rule, d.assignment.forced),
        (1, "old-apps", false)
    );
    let pre = json!({"app_version": "2.0.0-rc.1"});
    assert_eq!(
        resolve::resolve(&m, &req("support", "x", &pre, &vars))
            .unwrap()
            .assignment
            .rule,
        "old-apps"
    );
    let new = json!({"app_version": "2.0.0"});
    assert_eq!(
        resolve::resolve(&m, &req("support", "x", &new, &vars))
            .unwrap()
            .assignment
            .rule,
        "default"
    );
}

#[test]
fn hashed_forced_units_match_like_clear_ones() {
    let salt = "support/production";
    let doc = json!({
        "schema": 1, "revision": 1,
        "prompts": {"support": {
            "versions": [{"version": 1, "text": "one"}, {"version": 2, "text": "two"}],
            "labels": {"production": {
                "rules": [{"name": "qa", "unit_hashes": [forced_unit_hash(salt, "qa-alice")], "target": {"version": 2}}],
                "default": {"version": 1}
            }}
        }}
    });
    let m = manifest::compile(&doc.to_string()).unwrap();
    let (a, v) = (json!({}), json!({}));
    assert_eq!(
        resolve::resolve(&m, &req("support", "qa-alice", &a, &v))
            .unwrap()
            .text
            .as_deref(),
        Some("two")
    );
    assert_eq!(
        resolve::resolve(&m, &req("support", "qa-bob", &a, &v))
            .unwrap()
            .text
            .as_deref(),
        Some("one")
    );
}

#[test]
fn a_90_10_split_serves_about_90_10() {
    let m = demo();
    let (attrs, vars) = (json!({}), json!({"question": "q"}));
    let n = 20_000;
    let v2 = (0..n)
        .filter(|i| {
            let unit = format!("user-{i}");
            resolve::assign(&m, &req("support", &unit, &attrs, &vars))
                .unwrap()
                .version
                == 2
        })
        .count();
    let share = v2 as f64 / n as f64 * 100.0;
    assert!((share - 10.0).abs() < 1.0, "{share}% on version 2");
}

#[test]
fn json_in_json_out_equals_the_typed_path() {
    let m = demo();
    let (attrs, vars) = (json!({"app_version": "3.0.0"}), json!({"question": "q"}));
    let typed = serde_json::to_string(
        &resolve::resolve(&m, &req("support", "user-7", &attrs, &vars)).unwrap(),
    )
    .unwrap();
    let doc =
        json!({"prompt": "support", "unit": "user-7", "attributes": attrs, "variables": vars});
    let from_json = Request::from_json(&doc, &[]).unwrap();
    let text = serde_json::to_string(&resolve::resolve(&m, &from_json).unwrap()).unwrap();
    assert_eq!(typed, text);
    let e = Request::from_json(&json!({"prompt": "support"}), &[]).unwrap_err();
    assert_eq!(e.code(), "invalid_request");
    assert!(e.to_string().contains("missing field `unit`"), "{e}");
    // A platform's own field is refused unless the platform names it.
    let tracked = json!({"prompt": "support", "unit": "u", "track": false});
    let e = Request::from_json(&tracked, &[]).unwrap_err();
    assert!(e.to_string().contains("unknown field `track`"), "{e}");
    assert_eq!(Request::from_json(&tracked, &["track"]).unwrap().unit, "u");
}

#[test]
fn render_limits_surface_as_typed_errors() {
    let doc = json!({
        "schema": 1, "revision": 1,
        "prompts": {"p": {
            "versions": [{"version": 1, "text": "{{#items}}{{.}}{{/items}}", "variables": {"items": {"required": true}}}],
            "labels": {"production": {"default": {"version": 1}}}
        }}
    });
    let m = manifest::compile(&doc.to_string()).unwrap();
    let attrs = json!({});
    let vars = json!({"items": vec!["x".repeat(1000); 2000]});
    let e = resolve::resolve(&m, &req("p", "u", &attrs, &vars)).unwrap_err();
    assert_eq!(e.code(), "render_limit");
    assert!(e.to_string().contains("exceeds"), "{e}");
}
