//! Reading the CLI's inputs: files or `-` for standard input, JSON arguments.

use crate::Failure;
use edgeprompt::manifest::{self, CompiledManifest};
use serde_json::Value;
use std::io::Read;

/// Reads a file, or standard input when `path` is `-`.
pub fn read_text(path: &str) -> Result<String, Failure> {
    if path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::fail(format!("-: cannot read standard input: {e}")))?;
        return Ok(s);
    }
    std::fs::read_to_string(path).map_err(|e| Failure::fail(format!("{path}: cannot read: {e}")))
}

/// Reads a JSON file.
pub fn read_json(path: &str) -> Result<Value, Failure> {
    let text = read_text(path)?;
    serde_json::from_str(&text).map_err(|e| Failure::fail(format!("{path}: not valid JSON: {e}")))
}

/// Parses a JSON command-line argument.
pub fn json_arg(flag: &str, text: &str) -> Result<Value, Failure> {
    serde_json::from_str(text).map_err(|e| Failure::Usage(format!("{flag}: not valid JSON: {e}")))
}

/// Reads and compiles a manifest, reporting every problem prefixed with the file.
pub fn load_manifest(path: &str) -> Result<CompiledManifest, Failure> {
    let text = read_text(path)?;
    manifest::compile(&text).map_err(|e| {
        Failure::Fail(
            e.lines()
                .into_iter()
                .map(|l| format!("{path}: {l}"))
                .collect(),
        )
    })
}
