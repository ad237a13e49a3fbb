//! `GET /v1/metrics/{prompt}?label=&period=current|all&series=hour`: the comparison of
//! a label's versions, from the aggregator objects' summaries merged over shards (the
//! work grows with shards, periods and hours, not units), cached in the isolate for a
//! few seconds; with `series=hour`, also the hourly aggregates (for charts and
//! sequential tests).

use super::Call;
use crate::cache;
use edgeprompt::metrics::report::report;
use edgeprompt_shell::aggregates;
use edgeprompt_shell::http::{query_pairs, respond, ApiError};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use worker::Response;

/// How long a merged answer is reused.
const CACHE_MS: u64 = 5_000;

thread_local! {
    static CACHED: RefCell<HashMap<String, (u64, Value)>> = RefCell::new(HashMap::new());
}

/// Answers with the comparison for the current (or every) weights period.
pub async fn get(call: Call, prompt_name: &str) -> Result<Response, ApiError> {
    let mut label = edgeprompt::resolve::DEFAULT_LABEL.to_string();
    let mut all = false;
    let mut hourly = false;
    for (k, v) in query_pairs(&call.req) {
        match k.as_ref() {
            "label" => label = v,
            "series" if v == "hour" => hourly = true,
            "period" if v == "all" => all = true,
            "period" if v == "current" => all = false,
            other => {
                return Err(ApiError::new(
                    400,
                    "invalid_request",
                    format!(
                        "unknown query parameter \"{other}\" (expected label, period=current|all, series=hour)"
                    ),
                ))
            }
        }
    }
    let loaded = cache::current(&call.env, &call.ctx, call.settings.refresh_ms).await?;
    let m = &loaded.manifest;
    let prompt = m.prompt(prompt_name).ok_or_else(|| {
        ApiError::new(
            404,
            "unknown_prompt",
            format!("unknown prompt \"{prompt_name}\""),
        )
    })?;
    let route = prompt.route(&label).ok_or_else(|| {
        ApiError::new(
            404,
            "unknown_label",
            format!("prompt \"{prompt_name}\" has no label \"{label}\""),
        )
    })?;
    let period = (!all).then(|| route.period.to_string());
    let key = serde_json::json!([prompt_name, label, period, hourly, m.revision()]).to_string();
    let now = edgeprompt_shell::platform::now_ms();
    let hit = CACHED.with(|c| {
        c.borrow()
            .get(&key)
            .filter(|(at, _)| now.saturating_sub(*at) < CACHE_MS)
            .map(|(_, v)| v.clone())
    });
    if let Some(v) = hit {
        return Ok(respond(200, &v));
    }
    let (summary, hours) =
        aggregates::summary_by_hour(&call.env, prompt_name, &label, period.as_deref(), hourly)
            .await
            .map_err(|e| {
                ApiError::new(
                    503,
                    "aggregates_unavailable",
                    format!("reading metrics: {e}"),
                )
            })?;
    let mut body = report(m, prompt_name, &label, route, period.as_deref(), &summary);
    if hourly {
        let series: Vec<Value> = hours
            .iter()
            .map(|(b, s)| serde_json::json!({"hour": b.hour, "version": b.version, "metric": b.metric, "sums": s}))
            .collect();
        body["series"] = Value::Array(series);
    }
    CACHED.with(|c| {
        let mut c = c.borrow_mut();
        c.retain(|_, (at, _)| now.saturating_sub(*at) < CACHE_MS);
        c.insert(key, (now, body.clone()));
    });
    Ok(respond(200, &body))
}
