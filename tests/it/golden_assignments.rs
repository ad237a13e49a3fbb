//! Golden assignment vectors: every implementation (native, worker, npm) must produce
//! exactly these buckets. Regenerate only on purpose: `EDGEPROMPT_BLESS=1 cargo test
//! --test golden_assignments` (and say why in the commit).

use edgeprompt::assign::{bucket, hash64};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Vector {
    salt: String,
    unit: String,
    hash64: String,
    bucket: u16,
}

fn inputs() -> Vec<(String, String)> {
    let salts = ["support/production", "summarize/staging", "", "sälz/日本"];
    let mut units: Vec<String> = vec![
        "user-1".into(),
        "user-2".into(),
        "user-10".into(),
        "0".into(),
        "a".into(),
        "customer@example.com".into(),
        "9b2f6c1e-3d4a-4f5b-8c6d-7e8f9a0b1c2d".into(),
        // Unnormalised Unicode: precomposed and decomposed forms are different units.
        "caf\u{e9}".into(),
        "cafe\u{301}".into(),
        "日本語のユーザー".into(),
        "emoji-👩‍💻".into(),
        " spaced ".into(),
        "x".repeat(512),
    ];
    units.extend((0..20).map(|i| format!("user-{}", 1000 + i)));
    salts
        .iter()
        .flat_map(|s| units.iter().map(move |u| (s.to_string(), u.clone())))
        .collect()
}

#[test]
fn assignments_match_the_golden_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/assignments.json");
    let computed: Vec<Vector> = inputs()
        .into_iter()
        .map(|(salt, unit)| Vector {
            hash64: format!("{:016x}", hash64(&salt, &unit)),
            bucket: bucket(&salt, &unit),
            salt,
            unit,
        })
        .collect();
    if std::env::var_os("EDGEPROMPT_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&computed).unwrap();
        std::fs::write(path, text + "\n").unwrap();
    }
    let golden: Vec<Vector> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(golden.len(), computed.len());
    for (g, c) in golden.iter().zip(&computed) {
        assert_eq!(g, c);
    }
}
