//! The rollout decision: its invariants over generated plans and traffic (never skips
//! a stage, never advances before its minimums or on a sample-ratio mismatch, never
//! moves a unit off the candidate, state round-trips as JSON), the plan's refusals,
//! and a few decisions by hand.

use edgeprompt::manifest::MetricKind;
use edgeprompt::rollout::{
    self, Action, Guardrail, MetricSpec, MetricSums, OnTrip, Percent, Period, Plan, RolloutError,
    State, Status, StepInput, StepOutput,
};
use edgeprompt::stats;
use proptest::prelude::*;
use std::collections::BTreeMap;

const HOUR: u64 = 3_600_000;

fn metrics() -> BTreeMap<String, MetricSpec> {
    let spec = |kind, higher_is_better| MetricSpec {
        kind,
        higher_is_better,
    };
    BTreeMap::from([
        ("resolved".to_string(), spec(MetricKind::Binary, true)),
        (
            "latency_ms".to_string(),
            spec(MetricKind::Continuous, false),
        ),
        ("tokens".to_string(), spec(MetricKind::Count, false)),
    ])
}

fn plan(stages: &[f64]) -> Plan {
    Plan {
        candidate: 2,
        control: 1,
        stages: stages.to_vec(),
        min_units: 500,
        min_duration_ms: HOUR,
        guardrails: vec![Guardrail {
            metric: "resolved".into(),
            max_regression: 0.0,
            mde: None,
        }],
        alpha: 0.05,
        on_trip: OnTrip::Rollback,
    }
}

fn percent_of(plan: &Plan, stage: u32) -> f64 {
    plan.stages[stage as usize - 1]
}

fn period(plan: &Plan, stage: u32, started_ms: u64) -> Period {
    let pct = percent_of(plan, stage);
    Period {
        stage,
        weights: BTreeMap::from([(1, 100.0 - pct), (2, pct)]),
        started_ms,
        versions: BTreeMap::new(),
    }
}

/// One hour of traffic into a period: exposed units per version, and each metric's
/// sums drawn deterministically from rates.
#[derive(Debug, Clone)]
struct Hour {
    units: u64,
    /// The candidate's share of units against its weight (1: as configured).
    skew: f64,
    /// Binary success rate per version: control, candidate.
    rates: (f64, f64),
    /// Continuous mean per version.
    means: (f64, f64),
    /// How long the hour lasts (steps are not always an hour apart).
    ms: u64,
}

fn add(p: &mut Period, version: u32, n: u64, rate: f64, mean: f64) {
    let v = p.versions.entry(version).or_default();
    v.exposed_units += n;
    let s = (n as f64 * rate).round();
    let m = v.metrics.entry("resolved".into()).or_default();
    m.units += n;
    m.sum += s;
    m.sum_sq += s;
    // Half the units report latency: values mean +- 100, alternating.
    let reporting = n / 2;
    let l = v.metrics.entry("latency_ms".into()).or_default();
    l.units += reporting;
    l.sum += mean * reporting as f64;
    l.sum_sq += reporting as f64 * (mean * mean + 100.0 * 100.0);
    // Tokens: one per unit, two for a tenth.
    let t = v.metrics.entry("tokens".into()).or_default();
    let twos = n / 10;
    t.units += n;
    t.sum += (n + twos) as f64;
    t.sum_sq += (n - twos) as f64 + 4.0 * twos as f64;
}

fn pour(p: &mut Period, h: &Hour) {
    let share = p.weights.get(&2).copied().unwrap_or(0.0) / 100.0;
    let to_candidate = ((h.units as f64 * share * h.skew).round() as u64).min(h.units);
    add(p, 1, h.units - to_candidate, h.rates.0, h.means.0);
    add(p, 2, to_candidate, h.rates.1, h.means.1);
}

/// What the test itself finds in the periods: a mismatch by Pearson's chi-square at
/// p < 0.001 where every weighted version expects at least 5 units.
fn independent_srm(periods: &[Period]) -> bool {
    periods.iter().any(|p| {
        let versions: Vec<u32> = p.weights.keys().copied().collect();
        let observed: Vec<u64> = versions
            .iter()
            .map(|v| p.versions.get(v).map_or(0, |t| t.exposed_units))
            .collect();
        let bp: Vec<u16> = versions
            .iter()
            .map(|v| (p.weights[v] * 100.0).round() as u16)
            .collect();
        let total: u64 = observed.iter().sum();
        let enough = bp
            .iter()
            .filter(|&&w| w > 0)
            .all(|&w| total as f64 * f64::from(w) / 10_000.0 >= 5.0);
        enough && stats::srm(&observed, &bp).is_some_and(|s| s.mismatch)
    })
}

fn step(input: &StepInput) -> StepOutput {
    let out = rollout::step(input).unwrap();
    // The JSON line path answers exactly the same.
    let line = serde_json::to_string(input).unwrap();
    assert_eq!(
        rollout::step_json(&line).unwrap(),
        serde_json::to_string(&out).unwrap()
    );
    out
}

fn stages_strategy() -> impl Strategy<Value = Vec<f64>> {
    proptest::sample::subsequence(vec![0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 75.0], 1..5).prop_map(
        |mut s| {
            s.push(100.0);
            s
        },
    )
}

fn plan_strategy() -> impl Strategy<Value = Plan> {
    let guardrail = (
        prop_oneof![Just("resolved"), Just("latency_ms"), Just("tokens")],
        prop_oneof![Just(0.0), 0.0..0.05f64],
        proptest::option::of(prop_oneof![Just(0.05), Just(50.0), Just(0.2)]),
    )
        .prop_map(|(m, r, mde)| Guardrail {
            metric: m.into(),
            max_regression: r,
            mde,
        });
    (
        stages_strategy(),
        prop_oneof![2 => 0u64..200, 1 => 0u64..3000],
        prop_oneof![Just(0), Just(HOUR), Just(2 * HOUR)],
        proptest::collection::vec(guardrail, 0..3),
        prop_oneof![Just(0.05), Just(0.2)],
        prop_oneof![Just(OnTrip::Rollback), Just(OnTrip::Pause)],
    )
        .prop_map(|(stages, min_units, min_duration_ms, gs, alpha, on_trip)| {
            let mut guardrails: Vec<Guardrail> = Vec::new();
            for g in gs {
                if !guardrails.iter().any(|o| o.metric == g.metric) {
                    guardrails.push(g);
                }
            }
            Plan {
                min_units,
                min_duration_ms,
                guardrails,
                alpha,
                on_trip,
                ..plan(&stages)
            }
        })
}

fn hour_strategy() -> impl Strategy<Value = Hour> {
    (
        prop_oneof![Just(0u64), 1u64..50, 200u64..20_000],
        prop_oneof![4 => Just(1.0), 1 => 0.3..1.7f64],
        (0.2..0.8f64, 0.2..0.8f64),
        (500.0..900.0f64, 500.0..1000.0f64),
        prop_oneof![Just(HOUR), 1u64..3 * HOUR],
    )
        .prop_map(|(units, skew, rates, means, ms)| Hour {
            units,
            skew,
            rates,
            means,
            ms,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Drives a rollout hour by hour as the control plane would and checks each step.
    #[test]
    fn steps_keep_the_invariants(plan in plan_strategy(), hours in proptest::collection::vec(hour_strategy(), 1..24)) {
        let metrics = metrics();
        let mut periods = vec![period(&plan, 1, 0)];
        let mut state: Option<State> = None;
        let (mut now, mut last_percent) = (0u64, percent_of(&plan, 1));
        for h in &hours {
            now += h.ms;
            if let Some(p) = periods.last_mut() {
                pour(p, h);
            }
            let before = state.clone().unwrap_or_default();
            let input = StepInput { plan: plan.clone(), metrics: metrics.clone(), state: state.clone(), now_ms: now, periods: periods.clone() };
            let out = step(&input);
            let percent = f64::from(out.percent.0) / 100.0;

            // The state round-trips as JSON.
            let text = serde_json::to_string(&out.state).unwrap();
            prop_assert_eq!(serde_json::from_str::<State>(&text).unwrap(), out.state.clone());

            // Never skips a stage: the same one, or the next after an advance.
            match out.action {
                Action::Advance | Action::Complete => prop_assert_eq!(out.stage, before.stage + 1),
                _ => prop_assert_eq!(out.stage, before.stage),
            }
            if matches!(out.action, Action::Advance | Action::Complete) {
                // Never before the stage's minimums.
                let here: Vec<&Period> = periods.iter().filter(|p| p.stage == before.stage).collect();
                let units: u64 = here.iter().map(|p| p.versions.get(&2).map_or(0, |v| v.exposed_units)).sum();
                let start = here.iter().map(|p| p.started_ms).min().unwrap();
                prop_assert!(units >= plan.min_units, "advanced with {units} units");
                prop_assert!(now - start >= plan.min_duration_ms, "advanced after {} ms", now - start);
                // Never on a sample-ratio mismatch, nor on a tripped guardrail.
                prop_assert!(!independent_srm(&periods), "advanced on a mismatch: {}", out.reason);
                prop_assert!(out.evidence.guardrails.iter().all(|g| !g.tripped));
                prop_assert_eq!(before.status, Status::Running);
            }
            // Never moves a unit off the candidate: the share only grows, except to 0
            // on a rollback, which ends the rollout.
            match out.action {
                Action::Rollback => prop_assert_eq!(percent, 0.0),
                Action::Complete => prop_assert_eq!(percent, 100.0),
                _ if before.status == Status::RolledBack => prop_assert_eq!(percent, 0.0),
                _ => {
                    prop_assert!(percent >= last_percent, "{} -> {}", last_percent, percent);
                    prop_assert_eq!(percent, percent_of(&plan, out.stage));
                }
            }
            if out.action == Action::Rollback {
                prop_assert!(out.evidence.guardrails.iter().any(|g| g.tripped));
                prop_assert_eq!(plan.on_trip, OnTrip::Rollback);
            }
            last_percent = percent;
            if out.action == Action::Advance {
                periods.push(period(&plan, out.stage, now));
            }
            state = Some(out.state);
        }
    }

    /// A plan with one field broken is refused with an error naming that field.
    #[test]
    fn bad_plans_name_the_field(stages in stages_strategy(), fault in 0usize..12) {
        let good = plan(&stages);
        prop_assert!(good.check(&metrics()).is_ok());
        let mut bad = good.clone();
        let field = match fault {
            0 => { bad.stages.reverse(); "plan.stages[1]".to_string() }
            1 => { bad.stages.pop(); "plan.stages".into() }
            2 => { let n = bad.stages.len(); bad.stages[n - 1] = 99.0; if n >= 2 && bad.stages[n - 2] >= 99.0 { format!("plan.stages[{}]", n - 1) } else { "plan.stages".into() } }
            3 => { bad.alpha = 0.0; "plan.alpha".into() }
            4 => { bad.alpha = 1.0; "plan.alpha".into() }
            5 => { bad.guardrails[0].metric = "nope".into(); "plan.guardrails[0].metric".into() }
            6 => { bad.control = bad.candidate; "plan.control".into() }
            7 => { bad.stages.insert(0, 0.0); "plan.stages[0]".into() }
            8 => { bad.stages[0] = 1.234; "plan.stages[0]".into() }
            9 => { bad.guardrails[0].max_regression = -1.0; "plan.guardrails[0].max_regression".into() }
            10 => { bad.guardrails.push(bad.guardrails[0].clone()); "plan.guardrails[1].metric".into() }
            _ => { bad.stages = vec![100.0]; "plan.stages".into() }
        };
        match bad.check(&metrics()) {
            Err(RolloutError::Plan { field: f, .. }) => prop_assert_eq!(f, field),
            other => prop_assert!(false, "{:?} for fault {}", other, fault),
        }
        // The step refuses it alike.
        let input = StepInput { plan: bad, metrics: metrics(), state: None, now_ms: 0, periods: vec![] };
        let refused = matches!(rollout::step(&input), Err(RolloutError::Plan { .. }));
        prop_assert!(refused);
    }
}

/// A period with `n` units a version at the given success rates.
fn filled(plan: &Plan, stage: u32, started_ms: u64, n: (u64, u64), rates: (f64, f64)) -> Period {
    let mut p = period(plan, stage, started_ms);
    for (v, n, r) in [(1, n.0, rates.0), (2, n.1, rates.1)] {
        let t = p.versions.entry(v).or_default();
        t.exposed_units = n;
        let s = (n as f64 * r).round();
        t.metrics.insert(
            "resolved".into(),
            MetricSums {
                units: n,
                sum: s,
                sum_sq: s,
            },
        );
    }
    p
}

fn input(plan: &Plan, state: Option<State>, now_ms: u64, periods: Vec<Period>) -> StepInput {
    StepInput {
        plan: plan.clone(),
        metrics: metrics(),
        state,
        now_ms,
        periods,
    }
}

#[test]
fn a_clear_regression_rolls_back_with_its_evidence() {
    let plan = plan(&[10.0, 50.0, 100.0]);
    let p = filled(&plan, 1, 0, (18_000, 2_000), (0.5, 0.4));
    let out = rollout::step(&input(&plan, None, HOUR, vec![p])).unwrap();
    assert_eq!(out.action, Action::Rollback);
    assert_eq!((out.stage, out.percent), (1, Percent(0)));
    assert_eq!(out.state.status, Status::RolledBack);
    assert!(
        out.reason
            .starts_with("stage 1 (10%) -> rollback: resolved -10.0 pt ["),
        "{}",
        out.reason
    );
    assert!(out.reason.ends_with("lies below +0.0 pt"), "{}", out.reason);
    // An ended rollout only holds.
    let again = rollout::step(&input(&plan, Some(out.state), 2 * HOUR, vec![])).unwrap();
    assert_eq!((again.action, again.percent), (Action::Hold, Percent(0)));
}

#[test]
fn an_equal_candidate_advances_then_completes() {
    let plan = plan(&[10.0, 50.0, 100.0]);
    let first = filled(&plan, 1, 0, (18_000, 2_000), (0.5, 0.5));
    // Not before an hour has passed.
    let early = rollout::step(&input(&plan, None, HOUR - 1, vec![first.clone()])).unwrap();
    assert_eq!(early.action, Action::Hold);
    assert!(
        early
            .reason
            .contains("2000 of 500 candidate units, 0.9 of 1 h"),
        "{}",
        early.reason
    );
    let out = rollout::step(&input(&plan, None, HOUR, vec![first.clone()])).unwrap();
    assert_eq!(
        (out.action, out.stage, out.percent),
        (Action::Advance, 2, Percent(5000))
    );
    assert!(
        out.reason
            .starts_with("stage 1 -> 2 (50%): resolved +0.0 pt ["),
        "{}",
        out.reason
    );
    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(json["percent"], 50);
    assert_eq!(json["action"], "advance");
    // The new stage's period has no units yet: hold.
    let second = period(&plan, 2, HOUR);
    let held = rollout::step(&input(
        &plan,
        Some(out.state.clone()),
        HOUR,
        vec![first.clone(), second],
    ))
    .unwrap();
    assert_eq!(held.action, Action::Hold);
    let second = filled(&plan, 2, HOUR, (10_000, 10_000), (0.5, 0.5));
    let done = rollout::step(&input(
        &plan,
        Some(out.state),
        2 * HOUR,
        vec![first, second],
    ))
    .unwrap();
    assert_eq!(
        (done.action, done.stage, done.percent),
        (Action::Complete, 3, Percent(10_000))
    );
    assert_eq!(done.state.status, Status::Completed);
}

#[test]
fn a_mismatch_pauses_and_a_resume_accepts_it() {
    let plan = plan(&[10.0, 50.0, 100.0]);
    let skewed = filled(&plan, 1, 0, (18_000, 1_000), (0.5, 0.5));
    let out = rollout::step(&input(&plan, None, HOUR, vec![skewed.clone()])).unwrap();
    assert_eq!((out.action, out.percent), (Action::Pause, Percent(1000)));
    assert!(
        out.reason
            .contains("sample-ratio mismatch in stage 1's period (v1 18000, v2 1000 exposed units"),
        "{}",
        out.reason
    );
    // Paused: holds, whatever the minimums.
    let held = rollout::step(&input(
        &plan,
        Some(out.state.clone()),
        2 * HOUR,
        vec![skewed.clone()],
    ))
    .unwrap();
    assert_eq!(held.action, Action::Hold);
    assert!(
        held.reason.starts_with("stage 1 (10%) is paused: "),
        "{}",
        held.reason
    );
    // A person resumes: the period so far is accepted, and the stage advances.
    let mut state = held.state;
    state.resume(2 * HOUR);
    let on = rollout::step(&input(&plan, Some(state), 3 * HOUR, vec![skewed])).unwrap();
    assert_eq!(on.action, Action::Advance);
    assert!(on.evidence.srm[0].waived && !on.evidence.srm[0].mismatch);
}

#[test]
fn a_trip_pauses_when_the_plan_says_so() {
    let mut plan = plan(&[10.0, 50.0, 100.0]);
    plan.on_trip = OnTrip::Pause;
    let p = filled(&plan, 1, 0, (18_000, 2_000), (0.5, 0.4));
    let out = rollout::step(&input(&plan, None, HOUR, vec![p.clone()])).unwrap();
    assert_eq!((out.action, out.percent), (Action::Pause, Percent(1000)));
    let again = rollout::step(&input(&plan, Some(out.state), 2 * HOUR, vec![p])).unwrap();
    assert_eq!(again.action, Action::Hold);
}

#[test]
fn a_tolerated_regression_does_not_trip() {
    let mut plan = plan(&[50.0, 100.0]);
    plan.guardrails[0].max_regression = 0.05;
    // 2 points worse, measured tightly: inside the 5 points tolerated.
    let p = filled(&plan, 1, 0, (500_000, 500_000), (0.5, 0.48));
    let out = rollout::step(&input(&plan, None, HOUR, vec![p])).unwrap();
    assert_eq!(out.action, Action::Complete, "{}", out.reason);
    let g = &out.evidence.guardrails[0];
    assert!(
        g.ci.unwrap()[1] < 0.0 && g.threshold == -0.05 && !g.tripped,
        "{g:?}"
    );
}

#[test]
fn the_scale_is_fixed_once_and_then_kept() {
    let plan = plan(&[10.0, 50.0, 100.0]);
    let p = filled(&plan, 1, 0, (50, 5), (0.5, 0.5));
    let out = rollout::step(&input(&plan, None, HOUR, vec![p])).unwrap();
    assert!(out.state.scales.is_empty(), "too few control units yet");
    let p = filled(&plan, 1, 0, (1_000, 100), (0.6, 0.6));
    let out = rollout::step(&input(&plan, Some(out.state), HOUR, vec![p])).unwrap();
    assert!((out.state.scales["resolved"] - 0.06).abs() < 1e-12);
    let p = filled(&plan, 1, 0, (2_000, 200), (0.3, 0.3));
    let out = rollout::step(&input(&plan, Some(out.state), HOUR, vec![p])).unwrap();
    assert!((out.state.scales["resolved"] - 0.06).abs() < 1e-12);
}

#[test]
fn inputs_that_contradict_the_plan_are_refused() {
    let plan = plan(&[10.0, 50.0, 100.0]);
    let ahead = period(&plan, 2, 0);
    let err = rollout::step(&input(&plan, None, 0, vec![ahead])).unwrap_err();
    assert!(
        matches!(&err, RolloutError::Input { field, .. } if field == "periods[0].stage"),
        "{err}"
    );
    let mut odd = period(&plan, 1, 0);
    odd.weights.insert(1, 80.0);
    let err = rollout::step(&input(&plan, None, 0, vec![odd])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "periods[0].weights: weights sum to 90, expected 100"
    );
    let state = State {
        stage: 4,
        ..State::new()
    };
    let err = rollout::step(&input(&plan, Some(state), 0, vec![])).unwrap_err();
    assert!(
        matches!(&err, RolloutError::Input { field, .. } if field == "state.stage"),
        "{err}"
    );
    let err = rollout::step_json("{\"plan\": 1}").unwrap_err();
    assert!(matches!(err, RolloutError::Json(_)));
}

#[test]
fn the_issue_example_line_steps() {
    let line = r#"{"plan": {"candidate": 2, "control": 1, "stages": [1, 10, 50, 100], "min_units": 500, "min_duration_ms": 3600000, "guardrails": [{"metric": "resolved", "max_regression": 0}], "alpha": 0.05, "on_trip": "rollback"},
        "metrics": {"resolved": {"kind": "binary", "higher_is_better": true}}, "state": null, "now_ms": 3600000,
        "periods": [{"stage": 1, "weights": {"1": 99, "2": 1}, "started_ms": 0, "versions": {
            "1": {"exposed_units": 19800, "metrics": {"resolved": {"units": 19800, "sum": 9900, "sum_sq": 9900}}},
            "2": {"exposed_units": 600, "metrics": {"resolved": {"units": 600, "sum": 300, "sum_sq": 300}}}}}]}"#;
    // 600 candidate units against 1% of 20,400 expected: a mismatch.
    let out: serde_json::Value = serde_json::from_str(&rollout::step_json(line).unwrap()).unwrap();
    assert_eq!(out["action"], "pause");
    assert_eq!(out["percent"], 1);
    assert_eq!(out["state"]["status"], "paused");
    let fine = line.replace("\"exposed_units\": 600", "\"exposed_units\": 200");
    let out: serde_json::Value = serde_json::from_str(&rollout::step_json(&fine).unwrap()).unwrap();
    assert_eq!(out["action"], "hold", "{out}");
    assert_eq!(out["stage"], 1);
}
