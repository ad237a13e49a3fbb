//! The model endpoint: an OpenAI-compatible chat-completions URL. Builds the request a
//! version pins (model name and params, tools, response format), and calls it with a
//! per-call timeout, retrying 429 and 5xx answers with exponential backoff that honours
//! `Retry-After`.

use super::render::Rendering;
use edgeprompt::manifest::Version;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// A tool call in an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// The function's name.
    pub name: String,
    /// Its arguments, as the model wrote them (JSON text, usually).
    pub arguments: String,
}

/// What the model answered: its text and its tool calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `choices[0].message.content` (`None` when the model only called tools).
    pub content: Option<String>,
    /// `choices[0].message.tool_calls`, function calls only.
    pub tool_calls: Vec<ToolCall>,
}

impl Answer {
    /// Reads an OpenAI chat-completions response.
    pub fn from_response(v: &Value) -> Result<Answer, ModelError> {
        let message = v
            .pointer("/choices/0/message")
            .ok_or_else(|| ModelError::Unreadable("no choices[0].message".into()))?;
        Answer::from_message(message)
    }

    /// Reads a chat message (`content`, `tool_calls`); the cache keeps this form.
    pub fn from_message(message: &Value) -> Result<Answer, ModelError> {
        let content = match message.get("content") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            // Content parts: their text, in order.
            Some(Value::Array(parts)) => Some(
                parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(""),
            ),
            Some(_) => return Err(ModelError::Unreadable("message.content is not text".into())),
        };
        let mut tool_calls = Vec::new();
        for call in message
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = call.pointer("/function/name").and_then(Value::as_str) else {
                continue;
            };
            let arguments = match call.pointer("/function/arguments") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            tool_calls.push(ToolCall {
                name: name.to_string(),
                arguments,
            });
        }
        // The deprecated single `function_call` still names a tool.
        if let Some(name) = message
            .pointer("/function_call/name")
            .and_then(Value::as_str)
        {
            tool_calls.push(ToolCall {
                name: name.to_string(),
                arguments: message
                    .pointer("/function_call/arguments")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            });
        }
        Ok(Answer {
            content,
            tool_calls,
        })
    }

    /// The answer as a chat message (the cache's form).
    pub fn to_message(&self) -> Value {
        let calls: Vec<Value> = self
            .tool_calls
            .iter()
            .map(|c| json!({"type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
            .collect();
        json!({"role": "assistant", "content": self.content, "tool_calls": calls})
    }

    /// The answer as text for a judge: its content, then its tool calls as JSON lines.
    pub fn as_text(&self) -> String {
        let mut out = self.content.clone().unwrap_or_default();
        for c in &self.tool_calls {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&json!({"tool_call": c.name, "arguments": c.arguments}).to_string());
        }
        out
    }
}

/// Why a model call failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The version pins no model name and `--model` gave none.
    #[error("the version pins no model name (model.name); give one with --model")]
    NoModel,
    /// The endpoint answered with an error status (after any retries).
    #[error("the model endpoint answered {status}{}: {body}", attempts_note(*.attempts))]
    Status {
        /// HTTP status.
        status: u16,
        /// The start of its body.
        body: String,
        /// Calls made.
        attempts: u32,
    },
    /// No answer within the per-call timeout.
    #[error("no answer from the model endpoint within {0} s (--timeout)")]
    Timeout(u64),
    /// The endpoint could not be reached.
    #[error("the model endpoint could not be reached: {0}")]
    Transport(String),
    /// The answer was not a chat completion.
    #[error("the model endpoint's answer is not a chat completion: {0}")]
    Unreadable(String),
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

/// Where the model is and how to call it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The chat-completions URL.
    pub url: String,
    /// The bearer key, when its environment variable is set.
    pub key: Option<String>,
    /// That environment variable's name (for the reason of a 401 without a key).
    pub key_env: String,
    /// Per-call timeout.
    pub timeout: Duration,
    /// Retries after a 429 or 5xx answer.
    pub retries: u32,
    /// The first backoff; doubled on each retry.
    pub backoff: Duration,
    /// The model name for versions that pin none.
    pub fallback_model: Option<String>,
}

/// The longest wait between two attempts, whatever `Retry-After` says.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// A client of the endpoint that counts its calls.
pub struct Client {
    endpoint: Endpoint,
    agent: ureq::Agent,
    calls: AtomicU64,
    retried: AtomicU64,
}

impl Client {
    /// A client for `endpoint`.
    pub fn new(endpoint: Endpoint) -> Client {
        let agent = ureq::AgentBuilder::new().timeout(endpoint.timeout).build();
        Client {
            endpoint,
            agent,
            calls: AtomicU64::new(0),
            retried: AtomicU64::new(0),
        }
    }

    /// The endpoint's settings.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// HTTP requests made so far (retries included).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Retries made so far.
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }

    /// The model settings a version's call uses: `{provider, name, params}`.
    pub fn settings(&self, version: &Version) -> Result<Value, ModelError> {
        let name = version
            .model
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| self.endpoint.fallback_model.clone())
            .ok_or(ModelError::NoModel)?;
        Ok(json!({
            "provider": version.model.get("provider").cloned().unwrap_or(Value::Null),
            "name": name,
            "params": version.model.get("params").cloned().unwrap_or(json!({})),
        }))
    }

    /// The request body for a rendering of `version`: its model name and params, its
    /// messages, and its tools and response format as pinned (a bare JSON Schema as
    /// `response_format` is sent in OpenAI's `json_schema` wrapper).
    pub fn body(&self, version: &Version, rendering: &Rendering) -> Result<Value, ModelError> {
        let settings = self.settings(version)?;
        let mut body = Map::new();
        body.insert("model".into(), settings["name"].clone());
        body.insert("messages".into(), Value::Array(rendering.chat()));
        if let Some(params) = settings["params"].as_object() {
            for (k, v) in params {
                // The request's own fields are ours; a param cannot replace them.
                if !matches!(k.as_str(), "model" | "messages" | "stream") {
                    body.insert(k.clone(), v.clone());
                }
            }
        }
        if !version.tools.is_null() {
            body.insert("tools".into(), version.tools.clone());
        }
        if !version.response_format.is_null() {
            body.insert(
                "response_format".into(),
                wire_response_format(&version.response_format),
            );
        }
        Ok(Value::Object(body))
    }

    /// Sends a chat-completions request and reads the answer, retrying a 429 or 5xx
    /// answer up to `retries` times.
    pub fn complete(&self, body: &Value) -> Result<Answer, ModelError> {
        let mut attempt = 0u32;
        loop {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let mut req = self
                .agent
                .post(&self.endpoint.url)
                .set("content-type", "application/json");
            if let Some(key) = &self.endpoint.key {
                req = req.set("authorization", &format!("Bearer {key}"));
            }
            let wait = match req.send_string(&body.to_string()) {
                Ok(resp) => {
                    let text = resp.into_string().map_err(|e| self.io_error(e))?;
                    let v: Value = serde_json::from_str(&text)
                        .map_err(|e| ModelError::Unreadable(format!("not JSON: {e}")))?;
                    return Answer::from_response(&v);
                }
                Err(ureq::Error::Status(status, resp)) => {
                    let retry_after = resp.header("retry-after").and_then(parse_retry_after);
                    let mut text: String = resp
                        .into_string()
                        .unwrap_or_default()
                        .chars()
                        .take(300)
                        .collect();
                    if matches!(status, 401 | 403) && self.endpoint.key.is_none() {
                        text.push_str(&format!(
                            " (no key was sent: ${} is not set; see --model-key-env)",
                            self.endpoint.key_env
                        ));
                    }
                    let retryable = status == 429 || (500..600).contains(&status);
                    if !retryable || attempt >= self.endpoint.retries {
                        return Err(ModelError::Status {
                            status,
                            body: text,
                            attempts: attempt + 1,
                        });
                    }
                    retry_after.unwrap_or_else(|| backoff(self.endpoint.backoff, attempt))
                }
                Err(ureq::Error::Transport(t)) => return Err(self.transport(t)),
            };
            self.retried.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(wait.min(MAX_WAIT));
            attempt += 1;
        }
    }

    fn io_error(&self, e: std::io::Error) -> ModelError {
        if matches!(
            e.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        ) {
            ModelError::Timeout(self.endpoint.timeout.as_secs())
        } else {
            ModelError::Transport(e.to_string())
        }
    }

    fn transport(&self, t: ureq::Transport) -> ModelError {
        let timed_out = std::error::Error::source(&t)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .is_some_and(|e| {
                matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                )
            });
        if timed_out {
            ModelError::Timeout(self.endpoint.timeout.as_secs())
        } else {
            ModelError::Transport(t.to_string())
        }
    }
}

/// `response_format` as the endpoint expects it: OpenAI's forms (`text`,
/// `json_object`, `json_schema`) as they are; a bare JSON Schema wrapped as
/// `{"type": "json_schema", "json_schema": {"name": "response", "schema": ...}}`.
pub fn wire_response_format(rf: &Value) -> Value {
    match rf.get("type").and_then(Value::as_str) {
        Some("text" | "json_object" | "json_schema") => rf.clone(),
        _ => json!({"type": "json_schema", "json_schema": {"name": "response", "schema": rf}}),
    }
}

/// The wait before retry `attempt` (0-based): `base * 2^attempt`.
fn backoff(base: Duration, attempt: u32) -> Duration {
    base.saturating_mul(2u32.saturating_pow(attempt.min(16)))
}

/// `Retry-After`: whole seconds, or an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let d = parse_retry_after(&later).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(
            backoff(Duration::from_millis(500), 0),
            Duration::from_millis(500)
        );
        assert_eq!(
            backoff(Duration::from_millis(500), 3),
            Duration::from_secs(4)
        );
    }

    #[test]
    fn answers_read_text_parts_and_tool_calls() {
        let a = Answer::from_response(&json!({"choices": [{"message": {"role": "assistant",
            "content": null, "tool_calls": [{"id": "1", "type": "function",
            "function": {"name": "lookup_order", "arguments": "{\"id\":7}"}}]}}]}))
        .unwrap();
        assert_eq!(a.content, None);
        assert_eq!(a.tool_calls[0].name, "lookup_order");
        assert_eq!(Answer::from_message(&a.to_message()).unwrap(), a);
        let b = Answer::from_message(
            &json!({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}),
        )
        .unwrap();
        assert_eq!(b.content.as_deref(), Some("ab"));
        assert!(Answer::from_response(&json!({"choices": []})).is_err());
    }

    #[test]
    fn bare_schemas_are_wrapped_for_the_wire() {
        let rf = json!({"type": "object", "properties": {}});
        assert_eq!(wire_response_format(&rf)["json_schema"]["schema"], rf);
        let openai = json!({"type": "json_object"});
        assert_eq!(wire_response_format(&openai), openai);
    }
}
