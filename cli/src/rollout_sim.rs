//! `edgeprompt rollout simulate`: the engine's rollout step over simulated traffic.
//!
//! Each hour, `--units-per-hour` new units reach the label and the split sends each to
//! the candidate with the stage's probability (a binomial draw); their outcomes are
//! drawn per version and added to the current period's unit-level sums, exactly as
//! the metrics store would hold them; then the controller steps once. An advance
//! starts a new period at the next stage's split. A run ends when the rollout
//! completes, rolls back or pauses (a person would look), or after `--days`.

use crate::Failure;
use edgeprompt::manifest::MetricKind;
use edgeprompt::rollout::{
    self, Action, Guardrail, MetricSpec, OnTrip, Period, Plan, State, StepInput,
};
use rand::SeedableRng;
use rand_distr::{Binomial, Distribution, LogNormal};
use rand_pcg::Pcg64;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const HOUR_MS: u64 = 3_600_000;
const CONTROL: u32 = 1;
const CANDIDATE: u32 = 2;
const STAGES: [f64; 4] = [1.0, 10.0, 50.0, 100.0];

/// Arguments of `rollout simulate`.
#[derive(clap::Args)]
pub struct Args {
    /// Runs per scenario.
    #[arg(long, default_value_t = 1000)]
    runs: u64,
    /// The seed: the same seed gives the same figures.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A scenario to run (repeatable; default: all of them).
    #[arg(long = "scenario", value_enum)]
    scenarios: Vec<Name>,
    /// New units through the label each hour.
    #[arg(long, default_value_t = 20_000)]
    units_per_hour: u64,
    /// How long a run may go on, in days (one step an hour).
    #[arg(long, default_value_t = 7)]
    days: u64,
    /// Print the figures as one JSON document.
    #[arg(long)]
    json: bool,
    /// Exit 1 when a scenario misses a goal.
    #[arg(long)]
    check: bool,
}

/// The scenarios.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Name {
    /// Both versions resolve 50%.
    Aa,
    /// The candidate resolves 45% against the control's 50%.
    Regression,
    /// Latency (lower is better), log-normal with mean 800 ms and sd 300; the candidate 10% slower.
    Latency,
    /// Both resolve 50%, and half the candidate's exposure events are lost.
    Srm,
    /// A/A held at the first stage for the whole run (no advance): false alarms over every hourly check.
    AaHold,
}

#[derive(Clone, Copy)]
enum Model {
    /// Success rates of control and candidate.
    Binary(f64, f64),
    /// Log-normal per-unit values: the control's mean and sd, the candidate's factor.
    LogNormal { mean: f64, sd: f64, factor: f64 },
}

struct Scenario {
    name: Name,
    title: &'static str,
    model: Model,
    /// The share of the candidate's units whose events are all lost.
    loss: f64,
    /// Never advance: the stage's minimums cannot be met.
    hold: bool,
}

fn scenario(name: Name) -> Scenario {
    let base = |title, model| Scenario {
        name,
        title,
        model,
        loss: 0.0,
        hold: false,
    };
    match name {
        Name::Aa => base("A/A: both versions resolve 50%", Model::Binary(0.5, 0.5)),
        Name::Regression => base("regression: resolved 50% -> 45%", Model::Binary(0.5, 0.45)),
        Name::Latency => base(
            "latency: mean 800 ms, sd 300, +10% on the candidate",
            Model::LogNormal {
                mean: 800.0,
                sd: 300.0,
                factor: 1.1,
            },
        ),
        Name::Srm => Scenario {
            loss: 0.5,
            ..base(
                "sample-ratio mismatch: half the candidate's exposures lost",
                Model::Binary(0.5, 0.5),
            )
        },
        Name::AaHold => Scenario {
            hold: true,
            ..base(
                "A/A held at stage 1 for the whole run (measured, no goal)",
                Model::Binary(0.5, 0.5),
            )
        },
    }
}

const ALL: [Name; 5] = [
    Name::Aa,
    Name::Regression,
    Name::Latency,
    Name::Srm,
    Name::AaHold,
];

/// How one run ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Completed,
    RolledBack,
    Paused,
    Running,
}

struct RunResult {
    end: End,
    /// Hours until it ended (or the run's length).
    hours: u64,
    /// The stage it ended at (completion: the last).
    stage: u32,
    /// Advances made (completion counts as one).
    advances: u32,
}

fn plan(s: &Scenario) -> (Plan, BTreeMap<String, MetricSpec>) {
    let (metric, spec) = match s.model {
        Model::Binary(..) => (
            "resolved",
            MetricSpec {
                kind: MetricKind::Binary,
                higher_is_better: true,
            },
        ),
        Model::LogNormal { .. } => (
            "latency_ms",
            MetricSpec {
                kind: MetricKind::Continuous,
                higher_is_better: false,
            },
        ),
    };
    let plan = Plan {
        candidate: CANDIDATE,
        control: CONTROL,
        stages: STAGES.to_vec(),
        min_units: if s.hold { u64::MAX } else { 500 },
        min_duration_ms: HOUR_MS,
        guardrails: vec![Guardrail {
            metric: metric.into(),
            max_regression: 0.0,
            mde: None,
        }],
        alpha: 0.05,
        on_trip: OnTrip::Rollback,
    };
    (plan, BTreeMap::from([(metric.to_string(), spec)]))
}

fn period(stage: u32, started_ms: u64) -> Period {
    let pct = STAGES
        .get(stage.saturating_sub(1) as usize)
        .copied()
        .unwrap_or(100.0);
    Period {
        stage,
        weights: BTreeMap::from([(CONTROL, 100.0 - pct), (CANDIDATE, pct)]),
        started_ms,
        versions: BTreeMap::new(),
    }
}

/// Adds `n` new units of one version to a period, their outcomes drawn from `model`.
fn add_units(
    rng: &mut Pcg64,
    p: &mut Period,
    metric: &str,
    (version, n): (u32, u64),
    model: Model,
) -> Result<(), Failure> {
    let bad = |e: &dyn std::fmt::Display| Failure::fail(format!("simulation: {e}"));
    let totals = p.versions.entry(version).or_default();
    let sums = totals.metrics.entry(metric.to_string()).or_default();
    totals.exposed_units += n;
    sums.units += n;
    match model {
        Model::Binary(control, candidate) => {
            let rate = if version == CANDIDATE {
                candidate
            } else {
                control
            };
            let successes = Binomial::new(n, rate).map_err(|e| bad(&e))?.sample(rng) as f64;
            sums.sum += successes;
            sums.sum_sq += successes;
        }
        Model::LogNormal { mean, sd, factor } => {
            // Every unit reports its latency: log-normal with the given mean and sd.
            let s2 = (1.0 + (sd / mean).powi(2)).ln();
            let dist = LogNormal::new(mean.ln() - s2 / 2.0, s2.sqrt()).map_err(|e| bad(&e))?;
            let f = if version == CANDIDATE { factor } else { 1.0 };
            for _ in 0..n {
                let x = dist.sample(rng) * f;
                sums.sum += x;
                sums.sum_sq += x * x;
            }
        }
    }
    Ok(())
}

fn run_once(s: &Scenario, a: &Args, run: u64) -> Result<RunResult, Failure> {
    let (plan, metrics) = plan(s);
    let metric = plan
        .guardrails
        .first()
        .map(|g| g.metric.clone())
        .unwrap_or_default();
    // One stream per (seed, scenario, run): any run can be replayed alone.
    let stream = a.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((s.name as u64) << 40) ^ run;
    let mut rng = Pcg64::seed_from_u64(stream);
    let mut periods = vec![period(1, 0)];
    let mut state: Option<State> = None;
    let mut advances = 0;
    let hours = a.days * 24;
    for hour in 1..=hours {
        let Some(current) = periods.last_mut() else {
            break;
        };
        let share = current.weights.get(&CANDIDATE).copied().unwrap_or(0.0) / 100.0;
        let to_candidate = Binomial::new(a.units_per_hour, share)
            .map_err(|e| Failure::fail(format!("simulation: {e}")))?
            .sample(&mut rng);
        // Lost units: every event of theirs (exposures and outcomes) is lost.
        let seen = Binomial::new(to_candidate, 1.0 - s.loss)
            .map_err(|e| Failure::fail(format!("simulation: {e}")))?
            .sample(&mut rng);
        let control = (CONTROL, a.units_per_hour - to_candidate);
        add_units(&mut rng, current, &metric, control, s.model)?;
        add_units(&mut rng, current, &metric, (CANDIDATE, seen), s.model)?;
        let now_ms = hour * HOUR_MS;
        let input = StepInput {
            plan: plan.clone(),
            metrics: metrics.clone(),
            state: state.take(),
            now_ms,
            periods: periods.clone(),
        };
        let out =
            rollout::step(&input).map_err(|e| Failure::fail(format!("simulation: step: {e}")))?;
        if matches!(out.action, Action::Advance | Action::Complete) {
            advances += 1;
        }
        let end = |end| RunResult {
            end,
            hours: hour,
            stage: out.stage,
            advances,
        };
        match out.action {
            Action::Hold => {}
            Action::Advance => periods.push(period(out.stage, now_ms)),
            Action::Complete => return Ok(end(End::Completed)),
            Action::Rollback => return Ok(end(End::RolledBack)),
            Action::Pause => return Ok(end(End::Paused)),
        }
        state = Some(out.state);
    }
    Ok(RunResult {
        end: End::Running,
        hours,
        stage: state.map_or(1, |s| s.stage),
        advances,
    })
}

/// A figure against its goal (`None`: measured only).
struct Figure {
    what: &'static str,
    share: f64,
    goal: Option<(Cmp, f64)>,
}

#[derive(Clone, Copy)]
enum Cmp {
    AtMost,
    AtLeast,
}

impl Figure {
    fn met(&self) -> bool {
        match self.goal {
            None => true,
            Some((Cmp::AtMost, g)) => self.share <= g,
            Some((Cmp::AtLeast, g)) => self.share >= g,
        }
    }
}

fn figures(name: Name, rs: &[RunResult]) -> Vec<Figure> {
    let n = rs.len().max(1) as f64;
    let share = |f: &dyn Fn(&RunResult) -> bool| rs.iter().filter(|r| f(r)).count() as f64 / n;
    let fig = |what, share, goal| Figure { what, share, goal };
    // Stages 1, 10, 50, 100: the 50% stage is the third.
    let before_half = |r: &RunResult| r.end == End::RolledBack && r.stage < 3;
    match name {
        Name::Aa => vec![
            fig("rolled back", share(&|r| r.end == End::RolledBack), None),
            fig("paused", share(&|r| r.end == End::Paused), None),
            fig(
                "rolled back or paused",
                share(&|r| matches!(r.end, End::RolledBack | End::Paused)),
                Some((Cmp::AtMost, 0.05)),
            ),
            fig(
                "completed within the run",
                share(&|r| r.end == End::Completed),
                Some((Cmp::AtLeast, 0.90)),
            ),
        ],
        Name::Regression => vec![
            fig(
                "rolled back",
                share(&|r| r.end == End::RolledBack),
                Some((Cmp::AtLeast, 0.98)),
            ),
            fig(
                "rolled back before the 50% stage starts",
                share(&before_half),
                Some((Cmp::AtLeast, 0.90)),
            ),
        ],
        Name::Latency => vec![
            fig(
                "caught (rolled back)",
                share(&|r| r.end == End::RolledBack),
                Some((Cmp::AtLeast, 0.95)),
            ),
            fig(
                "caught before the 50% stage starts",
                share(&before_half),
                None,
            ),
        ],
        Name::Srm => vec![
            fig(
                "paused before any advance",
                share(&|r| r.end == End::Paused && r.advances == 0),
                Some((Cmp::AtLeast, 0.95)),
            ),
            fig("rolled back", share(&|r| r.end == End::RolledBack), None),
        ],
        Name::AaHold => vec![
            fig(
                "paused (a false sample-ratio alarm)",
                share(&|r| r.end == End::Paused),
                None,
            ),
            fig(
                "rolled back (a false trip)",
                share(&|r| r.end == End::RolledBack),
                None,
            ),
        ],
    }
}

/// Median hours to completion, `None` when no run completed.
fn median_hours(rs: &[RunResult], end: End) -> Option<u64> {
    let mut hs: Vec<u64> = rs
        .iter()
        .filter(|r| r.end == end)
        .map(|r| r.hours)
        .collect();
    hs.sort_unstable();
    hs.get(hs.len() / 2).copied()
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Runs the scenarios and prints their figures.
pub fn run(a: Args) -> Result<(), Failure> {
    if a.runs == 0 || a.days == 0 || a.units_per_hour == 0 {
        return Err(Failure::Usage(
            "--runs, --days and --units-per-hour must be at least 1".into(),
        ));
    }
    let names: Vec<Name> = if a.scenarios.is_empty() {
        ALL.to_vec()
    } else {
        a.scenarios.clone()
    };
    let mut report = Vec::new();
    let mut all_met = true;
    if !a.json {
        crate::out(&format!(
            "{} runs per scenario, seed {}, {} units an hour, a step an hour for up to {} days; stages 1/10/50/100, 500 units and 1 h per stage, alpha 0.05",
            a.runs, a.seed, a.units_per_hour, a.days
        ))?;
    }
    for name in names {
        let s = scenario(name);
        let rs = (0..a.runs)
            .map(|run| run_once(&s, &a, run))
            .collect::<Result<Vec<_>, _>>()?;
        let figs = figures(name, &rs);
        let met = figs.iter().all(Figure::met);
        all_met &= met;
        let completed_h = median_hours(&rs, End::Completed);
        let rolled_h = median_hours(&rs, End::RolledBack);
        let paused_h = median_hours(&rs, End::Paused);
        if a.json {
            report.push(json!({
                "scenario": name_text(name),
                "title": s.title,
                "runs": a.runs,
                "figures": figs.iter().map(|f| json!({
                    "what": f.what,
                    "share": f.share,
                    "goal": f.goal.map(|(c, g)| json!({"cmp": match c { Cmp::AtMost => "<=", Cmp::AtLeast => ">=" }, "share": g})),
                    "met": f.goal.map(|_| f.met()),
                })).collect::<Vec<Value>>(),
                "median_hours": {"completed": completed_h, "rolled_back": rolled_h, "paused": paused_h},
            }));
            continue;
        }
        crate::out(&format!("\n{} ({})", s.title, name_text(name)))?;
        for f in &figs {
            let goal = match f.goal {
                None => "measured".to_string(),
                Some((Cmp::AtMost, g)) => format!("goal <= {}: {}", pct(g), ok(f.met())),
                Some((Cmp::AtLeast, g)) => format!("goal >= {}: {}", pct(g), ok(f.met())),
            };
            crate::out(&format!("  {:<42} {:>7}   {goal}", f.what, pct(f.share)))?;
        }
        let hours = |h: Option<u64>| h.map_or("-".to_string(), |h| format!("{h} h"));
        crate::out(&format!(
            "  median time to: complete {}, roll back {}, pause {}",
            hours(completed_h),
            hours(rolled_h),
            hours(paused_h)
        ))?;
    }
    if a.json {
        crate::out(&json!({"seed": a.seed, "runs": a.runs, "units_per_hour": a.units_per_hour, "days": a.days, "scenarios": report}).to_string())?;
    }
    if a.check && !all_met {
        return Err(Failure::fail("rollout simulate: a goal was missed"));
    }
    Ok(())
}

fn ok(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

fn name_text(n: Name) -> &'static str {
    match n {
        Name::Aa => "aa",
        Name::Regression => "regression",
        Name::Latency => "latency",
        Name::Srm => "srm",
        Name::AaHold => "aa-hold",
    }
}
