//! The rollout plan: stages, minimums, guardrails, and how each is checked before a
//! rollout starts or steps.

use super::RolloutError;
use crate::assign::format_bp;
use crate::manifest::MetricKind;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// What a tripped guardrail does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnTrip {
    /// Send every unit back to the control (the default).
    #[default]
    Rollback,
    /// Stop where it is and let a person decide.
    Pause,
}

/// A metric the candidate must not make worse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guardrail {
    /// A declared metric.
    pub metric: String,
    /// The regression tolerated, absolute, in the metric's unit (default 0).
    #[serde(default)]
    pub max_regression: f64,
    /// The regression worth catching, absolute: the mixture's scale. Default: the larger
    /// of `max_regression` and 10% of the control's mean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mde: Option<f64>,
}

/// A staged plan for one label: the candidate ramps through `stages` while the
/// guardrails hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The version being rolled out.
    pub candidate: u32,
    /// The version the label served before.
    pub control: u32,
    /// The candidate's percent per stage, increasing, ending at 100.
    pub stages: Vec<f64>,
    /// Candidate exposed units a stage needs before it may advance.
    pub min_units: u64,
    /// Time a stage needs before it may advance.
    pub min_duration_ms: u64,
    /// The metrics watched.
    #[serde(default)]
    pub guardrails: Vec<Guardrail>,
    /// The chance, over the whole rollout, that any guardrail trips on a candidate
    /// that does not regress (default 0.05).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// What a tripped guardrail does.
    #[serde(default)]
    pub on_trip: OnTrip,
}

fn default_alpha() -> f64 {
    0.05
}

/// A declared metric, as the rollout needs it (the manifest's `metrics` entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricSpec {
    /// How values are aggregated.
    pub kind: MetricKind,
    /// Direction of improvement (default true, as in the manifest).
    #[serde(default = "yes")]
    pub higher_is_better: bool,
}

fn yes() -> bool {
    true
}

impl From<&crate::manifest::Metric> for MetricSpec {
    fn from(m: &crate::manifest::Metric) -> MetricSpec {
        MetricSpec {
            kind: m.kind,
            higher_is_better: m.higher_is_better,
        }
    }
}

/// A percent held as exact basis points; JSON writes it as a number (`10`, `0.5`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percent(pub u16);

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            s.serialize_u16(self.0 / 100)
        } else {
            s.serialize_f64(f64::from(self.0) / 100.0)
        }
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Percent, D::Error> {
        let x = f64::deserialize(d)?;
        to_bp(x)
            .map(Percent)
            .ok_or_else(|| serde::de::Error::custom(format!("{x} is not a percent")))
    }
}

impl core::fmt::Display for Percent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}%", format_bp(u32::from(self.0)))
    }
}

/// A percent in [0, 100] with at most two decimals as basis points.
pub(crate) fn to_bp(x: f64) -> Option<u16> {
    let scaled = x * 100.0;
    let bp = scaled.round();
    // Two decimals survive the float: 33.33 * 100 is 3332.9999999999995.
    if !(0.0..=10_000.0).contains(&bp) || (scaled - bp).abs() > 1e-6 {
        return None;
    }
    Some(bp as u16)
}

fn plan_error(field: impl Into<String>, reason: impl Into<String>) -> RolloutError {
    RolloutError::Plan {
        field: field.into(),
        reason: reason.into(),
    }
}

impl Plan {
    /// Checks the plan against the declared metrics and returns its stages as basis
    /// points; the error names the first field at fault.
    pub fn check(&self, metrics: &BTreeMap<String, MetricSpec>) -> Result<Vec<u16>, RolloutError> {
        if self.candidate == 0 {
            return Err(plan_error("plan.candidate", "versions are numbered from 1"));
        }
        if self.control == 0 {
            return Err(plan_error("plan.control", "versions are numbered from 1"));
        }
        if self.candidate == self.control {
            return Err(plan_error(
                "plan.control",
                format!("equals the candidate ({})", self.candidate),
            ));
        }
        let stages = self.check_stages()?;
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(plan_error(
                "plan.alpha",
                format!("{} is not between 0 and 1 (exclusive)", self.alpha),
            ));
        }
        for (i, g) in self.guardrails.iter().enumerate() {
            let at = |f: &str| format!("plan.guardrails[{i}].{f}");
            if !metrics.contains_key(&g.metric) {
                return Err(plan_error(
                    at("metric"),
                    format!("unknown metric \"{}\"", g.metric),
                ));
            }
            if self.guardrails.iter().take(i).any(|o| o.metric == g.metric) {
                return Err(plan_error(
                    at("metric"),
                    format!("\"{}\" is guarded twice", g.metric),
                ));
            }
            if !(g.max_regression.is_finite() && g.max_regression >= 0.0) {
                return Err(plan_error(
                    at("max_regression"),
                    format!("{} is not a number >= 0", g.max_regression),
                ));
            }
            if let Some(mde) = g.mde {
                if !(mde.is_finite() && mde > 0.0) {
                    return Err(plan_error(at("mde"), format!("{mde} is not a number > 0")));
                }
            }
        }
        Ok(stages)
    }

    fn check_stages(&self) -> Result<Vec<u16>, RolloutError> {
        let mut out: Vec<u16> = Vec::with_capacity(self.stages.len());
        for (i, &s) in self.stages.iter().enumerate() {
            let field = format!("plan.stages[{i}]");
            let bp = to_bp(s).filter(|&bp| bp > 0).ok_or_else(|| {
                plan_error(
                    &field,
                    format!("{s} is not a percent in (0, 100] with at most two decimals"),
                )
            })?;
            if let Some(&prev) = out.last() {
                if bp <= prev {
                    return Err(plan_error(
                        field,
                        format!(
                            "{} does not increase on {}",
                            format_bp(u32::from(bp)),
                            format_bp(u32::from(prev))
                        ),
                    ));
                }
            }
            out.push(bp);
        }
        match out.last() {
            None => Err(plan_error("plan.stages", "no stages")),
            Some(&last) if last != 10_000 => Err(plan_error(
                "plan.stages",
                format!("ends at {}, expected 100", format_bp(u32::from(last))),
            )),
            // A rollout straight to 100 has no control to compare with.
            Some(_) if out.len() < 2 => Err(plan_error(
                "plan.stages",
                "needs a stage below 100 before 100",
            )),
            Some(_) => Ok(out),
        }
    }
}
