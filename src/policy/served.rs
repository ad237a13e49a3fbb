//! The versions a label's route can serve, so that a policy's eval requirement applies
//! to the versions a change newly exposes and to nothing else.

use serde_json::Value;
use std::collections::BTreeSet;

/// The versions a route can serve: `{"version": N}` targets and split entries with a
/// weight above 0, of its `default` and of every rule's `target`. Malformed parts are
/// skipped: the manifest is validated elsewhere.
pub fn served_versions(route: &Value) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    if let Some(target) = route.get("default") {
        add_target(target, &mut out);
    }
    let rules = route.get("rules").and_then(Value::as_array);
    for rule in rules.into_iter().flatten() {
        if let Some(target) = rule.get("target") {
            add_target(target, &mut out);
        }
    }
    out
}

/// The versions `after` can serve that `before` (no route yet: `None`) could not,
/// ascending.
pub fn newly_served(before: Option<&Value>, after: &Value) -> Vec<u64> {
    let old = before.map(served_versions).unwrap_or_default();
    served_versions(after)
        .into_iter()
        .filter(|v| !old.contains(v))
        .collect()
}

fn add_target(target: &Value, out: &mut BTreeSet<u64>) {
    if let Some(v) = target.get("version").and_then(Value::as_u64) {
        out.insert(v);
    }
    let split = target.get("split").and_then(Value::as_array);
    for entry in split.into_iter().flatten() {
        let weight = entry.get("weight").and_then(Value::as_f64).unwrap_or(0.0);
        if weight > 0.0 {
            if let Some(v) = entry.get("version").and_then(Value::as_u64) {
                out.insert(v);
            }
        }
    }
}
