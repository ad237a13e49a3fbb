//! A version rendered for one case, with the engine's own renderer, and the views of
//! it that assertions read: the whole rendering or one role's messages.

use edgeprompt::manifest::{CompiledManifest, Version};
use edgeprompt::render::{self, Partials, RenderError, RenderOptions, Template};
use edgeprompt::resolve::ResolveError;
use edgeprompt::unstable::{render_version, Target};
use edgeprompt::value::Val;
use serde_json::{json, Value};

/// What a version renders to: its text, or its chat messages (placeholders expanded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendering {
    /// A text version's text.
    Text(String),
    /// A chat version's messages as `(role, content)`.
    Messages(Vec<(String, String)>),
}

/// Collects what the engine renders, in order.
struct Collect {
    text: Option<String>,
    messages: Vec<(String, String)>,
}

impl<'a> Target<'a> for Collect {
    fn render(
        &mut self,
        role: Option<&'a str>,
        tpl: &'a Template,
        scopes: &[Val<'a>],
        partials: &dyn Partials,
        opts: &RenderOptions,
    ) -> Result<usize, RenderError> {
        let mut out = String::new();
        let written = render::render_values(tpl, scopes, partials, opts, &mut out)?;
        match role {
            None => self.text = Some(out),
            Some(role) => self.messages.push((role.to_string(), out)),
        }
        Ok(written)
    }

    fn message(&mut self, role: &'a str, content: &'a str) {
        self.messages.push((role.to_string(), content.to_string()));
    }
}

/// Renders `version` with `vars` (a JSON object) exactly as a resolve would, refusing
/// missing required variables the way a resolve does.
pub fn render(
    m: &CompiledManifest,
    version: &Version,
    vars: &Value,
) -> Result<Rendering, ResolveError> {
    let missing: Vec<String> = version
        .required
        .iter()
        .filter(|name| vars.get(&***name).is_none())
        .map(|n| n.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(ResolveError::MissingVariables(missing));
    }
    let mut out = Collect {
        text: None,
        messages: Vec::new(),
    };
    render_version(m, version, Some(Val::Json(vars)), &mut out)?;
    Ok(match out.text {
        Some(text) => Rendering::Text(text),
        None => Rendering::Messages(out.messages),
    })
}

impl Rendering {
    /// The text an assertion reads: the whole rendering (a chat's message contents
    /// joined by a newline), or the contents of every message with `role`, joined the
    /// same way; `Err` says why there is nothing to read.
    pub fn select(&self, role: Option<&str>) -> Result<String, String> {
        match (self, role) {
            (Rendering::Text(t), None) => Ok(t.clone()),
            (Rendering::Text(_), Some(r)) => Err(format!(
                "role {r:?} given, but this version is a text prompt (no messages)"
            )),
            (Rendering::Messages(list), role) => {
                let picked: Vec<&str> = list
                    .iter()
                    .filter(|(r, _)| role.is_none_or(|want| r == want))
                    .map(|(_, c)| c.as_str())
                    .collect();
                match role {
                    Some(r) if picked.is_empty() => {
                        Err(format!("no {r:?} message in the rendering"))
                    }
                    _ => Ok(picked.join("\n")),
                }
            }
        }
    }

    /// The chat messages a model is sent: a text version is one user message.
    pub fn chat(&self) -> Vec<Value> {
        match self {
            Rendering::Text(t) => vec![json!({"role": "user", "content": t})],
            Rendering::Messages(list) => list
                .iter()
                .map(|(role, content)| json!({"role": role, "content": content}))
                .collect(),
        }
    }

    /// The rendering as one readable text (for a judge): a text version as is, a chat
    /// as `role: content` blocks separated by a blank line.
    pub fn transcript(&self) -> String {
        match self {
            Rendering::Text(t) => t.clone(),
            Rendering::Messages(list) => list
                .iter()
                .map(|(role, content)| format!("{role}: {content}"))
                .collect::<Vec<_>>()
                .join("\n\n"),
        }
    }
}

/// The sentinel that stands for a required variable when checking that it is used.
fn sentinel(name: &str) -> Value {
    Value::String(format!("\u{27e6}edgeprompt-eval:{name}\u{27e7}"))
}

/// The required variables that leave the selected rendering unchanged when their value
/// changes: each is rendered once as a sentinel string and once as `null`; a variable
/// that changes neither rendering does not appear in it (in this case: a section
/// that is false for this case hides what it holds).
pub fn unused_required(
    m: &CompiledManifest,
    version: &Version,
    vars: &Value,
    role: Option<&str>,
    base: &str,
) -> Result<Vec<String>, ResolveError> {
    let mut unused = Vec::new();
    for name in version.required.iter() {
        let mut changed = false;
        for stand_in in [sentinel(name), Value::Null] {
            let mut probe = vars.clone();
            if let Some(obj) = probe.as_object_mut() {
                obj.insert(name.to_string(), stand_in);
            }
            let text = match render(m, version, &probe)?.select(role) {
                Ok(t) => t,
                // The role vanished (a placeholder's messages): the rendering changed.
                Err(_) => {
                    changed = true;
                    break;
                }
            };
            if text != base {
                changed = true;
                break;
            }
        }
        if !changed {
            unused.push(name.to_string());
        }
    }
    Ok(unused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(version: Value) -> CompiledManifest {
        let mut v = version;
        v["version"] = json!(1);
        edgeprompt::manifest::compile_value(json!({"schema": 1, "revision": 1,
            "prompts": {"p": {"versions": [v], "labels": {"production": {"default": {"version": 1}}}}}}))
        .unwrap()
    }

    #[test]
    fn text_and_chat_render_and_select() {
        let m = manifest(json!({"text": "Hi {{name}}", "variables": {"name": {"required": true}}}));
        let v = m.prompt("p").unwrap().version(1).unwrap();
        let r = render(&m, v, &json!({"name": "Ana"})).unwrap();
        assert_eq!(r, Rendering::Text("Hi Ana".into()));
        assert_eq!(r.select(None).unwrap(), "Hi Ana");
        assert!(r.select(Some("user")).unwrap_err().contains("text prompt"));
        let e = render(&m, v, &json!({})).unwrap_err();
        assert_eq!(e.code(), "missing_variables");

        let m = manifest(
            json!({"messages": [{"role": "system", "content": "S {{a}}"},
            {"placeholder": "history"}, {"role": "user", "content": "U"}],
            "variables": {"a": {"default": 1}, "history": {"default": []}}}),
        );
        let v = m.prompt("p").unwrap().version(1).unwrap();
        let r = render(
            &m,
            v,
            &json!({"history": [{"role": "user", "content": "old"}]}),
        )
        .unwrap();
        assert_eq!(r.select(None).unwrap(), "S 1\nold\nU");
        assert_eq!(r.select(Some("user")).unwrap(), "old\nU");
        assert_eq!(r.select(Some("system")).unwrap(), "S 1");
        assert!(r
            .select(Some("tool"))
            .unwrap_err()
            .contains("no \"tool\" message"));
        assert_eq!(r.transcript(), "system: S 1\n\nuser: old\n\nuser: U");
        assert_eq!(r.chat().len(), 3);
    }

    #[test]
    fn unused_required_variables_are_found_by_changing_them() {
        let m = manifest(json!({"text": "{{a}} {{#b}}yes{{/b}} {{#c}}{{d}}{{/c}}",
            "variables": {"a": {"required": true}, "b": {"required": true},
                          "c": {"default": false}, "d": {"required": true}}}));
        let v = m.prompt("p").unwrap().version(1).unwrap();
        let vars = json!({"a": "x", "b": {"k": 1}, "d": "hidden"});
        let base = render(&m, v, &vars).unwrap().select(None).unwrap();
        // `d` sits in a section that is false for this case: it is not in the rendering.
        assert_eq!(
            unused_required(&m, v, &vars, None, &base).unwrap(),
            vec!["d".to_string()]
        );
        let vars = json!({"a": "x", "b": true, "c": true, "d": "shown"});
        let base = render(&m, v, &vars).unwrap().select(None).unwrap();
        assert!(unused_required(&m, v, &vars, None, &base)
            .unwrap()
            .is_empty());
    }
}
