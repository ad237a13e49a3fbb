//! Guarded rollouts: the pure decision the control plane's alarm runs on every check,
//! and that `edgeprompt rollout step` and `rollout simulate` run too.
//!
//! A [`Plan`] ramps a candidate through stages (each a weights period) while
//! guardrail metrics are watched with an always-valid sequential test accumulated
//! across the periods ([`evidence`]). [`step`] takes the plan, the declared metrics,
//! the previous [`State`] and every period's per-version aggregates, and answers one
//! [`Action`] with the next state. docs/rollouts.md holds the statistics and the
//! simulation figures.

mod decide;
pub mod evidence;
mod input;
mod plan;
mod state;

pub use decide::step;
pub use evidence::{Evidence, GuardrailEvidence, SrmEvidence};
pub use input::{MetricSums, Period, StepInput, VersionTotals};
pub use plan::{Guardrail, MetricSpec, OnTrip, Percent, Plan};
pub use state::{Action, State, Status, StepOutput};

/// Why a step cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RolloutError {
    /// The input is not JSON of the step's shape.
    #[error("{0}")]
    Json(String),
    /// The plan cannot run: the field at fault and why.
    #[error("{field}: {reason}")]
    Plan {
        /// Path of the field, e.g. `plan.stages[2]`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The state or the periods contradict the plan.
    #[error("{field}: {reason}")]
    Input {
        /// Path of the field, e.g. `periods[0].weights`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// [`step`] on one JSON line (a [`StepInput`]), answering one JSON line (a
/// [`StepOutput`]): what `edgeprompt rollout step` does per line.
pub fn step_json(line: &str) -> Result<String, RolloutError> {
    let input: StepInput =
        serde_json::from_str(line).map_err(|e| RolloutError::Json(e.to_string()))?;
    let out = step(&input)?;
    serde_json::to_string(&out).map_err(|e| RolloutError::Json(e.to_string()))
}
