//! `POST /v1/exposures`: decisions made locally by npm clients. Each is re-derived with
//! the same engine at the revision the client used, recorded, and given a token.

use super::token::{issue, Nonce};
use super::Call;
use crate::config::Keys;
use crate::{cache, outbox};
use edgeprompt::resolve::{self, Request};
use edgeprompt_shell::http::{json_body, respond, ApiError};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::Response;

/// Most exposures per request.
pub const MAX_ITEMS: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    exposures: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    prompt: String,
    #[serde(default)]
    label: Option<String>,
    unit: String,
    #[serde(default)]
    attributes: Option<Value>,
    revision: u64,
}

/// Re-derives, records and answers per item.
pub async fn post(mut call: Call) -> Result<Response, ApiError> {
    let body: Body = json_body(&mut call.req, call.settings.max_body_bytes).await?;
    if body.exposures.len() > MAX_ITEMS {
        return Err(ApiError::new(
            400,
            "batch_too_large",
            format!(
                "{} exposures, at most {MAX_ITEMS} per request",
                body.exposures.len()
            ),
        ));
    }
    let keys = Keys::from_env(&call.env).map_err(ApiError::missing_secret)?;
    // Loading the current manifest first makes a cold isolate answer 503 when there is none.
    cache::current(&call.env, &call.ctx, call.settings.refresh_ms).await?;
    let mut results = Vec::with_capacity(body.exposures.len());
    let mut events = Vec::new();
    for item in &body.exposures {
        let loaded = match cache::at_revision(&call.env, item.revision).await {
            Ok(l) => l,
            Err(reason) => {
                let e = ApiError::new(
                    409,
                    "stale_revision",
                    format!(
                        "revision {} cannot be loaded ({reason}): fetch /v1/manifest again",
                        item.revision
                    ),
                );
                results.push(json!({"error": e.object()}));
                continue;
            }
        };
        let m = &loaded.manifest;
        let req = Request {
            prompt: &item.prompt,
            label: item.label.as_deref(),
            unit: &item.unit,
            attributes: item.attributes.as_ref(),
            variables: None,
        };
        let a = match resolve::assign(m, &req) {
            Ok(a) => a,
            Err(e) => {
                results.push(json!({"error": ApiError::from(e).object()}));
                continue;
            }
        };
        // The same decision reported again (a resend) keeps its exposure id.
        let (token, event) = issue(&a, &item.unit, &keys, Some("client"), Nonce::Client)?;
        events.extend(event);
        results.push(json!({"version": a.version, "rule": a.rule, "bucket": a.bucket, "revision": item.revision, "token": token}));
    }
    // Sent before answering: a client that got its tokens knows its exposures are queued.
    if let Err(e) = outbox::send(&call.env, &call.settings, events).await {
        return Err(ApiError::new(
            503,
            "queue_unavailable",
            format!("the exposures could not be queued, send them again: {e}"),
        ));
    }
    Ok(respond(200, &json!({"results": results})))
}
