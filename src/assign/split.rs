//! Weighted splits laid out on the buckets, and weights as exact basis points.

use super::hash::BUCKETS;

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
    #[error("weights sum to {}, expected 100", format_bp(*.0))]
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
