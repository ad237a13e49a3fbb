//! Unit tests of the crossing: the error JSON's shape and the names the JavaScript side
//! shares with the ops form.

use crate::ops::{error_json, SHARED};
use edgeprompt::resolve::ResolveError;
use edgeprompt::value::canonical::canonical;

/// The hand-written error JSON is the canonical form of the error object the edge
/// sends: its code, its details when it has any, its message.
#[test]
fn error_json_is_the_canonical_error_object() {
    let errors = [
        ResolveError::MissingVariables(vec!["a\"b".into(), "ü".into()]),
        ResolveError::MissingVariables(vec![]),
        ResolveError::InvalidVariable {
            name: "x".into(),
            reason: "r".into(),
        },
        ResolveError::UnknownPrompt("p".into()),
    ];
    for e in errors {
        let mut obj = serde_json::Map::new();
        obj.insert("code".into(), e.code().into());
        obj.insert("message".into(), e.to_string().into());
        if !e.details().is_null() {
            obj.insert("details".into(), e.details());
        }
        assert_eq!(error_json(&e), canonical(&serde_json::Value::Object(obj)));
    }
}

/// npm/src/engine.js declares `const NAME = value;` for every word and tag of the ops
/// form, with the values the Rust side writes: one layout, named once on each side.
#[test]
fn engine_js_reads_the_ops_form_by_the_same_names() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/engine.js");
    let js = std::fs::read_to_string(path).unwrap();
    for (name, value) in SHARED {
        let decl = format!("const {name} = {value};");
        assert!(js.contains(&decl), "npm/src/engine.js lacks `{decl}`");
    }
    // No bare offsets into the ops are left: every `w[at + ...]` uses a name.
    for (i, line) in js.lines().enumerate() {
        let bare = line.match_indices("at + ").any(|(k, _)| {
            line.get(k + 5..)
                .and_then(|rest| rest.chars().next())
                .is_some_and(|c| c.is_ascii_digit())
        });
        assert!(!bare, "npm/src/engine.js:{}: a bare offset: {line}", i + 1);
    }
}
