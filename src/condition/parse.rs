//! The condition language read from a manifest's `when`: `{"all": [...]}`,
//! `{"any": [...]}`, `{"not": {...}}` or `{"attr", "op", "value"}`, every operand
//! checked once here so that evaluation never fails.

use super::{
    fold, parse_semver, Case, Comparison, Condition, Scalar, TextTest, MAX_CONDITION_DEPTH,
    MAX_CONDITION_NODES, MAX_CONDITION_VALUES, MAX_TEXT_OPERAND_BYTES,
};
use crate::doc::{as_array, as_str, index_path, key_path, kind, short, Obj, Problems};
use serde_json::Value;
use std::cmp::Ordering;

const COMPARE_KEYS: &[&str] = &["attr", "op", "value", "case_insensitive"];

/// Every operator, in the order error messages list them.
const OPERATORS: &str = "eq, ne, in, not_in, lt, lte, gt, gte, starts_with, ends_with, \
contains_str, matches, contains, contains_any, contains_all, contains_none, before, after, semver_eq, semver_lt, \
semver_lte, semver_gt, semver_gte, exists";

/// The operators that take `"case_insensitive"`.
const CASE_OPERATORS: &[&str] = &[
    "eq",
    "ne",
    "in",
    "not_in",
    "starts_with",
    "ends_with",
    "contains_str",
    "contains",
    "contains_any",
    "contains_all",
    "contains_none",
    "matches",
];

/// Compiles a condition, recording every problem under `path`.
pub(crate) fn compile(v: &Value, path: &str, p: &mut Problems) -> Option<Condition> {
    compile_condition(v, path, 0, &mut 0, p)
}

fn compile_condition(
    v: &Value,
    path: &str,
    depth: usize,
    nodes: &mut usize,
    p: &mut Problems,
) -> Option<Condition> {
    *nodes += 1;
    if depth > MAX_CONDITION_DEPTH {
        p.add(
            path,
            format!("conditions nest deeper than {} levels", MAX_CONDITION_DEPTH),
        );
        return None;
    }
    if *nodes > MAX_CONDITION_NODES {
        p.add(
            path,
            format!("more than {} conditions in one rule", MAX_CONDITION_NODES),
        );
        return None;
    }
    let Some(map) = v.as_object() else {
        p.add(
            path,
            format!("expected a condition object, found {}", kind(v)),
        );
        return None;
    };
    let one = |key: &str| map.len() == 1 && map.contains_key(key);
    if one("all") || one("any") {
        let key = if one("all") { "all" } else { "any" };
        let cpath = key_path(path, key);
        let list = as_array(map.get(key)?, &cpath, p)?;
        let mut out = Vec::with_capacity(list.len());
        let mut ok = true;
        for (i, c) in list.iter().enumerate() {
            match compile_condition(c, &index_path(&cpath, i), depth + 1, nodes, p) {
                Some(c) => out.push(c),
                None => ok = false,
            }
        }
        let list = out.into_boxed_slice();
        return ok.then(|| {
            if key == "all" {
                Condition::All(list)
            } else {
                Condition::Any(list)
            }
        });
    }
    if one("not") {
        let inner =
            compile_condition(map.get("not")?, &key_path(path, "not"), depth + 1, nodes, p)?;
        return Some(Condition::Not(Box::new(inner)));
    }
    if !map.contains_key("attr") {
        p.add(path, "a condition is {\"all\": [...]}, {\"any\": [...]}, {\"not\": {...}} or {\"attr\", \"op\", \"value\"}");
        return None;
    }
    let obj = Obj::new(v, path, COMPARE_KEYS, p)?;
    let attr = obj
        .require("attr", p)
        .and_then(|a| as_str(a, &obj.at("attr"), p));
    let op = obj
        .require("op", p)
        .and_then(|o| as_str(o, &obj.at("op"), p));
    let (attr, op) = (attr?, op?);
    if attr.is_empty() {
        p.add(obj.at("attr"), "attribute name is empty");
        return None;
    }
    if attr.starts_with('$') && attr != NOW {
        p.add(
            obj.at("attr"),
            format!("attribute names starting with \"$\" are reserved (\"{attr}\" is not one)"),
        );
        return None;
    }
    let case = match obj.opt_bool("case_insensitive", p) {
        None if obj.has("case_insensitive") => return None,
        Some(true) if !CASE_OPERATORS.contains(&op) => {
            p.add(
                obj.at("case_insensitive"),
                format!("operator \"{op}\" takes no \"case_insensitive\""),
            );
            return None;
        }
        Some(true) => Case::Insensitive,
        _ => Case::Sensitive,
    };
    if attr == NOW {
        let value = obj.get("value");
        return match (op, value) {
            ("before" | "after", Some(v)) => {
                let at_ms = instant(v, &obj.at("value"), p)?;
                Some(Condition::Now {
                    before: op == "before",
                    at_ms,
                })
            }
            ("before" | "after", None) => {
                p.add(path, format!("operator \"{op}\" needs a \"value\""));
                None
            }
            _ => {
                p.add(
                    obj.at("op"),
                    format!("\"$now\" (the request's time) takes only \"before\" or \"after\" with a time, found \"{op}\""),
                );
                None
            }
        };
    }
    let value = obj.get("value");
    let vpath = obj.at("value");
    let need = |p: &mut Problems| {
        if value.is_none() {
            p.add(path, format!("operator \"{op}\" needs a \"value\""));
        }
        value
    };
    let comparison = match op {
        "exists" => {
            if value.is_some() {
                p.add(vpath, "operator \"exists\" takes no value");
                return None;
            }
            return Some(Condition::Exists(attr.into()));
        }
        "eq" => Comparison::Eq(scalar(need(p)?, &vpath, p)?.folded(case), case),
        "ne" => Comparison::Ne(scalar(need(p)?, &vpath, p)?.folded(case), case),
        "contains" => Comparison::Contains(scalar(need(p)?, &vpath, p)?.folded(case), case),
        "in" | "not_in" | "contains_any" | "contains_all" | "contains_none" => {
            let items = scalars(need(p)?, &vpath, case, p)?;
            match op {
                "in" => Comparison::In(items, case),
                "not_in" => Comparison::NotIn(items, case),
                "contains_any" => Comparison::ContainsAny(items, case),
                "contains_all" => Comparison::ContainsAll(items, case),
                _ => Comparison::ContainsNone(items, case),
            }
        }
        "lt" | "lte" | "gt" | "gte" => {
            let raw = need(p)?;
            let operand = match raw {
                Value::Number(_) | Value::String(_) => scalar(raw, &vpath, p)?,
                _ => {
                    p.add(
                        vpath,
                        format!(
                            "operator \"{op}\" compares numbers or strings; found {}",
                            kind(raw)
                        ),
                    );
                    return None;
                }
            };
            let (ord, eq) = ordering(op);
            Comparison::Order {
                ordering: ord,
                or_equal: eq,
                operand,
            }
        }
        "starts_with" | "ends_with" | "contains_str" => {
            let text = as_str(need(p)?, &vpath, p)?;
            if text.len() > MAX_TEXT_OPERAND_BYTES {
                p.add(
                    vpath,
                    format!(
                        "longer than {MAX_TEXT_OPERAND_BYTES} bytes ({} bytes)",
                        text.len()
                    ),
                );
                return None;
            }
            let test = match op {
                "starts_with" => TextTest::StartsWith,
                "ends_with" => TextTest::EndsWith,
                _ => TextTest::Contains,
            };
            let text = match case {
                Case::Insensitive => fold::fold_str(text),
                Case::Sensitive => text.into(),
            };
            Comparison::Text(test, text, case)
        }
        "matches" => {
            let source = as_str(need(p)?, &vpath, p)?;
            match super::pattern::compile(source, case == Case::Insensitive) {
                Ok(re) => Comparison::Matches(Box::new(re)),
                Err(why) => {
                    p.add(vpath, why);
                    return None;
                }
            }
        }
        "before" | "after" => Comparison::Date(op == "before", instant(need(p)?, &vpath, p)?),
        "semver_eq" | "semver_lt" | "semver_lte" | "semver_gt" | "semver_gte" => {
            let raw = need(p)?;
            let Some(version) = raw.as_str().and_then(parse_semver) else {
                p.add(
                    vpath,
                    format!(
                        "expected a SemVer version such as \"2.3.0\", found {}",
                        short(raw)
                    ),
                );
                return None;
            };
            if op == "semver_eq" {
                Comparison::SemverEq(Box::new(version))
            } else {
                let (ord, eq) = ordering(op.strip_prefix("semver_").unwrap_or(op));
                Comparison::Semver {
                    ordering: ord,
                    or_equal: eq,
                    operand: Box::new(version),
                }
            }
        }
        other => {
            p.add(
                obj.at("op"),
                format!("unknown operator \"{other}\" (expected {OPERATORS})"),
            );
            return None;
        }
    };
    Some(Condition::Compare {
        attr: attr.into(),
        op: comparison,
    })
}

/// The reserved attribute naming the request's time.
const NOW: &str = "$now";

/// An RFC 3339 time operand, as milliseconds since the Unix epoch.
fn instant(v: &Value, path: &str, p: &mut Problems) -> Option<i64> {
    match v.as_str().map(crate::time::parse_rfc3339) {
        Some(Ok(ms)) => Some(ms),
        Some(Err(e)) => {
            p.add(
                path,
                format!("expected an RFC 3339 time such as \"2026-01-01T00:00:00Z\": {e}"),
            );
            None
        }
        None => {
            p.add(
                path,
                format!(
                    "expected an RFC 3339 time such as \"2026-01-01T00:00:00Z\", found {}",
                    kind(v)
                ),
            );
            None
        }
    }
}

fn ordering(op: &str) -> (Ordering, bool) {
    match op {
        "lt" => (Ordering::Less, false),
        "lte" => (Ordering::Less, true),
        "gt" => (Ordering::Greater, false),
        _ => (Ordering::Greater, true),
    }
}

/// An array operand of scalars (folded when case-insensitive), at most
/// [`MAX_CONDITION_VALUES`] of them.
fn scalars(v: &Value, path: &str, case: Case, p: &mut Problems) -> Option<Box<[Scalar]>> {
    let list = as_array(v, path, p)?;
    if list.len() > MAX_CONDITION_VALUES {
        p.add(
            path,
            format!("more than {MAX_CONDITION_VALUES} values ({})", list.len()),
        );
        return None;
    }
    let before = p.len();
    let items: Vec<Scalar> = list
        .iter()
        .enumerate()
        .filter_map(|(i, x)| scalar(x, &index_path(path, i), p).map(|s| s.folded(case)))
        .collect();
    (p.len() == before).then(|| items.into_boxed_slice())
}

fn scalar(v: &Value, path: &str, p: &mut Problems) -> Option<Scalar> {
    let s = Scalar::from_json(v);
    if s.is_none() {
        p.add(
            path,
            format!("expected a string, number or boolean, found {}", kind(v)),
        );
    }
    s
}
