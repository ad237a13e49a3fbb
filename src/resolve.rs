//! Resolve: a compiled manifest and a request in, a decision out.

use crate::assign::Assignment;
use crate::manifest::{Body, CompiledManifest, Message, Prompt, Route, Version};
use crate::render::{self, Escape, Limits, Out, Partials, RenderError, RenderOptions, Template};
use crate::value::{Fields, Val};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The label used when a request names none.
pub const DEFAULT_LABEL: &str = "production";
/// Longest unit id, in bytes.
pub const MAX_UNIT_BYTES: usize = 512;
/// Most rendered bytes per decision (all messages together).
pub const MAX_RENDERED_BYTES: usize = 1024 * 1024;

/// What to resolve: borrowed, so a shell can build it from whatever it parsed.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Prompt name.
    pub prompt: &'a str,
    /// Label; `production` when `None`.
    pub label: Option<&'a str>,
    /// The unit (user, session...) that is assigned.
    pub unit: &'a str,
    /// Attributes for rules: a JSON object, or `None`.
    pub attributes: Option<&'a Value>,
    /// Template variables: a JSON object, or `None`.
    pub variables: Option<&'a Value>,
}

/// The result of a resolve; serialises to the documented JSON keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision<'a> {
    /// Prompt name.
    pub prompt: &'a str,
    /// Label name.
    pub label: &'a str,
    /// Version served.
    pub version: u32,
    /// Matching rule name, or `default`.
    pub rule: &'a str,
    /// Bucket in [0, 10000).
    pub bucket: u16,
    /// Rendered text, for text versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Rendered messages, for chat versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<RenderedMessage<'a>>>,
    /// Model settings, `null` when unset.
    pub model: &'a Value,
    /// Tool definitions, `null` when unset.
    pub tools: &'a Value,
    /// Output schema, `null` when unset.
    pub response_format: &'a Value,
    /// The manifest's revision.
    pub revision: u64,
    /// The version's content hash.
    pub hash: &'a str,
    /// Whether a forced-unit rule decided it (kept out of comparisons; not serialised).
    #[serde(skip)]
    pub forced: bool,
    /// The route's weights period (not serialised).
    #[serde(skip)]
    pub period: &'a str,
}

impl Decision<'_> {
    /// The decision as JSON text, keys in the order serde writes them, without serde's
    /// serialiser (the npm package's Wasm carries none). Objects are written as
    /// canonical JSON: the same values, numbers in JavaScript's notation.
    pub fn to_json(&self) -> String {
        use crate::value::canonical::{write_canonical, write_quoted, write_str_object};
        let mut out = String::with_capacity(256);
        out.push_str("{\"prompt\":");
        write_quoted(self.prompt, &mut out);
        out.push_str(",\"label\":");
        write_quoted(self.label, &mut out);
        out.push_str(",\"version\":");
        out.push_str(itoa::Buffer::new().format(self.version));
        out.push_str(",\"rule\":");
        write_quoted(self.rule, &mut out);
        out.push_str(",\"bucket\":");
        out.push_str(itoa::Buffer::new().format(self.bucket));
        if let Some(text) = &self.text {
            out.push_str(",\"text\":");
            write_quoted(text, &mut out);
        }
        if let Some(messages) = &self.messages {
            out.push_str(",\"messages\":[");
            for (i, m) in messages.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str_object(&[("role", &m.role), ("content", &m.content)], &mut out);
            }
            out.push(']');
        }
        for (key, value) in [
            (",\"model\":", self.model),
            (",\"tools\":", self.tools),
            (",\"response_format\":", self.response_format),
        ] {
            out.push_str(key);
            write_canonical(value, &mut out);
        }
        out.push_str(",\"revision\":");
        out.push_str(itoa::Buffer::new().format(self.revision));
        out.push_str(",\"hash\":");
        write_quoted(self.hash, &mut out);
        out.push('}');
        out
    }
}

/// One rendered chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedMessage<'a> {
    /// Role.
    pub role: Cow<'a, str>,
    /// Content.
    pub content: Cow<'a, str>,
}

/// Why a request could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No prompt of that name.
    #[error("unknown prompt \"{0}\"")]
    UnknownPrompt(String),
    /// The prompt has no such label.
    #[error("prompt \"{prompt}\" has no label \"{label}\"")]
    UnknownLabel {
        /// Prompt name.
        prompt: String,
        /// Label asked for.
        label: String,
    },
    /// Required variables were not given.
    #[error("missing required variable(s): {}", crate::names::join(.0, ", "))]
    MissingVariables(Vec<String>),
    /// A variable has the wrong shape (e.g. a chat placeholder that is not a list of messages).
    #[error("variable \"{name}\": {reason}")]
    InvalidVariable {
        /// Variable name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The request itself is malformed.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Rendering hit a limit.
    #[error("render limit exceeded: {0}")]
    Render(#[from] RenderError),
}

/// The one detail an error carries for programs, under its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail<'a> {
    /// A list of names (`missing`).
    Names(&'a [String]),
    /// One name (`variable`).
    Name(&'a str),
}

impl ResolveError {
    /// The detail key and value, if the error has one: the one place that says which
    /// errors carry which detail (as a JSON value in [`ResolveError::details`], as text
    /// in the packed crossing).
    pub fn detail(&self) -> Option<(&'static str, Detail<'_>)> {
        match self {
            ResolveError::MissingVariables(names) => Some(("missing", Detail::Names(names))),
            ResolveError::InvalidVariable { name, .. } => Some(("variable", Detail::Name(name))),
            _ => None,
        }
    }

    /// What a program needs to act on the error: the missing variables' names, or the
    /// variable at fault; `null` otherwise.
    pub fn details(&self) -> Value {
        let Some((key, detail)) = self.detail() else {
            return Value::Null;
        };
        // Built by hand, not with `json!`: no serde serialiser in the npm package.
        let value = match detail {
            Detail::Names(names) => names.iter().map(|n| Value::String(n.clone())).collect(),
            Detail::Name(name) => Value::String(name.to_string()),
        };
        let mut details = Map::new();
        details.insert(key.into(), value);
        Value::Object(details)
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ResolveError::UnknownPrompt(_) => "unknown_prompt",
            ResolveError::UnknownLabel { .. } => "unknown_label",
            ResolveError::MissingVariables(_) => "missing_variables",
            ResolveError::InvalidVariable { .. } => "invalid_variable",
            ResolveError::InvalidRequest(_) => "invalid_request",
            ResolveError::Render(_) => "render_limit",
        }
    }
}

/// A request as the engine reads it: from JSON ([`Request`]) or from packed text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Input<'a> {
    pub prompt: &'a str,
    pub label: Option<&'a str>,
    pub unit: &'a str,
    /// Attributes, when given.
    pub attributes: Option<Fields<'a>>,
    /// Variables, when given: an object.
    pub variables: Option<Val<'a>>,
}

fn object<'a>(v: Option<&'a Value>, what: &str) -> Result<Option<&'a Value>, ResolveError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(ResolveError::InvalidRequest(format!(
            "{what} must be a JSON object"
        ))),
    }
}

impl<'a> Input<'a> {
    /// Checks a JSON request's shape.
    fn from_request(req: &Request<'a>) -> Result<Input<'a>, ResolveError> {
        let attributes = match object(req.attributes, "attributes")? {
            Some(Value::Object(map)) => Some(Fields::Json(map)),
            _ => None,
        };
        Ok(Input {
            prompt: req.prompt,
            label: req.label,
            unit: req.unit,
            attributes,
            variables: object(req.variables, "variables")?.map(Val::Json),
        })
    }
}

fn lookup<'m>(
    m: &'m CompiledManifest,
    req: &Input<'_>,
) -> Result<(&'m Prompt, &'m str, &'m Route), ResolveError> {
    let prompt = m
        .prompt(req.prompt)
        .ok_or_else(|| ResolveError::UnknownPrompt(req.prompt.to_string()))?;
    let label = req.label.unwrap_or(DEFAULT_LABEL);
    let (name, route) = prompt
        .labels
        .iter()
        .find(|(n, _)| &**n == label)
        .ok_or_else(|| ResolveError::UnknownLabel {
            prompt: req.prompt.to_string(),
            label: label.to_string(),
        })?;
    Ok((prompt, name, route))
}

/// Assigns a unit to a version without rendering.
pub fn assign<'m>(
    m: &'m CompiledManifest,
    req: &Request<'_>,
) -> Result<Assignment<'m>, ResolveError> {
    assign_in(m, &Input::from_request(req)?).map(|(_, a)| a)
}

fn assign_in<'m>(
    m: &'m CompiledManifest,
    req: &Input<'_>,
) -> Result<(&'m Prompt, Assignment<'m>), ResolveError> {
    if req.unit.is_empty() || req.unit.len() > MAX_UNIT_BYTES {
        return Err(ResolveError::InvalidRequest(format!(
            "unit must be 1 to {MAX_UNIT_BYTES} bytes"
        )));
    }
    let (prompt, label, route) = lookup(m, req)?;
    Ok((prompt, route.assign(label, req.unit, req.attributes)))
}

/// Runs a route's rules, then its default, for one unit.
pub fn assign_route<'m>(
    route: &'m Route,
    label: &'m str,
    unit: &str,
    attrs: Option<&Map<String, Value>>,
) -> Assignment<'m> {
    route.assign(label, unit, attrs.map(Fields::Json))
}

/// Resolves a request: assignment, then rendering of the version's template(s).
pub fn resolve<'a>(
    m: &'a CompiledManifest,
    req: &Request<'a>,
) -> Result<Decision<'a>, ResolveError> {
    let input = Input::from_request(req)?;
    let (prompt, a, version) = decide(m, &input)?;
    let mut owned = Owned::default();
    render_version(m, version, input.variables, &mut owned)?;
    Ok(Decision {
        prompt: &prompt.name,
        label: a.label,
        version: a.version,
        rule: a.rule,
        bucket: a.bucket,
        text: owned.text,
        messages: owned.messages,
        model: &version.model,
        tools: &version.tools,
        response_format: &version.response_format,
        revision: m.revision(),
        hash: &version.hash,
        forced: a.forced,
        period: a.period,
    })
}

/// Assigns the unit and checks the version's required variables.
pub(crate) fn decide<'a>(
    m: &'a CompiledManifest,
    input: &Input<'_>,
) -> Result<(&'a Prompt, Assignment<'a>, &'a Version), ResolveError> {
    let (prompt, a) = assign_in(m, input)?;
    let version = prompt.version(a.version).ok_or_else(|| {
        ResolveError::InvalidRequest(format!("version {} is not loaded", a.version))
    })?;
    check_required(version, input.variables)?;
    Ok((prompt, a, version))
}

fn check_required(version: &Version, vars: Option<Val<'_>>) -> Result<(), ResolveError> {
    let given = |name: &str| vars.is_some_and(|v| v.member(name).is_some());
    if version.required.iter().all(|name| given(name)) {
        return Ok(());
    }
    let missing = version
        .required
        .iter()
        .filter(|name| !given(name))
        .map(|n| n.to_string())
        .collect();
    Err(ResolveError::MissingVariables(missing))
}

/// Where a version's rendered text goes.
pub(crate) trait Target<'a> {
    /// Renders `tpl` as the text (`role` is `None`) or as a message's content, with at
    /// most `max_output` bytes; returns the bytes written.
    fn render(
        &mut self,
        role: Option<&'a str>,
        tpl: &'a Template,
        scopes: &[Val<'a>],
        partials: &dyn Partials,
        opts: &RenderOptions,
    ) -> Result<usize, RenderError>;

    /// Adds a message given verbatim by a chat placeholder.
    fn message(&mut self, role: &'a str, content: &'a str);
}

/// Renders into owned strings, for a [`Decision`].
#[derive(Default)]
struct Owned<'a> {
    text: Option<String>,
    messages: Option<Vec<RenderedMessage<'a>>>,
}

impl<'a> Target<'a> for Owned<'a> {
    fn render(
        &mut self,
        role: Option<&'a str>,
        tpl: &'a Template,
        scopes: &[Val<'a>],
        partials: &dyn Partials,
        opts: &RenderOptions,
    ) -> Result<usize, RenderError> {
        let max = opts.limits.max_output;
        let mut text = String::with_capacity(render::estimate(tpl, max));
        let done = render::render_vals(tpl, scopes, partials, opts, Out::new(&mut text, max))?;
        match role {
            None => self.text = Some(text),
            Some(role) => self
                .messages
                .get_or_insert_with(Vec::new)
                .push(RenderedMessage {
                    role: Cow::Borrowed(role),
                    content: Cow::Owned(text),
                }),
        }
        Ok(done.bytes)
    }

    fn message(&mut self, role: &'a str, content: &'a str) {
        self.messages
            .get_or_insert_with(Vec::new)
            .push(RenderedMessage {
                role: Cow::Borrowed(role),
                content: Cow::Borrowed(content),
            });
    }
}

/// Renders a version's text or messages into `target`, within [`MAX_RENDERED_BYTES`].
pub(crate) fn render_version<'a>(
    m: &'a CompiledManifest,
    version: &'a Version,
    vars: Option<Val<'a>>,
    target: &mut dyn Target<'a>,
) -> Result<(), ResolveError> {
    let partials = m.partials_for(version);
    let defaults = Val::Json(&version.defaults);
    let scopes_buf = [defaults, vars.unwrap_or(defaults)];
    let scopes: &[Val<'a>] = if vars.is_some() {
        &scopes_buf
    } else {
        &scopes_buf[..1]
    };
    let mut budget = MAX_RENDERED_BYTES;
    let mut opts = RenderOptions {
        escape: Escape::None,
        limits: Limits::default(),
    };
    match &version.body {
        Body::Text(t) => {
            opts.limits.max_output = budget;
            target.render(None, t, scopes, &partials, &opts)?;
        }
        Body::Messages(list) => {
            for msg in list.iter() {
                match msg {
                    Message::Template { role, content } => {
                        opts.limits.max_output = budget;
                        let written =
                            target.render(Some(role), content, scopes, &partials, &opts)?;
                        budget = budget.saturating_sub(written);
                    }
                    Message::Placeholder { variable } => {
                        let value = vars
                            .and_then(|v| v.member(variable))
                            .or_else(|| version.defaults.get(&**variable).map(Val::Json));
                        expand_placeholder(variable, value, &mut budget, target)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn expand_placeholder<'a>(
    name: &str,
    value: Option<Val<'a>>,
    budget: &mut usize,
    target: &mut dyn Target<'a>,
) -> Result<(), ResolveError> {
    let bad = |reason: String| ResolveError::InvalidVariable {
        name: name.to_string(),
        reason,
    };
    let list = match value {
        None => return Ok(()),
        Some(v) if v.is_null() => return Ok(()),
        Some(v) => match (v.as_list(), v.list_len()) {
            (Some(list), _) => list,
            // Packed items are scalars, never {role, content}: the JSON path's answer.
            (None, Some(0)) => return Ok(()),
            (None, Some(_)) => {
                return Err(bad("item 0 needs string \"role\" and \"content\"".into()))
            }
            (None, None) => {
                return Err(bad(
                    "expected a list of {\"role\", \"content\"} messages".into()
                ))
            }
        },
    };
    for (i, item) in list.iter().enumerate() {
        let role = item.get("role").and_then(Value::as_str);
        let content = item.get("content").and_then(Value::as_str);
        let (Some(role), Some(content)) = (role, content) else {
            return Err(bad(format!(
                "item {i} needs string \"role\" and \"content\""
            )));
        };
        if content.len() + role.len() > *budget {
            return Err(RenderError::OutputTooLarge {
                limit: MAX_RENDERED_BYTES,
            }
            .into());
        }
        *budget -= content.len() + role.len();
        // Values are data: inserted verbatim, never parsed as a template.
        target.message(role, content);
    }
    Ok(())
}

/// A request as JSON, for shells that take text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDoc {
    /// Prompt name.
    pub prompt: String,
    /// Label, default `production`.
    #[serde(default)]
    pub label: Option<String>,
    /// Unit id.
    pub unit: String,
    /// Attributes object.
    #[serde(default)]
    pub attributes: Option<Value>,
    /// Variables object.
    #[serde(default)]
    pub variables: Option<Value>,
}

impl RequestDoc {
    /// Borrows it as a [`Request`].
    pub fn as_request(&self) -> Request<'_> {
        Request {
            prompt: &self.prompt,
            label: self.label.as_deref(),
            unit: &self.unit,
            attributes: self.attributes.as_ref(),
            variables: self.variables.as_ref(),
        }
    }
}

/// The fields a JSON request may have.
const REQUEST_FIELDS: [&str; 5] = ["prompt", "label", "unit", "attributes", "variables"];

/// Reads a request from a parsed JSON document, refusing unknown fields. (By hand, not
/// derived: the npm package's Wasm then carries no typed deserialisation.)
fn request_from(doc: &Value) -> Result<Request<'_>, String> {
    let Value::Object(map) = doc else {
        return Err(format!(
            "invalid type: {}, expected a request object",
            kind(doc)
        ));
    };
    if let Some(other) = map.keys().find(|k| !REQUEST_FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "unknown field `{other}`, expected one of `prompt`, `label`, `unit`, `attributes`, `variables`"
        ));
    }
    let string = |name: &str| match map.get(name) {
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        None | Some(Value::Null) => Ok(None),
        Some(v) => Err(format!(
            "field `{name}`: invalid type: {}, expected a string",
            kind(v)
        )),
    };
    let prompt = string("prompt")?.ok_or("missing field `prompt`")?;
    let unit = string("unit")?.ok_or("missing field `unit`")?;
    Ok(Request {
        prompt,
        label: string("label")?,
        unit,
        attributes: map.get("attributes"),
        variables: map.get("variables"),
    })
}

/// A JSON value's kind, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Resolves a request given as JSON text into the decision as JSON text.
pub fn resolve_json(m: &CompiledManifest, request: &str) -> Result<String, ResolveError> {
    with_json_request(request, |req| Ok(resolve(m, req)?.to_json()))
}

/// Reads a request given as JSON text and hands its input to `then`, refusing it as
/// [`resolve_json`] does.
pub(crate) fn with_json_input<T>(
    request: &str,
    then: impl FnOnce(&Input<'_>) -> Result<T, ResolveError>,
) -> Result<T, ResolveError> {
    with_json_request(request, |req| then(&Input::from_request(req)?))
}

/// Parses JSON request text and reads the request from it, refusing unknown fields.
fn with_json_request<T>(
    request: &str,
    then: impl FnOnce(&Request<'_>) -> Result<T, ResolveError>,
) -> Result<T, ResolveError> {
    let doc: Value =
        serde_json::from_str(request).map_err(|e| ResolveError::InvalidRequest(e.to_string()))?;
    then(&request_from(&doc).map_err(ResolveError::InvalidRequest)?)
}
