//! The decision: from a plan, the state and the periods' aggregates to one action.

use super::evidence::{self, Evidence, GuardrailEvidence};
use super::input::StepInput;
use super::plan::{OnTrip, Percent};
use super::state::{Action, State, Status, StepOutput};
use super::RolloutError;
use crate::manifest::MetricKind;

/// One controller step: hold, advance, complete, pause or roll back.
///
/// In order: an ended rollout holds; a tripped guardrail rolls back (or pauses, as the
/// plan says); a paused rollout holds; a sample-ratio mismatch in any period pauses;
/// a stage short of its minimums holds; otherwise the rollout advances one stage, and
/// completes when that stage is the last (100%).
pub fn step(input: &StepInput) -> Result<StepOutput, RolloutError> {
    let plan = &input.plan;
    let stages = plan.check(&input.metrics)?;
    let mut state = input.state.clone().unwrap_or_default();
    let last = stages.len() as u32;
    let stage_bp = |s: u32| {
        stages
            .get(s.saturating_sub(1) as usize)
            .copied()
            .unwrap_or_default()
    };
    if state.stage == 0 || state.stage > last {
        return Err(RolloutError::Input {
            field: "state.stage".into(),
            reason: format!("{} is not a stage of the plan (1 to {last})", state.stage),
        });
    }
    let mut weights = Vec::with_capacity(input.periods.len());
    for (i, p) in input.periods.iter().enumerate() {
        if p.stage == 0 || p.stage > state.stage {
            return Err(RolloutError::Input {
                field: format!("periods[{i}].stage"),
                reason: format!(
                    "{} is not a stage the rollout has reached (1 to {})",
                    p.stage, state.stage
                ),
            });
        }
        weights.push(p.weights_bp(i)?);
    }
    let here = Percent(stage_bp(state.stage));
    if state.ended() {
        let percent = Percent(if state.status == Status::Completed {
            10_000
        } else {
            0
        });
        return Ok(StepOutput {
            action: Action::Hold,
            stage: state.stage,
            percent,
            reason: format!("the rollout has ended ({})", ended_word(state.status)),
            state,
            evidence: Evidence::default(),
        });
    }
    state.checks += 1;

    let ev = gather(input, &mut state, &weights);
    let summary = summarise(&ev.guardrails);
    let out = |action, stage, percent, reason: String, state: State| StepOutput {
        action,
        stage,
        percent,
        reason,
        state,
        evidence: ev.clone(),
    };
    let tripped: Vec<&GuardrailEvidence> = ev.guardrails.iter().filter(|g| g.tripped).collect();
    if !tripped.is_empty() {
        let why = tripped
            .iter()
            .map(|g| beyond(g))
            .collect::<Vec<_>>()
            .join("; ");
        let at = format!("stage {} ({here})", state.stage);
        return Ok(match plan.on_trip {
            OnTrip::Rollback => {
                state.status = Status::RolledBack;
                state.paused = None;
                let stage = state.stage;
                out(
                    Action::Rollback,
                    stage,
                    Percent(0),
                    format!("{at} -> rollback: {why}"),
                    state,
                )
            }
            OnTrip::Pause if state.status == Status::Paused => paused_hold(&out, state, here),
            OnTrip::Pause => {
                let reason = format!("{at} paused: {why}");
                state.pause(&reason);
                let stage = state.stage;
                out(Action::Pause, stage, here, reason, state)
            }
        });
    }
    if state.status == Status::Paused {
        return Ok(paused_hold(&out, state, here));
    }
    if let Some(s) = ev.srm.iter().find(|s| s.mismatch) {
        let counts = s
            .exposed
            .iter()
            .map(|(v, n)| format!("v{v} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let reason = format!(
            "stage {} ({here}) paused: sample-ratio mismatch in stage {}'s period ({counts} exposed units, p = {:.2e}); {summary}",
            state.stage,
            s.stage,
            s.p_value.unwrap_or(0.0)
        );
        state.pause(&reason);
        let stage = state.stage;
        return Ok(out(Action::Pause, stage, here, reason, state));
    }
    let units_ok = ev.stage_units >= plan.min_units;
    let time_ok = ev.stage_ms >= plan.min_duration_ms && has_period(input, state.stage);
    if !(units_ok && time_ok) {
        let reason = format!(
            "stage {} ({here}) holds: {} of {} candidate units, {} of {} h; {summary}",
            state.stage,
            ev.stage_units,
            plan.min_units,
            hours(ev.stage_ms),
            hours(plan.min_duration_ms),
        );
        let stage = state.stage;
        return Ok(out(Action::Hold, stage, here, reason, state));
    }
    let from = state.stage;
    state.stage += 1;
    let next = Percent(stage_bp(state.stage));
    let stage = state.stage;
    if state.stage == last {
        state.status = Status::Completed;
        let reason = format!("stage {from} -> {stage} ({next}), complete: {summary}");
        return Ok(out(Action::Complete, stage, next, reason, state));
    }
    let reason = format!("stage {from} -> {stage} ({next}): {summary}");
    Ok(out(Action::Advance, stage, next, reason, state))
}

/// The evidence of this step; fixes each guardrail's scale the first time it can.
fn gather(input: &StepInput, state: &mut State, weights: &[Vec<(u32, u16)>]) -> Evidence {
    let plan = &input.plan;
    let per_guardrail = plan.alpha / plan.guardrails.len().max(1) as f64;
    let versions = (plan.control, plan.candidate);
    let mut guardrails = Vec::with_capacity(plan.guardrails.len());
    for g in &plan.guardrails {
        let Some(&spec) = input.metrics.get(&g.metric) else {
            continue;
        };
        // A plan's own mde always wins; a default scale is fixed once it can be read.
        let scale = match (g.mde, state.scales.get(&g.metric)) {
            (Some(mde), _) => Some(mde),
            (None, Some(&s)) => Some(s),
            (None, None) => {
                let s = evidence::default_scale(g, plan.control, &input.periods);
                if let Some(s) = s {
                    state.scales.insert(g.metric.clone(), s);
                }
                s
            }
        };
        guardrails.push(evidence::guardrail(
            g,
            spec,
            versions,
            &input.periods,
            scale,
            per_guardrail,
        ));
    }
    let srm = input
        .periods
        .iter()
        .zip(weights)
        .map(|(p, w)| {
            let waived = state.waived_through_ms.is_some_and(|t| p.started_ms <= t);
            evidence::sample_ratio(p, w, waived)
        })
        .collect();
    let current = input.periods.iter().filter(|p| p.stage == state.stage);
    let stage_units = current.clone().map(|p| p.exposed(plan.candidate)).sum();
    let stage_ms = current
        .map(|p| p.started_ms)
        .min()
        .map_or(0, |start| input.now_ms.saturating_sub(start));
    Evidence {
        guardrails,
        srm,
        stage_units,
        stage_ms,
    }
}

fn has_period(input: &StepInput, stage: u32) -> bool {
    input.periods.iter().any(|p| p.stage == stage)
}

fn paused_hold<F>(out: &F, state: State, here: Percent) -> StepOutput
where
    F: Fn(Action, u32, Percent, String, State) -> StepOutput,
{
    let reason = format!(
        "stage {} ({here}) is paused: {}",
        state.stage,
        state.paused.as_deref().unwrap_or("by a person")
    );
    out(Action::Hold, state.stage, here, reason, state)
}

fn ended_word(s: Status) -> &'static str {
    match s {
        Status::Completed => "completed",
        Status::RolledBack => "rolled back",
        Status::Running => "running",
        Status::Paused => "paused",
    }
}

/// Hours to a tenth, rounded down, so that a stage short of its hour never reads 1.0.
fn hours(ms: u64) -> String {
    let tenths = ms / 360_000;
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// Each guardrail's difference with its interval: `resolved -0.4 pt [-1.9, +1.1]`.
fn summarise(gs: &[GuardrailEvidence]) -> String {
    if gs.is_empty() {
        return "no guardrails".into();
    }
    gs.iter().map(describe).collect::<Vec<_>>().join("; ")
}

fn describe(g: &GuardrailEvidence) -> String {
    let f = Fmt::for_guardrail(g);
    match (g.estimate, g.ci) {
        (Some(d), Some([lo, hi])) => format!(
            "{} {}{} [{}, {}]",
            g.metric,
            f.num(d),
            f.unit,
            f.num(lo),
            f.num(hi)
        ),
        (Some(d), None) => format!("{} {}{} (no interval yet)", g.metric, f.num(d), f.unit),
        _ => format!("{}: not enough units yet", g.metric),
    }
}

fn beyond(g: &GuardrailEvidence) -> String {
    let f = Fmt::for_guardrail(g);
    let side = if g.higher_is_better { "below" } else { "above" };
    format!(
        "{} lies {side} {}{}",
        describe(g),
        f.num(g.threshold),
        f.unit
    )
}

/// How a guardrail's numbers read: binary ones in percentage points, the others in
/// their own unit with as many decimals as their scale needs.
struct Fmt {
    factor: f64,
    decimals: usize,
    unit: &'static str,
}

impl Fmt {
    fn for_guardrail(g: &GuardrailEvidence) -> Fmt {
        if g.kind == MetricKind::Binary {
            return Fmt {
                factor: 100.0,
                decimals: 1,
                unit: " pt",
            };
        }
        let decimals = match g.scale {
            Some(s) if s > 0.0 => (1.0 - s.log10().floor()).clamp(0.0, 6.0) as usize,
            _ => 2,
        };
        Fmt {
            factor: 1.0,
            decimals,
            unit: "",
        }
    }

    fn num(&self, x: f64) -> String {
        format!("{:+.*}", self.decimals, x * self.factor)
    }
}
