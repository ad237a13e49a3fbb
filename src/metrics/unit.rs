//! Per-unit state and how one batch of events changes it: the only place that decides
//! whether an event counts, so every shell aggregates alike.
//!
//! A unit's state (per version, within one period's shard) holds what the per-unit
//! observations need (each metric's values and sum) and the outcome ids it has
//! applied, so a repeated outcome is recognised without a row per event. A repeated
//! exposure only bumps the `exposures` counter.

use super::{hour_of, Bucket, Sums};
use crate::events::{Event, Exposure, Outcome};
use crate::manifest::MetricKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Hex digits of an outcome id kept for deduplication (64 bits: a collision within
/// one unit's ids is negligible).
pub const ID_DIGITS: usize = 16;

/// Values reported for one metric by one unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// How many.
    pub n: u64,
    /// Their sum.
    pub sum: f64,
}

/// What is kept of one unit (for one version) in one period's shard.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitState {
    /// Whether a default rule decided one of its exposures (the ratio check's units).
    #[serde(rename = "d", default)]
    pub default_rule: bool,
    /// Per metric: the values reported.
    #[serde(rename = "m", default)]
    pub metrics: BTreeMap<String, Tally>,
    /// Outcome ids applied (their first [`ID_DIGITS`] hex digits) with the hour they
    /// were applied; ids older than the retention are dropped when the unit changes.
    #[serde(rename = "i", default)]
    pub ids: Vec<(String, u32)>,
}

/// One unit's entry in a batch: its state as loaded (`None`: not yet seen) and
/// whether the batch changed it.
#[derive(Debug, Clone, Default)]
struct Entry {
    state: Option<UnitState>,
    dirty: bool,
}

/// What a batch did, beyond the aggregates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Events that changed an aggregate.
    pub counted: u64,
    /// Outcomes whose id the unit had already applied.
    pub duplicates: u64,
}

/// Applies a batch of events to the states of the units it names.
///
/// Load every unit [`Batch::units_needed`] names with [`Batch::load`], [`Batch::apply`]
/// the events, then store [`Batch::changed_units`] and add [`Batch::buckets`] to the
/// stored aggregates, all in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    units: BTreeMap<(String, u32), Entry>,
    buckets: BTreeMap<Bucket, Sums>,
    retention_hours: u32,
    applied: Applied,
}

impl Batch {
    /// A batch that keeps outcome ids for `retention_hours` after they were applied.
    pub fn new(retention_hours: u32) -> Batch {
        Batch {
            retention_hours,
            ..Batch::default()
        }
    }

    /// The (unit hash, version) pairs whose state the events need, without repeats.
    pub fn units_needed(events: &[Event]) -> Vec<(String, u32)> {
        let mut out: Vec<(String, u32)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Exposure(x) if !x.forced => Some((x.unit_hash.clone(), x.version)),
                Event::Outcome(o) if !o.forced => Some((o.unit_hash.clone(), o.version)),
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Supplies a unit's stored state.
    pub fn load(&mut self, unit_hash: &str, version: u32, state: UnitState) {
        self.units.insert(
            (unit_hash.to_string(), version),
            Entry {
                state: Some(state),
                dirty: false,
            },
        );
    }

    fn bucket(&mut self, time_ms: u64, version: u32, metric: &str) -> &mut Sums {
        let key = Bucket {
            hour: hour_of(time_ms),
            version,
            metric: metric.to_string(),
        };
        self.buckets.entry(key).or_default()
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Exposure(e) => self.exposure(e),
            Event::Outcome(o) => self.outcome(o),
        }
    }

    fn exposure(&mut self, e: &Exposure) {
        let b = self.bucket(e.time_ms, e.version, "");
        if e.forced {
            b.forced += 1;
            self.applied.counted += 1;
            return;
        }
        b.exposures += 1;
        self.applied.counted += 1;
        self.ensure_unit(&e.unit_hash, e.version, &e.rule, e.time_ms);
    }

    /// Creates the unit on its first event; marks it default-decided when `rule` is.
    fn ensure_unit(&mut self, unit: &str, version: u32, rule: &str, time_ms: u64) -> &mut Entry {
        let is_default = rule == crate::assign::DEFAULT_RULE;
        let key = (unit.to_string(), version);
        let (new_unit, new_default) = {
            let entry = self.units.entry(key.clone()).or_default();
            match &mut entry.state {
                None => {
                    entry.state = Some(UnitState {
                        default_rule: is_default,
                        ..UnitState::default()
                    });
                    entry.dirty = true;
                    (true, is_default)
                }
                Some(s) if is_default && !s.default_rule => {
                    s.default_rule = true;
                    entry.dirty = true;
                    (false, true)
                }
                Some(_) => (false, false),
            }
        };
        let b = self.bucket(time_ms, version, "");
        b.units += u64::from(new_unit);
        b.default_units += u64::from(new_default);
        self.units.entry(key).or_default()
    }

    fn outcome(&mut self, o: &Outcome) {
        if o.forced {
            self.bucket(o.time_ms, o.version, &o.metric).forced += 1;
            self.applied.counted += 1;
            return;
        }
        let id = o.id.get(..ID_DIGITS).unwrap_or(&o.id).to_string();
        let hour = hour_of(o.time_ms);
        let keep_from = hour.saturating_sub(self.retention_hours);
        // An outcome implies its (tracked) exposure: if the outcome arrives first, it
        // creates the unit, and the exposure then only bumps the counter.
        let entry = self.ensure_unit(&o.unit_hash, o.version, &o.rule, o.time_ms);
        let Some(state) = entry.state.as_mut() else {
            return;
        };
        if state.ids.iter().any(|(x, _)| *x == id) {
            self.applied.duplicates += 1;
            return;
        }
        entry.dirty = true;
        state.ids.retain(|(_, h)| *h >= keep_from);
        state.ids.push((id, hour));
        let tally = state.metrics.entry(o.metric.clone()).or_default();
        let before = *tally;
        tally.n += 1;
        tally.sum += o.value;
        let after = *tally;
        let b = self.bucket(o.time_ms, o.version, &o.metric);
        b.values += 1;
        b.sum += o.value;
        match o.kind {
            MetricKind::Binary => {
                if before.sum < 1.0 && after.sum >= 1.0 {
                    b.units += 1;
                    b.obs_sum += 1.0;
                    b.obs_sum_sq += 1.0;
                }
            }
            MetricKind::Count => {
                b.units += u64::from(before.n == 0);
                b.obs_sum += o.value;
                b.obs_sum_sq += after.sum * after.sum - before.sum * before.sum;
            }
            MetricKind::Continuous => {
                let new_mean = after.sum / after.n as f64;
                if before.n == 0 {
                    b.units += 1;
                    b.obs_sum += new_mean;
                    b.obs_sum_sq += new_mean * new_mean;
                } else {
                    let old_mean = before.sum / before.n as f64;
                    b.obs_sum += new_mean - old_mean;
                    b.obs_sum_sq += new_mean * new_mean - old_mean * old_mean;
                }
            }
        }
        self.applied.counted += 1;
    }

    /// The units the batch created or changed, with their new state.
    pub fn changed_units(&self) -> impl Iterator<Item = (&str, u32, &UnitState)> {
        self.units
            .iter()
            .filter(|(_, e)| e.dirty)
            .filter_map(|(k, e)| e.state.as_ref().map(|s| (k.0.as_str(), k.1, s)))
    }

    /// The aggregates the batch adds, per hour, version and metric.
    pub fn buckets(&self) -> &BTreeMap<Bucket, Sums> {
        &self.buckets
    }

    /// What the batch counted and skipped.
    pub fn applied(&self) -> Applied {
        self.applied
    }
}
