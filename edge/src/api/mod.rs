//! The HTTP API: a small router over the handlers, each in its own module.

mod admin;
mod events;
mod exposures;
mod manifest;
mod metrics;
mod prompts;
pub(crate) mod resolve;
mod token;

use super::config::Settings;
use edgeprompt_shell::access::{bearer_in, credentials, find};
use edgeprompt_shell::http::{respond, text_response, ApiError};
use serde_json::json;
use std::future::Future;
use std::pin::Pin;
use worker::{Context, Env, Method, Request, Response};

/// The edge's clock, as a request's time for `$now` conditions (ms since the epoch).
pub(crate) fn edge_now_ms() -> i64 {
    i64::try_from(edgeprompt_shell::platform::now_ms()).unwrap_or(i64::MAX)
}

/// Everything a handler needs.
pub struct Call {
    /// The request.
    pub req: Request,
    /// Bindings, vars and secrets.
    pub env: Env,
    /// For work after the response.
    pub ctx: Context,
    /// Settings read from the environment.
    pub settings: Settings,
}

/// Answers one request; every failure becomes a JSON error response.
pub async fn handle(req: Request, env: Env, ctx: Context) -> Response {
    let settings = Settings::get(&env);
    let method = req.method();
    let path = req.path();
    // Browsers call the public endpoints from other origins (the npm package); they use
    // no cookies, and tokens are signed, so any origin may read them. Endpoints behind a
    // server key or an admin token are not opened to browsers.
    let cors = is_public(&path) && req.headers().has("origin").unwrap_or(false);
    if cors && method == Method::Options {
        return with_cors(text_response(204, String::new(), "text/plain"), true);
    }
    let call = Call {
        req,
        env,
        ctx,
        settings,
    };
    let response = match route(call, &method, &path).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    if cors {
        with_cors(response, false)
    } else {
        response
    }
}

/// Adds the CORS headers of the public API (and, for a preflight, what it allows).
fn with_cors(mut response: Response, preflight: bool) -> Response {
    let h = response.headers_mut();
    // Setting well-formed headers on a response we built does not fail.
    let _ = h.set("access-control-allow-origin", "*");
    if preflight {
        let _ = h.set("access-control-allow-methods", "GET, POST, OPTIONS");
        let _ = h.set(
            "access-control-allow-headers",
            "content-type, if-none-match",
        );
        let _ = h.set("access-control-max-age", "86400");
    } else {
        let _ = h.set("access-control-expose-headers", "etag");
    }
    response
}

/// A handler's future behind a pointer: each route's state machine stays a function of
/// its own instead of being inlined into one poll function for all of them (89 KB of
/// Wasm that a cold isolate compiled before answering anything; BENCHMARKS.md "The
/// edge at its floor").
type Handler<'a> = Pin<Box<dyn Future<Output = Result<Response, ApiError>> + 'a>>;

fn boxed<'a>(f: impl Future<Output = Result<Response, ApiError>> + 'a) -> Handler<'a> {
    Box::pin(f)
}

async fn route(call: Call, method: &Method, path: &str) -> Result<Response, ApiError> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let handler: Handler<'_> = match (method, segments.as_slice()) {
        (Method::Get, ["healthz"]) => return Ok(text_response(200, "ok".into(), "text/plain")),
        (Method::Get, ["v1", "status"]) => boxed(status(call)),
        (Method::Post, ["v1", "resolve"]) => {
            server_key(&call)?;
            boxed(resolve::post(call))
        }
        (Method::Post, ["v1", "prompts", name]) => {
            server_key(&call)?;
            boxed(prompts::post(call, name))
        }
        (Method::Get, ["v1", "manifest"]) => boxed(manifest::get(call)),
        (Method::Post, ["v1", "exposures"]) => boxed(exposures::post(call)),
        (Method::Post, ["v1", "events"]) => boxed(events::post(call)),
        (Method::Get, ["v1", "metrics", prompt]) => {
            server_key(&call)?;
            boxed(metrics::get(call, prompt))
        }
        (Method::Get, ["__dev", "panic"]) if call.settings.dev_panic => return dev_panic(),
        (Method::Post, ["__dev", "echo"]) if call.settings.dev_panic => boxed(dev_echo(call)),
        (Method::Post, ["__dev", "queue", q]) if call.settings.dev_panic => {
            boxed(dev_queue(call, q))
        }
        (_, ["v1", "resolve" | "exposures" | "events"] | ["v1", "prompts", _]) => {
            return Err(wrong_method(path, "POST"))
        }
        (_, ["v1", "metrics", _] | ["v1", "manifest" | "status"] | ["healthz"]) => {
            return Err(wrong_method(path, "GET"))
        }
        (_, ["admin", "v1", _, ..]) | (Method::Get | Method::Head, ["console", ..]) => {
            boxed(admin::forward(call.req, &call.env))
        }
        _ => return Err(ApiError::not_found(&format!("{method:?} {path}"))),
    };
    handler.await
}

/// The secret holding the server keys: comma-separated `name:key` entries.
pub const EDGE_KEYS: &str = "EDGE_KEYS";

/// The endpoints anyone may call, from any origin: the client projection, what clients
/// report (authorised by signed tokens), and health.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/v1/manifest" | "/v1/exposures" | "/v1/events" | "/v1/status" | "/healthz"
    )
}

/// The endpoints that serve full prompt text or results need a server key.
fn server_key(call: &Call) -> Result<(), ApiError> {
    let header = call.req.headers().get("authorization").ok().flatten();
    check_server_key(&call.env, header.as_deref())
}

/// Checks an `Authorization` header's value against `EDGE_KEYS`.
pub(crate) fn check_server_key(env: &Env, authorization: Option<&str>) -> Result<(), ApiError> {
    let keys = credentials(env, EDGE_KEYS, false)?;
    let given = authorization.and_then(bearer_in).ok_or_else(|| {
        ApiError::new(
            401,
            "unauthorized",
            format!("a server key is required: Authorization: Bearer KEY (a key from {EDGE_KEYS})"),
        )
    })?;
    find(&keys, &given)
        .map(|_| ())
        .ok_or_else(|| ApiError::new(401, "unauthorized", "unknown server key"))
}

/// `GET /v1/status`: the conformance spec version the edge implements, which revision
/// this isolate serves, when it last checked KV, the last reason it refused an update,
/// and the events it queued or gave up on. Loads the manifest if none is held yet.
async fn status(call: Call) -> Result<Response, ApiError> {
    let loaded = super::cache::current(&call.env, &call.ctx, call.settings.refresh_ms).await;
    let s = super::cache::status();
    let now = edgeprompt_shell::platform::now_ms();
    let (sent, unsent) = super::outbox::counters();
    Ok(respond(
        if loaded.is_ok() { 200 } else { 503 },
        &json!({
            "spec_version": edgeprompt::SPEC_VERSION,
            "revision": s.revision,
            "checked_ms_ago": s.revision.map(|_| now.saturating_sub(s.checked_ms)),
            "refresh_interval_ms": call.settings.refresh_ms,
            "recent_revisions": s.recent,
            "manifest_loads": s.loads,
            "layout": if s.per_prompt { "per-prompt" } else { "document" },
            "prompts_compiled": s.entries.0,
            "prompt_entry_bytes": s.entries.1,
            "prompt_loads": s.entries.2,
            "prompts_unavailable": s.failed.iter().map(|(name, reason)| json!({"prompt": name, "reason": reason})).collect::<Vec<_>>(),
            "memory_bytes": super::cache::memory_bytes(),
            "last_problem": s.last_problem.map(|(at, reason)| json!({"ms_ago": now.saturating_sub(at), "reason": reason})),
            "events": {"queued": sent, "unsent": unsent},
        }),
    ))
}

fn wrong_method(path: &str, allowed: &str) -> ApiError {
    ApiError::new(
        405,
        "method_not_allowed",
        format!("{path} accepts {allowed} only"),
    )
}

/// Reads a JSON body and answers `ok`: the cost of a POST with a body, for benchmarks.
async fn dev_echo(mut call: Call) -> Result<Response, ApiError> {
    let _: serde_json::Value =
        edgeprompt_shell::http::json_body(&mut call.req, call.settings.max_body_bytes).await?;
    Ok(text_response(200, "ok".into(), "text/plain"))
}

/// Sends a body to an events queue as it is (tests inject a poisoned message).
async fn dev_queue(mut call: Call, q: &str) -> Result<Response, ApiError> {
    let text = call
        .req
        .text()
        .await
        .map_err(|e| ApiError::new(400, "unreadable_body", e.to_string()))?;
    let queue: u32 = q
        .parse()
        .map_err(|_| ApiError::new(404, "unknown_queue", format!("queue {q}")))?;
    let name = format!("{}{q}", super::outbox::QUEUE_PREFIX);
    super::outbox::send_raw_json(&call.env, queue, &text)
        .await
        .map_err(|e| ApiError::new(503, "queue_unavailable", e))?;
    Ok(respond(202, &json!({"queued": name})))
}

/// A panic on purpose, only when `EDGEPROMPT_DEV_PANIC` is "1" (local development),
/// to test that the worker re-initialises and reloads its manifest.
#[allow(clippy::panic)]
fn dev_panic() -> Result<Response, ApiError> {
    panic!("edgeprompt: deliberate panic from /__dev/panic (EDGEPROMPT_DEV_PANIC=1)")
}
