//! The npm package's engine: the manifest crosses once as JSON text and is compiled
//! once; each resolve then crosses as one packed string in ([`request`]) and the ops
//! form out ([`ops`]), or as JSON when the request holds what the packed form cannot.

use edgeprompt::manifest::{self, CompiledManifest, ManifestError};
use edgeprompt::resolve;
use edgeprompt::value::canonical::{write_canonical, write_quoted, write_str_object};
use wasm_bindgen::prelude::*;

pub mod ops;
pub mod request;

// The package's allocator: TLSF (constant time, no unsafe of ours), ~2.2 KB gzipped
// smaller than the default dlmalloc at the same speed and with flat memory
// (BENCHMARKS.md, "The workspace").
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: rlsf::SmallGlobalTlsf = rlsf::SmallGlobalTlsf::new();

#[cfg(test)]
mod tests;

/// A compiled manifest, ready to resolve.
#[wasm_bindgen]
pub struct Engine {
    manifest: CompiledManifest,
    /// The last resolve's ops ([`ops::resolve_packed_ops`]), read by JavaScript in place.
    ops: Vec<usize>,
    /// The last resolve's value text, read by JavaScript in place.
    text: String,
    /// Where JavaScript writes a packed request (UTF-8); its whole length is usable.
    input: Vec<u8>,
}

// The engine's answers to JavaScript are JSON written with the canonical writer: the
// package's Wasm carries no JSON serialiser.

/// `{"code", "message"}` as JSON.
fn code_message(code: &str, message: &str) -> String {
    let mut out = String::new();
    write_str_object(&[("code", code), ("message", message)], &mut out);
    out
}

fn manifest_error(e: &ManifestError) -> JsValue {
    let mut out = code_message("invalid_manifest", &e.to_string());
    out.pop();
    out.push_str(",\"problems\":[");
    if let ManifestError::Invalid(list) = e {
        for (i, p) in list.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str_object(&[("path", &p.path), ("reason", &p.reason)], &mut out);
        }
    }
    out.push_str("]}");
    JsValue::from_str(&out)
}

/// A request's time from JavaScript (ms since the epoch; NaN or infinite: none).
fn time(now: f64) -> Option<i64> {
    // `as` saturates: a time beyond i64 (which no Date holds) stays ordered.
    now.is_finite().then_some(now as i64)
}

/// The conformance spec version this engine implements (`edgeprompt::SPEC_VERSION`).
#[wasm_bindgen(js_name = specVersion)]
pub fn spec_version() -> u32 {
    edgeprompt::SPEC_VERSION
}

#[wasm_bindgen]
impl Engine {
    /// Parses, validates and compiles a manifest; throws `{code, message, problems}` as JSON text.
    #[wasm_bindgen(constructor)]
    pub fn new(manifest_json: &str) -> Result<Engine, JsValue> {
        manifest::compile(manifest_json)
            .map(|manifest| Engine {
                manifest,
                ops: Vec::with_capacity(256),
                text: String::with_capacity(256),
                input: vec![0; 1024],
            })
            .map_err(|e| manifest_error(&e))
    }

    /// The engine's memory, where the refs form's literals are read from.
    pub fn memory() -> JsValue {
        wasm_bindgen::memory()
    }

    /// The manifest's revision.
    pub fn revision(&self) -> f64 {
        // Revisions are far below 2^53, so the conversion is exact.
        self.manifest.revision() as f64
    }

    /// The address of the request buffer, grown first to at least `capacity` bytes.
    #[wasm_bindgen(js_name = inputBuffer)]
    pub fn input_buffer(&mut self, capacity: usize) -> usize {
        if self.input.len() < capacity {
            // A fresh zeroed buffer (the old bytes are never needed again).
            self.input = vec![0; capacity];
        }
        self.input.as_ptr() as usize
    }

    /// The request buffer's size in bytes.
    #[wasm_bindgen(js_name = inputCapacity)]
    pub fn input_capacity(&self) -> usize {
        self.input.len()
    }

    /// Resolves the packed request in the first `len` bytes of the request buffer, in
    /// the ops form; returns the address of the ops (32-bit words), whose head gives
    /// the value text's address and length ([`ops::resolve_packed_ops`]).
    /// `now` is the request's time in ms since the epoch (NaN: none), for `$now`.
    #[wasm_bindgen(js_name = resolveBuffer)]
    pub fn resolve_buffer(&mut self, len: usize, now: f64) -> usize {
        let request = self.input.get(..len).map(std::str::from_utf8);
        match request {
            Some(Ok(text)) => ops::resolve_packed_ops(
                &self.manifest,
                text,
                time(now),
                &mut self.ops,
                &mut self.text,
            ),
            _ => {
                let e = resolve::ResolveError::InvalidRequest(
                    "packed request: not UTF-8 within the request buffer".into(),
                );
                self.text = code_message(e.code(), &e.to_string());
                self.ops.clear();
                self.ops.extend_from_slice(&[
                    ops::STATUS_ERROR,
                    self.text.as_ptr() as usize,
                    self.text.len(),
                ]);
            }
        }
        self.ops.as_ptr() as usize
    }

    /// Resolves a request given as JSON text (when the packed form cannot carry it) in
    /// the same ops form as [`Engine::resolve_buffer`]; returns the address of the ops.
    #[wasm_bindgen(js_name = resolveJson)]
    pub fn resolve_json(&mut self, request: &str, now: f64) -> usize {
        ops::resolve_json_ops(
            &self.manifest,
            request,
            time(now),
            &mut self.ops,
            &mut self.text,
        );
        self.ops.as_ptr() as usize
    }

    /// Checks an outcome against the manifest's metric declarations before the client
    /// queues it: empty when it is fine, else `{code, message}` as JSON.
    #[wasm_bindgen(js_name = checkOutcome)]
    pub fn check_outcome(&self, metric: &str, value_json: &str, has_id: bool) -> String {
        let kind = self.manifest.metric(metric).map(|m| m.kind);
        let value: serde_json::Value = serde_json::from_str(value_json).unwrap_or_default();
        match edgeprompt::events::outcome_value(metric, kind, &value, has_id) {
            Ok(_) => String::new(),
            Err(e) => code_message(e.code, &e.message),
        }
    }

    /// What a decision carries that is fixed per version, as JSON:
    /// `{model, tools, response_format, hash}`; empty when there is no such version.
    #[wasm_bindgen(js_name = versionInfo)]
    pub fn version_info(&self, prompt: &str, version: u32) -> String {
        self.manifest
            .prompt(prompt)
            .and_then(|p| p.version(version))
            .map(|v| {
                let mut out = String::from("{\"model\":");
                write_canonical(&v.model, &mut out);
                out.push_str(",\"tools\":");
                write_canonical(&v.tools, &mut out);
                out.push_str(",\"response_format\":");
                write_canonical(&v.response_format, &mut out);
                out.push_str(",\"hash\":");
                write_quoted(&v.hash, &mut out);
                out.push('}');
                out
            })
            .unwrap_or_default()
    }
}
