//! Why a manifest was refused.

use crate::doc::Problem;

/// Why a manifest was refused: every problem found, in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The text is not JSON at all.
    #[error("manifest is not valid JSON: {0}")]
    Json(String),
    /// The text is larger than the documented limit.
    #[error("manifest is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Bytes given.
        size: usize,
        /// Bytes allowed.
        limit: usize,
    },
    /// JSON that fails validation.
    #[error("manifest has {} problem(s): {}", .0.len(), first(.0))]
    Invalid(Vec<Problem>),
}

fn first(problems: &[Problem]) -> String {
    problems.first().map(Problem::to_string).unwrap_or_default()
}

impl ManifestError {
    /// Every problem as a `PATH: reason` line (one line for JSON and size errors).
    pub fn lines(&self) -> Vec<String> {
        match self {
            ManifestError::Invalid(ps) => ps.iter().map(Problem::to_string).collect(),
            other => vec![other.to_string()],
        }
    }
}
