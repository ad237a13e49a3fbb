//! Golden decisions: the shared set that the native engine, the worker and the npm
//! package must all reproduce exactly (split boundaries, non-ASCII and unnormalised
//! units, every rule operator and coercion, JavaScript number rendering, chat
//! placeholders, typed errors). Regenerate the expectations only on purpose:
//! `EDGEPROMPT_BLESS=1 cargo test --test golden_decisions`.

use edgeprompt::manifest;
use edgeprompt::resolve::{self, RequestDoc};
use serde_json::{json, Value};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

fn outcome(m: &edgeprompt::CompiledManifest, request: &Value) -> Value {
    let doc: RequestDoc = serde_json::from_value(request.clone()).expect("golden request parses");
    match resolve::resolve(m, &doc.as_request()) {
        Ok(d) => json!({"decision": d}),
        Err(e) => json!({"error": {"code": e.code(), "message": e.to_string()}}),
    }
}

#[test]
fn decisions_match_the_golden_file() {
    let text = std::fs::read_to_string(format!("{DIR}/manifest.json")).unwrap();
    let m = manifest::compile(&text).unwrap();
    let path = format!("{DIR}/decisions.json");
    let mut cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    if std::env::var_os("EDGEPROMPT_BLESS").is_some() {
        for case in &mut cases {
            case["expected"] = outcome(&m, &case["request"]);
        }
        std::fs::write(&path, serde_json::to_string_pretty(&cases).unwrap() + "\n").unwrap();
    }
    assert!(cases.len() >= 60);
    for case in &cases {
        let got = outcome(&m, &case["request"]);
        assert_eq!(got, case["expected"], "case {}", case["name"]);
    }
}

/// Equal as JavaScript sees them: numbers compare as doubles (`1.0` is `1`).
fn same_for_js(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_for_js(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && same_for_js(a, b))
        }
        _ => a == b,
    }
}

/// The keys of a compact JSON object's top level, in the order written.
fn top_keys(text: &str) -> Vec<String> {
    let (mut keys, mut depth, mut in_str, mut esc, mut start) = (Vec::new(), 0, false, false, 0);
    for (i, c) in text.char_indices() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => {
                    in_str = false;
                    if depth == 1 && text[i + 1..].starts_with(':') {
                        keys.push(text[start..i].to_string());
                    }
                }
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                start = i + 1;
            }
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
    }
    keys
}

#[test]
fn hand_written_decision_json_equals_serdes() {
    // The npm package writes decisions with `Decision::to_json` (no serde serialiser in
    // its Wasm); the edge and the CLI serialise with serde. Same keys, same order, same
    // values for JavaScript.
    let text = std::fs::read_to_string(format!("{DIR}/manifest.json")).unwrap();
    let m = manifest::compile(&text).unwrap();
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/decisions.json")).unwrap())
            .unwrap();
    let mut checked = 0;
    for case in &cases {
        let doc: RequestDoc = serde_json::from_value(case["request"].clone()).unwrap();
        let Ok(d) = resolve::resolve(&m, &doc.as_request()) else {
            continue;
        };
        let ours = d.to_json();
        let serde = serde_json::to_string(&d).unwrap();
        let (a, b): (Value, Value) = (
            serde_json::from_str(&ours).unwrap(),
            serde_json::from_str(&serde).unwrap(),
        );
        assert!(
            same_for_js(&a, &b),
            "case {}:\n{ours}\n{serde}",
            case["name"]
        );
        assert_eq!(top_keys(&ours), top_keys(&serde), "case {}", case["name"]);
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} decisions checked");
}
