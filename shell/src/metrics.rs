//! The comparison of a label's versions (`/v1/metrics` at the edge, `/admin/v1/metrics`
//! at the control plane): the aggregator objects' summaries merged over shards, the
//! engine's report, and optionally the hourly series.

use crate::aggregates;
use crate::http::ApiError;
use edgeprompt::manifest::CompiledManifest;
use edgeprompt::metrics::report::report;
use serde_json::{json, Value};

/// What a metrics request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetricsQuery {
    /// The label (default `production`).
    pub label: String,
    /// Every weights period instead of the current one.
    pub all: bool,
    /// With the hourly aggregates.
    pub hourly: bool,
}

impl MetricsQuery {
    /// Reads `label=`, `period=current|all`, `series=hour`; anything else is a 400.
    pub fn parse(pairs: &[(String, String)]) -> Result<MetricsQuery, ApiError> {
        let mut q = MetricsQuery {
            label: edgeprompt::resolve::DEFAULT_LABEL.to_string(),
            all: false,
            hourly: false,
        };
        for (k, v) in pairs {
            match (k.as_str(), v.as_str()) {
                ("label", _) => q.label = v.clone(),
                ("series", "hour") => q.hourly = true,
                ("period", "all") => q.all = true,
                ("period", "current") => q.all = false,
                (other, _) => {
                    return Err(ApiError::new(
                        400,
                        "invalid_request",
                        format!(
                            "unknown query parameter \"{other}\" or value \"{v}\" (expected label, period=current|all, series=hour)"
                        ),
                    ))
                }
            }
        }
        Ok(q)
    }
}

/// The report for one prompt and label of a manifest.
pub async fn metrics(
    env: &worker::Env,
    m: &CompiledManifest,
    prompt_name: &str,
    q: &MetricsQuery,
) -> Result<Value, ApiError> {
    let prompt = m.prompt(prompt_name).ok_or_else(|| {
        ApiError::new(
            404,
            "unknown_prompt",
            format!("unknown prompt \"{prompt_name}\""),
        )
    })?;
    let route = prompt.route(&q.label).ok_or_else(|| {
        ApiError::new(
            404,
            "unknown_label",
            format!("prompt \"{prompt_name}\" has no label \"{}\"", q.label),
        )
    })?;
    let period = (!q.all).then(|| route.period.to_string());
    let (summary, hours) =
        aggregates::summary_by_hour(env, prompt_name, &q.label, period.as_deref(), q.hourly)
            .await
            .map_err(|e| {
                ApiError::new(
                    503,
                    "aggregates_unavailable",
                    format!("reading metrics: {e}"),
                )
            })?;
    let mut body = report(m, prompt_name, &q.label, route, period.as_deref(), &summary);
    if q.hourly {
        let series: Vec<Value> = hours
            .iter()
            .map(|(b, s)| json!({"hour": b.hour, "version": b.version, "metric": b.metric, "sums": s}))
            .collect();
        body["series"] = Value::Array(series);
    }
    Ok(body)
}
