//! The evidence behind a step: per guardrail, an always-valid interval for the
//! candidate's difference (the normal-mixture confidence sequence of the mixture SPRT,
//! Johari, Pekelis and Walsh, "Always Valid Inference"), accumulated over the periods;
//! per period, the sample-ratio check. docs/rollouts.md gives the formulas.

use super::input::Period;
use super::plan::{Guardrail, MetricSpec};
use crate::manifest::MetricKind;
use crate::stats::{self, Moments};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Control units a guardrail's default scale waits for, so that 10% of the control's
/// mean is read from a mean worth the name.
pub const SCALE_UNITS: u64 = 100;

/// The share of the control's mean taken as the regression worth catching when the
/// guardrail names no `mde`.
pub const DEFAULT_MDE_SHARE: f64 = 0.1;

/// Expected units each weighted version needs before a period's ratio is checked: the
/// chi-square approximation's rule (one early candidate unit at 1% is no mismatch).
pub const SRM_MIN_EXPECTED: f64 = 5.0;

/// An estimated difference (candidate minus control) and its variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// The estimate.
    pub estimate: f64,
    /// Its variance.
    pub variance: f64,
}

/// The half-width of the (1 - alpha) normal-mixture confidence sequence for an
/// estimate with variance `v`, mixing variance `tau^2`:
/// `sqrt(v (v + tau^2) / tau^2 * (2 ln(1/alpha) + ln((v + tau^2) / v)))`.
pub fn half_width(v: f64, tau: f64, alpha: f64) -> f64 {
    let t2 = tau * tau;
    (v * (v + t2) / t2 * (2.0 * (1.0 / alpha).ln() + ((v + t2) / v).ln())).sqrt()
}

/// Candidate minus control within one period (Welch: each side's variance of its
/// mean); `None` when a side has fewer than two units or the difference no variance.
pub fn period_difference(control: Moments, candidate: Moments) -> Option<Difference> {
    if control.n < 2 || candidate.n < 2 {
        return None;
    }
    let variance = control.var_of_mean() + candidate.var_of_mean();
    let estimate = candidate.mean() - control.mean();
    (variance > 0.0 && variance.is_finite() && estimate.is_finite())
        .then_some(Difference { estimate, variance })
}

/// Periods combined by inverse-variance weights: the scores `d / v` and the
/// informations `1 / v` add up, which is what keeps the mixture a martingale across
/// periods whose splits (and so variances) differ.
pub fn combine(parts: impl IntoIterator<Item = Difference>) -> Option<Difference> {
    let (mut score, mut info) = (0.0, 0.0);
    for p in parts {
        score += p.estimate / p.variance;
        info += 1.0 / p.variance;
    }
    (info > 0.0).then(|| Difference {
        estimate: score / info,
        variance: 1.0 / info,
    })
}

/// One guardrail's evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardrailEvidence {
    /// The metric.
    pub metric: String,
    /// Its kind.
    pub kind: MetricKind,
    /// Its direction: which side of the threshold is worse.
    pub higher_is_better: bool,
    /// Candidate minus control, combined over the periods.
    pub estimate: Option<f64>,
    /// The always-valid interval for it at this guardrail's share of alpha.
    pub ci: Option<[f64; 2]>,
    /// The difference past which the candidate is worse than tolerated (signed).
    pub threshold: f64,
    /// The mixture's scale tau (`None` until the control's mean can set it).
    pub scale: Option<f64>,
    /// This guardrail's share of the plan's alpha.
    pub alpha: f64,
    /// Units observed over the periods: `[control, candidate]`.
    pub units: [u64; 2],
    /// Whether the whole interval lies beyond the threshold on the worse side.
    pub tripped: bool,
}

/// One period's sample-ratio check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SrmEvidence {
    /// The period's stage.
    pub stage: u32,
    /// When the period started.
    pub started_ms: u64,
    /// Exposed units per weighted version.
    pub exposed: BTreeMap<u32, u64>,
    /// Pearson's chi-square p-value (`None`: too few units to check yet).
    pub p_value: Option<f64>,
    /// `p_value < 0.001`.
    pub mismatch: bool,
    /// A person resumed the rollout after this period started: not held against it.
    pub waived: bool,
}

/// The numbers behind a step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Per guardrail, in the plan's order.
    pub guardrails: Vec<GuardrailEvidence>,
    /// Per period.
    pub srm: Vec<SrmEvidence>,
    /// The candidate's exposed units in the current stage.
    pub stage_units: u64,
    /// How long the current stage has run.
    pub stage_ms: u64,
}

/// The scale a guardrail's mixture takes when the plan names no `mde`: the larger of
/// the tolerated regression and 10% of the control's mean over the periods; `None`
/// until the control has [`SCALE_UNITS`] units, or when that is 0.
pub fn default_scale(g: &Guardrail, control: u32, periods: &[Period]) -> Option<f64> {
    let (mut n, mut sum) = (0u64, 0.0);
    for p in periods {
        let s = p.sums(control, &g.metric);
        n += s.units;
        sum += s.sum;
    }
    if n < SCALE_UNITS {
        return None;
    }
    let scale = g
        .max_regression
        .max(DEFAULT_MDE_SHARE * (sum / n as f64).abs());
    (scale > 0.0 && scale.is_finite()).then_some(scale)
}

/// A guardrail's evidence over every period.
pub fn guardrail(
    g: &Guardrail,
    spec: MetricSpec,
    (control, candidate): (u32, u32),
    periods: &[Period],
    scale: Option<f64>,
    alpha: f64,
) -> GuardrailEvidence {
    let mut units = [0u64; 2];
    let parts: Vec<Difference> = periods
        .iter()
        .filter_map(|p| {
            let (a, b) = (p.sums(control, &g.metric), p.sums(candidate, &g.metric));
            units[0] += a.units;
            units[1] += b.units;
            period_difference(a.into(), b.into())
        })
        .collect();
    let combined = combine(parts);
    let ci = match (combined, scale) {
        (Some(d), Some(tau)) => {
            let h = half_width(d.variance, tau, alpha);
            h.is_finite().then_some([d.estimate - h, d.estimate + h])
        }
        _ => None,
    };
    // 0 - r, not -r: no tolerance reads as 0, not -0.
    let threshold = if spec.higher_is_better {
        0.0 - g.max_regression
    } else {
        g.max_regression
    };
    let tripped = match ci {
        Some([_, hi]) if spec.higher_is_better => hi < threshold,
        Some([lo, _]) => lo > threshold,
        None => false,
    };
    GuardrailEvidence {
        metric: g.metric.clone(),
        kind: spec.kind,
        higher_is_better: spec.higher_is_better,
        estimate: combined.map(|d| d.estimate),
        ci,
        threshold,
        scale,
        alpha,
        units,
        tripped,
    }
}

/// A period's sample-ratio check against its weights (basis points per version).
pub fn sample_ratio(p: &Period, weights: &[(u32, u16)], waived: bool) -> SrmEvidence {
    let observed: Vec<u64> = weights.iter().map(|&(v, _)| p.exposed(v)).collect();
    let bp: Vec<u16> = weights.iter().map(|w| w.1).collect();
    let total: u64 = observed.iter().sum();
    let enough = weights
        .iter()
        .filter(|w| w.1 > 0)
        .all(|w| total as f64 * f64::from(w.1) / 10_000.0 >= SRM_MIN_EXPECTED);
    let check = if enough {
        stats::srm(&observed, &bp)
    } else {
        None
    };
    SrmEvidence {
        stage: p.stage,
        started_ms: p.started_ms,
        exposed: weights.iter().map(|w| w.0).zip(observed).collect(),
        p_value: check.map(|c| c.p_value),
        mismatch: !waived && check.is_some_and(|c| c.mismatch),
        waived,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn half_width_follows_the_formula() {
        // v = tau^2 = 1, alpha = 0.05: sqrt(2 * (2 ln 20 + ln 2)).
        let want = (2.0 * (2.0 * 20f64.ln() + 2f64.ln())).sqrt();
        assert!(close(half_width(1.0, 1.0, 0.05), want, 1e-12));
        // Wider than the fixed-sample z interval at any variance, and shrinking with it.
        for v in [1e-6, 1e-4, 1e-2, 1.0] {
            assert!(half_width(v, 0.05, 0.05) > crate::stats::Z95 * v.sqrt());
            assert!(half_width(v / 4.0, 0.05, 0.05) < half_width(v, 0.05, 0.05));
        }
    }

    #[test]
    fn periods_combine_by_inverse_variance() {
        let d = |estimate, variance| Difference { estimate, variance };
        let c = combine([d(1.0, 1.0), d(4.0, 2.0)]).unwrap();
        // weights 1 and 1/2: (1 + 2) / 1.5 = 2, variance 1 / 1.5.
        assert!(close(c.estimate, 2.0, 1e-12) && close(c.variance, 1.0 / 1.5, 1e-12));
        assert_eq!(combine([]), None);
    }

    #[test]
    fn a_binary_difference_uses_each_sides_variance() {
        let control = Moments {
            n: 1000,
            sum: 500.0,
            sum_sq: 500.0,
        };
        let candidate = Moments {
            n: 100,
            sum: 40.0,
            sum_sq: 40.0,
        };
        let d = period_difference(control, candidate).unwrap();
        assert!(close(d.estimate, -0.1, 1e-12));
        let want = 0.25 * 1000.0 / 999.0 / 1000.0 + 0.24 * 100.0 / 99.0 / 100.0;
        assert!(close(d.variance, want, 1e-15), "{d:?}");
        let one = Moments {
            n: 1,
            sum: 1.0,
            sum_sq: 1.0,
        };
        assert_eq!(period_difference(control, one), None);
        let none = Moments {
            n: 10,
            sum: 0.0,
            sum_sq: 0.0,
        };
        assert_eq!(period_difference(none, none), None);
    }
}
