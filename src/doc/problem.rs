//! Validation problems: every one carries the exact path and the reason.

use std::fmt;

/// One problem found in a document, e.g.
/// `prompts.support.labels.production.default.split: weights sum to 95, expected 100`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: a dotted path with `[i]` for array items and `["k"]` for unusual keys.
    pub path: String,
    /// Why, in words a user can act on.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// Collects problems while a document is walked.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    /// Records a problem at `path`.
    pub(crate) fn add(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.push(path.into(), reason.into());
    }

    // One copy of the code however many argument types `add` is called with.
    #[inline(never)]
    fn push(&mut self, path: String, reason: String) {
        self.list.push(Problem { path, reason });
    }

    /// Whether nothing was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The problems recorded so far.
    pub(crate) fn into_vec(self) -> Vec<Problem> {
        self.list
    }

    /// How many problems were recorded so far.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }
}

/// Appends a key to a path, quoting keys that are not plain identifiers.
#[inline(never)]
pub(crate) fn key_path(base: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    match (base.is_empty(), plain) {
        (true, true) => key.to_string(),
        (true, false) => format!("[{}]", quote(key)),
        (false, true) => format!("{base}.{key}"),
        (false, false) => format!("{base}[{}]", quote(key)),
    }
}

/// Appends an array index to a path.
#[inline(never)]
pub(crate) fn index_path(base: &str, i: usize) -> String {
    format!("{base}[{i}]")
}

fn quote(s: &str) -> String {
    crate::value::canonical::quoted(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_unusual_keys() {
        assert_eq!(key_path("prompts", "support"), "prompts.support");
        assert_eq!(key_path("prompts", "a.b"), "prompts[\"a.b\"]");
        assert_eq!(index_path("x.versions", 2), "x.versions[2]");
        assert_eq!(key_path("", "schema"), "schema");
    }
}
