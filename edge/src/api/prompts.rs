//! `POST /v1/prompts/{name}` with `{unit, label?, attributes?, track?}`: the raw
//! template(s) and model settings of the version this unit gets, for clients that
//! render themselves. The unit is in the body, not the URL, because request logs keep
//! URLs and the raw unit id must not reach them.

use super::token::{issue, Nonce};
use super::Call;
use crate::api::edge_now_ms;
use crate::config::Keys;
use crate::{cache, outbox};
use edgeprompt::resolve::{self, Request};
use edgeprompt_shell::http::{json_body, respond, ApiError};
use edgeprompt_shell::platform;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use worker::Response;

/// The request body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default)]
    label: Option<String>,
    unit: String,
    #[serde(default)]
    attributes: Option<Value>,
    #[serde(default = "yes")]
    track: bool,
}

fn yes() -> bool {
    true
}

/// Answers with the version's sources.
pub async fn post(mut call: Call, name: &str) -> Result<Response, ApiError> {
    let body: Body = json_body(&mut call.req, call.settings.max_body_bytes).await?;
    let (label, unit, track) = (body.label, body.unit, body.track);
    let keys = Keys::from_env(&call.env).map_err(ApiError::secret)?;
    let loaded = cache::current(&call.env, &call.ctx, call.settings.refresh_ms).await?;
    let m = &loaded.serving(&call.env, name).await?;
    let req = Request {
        prompt: name,
        label: label.as_deref(),
        unit: &unit,
        attributes: body.attributes.as_ref(),
        variables: None,
        now_ms: Some(edge_now_ms()),
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
