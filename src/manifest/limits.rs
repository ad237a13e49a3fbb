//! Documented size limits (docs/manifest.md lists them); each keeps a manifest cheap to
//! hold in a Worker isolate and bounded to compile.

/// Largest manifest document, in bytes (Workers KV's value limit).
pub const MAX_DOCUMENT_BYTES: usize = 25 * 1024 * 1024;
/// Most prompts in one manifest.
pub const MAX_PROMPTS: usize = 20_000;
/// Most versions of one prompt or one snippet.
pub const MAX_VERSIONS: usize = 1_000;
/// Largest template source (a text, a message content or a snippet), in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// Most messages in a chat version.
pub const MAX_MESSAGES: usize = 100;
/// Most declared variables in a version.
pub const MAX_VARIABLES: usize = 100;
/// Most labels on one prompt.
pub const MAX_LABELS: usize = 64;
/// Most rules in one route.
pub const MAX_RULES: usize = 100;
/// Most entries in one split.
pub const MAX_SPLIT: usize = 100;
/// Most forced units in one rule.
pub const MAX_FORCED_UNITS: usize = 1_000;
pub use crate::condition::{MAX_CONDITION_DEPTH, MAX_CONDITION_NODES};
/// Most declared metrics.
pub const MAX_METRICS: usize = 100;
pub use crate::doc::MAX_NAME_LEN;
/// Longest salt or forced unit, in bytes.
pub const MAX_SALT_BYTES: usize = 256;
