//! Template compilation and rendering never panic and respect the output limit.
#![no_main]

use edgeprompt::render::{self, Escape, Limits, RenderOptions, Template};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use std::collections::HashMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The first line is a partial named "p", the rest the template itself.
    let (partial, source) = text.split_once('\n').unwrap_or(("", text));
    let Ok((t, refs)) = Template::compile_with_references(source) else { return };
    // Every name a template refers to is text of its source.
    for n in &refs.root_names {
        assert!(source.contains(n.name.as_str()));
    }
    let mut partials = HashMap::new();
    if let Ok(p) = Template::compile(partial) {
        partials.insert("p".to_string(), p);
    }
    let data: Value = json!({
        "a": "x<&>", "b": [1, 2, {"c": "d"}], "e": {"f": {"g": 1e21}}, "h": true, "i": [],
        "j": "{{a}}", "k": -0.0, "list": [[1], [2, [3]]]
    });
    let limits = Limits { max_output: 4096, max_depth: 8, max_iterations: 1000 };
    for escape in [Escape::None, Escape::Html] {
        let opts = RenderOptions { escape, limits };
        if let Ok(out) = render::render(&t, &[&data], &partials, &opts) {
            assert!(out.len() <= limits.max_output);
        }
    }
});
