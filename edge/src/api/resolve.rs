//! `POST /v1/resolve`: the engine's decision, a signed event token, an exposure event.

use super::token::issue;
use super::Call;
use crate::config::Keys;
use crate::{cache, outbox};
use edgeprompt::resolve::{self, Decision, Request};
use edgeprompt_shell::http::{json_body, respond, ApiError};
use edgeprompt_shell::platform;
use serde::Serialize;
use serde_json::Value;
use worker::Response;

/// Whether to record an exposure: the body's `track`, true unless given as false.
fn track(body: &Value) -> Result<bool, ApiError> {
    match body.get("track") {
        None => Ok(true),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(ApiError::new(
            400,
            "invalid_request",
            format!("request body: field `track`: expected a boolean, found {other}"),
        )),
    }
}

#[derive(Serialize)]
struct Answer<'a> {
    #[serde(flatten)]
    decision: &'a Decision<'a>,
    token: String,
}

/// Resolves and answers; the exposure leaves after the response.
pub async fn post(mut call: Call) -> Result<Response, ApiError> {
    let body: Value = json_body(&mut call.req, call.settings.max_body_bytes).await?;
    // The engine reads the request; `track` is the edge's own field.
    let req = Request::from_json(&body, &["track"])?;
    let track = track(&body)?;
    let keys = Keys::from_env(&call.env).map_err(ApiError::missing_secret)?;
    let loaded = cache::current(&call.env, &call.ctx, call.settings.refresh_ms).await?;
    let decision = resolve::resolve(&loaded.manifest, &req)?;
    // The location only matters for a recorded exposure; reading it crosses into JS.
    let location = track.then(|| platform::location(&call.req));
    let (token, exposure) = issue(&decision.assignment, req.unit, &keys, location.as_deref())?;
    if let Some(exposure) = exposure {
        outbox::push(
            &call.env,
            &call.ctx,
            vec![exposure],
            call.settings.flush_delay_ms,
        );
    }
    Ok(respond(
        200,
        &Answer {
            decision: &decision,
            token,
        },
    ))
}
