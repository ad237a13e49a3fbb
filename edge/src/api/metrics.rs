//! `GET /v1/metrics/{prompt}?label=&period=all`: per-version exposed units and, per
//! declared metric, estimates with 95% intervals and differences against the control
//! (the first version of the label's default split), plus the sample-ratio check.

use super::Call;
use crate::{cache, store};
use edgeprompt::manifest::{MetricKind, Target};
use edgeprompt::stats::{self, Estimate, Moments};
use edgeprompt_shell::http::{query_pairs, respond, ApiError};
use serde_json::{json, Map, Value};
use worker::Response;

/// Answers with the comparison for the current (or every) weights period.
pub async fn get(call: Call, prompt_name: &str) -> Result<Response, ApiError> {
    let mut label = edgeprompt::resolve::DEFAULT_LABEL.to_string();
    let mut all = false;
    for (k, v) in query_pairs(&call.req) {
        match k.as_ref() {
            "label" => label = v,
            "period" if v == "all" => all = true,
            "period" if v == "current" => all = false,
            other => {
                return Err(ApiError::new(
                    400,
                    "invalid_request",
                    format!(
                        "unknown query parameter \"{other}\" (expected label, period=current|all)"
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
    let db = store::database(&call.env)
        .map_err(|e| ApiError::new(500, "d1_unavailable", e.to_string()))?;
    let period = (!all).then(|| route.period.to_string());
    let agg = store::aggregates(&db, prompt_name, &label, period.as_deref())
        .await
        .map_err(|e| ApiError::new(503, "d1_unavailable", format!("reading metrics: {e}")))?;

    // The split's versions in order (the first is the control), then any other version seen.
    let weights: Vec<(u32, u16)> = match &route.default {
        Target::Version(v) => vec![(*v, 10_000)],
        Target::Split(s) => s.ranges().iter().map(|&(v, lo, hi)| (v, hi - lo)).collect(),
    };
    let mut versions: Vec<u32> = weights.iter().map(|w| w.0).collect();
    for row in &agg.units {
        if !versions.contains(&row.version) {
            versions.push(row.version);
        }
    }
    let units = |v: u32| {
        agg.units
            .iter()
            .find(|r| r.version == v)
            .map(|r| r.units)
            .unwrap_or(0)
    };
    let control = versions.first().copied().unwrap_or(1);
    let mut out_versions = Vec::new();
    for &v in &versions {
        let mut metrics = Map::new();
        for (name, metric) in m.metrics_iter() {
            let cell = metric_cell(&agg, v, control, name, metric.kind, &units);
            metrics.insert(name.to_string(), cell);
        }
        let weight = weights.iter().find(|w| w.0 == v).map(|w| percent(w.1));
        out_versions.push(
            json!({"version": v, "weight": weight, "exposed_units": units(v), "metrics": metrics}),
        );
    }
    let srm = if all {
        Value::Null
    } else {
        let observed: Vec<u64> = weights
            .iter()
            .map(|(v, _)| {
                agg.units
                    .iter()
                    .find(|r| r.version == *v)
                    .map(|r| r.default_units)
                    .unwrap_or(0)
            })
            .collect();
        let bp: Vec<u16> = weights.iter().map(|w| w.1).collect();
        match stats::srm(&observed, &bp) {
            Some(s) => {
                json!({"chi_square": s.chi_square, "df": s.df, "p_value": s.p_value, "mismatch": s.mismatch, "observed_default_units": observed})
            }
            None => Value::Null,
        }
    };
    Ok(respond(
        200,
        &json!({
            "prompt": prompt_name,
            "label": label,
            "period": period.unwrap_or_else(|| "all".into()),
            "revision": m.revision(),
            "control": control,
            "versions": out_versions,
            "srm": srm,
        }),
    ))
}

fn metric_cell(
    agg: &store::Aggregates,
    v: u32,
    control: u32,
    name: &str,
    kind: MetricKind,
    units: &dyn Fn(u32) -> u64,
) -> Value {
    let successes = |v: u32| {
        agg.successes
            .iter()
            .find(|r| r.version == v && r.metric == name)
            .map(|r| r.units)
            .unwrap_or(0)
    };
    let moments = |v: u32| {
        agg.sums
            .iter()
            .find(|r| r.version == v && r.metric == name)
            .map(|r| Moments {
                n: r.n,
                sum: r.total,
                sum_sq: r.total_sq,
            })
            .unwrap_or(Moments {
                n: 0,
                sum: 0.0,
                sum_sq: 0.0,
            })
    };
    let (count, estimate, diff): (f64, Option<Estimate>, Option<Estimate>) = match kind {
        MetricKind::Binary => (
            successes(v) as f64,
            stats::wilson(successes(v), units(v)),
            stats::diff_proportions(
                (successes(v), units(v)),
                (successes(control), units(control)),
            ),
        ),
        MetricKind::Continuous => (
            moments(v).n as f64,
            stats::mean(moments(v)),
            stats::diff_means(moments(v), moments(control)),
        ),
        MetricKind::Count => (
            moments(v).sum,
            stats::rate(moments(v).sum, units(v)),
            stats::diff_rates(
                (moments(v).sum, units(v)),
                (moments(control).sum, units(control)),
            ),
        ),
    };
    let diff = if v == control { None } else { diff };
    json!({
        "count": count,
        "estimate": estimate.map(|e| e.estimate),
        "ci": estimate.map(|e| e.ci),
        "diff": diff.map(|d| json!({"estimate": d.estimate, "ci": d.ci})),
    })
}

/// Basis points as a JSON percent: 9000 -> 90, 3333 -> 33.33.
fn percent(bp: u16) -> Value {
    if bp % 100 == 0 {
        json!(bp / 100)
    } else {
        json!(f64::from(bp) / 100.0)
    }
}
