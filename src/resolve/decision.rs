//! A resolve's result: the assignment (the decision's identity) and what it serves.

use crate::assign::Assignment;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::Value;
use std::borrow::Cow;

/// The result of a resolve; serialises to the documented JSON keys, in this order:
/// `prompt, label, version, rule, bucket, text | messages, model, tools,
/// response_format, revision, hash` (forced and period stay inside the worker).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<'a> {
    /// Which version, for which prompt and label, by which rule and bucket, at which
    /// revision and weights period.
    pub assignment: Assignment<'a>,
    /// Rendered text, for text versions.
    pub text: Option<String>,
    /// Rendered messages, for chat versions.
    pub messages: Option<Vec<RenderedMessage<'a>>>,
    /// Model settings, `null` when unset.
    pub model: &'a Value,
    /// Tool definitions, `null` when unset.
    pub tools: &'a Value,
    /// Output schema, `null` when unset.
    pub response_format: &'a Value,
    /// The version's content hash.
    pub hash: &'a str,
}

impl Serialize for Decision<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let a = &self.assignment;
        let rendered = usize::from(self.text.is_some()) + usize::from(self.messages.is_some());
        let mut s = serializer.serialize_struct("Decision", 10 + rendered)?;
        s.serialize_field("prompt", a.prompt)?;
        s.serialize_field("label", a.label)?;
        s.serialize_field("version", &a.version)?;
        s.serialize_field("rule", a.rule)?;
        s.serialize_field("bucket", &a.bucket)?;
        if let Some(text) = &self.text {
            s.serialize_field("text", text)?;
        }
        if let Some(messages) = &self.messages {
            s.serialize_field("messages", messages)?;
        }
        s.serialize_field("model", self.model)?;
        s.serialize_field("tools", self.tools)?;
        s.serialize_field("response_format", self.response_format)?;
        s.serialize_field("revision", &a.revision)?;
        s.serialize_field("hash", self.hash)?;
        s.end()
    }
}

/// One rendered chat message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RenderedMessage<'a> {
    /// Role.
    pub role: Cow<'a, str>,
    /// Content.
    pub content: Cow<'a, str>,
}
