//! Manifest parsing, validation and compilation never panic; a compiled manifest
//! resolves every prompt and label without panicking either.
#![no_main]

use edgeprompt::manifest;
use edgeprompt::resolve::{self, Request};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(m) = manifest::compile(text) else { return };
    let vars = json!({"name": "x", "items": [1, {"a": 2}], "n": 1.5});
    // Scalars, a list, an email, a time: every operator family has something to read.
    let attrs = json!({"country": "DE", "app": "2.3.0", "n": "4", "groups": ["beta", "Staff", 3, true, null],
        "email": "Ada@Example.com", "signed_up": "2025-12-31T23:00:00-02:00", "city": "Straße"});
    for name in m.prompt_names() {
        let Some(p) = m.prompt(name) else { continue };
        for (label, _) in &p.labels {
            for (unit, now_ms) in [("u1", None), ("qa-alice", Some(1_767_225_600_000)), ("日本", Some(-1))] {
                let req = Request {
                    prompt: name,
                    label: Some(label),
                    unit,
                    attributes: Some(&attrs),
                    variables: Some(&vars),
                    now_ms,
                };
                if let Ok(d) = resolve::resolve(&m, &req) {
                    assert!(p.version(d.assignment.version).is_some());
                    assert!(d.assignment.bucket < 10_000);
                }
            }
        }
    }
});
