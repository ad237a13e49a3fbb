//! Exposure and outcome events: the schema every shell emits, ids and batching.
//!
//! Shells fill in what only they know (time, location, keyed unit hash); the engine
//! fixes the shape and the identity rules so that a redelivered event counts once.

pub mod token;

use token::TokenClaims;

use crate::manifest::MetricKind;
use crate::value::canonical::sha256_hex;
use serde::{Deserialize, Serialize};

/// One served decision, as recorded for metrics. Never carries the raw unit id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exposure {
    /// Event id (derived from the decision's token by the shell).
    pub id: String,
    /// Prompt name.
    pub prompt: String,
    /// Label name.
    pub label: String,
    /// Version served.
    pub version: u32,
    /// Matching rule, or `default`.
    pub rule: String,
    /// Bucket in [0, 10000).
    pub bucket: u16,
    /// Keyed hash of the unit id (HMAC by the shell), never the id itself.
    pub unit_hash: String,
    /// Manifest revision the decision came from.
    pub revision: u64,
    /// The route's weights period (metrics are kept per period).
    pub period: String,
    /// Milliseconds since the Unix epoch, from the shell's clock.
    pub time_ms: u64,
    /// Where it was served (an edge location code, or `client`).
    pub location: String,
    /// Whether a forced-unit rule decided it (left out of comparisons).
    pub forced: bool,
}

/// One outcome reported against an exposure; carries the exposure's identity (from
/// its verified token) so that aggregation needs no lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Event id: see [`outcome_id`].
    pub id: String,
    /// The exposure it belongs to.
    pub exposure_id: String,
    /// Prompt name.
    pub prompt: String,
    /// Label name.
    pub label: String,
    /// Version that was served.
    pub version: u32,
    /// The route's weights period of the exposure.
    pub period: String,
    /// Keyed hash of the unit.
    pub unit_hash: String,
    /// Whether a forced-unit rule decided the exposure (left out of comparisons).
    pub forced: bool,
    /// The rule that decided the exposure (an outcome that arrives before its exposure
    /// creates the unit; empty in events queued before this field existed).
    #[serde(default)]
    pub rule: String,
    /// Metric name (declared in the manifest).
    pub metric: String,
    /// The metric's kind, as declared when the outcome was accepted.
    pub kind: MetricKind,
    /// The value (0 or 1 for binary metrics).
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
}

/// An event on the queue, externally tagged (`{"exposure": {...}}`), which decodes
/// without buffering (smaller and faster in Wasm than an internal tag).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A served decision.
    Exposure(Exposure),
    /// A reported outcome.
    Outcome(Outcome),
}

impl Exposure {
    /// The exposure a signed token vouches for, with its id (the token's, see
    /// [`token::exposure_id`]), time and serving location.
    pub fn new(id: String, claims: TokenClaims, time_ms: u64, location: String) -> Self {
        Exposure {
            id,
            prompt: claims.prompt,
            label: claims.label,
            version: claims.version,
            rule: claims.rule,
            bucket: claims.bucket,
            unit_hash: claims.unit_hash,
            revision: claims.revision,
            period: claims.period,
            time_ms,
            location,
            forced: claims.forced,
        }
    }
}

/// What an outcome reports, besides the exposure its token names.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The client's id for the outcome, if any (see [`outcome_id`]).
    pub client_id: Option<String>,
    /// Metric name (declared in the manifest).
    pub metric: String,
    /// The metric's kind, as declared.
    pub kind: MetricKind,
    /// The value, checked by [`outcome_value`].
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
}

impl Outcome {
    /// The outcome of the exposure `exposure_id` whose verified token gave `claims`.
    pub fn new(exposure_id: String, claims: TokenClaims, report: Report) -> Self {
        Outcome {
            id: outcome_id(&exposure_id, report.client_id.as_deref(), &report.metric),
            exposure_id,
            prompt: claims.prompt,
            label: claims.label,
            version: claims.version,
            period: claims.period,
            unit_hash: claims.unit_hash,
            forced: claims.forced,
            rule: claims.rule,
            metric: report.metric,
            kind: report.kind,
            value: report.value,
            time_ms: report.time_ms,
        }
    }
}

/// An outcome's id: SHA-256 of the exposure id and the client's id, or the metric when
/// no id is given, so ids chosen by different clients never collide.
pub fn outcome_id(exposure_id: &str, client_id: Option<&str>, metric: &str) -> String {
    let (tag, part) = match client_id {
        Some(id) => ("id", id),
        None => ("metric", metric),
    };
    let mut bytes = Vec::with_capacity(exposure_id.len() + part.len() + 8);
    bytes.extend_from_slice(exposure_id.as_bytes());
    bytes.push(0xFF);
    bytes.extend_from_slice(tag.as_bytes());
    bytes.push(0xFF);
    bytes.extend_from_slice(part.as_bytes());
    sha256_hex(&bytes)
}

/// Splits events into batches of at most `max_count` items and `max_bytes` of JSON
/// each (an event larger than `max_bytes` travels alone).
pub fn batches(events: &[Event], max_count: usize, max_bytes: usize) -> Vec<Vec<&Event>> {
    let mut out: Vec<Vec<&Event>> = Vec::new();
    let mut current: Vec<&Event> = Vec::new();
    let mut size = 0usize;
    for e in events {
        let n = serde_json::to_string(e).map(|s| s.len()).unwrap_or(0);
        if !current.is_empty() && (current.len() >= max_count.max(1) || size + n > max_bytes) {
            out.push(std::mem::take(&mut current));
            size = 0;
        }
        current.push(e);
        size += n;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Why an outcome was refused: a stable code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeError {
    /// `undeclared_metric`, `invalid_value` or `missing_id`.
    pub code: &'static str,
    /// What is wrong, naming the metric.
    pub message: String,
}

/// Largest magnitude of an outcome value: sums of values and of their squares stay
/// finite and exact to well below a unit in any order of addition.
pub const MAX_VALUE: f64 = 1e12;

/// Checks an outcome against its metric's declaration (the same rules at the edge and
/// in the npm client, which checks before it queues): its numeric value, finite and at
/// most [`MAX_VALUE`] in magnitude; a count a whole number.
pub fn outcome_value(
    metric: &str,
    kind: Option<MetricKind>,
    value: &serde_json::Value,
    has_id: bool,
) -> Result<f64, OutcomeError> {
    use serde_json::Value;
    let bad = |code, reason: &str| OutcomeError {
        code,
        message: format!("metric \"{metric}\": {reason}"),
    };
    let Some(kind) = kind else {
        return Err(OutcomeError {
            code: "undeclared_metric",
            message: format!("metric \"{metric}\" is not declared in the manifest"),
        });
    };
    let number = value
        .as_f64()
        .filter(|x| x.is_finite() && x.abs() <= MAX_VALUE);
    let v = match (kind, value) {
        (MetricKind::Binary, Value::Bool(b)) => Some(f64::from(u8::from(*b))),
        (MetricKind::Binary, _) => number.filter(|x| *x == 0.0 || *x == 1.0),
        (MetricKind::Continuous, _) => number,
        (MetricKind::Count, _) => number.filter(|x| *x >= 0.0 && x.fract() == 0.0),
    };
    let Some(v) = v else {
        return Err(bad(
            "invalid_value",
            match kind {
                MetricKind::Binary => "a binary metric takes 0, 1, false or true",
                MetricKind::Continuous => {
                    "a continuous metric takes a finite number of magnitude at most 1e12"
                }
                MetricKind::Count => "a count metric takes a whole number from 0 to 1e12",
            },
        ));
    };
    if kind == MetricKind::Count && !has_id {
        return Err(bad(
            "missing_id",
            "a count metric needs an \"id\" per event, so that a repeat is recognised",
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::{outcome_value, MetricKind};

    #[test]
    fn outcome_values_follow_the_metric_kind() {
        let ok = |k, v: serde_json::Value, id| outcome_value("m", Some(k), &v, id);
        let code = |k, v: serde_json::Value, id| ok(k, v, id).unwrap_err().code;
        assert_eq!(
            ok(MetricKind::Binary, serde_json::json!(true), false),
            Ok(1.0)
        );
        assert_eq!(ok(MetricKind::Binary, serde_json::json!(0), false), Ok(0.0));
        assert_eq!(
            code(MetricKind::Binary, serde_json::json!(0.5), false),
            "invalid_value"
        );
        assert_eq!(
            code(MetricKind::Binary, serde_json::json!("1"), false),
            "invalid_value"
        );
        assert_eq!(
            ok(MetricKind::Continuous, serde_json::json!(-2.5), false),
            Ok(-2.5)
        );
        assert_eq!(
            code(MetricKind::Continuous, serde_json::json!(true), false),
            "invalid_value"
        );
        assert_eq!(ok(MetricKind::Count, serde_json::json!(3), true), Ok(3.0));
        assert_eq!(
            code(MetricKind::Count, serde_json::json!(-1), true),
            "invalid_value"
        );
        assert_eq!(
            code(MetricKind::Count, serde_json::json!(1.5), true),
            "invalid_value"
        );
        for v in [1e200, -1.000_001e12, f64::MAX] {
            assert_eq!(
                code(MetricKind::Continuous, serde_json::json!(v), false),
                "invalid_value",
                "{v}"
            );
        }
        assert_eq!(
            ok(MetricKind::Continuous, serde_json::json!(-1e12), false),
            Ok(-1e12)
        );
        assert_eq!(
            code(MetricKind::Count, serde_json::json!(3), false),
            "missing_id"
        );
        let e = outcome_value("x", None, &serde_json::json!(1), true).unwrap_err();
        assert_eq!(e.code, "undeclared_metric");
        assert!(e.message.contains("\"x\""));
    }

    use super::*;

    fn outcome(i: u32) -> Event {
        Event::Outcome(Outcome {
            id: format!("o{i}"),
            exposure_id: "e".into(),
            prompt: "support".into(),
            label: "production".into(),
            version: 2,
            period: "0123456789abcdef".into(),
            unit_hash: "ab".repeat(16),
            forced: false,
            rule: "default".into(),
            metric: "resolved".into(),
            kind: MetricKind::Binary,
            value: 1.0,
            time_ms: 0,
        })
    }

    #[test]
    fn outcome_ids_separate_clients_and_metrics() {
        let a = outcome_id("exp1", Some("x"), "m");
        assert_eq!(a, outcome_id("exp1", Some("x"), "other"));
        assert_ne!(a, outcome_id("exp2", Some("x"), "m"));
        // A client id equal to a metric name must not collide with the metric-derived id.
        assert_ne!(
            outcome_id("exp1", Some("m"), "m"),
            outcome_id("exp1", None, "m")
        );
    }

    #[test]
    fn batching_respects_count_and_size() {
        let events: Vec<Event> = (0..25).map(outcome).collect();
        let b = batches(&events, 10, usize::MAX);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 10, 5]);
        let one = serde_json::to_string(&events[0]).unwrap().len();
        let b = batches(&events, 100, one * 3);
        assert!(b.iter().all(|x| x.len() <= 3));
        assert_eq!(b.iter().map(Vec::len).sum::<usize>(), 25);
    }

    #[test]
    fn events_are_tagged_on_the_wire() {
        let s = serde_json::to_string(&outcome(1)).unwrap();
        assert!(s.starts_with("{\"outcome\":{\"id\":"), "{s}");
        let back: Event = serde_json::from_str(&s).unwrap();
        assert_eq!(back, outcome(1));
    }
}
