//! Route operations on a label: promote, split, ramp, rollback.

use super::{bump, object_mut, revision_of, OpError};
use crate::assign::{format_bp, parse_weight, BUCKETS};
use serde_json::{json, Value};

/// A route change: the next document and what the audit log says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteChange {
    /// The next manifest document (revision + 1).
    pub doc: Value,
    /// One line for the audit log, e.g. `ramp support/production: version 2 to 25% (was 10%)`.
    pub summary: String,
}

fn versions_of(doc: &Value, prompt: &str) -> Result<u64, OpError> {
    doc.get("prompts")
        .and_then(|p| p.get(prompt))
        .ok_or_else(|| OpError::UnknownPrompt(prompt.into()))?
        .get("versions")
        .and_then(Value::as_array)
        .map(|v| v.len() as u64)
        .ok_or_else(|| OpError::Malformed(format!("prompt \"{prompt}\" has no versions array")))
}

fn check_version(doc: &Value, prompt: &str, version: u64) -> Result<(), OpError> {
    if version == 0 || version > versions_of(doc, prompt)? {
        return Err(OpError::UnknownVersion {
            prompt: prompt.into(),
            version,
        });
    }
    Ok(())
}

fn route_mut<'a>(doc: &'a mut Value, prompt: &str, label: &str) -> Result<&'a mut Value, OpError> {
    doc.get_mut("prompts")
        .and_then(|p| p.get_mut(prompt))
        .ok_or_else(|| OpError::UnknownPrompt(prompt.into()))?
        .get_mut("labels")
        .and_then(|l| l.get_mut(label))
        .ok_or_else(|| OpError::UnknownLabel {
            prompt: prompt.into(),
            label: label.into(),
        })
}

/// The target object of the default (`rule: None`) or of a named rule.
fn target_mut<'a>(
    route: &'a mut Value,
    name: &str,
    rule: Option<&str>,
) -> Result<&'a mut Value, OpError> {
    match rule {
        None => route
            .get_mut("default")
            .ok_or_else(|| OpError::Malformed(format!("{name} has no default"))),
        Some(r) => route
            .get_mut("rules")
            .and_then(Value::as_array_mut)
            .and_then(|rules| {
                rules
                    .iter_mut()
                    .find(|x| x.get("name").and_then(Value::as_str) == Some(r))
            })
            .and_then(|x| x.get_mut("target"))
            .ok_or_else(|| OpError::UnknownRule {
                route: name.into(),
                rule: r.into(),
            }),
    }
}

/// A target's entries as `(version, basis points)`.
fn entries(target: &Value) -> Result<Vec<(u64, u16)>, OpError> {
    if let Some(v) = target.get("version").and_then(Value::as_u64) {
        return Ok(vec![(v, BUCKETS)]);
    }
    let split = target
        .get("split")
        .and_then(Value::as_array)
        .ok_or_else(|| OpError::Malformed("a target is neither a version nor a split".into()))?;
    split
        .iter()
        .map(|e| {
            let v = e.get("version").and_then(Value::as_u64);
            let w = e.get("weight").map(|w| parse_weight(&w.to_string()));
            match (v, w) {
                (Some(v), Some(Ok(bp))) => Ok((v, bp)),
                _ => Err(OpError::Malformed(format!("bad split entry {e}"))),
            }
        })
        .collect()
}

/// A percent as a JSON number with at most two decimals.
fn percent_value(bp: u16) -> Value {
    if bp % 100 == 0 {
        Value::from(bp / 100)
    } else {
        Value::from(f64::from(bp) / 100.0)
    }
}

fn split_value(entries: &[(u64, u16)]) -> Value {
    let list: Vec<Value> = entries
        .iter()
        .map(|&(v, bp)| json!({"version": v, "weight": percent_value(bp)}))
        .collect();
    json!({ "split": list })
}

fn describe(entries: &[(u64, u16)]) -> String {
    entries
        .iter()
        .map(|&(v, bp)| format!("{v}={}", format_bp(u32::from(bp))))
        .collect::<Vec<_>>()
        .join(" ")
}

fn place(prompt: &str, label: &str, rule: Option<&str>) -> String {
    match rule {
        None => format!("{prompt}/{label}"),
        Some(r) => format!("{prompt}/{label} rule \"{r}\""),
    }
}

/// Serves one version from the label's default; rules stay unless `clear_rules`.
pub fn promote(
    doc: &Value,
    prompt: &str,
    label: &str,
    version: u64,
    clear_rules: bool,
) -> Result<RouteChange, OpError> {
    check_version(doc, prompt, version)?;
    let mut next = doc.clone();
    let route = route_mut(&mut next, prompt, label)?;
    let obj = object_mut(route, "the route")?;
    obj.insert("default".into(), json!({ "version": version }));
    let cleared = clear_rules && obj.remove("rules").is_some();
    let rev = bump(&mut next)?;
    let extra = if cleared { ", rules cleared" } else { "" };
    Ok(RouteChange {
        doc: next,
        summary: format!("promote {prompt}/{label} to version {version}{extra} (revision {rev})"),
    })
}

/// Sets the default's (or a rule's) split: `(version, percent text)` pairs summing to 100.
pub fn split(
    doc: &Value,
    prompt: &str,
    label: &str,
    rule: Option<&str>,
    weights: &[(u64, String)],
) -> Result<RouteChange, OpError> {
    if weights.is_empty() {
        return Err(OpError::Invalid(
            "a split needs at least one VERSION=PERCENT".into(),
        ));
    }
    let mut parsed = Vec::with_capacity(weights.len());
    for (v, w) in weights {
        check_version(doc, prompt, *v)?;
        if parsed.iter().any(|&(x, _)| x == *v) {
            return Err(OpError::Invalid(format!("version {v} appears twice")));
        }
        parsed.push((*v, parse_weight(w).map_err(OpError::Invalid)?));
    }
    let sum: u32 = parsed.iter().map(|&(_, bp)| u32::from(bp)).sum();
    if sum != u32::from(BUCKETS) {
        return Err(OpError::Invalid(format!(
            "weights sum to {}, expected 100",
            format_bp(sum)
        )));
    }
    let mut next = doc.clone();
    let name = format!("{prompt}/{label}");
    let target = target_mut(route_mut(&mut next, prompt, label)?, &name, rule)?;
    *target = split_value(&parsed);
    let rev = bump(&mut next)?;
    Ok(RouteChange {
        doc: next,
        summary: format!(
            "split {}: {} (revision {rev})",
            place(prompt, label, rule),
            describe(&parsed)
        ),
    })
}

/// Raises a candidate's share to `percent`, taking it from the control (the first
/// version of the split). Everyone who had the candidate keeps it: a candidate not yet in
/// the split is appended (it takes units from the control only), and lowering a share is
/// refused (that is a `split`, which moves units, or a `rollback`).
pub fn ramp(
    doc: &Value,
    prompt: &str,
    label: &str,
    rule: Option<&str>,
    candidate: u64,
    percent: &str,
) -> Result<RouteChange, OpError> {
    check_version(doc, prompt, candidate)?;
    let want = parse_weight(percent).map_err(OpError::Invalid)?;
    let mut next = doc.clone();
    let name = format!("{prompt}/{label}");
    let target = target_mut(route_mut(&mut next, prompt, label)?, &name, rule)?;
    let mut list = entries(target)?;
    let control = list.first().map(|e| e.0).unwrap_or(candidate);
    if control == candidate {
        return Err(OpError::Invalid(format!(
            "version {candidate} is the control of {}; ramp a candidate, or promote",
            place(prompt, label, rule)
        )));
    }
    if !list.iter().any(|e| e.0 == candidate) {
        list.push((candidate, 0));
    }
    let had = list
        .iter()
        .find(|e| e.0 == candidate)
        .map(|e| e.1)
        .unwrap_or(0);
    if want < had {
        return Err(OpError::Invalid(format!(
            "version {candidate} already has {}%; a ramp only raises a share (use split or rollback)",
            format_bp(u32::from(had))
        )));
    }
    let delta = want - had;
    let control_bp = list.first().map(|e| e.1).unwrap_or(0);
    if delta > control_bp {
        return Err(OpError::Invalid(format!(
            "the control (version {control}) has only {}% to give; {candidate} can reach at most {}%",
            format_bp(u32::from(control_bp)),
            format_bp(u32::from(had + control_bp))
        )));
    }
    for e in list.iter_mut() {
        if e.0 == control {
            e.1 -= delta;
        } else if e.0 == candidate {
            e.1 = want;
        }
    }
    *target = split_value(&list);
    let rev = bump(&mut next)?;
    Ok(RouteChange {
        doc: next,
        summary: format!(
            "ramp {}: version {candidate} to {}% (was {}%) (revision {rev})",
            place(prompt, label, rule),
            format_bp(u32::from(want)),
            format_bp(u32::from(had))
        ),
    })
}

/// Whether a route's default serves one version (a single version, or a split in
/// which only one version has weight): what a rollback without a named revision
/// restores.
pub fn serves_one_version(route: &Value) -> bool {
    route
        .get("default")
        .map(|t| {
            entries(t)
                .map(|e| e.iter().filter(|x| x.1 > 0).count() == 1)
                .unwrap_or(false)
        })
        .unwrap_or(false)
}

/// Restores a label's route from history: from `to_revision`, or else from the latest
/// revision before the live one in which the label served one single version.
/// `history` holds earlier documents, any order. (The control plane searches its
/// stored routes itself and calls [`restore_route`].)
pub fn rollback(
    doc: &Value,
    history: &[Value],
    prompt: &str,
    label: &str,
    to_revision: Option<u64>,
) -> Result<RouteChange, OpError> {
    let live = revision_of(doc);
    let route_in = |d: &Value| {
        d.get("prompts")?
            .get(prompt)?
            .get("labels")?
            .get(label)
            .cloned()
    };
    let mut candidates: Vec<&Value> = history.iter().filter(|d| revision_of(d) < live).collect();
    candidates.sort_by_key(|d| std::cmp::Reverse(revision_of(d)));
    let source = match to_revision {
        Some(n) => history
            .iter()
            .find(|d| revision_of(d) == n)
            .ok_or_else(|| {
                OpError::NoRollbackTarget(format!("revision {n} is not in the history"))
            })?,
        None => candidates
            .into_iter()
            .find(|d| route_in(d).is_some_and(|r| serves_one_version(&r)))
            .ok_or_else(|| no_single_version(prompt, label))?,
    };
    restore_route(doc, prompt, label, revision_of(source), route_in(source))
}

/// The refusal of a rollback that found no revision to restore.
pub fn no_single_version(prompt: &str, label: &str) -> OpError {
    OpError::NoRollbackTarget(format!(
        "no earlier revision in which {prompt}/{label} served a single version; name one with --to-revision"
    ))
}

/// Puts back the label's route as it was in revision `from` (`None`: the label did
/// not exist then), as the next revision.
pub fn restore_route(
    doc: &Value,
    prompt: &str,
    label: &str,
    from: u64,
    route: Option<Value>,
) -> Result<RouteChange, OpError> {
    let restored = route.ok_or_else(|| {
        OpError::NoRollbackTarget(format!("{prompt}/{label} did not exist in revision {from}"))
    })?;
    // Versions are immutable and only ever added, so every version the old route names
    // still exists; the engine's validation checks it again before anything is stored.
    let mut next = doc.clone();
    *route_mut(&mut next, prompt, label)? = restored;
    let rev = bump(&mut next)?;
    Ok(RouteChange {
        doc: next,
        summary: format!("rollback of {prompt}/{label} to revision {from} (revision {rev})"),
    })
}

/// Points a label's default at one version, creating the label when the prompt has none
/// of that name (used by `publish --label`). Existing rules stay.
pub fn point(doc: &Value, prompt: &str, label: &str, version: u64) -> Result<RouteChange, OpError> {
    check_version(doc, prompt, version)?;
    let exists = doc
        .get("prompts")
        .and_then(|p| p.get(prompt))
        .and_then(|p| p.get("labels"))
        .and_then(|l| l.get(label))
        .is_some();
    if exists {
        return promote(doc, prompt, label, version, false);
    }
    let mut next = doc.clone();
    let p = next
        .get_mut("prompts")
        .and_then(|p| p.get_mut(prompt))
        .ok_or_else(|| OpError::UnknownPrompt(prompt.into()))?;
    let labels = object_mut(p, "a prompt")?
        .entry("labels")
        .or_insert_with(|| json!({}));
    object_mut(labels, "labels")?.insert(label.into(), json!({"default": {"version": version}}));
    let rev = bump(&mut next)?;
    Ok(RouteChange {
        doc: next,
        summary: format!(
            "create label {prompt}/{label} serving version {version} (revision {rev})"
        ),
    })
}
