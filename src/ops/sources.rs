//! Prompt sources: the files prompt engineers edit, read into [`Sources`]. The CLI does
//! the file I/O; this module only interprets `relative path -> contents`.
//!
//! ```text
//! prompts/<name>/prompt.json       metadata: description, client, model, tools,
//!                                  response_format, variables, snippets (pins), labels
//!                                  (initial, for a new prompt), messages (chat layout)
//! prompts/<name>/prompt.mustache   the template, for a text prompt (no "messages")
//! prompts/<name>/<file>            a chat message's template, named in "messages":
//!                                  [{"role": "system", "file": "system.mustache"},
//!                                   {"placeholder": "history"}, ...]
//! snippets/<name>/<n>.mustache     version n of a snippet
//! metrics.json                     metric name -> {"kind", "higher_is_better",
//!                                  "description"?}: what outcomes may report
//! ```
//! Templates are plain text files, exactly as they render (no JSON escaping).

use super::{PromptSource, Sources};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

const META_KEYS: &[&str] = &[
    "description",
    "client",
    "model",
    "tools",
    "response_format",
    "variables",
    "snippets",
    "labels",
    "messages",
    "author",
    "note",
];

/// Reads sources from `relative path -> file contents`; every problem is reported as
/// `PATH: reason`.
pub fn sources_from_files(files: &BTreeMap<String, String>) -> Result<Sources, Vec<String>> {
    let mut problems = Vec::new();
    let mut out = Sources::default();
    let mut metas: BTreeMap<&str, &str> = BTreeMap::new();
    for (path, text) in files {
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["prompts", name, "prompt.json"] => {
                metas.insert(name, text);
            }
            ["snippets", name, file] => match file
                .strip_suffix(".mustache")
                .and_then(|n| n.parse::<u64>().ok())
            {
                Some(n) if n >= 1 => out
                    .snippets
                    .entry((*name).to_string())
                    .or_default()
                    .push(serde_json::json!({"version": n, "template": text})),
                _ => problems.push(format!(
                    "{path}: snippet files are named <version>.mustache, e.g. 1.mustache"
                )),
            },
            ["metrics.json"] => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => out.metrics = m.into_iter().collect(),
                Ok(_) => problems.push(format!(
                    "{path}: expected an object: metric name -> {{\"kind\": ..., \"higher_is_better\": ...}}"
                )),
                Err(e) => problems.push(format!("{path}: not valid JSON: {e}")),
            },
            _ => {}
        }
    }
    for (name, text) in metas {
        let dir = format!("prompts/{name}");
        let meta: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{dir}/prompt.json: not valid JSON: {e}"));
                continue;
            }
        };
        let Some(obj) = meta.as_object() else {
            problems.push(format!("{dir}/prompt.json: expected an object"));
            continue;
        };
        for key in obj.keys() {
            if !META_KEYS.contains(&key.as_str()) {
                problems.push(format!(
                    "{dir}/prompt.json: unknown field \"{key}\" (expected one of: {})",
                    META_KEYS.join(", ")
                ));
            }
        }
        let mut version = Map::new();
        for key in [
            "model",
            "tools",
            "response_format",
            "variables",
            "snippets",
            "author",
            "note",
        ] {
            if let Some(v) = obj.get(key) {
                version.insert(key.into(), v.clone());
            }
        }
        match obj.get("messages") {
            None => match files.get(&format!("{dir}/prompt.mustache")) {
                Some(t) => {
                    version.insert("text".into(), Value::String(t.clone()));
                }
                None => problems.push(format!("{dir}: a text prompt needs prompt.mustache (or list \"messages\" in prompt.json)")),
            },
            Some(Value::Array(list)) => {
                let mut messages = Vec::new();
                for (i, m) in list.iter().enumerate() {
                    if let Some(p) = m.get("placeholder") {
                        messages.push(serde_json::json!({"placeholder": p}));
                        continue;
                    }
                    let (role, file) = (m.get("role").and_then(Value::as_str), m.get("file").and_then(Value::as_str));
                    match (role, file) {
                        (Some(role), Some(file)) => match files.get(&format!("{dir}/{file}")) {
                            Some(t) => messages.push(serde_json::json!({"role": role, "content": t})),
                            None => problems.push(format!("{dir}/prompt.json: messages[{i}] names {file}, which does not exist in {dir}")),
                        },
                        _ => problems.push(format!("{dir}/prompt.json: messages[{i}] needs \"role\" and \"file\", or \"placeholder\"")),
                    }
                }
                version.insert("messages".into(), Value::Array(messages));
            }
            Some(_) => problems.push(format!("{dir}/prompt.json: \"messages\" must be an array")),
        }
        out.prompts.push(PromptSource {
            name: name.to_string(),
            versions: vec![Value::Object(version)],
            labels: obj.get("labels").cloned(),
            client: obj.get("client").and_then(Value::as_bool).unwrap_or(false),
            description: obj
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The files of a starter `prompts/` directory (for `edgeprompt init`).
pub fn starter_files() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "prompts/assistant/prompt.json",
            r#"{
  "description": "a starter chat prompt",
  "client": true,
  "model": {"provider": "openai", "name": "gpt-4o-mini", "params": {"temperature": 0.2}},
  "variables": {
    "company": {"default": "Acme"},
    "question": {"required": true},
    "history": {"default": []}
  },
  "snippets": {"tone": 1},
  "messages": [
    {"role": "system", "file": "system.mustache"},
    {"placeholder": "history"},
    {"role": "user", "file": "user.mustache"}
  ],
  "labels": {"production": {"default": {"version": 1}}}
}
"#,
        ),
        (
            "prompts/assistant/system.mustache",
            "You are the assistant of {{company}}. {{> tone}}\n",
        ),
        ("prompts/assistant/user.mustache", "{{question}}\n"),
        ("snippets/tone/1.mustache", "Be friendly and concise."),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest;

    fn starter() -> BTreeMap<String, String> {
        starter_files()
            .into_iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn the_starter_builds_a_valid_manifest() {
        let sources = sources_from_files(&starter()).unwrap();
        let published = super::super::publish(None, &sources).unwrap();
        let m = manifest::compile_value(published.doc).unwrap();
        assert_eq!(m.prompt("assistant").unwrap().versions.len(), 1);
    }

    #[test]
    fn problems_name_their_file() {
        let mut files = starter();
        files.remove("prompts/assistant/user.mustache");
        files.insert("snippets/tone/latest.mustache".into(), "x".into());
        files.insert("prompts/other/prompt.json".into(), "{\"modle\": 1}".into());
        let e = sources_from_files(&files).unwrap_err();
        assert!(e.contains(&"snippets/tone/latest.mustache: snippet files are named <version>.mustache, e.g. 1.mustache".to_string()), "{e:#?}");
        assert!(
            e.iter()
                .any(|p| p.starts_with("prompts/other/prompt.json: unknown field \"modle\"")),
            "{e:#?}"
        );
        assert!(e.contains(&"prompts/other: a text prompt needs prompt.mustache (or list \"messages\" in prompt.json)".to_string()), "{e:#?}");
        assert!(e.contains(&"prompts/assistant/prompt.json: messages[2] names user.mustache, which does not exist in prompts/assistant".to_string()), "{e:#?}");
    }
}
