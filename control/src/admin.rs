//! `/admin/v1/*`: bearer-token authentication and scopes in the worker, then the
//! request goes to the control plane Durable Object with the caller's name for the
//! audit log.
//!
//! Tokens come from the secret `ADMIN_TOKENS`: comma-separated `name:scope:token`
//! entries, scope `rw` (read and write), `ro` (read only) or `rw+approve` (read and
//! write, and approving others' changes to protected labels), each token at least 32
//! characters; they are compared in constant time (`edgeprompt_shell::access`).

use edgeprompt_shell::access::{bearer, credentials, find};
use edgeprompt_shell::http::ApiError;
use worker::{Env, Headers, Method, Request, RequestInit, Response};

/// The secret holding the admin tokens.
pub const ADMIN_TOKENS: &str = "ADMIN_TOKENS";
/// The largest admin request body: a publish carries the prompt sources (a manifest
/// is at most 25 MiB in KV).
const MAX_ADMIN_BODY_BYTES: usize = 32 << 20;
/// The Durable Object binding.
pub const CONTROL_BINDING: &str = "CONTROL";

struct Caller {
    name: String,
    scope: String,
    can_write: bool,
}

fn authenticate(req: &Request, env: &Env) -> Result<Caller, ApiError> {
    let list = credentials(env, ADMIN_TOKENS, true)?;
    let given = bearer(req).ok_or_else(|| {
        ApiError::new(
            401,
            "unauthorized",
            "an admin token is required: Authorization: Bearer TOKEN",
        )
    })?;
    let found = find(&list, &given)
        .ok_or_else(|| ApiError::new(401, "unauthorized", "unknown admin token"))?;
    let scope = found.scope.clone().unwrap_or_default();
    Ok(Caller {
        name: found.name.clone(),
        can_write: scope == "rw" || scope == "rw+approve",
        scope,
    })
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
    if rest == "whoami" {
        // What the console shows and hides: the token's name and scope.
        return Ok(edgeprompt_shell::http::respond(
            200,
            &serde_json::json!({"name": caller.name, "scope": caller.scope}),
        ));
    }
    if rest == "dead-letters" || rest.starts_with("dead-letters/") {
        return dead_letters(req, env, rest, &method).await;
    }
    if let Some(which) = rest.strip_prefix("aggregates/") {
        return aggregates_storage(env, which).await;
    }
    if let Some(prompt) = rest.strip_prefix("metrics/") {
        return metrics(&req, env, prompt).await;
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
        .set("x-edgeprompt-scope", &caller.scope)
        .map_err(internal)?;
    headers
        .set("content-type", "application/json")
        .map_err(internal)?;
    if let Some(tag) = req.headers().get("if-none-match").ok().flatten() {
        headers.set("if-none-match", &tag).map_err(internal)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method.clone()).with_headers(headers);
    if method == Method::Post {
        let body = edgeprompt_shell::http::body_text(&mut req, MAX_ADMIN_BODY_BYTES).await?;
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

/// `GET /admin/v1/dead-letters` lists the event messages the edge's consumer could not
/// apply, with the reasons; `POST /admin/v1/dead-letters/replay` (`{"ids": [...]}`, or
/// `{}` for all) sends them back to the events queues. Both reach the edge Worker's
/// dead-letter object through a binding with `script_name`.
async fn dead_letters(
    mut req: Request,
    env: &Env,
    rest: &str,
    method: &Method,
) -> Result<Response, ApiError> {
    use edgeprompt_shell::aggregates::{call, DEAD_LETTERS};
    let unavailable = |e: edgeprompt_shell::aggregates::CallError| {
        ApiError::new(503, "aggregates_unavailable", format!("dead letters: {e}"))
    };
    let answer: serde_json::Value = match (method, rest) {
        (Method::Get, "dead-letters") => call(env, DEAD_LETTERS, "global", "list", None::<&()>)
            .await
            .map_err(unavailable)?,
        (Method::Post, "dead-letters/replay") => {
            let body: serde_json::Value = req
                .json()
                .await
                .map_err(|e| ApiError::new(400, "malformed_json", format!("request body: {e}")))?;
            call(env, DEAD_LETTERS, "global", "replay", Some(&body))
                .await
                .map_err(unavailable)?
        }
        _ => {
            return Err(ApiError::new(
                405,
                "method_not_allowed",
                "GET /admin/v1/dead-letters or POST /admin/v1/dead-letters/replay",
            ))
        }
    };
    Ok(edgeprompt_shell::http::respond(200, &answer))
}

/// `GET /admin/v1/aggregates/{prompt}/{label}`: per period and shard, what the
/// aggregator objects store and have written (SQLite's own counters since each object
/// started): the figures behind docs/scale.md.
async fn aggregates_storage(env: &Env, which: &str) -> Result<Response, ApiError> {
    use edgeprompt_shell::aggregates::{periods, shard_summary, ShardKey};
    let Some((prompt, label)) = which.split_once('/') else {
        return Err(ApiError::new(
            404,
            "not_found",
            "GET /admin/v1/aggregates/{prompt}/{label}",
        ));
    };
    let unavailable = |e: edgeprompt_shell::aggregates::CallError| {
        ApiError::new(503, "aggregates_unavailable", e.to_string())
    };
    let mut out = Vec::new();
    for p in periods(env, prompt, label).await.map_err(unavailable)? {
        let mut shards = Vec::new();
        for shard in 0..p.shards {
            let key = ShardKey {
                prompt: prompt.to_string(),
                label: label.to_string(),
                period: p.period.clone(),
                shard,
                shards: p.shards,
            };
            let s = shard_summary(env, &key, false).await.map_err(unavailable)?;
            let exposed: u64 = s
                .summary
                .cells
                .values()
                .filter_map(|m| m.get(""))
                .map(|x| x.units)
                .sum();
            shards.push(serde_json::json!({
                "shard": shard,
                "exposed_units": exposed,
                "events": s.events,
                "batches": s.batches,
                "rows_written": s.rows_written,
                "database_bytes": s.database_bytes,
                "compacted": s.compacted,
            }));
        }
        out.push(serde_json::json!({"period": p.period, "shards": shards, "first_ms": p.first_ms}));
    }
    Ok(edgeprompt_shell::http::respond(
        200,
        &serde_json::json!({"prompt": prompt, "label": label, "periods": out}),
    ))
}

/// `GET /admin/v1/metrics/{prompt}?label=&period=&series=`: what the edge's
/// `/v1/metrics` answers, for the live revision, with an admin token (the console and
/// the CLI read results here, not with a server key).
async fn metrics(req: &Request, env: &Env, prompt: &str) -> Result<Response, ApiError> {
    use edgeprompt_shell::metrics::{metrics, MetricsQuery};
    let q = MetricsQuery::parse(&edgeprompt_shell::http::query_pairs(req))?;
    let m = live_compiled(env).await?;
    let body = metrics(env, &m, prompt, &q).await?;
    Ok(edgeprompt_shell::http::respond(200, &body))
}

thread_local! {
    /// The live manifest compiled, with its ETag (its revision): the console asks for
    /// the metrics of every label in turn, and only a new revision is read and compiled.
    static LIVE: std::cell::RefCell<Option<(String, edgeprompt::manifest::CompiledManifest)>> =
        const { std::cell::RefCell::new(None) };
}

/// The live manifest, compiled: read from the control plane unless this isolate holds
/// its revision already (a conditional request answered with 304).
async fn live_compiled(env: &Env) -> Result<edgeprompt::manifest::CompiledManifest, ApiError> {
    let internal =
        |e: worker::Error| ApiError::new(500, "control_unavailable", format!("control plane: {e}"));
    let held = LIVE.with(|l| l.borrow().clone());
    let headers = Headers::new();
    if let Some((tag, _)) = &held {
        headers.set("if-none-match", tag).map_err(internal)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let inner = Request::new_with_init("https://control/manifest", &init).map_err(internal)?;
    let stub = env
        .durable_object(CONTROL_BINDING)
        .and_then(|ns| ns.get_by_name("global"))
        .map_err(internal)?;
    let mut live = stub.fetch_with_request(inner).await.map_err(internal)?;
    if let (304, Some((_, m))) = (live.status_code(), &held) {
        return Ok(m.clone());
    }
    let tag = live.headers().get("etag").ok().flatten();
    let doc: serde_json::Value = live.json().await.map_err(internal)?;
    let m = edgeprompt::manifest::compile_value(doc).map_err(|e| {
        ApiError::new(
            500,
            "invalid_live_manifest",
            format!("the live manifest: {e}"),
        )
    })?;
    if let Some(tag) = tag {
        LIVE.with(|l| *l.borrow_mut() = Some((tag, m.clone())));
    }
    Ok(m)
}
