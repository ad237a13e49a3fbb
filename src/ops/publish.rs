//! Publishing prompt sources: versions whose content hash is new are added, numbered
//! after the live manifest's highest version of that prompt; unchanged ones keep their
//! number, so publishing the same sources twice changes nothing. Routes of existing
//! prompts are never touched; a new prompt may bring its initial labels.

use super::{bump, object_mut, OpError};
use crate::manifest::content_hash;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// One prompt as its sources describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptSource {
    /// Prompt name.
    pub name: String,
    /// Version bodies in order, without `version` numbers (`text` or `messages`,
    /// `model`, `variables`, `snippets`...).
    pub versions: Vec<Value>,
    /// Labels for a prompt that is not live yet (targets name versions 1..n in source
    /// order); ignored for live prompts, whose routes the control plane owns.
    pub labels: Option<Value>,
    /// Whether npm clients may receive it.
    pub client: bool,
    /// Free text.
    pub description: Option<String>,
}

/// Everything the sources define.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sources {
    /// Prompts.
    pub prompts: Vec<PromptSource>,
    /// Snippet name -> its versions `{"version": n, "template": ...}`, numbered by the
    /// sources (snippet versions are immutable too).
    pub snippets: BTreeMap<String, Vec<Value>>,
    /// Metric name -> its declaration (`kind`, `higher_is_better`, `description`), from
    /// `metrics.json`. A publish adds new metrics and updates changed ones; it never
    /// removes one.
    pub metrics: BTreeMap<String, Value>,
}

/// The result of a publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// The next document (the live one unchanged when nothing is new).
    pub doc: Value,
    /// `(prompt, version)` for every version added.
    pub added: Vec<(String, u64)>,
    /// `(snippet, version)` for every snippet version added.
    pub added_snippets: Vec<(String, u64)>,
    /// Metrics declared for the first time.
    pub added_metrics: Vec<String>,
    /// Metrics whose kind or direction changed: allowed only while they have no data
    /// in any current period (the control plane checks; the engine cannot see data).
    pub redefined_metrics: Vec<String>,
    /// Whether anything changed (and the revision moved).
    pub changed: bool,
    /// One line for the audit log.
    pub summary: String,
}

/// Merges sources into the live document (`None` when nothing is published yet).
pub fn publish(live: Option<&Value>, sources: &Sources) -> Result<Published, OpError> {
    let mut doc = live
        .cloned()
        .unwrap_or_else(|| json!({"schema": 1, "revision": 0, "prompts": {}}));
    let mut added = Vec::new();
    let mut added_snippets = Vec::new();
    let mut metadata_changed = false;
    merge_snippets(&mut doc, &sources.snippets, &mut added_snippets)?;
    let metrics = merge_metrics(&mut doc, &sources.metrics)?;
    metadata_changed |= metrics.described;
    let prompts = object_mut(
        object_mut(&mut doc, "the manifest")?
            .entry("prompts")
            .or_insert_with(|| Value::Object(Map::new())),
        "prompts",
    )?;
    for src in &sources.prompts {
        match prompts.get_mut(&src.name) {
            Some(existing) => {
                let obj = object_mut(existing, "a prompt")?;
                let versions = obj
                    .get_mut("versions")
                    .and_then(Value::as_array_mut)
                    .ok_or_else(|| {
                        OpError::Malformed(format!("prompt \"{}\" has no versions", src.name))
                    })?;
                let known: Vec<String> = versions.iter().map(content_hash).collect();
                for body in &src.versions {
                    let mut numbered = body.clone();
                    if let Some(o) = numbered.as_object_mut() {
                        o.remove("version");
                    }
                    if known.contains(&content_hash(&numbered)) {
                        continue;
                    }
                    let n = versions.len() as u64 + 1;
                    object_mut(&mut numbered, "a version")?
                        .insert("version".into(), Value::from(n));
                    versions.push(numbered);
                    added.push((src.name.clone(), n));
                }
                if obj.get("client").and_then(Value::as_bool).unwrap_or(false) != src.client {
                    obj.insert("client".into(), Value::Bool(src.client));
                    metadata_changed = true;
                }
            }
            None => {
                let versions: Vec<Value> = src
                    .versions
                    .iter()
                    .enumerate()
                    .map(|(i, body)| {
                        let mut v = body.clone();
                        if let Some(o) = v.as_object_mut() {
                            o.insert("version".into(), Value::from(i as u64 + 1));
                        }
                        v
                    })
                    .collect();
                added.extend((1..=versions.len() as u64).map(|n| (src.name.clone(), n)));
                let mut p = Map::new();
                p.insert("versions".into(), Value::Array(versions));
                // `"labels": null` from a client means none, like a missing key.
                if let Some(labels) = src.labels.as_ref().filter(|l| !l.is_null()) {
                    p.insert("labels".into(), labels.clone());
                }
                if src.client {
                    p.insert("client".into(), Value::Bool(true));
                }
                if let Some(d) = &src.description {
                    p.insert("description".into(), Value::String(d.clone()));
                }
                prompts.insert(src.name.clone(), Value::Object(p));
            }
        }
    }
    let changed = !added.is_empty()
        || !added_snippets.is_empty()
        || !metrics.added.is_empty()
        || !metrics.redefined.is_empty()
        || metadata_changed;
    let summary = if changed {
        let rev = bump(&mut doc)?;
        let mut parts: Vec<String> = added.iter().map(|(p, v)| format!("{p} v{v}")).collect();
        parts.extend(
            added_snippets
                .iter()
                .map(|(s, v)| format!("snippet {s} v{v}")),
        );
        parts.extend(metrics.added.iter().map(|m| format!("metric {m}")));
        parts.extend(
            metrics
                .redefined
                .iter()
                .map(|m| format!("metric {m} redefined")),
        );
        if metadata_changed {
            parts.push("metadata".into());
        }
        format!("publish: {} (revision {rev})", parts.join(", "))
    } else {
        "publish: nothing new".into()
    };
    Ok(Published {
        doc,
        added,
        added_snippets,
        added_metrics: metrics.added,
        redefined_metrics: metrics.redefined,
        changed,
        summary,
    })
}

/// What merging the sources' metrics did.
struct MetricsMerged {
    added: Vec<String>,
    redefined: Vec<String>,
    /// Only a description changed.
    described: bool,
}

fn merge_metrics(
    doc: &mut Value,
    sources: &BTreeMap<String, Value>,
) -> Result<MetricsMerged, OpError> {
    let mut out = MetricsMerged {
        added: Vec::new(),
        redefined: Vec::new(),
        described: false,
    };
    if sources.is_empty() {
        return Ok(out);
    }
    let all = object_mut(
        object_mut(doc, "the manifest")?
            .entry("metrics")
            .or_insert_with(|| Value::Object(Map::new())),
        "metrics",
    )?;
    for (name, decl) in sources {
        match all.get(name) {
            None => out.added.push(name.clone()),
            Some(live) if live == decl => continue,
            Some(live) => {
                let defining =
                    |v: &Value| (v.get("kind").cloned(), v.get("higher_is_better").cloned());
                if defining(live) == defining(decl) {
                    out.described = true;
                } else {
                    out.redefined.push(name.clone());
                }
            }
        }
        all.insert(name.clone(), decl.clone());
    }
    Ok(out)
}

fn merge_snippets(
    doc: &mut Value,
    sources: &BTreeMap<String, Vec<Value>>,
    added: &mut Vec<(String, u64)>,
) -> Result<(), OpError> {
    if sources.is_empty() {
        return Ok(());
    }
    let all = object_mut(
        object_mut(doc, "the manifest")?
            .entry("snippets")
            .or_insert_with(|| Value::Object(Map::new())),
        "snippets",
    )?;
    for (name, versions) in sources {
        let entry = all
            .entry(name.clone())
            .or_insert_with(|| json!({"versions": []}));
        let live = entry
            .get_mut("versions")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| OpError::Malformed(format!("snippet \"{name}\" has no versions")))?;
        let mut sorted: Vec<&Value> = versions.iter().collect();
        sorted.sort_by_key(|v| v.get("version").and_then(Value::as_u64).unwrap_or(0));
        for v in sorted {
            let n = v.get("version").and_then(Value::as_u64).unwrap_or(0);
            let template = v.get("template");
            match live.iter().find(|x| x.get("version").and_then(Value::as_u64) == Some(n)) {
                Some(existing) if existing.get("template") == template => {}
                Some(_) => {
                    return Err(OpError::Invalid(format!(
                        "snippet \"{name}\" version {n} differs from the published one; snippet versions are immutable: add version {}",
                        live.len() + 1
                    )))
                }
                None if n == live.len() as u64 + 1 => {
                    live.push(v.clone());
                    added.push((name.clone(), n));
                }
                None => {
                    return Err(OpError::Invalid(format!(
                        "snippet \"{name}\" version {n} would leave a gap: the next version is {}",
                        live.len() + 1
                    )))
                }
            }
        }
    }
    Ok(())
}
