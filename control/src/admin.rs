//! `/admin/v1/*`: bearer-token authentication and scopes in the worker, then the
//! request goes to the control plane Durable Object with the caller's name for the
//! audit log.
//!
//! Tokens come from the secret `ADMIN_TOKENS`: comma-separated `name:scope:token`
//! entries, scope `rw` (read and write) or `ro` (read only). Tokens are compared in
//! constant time (SHA-256 of each side, then a constant-time equality).

use edgeprompt_shell::http::ApiError;
use edgeprompt_shell::secrets::secret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use worker::{Env, Headers, Method, Request, RequestInit, Response};

/// The secret holding the admin tokens.
pub const ADMIN_TOKENS: &str = "ADMIN_TOKENS";
/// The Durable Object binding.
pub const CONTROL_BINDING: &str = "CONTROL";

struct Caller {
    name: String,
    can_write: bool,
}

fn authenticate(req: &Request, env: &Env) -> Result<Caller, ApiError> {
    let secret = secret(env, ADMIN_TOKENS).map_err(ApiError::missing_secret)?;
    let given = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .and_then(|h| h.strip_prefix("Bearer ").map(|t| t.trim().to_string()))
        .ok_or_else(|| {
            ApiError::new(
                401,
                "unauthorized",
                "an admin token is required: Authorization: Bearer TOKEN",
            )
        })?;
    let given_digest = Sha256::digest(given.as_bytes());
    let text = String::from_utf8_lossy(&secret);
    let mut found: Option<Caller> = None;
    // Every entry is compared, so the time taken does not reveal which one matched.
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let mut parts = entry.splitn(3, ':');
        let (Some(name), Some(scope), Some(token)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let digest = Sha256::digest(token.as_bytes());
        if bool::from(digest.as_slice().ct_eq(given_digest.as_slice())) && found.is_none() {
            found = Some(Caller {
                name: name.to_string(),
                can_write: scope == "rw",
            });
        }
    }
    found.ok_or_else(|| ApiError::new(401, "unauthorized", "unknown admin token"))
}

/// Authenticates, checks the scope, and forwards to the control plane.
pub async fn handle(mut req: Request, env: &Env, rest: &str) -> Result<Response, ApiError> {
    let caller = authenticate(&req, env)?;
    let method = req.method();
    if method != Method::Get && !caller.can_write {
        return Err(ApiError::new(
            403,
            "forbidden",
            format!("the token of \"{}\" is read-only", caller.name),
        ));
    }
    let url = req.inner().url();
    let query = url
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    let headers = Headers::new();
    let internal =
        |e: worker::Error| ApiError::new(500, "control_unavailable", format!("control plane: {e}"));
    headers
        .set("x-edgeprompt-actor", &caller.name)
        .map_err(internal)?;
    headers
        .set("content-type", "application/json")
        .map_err(internal)?;
    let mut init = RequestInit::new();
    init.with_method(method.clone()).with_headers(headers);
    if method == Method::Post {
        let body = req
            .text()
            .await
            .map_err(|e| ApiError::new(400, "unreadable_body", e.to_string()))?;
        init.with_body(Some(body.into()));
    }
    let inner = Request::new_with_init(&format!("https://control/{rest}{query}"), &init)
        .map_err(internal)?;
    let stub = env
        .durable_object(CONTROL_BINDING)
        .and_then(|ns| ns.get_by_name("global"))
        .map_err(internal)?;
    stub.fetch_with_request(inner).await.map_err(internal)
}
