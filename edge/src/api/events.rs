//! `POST /v1/events`: outcome events against signed tokens. A batch is checked whole
//! (tokens, tracked exposures, declared metrics, values that aggregate exactly) before
//! anything is queued, and answered 202 only once the queue accepted it.

use super::Call;
use crate::{cache, config, outbox};
use edgeprompt::events::token::{self, TokenError};
use edgeprompt::events::{outcome_value, Event, Outcome, Report};
use edgeprompt::manifest::MetricKind;
use edgeprompt_shell::http::{json_body, respond, ApiError};
use edgeprompt_shell::platform;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashSet;
use worker::Response;

/// Most events per request.
pub const MAX_EVENTS: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    events: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    token: String,
    metric: String,
    value: Value,
    #[serde(default)]
    id: Option<String>,
}

/// Checks the batch, queues the new outcomes and answers 202.
pub async fn post(mut call: Call) -> Result<Response, ApiError> {
    let body: Body = json_body(&mut call.req, call.settings.max_body_bytes).await?;
    if body.events.len() > MAX_EVENTS {
        return Err(ApiError::new(
            400,
            "batch_too_large",
            format!(
                "{} events, at most {MAX_EVENTS} per request",
                body.events.len()
            ),
        )
        .details(json!({"limit": MAX_EVENTS})));
    }
    let key = config::mac_key(&call.env, config::EVENT_SIGNING_KEY).map_err(ApiError::secret)?;
    let loaded = cache::current(&call.env, &call.ctx, call.settings.refresh_ms).await?;
    let now = platform::now_ms();
    let mut errors = Vec::new();
    let mut outcomes = Vec::with_capacity(body.events.len());
    for (index, item) in body.events.iter().enumerate() {
        let mut bad = |code: &str, message: String| {
            errors.push(json!({"index": index, "code": code, "message": message}))
        };
        let claims = match token::verify(&item.token, &key, now, call.settings.token_ttl_ms) {
            Ok(c) => c,
            Err(e) => {
                let code = match e {
                    TokenError::Expired => "expired_token",
                    TokenError::BadSignature => "invalid_token",
                    _ => "malformed_token",
                };
                bad(code, e.to_string());
                continue;
            }
        };
        if claims.untracked {
            bad(
                "untracked",
                "this token's decision was resolved with \"track\": false, so no exposure was recorded: an outcome needs a tracked exposure".into(),
            );
            continue;
        }
        let kind = loaded.metric(&item.metric).map(|m| m.kind);
        let value = match outcome_value(&item.metric, kind, &item.value, item.id.is_some()) {
            Ok(v) => v,
            Err(e) => {
                bad(e.code, e.message);
                continue;
            }
        };
        let exposure_id = claims.exposure_id();
        outcomes.push(Outcome::new(
            exposure_id,
            claims,
            Report {
                client_id: item.id.clone(),
                metric: item.metric.clone(),
                // Always `Some` here: an undeclared metric was refused above.
                kind: kind.unwrap_or(MetricKind::Binary),
                value,
                time_ms: now,
            },
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::new(
            422,
            "invalid_events",
            format!(
                "{} of {} event(s) refused; nothing was stored",
                errors.len(),
                body.events.len()
            ),
        )
        .details(json!({"errors": errors})));
    }
    // Repeats within the request are reported; repeats across requests are dropped by
    // the aggregators (each outcome id counts once within its unit).
    let mut ids = HashSet::new();
    let fresh: Vec<Event> = outcomes
        .into_iter()
        .filter(|o| ids.insert(o.id.clone()))
        .map(Event::Outcome)
        .collect();
    let total = body.events.len();
    let accepted = fresh.len();
    outbox::send(&call.env, &call.settings, fresh)
        .await
        .map_err(|e| {
            ApiError::new(
                503,
                "queue_unavailable",
                format!("the events could not be queued, send them again: {e}"),
            )
        })?;
    Ok(respond(
        202,
        &json!({"accepted": accepted, "duplicates": total - accepted}),
    ))
}
