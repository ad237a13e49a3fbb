//! `GET /v1/manifest`: the client projection for npm clients, with an ETag.

use super::Call;
use crate::cache;
use edgeprompt_shell::http::{text_response, ApiError};
use worker::{Response, ResponseBuilder};

/// Answers with the projection, or 304 when the client's ETag is current.
pub async fn get(call: Call) -> Result<Response, ApiError> {
    let loaded = cache::current(&call.env, &call.ctx, call.settings.refresh_ms).await?;
    let projection = loaded.projection(&call.env).await?;
    let (body, etag) = (&projection.0, projection.1.as_str());
    let matches = call
        .req
        .headers()
        .get("if-none-match")
        .ok()
        .flatten()
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        });
    let mut resp = if matches {
        ResponseBuilder::new().with_status(304).empty()
    } else {
        text_response(200, body.to_string(), "application/json; charset=utf-8")
    };
    let headers = resp.headers_mut();
    let _ = headers.set("etag", etag);
    let _ = headers.set("cache-control", "no-cache");
    Ok(resp)
}
