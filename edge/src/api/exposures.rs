//! `POST /v1/exposures`: decisions made locally by npm clients. Each is re-derived with
//! the same engine at the revision and the time (`decided_at`, within
//! [`MAX_CLOCK_SKEW_MS`] of the edge's clock) the client used, recorded, and given a
//! token.

use super::token::{issue, Nonce};
use super::Call;
use crate::config::Keys;
use crate::{cache, outbox};
use edgeprompt::resolve::{self, Request};
use edgeprompt_shell::http::{json_body, respond, ApiError};
use serde::Deserialize;
use serde_json::{json, Value};
use std::rc::Rc;
use worker::Response;

/// Most exposures per request.
pub const MAX_ITEMS: usize = 100;
/// How many revisions before the one this isolate serves a decision may be from: with
/// the one ahead, as many as are kept compiled besides the current one, so cycling
/// through the window cannot evict what it needs. Older ones are refused without
/// reading KV.
const WINDOW_BACK: u64 = cache::RECENT as u64 - WINDOW_AHEAD;
/// How many after it: this isolate may not have seen the newest revision yet.
const WINDOW_AHEAD: u64 = 1;

/// How far a client's reported decision time may be from the edge's clock, either way:
/// further, the item is refused (`clock_skew`) rather than re-derived at a time the
/// edge cannot vouch for, or at its own time, which could derive another decision.
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// Whether a reported decision's revision is one this edge re-derives.
fn in_window(revision: u64, held: u64) -> bool {
    revision >= held.saturating_sub(WINDOW_BACK) && revision <= held.saturating_add(WINDOW_AHEAD)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    exposures: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    prompt: String,
    #[serde(default)]
    label: Option<String>,
    unit: String,
    #[serde(default)]
    attributes: Option<Value>,
    revision: u64,
    /// When the client decided (ms since the epoch), the time of its `$now` rules;
    /// absent (older clients): the edge's clock. Read per item, so that a bad one is
    /// refused alone.
    #[serde(default)]
    decided_at: Option<Value>,
}

/// Whether any label of `prompt` has a rule on the request's time.
fn uses_now(m: &edgeprompt::CompiledManifest, prompt: &str) -> bool {
    m.prompt(prompt)
        .is_some_and(|p| p.labels.iter().any(|(_, r)| r.uses_now()))
}

/// The time an item is re-derived at: the client's `decided_at` when the prompt's rules
/// read the time (then within [`MAX_CLOCK_SKEW_MS`] of the edge's clock), else the
/// edge's clock (the decision does not depend on it, and a client's clock may be off).
fn decided_at(given: Option<&Value>, now: i64, matters: bool) -> Result<i64, ApiError> {
    let t = match given {
        None | Some(Value::Null) => return Ok(now),
        // A Date holds at most 8.64e15 ms either way.
        Some(v) => v
            .as_i64()
            .filter(|t| t.unsigned_abs() <= 8_640_000_000_000_000)
            .ok_or_else(|| {
                ApiError::new(
                    400,
                    "invalid_request",
                    format!("decided_at must be whole milliseconds since the epoch, not {v}"),
                )
            })?,
    };
    if !matters {
        return Ok(now);
    }
    if t.abs_diff(now) > MAX_CLOCK_SKEW_MS.unsigned_abs() {
        return Err(ApiError::new(
            400,
            "clock_skew",
            format!(
                "decided_at {t} is {} s from the edge's clock ({now}), more than the {} s allowed for a prompt whose rules read the time",
                t.abs_diff(now) / 1000,
                MAX_CLOCK_SKEW_MS / 1000
            ),
        ));
    }
    Ok(t)
}

/// Re-derives, records and answers per item.
pub async fn post(mut call: Call) -> Result<Response, ApiError> {
    let body: Body = json_body(&mut call.req, call.settings.max_body_bytes).await?;
    if body.exposures.len() > MAX_ITEMS {
        return Err(ApiError::new(
            400,
            "batch_too_large",
            format!(
                "{} exposures, at most {MAX_ITEMS} per request",
                body.exposures.len()
            ),
        ));
    }
    let keys = Keys::from_env(&call.env).map_err(ApiError::secret)?;
    // Loading the current manifest first makes a cold isolate answer 503 when there is none.
    let held = cache::current(&call.env, &call.ctx, call.settings.refresh_ms)
        .await?
        .revision();
    let mut results = Vec::with_capacity(body.exposures.len());
    let mut events = Vec::new();
    // Each distinct revision is looked up (and at worst read and compiled) once.
    let mut revisions: Vec<(u64, Result<Rc<cache::Loaded>, String>)> = Vec::new();
    for item in &body.exposures {
        let found = match revisions.iter().find(|(r, _)| *r == item.revision) {
            Some((_, found)) => found.clone(),
            None => {
                let found = if in_window(item.revision, held) {
                    cache::at_revision(&call.env, item.revision).await
                } else {
                    Err(format!(
                        "only revisions {} to {} are accepted here",
                        held.saturating_sub(WINDOW_BACK),
                        held + WINDOW_AHEAD
                    ))
                };
                revisions.push((item.revision, found.clone()));
                found
            }
        };
        let loaded = match found {
            Ok(l) => l,
            Err(reason) => {
                let e = ApiError::new(
                    409,
                    "stale_revision",
                    format!(
                        "revision {} cannot be loaded ({reason}): fetch /v1/manifest again",
                        item.revision
                    ),
                );
                results.push(json!({"error": e.object()}));
                continue;
            }
        };
        let m = match loaded.serving(&call.env, &item.prompt).await {
            Ok(m) => m,
            Err(e) => {
                results.push(json!({"error": e.object()}));
                continue;
            }
        };
        let m = &m;
        let now = super::edge_now_ms();
        let decided_at = match decided_at(item.decided_at.as_ref(), now, uses_now(m, &item.prompt))
        {
            Ok(t) => t,
            Err(e) => {
                results.push(json!({"error": e.object()}));
                continue;
            }
        };
        let req = Request {
            prompt: &item.prompt,
            label: item.label.as_deref(),
            unit: &item.unit,
            attributes: item.attributes.as_ref(),
            variables: None,
            now_ms: Some(decided_at),
        };
        let a = match resolve::assign(m, &req) {
            Ok(a) => a,
            Err(e) => {
                results.push(json!({"error": ApiError::from(e).object()}));
                continue;
            }
        };
        // The same decision reported again (a resend) keeps its exposure id.
        let (token, event) = issue(&a, &item.unit, &keys, Some("client"), Nonce::Client)?;
        events.extend(event);
        results.push(json!({"version": a.version, "rule": a.rule, "bucket": a.bucket, "revision": item.revision, "token": token}));
    }
    // Sent before answering: a client that got its tokens knows its exposures are queued.
    if let Err(e) = outbox::send(&call.env, &call.settings, events).await {
        return Err(ApiError::new(
            503,
            "queue_unavailable",
            format!("the exposures could not be queued, send them again: {e}"),
        ));
    }
    Ok(respond(200, &json!({"results": results})))
}
