//! Why a request could not be resolved, with a stable code and the one detail a
//! program acts on.

use crate::render::RenderError;
use serde_json::{Map, Value};

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
