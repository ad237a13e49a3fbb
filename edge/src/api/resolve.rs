//! `POST /v1/resolve`: the engine's decision, a signed event token, an exposure event.

use super::token::{issue, Nonce};
use super::Call;
use crate::api::edge_now_ms;
use crate::config::{Keys, Settings};
use crate::{cache, outbox};
use edgeprompt::manifest::CompiledManifest;
use edgeprompt::resolve::{self, Decision, Request};
use edgeprompt_shell::http::{body_text, parse_json, text_response, too_large, ApiError};
use edgeprompt_shell::platform;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{Context, Env, Response};

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

/// Resolves and answers (bodies of undeclared or excessive length come this way from
/// the JavaScript entry); the exposure leaves after the response.
pub async fn post(mut call: Call) -> Result<Response, ApiError> {
    let text = body_text(&mut call.req, call.settings.max_body_bytes).await?;
    let authorization = call.req.headers().get("authorization").ok().flatten();
    let location = platform::location(&call.req);
    let (status, answer) = loading(
        &text,
        authorization.as_deref(),
        Some(&location),
        &call.env,
        &call.ctx,
    )
    .await;
    Ok(text_response(status, answer, JSON))
}

const JSON: &str = "application/json; charset=utf-8";

/// The decision as the answer's JSON text; queues its exposure when tracked.
fn answer(
    body: &Body,
    m: &CompiledManifest,
    keys: &Keys,
    location: Option<&str>,
    at: &Outbound<'_>,
) -> Result<String, ApiError> {
    let req = Request {
        prompt: &body.prompt,
        label: body.label.as_deref(),
        unit: &body.unit,
        attributes: body.attributes.as_ref(),
        variables: body.variables.as_ref(),
        now_ms: Some(edge_now_ms()),
    };
    let decision = resolve::resolve(m, &req)?;
    let (token, exposure) = issue(
        &decision.assignment,
        &body.unit,
        keys,
        if body.track { location } else { None },
        Nonce::Random,
    )?;
    if let Some(exposure) = exposure {
        outbox::push(at.env, at.ctx, vec![exposure], at.settings);
    }
    serde_json::to_string(&Answer {
        decision: &decision,
        token,
    })
    .map_err(|e| ApiError::new(500, "internal", format!("cannot serialise the answer: {e}")))
}

/// Where an exposure leaves from.
struct Outbound<'a> {
    env: &'a Env,
    ctx: &'a Context,
    settings: Settings,
}

/// What every resolve checks first: the body's size, the server key, the body, the
/// signing keys.
fn prepare(
    text: &str,
    authorization: Option<&str>,
    env: &Env,
) -> Result<(Settings, Body, Keys), ApiError> {
    let settings = Settings::get(env);
    if text.len() > settings.max_body_bytes {
        return Err(too_large(settings.max_body_bytes));
    }
    super::check_server_key(env, authorization)?;
    let body: Body = parse_json(text)?;
    let keys = Keys::from_env(env).map_err(ApiError::secret)?;
    Ok((settings, body, keys))
}

fn outcome(result: Result<String, ApiError>) -> (u16, String) {
    match result {
        Ok(answer) => (200, answer),
        Err(e) => (e.status(), e.body_text()),
    }
}

/// `POST /v1/resolve` answered synchronously for the JavaScript entry
/// (`edge/js/entry.mjs`): `(status, JSON text)`, or `None` when the isolate does not hold
/// what the request needs yet (a cold isolate, a prompt not compiled yet, a revalidation
/// due) and [`loading`] must answer it.
pub fn fast(
    text: &str,
    authorization: Option<&str>,
    location: Option<&str>,
    env: &Env,
    ctx: &Context,
) -> Option<(u16, String)> {
    let result = prepare(text, authorization, env).and_then(|(settings, body, keys)| {
        let Some(m) = cache::held(settings.refresh_ms).and_then(|l| l.held(&body.prompt)) else {
            return Ok(None);
        };
        let at = Outbound { env, ctx, settings };
        answer(&body, &m, &keys, location, &at).map(Some)
    });
    match result {
        Ok(None) => None,
        Ok(Some(answer)) => Some(outcome(Ok(answer))),
        Err(e) => Some(outcome(Err(e))),
    }
}

/// `POST /v1/resolve` from its body text, loading what the isolate lacks (the manifest,
/// the prompt's entry) and revalidating when due: the same checks and answer as
/// [`fast`].
pub async fn loading(
    text: &str,
    authorization: Option<&str>,
    location: Option<&str>,
    env: &Env,
    ctx: &Context,
) -> (u16, String) {
    let (settings, body, keys) = match prepare(text, authorization, env) {
        Ok(p) => p,
        Err(e) => return outcome(Err(e)),
    };
    let served = match cache::current(env, ctx, settings.refresh_ms).await {
        Ok(loaded) => loaded.serving(env, &body.prompt).await,
        Err(e) => Err(e),
    };
    let at = Outbound { env, ctx, settings };
    outcome(served.and_then(|m| answer(&body, &m, &keys, location, &at)))
}
