//! Compact history: a revision is stored as its skeleton (everything but version
//! bodies, each version list replaced by its length) while version bodies, immutable and
//! only ever appended, are stored once. And a structural diff between two documents.

use serde_json::{json, Map, Value};

/// Marks a version list replaced by its length in a skeleton.
const COUNT_KEY: &str = "$versions";

/// A version body to store once: `(kind, name, number, body)`, kind `prompt` or `snippet`.
pub type VersionRow = (&'static str, String, u64, Value);

/// Splits a document into its skeleton and its version rows.
pub fn split_document(doc: &Value) -> (Value, Vec<VersionRow>) {
    let mut skeleton = doc.clone();
    let mut rows = Vec::new();
    for (kind, section) in [("prompt", "prompts"), ("snippet", "snippets")] {
        let Some(items) = skeleton.get_mut(section).and_then(Value::as_object_mut) else {
            continue;
        };
        for (name, item) in items.iter_mut() {
            let Some(obj) = item.as_object_mut() else {
                continue;
            };
            let versions = match obj.remove("versions") {
                Some(Value::Array(v)) => v,
                _ => Vec::new(),
            };
            obj.insert(COUNT_KEY.into(), Value::from(versions.len() as u64));
            for v in versions {
                let n = v.get("version").and_then(Value::as_u64).unwrap_or(0);
                rows.push((kind, name.clone(), n, v));
            }
        }
    }
    (skeleton, rows)
}

/// Rebuilds a document from its skeleton; `fetch(kind, name, count)` returns that
/// item's versions 1..=count.
pub fn join_document(
    skeleton: &Value,
    fetch: &mut dyn FnMut(&str, &str, u64) -> Vec<Value>,
) -> Value {
    let mut doc = skeleton.clone();
    for (kind, section) in [("prompt", "prompts"), ("snippet", "snippets")] {
        let Some(items) = doc.get_mut(section).and_then(Value::as_object_mut) else {
            continue;
        };
        for (name, item) in items.iter_mut() {
            let Some(obj) = item.as_object_mut() else {
                continue;
            };
            let count = obj.remove(COUNT_KEY).and_then(|c| c.as_u64()).unwrap_or(0);
            obj.insert("versions".into(), Value::Array(fetch(kind, name, count)));
        }
    }
    doc
}

/// One difference between two documents.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Change {
    /// Where, as a dotted path (`prompts.support.labels.production.default`).
    pub path: String,
    /// `added`, `removed` or `changed`.
    pub kind: &'static str,
    /// The old value (absent when added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The new value (absent when removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// The differences between two documents, ignoring `revision`. Objects are compared
/// key by key; version lists item by item; anything else as a whole.
pub fn diff(from: &Value, to: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk("", from, to, &mut out);
    out.retain(|c| c.path != "revision");
    out
}

fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

/// Compares one key or item that may be missing on either side.
fn pair(path: String, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Change>) {
    match (a, b) {
        (Some(va), Some(vb)) => walk(&path, va, vb, out),
        (Some(va), None) => out.push(Change {
            path,
            kind: "removed",
            before: Some(va.clone()),
            after: None,
        }),
        (None, Some(vb)) => out.push(Change {
            path,
            kind: "added",
            before: None,
            after: Some(vb.clone()),
        }),
        (None, None) => {}
    }
}

fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<Change>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                pair(join(path, k), x.get(k), y.get(k), out);
            }
        }
        (Value::Array(x), Value::Array(y)) if path.ends_with(".versions") => {
            for i in 0..x.len().max(y.len()) {
                pair(format!("{path}[{i}]"), x.get(i), y.get(i), out);
            }
        }
        _ => out.push(Change {
            path: path.to_string(),
            kind: "changed",
            before: Some(a.clone()),
            after: Some(b.clone()),
        }),
    }
}

/// An empty manifest at revision 0: the state before the first publish.
pub fn empty_manifest() -> Value {
    json!({"schema": 1, "revision": 0, "prompts": Map::new()})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Value {
        serde_json::from_str(include_str!("../../examples/demo.json")).unwrap()
    }

    #[test]
    fn a_document_survives_splitting_and_joining() {
        let doc = demo();
        let (skeleton, rows) = split_document(&doc);
        assert!(
            !skeleton.to_string().contains("Be warm"),
            "bodies leave the skeleton"
        );
        assert_eq!(rows.len(), 5);
        let rebuilt = join_document(&skeleton, &mut |kind, name, count| {
            let mut v: Vec<Value> = rows
                .iter()
                .filter(|r| r.0 == kind && r.1 == name && r.2 <= count)
                .map(|r| r.3.clone())
                .collect();
            v.sort_by_key(|x| x.get("version").and_then(Value::as_u64));
            v
        });
        assert_eq!(rebuilt, doc);
    }

    #[test]
    fn diff_names_each_change() {
        let a = demo();
        let mut b = a.clone();
        b["revision"] = json!(2);
        b["prompts"]["support"]["labels"]["production"]["default"] = json!({"version": 2});
        b["prompts"]["summarize"]["versions"]
            .as_array_mut()
            .unwrap()
            .push(json!({"version": 2, "text": "x"}));
        let d = diff(&a, &b);
        let paths: Vec<(&str, &str)> = d.iter().map(|c| (c.path.as_str(), c.kind)).collect();
        assert_eq!(
            paths,
            vec![
                ("prompts.summarize.versions[1]", "added"),
                ("prompts.support.labels.production.default.split", "removed"),
                ("prompts.support.labels.production.default.version", "added"),
            ]
        );
        assert!(diff(&a, &a).is_empty());
    }
}
