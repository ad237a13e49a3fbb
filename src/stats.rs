//! Comparison statistics for per-version metrics: estimates with 95% intervals,
//! differences against the control, and the sample-ratio-mismatch check.
//!
//! - binary metrics: the rate of exposed units with a success, Wilson score interval;
//!   difference by Newcombe's hybrid score interval (method 10), which stays inside
//!   [-1, 1] and behaves at small counts;
//! - count and continuous metrics: the mean of the per-unit observations (each exposed
//!   unit's total; each reporting unit's mean: see `metrics::report`), normal interval
//!   from their sum and sum of squares; difference by Welch's normal approximation.

use serde::Serialize;

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A point estimate with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// The point estimate.
    pub estimate: f64,
    /// `[low, high]`.
    pub ci: [f64; 2],
}

/// Wilson score interval for `successes` out of `n`; `None` when `n` is 0.
pub fn wilson(successes: u64, n: u64) -> Option<Estimate> {
    if n == 0 {
        return None;
    }
    let (s, n) = (successes.min(n) as f64, n as f64);
    let p = s / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Estimate {
        estimate: p,
        ci: [(centre - half).max(0.0), (centre + half).min(1.0)],
    })
}

/// Newcombe's interval for the difference of two proportions (`a` minus `b`).
pub fn diff_proportions(a: (u64, u64), b: (u64, u64)) -> Option<Estimate> {
    let (ea, eb) = (wilson(a.0, a.1)?, wilson(b.0, b.1)?);
    let d = ea.estimate - eb.estimate;
    let low = d - ((ea.estimate - ea.ci[0]).powi(2) + (eb.ci[1] - eb.estimate).powi(2)).sqrt();
    let high = d + ((ea.ci[1] - ea.estimate).powi(2) + (eb.estimate - eb.ci[0]).powi(2)).sqrt();
    Some(Estimate {
        estimate: d,
        ci: [low, high],
    })
}

/// Summary of a continuous metric's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// How many values.
    pub n: u64,
    /// Their sum.
    pub sum: f64,
    /// The sum of their squares.
    pub sum_sq: f64,
}

impl Moments {
    /// The mean of the values (NaN without values).
    pub fn mean(&self) -> f64 {
        self.sum / self.n as f64
    }

    /// Variance of the mean (sample variance / n); 0 with fewer than two values.
    pub fn var_of_mean(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let n = self.n as f64;
        let var = ((self.sum_sq - self.sum * self.sum / n) / (n - 1.0)).max(0.0);
        var / n
    }
}

/// The mean with a normal 95% interval; `None` without values.
pub fn mean(m: Moments) -> Option<Estimate> {
    if m.n == 0 {
        return None;
    }
    let (mu, se) = (m.mean(), m.var_of_mean().sqrt());
    Some(Estimate {
        estimate: mu,
        ci: [mu - Z95 * se, mu + Z95 * se],
    })
}

/// Welch's normal interval for the difference of two means (`a` minus `b`).
pub fn diff_means(a: Moments, b: Moments) -> Option<Estimate> {
    if a.n == 0 || b.n == 0 {
        return None;
    }
    let d = a.mean() - b.mean();
    let se = (a.var_of_mean() + b.var_of_mean()).sqrt();
    Some(Estimate {
        estimate: d,
        ci: [d - Z95 * se, d + Z95 * se],
    })
}

/// The sample-ratio-mismatch check: observed units per version against the weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Srm {
    /// Pearson's chi-square statistic.
    pub chi_square: f64,
    /// Degrees of freedom (versions with weight > 0, minus one).
    pub df: u32,
    /// Upper-tail probability of the statistic.
    pub p_value: f64,
    /// `p_value < 0.001`: the observed split does not match the configured one.
    pub mismatch: bool,
}

/// Chi-square goodness of fit of `observed` counts against basis-point `weights`.
/// Versions with weight 0 must observe nothing (any unit there is a mismatch).
pub fn srm(observed: &[u64], weights_bp: &[u16]) -> Option<Srm> {
    let total: u64 = observed.iter().sum();
    if total == 0 || observed.len() != weights_bp.len() {
        return None;
    }
    let mut chi = 0.0;
    let mut cells = 0u32;
    let mut stray = false;
    for (&o, &w) in observed.iter().zip(weights_bp) {
        if w == 0 {
            stray |= o > 0;
            continue;
        }
        let e = total as f64 * f64::from(w) / 10_000.0;
        chi += (o as f64 - e).powi(2) / e;
        cells += 1;
    }
    let df = cells.saturating_sub(1);
    let p_value = if stray {
        0.0
    } else if df == 0 {
        1.0
    } else {
        chi2_sf(chi, f64::from(df))
    };
    Some(Srm {
        chi_square: chi,
        df,
        p_value,
        mismatch: p_value < 0.001,
    })
}

/// Upper tail `P(X > x)` of a chi-square distribution with `df` degrees of freedom.
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    upper_gamma_q(df / 2.0, x / 2.0)
}

/// Regularised upper incomplete gamma Q(a, x): a series below a + 1, a continued
/// fraction (modified Lentz) above.
fn upper_gamma_q(a: f64, x: f64) -> f64 {
    let gln = ln_gamma(a);
    if x < a + 1.0 {
        let (mut sum, mut term, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        (1.0 - sum * (-x + a * x.ln() - gln).exp()).clamp(0.0, 1.0)
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        ((-x + a * x.ln() - gln).exp() * h).clamp(0.0, 1.0)
    }
}

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn wilson_matches_published_values() {
        // 10/100: 0.0552 .. 0.1744 (Newcombe 1998, table I style values).
        let e = wilson(10, 100).unwrap();
        assert!(
            close(e.ci[0], 0.0552, 1e-4) && close(e.ci[1], 0.1744, 1e-4),
            "{e:?}"
        );
        let e = wilson(0, 10).unwrap();
        assert!(
            close(e.ci[0], 0.0, 1e-12) && close(e.ci[1], 0.2775, 1e-4),
            "{e:?}"
        );
        assert_eq!(wilson(1, 0), None);
    }

    #[test]
    fn newcombe_difference_matches_the_paper() {
        // Newcombe (1998) example: 56/70 vs 48/80 -> 0.2000, 95% CI 0.0524 .. 0.3339.
        let d = diff_proportions((56, 70), (48, 80)).unwrap();
        assert!(close(d.estimate, 0.2, 1e-12));
        assert!(
            close(d.ci[0], 0.0524, 1e-4) && close(d.ci[1], 0.3339, 1e-4),
            "{d:?}"
        );
    }

    #[test]
    fn means_and_their_difference() {
        // Values 1..=5: mean 3, sample variance 2.5, se sqrt(0.5).
        let m = Moments {
            n: 5,
            sum: 15.0,
            sum_sq: 55.0,
        };
        let e = mean(m).unwrap();
        assert!(close(e.estimate, 3.0, 1e-12));
        assert!(close(e.ci[1] - 3.0, Z95 * 0.5f64.sqrt(), 1e-12));
        let d = diff_means(
            m,
            Moments {
                n: 5,
                sum: 10.0,
                sum_sq: 30.0,
            },
        )
        .unwrap();
        assert!(close(d.estimate, 1.0, 1e-12));
        assert!(close(d.ci[1] - 1.0, Z95 * 1.0f64.sqrt(), 1e-12));
        assert_eq!(
            mean(Moments {
                n: 0,
                sum: 0.0,
                sum_sq: 0.0
            }),
            None
        );
    }

    #[test]
    fn chi_square_tail_matches_tables() {
        assert!(close(chi2_sf(3.841_458_820_694_124, 1.0), 0.05, 1e-9));
        assert!(close(chi2_sf(10.827_566_170_662_733, 1.0), 0.001, 1e-9));
        assert!(close(chi2_sf(148.230_5, 99.0), 0.001, 2e-5));
        assert!(close(chi2_sf(2.0, 2.0), (-1.0f64).exp(), 1e-12));
        assert_eq!(chi2_sf(0.0, 3.0), 1.0);
    }

    #[test]
    fn srm_flags_a_skewed_split_only() {
        let fine = srm(&[9010, 990], &[9000, 1000]).unwrap();
        assert!(!fine.mismatch, "{fine:?}");
        let skewed = srm(&[9300, 700], &[9000, 1000]).unwrap();
        assert!(skewed.mismatch && skewed.p_value < 1e-10, "{skewed:?}");
        let stray = srm(&[100, 1], &[10000, 0]).unwrap();
        assert!(stray.mismatch);
        assert_eq!(srm(&[0, 0], &[5000, 5000]), None);
    }
}
