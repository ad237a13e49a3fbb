//! A request as the engine reads it, and the decision up to rendering: lookup,
//! assignment, the required variables.

use super::{Request, ResolveError, DEFAULT_LABEL, MAX_UNIT_BYTES};
use crate::assign::{Assignment, RouteAt};
use crate::manifest::{CompiledManifest, Prompt, Route, Version};
use crate::value::{Fields, Val};
use serde_json::Value;

/// A request as the engine reads it, however it crossed into the engine: from JSON
/// ([`Request`]) or read in place from a platform's packed text.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Prompt name.
    pub prompt: &'a str,
    /// Label; `production` when `None`.
    pub label: Option<&'a str>,
    /// The unit that is assigned.
    pub unit: &'a str,
    /// Attributes, when given.
    pub attributes: Option<Fields<'a>>,
    /// Variables, when given: an object.
    pub variables: Option<Val<'a>>,
    /// The request's time in milliseconds since the Unix epoch, for `$now` conditions.
    pub now_ms: Option<i64>,
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
    // Inlined into its callers: called out of line, the `Input` it returns went through
    // memory and was copied back with wider loads than the stores that wrote it, which
    // stalls store forwarding (`resolve/assign` 57 against 34 ns, BENCHMARKS.md "Engine
    // speed after the npm size work"). Small, and not on the npm package's packed path.
    #[inline]
    pub(crate) fn from_request(req: &Request<'a>) -> Result<Input<'a>, ResolveError> {
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
            now_ms: req.now_ms,
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

pub(crate) fn assign_in<'m>(
    m: &'m CompiledManifest,
    req: &Input<'_>,
) -> Result<(&'m Prompt, Assignment<'m>), ResolveError> {
    if req.unit.is_empty() || req.unit.len() > MAX_UNIT_BYTES {
        return Err(ResolveError::InvalidRequest(format!(
            "unit must be 1 to {MAX_UNIT_BYTES} bytes"
        )));
    }
    let (prompt, label, route) = lookup(m, req)?;
    let at = RouteAt {
        prompt: &prompt.name,
        label,
        revision: m.revision(),
    };
    Ok((
        prompt,
        route.assign(at, req.unit, req.attributes, req.now_ms),
    ))
}

/// Assigns the unit and checks the version's required variables: everything but the
/// rendering, which the caller then does into its own [`Target`] ([`render_version`]).
pub fn decide<'a>(
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
