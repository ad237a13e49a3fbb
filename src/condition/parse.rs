//! The condition language read from a manifest's `when`: `{"all": [...]}`,
//! `{"any": [...]}`, `{"not": {...}}` or `{"attr", "op", "value"}`, every operand
//! checked once here so that evaluation never fails.

use super::{
    parse_semver, Comparison, Condition, Scalar, MAX_CONDITION_DEPTH, MAX_CONDITION_NODES,
};
use crate::doc::{as_array, as_str, index_path, key_path, kind, short, Obj, Problems};
use serde_json::Value;
use std::cmp::Ordering;

const COMPARE_KEYS: &[&str] = &["attr", "op", "value"];

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
        "eq" => Comparison::Eq(scalar(need(p)?, &vpath, p)?),
        "ne" => Comparison::Ne(scalar(need(p)?, &vpath, p)?),
        "in" | "not_in" => {
            let list = as_array(need(p)?, &vpath, p)?;
            let before = p.len();
            let items: Vec<Scalar> = list
                .iter()
                .enumerate()
                .filter_map(|(i, x)| scalar(x, &index_path(&vpath, i), p))
                .collect();
            if p.len() > before {
                return None;
            }
            if op == "in" {
                Comparison::In(items.into_boxed_slice())
            } else {
                Comparison::NotIn(items.into_boxed_slice())
            }
        }
        "lt" | "lte" | "gt" | "gte" => {
            let x = match need(p)?.as_f64() {
                Some(x) => x,
                None => {
                    p.add(
                        vpath,
                        format!("operator \"{op}\" compares numbers; value must be a number"),
                    );
                    return None;
                }
            };
            let (ord, eq) = ordering(op);
            Comparison::Num {
                ordering: ord,
                or_equal: eq,
                operand: x,
            }
        }
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
                format!("unknown operator \"{other}\" (expected eq, ne, in, not_in, lt, lte, gt, gte, semver_eq, semver_lt, semver_lte, semver_gt, semver_gte, exists)"),
            );
            return None;
        }
    };
    Some(Condition::Compare {
        attr: attr.into(),
        op: comparison,
    })
}

fn ordering(op: &str) -> (Ordering, bool) {
    match op {
        "lt" => (Ordering::Less, false),
        "lte" => (Ordering::Less, true),
        "gt" => (Ordering::Greater, false),
        _ => (Ordering::Greater, true),
    }
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
