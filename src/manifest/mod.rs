//! Manifest parsing, validation and compilation: text in, an immutable compiled form out.
//!
//! Every problem is collected with its path before anything is refused, so an author
//! sees all of them at once. The format is specified in docs/manifest.md.

mod error;
pub mod layout;
pub mod limits;
mod model;
mod projection;
mod routes;
mod snippets;
mod versions;

pub use crate::doc::Problem;
pub use error::ManifestError;
pub use model::{
    Body, CompiledManifest, Matcher, Message, Metric, MetricKind, NameMap, PinnedPartials, Prompt,
    Route, Rule, Target, Version,
};
pub use versions::content_hash;

use crate::doc::{as_int, as_map, check_name, key_path, short, Obj, Problems};
use serde_json::Value;
use std::sync::Arc;

/// The schema this engine reads.
pub const SCHEMA: u64 = 1;

const TOP_KEYS: &[&str] = &[
    "schema", "revision", "prompts", "snippets", "metrics", "rollouts",
];

/// Parses, validates and compiles manifest text.
pub fn compile(text: &str) -> Result<CompiledManifest, ManifestError> {
    if text.len() > limits::MAX_DOCUMENT_BYTES {
        return Err(ManifestError::TooLarge {
            size: text.len(),
            limit: limits::MAX_DOCUMENT_BYTES,
        });
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| ManifestError::Json(e.to_string()))?;
    compile_value(value)
}

/// Validates and compiles an already parsed manifest document.
pub fn compile_value(doc: Value) -> Result<CompiledManifest, ManifestError> {
    let mut p = Problems::default();
    let compiled = walk(&doc, &mut p);
    match compiled {
        Some(parts) if p.is_empty() => Ok(CompiledManifest {
            schema: parts.schema,
            revision: parts.revision,
            prompts: Arc::new(parts.prompts),
            snippets: Arc::new(parts.snippets),
            metrics: parts.metrics.into(),
            source: Arc::new(doc),
        }),
        _ => Err(ManifestError::Invalid(p.into_vec())),
    }
}

/// Validates a manifest, returning every problem (empty when valid).
pub fn validate(text: &str) -> Vec<String> {
    match compile(text) {
        Ok(_) => Vec::new(),
        Err(e) => e.lines(),
    }
}

struct Parts {
    schema: u64,
    revision: u64,
    prompts: NameMap<Prompt>,
    snippets: NameMap<Vec<crate::render::Template>>,
    metrics: Vec<(String, Metric)>,
}

fn walk(doc: &Value, p: &mut Problems) -> Option<Parts> {
    let top = Obj::new(doc, "", TOP_KEYS, p)?;
    let schema = top.require("schema", p).and_then(|v| match v.as_u64() {
        Some(SCHEMA) => Some(SCHEMA),
        _ => {
            p.add(
                "schema",
                format!(
                    "unsupported schema {}: this engine reads schema {SCHEMA}",
                    short(v)
                ),
            );
            None
        }
    });
    let revision = top
        .require("revision", p)
        .and_then(|v| as_int(v, "revision", 0, u64::MAX, p));
    if let Some(r) = top.get("rollouts") {
        // Reserved: a later schema defines staged rollout plans here.
        if r.as_object().is_none_or(|m| !m.is_empty()) {
            p.add(
                "rollouts",
                format!("rollouts are reserved for a later schema; schema {SCHEMA} allows only an empty object"),
            );
        }
    }
    let metrics = top
        .get("metrics")
        .map(|m| metrics(m, p))
        .unwrap_or_default();
    let snippets = top
        .get("snippets")
        .map(|s| snippets::compile_snippets(s, p))
        .unwrap_or_default();
    let mut prompts = NameMap::default();
    if let Some(map) = top
        .require("prompts", p)
        .and_then(|v| as_map(v, "prompts", p))
    {
        if map.len() > limits::MAX_PROMPTS {
            p.add(
                "prompts",
                format!(
                    "{} prompts, over the limit of {}",
                    map.len(),
                    limits::MAX_PROMPTS
                ),
            );
        }
        for (name, v) in map {
            let path = key_path("prompts", name);
            if !check_name(name, "prompt", &path, p) {
                continue;
            }
            if let Some(prompt) = versions::compile_prompt(name, v, &path, &snippets, p) {
                prompts.insert(name.as_str().into(), prompt);
            }
        }
    }
    Some(Parts {
        schema: schema?,
        revision: revision?,
        prompts,
        snippets: snippets.compiled,
        metrics,
    })
}

const METRIC_KEYS: &[&str] = &["kind", "higher_is_better", "description"];

fn metrics(v: &Value, p: &mut Problems) -> Vec<(String, Metric)> {
    let Some(map) = as_map(v, "metrics", p) else {
        return Vec::new();
    };
    if map.len() > limits::MAX_METRICS {
        p.add(
            "metrics",
            format!(
                "{} metrics, over the limit of {}",
                map.len(),
                limits::MAX_METRICS
            ),
        );
    }
    let mut out = Vec::new();
    for (name, m) in map {
        let path = key_path("metrics", name);
        if !check_name(name, "metric", &path, p) {
            continue;
        }
        let Some(obj) = Obj::new(m, &path, METRIC_KEYS, p) else {
            continue;
        };
        obj.opt_str("description", p);
        let higher_is_better = obj.opt_bool("higher_is_better", p).unwrap_or(true);
        let kind = match obj.require("kind", p).map(|k| (k, k.as_str())) {
            Some((_, Some("binary"))) => MetricKind::Binary,
            Some((_, Some("continuous"))) => MetricKind::Continuous,
            Some((_, Some("count"))) => MetricKind::Count,
            Some((k, _)) => {
                p.add(
                    obj.at("kind"),
                    format!(
                        "unknown metric kind {}: expected \"binary\", \"continuous\" or \"count\"",
                        short(k)
                    ),
                );
                continue;
            }
            None => continue,
        };
        out.push((
            name.clone(),
            Metric {
                kind,
                higher_is_better,
            },
        ));
    }
    out
}
