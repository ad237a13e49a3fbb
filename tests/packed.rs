//! The packed per-resolve form of the npm package decides and renders exactly like the
//! JSON path: the golden set through it, and a property over arbitrary scalar values.

use edgeprompt::manifest;
use edgeprompt::packed::{resolve_packed, resolve_packed_refs, SEP};
use edgeprompt::resolve::{self, RequestDoc};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

/// Packs a value as the npm package does (numbers as their JSON text, which is what
/// JavaScript's String(x) gives for a finite number up to the exponent's "+").
fn tagged(v: &Value) -> String {
    match v {
        Value::String(s) => format!("s{s}"),
        Value::Number(n) => format!("n{n}"),
        Value::Bool(true) => "t".into(),
        Value::Bool(false) => "f".into(),
        Value::Null => "z".into(),
        other => format!("j{other}"),
    }
}

fn pack_object(v: Option<&Value>, out: &mut Vec<String>) -> bool {
    match v {
        None => out.push("0".into()),
        Some(Value::Object(m)) => {
            out.push(m.len().to_string());
            for (k, v) in m {
                out.push(k.clone());
                out.push(tagged(v));
            }
        }
        Some(_) => return false,
    }
    true
}

/// The packed text of a request, or None when the package would take the JSON path.
fn pack(req: &Value) -> Option<String> {
    let mut f = vec![
        req["prompt"].as_str()?.to_string(),
        req.get("label")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        req["unit"].as_str()?.to_string(),
    ];
    if !pack_object(req.get("attributes"), &mut f) || !pack_object(req.get("variables"), &mut f) {
        return None;
    }
    if f.iter().any(|s| s.contains(SEP)) {
        return None;
    }
    Some(f.join("\0"))
}

/// Expands the refs form's literal references (`U+0001 address:length U+0001`), reading
/// the literals from memory as the JavaScript side does from the Wasm memory.
fn expand_refs(content: &str) -> String {
    let mut out = String::new();
    for (i, part) in content.split('\u{1}').enumerate() {
        if i % 2 == 0 {
            out.push_str(part);
            continue;
        }
        let (ptr, len) = part.split_once(':').unwrap();
        let ptr = usize::from_str_radix(ptr, 16).unwrap();
        let len = usize::from_str_radix(len, 16).unwrap();
        // SAFETY: the reference points into the compiled manifest, which the caller
        // keeps alive; it names `len` bytes of a `str` there.
        let bytes = unsafe { std::slice::from_raw_parts(ptr as *const u8, len) };
        out.push_str(std::str::from_utf8(bytes).unwrap());
    }
    out
}

/// Rebuilds the decision's JSON from the packed answer (either form) and the version's
/// fixed parts.
fn unpack(m: &edgeprompt::CompiledManifest, prompt: &str, out: &str) -> Value {
    if let Some(err) = out.strip_prefix('!') {
        return json!({"error": serde_json::from_str::<Value>(err).unwrap()});
    }
    let f: Vec<&str> = out.split('\0').collect();
    let version: u32 = f[0].parse().unwrap();
    let v = m.prompt(prompt).unwrap().version(version).unwrap();
    let mut d = Map::new();
    d.insert("prompt".into(), json!(prompt));
    d.insert("label".into(), json!(f[4]));
    d.insert("version".into(), json!(version));
    d.insert("rule".into(), json!(f[3]));
    d.insert("bucket".into(), json!(f[1].parse::<u16>().unwrap()));
    if f[5] == "t" {
        d.insert("text".into(), json!(f[6..].join("\0")));
    } else if f[5] == "T" {
        d.insert("text".into(), json!(expand_refs(f[6])));
    } else {
        let refs = f[5] == "M";
        assert!(refs || f[5] == "m", "kind {}", f[5]);
        let msgs: Vec<Value> = f[6..]
            .chunks(2)
            .map(|c| {
                let content = if refs {
                    expand_refs(c[1])
                } else {
                    c[1].to_string()
                };
                json!({"role": c[0], "content": content})
            })
            .collect();
        d.insert("messages".into(), Value::Array(msgs));
    }
    d.insert("model".into(), v.model.clone());
    d.insert("tools".into(), v.tools.clone());
    d.insert("response_format".into(), v.response_format.clone());
    d.insert("revision".into(), json!(m.revision()));
    d.insert("hash".into(), json!(v.hash));
    json!({"decision": d})
}

fn golden() -> (edgeprompt::CompiledManifest, Vec<Value>) {
    let text = std::fs::read_to_string(format!("{DIR}/manifest.json")).unwrap();
    let cases = std::fs::read_to_string(format!("{DIR}/decisions.json")).unwrap();
    (
        manifest::compile(&text).unwrap(),
        serde_json::from_str(&cases).unwrap(),
    )
}

#[test]
fn the_golden_set_through_the_packed_form() {
    let (m, cases) = golden();
    let mut packed = 0;
    for case in &cases {
        let Some(text) = pack(&case["request"]) else {
            continue;
        };
        packed += 1;
        let prompt = case["request"]["prompt"].as_str().unwrap();
        let got = unpack(&m, prompt, &resolve_packed(&m, &text));
        assert_eq!(got, case["expected"], "case {}", case["name"]);
        let got = unpack(&m, prompt, &resolve_packed_refs(&m, &text));
        assert_eq!(got, case["expected"], "case {} (refs form)", case["name"]);
    }
    // All but the cases whose request the package must send as JSON.
    assert!(
        packed + 2 >= cases.len(),
        "only {packed} of {} packed",
        cases.len()
    );
}

#[test]
fn malformed_packed_text_is_a_typed_error() {
    let (m, _) = golden();
    for bad in [
        "",
        "golden",
        "golden\0\0u1\0x",
        "golden\0\0u1\0 1\0k",
        "golden\0\0u1\x000\x001\0q\0?oops",
        "golden\0\0u1\x000\x000\0extra",
    ] {
        let out = resolve_packed(&m, bad);
        let err: Value = serde_json::from_str(
            out.strip_prefix('!')
                .unwrap_or_else(|| panic!("{bad:?} -> {out}")),
        )
        .unwrap();
        assert_eq!(err["code"], "invalid_request", "{bad:?}");
    }
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        "\\PC{0,12}".prop_map(Value::String),
        // The refs form's marker inside a value: the answer falls back to the plain form.
        "[a\u{1}]{1,4}".prop_map(Value::String),
        any::<f64>().prop_filter_map("finite", |x| serde_json::Number::from_f64(x)
            .map(Value::Number)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

proptest! {
    #[test]
    fn packed_and_json_paths_agree(
        unit in "\\PC{1,16}",
        vars in proptest::collection::btree_map("[a-z]{1,3}|question|n|s|b|list", scalar(), 0..6),
        attrs in proptest::collection::btree_map("[a-z0-9_]{1,3}|k1|tier|app_version", scalar(), 0..4),
    ) {
        let (m, _) = golden();
        let mut vars: Map<String, Value> = vars.into_iter().collect();
        vars.entry("question").or_insert(json!("q?"));
        let req = json!({"prompt": "golden", "unit": unit, "attributes": attrs, "variables": vars});
        prop_assume!(pack(&req).is_some());
        let doc: RequestDoc = serde_json::from_value(req.clone()).unwrap();
        let want = match resolve::resolve(&m, &doc.as_request()) {
            Ok(d) => json!({"decision": d}),
            Err(e) => json!({"error": {"code": e.code(), "message": e.to_string()}}),
        };
        let packed = pack(&req).unwrap();
        let got = unpack(&m, "golden", &resolve_packed(&m, &packed));
        prop_assert_eq!(&got, &want);
        let got = unpack(&m, "golden", &resolve_packed_refs(&m, &packed));
        prop_assert_eq!(&got, &want);
    }
}

#[test]
fn a_repeated_name_takes_the_last_value_as_json_parsing_does() {
    let (m, _) = golden();
    let json_text = r#"{"prompt": "golden", "unit": "u1", "variables": {"question": "first", "question": "last"}}"#;
    let doc: RequestDoc = serde_json::from_str(json_text).unwrap();
    let want = json!({"decision": resolve::resolve(&m, &doc.as_request()).unwrap()});
    let packed = "golden\0\0u1\x000\x002\0question\0sfirst\0question\0slast";
    assert_eq!(unpack(&m, "golden", &resolve_packed(&m, packed)), want);
    assert!(want.to_string().contains("last"));
}

#[test]
fn a_marker_in_a_value_answers_in_the_plain_form() {
    let (m, _) = golden();
    let packed = "golden\0\0u1\x000\x001\0question\0sa\u{1}b";
    let out = resolve_packed_refs(&m, packed);
    let kind = out.split('\0').nth(5).unwrap();
    assert!(kind == "t" || kind == "m", "{out:?}");
    assert!(out.contains("a\u{1}b"));
}
