//! Consistent-hash bucketing of units and the layout of weighted splits.
//!
//! The algorithm is specified in `docs/assignment.md` so that any implementation can
//! reproduce it bit for bit; change neither without the other.

use std::hash::Hasher;

/// Number of buckets: weights are held as basis points, so one bucket is 0.01%.
pub const BUCKETS: u16 = 10_000;

/// Separates salt from unit in the hashed bytes; 0xFF never occurs in UTF-8, so no
/// two (salt, unit) pairs hash the same byte string.
const SEPARATOR: u8 = 0xFF;

/// Added before re-mixing when the range mapping rejects a value (see `bucket`).
const REJECT_STEP: u64 = 0x9E37_79B9_7F4A_7C15;

/// The murmur3 64-bit finaliser: gives FNV-1a's output full avalanche.
#[inline]
pub fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^= h >> 33;
    h
}

/// The 64-bit hash `fmix64(FNV-1a-64(salt ‖ 0xFF ‖ unit))` over UTF-8 bytes.
#[inline]
pub fn hash64(salt: &str, unit: &str) -> u64 {
    hash64_from(salt_state(salt), unit)
}

/// FNV-1a's state after `salt ‖ 0xFF`: computed once per route, so that each request
/// hashes only the unit's bytes.
pub fn salt_state(salt: &str) -> u64 {
    let mut fnv = fnv::FnvHasher::default();
    fnv.write(salt.as_bytes());
    fnv.write(&[SEPARATOR]);
    fnv.finish()
}

/// [`hash64`] continued from a [`salt_state`].
#[inline]
pub fn hash64_from(state: u64, unit: &str) -> u64 {
    let mut fnv = fnv::FnvHasher::with_key(state);
    fnv.write(unit.as_bytes());
    fmix64(fnv.finish())
}

/// [`bucket`] continued from a [`salt_state`].
#[inline]
pub fn bucket_from(state: u64, unit: &str) -> u16 {
    to_bucket(hash64_from(state, unit))
}

/// Maps a 64-bit hash to [0, 10000) without modulo bias (Lemire's multiply-shift with
/// rejection; a rejected value is re-mixed, which happens with probability ~5e-16).
#[inline]
pub fn to_bucket(mut h: u64) -> u16 {
    let n = u64::from(BUCKETS);
    // 2^64 mod n: products whose low half falls below it would over-represent a bucket.
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = u128::from(h) * u128::from(n);
        if (m as u64) >= threshold {
            return (m >> 64) as u16;
        }
        h = fmix64(h.wrapping_add(REJECT_STEP));
    }
}

/// The unit's bucket under a route's salt, in [0, 10000).
#[inline]
pub fn bucket(salt: &str, unit: &str) -> u16 {
    to_bucket(hash64(salt, unit))
}

/// A weighted split compiled to bucket ranges.
///
/// Layout: the first version (the control) holds `[0, w0)`; the other versions are
/// stacked from the top down in list order, version 2 of the list holding
/// `[10000 - w1, 10000)`, the next one right below it, and so on. Raising a
/// candidate's weight while lowering the control's only extends its range, so a ramp
/// never moves a unit off the candidate, and appending a new candidate takes units
/// from the control only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitLayout {
    /// `(version, start, end)` ranges, half-open, in list order.
    ranges: Box<[(u32, u16, u16)]>,
}

/// Why a list of weights cannot form a split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// No entries.
    #[error("split is empty")]
    Empty,
    /// Weights do not add up to 100%.
    #[error("weights sum to {}, expected 100", crate::assign::format_bp(*.0))]
    BadSum(u32),
}

impl SplitLayout {
    /// Lays out `(version, basis points)` entries; the weights must sum to 10000.
    pub fn new(entries: &[(u32, u16)]) -> Result<SplitLayout, SplitError> {
        let first = entries.first().ok_or(SplitError::Empty)?;
        let sum: u32 = entries.iter().map(|&(_, w)| u32::from(w)).sum();
        if sum != u32::from(BUCKETS) {
            return Err(SplitError::BadSum(sum));
        }
        let mut ranges = Vec::with_capacity(entries.len());
        ranges.push((first.0, 0, first.1));
        let mut top = BUCKETS;
        for &(version, w) in entries.iter().skip(1) {
            ranges.push((version, top - w, top));
            top -= w;
        }
        Ok(SplitLayout {
            ranges: ranges.into_boxed_slice(),
        })
    }

    /// The version whose range holds `bucket`.
    #[inline]
    pub fn pick(&self, bucket: u16) -> u32 {
        // The ranges tile [0, 10000) exactly, so some range holds any bucket below it;
        // the control is the answer for zero-width leftovers that cannot occur.
        for &(version, start, end) in self.ranges.iter() {
            if bucket >= start && bucket < end {
                return version;
            }
        }
        self.ranges.first().map(|r| r.0).unwrap_or(0)
    }

    /// The half-open bucket ranges in list order.
    pub fn ranges(&self) -> &[(u32, u16, u16)] {
        &self.ranges
    }
}

/// Parses a percent weight with at most two decimals into exact basis points.
///
/// Works on the number's decimal text, never on a float, so 33.33 is exactly 3333.
pub fn parse_weight(text: &str) -> Result<u16, String> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("weight {text} is not a percent between 0 and 100"));
    }
    if text.contains(['e', 'E']) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("weight {text} must be written as a plain decimal"));
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 2 {
        return Err(format!("weight {text} has more than two decimals"));
    }
    let int: u32 = int
        .parse()
        .map_err(|_| format!("weight {text} is not a percent between 0 and 100"))?;
    let mut cents: u32 = 0;
    for (i, b) in frac.bytes().enumerate() {
        let digit = u32::from(b - b'0');
        cents += digit * if i == 0 { 10 } else { 1 };
    }
    let bp = int.saturating_mul(100).saturating_add(cents);
    if bp > u32::from(BUCKETS) {
        return Err(format!("weight {text} is over 100"));
    }
    Ok(bp as u16)
}

/// Formats basis points as a percent (`9500` -> `95`, `3333` -> `33.33`).
pub fn format_bp(bp: u32) -> String {
    let (int, frac) = (bp / 100, bp % 100);
    match frac {
        0 => int.to_string(),
        f if f % 10 == 0 => format!("{int}.{}", f / 10),
        f => format!("{int}.{f:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_exactly() {
        assert_eq!(parse_weight("90"), Ok(9000));
        assert_eq!(parse_weight("33.33"), Ok(3333));
        assert_eq!(parse_weight("33.34"), Ok(3334));
        assert_eq!(parse_weight("0.5"), Ok(50));
        assert_eq!(parse_weight("100.00"), Ok(10000));
        assert_eq!(parse_weight("0"), Ok(0));
        assert!(parse_weight("33.333").unwrap_err().contains("two decimals"));
        assert!(parse_weight("1e1").is_err());
        assert!(parse_weight("-1").is_err());
        assert!(parse_weight("100.01").unwrap_err().contains("over 100"));
    }

    #[test]
    fn percent_formatting_round_trips() {
        for bp in [0u32, 1, 10, 50, 99, 100, 3333, 9500, 10000] {
            assert_eq!(parse_weight(&format_bp(bp)), Ok(bp as u16), "{bp}");
        }
        assert_eq!(format_bp(9500), "95");
        assert_eq!(format_bp(3350), "33.5");
    }

    #[test]
    fn split_layout_tiles_the_range() {
        let s = SplitLayout::new(&[(1, 8000), (2, 1000), (3, 1000)]).unwrap();
        assert_eq!(
            s.ranges(),
            &[(1, 0, 8000), (2, 9000, 10000), (3, 8000, 9000)]
        );
        assert_eq!(s.pick(0), 1);
        assert_eq!(s.pick(7999), 1);
        assert_eq!(s.pick(8000), 3);
        assert_eq!(s.pick(9999), 2);
        assert_eq!(
            SplitLayout::new(&[(1, 9000), (2, 500)]),
            Err(SplitError::BadSum(9500))
        );
        assert_eq!(
            SplitError::BadSum(9500).to_string(),
            "weights sum to 95, expected 100"
        );
        assert_eq!(SplitLayout::new(&[]), Err(SplitError::Empty));
    }

    #[test]
    fn zero_weight_versions_get_nothing() {
        let s = SplitLayout::new(&[(1, 10000), (2, 0)]).unwrap();
        assert!((0..BUCKETS).all(|b| s.pick(b) == 1));
    }

    #[test]
    fn precomputed_salt_state_gives_the_same_bucket() {
        for (salt, unit) in [
            ("support/production", "user-1"),
            ("", "x"),
            ("s\u{e9}", "日本"),
        ] {
            assert_eq!(bucket_from(salt_state(salt), unit), bucket(salt, unit));
        }
    }

    #[test]
    fn bucket_mapping_is_in_range_and_exact_at_edges() {
        // 0 lands in the rejected low band (2^64 mod 10000 = 1616) and is re-mixed.
        assert!(to_bucket(0) < BUCKETS);
        assert_eq!(to_bucket(u64::MAX / 2), 4999);
        assert_eq!(to_bucket(u64::MAX), 9999);
        assert!(bucket("s", "u") < BUCKETS);
    }
}
