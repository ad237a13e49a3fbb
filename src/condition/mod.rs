//! The condition language of targeting rules: read once from the manifest ([`parse`]),
//! evaluated per request against its attributes (and the request's time, for `$now`).
//!
//! Coercions (the same on every platform, see docs/manifest.md "Conditions"):
//! - a missing or `null` attribute makes every comparison false (`exists` too);
//!   wrap a condition in `not` to match units without the attribute;
//! - `eq`/`in`: two strings compare by their bytes (no Unicode normalisation; with
//!   `case_insensitive`, by their simple case folding, [`fold`]), booleans with
//!   booleans, numbers numerically; a string written as a JSON number (`"42"`,
//!   `"1.5e3"`) counts as that number only against a number (`"7"` equals `7`, not
//!   `"7.0"`);
//! - `ne`/`not_in`: the attribute is present and not equal (to any);
//! - `lt`/`lte`/`gt`/`gte`: against a number, both sides as numbers; against a string,
//!   a string attribute by its bytes (a number attribute numerically when the operand is
//!   a numeric string); anything else is false;
//! - list attributes (arrays of scalars): `contains*` test their items, `in`/`not_in`
//!   whether any item is listed, `ne` holds (a list equals no scalar), all else is false;
//! - `matches`: a string attribute, searched (unanchored) by a [`pattern`];
//! - `before`/`after`: the attribute is an RFC 3339 time (any offset), strictly before
//!   or after the value's instant; `$now` is the request's time, given by the shell;
//! - `semver_*`: the attribute is a SemVer 2.0 string (an optional leading `v` is
//!   allowed) compared by SemVer precedence (a prerelease sorts before its release,
//!   build metadata is ignored); anything else is false.

pub(crate) mod fold;
mod parse;
pub mod pattern;

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
/// Most values in one operand array (`in`, `not_in`, `contains_any`/`_all`/`_none`).
pub const MAX_CONDITION_VALUES: usize = 1_000;
/// Longest string operand of `starts_with`, `ends_with` and `contains_str`, in bytes
/// (it bounds the case-insensitive search, which tries the operand at each character).
pub const MAX_TEXT_OPERAND_BYTES: usize = 1_024;
/// Most items of a list attribute that list operators read; a longer list matches no
/// operator (so that a request cannot make one comparison cost more than this bound
/// times [`MAX_CONDITION_VALUES`]).
pub const MAX_ATTRIBUTE_LIST_ITEMS: usize = 256;

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
    /// The request's time (`"attr": "$now"`) before (`true`) or after the instant; false
    /// when the request gives no time.
    Now {
        /// `before` (`true`) or `after`.
        before: bool,
        /// The instant, in milliseconds since the Unix epoch.
        at_ms: i64,
    },
    /// An attribute compared with an operand.
    Compare {
        /// Attribute name (a top-level key of the request's attributes).
        attr: Box<str>,
        /// The comparison.
        op: Comparison,
    },
}

/// Whether strings compare exactly or by their simple case folding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// By their bytes.
    Sensitive,
    /// By their Unicode simple case folding (`"case_insensitive": true`).
    Insensitive,
}

/// Which part of a string attribute a text operator tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextTest {
    /// `starts_with`.
    StartsWith,
    /// `ends_with`.
    EndsWith,
    /// `contains_str`.
    Contains,
}

/// A comparison with its operand, checked at compile time.
#[derive(Debug, Clone)]
pub enum Comparison {
    /// Equal to the scalar.
    Eq(Scalar, Case),
    /// Present and not equal.
    Ne(Scalar, Case),
    /// Equal to one of the scalars (a list attribute: one of its items is).
    In(Box<[Scalar]>, Case),
    /// Present and equal to none (a list attribute: none of its items is).
    NotIn(Box<[Scalar]>, Case),
    /// Ordering against a number (numerically) or a string (by bytes).
    Order {
        /// The ordering wanted of the attribute against the operand.
        ordering: Ordering,
        /// Whether equal also holds (`lte`, `gte`).
        or_equal: bool,
        /// The number or string compared with (never a boolean).
        operand: Scalar,
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
    /// A string attribute starts with, ends with or contains the operand (folded when
    /// case-insensitive).
    Text(TextTest, Box<str>, Case),
    /// A string attribute matches the regular expression somewhere ([`pattern`]).
    Matches(Box<regex_lite::Regex>),
    /// An RFC 3339 attribute is strictly before (`true`) or after the instant (ms).
    Date(bool, i64),
    /// A list attribute has an item equal to the scalar.
    Contains(Scalar, Case),
    /// A list attribute has an item equal to one of the scalars.
    ContainsAny(Box<[Scalar]>, Case),
    /// A list attribute has, for each scalar, an item equal to it.
    ContainsAll(Box<[Scalar]>, Case),
    /// A list attribute has no item equal to any of the scalars.
    ContainsNone(Box<[Scalar]>, Case),
}

/// A scalar operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A string (folded when its comparison is case-insensitive); `num` holds its
    /// value when it is a numeric string.
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

    /// The scalar as a case-insensitive comparison holds it: a string folded once.
    pub(crate) fn folded(self, case: Case) -> Scalar {
        match (self, case) {
            (Scalar::Str(s, n), Case::Insensitive) => Scalar::Str(fold::fold_str(&s), n),
            (other, _) => other,
        }
    }

    fn equals(&self, attr: Val<'_>, case: Case) -> bool {
        match self {
            // Two strings compare as text only; a numeric string is a number only
            // against a number (docs/manifest.md, "Coercions").
            Scalar::Str(s, n) => match attr.as_str() {
                Some(a) => match case {
                    Case::Sensitive => **s == *a,
                    Case::Insensitive => fold::eq(s, a),
                },
                None => n.is_some() && attr.as_number() == *n,
            },
            Scalar::Num(n) => as_number(attr) == Some(*n),
            Scalar::Bool(b) => attr.as_bool() == Some(*b),
        }
    }

    /// How the attribute orders against this operand, when they are comparable.
    fn order_of(&self, attr: Val<'_>) -> Option<Ordering> {
        match self {
            Scalar::Num(x) => as_number(attr).and_then(|a| a.partial_cmp(x)),
            Scalar::Str(s, n) => match attr.as_str() {
                Some(a) => Some(a.as_bytes().cmp(s.as_bytes())),
                None => attr
                    .as_number()
                    .zip(*n)
                    .and_then(|(a, x)| a.partial_cmp(&x)),
            },
            Scalar::Bool(_) => None,
        }
    }

    fn in_list(list: &[Scalar], attr: Val<'_>, case: Case) -> bool {
        list.iter().any(|s| s.equals(attr, case))
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
    /// Whether it reads the request's time (`$now`) anywhere: only such a decision
    /// depends on when it was made.
    pub fn uses_now(&self) -> bool {
        match self {
            Condition::All(cs) | Condition::Any(cs) => cs.iter().any(Condition::uses_now),
            Condition::Not(c) => c.uses_now(),
            Condition::Now { .. } => true,
            Condition::Exists(_) | Condition::Compare { .. } => false,
        }
    }

    /// Evaluates against the request's attributes, at the request's time `now_ms`
    /// (milliseconds since the Unix epoch; `None`: `$now` conditions are false).
    pub fn matches(&self, attrs: &Map<String, Value>, now_ms: Option<i64>) -> bool {
        self.matches_fields(Fields::Json(attrs), now_ms)
    }

    /// Whether request attributes (JSON or packed) satisfy the condition.
    pub(crate) fn matches_fields(&self, attrs: Fields<'_>, now_ms: Option<i64>) -> bool {
        match self {
            Condition::All(cs) => cs.iter().all(|c| c.matches_fields(attrs, now_ms)),
            Condition::Any(cs) => cs.iter().any(|c| c.matches_fields(attrs, now_ms)),
            Condition::Not(c) => !c.matches_fields(attrs, now_ms),
            Condition::Exists(attr) => attrs.get(attr).is_some_and(|v| !v.is_null()),
            Condition::Now { before, at_ms } => {
                now_ms.is_some_and(|now| date_holds(now, *before, *at_ms))
            }
            Condition::Compare { attr, op } => match attrs.get(attr) {
                None => false,
                Some(v) if v.is_null() => false,
                Some(v) => op.holds(v),
            },
        }
    }
}

/// The items of a list attribute, when it is one of at most
/// [`MAX_ATTRIBUTE_LIST_ITEMS`] items; `Err(())` for a longer list.
fn list_items<'a>(v: Val<'a>) -> Option<Result<impl Iterator<Item = Val<'a>> + Clone, ()>> {
    let n = v.list_len()?;
    if n > MAX_ATTRIBUTE_LIST_ITEMS {
        return Some(Err(()));
    }
    Some(Ok((0..n).filter_map(move |i| v.list_item(i))))
}

impl Comparison {
    fn holds(&self, v: Val<'_>) -> bool {
        let items = list_items(v);
        if let Some(Err(())) = items {
            return false;
        }
        let items = items.and_then(Result::ok);
        match self {
            // On a list, as `in`/`not_in` (and LaunchDarkly's clauses): some item equals /
            // none does, so that an exclusion written with `ne` keeps a listed unit out.
            Comparison::Eq(s, case) => match items {
                Some(mut items) => items.any(|x| s.equals(x, *case)),
                None => s.equals(v, *case),
            },
            Comparison::Ne(s, case) => match items {
                Some(mut items) => !items.any(|x| s.equals(x, *case)),
                None => !s.equals(v, *case),
            },
            Comparison::In(list, case) => match items {
                Some(mut items) => items.any(|x| Scalar::in_list(list, x, *case)),
                None => Scalar::in_list(list, v, *case),
            },
            Comparison::NotIn(list, case) => match items {
                Some(mut items) => !items.any(|x| Scalar::in_list(list, x, *case)),
                None => !Scalar::in_list(list, v, *case),
            },
            Comparison::Order {
                ordering,
                or_equal,
                operand,
            } => operand
                .order_of(v)
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
            Comparison::Text(test, operand, case) => v
                .as_str()
                .is_some_and(|a| text_holds(*test, a, operand, *case)),
            Comparison::Matches(re) => v.as_str().is_some_and(|a| re.is_match(a)),
            Comparison::Date(before, at_ms) => v
                .as_str()
                .and_then(crate::time::parse_rfc3339_ms)
                .is_some_and(|t| date_holds(t, *before, *at_ms)),
            Comparison::Contains(s, case) => {
                items.is_some_and(|mut items| items.any(|x| s.equals(x, *case)))
            }
            Comparison::ContainsAny(list, case) => {
                items.is_some_and(|mut items| items.any(|x| Scalar::in_list(list, x, *case)))
            }
            Comparison::ContainsAll(list, case) => items.is_some_and(|items| {
                list.iter()
                    .all(|s| items.clone().any(|x| s.equals(x, *case)))
            }),
            Comparison::ContainsNone(list, case) => {
                items.is_some_and(|mut items| !items.any(|x| Scalar::in_list(list, x, *case)))
            }
        }
    }
}

/// Whether the instant `t` is strictly before (or after) `at_ms`.
fn date_holds(t: i64, before: bool, at_ms: i64) -> bool {
    if before {
        t < at_ms
    } else {
        t > at_ms
    }
}

fn text_holds(test: TextTest, attr: &str, operand: &str, case: Case) -> bool {
    match (test, case) {
        (TextTest::StartsWith, Case::Sensitive) => attr.starts_with(operand),
        (TextTest::EndsWith, Case::Sensitive) => attr.ends_with(operand),
        (TextTest::Contains, Case::Sensitive) => attr.contains(operand),
        (TextTest::StartsWith, Case::Insensitive) => fold::starts_with(attr, operand),
        (TextTest::EndsWith, Case::Insensitive) => fold::ends_with(attr, operand),
        (TextTest::Contains, Case::Insensitive) => fold::contains(attr, operand),
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
        let c = cmp("n", Comparison::Eq(Scalar::Num(42.0), Case::Sensitive));
        assert!(c.matches(&attrs(json!({"n": 42})), None));
        assert!(c.matches(&attrs(json!({"n": 42.0})), None));
        assert!(c.matches(&attrs(json!({"n": "42"})), None));
        assert!(c.matches(&attrs(json!({"n": "4.2e1"})), None));
        assert!(!c.matches(&attrs(json!({"n": "42 "})), None));
        assert!(!c.matches(&attrs(json!({"n": true})), None));
        let c = cmp("plan", Comparison::Eq(s("pro"), Case::Sensitive));
        assert!(c.matches(&attrs(json!({"plan": "pro"})), None));
        assert!(!c.matches(&attrs(json!({"plan": "Pro"})), None));
        let c = cmp("n", Comparison::Eq(s("7"), Case::Sensitive));
        assert!(c.matches(&attrs(json!({"n": 7})), None));
        // Two strings compare by their bytes, numeric or not.
        assert!(!c.matches(&attrs(json!({"n": "7.0"})), None));
        assert!(c.matches(&attrs(json!({"n": "7"})), None));
    }

    #[test]
    fn strings_are_not_normalised() {
        // "é" precomposed versus e + combining acute.
        let c = cmp("city", Comparison::Eq(s("caf\u{e9}"), Case::Sensitive));
        assert!(c.matches(&attrs(json!({"city": "caf\u{e9}"})), None));
        assert!(!c.matches(&attrs(json!({"city": "cafe\u{301}"})), None));
    }

    #[test]
    fn missing_attributes_match_nothing_but_not() {
        let ne = cmp("plan", Comparison::Ne(s("pro"), Case::Sensitive));
        let not_in = cmp(
            "plan",
            Comparison::NotIn(vec![s("pro")].into(), Case::Sensitive),
        );
        let none = attrs(json!({"plan": null}));
        assert!(!ne.matches(&none, None));
        assert!(!not_in.matches(&none, None));
        assert!(!Condition::Exists("plan".into()).matches(&none, None));
        assert!(Condition::Not(Box::new(Condition::Exists("plan".into()))).matches(&none, None));
        assert!(ne.matches(&attrs(json!({"plan": "free"})), None));
        assert!(ne.matches(&attrs(json!({"plan": 3})), None));
    }

    #[test]
    fn numeric_ordering() {
        let c = cmp(
            "age",
            Comparison::Order {
                ordering: Ordering::Greater,
                or_equal: true,
                operand: Scalar::Num(18.0),
            },
        );
        assert!(c.matches(&attrs(json!({"age": 18})), None));
        assert!(c.matches(&attrs(json!({"age": "19"})), None));
        assert!(!c.matches(&attrs(json!({"age": 17.5})), None));
        assert!(!c.matches(&attrs(json!({"age": "adult"})), None));
        let c = cmp(
            "age",
            Comparison::Order {
                ordering: Ordering::Less,
                or_equal: false,
                operand: Scalar::Num(18.0),
            },
        );
        assert!(!c.matches(&attrs(json!({"age": 18})), None));
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
        assert!(gte.matches(&attrs(json!({"app": "2.3.0"})), None));
        assert!(gte.matches(&attrs(json!({"app": "v2.10.1"})), None));
        assert!(!gte.matches(&attrs(json!({"app": "2.3.0-beta.1"})), None));
        assert!(!gte.matches(&attrs(json!({"app": "2.3"})), None));
        let eq = cmp("app", Comparison::SemverEq(v));
        assert!(eq.matches(&attrs(json!({"app": "2.3.0+build.7"})), None));
    }

    #[test]
    fn list_attributes() {
        let groups = attrs(json!({"g": ["beta", "Staff", 3, true, null, ["x"]]}));
        let c = |op| cmp("g", op);
        let ci = Case::Insensitive;
        assert!(c(Comparison::Contains(s("beta"), Case::Sensitive)).matches(&groups, None));
        assert!(!c(Comparison::Contains(s("staff"), Case::Sensitive)).matches(&groups, None));
        assert!(c(Comparison::Contains(s("staff").folded(ci), ci)).matches(&groups, None));
        assert!(c(Comparison::Contains(Scalar::Num(3.0), ci)).matches(&groups, None));
        assert!(!c(Comparison::Contains(s("x"), ci)).matches(&groups, None));
        let list = |xs: &[Scalar]| xs.to_vec().into_boxed_slice();
        let any = list(&[s("a"), Scalar::Bool(true)]);
        assert!(c(Comparison::ContainsAny(any.clone(), ci)).matches(&groups, None));
        assert!(!c(Comparison::ContainsNone(any.clone(), ci)).matches(&groups, None));
        assert!(c(Comparison::In(any.clone(), ci)).matches(&groups, None));
        assert!(!c(Comparison::NotIn(any, ci)).matches(&groups, None));
        let all = list(&[s("beta"), Scalar::Num(3.0)]);
        assert!(c(Comparison::ContainsAll(all, ci)).matches(&groups, None));
        let all = list(&[s("beta"), Scalar::Num(4.0)]);
        assert!(!c(Comparison::ContainsAll(all, ci)).matches(&groups, None));
        assert!(c(Comparison::ContainsAll(list(&[]), ci)).matches(&groups, None));
        // A scalar attribute is no list.
        let one = attrs(json!({"g": "beta"}));
        assert!(!c(Comparison::Contains(s("beta"), ci)).matches(&one, None));
        assert!(!c(Comparison::ContainsNone(list(&[s("x")]), ci)).matches(&one, None));
        // A list over the bound matches no operator.
        let long: Vec<Value> = (0..=MAX_ATTRIBUTE_LIST_ITEMS).map(|i| json!(i)).collect();
        let long = attrs(json!({ "g": long }));
        assert!(!c(Comparison::Contains(Scalar::Num(1.0), ci)).matches(&long, None));
        assert!(!c(Comparison::ContainsNone(list(&[s("x")]), ci)).matches(&long, None));
    }

    #[test]
    fn text_operators_and_string_order() {
        let a = attrs(json!({"e": "Ada@Example.com", "n": 9}));
        let t = |test, op: &str, case| {
            let op = match case {
                Case::Insensitive => fold::fold_str(op),
                Case::Sensitive => op.into(),
            };
            cmp("e", Comparison::Text(test, op, case))
        };
        assert!(t(TextTest::EndsWith, "@Example.com", Case::Sensitive).matches(&a, None));
        assert!(!t(TextTest::EndsWith, "@example.com", Case::Sensitive).matches(&a, None));
        assert!(t(TextTest::EndsWith, "@EXAMPLE.COM", Case::Insensitive).matches(&a, None));
        assert!(t(TextTest::StartsWith, "ada", Case::Insensitive).matches(&a, None));
        assert!(t(TextTest::Contains, "@ex", Case::Insensitive).matches(&a, None));
        assert!(!t(TextTest::Contains, "@ex", Case::Sensitive).matches(&a, None));
        let order = |attr: &str, ordering, operand| {
            cmp(
                attr,
                Comparison::Order {
                    ordering,
                    or_equal: false,
                    operand,
                },
            )
        };
        // By bytes: "B" (0x42) sorts before "a" (0x61).
        assert!(order("e", Ordering::Less, s("a")).matches(&a, None));
        assert!(order("e", Ordering::Greater, s("ADA")).matches(&a, None));
        // A numeric string operand against a number attribute: numerically.
        assert!(order("n", Ordering::Less, s("10")).matches(&a, None));
        assert!(!order("n", Ordering::Less, s("ten")).matches(&a, None));
    }

    #[test]
    fn now_needs_a_time() {
        let c = Condition::Now {
            before: true,
            at_ms: 1_000,
        };
        let none = attrs(json!({}));
        assert!(c.matches(&none, Some(999)));
        assert!(!c.matches(&none, Some(1_000)));
        assert!(!c.matches(&none, None));
        assert!(Condition::Not(Box::new(c)).matches(&none, None));
    }

    #[test]
    fn all_any_empty() {
        let a = attrs(json!({}));
        assert!(Condition::All(Box::new([])).matches(&a, None));
        assert!(!Condition::Any(Box::new([])).matches(&a, None));
    }
}
