//! Requests given as JSON: read by hand (no typed deserialisation in the npm package's
//! Wasm), unknown fields refused.

use super::input::Input;
use super::{Request, ResolveError};
use serde_json::Value;

/// The fields a JSON request may have.
const REQUEST_FIELDS: [&str; 5] = ["prompt", "label", "unit", "attributes", "variables"];

impl<'a> Request<'a> {
    /// Reads a request from a parsed JSON document: `prompt`, `label`, `unit`,
    /// `attributes`, `variables`, and any field named in `extra` (a platform's own,
    /// such as the edge's `track`, which it reads itself); any other field is refused.
    pub fn from_json(doc: &'a Value, extra: &[&str]) -> Result<Request<'a>, ResolveError> {
        request_from(doc, extra).map_err(ResolveError::InvalidRequest)
    }
}

/// Reads a request from a parsed JSON document, refusing unknown fields. (By hand, not
/// derived: the npm package's Wasm then carries no typed deserialisation.)
fn request_from<'a>(doc: &'a Value, extra: &[&str]) -> Result<Request<'a>, String> {
    let Value::Object(map) = doc else {
        return Err(format!(
            "invalid type: {}, expected a request object",
            kind(doc)
        ));
    };
    let known = |k: &str| REQUEST_FIELDS.contains(&k) || extra.contains(&k);
    if let Some(other) = map.keys().find(|k| !known(k)) {
        let mut expected = String::from("`prompt`, `label`, `unit`, `attributes`, `variables`");
        for field in extra {
            expected.push_str(", `");
            expected.push_str(field);
            expected.push('`');
        }
        return Err(format!(
            "unknown field `{other}`, expected one of {expected}"
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
        // The time is the shell's to give, never the request's.
        now_ms: None,
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

/// Reads a request given as JSON text (unknown fields refused) and hands its input to
/// `then`.
pub fn with_json_input<T>(
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
    then(&Request::from_json(&doc, &[])?)
}
