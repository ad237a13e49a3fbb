//! Manifest changes as pure functions: publishing versions from prompt sources and the
//! route operations (promote, split, ramp, rollback). Each takes the live document and
//! returns the next one (revision + 1) with a one-line summary for the audit log; the
//! caller validates it with the engine before storing anything.
//!
//! Who owns what: prompt sources own versions and snippets, the control plane owns
//! routes. Publishing never changes an existing route; routes change only here.

pub mod history;
mod publish;
mod routes;
pub mod sources;

pub use publish::{publish, PromptSource, Published, Sources};
pub use routes::{
    no_single_version, point, promote, ramp, restore_route, rollback, serves_one_version, split,
    RouteChange,
};

use serde_json::{Map, Value};

/// Why a change cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The document is not a manifest object.
    #[error("the live manifest is malformed: {0}")]
    Malformed(String),
    /// No prompt of that name.
    #[error("unknown prompt \"{0}\"")]
    UnknownPrompt(String),
    /// The prompt has no such label.
    #[error("prompt \"{prompt}\" has no label \"{label}\"")]
    UnknownLabel {
        /// Prompt.
        prompt: String,
        /// Label.
        label: String,
    },
    /// The route has no rule of that name.
    #[error("{route} has no rule \"{rule}\"")]
    UnknownRule {
        /// `prompt/label`.
        route: String,
        /// Rule asked for.
        rule: String,
    },
    /// The prompt has no such version.
    #[error("prompt \"{prompt}\" has no version {version}")]
    UnknownVersion {
        /// Prompt.
        prompt: String,
        /// Version asked for.
        version: u64,
    },
    /// Arguments that cannot make a valid change.
    #[error("{0}")]
    Invalid(String),
    /// Nothing in history to roll back to.
    #[error("{0}")]
    NoRollbackTarget(String),
}

/// The manifest's revision.
pub fn revision_of(doc: &Value) -> u64 {
    doc.get("revision").and_then(Value::as_u64).unwrap_or(0)
}

fn object_mut<'a>(v: &'a mut Value, what: &str) -> Result<&'a mut Map<String, Value>, OpError> {
    v.as_object_mut()
        .ok_or_else(|| OpError::Malformed(format!("{what} is not an object")))
}

/// Sets `revision` to the next number.
fn bump(doc: &mut Value) -> Result<u64, OpError> {
    let next = revision_of(doc) + 1;
    object_mut(doc, "the manifest")?.insert("revision".into(), Value::from(next));
    Ok(next)
}
