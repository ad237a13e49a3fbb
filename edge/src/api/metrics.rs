//! `GET /v1/metrics/{prompt}?label=&period=current|all&series=hour` (server key): the
//! comparison of a label's versions (`edgeprompt_shell::metrics`; the work grows with
//! shards, periods and hours, not units), cached in the isolate for a few seconds.

use super::Call;
use crate::cache;
use edgeprompt_shell::http::{query_pairs, respond, ApiError};
use edgeprompt_shell::metrics::{metrics, MetricsQuery};
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
    let q = MetricsQuery::parse(&query_pairs(&call.req))?;
    let loaded = cache::current(&call.env, &call.ctx, call.settings.refresh_ms).await?;
    let m = &loaded.serving(&call.env, prompt_name).await?;
    let key = serde_json::json!([prompt_name, q.label, q.all, q.hourly, m.revision()]).to_string();
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
    let body = metrics(&call.env, m, prompt_name, &q).await?;
    CACHED.with(|c| {
        let mut c = c.borrow_mut();
        c.retain(|_, (at, _)| now.saturating_sub(*at) < CACHE_MS);
        c.insert(key, (now, body.clone()));
    });
    Ok(respond(200, &body))
}
