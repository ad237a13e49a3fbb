//! The control-plane Worker (feature `control`): the admin API in front of the
//! `Control` Durable Object, the source of truth for manifests.
//!
//! It is its own Worker so the edge, which serves every request, carries none of its
//! code. The edge forwards `/admin/v1/*` here over a service binding; the shared KV
//! namespace is how published manifests reach the edge.

mod admin;
mod console;
mod durable;

use edgeprompt_shell::http::{text_response, ApiError};
use worker::{event, Context, Env, Method, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    let method = req.method();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let answer = match (&method, segments.as_slice()) {
        (Method::Get, ["healthz"]) => Ok(text_response(200, "ok".into(), "text/plain")),
        (Method::Get | Method::Head, ["console", ..]) => console::serve(req, &env).await,
        (_, ["admin", "v1", rest @ ..]) if !rest.is_empty() => {
            let rest = rest.join("/");
            admin::handle(req, &env, &rest).await
        }
        _ => Err(ApiError::not_found(&format!("{method:?} {path}"))),
    };
    Ok(answer.unwrap_or_else(ApiError::into_response))
}
