//! Prompts and their versions: templates, variables, model settings, content hashes.

use super::limits;
use super::model::{Body, Message, Prompt, Version};
use super::snippets::{compile_template, SnippetSet};
use crate::doc::{as_array, as_int, as_map, as_str, kind, Obj};
use crate::doc::{index_path, key_path, Problems};
use crate::render::References;
use crate::value::canonical::{sha256_hex, write_canonical};
use serde_json::{Map, Value};

const PROMPT_KEYS: &[&str] = &["versions", "labels", "client", "description"];
const VERSION_KEYS: &[&str] = &[
    "version",
    "text",
    "messages",
    "model",
    "tools",
    "response_format",
    "variables",
    "snippets",
    "author",
    "note",
    "created_at",
];
const MESSAGE_KEYS: &[&str] = &["role", "content", "placeholder"];
const VARIABLE_KEYS: &[&str] = &["required", "default", "description"];
const MODEL_KEYS: &[&str] = &["provider", "name", "params"];

/// Compiles one prompt; `None` when it has problems (recorded in `p`).
pub(crate) fn compile_prompt(
    name: &str,
    v: &Value,
    path: &str,
    snippets: &SnippetSet,
    p: &mut Problems,
) -> Option<Prompt> {
    let before = p.len();
    let obj = Obj::new(v, path, PROMPT_KEYS, p)?;
    obj.opt_str("description", p);
    let client = obj.opt_bool("client", p).unwrap_or(false);
    let list = obj
        .require("versions", p)
        .and_then(|l| as_array(l, &obj.at("versions"), p))
        .unwrap_or_default();
    let vpath = obj.at("versions");
    if list.is_empty() && obj.has("versions") {
        p.add(vpath.clone(), "a prompt needs at least one version");
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
        return None;
    }
    // Not `vec![None; n]`: that clones, bringing Version's clone code into the Wasm.
    let mut slots: Vec<Option<Version>> =
        std::iter::repeat_with(|| None).take(list.len()).collect();
    let mut numbers_ok = true;
    for (i, item) in list.iter().enumerate() {
        let ipath = index_path(&vpath, i);
        let (number, version) = compile_version(item, &ipath, list.len(), snippets, p);
        match number {
            Some(n) => {
                let slot = usize::try_from(n - 1).ok().and_then(|i| slots.get_mut(i));
                match slot {
                    Some(s) if s.is_some() || slot_taken(list.get(..i).unwrap_or_default(), n) => {
                        numbers_ok = false;
                        p.add(
                            key_path(&ipath, "version"),
                            format!("duplicate version {n}"),
                        );
                    }
                    Some(s) => *s = version,
                    None => numbers_ok = false,
                }
            }
            None => numbers_ok = false,
        }
    }
    if numbers_ok {
        // Duplicates were reported above; a gap means some number in 1..n is missing.
        let present: Vec<u64> = list
            .iter()
            .filter_map(|v| v.get("version").and_then(Value::as_u64))
            .collect();
        for n in 1..=list.len() as u64 {
            if !present.contains(&n) {
                p.add(
                    vpath.clone(),
                    format!(
                        "version {n} is missing: versions must be numbered 1..{}",
                        list.len()
                    ),
                );
            }
        }
    }
    let version_count = list.len() as u32;
    let labels = obj
        .get("labels")
        .map(|l| super::routes::compile_labels(name, l, &obj.at("labels"), version_count, p))
        .unwrap_or_default();
    if p.len() > before {
        return None;
    }
    Some(Prompt {
        name: name.into(),
        client,
        versions: slots.into_iter().flatten().collect(),
        labels,
    })
}

fn slot_taken(earlier: &[Value], n: u64) -> bool {
    earlier
        .iter()
        .any(|v| v.get("version").and_then(Value::as_u64) == Some(n))
}

fn compile_version(
    v: &Value,
    path: &str,
    count: usize,
    snippets: &SnippetSet,
    p: &mut Problems,
) -> (Option<u64>, Option<Version>) {
    let before = p.len();
    let Some(obj) = Obj::new(v, path, VERSION_KEYS, p) else {
        return (None, None);
    };
    let number = obj
        .require("version", p)
        .and_then(|n| as_int(n, &obj.at("version"), 1, count as u64, p));
    for k in ["author", "note", "created_at"] {
        obj.opt_str(k, p);
    }
    if let Some(m) = obj.get("model") {
        check_model(m, &obj.at("model"), p);
    }
    if let Some(t) = obj.get("tools") {
        check_tools(t, &obj.at("tools"), p);
    }
    if let Some(r) = obj.get("response_format") {
        if !r.is_object() {
            p.add(
                obj.at("response_format"),
                format!("expected an object, found {}", kind(r)),
            );
        }
    }
    let (defaults, required, declared) = variables(&obj, p);
    let pins = pins(&obj, p);

    // Templates: text or messages, each compiled, with their references for checks.
    let mut direct: Vec<(References, String)> = Vec::new();
    let mut placeholders: Vec<(String, String)> = Vec::new();
    let body = match (obj.get("text"), obj.get("messages")) {
        (Some(_), Some(_)) => {
            p.add(path, "give either \"text\" or \"messages\", not both");
            None
        }
        (None, None) => {
            p.add(path, "missing the template: give \"text\" or \"messages\"");
            None
        }
        (Some(t), None) => as_str(t, &obj.at("text"), p)
            .and_then(|src| compile_template(src, &obj.at("text"), p))
            .map(|(t, refs)| {
                direct.push((refs, obj.at("text")));
                Body::Text(t)
            }),
        (None, Some(m)) => {
            messages(m, &obj.at("messages"), &mut direct, &mut placeholders, p).map(Body::Messages)
        }
    };

    // Every root-scope name must be declared; placeholders too.
    for (refs, tpath) in &direct {
        for n in &refs.root_names {
            if !declared.contains(&n.name) {
                p.add(
                    tpath.clone(),
                    format!(
                        "undeclared variable \"{}\" (line {}, column {}): declare it under \"variables\"",
                        n.name, n.line, n.column
                    ),
                );
            }
        }
    }
    for (var, mpath) in &placeholders {
        if !declared.iter().any(|d| d == var) {
            p.add(
                mpath.clone(),
                format!("placeholder variable \"{var}\" is not declared under \"variables\""),
            );
        }
    }
    let direct_refs: Vec<(&References, String)> =
        direct.iter().map(|(r, s)| (r, s.clone())).collect();
    let from_snippets = snippets.check_version(&pins, &obj.at("snippets"), &direct_refs, p);
    for n in from_snippets {
        if !declared.contains(&n.name) {
            p.add(
                obj.at("variables"),
                format!(
                    "variable \"{}\" used by snippet \"{}\" is not declared",
                    n.name, n.snippet
                ),
            );
        }
    }
    if p.len() > before {
        return (number, None);
    }
    let (Some(n), Some(body)) = (number, body) else {
        return (number, None);
    };
    let hash = content_hash(v);
    let version = Version {
        number: n as u32,
        body,
        model: obj.get("model").cloned().unwrap_or(Value::Null),
        tools: obj.get("tools").cloned().unwrap_or(Value::Null),
        response_format: obj.get("response_format").cloned().unwrap_or(Value::Null),
        defaults,
        required,
        pins,
        hash,
    };
    (number, Some(version))
}

/// SHA-256 over the canonical JSON of the fields that shape a version's output.
pub fn content_hash(version: &Value) -> String {
    // The canonical form of the object holding just these keys, written without
    // copying them out first; the keys are listed in canonical (byte) order.
    const COVERED: [&str; 7] = [
        "messages",
        "model",
        "response_format",
        "snippets",
        "text",
        "tools",
        "variables",
    ];
    let mut text = String::from("{");
    for key in COVERED {
        if let Some(v) = version.get(key) {
            if text.len() > 1 {
                text.push(',');
            }
            text.push('"');
            text.push_str(key);
            text.push_str("\":");
            write_canonical(v, &mut text);
        }
    }
    text.push('}');
    sha256_hex(text.as_bytes())
}

type Vars = (Value, Box<[Box<str>]>, Vec<String>);

fn variables(obj: &Obj<'_>, p: &mut Problems) -> Vars {
    let mut defaults = Map::new();
    let mut required = Vec::new();
    let mut declared = Vec::new();
    let Some(map) = obj
        .get("variables")
        .and_then(|v| as_map(v, &obj.at("variables"), p))
    else {
        return (Value::Object(defaults), Box::new([]), declared);
    };
    if map.len() > limits::MAX_VARIABLES {
        p.add(
            obj.at("variables"),
            format!(
                "{} variables, over the limit of {}",
                map.len(),
                limits::MAX_VARIABLES
            ),
        );
    }
    for (name, decl) in map {
        let path = key_path(&obj.at("variables"), name);
        if !check_variable_name(name, &path, p) {
            continue;
        }
        declared.push(name.clone());
        let Some(d) = Obj::new(decl, &path, VARIABLE_KEYS, p) else {
            continue;
        };
        d.opt_str("description", p);
        let req = d.opt_bool("required", p).unwrap_or(false);
        match (req, d.get("default")) {
            (true, Some(_)) => p.add(path, "a required variable cannot have a default"),
            (true, None) => required.push(name.as_str().into()),
            (false, Some(value)) => {
                defaults.insert(name.clone(), value.clone());
            }
            (false, None) => p.add(
                path,
                "give the variable a source: \"required\": true, or a \"default\" (null for none)",
            ),
        }
    }
    (
        Value::Object(defaults),
        required.into_boxed_slice(),
        declared,
    )
}

/// Variable names are Mustache names without dots (dots address into values).
fn check_variable_name(name: &str, path: &str, p: &mut Problems) -> bool {
    let ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && name.len() <= limits::MAX_NAME_LEN;
    if !ok {
        p.add(
            path,
            format!(
                "variable name {} must start with a letter or _ and contain only letters, digits, _ and - (at most {} bytes)",
                crate::value::canonical::quoted(name),
                limits::MAX_NAME_LEN
            ),
        );
    }
    ok
}

fn pins(obj: &Obj<'_>, p: &mut Problems) -> Box<[(Box<str>, u32)]> {
    let Some(map) = obj
        .get("snippets")
        .and_then(|v| as_map(v, &obj.at("snippets"), p))
    else {
        return Box::new([]);
    };
    let mut out = Vec::new();
    for (name, v) in map {
        let path = key_path(&obj.at("snippets"), name);
        if let Some(n) = as_int(v, &path, 1, limits::MAX_VERSIONS as u64, p) {
            out.push((name.as_str().into(), n as u32));
        }
    }
    out.into_boxed_slice()
}

fn messages(
    v: &Value,
    path: &str,
    direct: &mut Vec<(References, String)>,
    placeholders: &mut Vec<(String, String)>,
    p: &mut Problems,
) -> Option<Box<[Message]>> {
    let list = as_array(v, path, p)?;
    if list.is_empty() {
        p.add(path, "a chat version needs at least one message");
        return None;
    }
    if list.len() > limits::MAX_MESSAGES {
        p.add(
            path,
            format!(
                "{} messages, over the limit of {}",
                list.len(),
                limits::MAX_MESSAGES
            ),
        );
        return None;
    }
    let before = p.len();
    let mut out = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let mpath = index_path(path, i);
        let Some(o) = Obj::new(m, &mpath, MESSAGE_KEYS, p) else {
            continue;
        };
        if let Some(var) = o.get("placeholder") {
            if o.has("role") || o.has("content") {
                p.add(
                    mpath.clone(),
                    "a placeholder message has no \"role\" or \"content\"",
                );
            }
            if let Some(name) = as_str(var, &o.at("placeholder"), p) {
                placeholders.push((name.to_string(), o.at("placeholder")));
                out.push(Message::Placeholder {
                    variable: name.into(),
                });
            }
            continue;
        }
        let role = o
            .require("role", p)
            .and_then(|r| as_str(r, &o.at("role"), p));
        if role.is_some_and(|r| r.is_empty() || r.len() > 64) {
            p.add(o.at("role"), "a role is 1 to 64 bytes");
        }
        let content = o
            .require("content", p)
            .and_then(|c| as_str(c, &o.at("content"), p))
            .and_then(|src| compile_template(src, &o.at("content"), p));
        if let (Some(role), Some((content, refs))) = (role, content) {
            direct.push((refs, o.at("content")));
            out.push(Message::Template {
                role: role.into(),
                content,
            });
        }
    }
    (p.len() == before).then(|| out.into_boxed_slice())
}

fn check_model(v: &Value, path: &str, p: &mut Problems) {
    let Some(o) = Obj::new(v, path, MODEL_KEYS, p) else {
        return;
    };
    o.opt_str("provider", p);
    o.opt_str("name", p);
    if let Some(params) = o.get("params") {
        if !params.is_object() {
            p.add(
                o.at("params"),
                format!("expected an object, found {}", kind(params)),
            );
        }
    }
}

fn check_tools(v: &Value, path: &str, p: &mut Problems) {
    let Some(list) = as_array(v, path, p) else {
        return;
    };
    for (i, t) in list.iter().enumerate() {
        if !t.is_object() {
            p.add(
                index_path(path, i),
                format!("expected a tool definition object, found {}", kind(t)),
            );
        }
    }
}
