//! The Cloudflare Worker (feature `edge`): a thin shell that adapts the engine to
//! Workers KV (manifests), a Queue (events), D1 (metrics) and HTTP.
//!
//! Requests are routed in [`api`]; the compiled manifest lives in isolate memory
//! ([`cache`]); events leave through [`outbox`] after the response and are folded into
//! D1 by the queue consumer ([`consumer`]).

mod api;
mod cache;
mod config;
mod consumer;
mod outbox;
mod store;

use worker::{
    event, Context, Env, MessageBatch, Request, Response, Result, ScheduleContext, ScheduledEvent,
};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    Ok(api::handle(req, env, ctx).await)
}

#[event(queue)]
async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> Result<()> {
    consumer::consume(batch, env).await
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    consumer::expire_seen_ids(&env).await;
}
