//! `GET /v1/prompts/{name}?label=&unit=&attr.KEY=VALUE`: the raw template(s) and model
//! settings of the version this unit gets, for clients that render themselves.

use super::token::{issue, Nonce};
use super::Call;
use crate::config::Keys;
use crate::{cache, outbox};
use edgeprompt::resolve::{self, Request};
use edgeprompt_shell::http::{query_pairs, respond, ApiError};
use edgeprompt_shell::platform;
use serde_json::{json, Map, Value};
use worker::Response;

/// Answers with the version's sources.
pub async fn get(call: Call, name: &str) -> Result<Response, ApiError> {
    let (mut label, mut unit, mut track) = (None, None, true);
    let mut attrs = Map::new();
    for (k, v) in query_pairs(&call.req) {
        match k.as_ref() {
            "label" => label = Some(v),
            "unit" => unit = Some(v),
            "track" => track = v != "false",
            other => match other.strip_prefix("attr.") {
                Some(key) if !key.is_empty() => {
                    attrs.insert(key.to_string(), Value::String(v));
                }
                _ => {
                    return Err(ApiError::new(400, "invalid_request", format!("unknown query parameter \"{other}\" (expected label, unit, track or attr.KEY)")))
                }
            },
        }
    }
    let unit = unit.ok_or_else(|| {
        ApiError::new(
            400,
            "invalid_request",
            "query parameter \"unit\" is required",
        )
    })?;
    let keys = Keys::from_env(&call.env).map_err(ApiError::missing_secret)?;
    let loaded = cache::current(&call.env, &call.ctx, call.settings.refresh_ms).await?;
    let m = &loaded.manifest;
    let attrs = Value::Object(attrs);
    let req = Request {
        prompt: name,
        label: label.as_deref(),
        unit: &unit,
        attributes: Some(&attrs),
        variables: None,
    };
    let a = resolve::assign(m, &req)?;
    let prompt = m.prompt(name).ok_or_else(|| {
        ApiError::new(404, "unknown_prompt", format!("unknown prompt \"{name}\""))
    })?;
    let version = prompt.version(a.version);
    let source = version_source(m.source(), name, a.version);
    let location = track.then(|| platform::location(&call.req));
    let (token, exposure) = issue(&a, &unit, &keys, location.as_deref(), Nonce::Random)?;
    if let Some(exposure) = exposure {
        outbox::push(&call.env, &call.ctx, vec![exposure], call.settings);
    }
    let pinned: Map<String, Value> = version
        .map(|v| {
            v.pins
                .iter()
                .filter_map(|(n, pin)| {
                    snippet_source(m.source(), n, *pin).map(|t| (n.to_string(), t))
                })
                .collect()
        })
        .unwrap_or_default();
    let field = |k: &str| {
        source
            .and_then(|s| s.get(k))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut body = json!({
        "prompt": name,
        "label": a.label,
        "version": a.version,
        "rule": a.rule,
        "bucket": a.bucket,
        "variables": field("variables"),
        "snippets": pinned,
        "model": field("model"),
        "tools": field("tools"),
        "response_format": field("response_format"),
        "revision": m.revision(),
        "hash": version.map(|v| v.hash.as_str()).unwrap_or_default(),
        "token": token,
    });
    for key in ["text", "messages"] {
        if let (Some(v), Some(obj)) = (source.and_then(|s| s.get(key)), body.as_object_mut()) {
            obj.insert(key.to_string(), v.clone());
        }
    }
    Ok(respond(200, &body))
}

fn version_source<'a>(doc: &'a Value, prompt: &str, number: u32) -> Option<&'a Value> {
    doc.get("prompts")?
        .get(prompt)?
        .get("versions")?
        .as_array()?
        .iter()
        .find(|v| v.get("version").and_then(Value::as_u64) == Some(u64::from(number)))
}

fn snippet_source(doc: &Value, name: &str, number: u32) -> Option<Value> {
    doc.get("snippets")?
        .get(name)?
        .get("versions")?
        .as_array()?
        .iter()
        .find(|v| v.get("version").and_then(Value::as_u64) == Some(u64::from(number)))?
        .get("template")
        .cloned()
}
