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

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    Ok(api::handle(req, env, ctx).await)
}
