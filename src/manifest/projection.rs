//! The npm clients' projection of a manifest: only prompts marked `client: true`, the
//! snippets they pin, and forced-unit lists replaced by salted hashes, so that local
//! decisions equal the edge's while the QA unit ids are not shown in clear.

use super::model::CompiledManifest;
use crate::assign::{default_salt, forced_unit_hash};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

impl CompiledManifest {
    /// The client projection, a valid manifest document of the same revision.
    pub fn client_projection(&self) -> Value {
        let mut out = Map::new();
        let src = &self.source;
        for key in ["schema", "revision", "metrics"] {
            if let Some(v) = src.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        let mut prompts = Map::new();
        let mut pinned: BTreeSet<String> = BTreeSet::new();
        for (name, prompt) in src
            .get("prompts")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if !self.prompt(name).is_some_and(|p| p.client) {
                continue;
            }
            let mut prompt = prompt.clone();
            for v in prompt
                .get("versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(pins) = v.get("snippets").and_then(Value::as_object) {
                    pinned.extend(pins.keys().cloned());
                }
            }
            if let Some(labels) = prompt.get_mut("labels").and_then(Value::as_object_mut) {
                for (label, route) in labels.iter_mut() {
                    hash_forced_units(name, label, route);
                }
            }
            prompts.insert(name.clone(), prompt);
        }
        out.insert("prompts".into(), Value::Object(prompts));
        if let Some(all) = src.get("snippets").and_then(Value::as_object) {
            let kept: Map<String, Value> = all
                .iter()
                .filter(|(name, _)| pinned.contains(*name))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !kept.is_empty() {
                out.insert("snippets".into(), Value::Object(kept));
            }
        }
        Value::Object(out)
    }
}

/// Replaces each rule's `units` by `unit_hashes` under the route's effective salt.
pub(crate) fn hash_forced_units(prompt: &str, label: &str, route: &mut Value) {
    let salt = route
        .get("salt")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| default_salt(prompt, label));
    let rules = route.get_mut("rules").and_then(Value::as_array_mut);
    for rule in rules.into_iter().flatten() {
        let Some(obj) = rule.as_object_mut() else {
            continue;
        };
        let Some(Value::Array(units)) = obj.get("units") else {
            continue;
        };
        let hashes: Vec<Value> = units
            .iter()
            .filter_map(Value::as_str)
            .map(|u| Value::String(forced_unit_hash(&salt, u)))
            .collect();
        // Rebuilt rather than `remove`d: B-tree removal is code the engine's Wasm
        // would carry for this one call.
        let mut hashed = Map::new();
        for (k, v) in std::mem::take(obj) {
            if k != "units" {
                hashed.insert(k, v);
            }
        }
        hashed.insert("unit_hashes".into(), Value::Array(hashes));
        *obj = hashed;
    }
}

#[cfg(test)]
mod tests {
    use crate::manifest;
    use crate::resolve::{self, Request};
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
        let p = |m: &crate::CompiledManifest| {
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
}
