//! The npm package's engine (feature `js`): the manifest crosses once as JSON text and
//! is compiled once; each resolve then crosses as one packed string each way
//! ([`crate::packed`]), or as JSON when the request holds what the packed form cannot.

use crate::manifest::{self, CompiledManifest, ManifestError};
use crate::packed;
use crate::resolve;
use serde_json::json;
use wasm_bindgen::prelude::*;

/// A compiled manifest, ready to resolve.
#[wasm_bindgen]
pub struct Engine {
    manifest: CompiledManifest,
    /// The last resolve's ops ([`packed::resolve_packed_ops`]), read by JavaScript in place.
    ops: Vec<usize>,
    /// The last resolve's value text, read by JavaScript in place.
    text: String,
    /// Where JavaScript writes a packed request (UTF-8); its whole length is usable.
    input: Vec<u8>,
}

fn manifest_error(e: &ManifestError) -> JsValue {
    let problems = match e {
        ManifestError::Invalid(list) => list
            .iter()
            .map(|p| json!({"path": p.path, "reason": p.reason}))
            .collect(),
        _ => Vec::new(),
    };
    JsValue::from_str(
        &json!({"code": "invalid_manifest", "message": e.to_string(), "problems": problems})
            .to_string(),
    )
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
    /// the value text's address and length ([`packed::resolve_packed_ops`]).
    #[wasm_bindgen(js_name = resolveBuffer)]
    pub fn resolve_buffer(&mut self, len: usize) -> usize {
        let request = self.input.get(..len).map(std::str::from_utf8);
        match request {
            Some(Ok(text)) => {
                packed::resolve_packed_ops(&self.manifest, text, &mut self.ops, &mut self.text)
            }
            _ => {
                let e = resolve::ResolveError::InvalidRequest(
                    "packed request: not UTF-8 within the request buffer".into(),
                );
                self.text = json!({"code": e.code(), "message": e.to_string()}).to_string();
                self.ops.clear();
                self.ops
                    .extend_from_slice(&[1, self.text.as_ptr() as usize, self.text.len()]);
            }
        }
        self.ops.as_ptr() as usize
    }

    /// Resolves a JSON request into the decision as JSON (or `!` and an error).
    #[wasm_bindgen(js_name = resolveJson)]
    pub fn resolve_json(&self, request: &str) -> String {
        resolve::resolve_json(&self.manifest, request).unwrap_or_else(|e| {
            let mut out = String::new();
            packed::encode_error(&e, &mut out);
            out
        })
    }

    /// Checks an outcome against the manifest's metric declarations before the client
    /// queues it: empty when it is fine, else `{code, message}` as JSON.
    #[wasm_bindgen(js_name = checkOutcome)]
    pub fn check_outcome(&self, metric: &str, value_json: &str, has_id: bool) -> String {
        let kind = self.manifest.metric(metric).map(|m| m.kind);
        let value: serde_json::Value = serde_json::from_str(value_json).unwrap_or_default();
        match crate::events::outcome_value(metric, kind, &value, has_id) {
            Ok(_) => String::new(),
            Err(e) => json!({"code": e.code, "message": e.message}).to_string(),
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
                json!({
                    "model": v.model,
                    "tools": v.tools,
                    "response_format": v.response_format,
                    "hash": v.hash,
                })
                .to_string()
            })
            .unwrap_or_default()
    }
}
