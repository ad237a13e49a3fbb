//! The per-prompt KV layout: each entry alone, served under its revision's head,
//! decides and renders exactly as the whole manifest does; the index finds every
//! prompt and refuses anything malformed or tampered with; an unchanged prompt keeps
//! its entry (and hash) across revisions.

use edgeprompt::manifest::layout::{self, compile_entry, Index, LayoutError};
use edgeprompt::manifest::{self, CompiledManifest};
use edgeprompt::resolve::{self, Request};
use proptest::prelude::*;
use serde_json::{json, Value};

fn demo() -> Value {
    serde_json::from_str(include_str!("../../examples/demo.json")).unwrap()
}

fn laid_out(doc: Value) -> (CompiledManifest, layout::Layout, Index) {
    let whole = manifest::compile_value(doc).unwrap();
    let l = layout::split(&whole);
    let index = Index::parse(l.index.clone()).unwrap();
    (whole, l, index)
}

#[test]
fn each_entry_decides_and_renders_as_the_whole_manifest() {
    let (whole, l, index) = laid_out(demo());
    let head = index.head().unwrap();
    assert_eq!(index.revision(), whole.revision());
    assert_eq!(index.len(), whole.prompt_names().len());
    let vars = json!({"question": "Where is my order?", "plan": "pro", "history": []});
    let attrs = json!({"country": "FR", "plan": "pro", "app_version": "2.3.0"});
    for e in &l.entries {
        assert_eq!(index.find(&e.name), Some(e.hash.as_str()));
        let served = compile_entry(&e.name, &e.hash, &e.text)
            .unwrap()
            .with_head(&head);
        assert_eq!(served.revision(), whole.revision());
        let prompt = whole.prompt(&e.name).unwrap();
        for (label, _) in &prompt.labels {
            for i in 0..300 {
                let unit = format!("user-{i}");
                let req = Request {
                    prompt: &e.name,
                    label: Some(label),
                    unit: &unit,
                    attributes: Some(&attrs),
                    variables: Some(&vars),
                    now_ms: None,
                };
                let a = resolve::resolve(&whole, &req).map(|d| serde_json::to_value(d).unwrap());
                let b = resolve::resolve(&served, &req).map(|d| serde_json::to_value(d).unwrap());
                assert_eq!(
                    a.map_err(|e| e.to_string()),
                    b.map_err(|e| e.to_string()),
                    "{} {label} {unit}",
                    e.name
                );
            }
        }
    }
    for name in whole.metrics_iter().map(|(n, _)| n) {
        assert_eq!(head.metric(name), whole.metric(name));
    }
    assert_eq!(index.client_hash(), l.client.1);
    assert_eq!(l.client.0, whole.client_projection().to_string());
}

#[test]
fn an_entry_holds_only_the_snippets_its_prompt_pins() {
    let doc = json!({
        "schema": 1, "revision": 3,
        "snippets": {"a": {"versions": [{"version": 1, "template": "A"}]},
                     "b": {"versions": [{"version": 1, "template": "B"}]}},
        "prompts": {
            "one": {"versions": [{"version": 1, "text": "{{> a}}", "snippets": {"a": 1}}],
                    "labels": {"production": {"default": {"version": 1}}}},
            "two": {"versions": [{"version": 1, "text": "plain"}],
                    "labels": {"production": {"default": {"version": 1}}}}
        }
    });
    let (_, l, _) = laid_out(doc);
    let one: Value = serde_json::from_str(&l.entries[0].text).unwrap();
    let two: Value = serde_json::from_str(&l.entries[1].text).unwrap();
    assert_eq!(one["snippets"].as_object().unwrap().len(), 1);
    assert!(one["snippets"].get("a").is_some());
    assert!(two.get("snippets").is_none());
    assert_eq!(
        l.entries[0].key(),
        format!("prompt/one/{}", l.entries[0].hash)
    );
}

#[test]
fn an_unchanged_prompt_keeps_its_entry_across_revisions() {
    let mut doc = demo();
    let (_, before, _) = laid_out(doc.clone());
    doc["revision"] = json!(9);
    doc["prompts"]["support"]["labels"]["production"]["default"] = json!({"version": 1});
    let (_, after, index) = laid_out(doc);
    assert_eq!(index.revision(), 9);
    for (b, a) in before.entries.iter().zip(&after.entries) {
        assert_eq!(b.name, a.name);
        assert_eq!(b.hash == a.hash, a.name != "support", "{}", a.name);
    }
}

#[test]
fn a_tampered_or_foreign_entry_is_refused() {
    let (_, l, _) = laid_out(demo());
    let e = &l.entries[0];
    // Still valid JSON, with the same meaning: only the hash tells.
    let tampered = format!("{} ", e.text);
    assert!(matches!(
        compile_entry(&e.name, &e.hash, &tampered),
        Err(LayoutError::Integrity { .. })
    ));
    // A valid entry filed under another prompt's name.
    let other = &l.entries[1];
    assert!(matches!(
        compile_entry(&other.name, &e.hash, &e.text),
        Err(LayoutError::NotAnEntry { .. })
    ));
    // Valid JSON with the right hash but an invalid prompt: validation still runs.
    let invalid = r#"{"schema":1,"revision":0,"prompts":{"p":{"versions":[],"labels":{}}}}"#;
    let hash = edgeprompt::value::canonical::sha256_hex(invalid.as_bytes());
    match compile_entry("p", &hash, invalid) {
        Err(LayoutError::Entry { error, .. }) => {
            assert!(
                error
                    .lines()
                    .iter()
                    .any(|l| l.starts_with("prompts.p.versions")),
                "{error}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_malformed_index_is_refused_with_its_line() {
    let (_, l, _) = laid_out(demo());
    let line_of = |text: String| match Index::parse(text) {
        Err(LayoutError::Index { line, .. }) => line,
        other => panic!("{other:?}"),
    };
    // Truncated: no "end" line.
    let cut = l.index.trim_end_matches("end\n").to_string();
    assert_eq!(line_of(cut), 6 + l.entries.len());
    assert_eq!(
        line_of(
            l.index
                .replacen("edgeprompt-index 1", "edgeprompt-index 2", 1)
        ),
        1
    );
    assert_eq!(line_of(l.index.replacen("revision 1", "revision x", 1)), 2);
    let first = &l.entries[0];
    let bad_hash = l.index.replacen(&first.hash, "XYZ", 1);
    assert_eq!(line_of(bad_hash), 6);
    // Two prompt lines swapped: out of order.
    let (a, b) = (&l.entries[0], &l.entries[1]);
    let (la, lb) = (
        format!("{} {}\n", a.name, a.hash),
        format!("{} {}\n", b.name, b.hash),
    );
    let swapped = l
        .index
        .replacen(&format!("{la}{lb}"), &format!("{lb}{la}"), 1);
    assert_eq!(line_of(swapped), 7);
    assert_eq!(line_of(format!("{}extra\n", l.index)), 7 + l.entries.len());
    // Metrics that fail validation are refused when the head is built.
    let bad_metrics = l
        .index
        .replacen("metrics {", "metrics {\"x y\":{\"kind\":\"binary\"},", 1);
    assert!(matches!(
        Index::parse(bad_metrics).unwrap().head(),
        Err(LayoutError::Head(_))
    ));
}

fn index_of(names: &[String]) -> String {
    let hash = "0".repeat(64);
    let mut text = format!(
        "{}\nrevision 1\nmetrics {{}}\nclient {hash}\nprompts {}\n",
        layout::INDEX_HEADER,
        names.len()
    );
    for n in names {
        text.push_str(&format!("{n} {hash}\n"));
    }
    text + "end\n"
}

proptest! {
    /// Binary search over the index text finds exactly the listed names.
    #[test]
    fn find_agrees_with_a_linear_search(
        names in proptest::collection::btree_set("[a-z0-9_][a-z0-9_.-]{0,12}", 0..60),
        probes in proptest::collection::vec("[a-z0-9_][a-z0-9_.-]{0,12}", 0..20),
    ) {
        let names: Vec<String> = names.into_iter().collect();
        let index = Index::parse(index_of(&names)).unwrap();
        prop_assert_eq!(index.len(), names.len());
        for n in names.iter().chain(&probes) {
            prop_assert_eq!(index.find(n).is_some(), names.contains(n), "{}", n);
        }
        let listed: Vec<&str> = index.prompts().map(|(n, _)| n).collect();
        prop_assert_eq!(listed, names.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

#[test]
fn a_laid_out_revision_assembles_back_into_the_same_manifest() {
    let (whole, l, index) = laid_out(demo());
    let entries: Vec<(&str, &str)> = l
        .entries
        .iter()
        .map(|e| (e.name.as_str(), e.text.as_str()))
        .collect();
    let back = layout::assemble(&index, entries.clone()).unwrap();
    assert_eq!(layout::split(&back).index, l.index);
    assert_eq!(back.client_projection(), whole.client_projection());
    // One entry missing, or one tampered with, is refused.
    assert!(layout::assemble(&index, entries[1..].to_vec()).is_err());
    let bad = format!("{} ", l.entries[0].text);
    let mut tampered = entries.clone();
    tampered[0].1 = &bad;
    assert!(matches!(
        layout::assemble(&index, tampered),
        Err(LayoutError::Integrity { .. })
    ));
}

#[test]
fn the_pointer_reads_its_first_line_and_carries_the_index_after_it() {
    use edgeprompt::manifest::layout::Pointer;
    let (_, l, _) = laid_out(demo());
    for previous in [None, Some(0u64)] {
        let p = Pointer {
            revision: 1,
            previous,
        };
        let text = p.text(Some(&l.index));
        assert_eq!(Pointer::parse(&text), Some(p));
        assert_eq!(Pointer::index(&text), Some(l.index.as_str()));
        // The document layout's pointer: a bare number (or two), no index.
        assert_eq!(Pointer::parse(&p.text(None)), Some(p));
        assert_eq!(Pointer::index(&p.text(None)), None);
    }
    assert_eq!(
        Pointer::parse("12 11\n"),
        Some(Pointer {
            revision: 12,
            previous: Some(11)
        })
    );
    assert_eq!(Pointer::index("12 11\n"), None);
    for bad in ["", "x", "12 11 10", "-1", "12 x\nedgeprompt-index 1"] {
        assert_eq!(Pointer::parse(bad), None, "{bad:?}");
    }
}
