//! Statistical and structural properties of assignment, with fixed inputs and
//! thresholds at alpha = 0.001 (so a failure means a real defect, not bad luck).

use edgeprompt::assign::{bucket, SplitLayout, BUCKETS};
use proptest::prelude::*;

/// Chi-square critical value for 99 degrees of freedom at alpha = 0.001.
const CHI2_99: f64 = 148.2;
/// Chi-square critical value for 1 degree of freedom at alpha = 0.001.
const CHI2_1: f64 = 10.83;
const N: usize = 100_000;

fn chi_square(counts: &[u64], expected: f64) -> f64 {
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

/// A deterministic generator (splitmix64) for UUID-shaped ids.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn uuid(state: &mut u64) -> String {
    let (a, b) = (splitmix(state), splitmix(state));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFF,
        0x8000 | ((b >> 48) & 0x3FFF),
        b & 0xFFFF_FFFF_FFFF
    )
}

fn id_sets() -> Vec<(&'static str, Vec<String>)> {
    let mut state = 42u64;
    vec![
        ("sequential", (1..=N).map(|i| format!("user-{i}")).collect()),
        ("bare numbers", (0..N).map(|i| i.to_string()).collect()),
        (
            "emails",
            (1..=N)
                .map(|i| format!("customer{i}@example.com"))
                .collect(),
        ),
        ("uuids", (0..N).map(|_| uuid(&mut state)).collect()),
        (
            "non-ascii",
            (1..=N).map(|i| format!("usuário-{i}-日本")).collect(),
        ),
    ]
}

#[test]
fn buckets_are_uniform_over_100_bins_for_real_identifiers() {
    let expected = N as f64 / 100.0;
    for (name, ids) in id_sets() {
        let (mut high, mut low) = (vec![0u64; 100], vec![0u64; 100]);
        for id in &ids {
            let b = bucket("support/production", id);
            assert!(b < BUCKETS);
            high[usize::from(b / 100)] += 1;
            low[usize::from(b % 100)] += 1;
        }
        let (h, l) = (chi_square(&high, expected), chi_square(&low, expected));
        assert!(h < CHI2_99, "{name}: chi-square of bucket/100 = {h:.1}");
        assert!(l < CHI2_99, "{name}: chi-square of bucket%100 = {l:.1}");
    }
}

#[test]
fn different_salts_assign_independently() {
    for (name, ids) in id_sets() {
        // 2x2 contingency: in the top half under salt A, under salt B.
        let mut table = [[0u64; 2]; 2];
        for id in &ids {
            let a = usize::from(bucket("support/production", id) >= 5000);
            let b = usize::from(bucket("summarize/production", id) >= 5000);
            table[a][b] += 1;
        }
        let n = N as f64;
        let mut chi = 0.0;
        let cols = [table[0][0] + table[1][0], table[0][1] + table[1][1]];
        for row in &table {
            let row_sum = row.iter().sum::<u64>() as f64;
            for (cell, col_sum) in row.iter().zip(cols) {
                let e = row_sum * col_sum as f64 / n;
                chi += (*cell as f64 - e).powi(2) / e;
            }
        }
        assert!(chi < CHI2_1, "{name}: 2x2 chi-square = {chi:.2}");
    }
}

#[test]
fn a_ramp_never_moves_a_unit_off_the_candidate() {
    let stages = [100u16, 1000, 5000, 10000];
    let layouts: Vec<SplitLayout> = stages
        .iter()
        .map(|&w| SplitLayout::new(&[(1, BUCKETS - w), (2, w)]).unwrap())
        .collect();
    let mut had_candidate = vec![false; N];
    let mut counts = vec![0usize; stages.len()];
    for (s, layout) in layouts.iter().enumerate() {
        for (i, had) in had_candidate.iter_mut().enumerate() {
            let v = layout.pick(bucket("support/production", &format!("user-{i}")));
            if *had {
                assert_eq!(v, 2, "unit user-{i} left the candidate at stage {s}");
            }
            if v == 2 {
                *had = true;
                counts[s] += 1;
            }
        }
    }
    // Each stage's share is within 0.5 points of its weight.
    for (s, &w) in stages.iter().enumerate() {
        let share = counts[s] as f64 / N as f64 * 100.0;
        assert!(
            (share - f64::from(w) / 100.0).abs() < 0.5,
            "stage {s}: {share}%"
        );
    }
}

#[test]
fn appending_a_candidate_takes_only_from_the_control() {
    let before = SplitLayout::new(&[(1, 9000), (2, 1000)]).unwrap();
    let after = SplitLayout::new(&[(1, 8000), (2, 1000), (3, 1000)]).unwrap();
    for b in 0..BUCKETS {
        let (x, y) = (before.pick(b), after.pick(b));
        assert!(x == y || (x == 1 && y == 3), "bucket {b}: {x} -> {y}");
    }
}

proptest! {
    #[test]
    fn ramping_any_candidate_only_adds_units(
        weights in proptest::collection::vec(0u16..2000, 1..5),
        which in 0usize..4,
        extra in 1u16..2000,
    ) {
        let candidates: u32 = weights.iter().map(|&w| u32::from(w)).sum();
        prop_assume!(candidates + u32::from(extra) <= 10000);
        let which = which % weights.len();
        let mut entries: Vec<(u32, u16)> = vec![(1, (10000 - candidates) as u16)];
        entries.extend(weights.iter().enumerate().map(|(i, &w)| (i as u32 + 2, w)));
        let before = SplitLayout::new(&entries).unwrap();
        entries[0].1 -= extra;
        entries[which + 1].1 += extra;
        let after = SplitLayout::new(&entries).unwrap();
        let target = which as u32 + 2;
        for b in 0..BUCKETS {
            if before.pick(b) == target {
                prop_assert_eq!(after.pick(b), target);
            }
        }
    }

    #[test]
    fn buckets_are_deterministic_and_in_range(salt in ".{0,40}", unit in ".{1,60}") {
        let b = bucket(&salt, &unit);
        prop_assert!(b < BUCKETS);
        prop_assert_eq!(b, bucket(&salt, &unit));
    }
}

/// The mixing step matters: plain FNV-1a mapped the same way fails the same test on
/// short sequential ids, which is why `hash64` finishes it with fmix64.
#[test]
fn unmixed_fnv_would_fail_the_uniformity_test() {
    use std::hash::Hasher;
    let expected = N as f64 / 100.0;
    let mut worst: f64 = 0.0;
    for (_, ids) in id_sets() {
        let mut low = vec![0u64; 100];
        for id in &ids {
            let mut h = fnv::FnvHasher::default();
            h.write(b"support/production");
            h.write(&[0xFF]);
            h.write(id.as_bytes());
            let b = ((u128::from(h.finish()) * 10000) >> 64) as usize;
            low[b % 100] += 1;
        }
        worst = worst.max(chi_square(&low, expected));
    }
    assert!(worst > CHI2_99, "unmixed FNV-1a chi-square {worst:.1}");
}
