//! Resolve: a compiled manifest and a request in, a decision out.

use crate::assign;
use crate::canonical::sha256_hex;
use crate::manifest::{Body, CompiledManifest, Matcher, Message, Prompt, Route, Version};
use crate::render::{self, Escape, Limits, RenderError, RenderOptions};
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

/// Which version a unit gets, and why; no rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment<'m> {
    /// The label's name as held by the manifest.
    pub label: &'m str,
    /// The version served.
    pub version: u32,
    /// The matching rule's name, or `default`.
    pub rule: &'m str,
    /// The unit's bucket in [0, 10000) under the route's salt.
    pub bucket: u16,
    /// Whether a forced-unit (QA) rule decided it.
    pub forced: bool,
    /// The route's weights period (metrics are kept per period).
    pub period: &'m str,
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
    #[error("missing required variable(s): {}", .0.join(", "))]
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

impl ResolveError {
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

/// The hex SHA-256 under which a forced unit appears in a client projection.
pub fn forced_unit_hash(salt: &str, unit: &str) -> String {
    let mut bytes = Vec::with_capacity(salt.len() + unit.len() + 1);
    bytes.extend_from_slice(salt.as_bytes());
    bytes.push(0xFF);
    bytes.extend_from_slice(unit.as_bytes());
    sha256_hex(&bytes)
}

static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();

fn object<'a>(
    v: Option<&'a Value>,
    what: &str,
) -> Result<Option<&'a Map<String, Value>>, ResolveError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(ResolveError::InvalidRequest(format!(
            "{what} must be a JSON object"
        ))),
    }
}

fn lookup<'m>(
    m: &'m CompiledManifest,
    req: &Request<'_>,
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
    assign_in(m, req).map(|(_, a)| a)
}

fn assign_in<'m>(
    m: &'m CompiledManifest,
    req: &Request<'_>,
) -> Result<(&'m Prompt, Assignment<'m>), ResolveError> {
    if req.unit.is_empty() || req.unit.len() > MAX_UNIT_BYTES {
        return Err(ResolveError::InvalidRequest(format!(
            "unit must be 1 to {MAX_UNIT_BYTES} bytes"
        )));
    }
    let attrs = object(req.attributes, "attributes")?;
    let (prompt, label, route) = lookup(m, req)?;
    Ok((prompt, assign_route(route, label, req.unit, attrs)))
}

/// Runs a route's rules, then its default, for one unit.
pub fn assign_route<'m>(
    route: &'m Route,
    label: &'m str,
    unit: &str,
    attrs: Option<&Map<String, Value>>,
) -> Assignment<'m> {
    let bucket = assign::bucket_from(route.salt_state, unit);
    let attrs = attrs.unwrap_or_else(|| EMPTY.get_or_init(Map::new));
    let mut unit_hash: Option<String> = None;
    for rule in route.rules.iter() {
        let (hit, forced) = match &rule.matcher {
            Matcher::When(c) => (c.matches(attrs), false),
            Matcher::Units(set) => (set.contains(unit), true),
            Matcher::UnitHashes(set) => {
                let h = unit_hash.get_or_insert_with(|| forced_unit_hash(&route.salt, unit));
                (set.contains(h.as_str()), true)
            }
        };
        if hit {
            return Assignment {
                label,
                version: rule.target.pick(bucket),
                rule: &rule.name,
                bucket,
                forced,
                period: &route.period,
            };
        }
    }
    Assignment {
        label,
        version: route.default.pick(bucket),
        rule: "default",
        bucket,
        forced: false,
        period: &route.period,
    }
}

/// Resolves a request: assignment, then rendering of the version's template(s).
pub fn resolve<'a>(
    m: &'a CompiledManifest,
    req: &Request<'a>,
) -> Result<Decision<'a>, ResolveError> {
    let (prompt, a) = assign_in(m, req)?;
    let version = prompt.version(a.version).ok_or_else(|| {
        ResolveError::InvalidRequest(format!("version {} is not loaded", a.version))
    })?;
    let vars = object(req.variables, "variables")?;
    check_required(version, vars)?;
    let (text, messages) = render_version(m, version, req.variables.filter(|v| v.is_object()))?;
    Ok(Decision {
        prompt: &prompt.name,
        label: a.label,
        version: a.version,
        rule: a.rule,
        bucket: a.bucket,
        text,
        messages,
        model: &version.model,
        tools: &version.tools,
        response_format: &version.response_format,
        revision: m.revision(),
        hash: &version.hash,
        forced: a.forced,
        period: a.period,
    })
}

fn check_required(
    version: &Version,
    vars: Option<&Map<String, Value>>,
) -> Result<(), ResolveError> {
    let missing: Vec<String> = version
        .required
        .iter()
        .filter(|name| !vars.is_some_and(|v| v.contains_key(&***name)))
        .map(|n| n.to_string())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ResolveError::MissingVariables(missing))
    }
}

type Rendered<'a> = (Option<String>, Option<Vec<RenderedMessage<'a>>>);

fn render_version<'a>(
    m: &'a CompiledManifest,
    version: &'a Version,
    vars: Option<&'a Value>,
) -> Result<Rendered<'a>, ResolveError> {
    let partials = m.partials_for(version);
    let scopes_buf = [&version.defaults, vars.unwrap_or(&version.defaults)];
    let scopes: &[&Value] = if vars.is_some() {
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
            let text = render::render(t, scopes, &partials, &opts)?;
            Ok((Some(text), None))
        }
        Body::Messages(list) => {
            let mut out = Vec::with_capacity(list.len());
            for msg in list.iter() {
                match msg {
                    Message::Template { role, content } => {
                        opts.limits.max_output = budget;
                        let text = render::render(content, scopes, &partials, &opts)?;
                        budget = budget.saturating_sub(text.len());
                        out.push(RenderedMessage {
                            role: Cow::Borrowed(role),
                            content: Cow::Owned(text),
                        });
                    }
                    Message::Placeholder { variable } => {
                        let value = vars
                            .and_then(|v| v.get(&**variable))
                            .or_else(|| version.defaults.get(&**variable));
                        expand_placeholder(variable, value, &mut budget, &mut out)?;
                    }
                }
            }
            Ok((None, Some(out)))
        }
    }
}

fn expand_placeholder<'a>(
    name: &str,
    value: Option<&'a Value>,
    budget: &mut usize,
    out: &mut Vec<RenderedMessage<'a>>,
) -> Result<(), ResolveError> {
    let bad = |reason: String| ResolveError::InvalidVariable {
        name: name.to_string(),
        reason,
    };
    let list = match value {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(bad(
                "expected a list of {\"role\", \"content\"} messages".into()
            ))
        }
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
        out.push(RenderedMessage {
            role: Cow::Borrowed(role),
            content: Cow::Borrowed(content),
        });
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

/// Resolves a request given as JSON text into the decision as JSON text.
pub fn resolve_json(m: &CompiledManifest, request: &str) -> Result<String, ResolveError> {
    let doc: RequestDoc =
        serde_json::from_str(request).map_err(|e| ResolveError::InvalidRequest(e.to_string()))?;
    let decision = resolve(m, &doc.as_request())?;
    serde_json::to_string(&decision).map_err(|e| ResolveError::InvalidRequest(e.to_string()))
}
