//! `matches`: regular expressions compiled once with the manifest by `regex-lite` (a
//! PikeVM: matching time is linear in the attribute, never backtracking), bounded in
//! source length, compiled size and nesting so that a manifest cannot make one
//! condition expensive to hold or to run.
//!
//! The syntax is regex-lite's (Rust's `regex` syntax without Unicode classes): `\d`,
//! `\w`, `\s` and `\b` are ASCII, `.` is any character but `\n`; no look-around and no
//! back-references. The search is unanchored, as JavaScript's `RegExp.test` (use `^`
//! and `$` to anchor). `case_insensitive` is regex-lite's `(?i)`: ASCII letters only.

use regex_lite::{Regex, RegexBuilder};

/// Longest pattern source, in bytes.
pub const MAX_PATTERN_BYTES: usize = 256;
/// Largest compiled pattern, in (regex-lite's approximate) bytes of heap.
pub const MAX_PATTERN_COMPILED_BYTES: usize = 64 * 1024;
/// Deepest nesting of groups and repetitions in a pattern.
pub const MAX_PATTERN_NEST: u32 = 32;

/// Compiles a pattern, or says why it is refused.
pub(crate) fn compile(source: &str, case_insensitive: bool) -> Result<Regex, String> {
    if source.len() > MAX_PATTERN_BYTES {
        return Err(format!(
            "regular expression longer than {MAX_PATTERN_BYTES} bytes ({} bytes)",
            source.len()
        ));
    }
    RegexBuilder::new(source)
        .case_insensitive(case_insensitive)
        .size_limit(MAX_PATTERN_COMPILED_BYTES)
        .nest_limit(MAX_PATTERN_NEST)
        .build()
        // One line: a problem is one line of a validation report.
        .map_err(|e| {
            let msg = e.to_string();
            format!(
                "invalid regular expression: {}",
                msg.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_and_bounds() {
        let r = compile("@example\\.com$", false).unwrap();
        assert!(r.is_match("ada@example.com"));
        assert!(!r.is_match("ada@example.com.evil"));
        assert!(compile("ABC", true).unwrap().is_match("xabcx"));
        assert!(compile("(", false)
            .unwrap_err()
            .starts_with("invalid regular expression: "));
        assert!(compile(&"a".repeat(257), false)
            .unwrap_err()
            .contains("longer than 256 bytes"));
        assert!(compile(
            "((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))",
            false
        )
        .is_err());
        assert!(compile("(?:a{100}){100}", false).is_err());
    }
}
