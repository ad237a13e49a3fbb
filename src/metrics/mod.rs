//! Exact per-version aggregates of exposures and outcomes, kept per unit-hash shard and
//! merged across shards.
//!
//! A unit's events always land in one shard of a period ([`shard`]), so the distinct
//! units, units with a success and per-unit sums of the shards simply add up. The
//! aggregates are kept per hour ([`Bucket`]); a shard's [`Summary`] is the sum of its
//! buckets, and the report ([`report`]) compares versions with each unit as one
//! observation.

pub mod report;
pub mod unit;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::hash::Hasher;

/// The shard of a unit among `shards` (at least 1): FNV-1a of its keyed hash.
pub fn shard(unit_hash: &str, shards: u32) -> u32 {
    let mut h = fnv::FnvHasher::default();
    h.write(unit_hash.as_bytes());
    (h.finish() % u64::from(shards.max(1))) as u32
}

/// Milliseconds per aggregation bucket: one hour.
pub const BUCKET_MS: u64 = 3_600_000;

/// The hour (since the Unix epoch) of a time in milliseconds.
pub fn hour_of(time_ms: u64) -> u32 {
    u32::try_from(time_ms / BUCKET_MS).unwrap_or(u32::MAX)
}

/// Additive aggregates of one version (and one metric, or `""` for exposures).
///
/// For `""`: `units` exposed units, `default_units` those a default rule decided,
/// `exposures` decisions served, `forced` decisions of QA-forced units (left out of
/// everything else). For a metric: `units` units with a success (binary) or units that
/// reported (count, continuous); `values` and `sum` the values reported; `obs_sum` and
/// `obs_sum_sq` the sum and sum of squares of the per-unit observations (binary: 1 per
/// unit with a success; count: each unit's total; continuous: each unit's mean).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Sums {
    /// Units (see the type's doc).
    pub units: u64,
    /// Exposed units decided by a default rule.
    pub default_units: u64,
    /// Decisions served.
    pub exposures: u64,
    /// Decisions (or outcomes) of forced units.
    pub forced: u64,
    /// Values reported.
    pub values: u64,
    /// Their sum.
    pub sum: f64,
    /// Sum of the per-unit observations.
    pub obs_sum: f64,
    /// Sum of their squares.
    pub obs_sum_sq: f64,
}

impl Sums {
    /// Adds another's aggregates to these.
    pub fn add(&mut self, o: &Sums) {
        self.units += o.units;
        self.default_units += o.default_units;
        self.exposures += o.exposures;
        self.forced += o.forced;
        self.values += o.values;
        self.sum += o.sum;
        self.obs_sum += o.obs_sum;
        self.obs_sum_sq += o.obs_sum_sq;
    }
}

/// Where a [`Sums`] belongs: an hour, a version and a metric (`""`: exposures).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Bucket {
    /// Hour since the Unix epoch.
    pub hour: u32,
    /// Version.
    pub version: u32,
    /// Metric name, or `""` for the exposure aggregates.
    pub metric: String,
}

/// A shard's (or several merged shards') totals per version and metric.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Totals keyed by version, then metric (`""`: exposures).
    pub cells: BTreeMap<u32, BTreeMap<String, Sums>>,
}

impl Summary {
    /// Adds aggregates to a version's metric.
    pub fn add(&mut self, version: u32, metric: &str, sums: &Sums) {
        let by_metric = self.cells.entry(version).or_default();
        match by_metric.get_mut(metric) {
            Some(s) => s.add(sums),
            None => {
                by_metric.insert(metric.to_string(), *sums);
            }
        }
    }

    /// Merges another summary (another shard or period) into this one.
    pub fn merge(&mut self, other: &Summary) {
        for (v, metrics) in &other.cells {
            for (m, s) in metrics {
                self.add(*v, m, s);
            }
        }
    }

    /// A version's totals for a metric (`""`: exposures), zero when none.
    pub fn get(&self, version: u32, metric: &str) -> Sums {
        self.cells
            .get(&version)
            .and_then(|m| m.get(metric))
            .copied()
            .unwrap_or_default()
    }

    /// The versions seen, in order.
    pub fn versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.cells.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_spread() {
        assert_eq!(shard("abc", 1), 0);
        assert_eq!(shard("abc", 0), 0);
        let mut seen = [0u32; 8];
        for i in 0..8000 {
            let s = shard(&format!("{i:032x}"), 8);
            seen[s as usize] += 1;
            assert_eq!(s, shard(&format!("{i:032x}"), 8));
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
    }

    #[test]
    fn summaries_merge_by_adding() {
        let one = Sums {
            units: 2,
            values: 3,
            sum: 1.5,
            ..Sums::default()
        };
        let mut a = Summary::default();
        a.add(1, "m", &one);
        let mut b = Summary::default();
        b.add(1, "m", &one);
        b.add(2, "", &one);
        a.merge(&b);
        assert_eq!(a.get(1, "m").units, 4);
        assert_eq!(a.get(1, "m").sum, 3.0);
        assert_eq!(a.get(2, "").values, 3);
        assert_eq!(a.get(3, "x"), Sums::default());
        assert_eq!(a.versions().collect::<Vec<_>>(), vec![1, 2]);
    }
}
