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
