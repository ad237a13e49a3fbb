//! Labels and their routes: salts, rules with conditions or forced units, targets.

use super::limits;
use super::model::{Matcher, NameSet, Route, Rule, Target};
use crate::assign::{parse_weight, SplitError, SplitLayout};
use crate::doc::{
    as_array, as_map, as_str, check_name, index_path, key_path, kind, short, Obj, Problems,
};
use serde_json::Value;

const ROUTE_KEYS: &[&str] = &["salt", "rules", "default"];
const RULE_KEYS: &[&str] = &["name", "when", "units", "unit_hashes", "target"];
const TARGET_KEYS: &[&str] = &["version", "split"];
const SPLIT_KEYS: &[&str] = &["version", "weight"];

/// Compiles a prompt's `labels`.
pub(crate) fn compile_labels(
    prompt: &str,
    v: &Value,
    path: &str,
    versions: u32,
    p: &mut Problems,
) -> Vec<(Box<str>, Route)> {
    let Some(map) = as_map(v, path, p) else {
        return Vec::new();
    };
    if map.len() > limits::MAX_LABELS {
        p.add(
            path,
            format!(
                "{} labels, over the limit of {}",
                map.len(),
                limits::MAX_LABELS
            ),
        );
    }
    let mut out = Vec::new();
    for (label, r) in map {
        let lpath = key_path(path, label);
        if !check_name(label, "label", &lpath, p) {
            continue;
        }
        if let Some(route) = compile_route(prompt, label, r, &lpath, versions, p) {
            out.push((label.as_str().into(), route));
        }
    }
    out
}

fn compile_route(
    prompt: &str,
    label: &str,
    v: &Value,
    path: &str,
    versions: u32,
    p: &mut Problems,
) -> Option<Route> {
    let before = p.len();
    let obj = Obj::new(v, path, ROUTE_KEYS, p)?;
    let salt = match obj.opt_str("salt", p) {
        Some(s) if s.is_empty() || s.len() > limits::MAX_SALT_BYTES => {
            p.add(
                obj.at("salt"),
                format!("a salt is 1 to {} bytes", limits::MAX_SALT_BYTES),
            );
            String::new()
        }
        Some(s) => s.to_string(),
        None => crate::assign::default_salt(prompt, label),
    };
    let mut rules = Vec::new();
    if let Some(list) = obj
        .get("rules")
        .and_then(|l| as_array(l, &obj.at("rules"), p))
    {
        if list.len() > limits::MAX_RULES {
            p.add(
                obj.at("rules"),
                format!(
                    "{} rules, over the limit of {}",
                    list.len(),
                    limits::MAX_RULES
                ),
            );
        }
        let mut names = NameSet::default();
        for (i, r) in list.iter().enumerate() {
            let rpath = index_path(&obj.at("rules"), i);
            if let Some(rule) = compile_rule(r, &rpath, versions, p) {
                if !names.add(r.get("name").and_then(Value::as_str).unwrap_or("")) {
                    p.add(
                        key_path(&rpath, "name"),
                        format!("duplicate rule name \"{}\"", rule.name),
                    );
                }
                rules.push(rule);
            }
        }
    }
    let default = obj
        .require("default", p)
        .and_then(|d| compile_target(d, &obj.at("default"), versions, p));
    if p.len() > before {
        return None;
    }
    // Forced units count by their hashes, so the client projection has the same period.
    let mut identity = v.clone();
    super::projection::hash_forced_units(prompt, label, &mut identity);
    if let Some(map) = identity.as_object_mut() {
        map.insert("salt".into(), Value::String(salt.clone()));
        if !map.contains_key("rules") {
            map.insert("rules".into(), Value::Array(Vec::new()));
        }
    }
    let digest = crate::value::canonical::sha256_hex(
        crate::value::canonical::canonical(&identity).as_bytes(),
    );
    Some(Route {
        period: digest.get(..16).unwrap_or_default().into(),
        salt_state: crate::assign::salt_state(&salt),
        salt: salt.into(),
        rules: rules.into_boxed_slice(),
        default: default?,
    })
}

fn compile_rule(v: &Value, path: &str, versions: u32, p: &mut Problems) -> Option<Rule> {
    let obj = Obj::new(v, path, RULE_KEYS, p)?;
    let name = obj
        .require("name", p)
        .and_then(|n| as_str(n, &obj.at("name"), p));
    if let Some(n) = name {
        if n == "default" {
            p.add(
                obj.at("name"),
                "\"default\" names the route's default; choose another rule name",
            );
        } else {
            check_name(n, "rule", &obj.at("name"), p);
        }
    }
    let given: Vec<&str> = ["when", "units", "unit_hashes"]
        .into_iter()
        .filter(|k| obj.has(k))
        .collect();
    let matcher = match given.as_slice() {
        ["when"] => obj
            .get("when")
            .and_then(|c| crate::condition::compile(c, &obj.at("when"), p))
            .map(Matcher::When),
        ["units"] => obj
            .get("units")
            .and_then(|u| unit_set(u, &obj.at("units"), false, p))
            .map(Matcher::Units),
        ["unit_hashes"] => obj
            .get("unit_hashes")
            .and_then(|u| unit_set(u, &obj.at("unit_hashes"), true, p))
            .map(Matcher::UnitHashes),
        [] => {
            p.add(
                path,
                "a rule needs \"when\" (a condition) or \"units\" (forced units)",
            );
            None
        }
        _ => {
            p.add(
                path,
                format!(
                    "a rule takes one of \"when\", \"units\", \"unit_hashes\"; found {}",
                    given.join(" and ")
                ),
            );
            None
        }
    };
    let target = obj
        .require("target", p)
        .and_then(|t| compile_target(t, &obj.at("target"), versions, p));
    Some(Rule {
        name: name?.into(),
        matcher: matcher?,
        target: target?,
    })
}

fn unit_set(v: &Value, path: &str, hashed: bool, p: &mut Problems) -> Option<NameSet> {
    let list = as_array(v, path, p)?;
    if list.len() > limits::MAX_FORCED_UNITS {
        p.add(
            path,
            format!(
                "{} units, over the limit of {}",
                list.len(),
                limits::MAX_FORCED_UNITS
            ),
        );
        return None;
    }
    let before = p.len();
    let mut set = NameSet::with_capacity(list.len());
    for (i, u) in list.iter().enumerate() {
        let upath = index_path(path, i);
        let Some(s) = as_str(u, &upath, p) else {
            continue;
        };
        let ok = if hashed {
            s.len() == 64
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        } else {
            !s.is_empty() && s.len() <= limits::MAX_SALT_BYTES
        };
        if !ok {
            let want = if hashed {
                "64 lower-case hex digits (SHA-256)".to_string()
            } else {
                format!("1 to {} bytes", limits::MAX_SALT_BYTES)
            };
            p.add(upath, format!("expected {want}"));
            continue;
        }
        set.add(s);
    }
    (p.len() == before).then_some(set)
}

/// Compiles a target: `{"version": N}` or `{"split": [{"version", "weight"}, ...]}`.
pub(crate) fn compile_target(
    v: &Value,
    path: &str,
    versions: u32,
    p: &mut Problems,
) -> Option<Target> {
    let obj = Obj::new(v, path, TARGET_KEYS, p)?;
    match (obj.get("version"), obj.get("split")) {
        (Some(n), None) => version_ref(n, &obj.at("version"), versions, p).map(Target::Version),
        (None, Some(s)) => split(s, &obj.at("split"), versions, p).map(Target::Split),
        (Some(_), Some(_)) => {
            p.add(path, "a target is a \"version\" or a \"split\", not both");
            None
        }
        (None, None) => {
            p.add(path, "a target needs \"version\" or \"split\"");
            None
        }
    }
}

fn version_ref(v: &Value, path: &str, versions: u32, p: &mut Problems) -> Option<u32> {
    match v.as_u64() {
        Some(n) if n >= 1 && n <= u64::from(versions) => Some(n as u32),
        Some(n) => {
            p.add(
                path,
                format!("unknown version {n}: this prompt has versions 1..{versions}"),
            );
            None
        }
        None => {
            p.add(
                path,
                format!("expected a version number, found {}", short(v)),
            );
            None
        }
    }
}

fn split(v: &Value, path: &str, versions: u32, p: &mut Problems) -> Option<SplitLayout> {
    let list = as_array(v, path, p)?;
    if list.len() > limits::MAX_SPLIT {
        p.add(
            path,
            format!(
                "{} entries, over the limit of {}",
                list.len(),
                limits::MAX_SPLIT
            ),
        );
        return None;
    }
    let before = p.len();
    let mut entries = Vec::with_capacity(list.len());
    for (i, e) in list.iter().enumerate() {
        let epath = index_path(path, i);
        let Some(o) = Obj::new(e, &epath, SPLIT_KEYS, p) else {
            continue;
        };
        let version = o
            .require("version", p)
            .and_then(|n| version_ref(n, &o.at("version"), versions, p));
        let weight = o.require("weight", p).and_then(|w| match w {
            Value::Number(n) => match parse_weight(&n.to_string()) {
                Ok(bp) => Some(bp),
                Err(reason) => {
                    p.add(o.at("weight"), reason);
                    None
                }
            },
            other => {
                p.add(
                    o.at("weight"),
                    format!("expected a percent, found {}", kind(other)),
                );
                None
            }
        });
        if let (Some(v), Some(w)) = (version, weight) {
            if entries.iter().any(|&(x, _)| x == v) {
                p.add(
                    o.at("version"),
                    format!("version {v} appears twice in the split"),
                );
            }
            entries.push((v, w));
        }
    }
    if p.len() > before {
        return None;
    }
    match SplitLayout::new(&entries) {
        Ok(layout) => Some(layout),
        Err(e @ (SplitError::Empty | SplitError::BadSum(_))) => {
            p.add(path, e.to_string());
            None
        }
    }
}
