//! Aggregation: shards merge to the single-shard answer, repeats count once, and each
//! unit is one observation.

use edgeprompt::events::{Event, Exposure, Outcome};
use edgeprompt::manifest::MetricKind;
use edgeprompt::metrics::report::observations;
use edgeprompt::metrics::unit::{Batch, UnitState};
use edgeprompt::metrics::{shard, Summary};
use edgeprompt::stats;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};

const HOUR: u64 = 3_600_000;

fn exposure(unit: u32, version: u32, rule: &str, time_ms: u64) -> Event {
    Event::Exposure(Exposure {
        id: format!("e{unit}-{time_ms}"),
        prompt: "p".into(),
        label: "production".into(),
        version,
        rule: rule.into(),
        bucket: 0,
        unit_hash: format!("{unit:032x}"),
        revision: 1,
        period: "0123456789abcdef".into(),
        time_ms,
        location: "test".into(),
        forced: false,
    })
}

fn outcome(
    unit: u32,
    version: u32,
    id: &str,
    metric: &str,
    kind: MetricKind,
    value: f64,
    time_ms: u64,
) -> Event {
    Event::Outcome(Outcome {
        id: edgeprompt::value::canonical::sha256_hex(id.as_bytes()),
        exposure_id: "x".into(),
        prompt: "p".into(),
        label: "production".into(),
        version,
        period: "0123456789abcdef".into(),
        unit_hash: format!("{unit:032x}"),
        forced: false,
        rule: "default".into(),
        metric: metric.into(),
        kind,
        value,
        time_ms,
    })
}

/// A store of one shard: unit states and the summary, as a Durable Object keeps them.
#[derive(Default)]
struct Shard {
    units: HashMap<(String, u32), UnitState>,
    summary: Summary,
}

impl Shard {
    fn apply(&mut self, events: &[Event]) {
        let mut batch = Batch::new(24 * 8);
        for (u, v) in Batch::units_needed(events) {
            if let Some(s) = self.units.get(&(u.clone(), v)) {
                batch.load(&u, v, s.clone());
            }
        }
        for e in events {
            batch.apply(e);
        }
        for (u, v, s) in batch.changed_units() {
            self.units.insert((u.to_string(), v), s.clone());
        }
        for (k, s) in batch.buckets() {
            self.summary.add(k.version, &k.metric, s);
        }
    }
}

fn unit_of(e: &Event) -> &str {
    match e {
        Event::Exposure(x) => &x.unit_hash,
        Event::Outcome(o) => &o.unit_hash,
    }
}

/// Applies `events` in batches of `batch` across `shards` shards and merges.
fn run(events: &[Event], shards: u32, batch: usize) -> Summary {
    let mut stores: Vec<Shard> = (0..shards).map(|_| Shard::default()).collect();
    for chunk in events.chunks(batch.max(1)) {
        let mut by_shard: BTreeMap<u32, Vec<Event>> = BTreeMap::new();
        for e in chunk {
            by_shard
                .entry(shard(unit_of(e), shards))
                .or_default()
                .push(e.clone());
        }
        for (s, evs) in by_shard {
            stores[s as usize].apply(&evs);
        }
    }
    let mut total = Summary::default();
    for s in &stores {
        total.merge(&s.summary);
    }
    total
}

fn kinds() -> [(&'static str, MetricKind); 3] {
    [
        ("ok", MetricKind::Binary),
        ("n", MetricKind::Count),
        ("ms", MetricKind::Continuous),
    ]
}

fn arb_events() -> impl Strategy<Value = Vec<Event>> {
    prop::collection::vec(
        (0u32..40, 1u32..3, 0usize..4, 0u32..6, 0i32..2048, 0u64..5),
        1..200,
    )
    .prop_map(|raw| {
        raw.into_iter()
            .map(|(unit, version, what, id, v, hour)| {
                let t = hour * HOUR;
                match what {
                    0 => exposure(
                        unit,
                        version,
                        if id % 2 == 0 { "default" } else { "beta" },
                        t,
                    ),
                    k => {
                        let (metric, kind) = kinds()[k - 1];
                        let value = match kind {
                            MetricKind::Binary => f64::from(v % 2),
                            MetricKind::Count => f64::from(v % 7),
                            // Multiples of 2^-10: sums agree in any order.
                            MetricKind::Continuous => f64::from(v - 1024) / 1024.0,
                        };
                        outcome(
                            unit,
                            version,
                            &format!("{unit}-{metric}-{id}"),
                            metric,
                            kind,
                            value,
                            t,
                        )
                    }
                }
            })
            .collect()
    })
}

/// The brute-force answer: distinct units, and per metric the values and sums of the
/// distinct outcome ids.
fn brute(events: &[Event]) -> Summary {
    let mut units: BTreeMap<(u32, String), bool> = BTreeMap::new();
    let mut exposures: BTreeMap<u32, u64> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    let mut per_unit: BTreeMap<(u32, String, String), (u64, f64)> = BTreeMap::new();
    for e in events {
        match e {
            Event::Exposure(x) => {
                *exposures.entry(x.version).or_default() += 1;
                let d = units.entry((x.version, x.unit_hash.clone())).or_default();
                *d |= x.rule == "default";
            }
            Event::Outcome(o) => {
                let d = units.entry((o.version, o.unit_hash.clone())).or_default();
                *d |= o.rule == "default";
                if seen.insert((o.unit_hash.clone(), o.version, o.id.clone())) {
                    let t = per_unit
                        .entry((o.version, o.metric.clone(), o.unit_hash.clone()))
                        .or_default();
                    t.0 += 1;
                    t.1 += o.value;
                }
            }
        }
    }
    let mut s = Summary::default();
    for ((v, _), d) in &units {
        let mut x = edgeprompt::metrics::Sums {
            units: 1,
            ..Default::default()
        };
        x.default_units = u64::from(*d);
        s.add(*v, "", &x);
    }
    for (v, n) in exposures {
        s.add(
            v,
            "",
            &edgeprompt::metrics::Sums {
                exposures: n,
                ..Default::default()
            },
        );
    }
    for ((v, metric, _), (n, total)) in per_unit {
        let kind = kinds().iter().find(|k| k.0 == metric).map(|k| k.1).unwrap();
        let obs = match kind {
            MetricKind::Binary => f64::from(u8::from(total >= 1.0)),
            MetricKind::Count => total,
            MetricKind::Continuous => total / n as f64,
        };
        let counted = kind != MetricKind::Binary || total >= 1.0;
        s.add(
            v,
            &metric,
            &edgeprompt::metrics::Sums {
                units: u64::from(counted),
                values: n,
                sum: total,
                obs_sum: obs,
                obs_sum_sq: obs * obs,
                ..Default::default()
            },
        );
    }
    s
}

fn assert_exact(a: &Summary, b: &Summary) {
    for v in a.versions().chain(b.versions()) {
        for (m, kind) in [("", None)]
            .into_iter()
            .chain(kinds().map(|(m, k)| (m, Some(k))))
        {
            let (x, y) = (a.get(v, m), b.get(v, m));
            assert_eq!(
                (x.units, x.default_units, x.exposures, x.values, x.sum),
                (y.units, y.default_units, y.exposures, y.values, y.sum),
                "version {v} metric {m:?}"
            );
            if kind == Some(MetricKind::Continuous) {
                // Unit means are not dyadic: equal to rounding.
                assert!(
                    (x.obs_sum - y.obs_sum).abs() <= 1e-9 * (1.0 + y.obs_sum.abs()),
                    "{x:?} {y:?}"
                );
                assert!(
                    (x.obs_sum_sq - y.obs_sum_sq).abs() <= 1e-9 * (1.0 + y.obs_sum_sq.abs()),
                    "{x:?} {y:?}"
                );
            } else {
                assert_eq!(
                    (x.obs_sum, x.obs_sum_sq),
                    (y.obs_sum, y.obs_sum_sq),
                    "version {v} metric {m:?}"
                );
            }
        }
    }
}

proptest! {
    #[test]
    fn shards_merge_to_the_brute_force_answer(events in arb_events(), batch in 1usize..50) {
        let want = brute(&events);
        assert_exact(&run(&events, 1, events.len()), &want);
        assert_exact(&run(&events, 8, batch), &want);
    }

    #[test]
    fn every_event_applied_twice_counts_once_except_exposures(events in arb_events()) {
        let mut twice = events.clone();
        twice.extend(events.iter().cloned());
        let (a, b) = (run(&twice, 4, 17), run(&events, 1, events.len()));
        for v in b.versions() {
            // Repeated exposures bump the counter of decisions served, nothing else.
            prop_assert_eq!(a.get(v, "").exposures, 2 * b.get(v, "").exposures);
        }
        let mut a = a;
        for m in a.cells.values_mut() {
            if let Some(e) = m.get_mut("") { e.exposures /= 2; }
        }
        assert_exact(&a, &b);
    }
}

#[test]
fn an_outcome_before_its_exposure_creates_the_unit_once() {
    let events = vec![
        outcome(1, 2, "a", "ok", MetricKind::Binary, 1.0, 0),
        exposure(1, 2, "default", 5),
        exposure(1, 2, "default", 6),
    ];
    let s = run(&events, 1, 1);
    let e = s.get(2, "");
    assert_eq!((e.units, e.default_units, e.exposures), (1, 1, 2));
    assert_eq!(s.get(2, "ok").units, 1);
}

#[test]
fn old_outcome_ids_are_dropped_when_the_unit_changes() {
    let mut batch = Batch::new(2);
    batch.apply(&outcome(1, 1, "a", "n", MetricKind::Count, 1.0, 0));
    batch.apply(&outcome(1, 1, "b", "n", MetricKind::Count, 1.0, 5 * HOUR));
    let (_, _, state) = batch.changed_units().next().unwrap();
    assert_eq!(state.ids.len(), 1, "{state:?}");
    assert_eq!(state.metrics["n"].n, 2);
}

#[test]
fn a_correlated_unit_is_one_observation() {
    // 1,000 values; 10 units each take one decile (100 values) vs 1,000 units x 1 value.
    let values: Vec<f64> = (0..1000).map(|i| f64::from(i) / 8.0).collect();
    let mut clustered = Vec::new();
    let mut spread = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let i = i as u32;
        clustered.push(exposure(i / 100, 1, "default", 0));
        clustered.push(outcome(
            i / 100,
            1,
            &format!("c{i}"),
            "ms",
            MetricKind::Continuous,
            *v,
            0,
        ));
        spread.push(exposure(1000 + i, 1, "default", 0));
        spread.push(outcome(
            1000 + i,
            1,
            &format!("s{i}"),
            "ms",
            MetricKind::Continuous,
            *v,
            0,
        ));
    }
    let width = |events: &[Event]| {
        let s = run(events, 8, 64);
        let e = stats::mean(observations(&s, 1, "ms", MetricKind::Continuous)).unwrap();
        e.ci[1] - e.ci[0]
    };
    let (wide, narrow) = (width(&clustered), width(&spread));
    assert!(
        wide >= 3.0 * narrow,
        "10 units: {wide}, 1,000 units: {narrow}"
    );
}
