//! Resolve: a compiled manifest and a request in, a decision out.
//!
//! [`assign`] decides the version alone; [`resolve`] also renders it ([`render`]),
//! into owned strings for a [`Decision`] or, through the unstable seam
//! (`edgeprompt::unstable`), into whatever a platform's crossing needs. Requests given
//! as JSON are read by [`Request::from_json`].

mod decision;
mod error;
pub(crate) mod input;
pub(crate) mod render;
pub(crate) mod request;

pub use decision::{Decision, RenderedMessage};
pub use error::{Detail, ResolveError};

use crate::assign::Assignment;
use crate::manifest::CompiledManifest;
use input::{assign_in, decide, Input};
use render::{render_version, Owned};
use serde_json::Value;

/// The label used when a request names none.
pub const DEFAULT_LABEL: &str = "production";
/// Longest unit id, in bytes.
pub const MAX_UNIT_BYTES: usize = 512;
/// Most rendered bytes per decision (all messages together).
pub const MAX_RENDERED_BYTES: usize = 1024 * 1024;

/// What to resolve: borrowed, so a shell can build it from whatever it parsed.
#[derive(Debug, Clone, Copy, Default)]
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
    /// The request's time (milliseconds since the Unix epoch), which the shell passes
    /// in: the edge's clock, the CLI's `--now` or system time, the npm package's
    /// `Date.now()`; `None` makes every `$now` condition false.
    pub now_ms: Option<i64>,
}

/// Assigns a unit to a version without rendering.
pub fn assign<'m>(
    m: &'m CompiledManifest,
    req: &Request<'_>,
) -> Result<Assignment<'m>, ResolveError> {
    assign_in(m, &Input::from_request(req)?).map(|(_, a)| a)
}

/// Resolves a request: assignment, then rendering of the version's template(s).
pub fn resolve<'a>(
    m: &'a CompiledManifest,
    req: &Request<'a>,
) -> Result<Decision<'a>, ResolveError> {
    let input = Input::from_request(req)?;
    let (_, assignment, version) = decide(m, &input)?;
    let mut owned = Owned::for_version(version);
    render_version(m, version, input.variables, &mut owned)?;
    Ok(Decision {
        assignment,
        text: owned.text,
        messages: owned.messages,
        model: &version.model,
        tools: &version.tools,
        response_format: &version.response_format,
        hash: &version.hash,
    })
}
