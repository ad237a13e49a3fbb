//! Snippets (shared partials): compiling their versions and checking a prompt
//! version's pins: every partial reachable from it pinned, pins existing, no cycles.

use super::limits;
use super::model::{NameMap, NameSet};
use crate::doc::{as_array, as_int, as_map, as_str, check_name, Obj};
use crate::doc::{index_path, key_path, Problems};
use crate::render::{References, Template};
use serde_json::Value;

const SNIPPET_KEYS: &[&str] = &["versions", "description"];
const SNIPPET_VERSION_KEYS: &[&str] = &["version", "template", "author", "note", "created_at"];

/// Compiled snippets and their static references.
#[derive(Debug, Default)]
pub(crate) struct SnippetSet {
    /// name -> versions (index n-1 is version n).
    pub(crate) compiled: NameMap<Vec<Template>>,
    refs: NameMap<Vec<References>>,
    /// Names present in the document, valid or not, to avoid piling up errors.
    declared: Vec<String>,
}

/// Compiles the top-level `snippets` section.
pub(crate) fn compile_snippets(v: &Value, p: &mut Problems) -> SnippetSet {
    let mut set = SnippetSet::default();
    let Some(map) = as_map(v, "snippets", p) else {
        return set;
    };
    for (name, s) in map {
        let path = key_path("snippets", name);
        set.declared.push(name.clone());
        if !check_name(name, "snippet", &path, p) {
            continue;
        }
        let Some(obj) = Obj::new(s, &path, SNIPPET_KEYS, p) else {
            continue;
        };
        obj.opt_str("description", p);
        let Some(list) = obj
            .require("versions", p)
            .and_then(|l| as_array(l, &obj.at("versions"), p))
        else {
            continue;
        };
        let vpath = obj.at("versions");
        let before = p.len();
        // Not `vec![None; n]`: that clones, bringing Template's clone code into the Wasm.
        let mut slots: Vec<Option<(Template, References)>> =
            std::iter::repeat_with(|| None).take(list.len()).collect();
        if list.is_empty() {
            p.add(vpath.clone(), "a snippet needs at least one version");
        }
        if list.len() > limits::MAX_VERSIONS {
            p.add(
                vpath.clone(),
                format!(
                    "{} versions, over the limit of {}",
                    list.len(),
                    limits::MAX_VERSIONS
                ),
            );
            continue;
        }
        for (i, item) in list.iter().enumerate() {
            let ipath = index_path(&vpath, i);
            let Some(o) = Obj::new(item, &ipath, SNIPPET_VERSION_KEYS, p) else {
                continue;
            };
            for k in ["author", "note", "created_at"] {
                o.opt_str(k, p);
            }
            let number = o
                .require("version", p)
                .and_then(|n| as_int(n, &o.at("version"), 1, list.len() as u64, p));
            let tpl = o
                .require("template", p)
                .and_then(|t| as_str(t, &o.at("template"), p))
                .and_then(|src| compile_template(src, &o.at("template"), p));
            if let (Some(n), Some((t, refs))) = (number, tpl) {
                let slot = usize::try_from(n - 1).ok().and_then(|i| slots.get_mut(i));
                match slot {
                    Some(s) if s.is_some() => {
                        p.add(o.at("version"), format!("duplicate version {n}"))
                    }
                    Some(s) => {
                        if refs.partials.iter().any(|r| r.name == *name) {
                            p.add(o.at("template"), "a snippet cannot include itself");
                        }
                        *s = Some((t, refs));
                    }
                    None => {}
                }
            }
        }
        if p.len() > before {
            continue;
        }
        let (templates, refs): (Vec<_>, Vec<_>) = slots.into_iter().flatten().unzip();
        set.compiled.insert(name.as_str().into(), templates);
        set.refs.insert(name.as_str().into(), refs);
    }
    set
}

/// Compiles a template, recording a compile error or an oversized source.
pub(crate) fn compile_template(
    src: &str,
    path: &str,
    p: &mut Problems,
) -> Option<(Template, References)> {
    if src.len() > limits::MAX_TEMPLATE_BYTES {
        p.add(
            path,
            format!(
                "template is {} bytes, over the limit of {}",
                src.len(),
                limits::MAX_TEMPLATE_BYTES
            ),
        );
        return None;
    }
    match Template::compile_with_references(src) {
        Ok(compiled) => Some(compiled),
        Err(e) => {
            p.add(path, format!("template does not compile: {e}"));
            None
        }
    }
}

/// A root-scope name used by a snippet that a version includes at root scope.
pub(crate) struct SnippetName {
    pub(crate) snippet: String,
    pub(crate) name: String,
}

impl SnippetSet {
    /// Checks a version's pins against the partials its templates reach, and returns
    /// the root-scope names that the snippets it includes at root scope use.
    pub(crate) fn check_version(
        &self,
        pins: &[(Box<str>, u32)],
        pins_path: &str,
        direct: &[(&References, String)],
        p: &mut Problems,
    ) -> Vec<SnippetName> {
        let mut names = Vec::new();
        let pinned = |name: &str| pins.iter().find(|(n, _)| &**n == name).map(|(_, v)| *v);
        // Each pin must name an existing snippet version.
        let mut valid = Vec::new();
        for (name, version) in pins {
            let path = key_path(pins_path, name);
            match self.refs.get(name) {
                Some(versions) if (*version as usize) <= versions.len() && *version >= 1 => {
                    valid.push(&**name)
                }
                Some(versions) => p.add(
                    path,
                    format!(
                        "snippet \"{name}\" has no version {version} (it has versions 1..{})",
                        versions.len()
                    ),
                ),
                None if self.declared.iter().any(|d| **d == **name) => {}
                None => p.add(path, format!("unknown snippet \"{name}\"")),
            }
        }
        let refs_of = |name: &str| -> Option<&References> {
            let v = pinned(name)?;
            self.refs
                .get(name)?
                .get(usize::try_from(v).ok()?.checked_sub(1)?)
        };
        // Partials used directly by the version's templates must be pinned.
        let mut stack: Vec<(String, bool)> = Vec::new();
        for (refs, path) in direct {
            for r in &refs.partials {
                if pinned(&r.name).is_none() {
                    p.add(
                        path.clone(),
                        format!(
                            "partial \"{}\" (line {}, column {}) is not pinned: add \"snippets\": {{\"{}\": N}} to this version",
                            r.name, r.line, r.column, r.name
                        ),
                    );
                } else {
                    stack.push((r.name.clone(), !r.in_section));
                }
            }
        }
        // Walk what the pinned snippets include, transitively.
        let mut seen: Vec<(String, bool)> = Vec::new();
        while let Some((name, at_root)) = stack.pop() {
            if seen.iter().any(|(n, r)| *n == name && (*r || !at_root)) {
                continue;
            }
            seen.push((name.clone(), at_root));
            let Some(refs) = refs_of(&name) else { continue };
            if at_root {
                for n in &refs.root_names {
                    names.push(SnippetName {
                        snippet: name.clone(),
                        name: n.name.clone(),
                    });
                }
            }
            for r in &refs.partials {
                if pinned(&r.name).is_none() {
                    p.add(
                        pins_path.to_string(),
                        format!(
                            "snippet \"{name}\" includes partial \"{}\", which this version does not pin",
                            r.name
                        ),
                    );
                } else {
                    stack.push((r.name.clone(), at_root && !r.in_section));
                }
            }
        }
        if let Some(cycle) = find_cycle(&valid, &|n| {
            refs_of(n)
                .map(|r| r.partials.iter().map(|x| x.name.clone()).collect())
                .unwrap_or_default()
        }) {
            p.add(
                pins_path.to_string(),
                format!("pinned snippets form a cycle: {}", cycle.join(" -> ")),
            );
        }
        names
    }
}

/// Finds a cycle in the include graph among `nodes`, as a path that returns to its start.
fn find_cycle(nodes: &[&str], edges: &dyn Fn(&str) -> Vec<String>) -> Option<Vec<String>> {
    // Iterative DFS: nodes on the current path, and nodes seen (on the path or done).
    // (Sets of the manifest's one set type: each map type weighs kilobytes of Wasm.)
    let mut on_path = NameSet::default();
    let mut seen = NameSet::default();
    for &start in nodes {
        if seen.contains(start) {
            continue;
        }
        let mut path: Vec<(String, Vec<String>)> = vec![(start.to_string(), edges(start))];
        seen.add(start);
        on_path.add(start);
        while let Some((node, pending)) = path.last_mut() {
            match pending.pop() {
                Some(next) => match (
                    on_path.contains(next.as_str()),
                    seen.contains(next.as_str()),
                ) {
                    (true, _) => {
                        let from = path.iter().position(|(n, _)| *n == next).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            path.iter().skip(from).map(|(n, _)| n.clone()).collect();
                        cycle.push(next);
                        return Some(cycle);
                    }
                    (false, true) => {}
                    (false, false) => {
                        let e = edges(&next);
                        seen.add(next.as_str());
                        on_path.add(next.as_str());
                        path.push((next, e));
                    }
                },
                None => {
                    on_path.remove(node.as_str());
                    path.pop();
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::find_cycle;

    #[test]
    fn cycles_are_found_with_their_path() {
        let edges = |n: &str| -> Vec<String> {
            match n {
                "a" => vec!["b".into()],
                "b" => vec!["c".into()],
                "c" => vec!["a".into()],
                _ => vec![],
            }
        };
        assert_eq!(
            find_cycle(&["a"], &edges),
            Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
        );
        assert_eq!(find_cycle(&["d"], &edges), None);
    }
}
