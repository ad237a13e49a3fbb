//! `POST /v1/resolve`: the engine's decision, a signed event token, an exposure event.

use super::token::{issue, Nonce};
use super::Call;
use crate::config::Keys;
use crate::{cache, outbox};
use edgeprompt::resolve::{self, Decision, Request};
use edgeprompt_shell::http::{json_body, respond, ApiError};
use edgeprompt_shell::platform;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::Response;

/// The request body: the engine's request fields and the edge's own `track`, typed
/// (serde straight into this struct costs ~3,100 instructions a request less than a
/// `Value` read by `Request::from_json`, BENCHMARKS.md "The workspace").
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    prompt: String,
    #[serde(default)]
    label: Option<String>,
    unit: String,
    #[serde(default)]
    attributes: Option<Value>,
    #[serde(default)]
    variables: Option<Value>,
    #[serde(default = "yes")]
    track: bool,
}

fn yes() -> bool {
    true
}

#[derive(Serialize)]
struct Answer<'a> {
    #[serde(flatten)]
    decision: &'a Decision<'a>,
    token: String,
}

/// Resolves and answers; the exposure leaves after the response.
pub async fn post(mut call: Call) -> Result<Response, ApiError> {
    let body: Body = json_body(&mut call.req, call.settings.max_body_bytes).await?;
    let keys = Keys::from_env(&call.env).map_err(ApiError::secret)?;
    let loaded = cache::current(&call.env, &call.ctx, call.settings.refresh_ms).await?;
    let m = &loaded.serving(&call.env, &body.prompt).await?;
    let req = Request {
        prompt: &body.prompt,
        label: body.label.as_deref(),
        unit: &body.unit,
        attributes: body.attributes.as_ref(),
        variables: body.variables.as_ref(),
    };
    let decision = resolve::resolve(m, &req)?;
    // The location only matters for a recorded exposure; reading it crosses into JS.
    let location = body.track.then(|| platform::location(&call.req));
    let (token, exposure) = issue(
        &decision.assignment,
        &body.unit,
        &keys,
        location.as_deref(),
        Nonce::Random,
    )?;
    if let Some(exposure) = exposure {
        outbox::push(&call.env, &call.ctx, vec![exposure], call.settings);
    }
    Ok(respond(
        200,
        &Answer {
            decision: &decision,
            token,
        },
    ))
}
