//! The npm package's crossing decides and renders exactly like the JSON path: the
//! conformance set's decisions through the packed request and the ops form, malformed
//! and NUL-holding requests, and a property over arbitrary scalar values. The ops are
//! decoded as npm/src/engine.js decodes them, by the names of `edgeprompt_npm::ops`.

use edgeprompt::resolve::{self, Request};
use edgeprompt_npm::ops::{
    head, resolve_packed_ops, KIND_CHAT, PIECE_ENTRY, PIECE_TEXT, STATUS_DECISION, STATUS_ERROR,
    STATUS_JSON,
};
use edgeprompt_npm::request::SEP;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const CONFORMANCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/conformance");

/// The conformance set's decisions section (its spec version checked) and its manifest.
fn conformance() -> (edgeprompt::CompiledManifest, Vec<Value>) {
    let read = |name: &str| std::fs::read_to_string(format!("{CONFORMANCE}/{name}")).unwrap();
    let doc: Value = serde_json::from_str(&read("decisions.json")).unwrap();
    assert_eq!(doc["spec_version"], json!(edgeprompt::SPEC_VERSION));
    let manifest = doc["manifest"].as_str().unwrap();
    let m = edgeprompt::manifest::compile(&read(manifest)).unwrap();
    (m, doc["cases"].as_array().unwrap().clone())
}

/// Packs a value as the npm package does (numbers as their JSON text, which is what
/// JavaScript's String(x) gives for a finite number up to the exponent's "+").
fn tagged(v: &Value) -> String {
    match v {
        Value::String(s) => format!("s{s}"),
        Value::Number(n) => format!("n{n}"),
        Value::Bool(true) => "t".into(),
        Value::Bool(false) => "f".into(),
        Value::Null => "z".into(),
        // A list of scalars goes item by item, as the package sends it.
        Value::Array(items) if items.iter().all(|i| !i.is_array() && !i.is_object()) => {
            let mut s = format!("a{}", items.len());
            for item in items {
                s.push('\0');
                s.push_str(&tagged(item));
            }
            s
        }
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
    // A NUL anywhere in the request: the package sends it as JSON.
    if req.to_string().contains("\\u0000") {
        return None;
    }
    if !pack_object(req.get("attributes"), &mut f) || !pack_object(req.get("variables"), &mut f) {
        return None;
    }
    Some(with_count(f.join("\0")))
}

/// Appends the count of NULs.
fn with_count(text: String) -> String {
    let n = text.matches(SEP).count() + 1;
    format!("{text}\0{n}")
}

/// An engine error as the conformance set records it: code and message (the details, such
/// as the missing variables' names, are checked by the edge and npm tests).
fn case_error(text: &str) -> Value {
    let mut e: Value = serde_json::from_str(text).unwrap();
    if e["code"] == "missing_variables" {
        assert!(e["details"]["missing"].is_array(), "{e}");
    }
    e.as_object_mut().unwrap().remove("details");
    e
}

/// Reads `len` bytes of text at `ptr`, as the JavaScript side reads the Wasm memory.
fn read(ptr: usize, len: usize) -> String {
    // SAFETY: the ops name text inside the compiled manifest (or static text), which
    // the caller keeps alive: `len` bytes of a `str` at `ptr`.
    let bytes = unsafe { std::slice::from_raw_parts(ptr as *const u8, len) };
    std::str::from_utf8(bytes).unwrap().to_string()
}

/// The string values of a packed request's entries, by entry index (attributes, then
/// variables), as the npm package keeps them while packing.
fn entry_strings(packed: &str) -> Vec<Option<String>> {
    let f: Vec<&str> = packed.split('\0').collect();
    let (mut entries, mut items) = (Vec::new(), Vec::new());
    let mut at = 3;
    for _ in 0..2 {
        let n: usize = f[at].parse().unwrap();
        at += 1;
        for _ in 0..n {
            let v = f[at + 1];
            at += 2;
            if let Some(k) = v.strip_prefix('a') {
                let k: usize = k.parse().unwrap();
                for item in &f[at..at + k] {
                    items.push(item.strip_prefix('s').map(str::to_string));
                }
                at += k;
                entries.push(None);
            } else {
                entries.push(v.strip_prefix('s').map(str::to_string));
            }
        }
    }
    entries.extend(items);
    entries
}

/// Assembles a decision from the ops form as the npm package does.
fn unpack_ops(
    m: &edgeprompt::CompiledManifest,
    prompt: &str,
    packed: &str,
    text: &str,
    ops: &[usize],
) -> Value {
    let inputs = entry_strings(packed);
    if ops[head::STATUS] == STATUS_ERROR {
        return json!({"error": case_error(text)});
    }
    assert_eq!(ops[head::STATUS], STATUS_DECISION);
    let units: Vec<u16> = text.encode_utf16().collect();
    let mut at_unit = 0;
    let mut piece = |a: usize, b: usize| {
        if a == PIECE_ENTRY {
            return inputs[b].clone().expect("a string entry");
        }
        if a != PIECE_TEXT {
            return read(a, b);
        }
        let s = String::from_utf16(&units[at_unit..at_unit + b]).unwrap();
        at_unit += b;
        s
    };
    assert_eq!(
        ops[head::TEXT..=head::TEXT_LEN],
        [text.as_ptr() as usize, text.len()]
    );
    let version = ops[head::VERSION] as u32;
    let v = m.prompt(prompt).unwrap().version(version).unwrap();
    assert_eq!(ops[head::VERSION_KEY], std::ptr::from_ref(v) as usize);
    let mut d = Map::new();
    d.insert("prompt".into(), json!(prompt));
    d.insert(
        "label".into(),
        json!(piece(ops[head::LABEL], ops[head::LABEL_LEN])),
    );
    d.insert("version".into(), json!(version));
    d.insert(
        "rule".into(),
        json!(piece(ops[head::RULE], ops[head::RULE_LEN])),
    );
    d.insert("bucket".into(), json!(ops[head::BUCKET]));
    let chat = ops[head::KIND] == KIND_CHAT;
    let mut at = head::LEN;
    let mut outputs = Vec::new();
    for _ in 0..ops[head::OUTPUTS] {
        let role = if chat {
            at += 2;
            Some(piece(ops[at - 2], ops[at - 1]))
        } else {
            None
        };
        let pieces = ops[at];
        at += 1;
        let mut content = String::new();
        for _ in 0..pieces {
            content.push_str(&piece(ops[at], ops[at + 1]));
            at += 2;
        }
        outputs.push((role, content));
    }
    assert_eq!(at, ops.len(), "every op used");
    let _ = &piece;
    assert_eq!(at_unit, units.len(), "all text used");
    if chat {
        let msgs: Vec<Value> = outputs
            .into_iter()
            .map(|(role, content)| json!({"role": role.unwrap(), "content": content}))
            .collect();
        d.insert("messages".into(), Value::Array(msgs));
    } else {
        assert_eq!(outputs.len(), 1);
        d.insert("text".into(), json!(outputs[0].1));
    }
    d.insert("model".into(), v.model.clone());
    d.insert("tools".into(), v.tools.clone());
    d.insert("response_format".into(), v.response_format.clone());
    d.insert("revision".into(), json!(m.revision()));
    d.insert("hash".into(), json!(v.hash));
    json!({"decision": d})
}

fn via_ops(m: &edgeprompt::CompiledManifest, prompt: &str, packed: &str) -> Value {
    let (mut ops, mut text) = (Vec::new(), String::new());
    resolve_packed_ops(m, packed, None, &mut ops, &mut text);
    unpack_ops(m, prompt, packed, &text, &ops)
}

#[test]
fn the_conformance_decisions_through_the_packed_form() {
    let (m, cases) = conformance();
    let mut packed = 0;
    for case in &cases {
        let Some(text) = pack(&case["request"]) else {
            continue;
        };
        packed += 1;
        let prompt = case["request"]["prompt"].as_str().unwrap();
        let got = via_ops(&m, prompt, &text);
        assert_eq!(got, case["expected"], "case {} (ops form)", case["name"]);
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
    let (m, _) = conformance();
    for bad in [
        "",
        "golden",
        "golden\0\0u1\0x",
        "golden\0\0u1\0 1\0k",
        "golden\0\0u1\x000\x001\0q\0?oops",
        "golden\0\0u1\x000\x000\0extra",
        "golden\0\0u1\x000\x001\0q\0xbadtag",
        "golden\0\0u1\x000\x001\0q\0n1.",
        "golden\0\0u1\x000\x001\0q\0j[1,",
    ] {
        // With and without a correct NUL count.
        for text in [bad.to_string(), with_count(bad.to_string())] {
            let (mut ops, mut out) = (Vec::new(), String::new());
            resolve_packed_ops(&m, &text, None, &mut ops, &mut out);
            assert_eq!(ops[head::STATUS], STATUS_ERROR, "{text:?}");
            assert_eq!(
                ops.len(),
                3,
                "{text:?}: an error has only the first three words"
            );
            let err: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(err["code"], "invalid_request", "{text:?}");
        }
    }
}

proptest! {
    /// Wherever a NUL hides (unit, a name, a value), the structural count the caller
    /// appends no longer matches, and the engine answers "use the JSON path".
    #[test]
    fn any_nul_inside_a_field_is_detected(
        fields in proptest::collection::vec("[a-z\u{e9}]{0,4}", 4),
        target in 0usize..4,
        at in 0usize..5,
    ) {
        let (m, _) = conformance();
        let mut f = fields.clone();
        let cut = f[target].char_indices().nth(at).map_or(f[target].len(), |(i, _)| i);
        f[target].insert(cut, '\0');
        // unit, attribute name, attribute value (a string), variable name.
        let text = format!("golden\0\0u{}\x001\0k{}\0s{}\x001\0v{}\0s\0{}", f[0], f[1], f[2], f[3], 5 + 2 * 2);
        let (mut ops, mut out) = (Vec::new(), String::new());
        resolve_packed_ops(&m, &text, None, &mut ops, &mut out);
        prop_assert_eq!(ops[head::STATUS], STATUS_JSON, "{:?}", text);
    }
}

#[test]
fn a_nul_inside_a_field_sends_the_caller_to_the_json_path() {
    let (m, _) = conformance();
    // The caller packs without looking for NUL: "a\0b" adds one, so the count is off.
    let text = "golden\0\0u1\x000\x001\0question\0sa\0b\x007";
    let (mut ops, mut out) = (Vec::new(), String::new());
    resolve_packed_ops(&m, text, None, &mut ops, &mut out);
    assert_eq!(ops, [STATUS_JSON, out.as_ptr() as usize, 0]);
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        "\\PC{0,12}".prop_map(Value::String),
        // Non-BMP text: the ops form counts UTF-16 units.
        "[a\u{1F600}\u{e9}]{1,4}".prop_map(Value::String),
        any::<f64>().prop_filter_map("finite", |x| serde_json::Number::from_f64(x)
            .map(Value::Number)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

/// A scalar, or a list of them (sent item by item), or a list holding an object
/// (sent as JSON).
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => scalar(),
        1 => proptest::collection::vec(scalar(), 0..4).prop_map(Value::Array),
        1 => scalar().prop_map(|s| json!([s, {"k": s}])),
    ]
}

proptest! {
    #[test]
    fn packed_and_json_paths_agree(
        unit in "\\PC{1,16}",
        vars in proptest::collection::btree_map("[a-z]{1,3}|question|n|s|b|list", value(), 0..6),
        attrs in proptest::collection::btree_map("[a-z0-9_]{1,3}|k1|tier|app_version", value(), 0..4),
    ) {
        let (m, _) = conformance();
        let mut vars: Map<String, Value> = vars.into_iter().collect();
        vars.entry("question").or_insert(json!("q?"));
        let req = json!({"prompt": "golden", "unit": unit, "attributes": attrs, "variables": vars});
        prop_assume!(pack(&req).is_some());
        let want = match resolve::resolve(&m, &Request::from_json(&req, &[]).unwrap()) {
            Ok(d) => json!({"decision": d}),
            Err(e) => json!({"error": {"code": e.code(), "message": e.to_string()}}),
        };
        let packed = pack(&req).unwrap();
        let got = via_ops(&m, "golden", &packed);
        prop_assert_eq!(&got, &want);
    }
}

#[test]
fn a_repeated_name_takes_the_last_value_as_json_parsing_does() {
    let (m, _) = conformance();
    let json_text = r#"{"prompt": "golden", "unit": "u1", "variables": {"question": "first", "question": "last"}}"#;
    let doc: Value = serde_json::from_str(json_text).unwrap();
    let req = Request::from_json(&doc, &[]).unwrap();
    let want = json!({"decision": resolve::resolve(&m, &req).unwrap()});
    let packed = with_count("golden\0\0u1\x000\x002\0question\0sfirst\0question\0slast".into());
    assert_eq!(via_ops(&m, "golden", &packed), want);
    // The value rendered as given is named by its entry, never sent back.
    let (mut ops, mut out) = (Vec::new(), String::new());
    resolve_packed_ops(&m, &packed, None, &mut ops, &mut out);
    assert!(ops.windows(2).any(|w| w == [PIECE_ENTRY, 1]), "{ops:?}");
    assert!(!out.contains("last"), "{out:?}");
    assert!(want.to_string().contains("last"));
}

#[test]
fn list_items_are_sent_one_by_one_and_named_back() {
    let (m, _) = conformance();
    // u2's version renders the list.
    let req = json!({"prompt": "golden", "unit": "u2", "variables": {"question": "q?", "list": ["first item", "second item", 3]}});
    let packed = pack(&req).unwrap();
    assert!(
        packed.contains("\0a3\0sfirst item\0ssecond item\0n3"),
        "{packed:?}"
    );
    let want = match resolve::resolve(&m, &Request::from_json(&req, &[]).unwrap()) {
        Ok(d) => json!({"decision": d}),
        Err(e) => json!({"error": {"code": e.code(), "message": e.to_string()}}),
    };
    assert_eq!(via_ops(&m, "golden", &packed), want);
    let (mut ops, mut out) = (Vec::new(), String::new());
    resolve_packed_ops(&m, &packed, None, &mut ops, &mut out);
    assert!(want.to_string().contains("first item"));
    // Entries: list (0), question (1); items from 2 on.
    assert!(ops.windows(2).any(|w| w == [PIECE_ENTRY, 2]), "{ops:?}");
    assert!(!out.contains("first item"), "{out:?}");
    // A list that is not all scalars still goes as JSON, and decides the same.
    let req = json!({"prompt": "golden", "unit": "u1", "variables": {"question": "q?", "list": ["a", {"b": 1}]}});
    let packed = pack(&req).unwrap();
    assert!(packed.contains("\0j[\"a\",{\"b\":1}]"), "{packed:?}");
}
