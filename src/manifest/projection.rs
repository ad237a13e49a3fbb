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
