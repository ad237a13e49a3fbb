//! HTTP plumbing: JSON bodies with a size limit, JSON responses, and API errors in
//! the one shape every endpoint uses: `{"error": {"code", "message", "details"}}`.

use edgeprompt::resolve::ResolveError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use worker::{Headers, Request, Response, ResponseBuilder};

/// An error answer: status, stable code, message, details.
#[derive(Debug)]
pub struct ApiError {
    status: u16,
    code: &'static str,
    message: String,
    details: Value,
}

impl ApiError {
    /// A new error without details.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    /// Its stable code (`conflict`, `label_moved`...).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Its message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Adds details.
    pub fn details(mut self, details: Value) -> ApiError {
        self.details = details;
        self
    }

    /// 404 for a path nobody serves.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(404, "not_found", format!("no route for {what}"))
    }

    /// 500 naming a secret that is missing, too short or malformed.
    pub fn secret(e: crate::secrets::SecretError) -> ApiError {
        use crate::secrets::SecretError;
        let code = match e {
            SecretError::Missing(_) => "missing_secret",
            SecretError::TooShort { .. } => "weak_secret",
            SecretError::Malformed { .. } => "malformed_secret",
        };
        ApiError::new(500, code, e.to_string()).details(json!({"secret": e.name()}))
    }

    /// 503: no manifest could be loaded yet.
    pub fn no_manifest(reason: &str) -> ApiError {
        ApiError::new(
            503,
            "no_manifest",
            format!("no manifest is loaded: {reason}"),
        )
    }

    /// The error object, `{"code", "message", "details"}`: the one shape every
    /// endpoint answers, whole or per item of a batch.
    pub fn object(&self) -> Value {
        json!({"code": self.code, "message": self.message, "details": self.details})
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The error's response body as JSON text.
    pub fn body_text(&self) -> String {
        json!({"error": self.object()}).to_string()
    }

    /// The error as a response.
    pub fn into_response(self) -> Response {
        respond(self.status, &json!({"error": self.object()}))
    }
}

impl From<ResolveError> for ApiError {
    fn from(e: ResolveError) -> ApiError {
        let status = match &e {
            ResolveError::UnknownPrompt(_) | ResolveError::UnknownLabel { .. } => 404,
            ResolveError::MissingVariables(_)
            | ResolveError::InvalidVariable { .. }
            | ResolveError::Render(_) => 422,
            ResolveError::InvalidRequest(_) => 400,
        };
        ApiError::new(status, e.code(), e.to_string()).details(e.details())
    }
}

/// A JSON response with a status; falls back to a bare 500 if the body cannot be built.
pub fn respond<T: Serialize + ?Sized>(status: u16, body: &T) -> Response {
    match serde_json::to_string(body) {
        Ok(text) => text_response(status, text, "application/json; charset=utf-8"),
        Err(e) => text_response(500, format!("cannot serialise response: {e}"), "text/plain"),
    }
}

/// A response with a text body and a content type.
pub fn text_response(status: u16, body: String, content_type: &str) -> Response {
    let headers = Headers::new();
    // Setting a well-formed header on a fresh Headers object does not fail.
    let _ = headers.set("content-type", content_type);
    ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .fixed(body.into_bytes())
}

/// Reads a body as text, at most `limit` bytes, declared (`Content-Length`) or not:
/// 413 past the limit.
pub async fn body_text(req: &mut Request, limit: usize) -> Result<String, ApiError> {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let text = if declared.is_some() {
        // text() costs the runtime less than arrayBuffer() plus a copy (BENCHMARKS.md);
        // invalid UTF-8 becomes U+FFFD, as in any JavaScript Worker. The length was
        // declared within the limit, and the runtime holds a body to it.
        req.text().await.map_err(|e| {
            ApiError::new(400, "unreadable_body", format!("cannot read the body: {e}"))
        })?
    } else {
        bounded_text(req, limit)
            .await
            .map_err(|e| e.unwrap_or_else(|| too_large(limit)))?
    };
    if text.len() > limit {
        return Err(too_large(limit));
    }
    Ok(text)
}

/// How much of an oversized body of undeclared length is read and dropped before the
/// answer is sent regardless.
const MAX_DRAIN_BYTES: usize = 16 << 20;

/// Reads a body of undeclared length (chunked) chunk by chunk and keeps nothing past
/// the limit (`Err(None)`), instead of buffering whatever the client sends into Wasm
/// memory, which never shrinks.
async fn bounded_text(req: &mut Request, limit: usize) -> Result<String, Option<ApiError>> {
    use futures_util::StreamExt;
    let Ok(mut stream) = req.stream() else {
        return Ok(String::new()); // no body at all
    };
    let mut bytes = Vec::new();
    let mut over = false;
    let mut drained = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            Some(ApiError::new(
                400,
                "unreadable_body",
                format!("cannot read the body: {e}"),
            ))
        })?;
        if over || bytes.len() + chunk.len() > limit {
            // Past the limit nothing more is kept. The rest is read and dropped (up to
            // a bound), since a response sent before the request's body ends broke the
            // connection for the requests after it in workerd.
            over = true;
            bytes = Vec::new();
            drained += chunk.len();
            if drained > MAX_DRAIN_BYTES {
                break;
            }
            continue;
        }
        bytes.extend_from_slice(&chunk);
    }
    if over {
        return Err(None);
    }
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Reads a JSON body of at most `limit` bytes, declared (`Content-Length`) or not.
pub async fn json_body<T: DeserializeOwned>(
    req: &mut Request,
    limit: usize,
) -> Result<T, ApiError> {
    let text = body_text(req, limit).await?;
    parse_json(&text)
}

/// Parses a JSON request body: 400 `malformed_json` or `invalid_request` with where.
pub fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| {
        let code = if e.is_data() {
            "invalid_request"
        } else {
            "malformed_json"
        };
        ApiError::new(400, code, format!("request body: {e}"))
            .details(json!({"line": e.line(), "column": e.column()}))
    })
}

/// 413 for a body over `limit` bytes.
pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        413,
        "body_too_large",
        format!("request body is over the limit of {limit} bytes"),
    )
    .details(json!({"limit": limit}))
}

/// The query's `(key, value)` pairs, percent-decoded. Parsed from the raw URL text so
/// that the worker does not link a full URL parser (and its IDNA tables) for this.
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    let url = req.inner().url();
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let query = query.split_once('#').map(|(q, _)| q).unwrap_or(query);
    worker::url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

impl From<crate::secrets::SecretError> for ApiError {
    fn from(e: crate::secrets::SecretError) -> ApiError {
        ApiError::secret(e)
    }
}
