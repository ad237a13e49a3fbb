//! The npm clients' projection of a manifest decides as the full manifest does, and
//! shows neither the internal prompts nor the forced units in clear.

use edgeprompt::manifest;
use edgeprompt::resolve::{self, Request};
use serde_json::json;

#[test]
fn projection_keeps_client_prompts_and_decides_the_same() {
    let doc = json!({
        "schema": 1, "revision": 4,
        "snippets": {"pub": {"versions": [{"version": 1, "template": "P"}]},
                     "secret": {"versions": [{"version": 1, "template": "S"}]}},
        "prompts": {
            "open": {"client": true,
                "versions": [{"version": 1, "text": "a {{> pub}}", "snippets": {"pub": 1}}, {"version": 2, "text": "b"}],
                "labels": {"production": {
                    "rules": [{"name": "qa", "units": ["qa-1"], "target": {"version": 2}}],
                    "default": {"split": [{"version": 1, "weight": 50}, {"version": 2, "weight": 50}]}}}},
            "internal": {"versions": [{"version": 1, "text": "{{> secret}}", "snippets": {"secret": 1}}],
                "labels": {"production": {"default": {"version": 1}}}}
        }
    });
    let full = manifest::compile_value(doc).unwrap();
    let projected = full.client_projection();
    let text = projected.to_string();
    assert!(
        !text.contains("qa-1") && !text.contains("internal") && !text.contains("secret"),
        "{text}"
    );
    let local = manifest::compile_value(projected).unwrap();
    assert_eq!(local.revision(), 4);
    let (attrs, vars) = (json!({}), json!({}));
    for i in 0..200 {
        let unit = if i == 0 {
            "qa-1".to_string()
        } else {
            format!("user-{i}")
        };
        let req = Request {
            prompt: "open",
            label: None,
            unit: &unit,
            attributes: Some(&attrs),
            variables: Some(&vars),
            now_ms: None,
        };
        let (a, b) = (
            resolve::resolve(&full, &req).unwrap(),
            resolve::resolve(&local, &req).unwrap(),
        );
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::to_value(&b).unwrap()
        );
    }
    let p = |m: &edgeprompt::CompiledManifest| {
        m.prompt("open")
            .unwrap()
            .route("production")
            .unwrap()
            .period
            .clone()
    };
    assert_eq!(
        p(&full),
        p(&local),
        "the projection serves the same weights period"
    );
}
