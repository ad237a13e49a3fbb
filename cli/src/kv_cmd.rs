//! `edgeprompt kv-bulk MANIFEST [--current]`: a manifest's KV entries in the per-prompt
//! layout (docs/kv-layout.md), as the JSON that `wrangler kv bulk put` reads.

use crate::input::load_manifest;
use crate::Failure;
use edgeprompt::manifest::layout::{self, Pointer, POINTER_KEY};
use serde_json::{json, Value};

/// Arguments of `kv-bulk`.
#[derive(clap::Args)]
pub struct Args {
    /// The manifest (JSON), or `-` for standard input; validated before anything is written.
    manifest: String,
    /// Also write the pointer `manifest/current`, making this revision live (put the file
    /// in one `wrangler kv bulk put`: the pointer is the last pair).
    #[arg(long)]
    current: bool,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o')]
    out: Option<String>,
}

/// Prints the bulk file.
pub fn run(a: Args) -> Result<(), Failure> {
    let m = load_manifest(&a.manifest)?;
    let l = layout::split(&m);
    let mut pairs: Vec<Value> = l
        .entries
        .iter()
        .map(|e| json!({"key": e.key(), "value": e.text}))
        .collect();
    pairs.push(json!({"key": layout::client_key(&l.client.1), "value": l.client.0}));
    pairs.push(json!({"key": layout::revision_key(l.revision), "value": l.index}));
    if a.current {
        let pointer = Pointer {
            revision: l.revision,
            previous: None,
        };
        pairs.push(json!({"key": POINTER_KEY, "value": pointer.text(Some(&l.index))}));
    }
    let text = Value::Array(pairs).to_string();
    match a.out {
        Some(path) => std::fs::write(&path, text + "\n")
            .map_err(|e| Failure::Fail(vec![format!("{path}: cannot write: {e}")])),
        None => crate::out(&text),
    }
}
