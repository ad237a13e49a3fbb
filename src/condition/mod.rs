//! The condition language of targeting rules: read once from the manifest ([`parse`]),
//! evaluated per request against its attributes.
//!
//! Coercions (the same on every platform, see docs/manifest.md):
//! - a missing or `null` attribute makes every comparison false (`exists` too);
//!   wrap a condition in `not` to match units without the attribute;
//! - `eq`/`in`: strings compare by bytes (no Unicode normalisation), booleans with
//!   booleans, and numbers numerically, where a string written as a JSON number
//!   (`"42"`, `"1.5e3"`) on either side counts as that number, also against another
//!   such string (`"7"` equals `"7.0"`);
//! - `ne`/`not_in`: the attribute is present and not equal (to any);
//! - `lt`/`lte`/`gt`/`gte`: both sides as numbers (numbers or numeric strings), else false;
//! - `semver_*`: the attribute is a SemVer 2.0 string (an optional leading `v` is
//!   allowed) compared by SemVer precedence (a prerelease sorts before its release,
//!   build metadata is ignored); anything else is false.

mod parse;

pub(crate) use parse::compile;

use crate::value::number::parse_number;
use crate::value::{Fields, Val};
use semver::Version;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// Deepest nesting of `all`/`any`/`not` in one condition.
pub const MAX_CONDITION_DEPTH: usize = 16;
/// Most comparisons in one condition tree.
pub const MAX_CONDITION_NODES: usize = 256;

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Condition {
    /// Every child holds (true when empty).
    All(Box<[Condition]>),
    /// Some child holds (false when empty).
    Any(Box<[Condition]>),
    /// The child does not hold.
    Not(Box<Condition>),
    /// The attribute is present and not null.
    Exists(Box<str>),
    /// An attribute compared with an operand.
    Compare {
        /// Attribute name (a top-level key of the request's attributes).
        attr: Box<str>,
        /// The comparison.
        op: Comparison,
    },
}

/// A comparison with its operand, checked at compile time.
#[derive(Debug, Clone)]
pub enum Comparison {
    /// Equal to the scalar.
    Eq(Scalar),
    /// Present and not equal.
    Ne(Scalar),
    /// Equal to one of the scalars.
    In(Box<[Scalar]>),
    /// Present and equal to none.
    NotIn(Box<[Scalar]>),
    /// Numeric ordering against a number.
    Num {
        /// The ordering wanted of the attribute against the operand.
        ordering: Ordering,
        /// Whether equal also holds (`lte`, `gte`).
        or_equal: bool,
        /// The number compared with.
        operand: f64,
    },
    /// SemVer precedence against a version.
    Semver {
        /// The ordering wanted of the attribute against the operand.
        ordering: Ordering,
        /// Whether equal precedence also holds (`semver_lte`, `semver_gte`).
        or_equal: bool,
        /// The version compared with.
        operand: Box<Version>,
    },
    /// SemVer precedence equal.
    SemverEq(Box<Version>),
}

/// A scalar operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A string; `num` holds its value when it is a numeric string.
    Str(Box<str>, Option<f64>),
    /// A number.
    Num(f64),
    /// A boolean.
    Bool(bool),
}

impl Scalar {
    /// Converts a JSON scalar; `None` for null, arrays and objects.
    pub(crate) fn from_json(v: &Value) -> Option<Scalar> {
        match v {
            Value::String(s) => Some(Scalar::Str(s.as_str().into(), parse_number(s))),
            Value::Number(n) => n.as_f64().map(Scalar::Num),
            Value::Bool(b) => Some(Scalar::Bool(*b)),
            _ => None,
        }
    }

    fn equals(&self, attr: Val<'_>) -> bool {
        match self {
            Scalar::Str(s, n) => match attr.as_str() {
                Some(a) => **s == *a || (n.is_some() && parse_number(a) == *n),
                None => n.is_some() && attr.as_number() == *n,
            },
            Scalar::Num(n) => as_number(attr) == Some(*n),
            Scalar::Bool(b) => attr.as_bool() == Some(*b),
        }
    }
}

/// Parses a SemVer 2.0 version, allowing one leading `v`.
pub(crate) fn parse_semver(s: &str) -> Option<Version> {
    Version::parse(s.strip_prefix('v').unwrap_or(s)).ok()
}

fn as_number(v: Val<'_>) -> Option<f64> {
    v.as_number().or_else(|| v.as_str().and_then(parse_number))
}

fn ordering_holds(got: Ordering, wanted: Ordering, or_equal: bool) -> bool {
    got == wanted || (or_equal && got == Ordering::Equal)
}

impl Condition {
    /// Evaluates against the request's attributes.
    pub fn matches(&self, attrs: &Map<String, Value>) -> bool {
        self.matches_fields(Fields::Json(attrs))
    }

    /// Whether request attributes (JSON or packed) satisfy the condition.
    pub(crate) fn matches_fields(&self, attrs: Fields<'_>) -> bool {
        match self {
            Condition::All(cs) => cs.iter().all(|c| c.matches_fields(attrs)),
            Condition::Any(cs) => cs.iter().any(|c| c.matches_fields(attrs)),
            Condition::Not(c) => !c.matches_fields(attrs),
            Condition::Exists(attr) => attrs.get(attr).is_some_and(|v| !v.is_null()),
            Condition::Compare { attr, op } => match attrs.get(attr) {
                None => false,
                Some(v) if v.is_null() => false,
                Some(v) => op.holds(v),
            },
        }
    }
}

impl Comparison {
    fn holds(&self, v: Val<'_>) -> bool {
        match self {
            Comparison::Eq(s) => s.equals(v),
            Comparison::Ne(s) => !s.equals(v),
            Comparison::In(list) => list.iter().any(|s| s.equals(v)),
            Comparison::NotIn(list) => !list.iter().any(|s| s.equals(v)),
            Comparison::Num {
                ordering,
                or_equal,
                operand,
            } => as_number(v)
                .and_then(|a| a.partial_cmp(operand))
                .is_some_and(|got| ordering_holds(got, *ordering, *or_equal)),
            Comparison::Semver {
                ordering,
                or_equal,
                operand,
            } => semver_of(v)
                .is_some_and(|a| ordering_holds(a.cmp_precedence(operand), *ordering, *or_equal)),
            Comparison::SemverEq(x) => {
                semver_of(v).is_some_and(|a| a.cmp_precedence(x) == Ordering::Equal)
            }
        }
    }
}

fn semver_of(v: Val<'_>) -> Option<Version> {
    v.as_str().and_then(parse_semver)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn cmp(attr: &str, op: Comparison) -> Condition {
        Condition::Compare {
            attr: attr.into(),
            op,
        }
    }

    fn s(x: &str) -> Scalar {
        Scalar::from_json(&json!(x)).unwrap()
    }

    #[test]
    fn eq_coerces_numeric_strings_only() {
        let c = cmp("n", Comparison::Eq(Scalar::Num(42.0)));
        assert!(c.matches(&attrs(json!({"n": 42}))));
        assert!(c.matches(&attrs(json!({"n": 42.0}))));
        assert!(c.matches(&attrs(json!({"n": "42"}))));
        assert!(c.matches(&attrs(json!({"n": "4.2e1"}))));
        assert!(!c.matches(&attrs(json!({"n": "42 "}))));
        assert!(!c.matches(&attrs(json!({"n": true}))));
        let c = cmp("plan", Comparison::Eq(s("pro")));
        assert!(c.matches(&attrs(json!({"plan": "pro"}))));
        assert!(!c.matches(&attrs(json!({"plan": "Pro"}))));
        let c = cmp("n", Comparison::Eq(s("7")));
        assert!(c.matches(&attrs(json!({"n": 7}))));
    }

    #[test]
    fn strings_are_not_normalised() {
        // "é" precomposed versus e + combining acute.
        let c = cmp("city", Comparison::Eq(s("caf\u{e9}")));
        assert!(c.matches(&attrs(json!({"city": "caf\u{e9}"}))));
        assert!(!c.matches(&attrs(json!({"city": "cafe\u{301}"}))));
    }

    #[test]
    fn missing_attributes_match_nothing_but_not() {
        let ne = cmp("plan", Comparison::Ne(s("pro")));
        let not_in = cmp("plan", Comparison::NotIn(vec![s("pro")].into()));
        let none = attrs(json!({"plan": null}));
        assert!(!ne.matches(&none));
        assert!(!not_in.matches(&none));
        assert!(!Condition::Exists("plan".into()).matches(&none));
        assert!(Condition::Not(Box::new(Condition::Exists("plan".into()))).matches(&none));
        assert!(ne.matches(&attrs(json!({"plan": "free"}))));
        assert!(ne.matches(&attrs(json!({"plan": 3}))));
    }

    #[test]
    fn numeric_ordering() {
        let c = cmp(
            "age",
            Comparison::Num {
                ordering: Ordering::Greater,
                or_equal: true,
                operand: 18.0,
            },
        );
        assert!(c.matches(&attrs(json!({"age": 18}))));
        assert!(c.matches(&attrs(json!({"age": "19"}))));
        assert!(!c.matches(&attrs(json!({"age": 17.5}))));
        assert!(!c.matches(&attrs(json!({"age": "adult"}))));
        let c = cmp(
            "age",
            Comparison::Num {
                ordering: Ordering::Less,
                or_equal: false,
                operand: 18.0,
            },
        );
        assert!(!c.matches(&attrs(json!({"age": 18}))));
    }

    #[test]
    fn semver_precedence() {
        let v = Box::new(parse_semver("2.3.0").unwrap());
        let gte = cmp(
            "app",
            Comparison::Semver {
                ordering: Ordering::Greater,
                or_equal: true,
                operand: v.clone(),
            },
        );
        assert!(gte.matches(&attrs(json!({"app": "2.3.0"}))));
        assert!(gte.matches(&attrs(json!({"app": "v2.10.1"}))));
        assert!(!gte.matches(&attrs(json!({"app": "2.3.0-beta.1"}))));
        assert!(!gte.matches(&attrs(json!({"app": "2.3"}))));
        let eq = cmp("app", Comparison::SemverEq(v));
        assert!(eq.matches(&attrs(json!({"app": "2.3.0+build.7"}))));
    }

    #[test]
    fn all_any_empty() {
        let a = attrs(json!({}));
        assert!(Condition::All(Box::new([])).matches(&a));
        assert!(!Condition::Any(Box::new([])).matches(&a));
    }
}
