//! One step's input: the plan, the declared metrics, the state and each period's
//! per-version aggregates, as the metrics store keeps them.

use super::plan::{to_bp, MetricSpec, Plan};
use super::state::State;
use super::RolloutError;
use crate::stats::Moments;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything one step reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// The plan.
    pub plan: Plan,
    /// The declared metrics, by name.
    pub metrics: BTreeMap<String, MetricSpec>,
    /// The previous step's state; `None` (`null`) on the first step.
    #[serde(default)]
    pub state: Option<State>,
    /// The time of this step.
    pub now_ms: u64,
    /// Every weights period of the rollout, each with its own aggregates.
    #[serde(default)]
    pub periods: Vec<Period>,
}

/// One weights period: a stage's split, from when it was set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// The stage it belongs to, numbered from 1.
    pub stage: u32,
    /// Percent per version.
    pub weights: BTreeMap<u32, f64>,
    /// When the split was set.
    pub started_ms: u64,
    /// Aggregates per version.
    #[serde(default)]
    pub versions: BTreeMap<u32, VersionTotals>,
}

/// One version's aggregates in a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionTotals {
    /// Distinct units the split exposed to it.
    #[serde(default)]
    pub exposed_units: u64,
    /// Per metric, the unit-level sums.
    #[serde(default)]
    pub metrics: BTreeMap<String, MetricSums>,
}

/// A metric's unit-level sums: binary, `units` exposed units and `sum` = `sum_sq` the
/// units with a success; count, each exposed unit's count (0 if none); continuous,
/// each reporting unit's mean, `units` the reporting units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSums {
    /// Units observed.
    #[serde(default)]
    pub units: u64,
    /// Sum of their observations.
    #[serde(default)]
    pub sum: f64,
    /// Sum of their squares.
    #[serde(default)]
    pub sum_sq: f64,
}

impl From<MetricSums> for Moments {
    fn from(m: MetricSums) -> Moments {
        Moments {
            n: m.units,
            sum: m.sum,
            sum_sq: m.sum_sq,
        }
    }
}

impl Period {
    /// A version's sums for a metric (zero when it has none).
    pub fn sums(&self, version: u32, metric: &str) -> MetricSums {
        self.versions
            .get(&version)
            .and_then(|v| v.metrics.get(metric))
            .copied()
            .unwrap_or_default()
    }

    /// A version's exposed units.
    pub fn exposed(&self, version: u32) -> u64 {
        self.versions.get(&version).map_or(0, |v| v.exposed_units)
    }

    /// The weights as `(version, basis points)`; the error names the field at fault.
    pub(crate) fn weights_bp(&self, at: usize) -> Result<Vec<(u32, u16)>, RolloutError> {
        let field = |f: String| format!("periods[{at}].weights{f}");
        let mut out = Vec::with_capacity(self.weights.len());
        for (&v, &w) in &self.weights {
            let bp = to_bp(w).ok_or_else(|| RolloutError::Input {
                field: field(format!(".{v}")),
                reason: format!("{w} is not a percent in [0, 100] with at most two decimals"),
            })?;
            out.push((v, bp));
        }
        let sum: u32 = out.iter().map(|&(_, bp)| u32::from(bp)).sum();
        if sum != 10_000 {
            return Err(RolloutError::Input {
                field: field(String::new()),
                reason: format!(
                    "weights sum to {}, expected 100",
                    crate::assign::format_bp(sum)
                ),
            });
        }
        Ok(out)
    }
}
