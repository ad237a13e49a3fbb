//! What the controller keeps between steps, and what one step answers.

use super::evidence::Evidence;
use super::plan::Percent;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Steps may advance it.
    Running,
    /// Held until a person resumes it (it still rolls back on a trip).
    Paused,
    /// The candidate serves 100%: ended.
    Completed,
    /// Every unit is back on the control: ended.
    RolledBack,
}

/// The controller's own state, passed back on the next step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// The current stage, numbered from 1.
    pub stage: u32,
    /// Where the rollout stands.
    pub status: Status,
    /// Steps taken so far.
    #[serde(default)]
    pub checks: u64,
    /// The default mixture scale (tau) of each guardrail without an `mde`, fixed the
    /// first time it could be read so that the mixture does not move with the data.
    #[serde(default)]
    pub scales: BTreeMap<String, f64>,
    /// Why it is paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<String>,
    /// Periods started at or before this time are past the sample-ratio check: a
    /// person resumed the rollout after seeing them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived_through_ms: Option<u64>,
}

impl Default for State {
    fn default() -> State {
        State::new()
    }
}

impl State {
    /// A rollout at its first stage (`state: null` on the first step means this).
    pub fn new() -> State {
        State {
            stage: 1,
            status: Status::Running,
            checks: 0,
            scales: BTreeMap::new(),
            paused: None,
            waived_through_ms: None,
        }
    }

    /// Whether it has completed or rolled back.
    pub fn ended(&self) -> bool {
        matches!(self.status, Status::Completed | Status::RolledBack)
    }

    /// Pauses a running rollout (a person's pause); an ended one stays ended.
    pub fn pause(&mut self, reason: &str) {
        if self.status == Status::Running {
            self.status = Status::Paused;
            self.paused = Some(reason.to_string());
        }
    }

    /// Resumes a paused rollout. The sample-ratio state of the periods so far is
    /// accepted: only periods started after `now_ms` are checked again. A guardrail
    /// whose interval still lies beyond its threshold trips again on the next step.
    pub fn resume(&mut self, now_ms: u64) {
        if self.status == Status::Paused {
            self.status = Status::Running;
            self.paused = None;
            self.waived_through_ms = Some(now_ms);
        }
    }
}

/// What a step decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Nothing changes.
    Hold,
    /// Set the next stage's split.
    Advance,
    /// Serve the candidate to everyone; the plan ends.
    Complete,
    /// Stop advancing until a person resumes.
    Pause,
    /// Serve the control to everyone; the plan ends.
    Rollback,
}

/// One step's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepOutput {
    /// What to do.
    pub action: Action,
    /// The stage after the action, numbered from 1.
    pub stage: u32,
    /// The candidate's share after the action (0 on rollback, 100 on complete).
    pub percent: Percent,
    /// One line for the audit log: the action and its evidence.
    pub reason: String,
    /// The state to pass to the next step.
    pub state: State,
    /// The numbers behind the decision.
    pub evidence: Evidence,
}
