//! The Cloudflare Worker: a thin shell that adapts the engine to Workers KV
//! (manifests), Queues (events), Durable Objects (aggregates) and HTTP.
//!
//! Requests are routed in [`api`]; the compiled manifest lives in isolate memory
//! ([`cache`]); events leave through [`outbox`] after the response, and the queue
//! consumer ([`consumer`]) folds them into the aggregator objects ([`aggregator`]).

mod aggregator;
mod api;
mod cache;
mod config;
mod consumer;
mod outbox;

use wasm_bindgen::prelude::wasm_bindgen;
// The paths `#[wasm_bindgen]` names for an async export's promise (which one depends on
// WASM_BINDGEN_USE_JS_SYS, set by worker-build).
use worker::{event, Context, Env, Request, Response, Result};
#[allow(unused_imports)]
use worker::{js_sys, wasm_bindgen_futures};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    Ok(api::handle(req, env, ctx).await)
}

/// `POST /v1/resolve` for the JavaScript entry (`edge/js/entry.mjs`), synchronously:
/// `"STATUS JSON"`, or `undefined` when the request must take [`fetch`]'s path (the
/// isolate does not hold what it needs yet). No `worker::Request` is built, no future
/// runs: the body text and header values cross as strings.
#[wasm_bindgen(js_name = resolveFast)]
pub fn resolve_fast(
    body: &str,
    authorization: Option<String>,
    location: Option<String>,
    env: Env,
    ctx: worker::worker_sys::Context,
) -> Option<String> {
    let ctx = Context::new(ctx);
    api::resolve::fast(
        body,
        authorization.as_deref(),
        location.as_deref(),
        &env,
        &ctx,
    )
    .map(|(status, text)| format!("{status} {text}"))
}

/// `POST /v1/resolve` for the JavaScript entry when [`resolve_fast`] cannot answer:
/// loads what the isolate lacks, then answers `"STATUS JSON"` as it does.
#[wasm_bindgen(js_name = resolveLoading)]
pub async fn resolve_loading(
    body: String,
    authorization: Option<String>,
    location: Option<String>,
    env: Env,
    ctx: worker::worker_sys::Context,
) -> String {
    let ctx = Context::new(ctx);
    let (status, text) = api::resolve::loading(
        &body,
        authorization.as_deref(),
        location.as_deref(),
        &env,
        &ctx,
    )
    .await;
    format!("{status} {text}")
}

/// The largest request body the edge reads (`MAX_BODY_BYTES`), for the JavaScript entry.
#[wasm_bindgen(js_name = maxBodyBytes)]
pub fn max_body_bytes(env: Env) -> usize {
    config::Settings::get(&env).max_body_bytes
}
