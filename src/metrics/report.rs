//! The comparison `/v1/metrics` answers: per version, exposed units and, per declared
//! metric, the estimate with its 95% interval and the difference against the control
//! (the first version of the default split), plus the sample-ratio check.
//!
//! Each unit is one observation: binary, units with a success over exposed units
//! (Wilson); count, the mean of each exposed unit's total (0 if it reported none);
//! continuous, the mean of each reporting unit's mean value.

use super::Summary;
use crate::manifest::{CompiledManifest, MetricKind, Route, Target};
use crate::stats::{self, Estimate, Moments};
use serde_json::{json, Map, Value};

/// The report for one route from merged aggregates. `period` is the period reported
/// (`None`: every period, which has no sample-ratio check).
pub fn report(
    m: &CompiledManifest,
    prompt: &str,
    label: &str,
    route: &Route,
    period: Option<&str>,
    summary: &Summary,
) -> Value {
    let weights: Vec<(u32, u16)> = match &route.default {
        Target::Version(v) => vec![(*v, 10_000)],
        Target::Split(s) => s.ranges().iter().map(|&(v, lo, hi)| (v, hi - lo)).collect(),
    };
    let mut versions: Vec<u32> = weights.iter().map(|w| w.0).collect();
    for v in summary.versions() {
        if !versions.contains(&v) {
            versions.push(v);
        }
    }
    let control = versions.first().copied().unwrap_or(1);
    let mut out_versions = Vec::new();
    for &v in &versions {
        let mut metrics = Map::new();
        for (name, metric) in m.metrics_iter() {
            let cell = metric_cell(summary, v, control, name, metric.kind);
            metrics.insert(name.to_string(), cell);
        }
        let weight = weights.iter().find(|w| w.0 == v).map(|w| percent(w.1));
        let e = summary.get(v, "");
        out_versions.push(json!({
            "version": v,
            "weight": weight,
            "exposed_units": e.units,
            "exposures": e.exposures,
            "metrics": metrics,
        }));
    }
    let srm = match period {
        None => Value::Null,
        Some(_) => {
            let observed: Vec<u64> = weights
                .iter()
                .map(|(v, _)| summary.get(*v, "").default_units)
                .collect();
            let bp: Vec<u16> = weights.iter().map(|w| w.1).collect();
            match stats::srm(&observed, &bp) {
                Some(s) => json!({
                    "chi_square": s.chi_square,
                    "df": s.df,
                    "p_value": s.p_value,
                    "mismatch": s.mismatch,
                    "observed_default_units": observed,
                }),
                None => Value::Null,
            }
        }
    };
    json!({
        "prompt": prompt,
        "label": label,
        "period": period.unwrap_or("all"),
        "revision": m.revision(),
        "control": control,
        "versions": out_versions,
        "srm": srm,
    })
}

/// The per-unit observations of a metric for one version: how many units, and the
/// moments of their observations.
pub fn observations(summary: &Summary, version: u32, metric: &str, kind: MetricKind) -> Moments {
    let exposed = summary.get(version, "").units;
    let s = summary.get(version, metric);
    let n = match kind {
        MetricKind::Binary | MetricKind::Count => exposed,
        MetricKind::Continuous => s.units,
    };
    Moments {
        n,
        sum: s.obs_sum,
        sum_sq: s.obs_sum_sq,
    }
}

fn metric_cell(summary: &Summary, v: u32, control: u32, name: &str, kind: MetricKind) -> Value {
    let obs = |v| observations(summary, v, name, kind);
    let s = summary.get(v, name);
    let (estimate, diff): (Option<Estimate>, Option<Estimate>) = match kind {
        MetricKind::Binary => {
            let (a, b) = (obs(v), obs(control));
            (
                stats::wilson(s.units, a.n),
                stats::diff_proportions((s.units, a.n), (summary.get(control, name).units, b.n)),
            )
        }
        MetricKind::Count | MetricKind::Continuous => {
            (stats::mean(obs(v)), stats::diff_means(obs(v), obs(control)))
        }
    };
    let diff = if v == control { None } else { diff };
    // Binary: units with a success; count: the total counted; continuous: values.
    let count = match kind {
        MetricKind::Binary => json!(s.units),
        MetricKind::Count => count_json(s.sum),
        MetricKind::Continuous => json!(s.values),
    };
    json!({
        "units": obs(v).n,
        "count": count,
        "values": s.values,
        "sum": s.sum,
        "estimate": estimate.map(|e| e.estimate),
        "ci": estimate.map(|e| e.ci),
        "diff": diff.map(|d| json!({"estimate": d.estimate, "ci": d.ci})),
    })
}

/// A count total as a JSON integer (counts are whole numbers, summed exactly).
fn count_json(total: f64) -> Value {
    if total.fract() == 0.0 && total.abs() < 9.007_199_254_740_992e15 {
        json!(total as i64)
    } else {
        json!(total)
    }
}

/// Basis points as a JSON percent: 9000 -> 90, 3333 -> 33.33.
fn percent(bp: u16) -> Value {
    if bp % 100 == 0 {
        json!(bp / 100)
    } else {
        json!(f64::from(bp) / 100.0)
    }
}
