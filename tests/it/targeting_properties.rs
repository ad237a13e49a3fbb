//! Property tests of the targeting operators, through a compiled manifest as every
//! platform runs them: string ordering is byte ordering, case-insensitive comparison is
//! symmetric and agrees with the affix tests, and the list operators agree with each
//! other.

use edgeprompt::manifest::{self, CompiledManifest};
use edgeprompt::resolve::{self, Request};
use proptest::prelude::*;
use serde_json::{json, Value};

/// A manifest whose route has one rule `r` with this condition.
fn compile(when: Value) -> CompiledManifest {
    let doc = json!({
        "schema": 1, "revision": 1,
        "prompts": {"c": {
            "versions": [{"version": 1, "text": "1"}, {"version": 2, "text": "2"}],
            "labels": {"production": {
                "rules": [{"name": "r", "when": when, "target": {"version": 2}}],
                "default": {"version": 1},
            }},
        }},
    });
    manifest::compile(&doc.to_string()).expect("the condition compiles")
}

/// Whether the condition holds for these attributes.
fn holds(when: Value, attrs: Value) -> bool {
    let m = compile(when);
    let req = Request {
        prompt: "c",
        label: None,
        unit: "u",
        attributes: Some(&attrs),
        variables: None,
        now_ms: None,
    };
    resolve::assign(&m, &req).expect("assigns").rule == "r"
}

/// Short strings mixing ASCII, letters with simple foldings and a few that have none.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            proptest::char::range('a', 'e'),
            proptest::char::range('A', 'E'),
            Just('ß'),
            Just('ẞ'),
            Just('ǅ'),
            Just('ǆ'),
            Just('Σ'),
            Just('ς'),
            Just('σ'),
            Just('ı'),
            Just('İ'),
            Just('1'),
        ],
        0..6,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn op(attr: &str, op: &str, value: Value, ci: bool) -> Value {
    json!({"attr": attr, "op": op, "value": value, "case_insensitive": ci})
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn string_order_is_byte_order(a in text(), b in text()) {
        let attrs = json!({"s": a});
        let lt = holds(json!({"attr": "s", "op": "lt", "value": b}), attrs.clone());
        let gte = holds(json!({"attr": "s", "op": "gte", "value": b}), attrs.clone());
        prop_assert_eq!(lt, a.as_bytes() < b.as_bytes());
        prop_assert_eq!(gte, !lt);
        let eq = holds(json!({"attr": "s", "op": "eq", "value": b}), attrs);
        prop_assert_eq!(eq, a == b);
    }

    #[test]
    fn case_insensitive_equality_is_symmetric_and_reflexive(a in text(), b in text()) {
        let ab = holds(op("s", "eq", json!(b), true), json!({"s": a}));
        let ba = holds(op("s", "eq", json!(a), true), json!({"s": b}));
        prop_assert_eq!(ab, ba);
        let reflexive = holds(op("s", "eq", json!(a), true), json!({"s": a}));
        prop_assert!(reflexive);
        // Folding maps one character to one: equal strings have as many characters.
        if ab {
            prop_assert_eq!(a.chars().count(), b.chars().count());
        }
        // Case-insensitive equality is the same as both affix tests of equal length.
        let sw = holds(op("s", "starts_with", json!(b), true), json!({"s": a}));
        let ew = holds(op("s", "ends_with", json!(b), true), json!({"s": a}));
        let same_len = a.chars().count() == b.chars().count();
        prop_assert_eq!(ab, sw && same_len);
        prop_assert_eq!(ab, ew && same_len);
    }

    #[test]
    fn every_substring_is_contained(a in text(), i in 0usize..8, n in 0usize..8, ci in any::<bool>()) {
        let chars: Vec<char> = a.chars().collect();
        let i = i.min(chars.len());
        let j = (i + n).min(chars.len());
        let sub: String = chars[i..j].iter().collect();
        let prefix: String = chars[..j].iter().collect();
        let suffix: String = chars[i..].iter().collect();
        let attrs = json!({"s": a});
        let contained = holds(op("s", "contains_str", json!(sub), ci), attrs.clone());
        let starts = holds(op("s", "starts_with", json!(prefix), ci), attrs.clone());
        let ends = holds(op("s", "ends_with", json!(suffix), ci), attrs);
        prop_assert!(contained && starts && ends);
    }

    #[test]
    fn list_operators_agree(
        items in proptest::collection::vec(prop_oneof![text().prop_map(Value::from), (0i32..3).prop_map(Value::from)], 0..5),
        values in proptest::collection::vec(prop_oneof![text().prop_map(Value::from), (0i32..3).prop_map(Value::from)], 0..4),
        ci in any::<bool>(),
    ) {
        let attrs = json!({"g": items});
        let any = holds(op("g", "contains_any", json!(values), ci), attrs.clone());
        let none = holds(op("g", "contains_none", json!(values), ci), attrs.clone());
        let all = holds(op("g", "contains_all", json!(values), ci), attrs.clone());
        let is_in = holds(op("g", "in", json!(values), ci), attrs.clone());
        let not_in = holds(op("g", "not_in", json!(values), ci), attrs.clone());
        prop_assert_eq!(any, !none);
        prop_assert_eq!(any, is_in);
        prop_assert_eq!(not_in, none);
        let each: Vec<bool> = values
            .iter()
            .map(|v| holds(op("g", "contains", v.clone(), ci), attrs.clone()))
            .collect();
        prop_assert_eq!(any, each.iter().any(|x| *x));
        prop_assert_eq!(all, each.iter().all(|x| *x));
    }
}
