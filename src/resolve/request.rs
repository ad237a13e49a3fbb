//! Requests given as JSON text: read by hand (no typed deserialisation in the npm
//! package's Wasm), unknown fields refused.

use super::input::Input;
use super::{Request, ResolveError};
use serde::Deserialize;
use serde_json::Value;

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
    then(&request_from(&doc).map_err(ResolveError::InvalidRequest)?)
}
