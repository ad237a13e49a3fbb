//! Case-insensitive text comparison by Unicode simple case folding (CaseFolding.txt,
//! statuses C and S: one character to one character, no language tailoring) of the
//! Unicode version of unicode-case-mapping's table (16.0), so that
//! folding never changes a string's length in characters and two strings can be
//! compared character by character without allocating.
//!
//! What follows from simple folding: `"ǅ"`, `"Ǆ"` and `"ǆ"` are equal, `"K"` (the Kelvin
//! sign) equals `"k"`, `"ẞ"` equals `"ß"`, final `"ς"` equals `"σ"`; `"Straße"` does not
//! equal `"STRASSE"` (that is full folding, `ß` to `ss`); `"İ"` (dotted capital I) folds
//! to nothing else and `"ı"` (dotless small i) equals neither `"i"` nor `"I"` (that is the
//! Turkic tailoring, status T).

/// The simple case folding of one character (unicode-case-mapping's CaseFolding.txt
/// table, statuses C and S; DESIGN.md: a well-kept crate rather than our own table).
#[inline]
pub(crate) fn fold_char(c: char) -> char {
    // ASCII first: most attribute text is ASCII, and its folding is a byte operation.
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    unicode_case_mapping::case_folded(c)
        .and_then(|n| char::from_u32(n.get()))
        .unwrap_or(c)
}

/// The folding of a whole string, done once when a manifest compiles.
pub(crate) fn fold_str(s: &str) -> Box<str> {
    s.chars()
        .map(fold_char)
        .collect::<String>()
        .into_boxed_str()
}

/// Whether `text` folds to `folded` (which is already folded).
#[inline]
pub(crate) fn eq(folded: &str, text: &str) -> bool {
    folded.chars().eq(text.chars().map(fold_char))
}

/// Whether `text` folded starts with `folded`.
pub(crate) fn starts_with(text: &str, folded: &str) -> bool {
    let mut t = text.chars().map(fold_char);
    folded.chars().all(|f| t.next() == Some(f))
}

/// Whether `text` folded ends with `folded`.
pub(crate) fn ends_with(text: &str, folded: &str) -> bool {
    let mut t = text.chars().rev().map(fold_char);
    folded.chars().rev().all(|f| t.next() == Some(f))
}

/// Whether `text` folded contains `folded`, in one pass over `text` (Knuth-Morris-Pratt
/// over folded characters, its table on the stack: the needle is at most
/// [`super::MAX_TEXT_OPERAND_BYTES`] bytes, so at most as many characters), so that a
/// long attribute costs time linear in its length whatever the needle.
pub(crate) fn contains(text: &str, folded: &str) -> bool {
    let mut needle = ['\0'; super::MAX_TEXT_OPERAND_BYTES];
    let mut m = 0;
    for c in folded.chars() {
        match needle.get_mut(m) {
            Some(slot) => *slot = c,
            // Longer than validation allows: tried at each character instead.
            None => return contains_at_each(text, folded),
        }
        m += 1;
    }
    if m == 0 {
        return true;
    }
    let at = |i: usize| needle.get(i).copied();
    // fail[i]: the length of the longest proper prefix of needle[..=i] that is also its suffix.
    let mut fail = [0u16; super::MAX_TEXT_OPERAND_BYTES];
    let back = |fail: &[u16], k: usize| {
        k.checked_sub(1)
            .and_then(|j| fail.get(j))
            .map_or(0, |&f| usize::from(f))
    };
    let mut k = 0;
    for i in 1..m {
        while k > 0 && at(i) != at(k) {
            k = back(&fail, k);
        }
        if at(i) == at(k) {
            k += 1;
        }
        if let Some(slot) = fail.get_mut(i) {
            *slot = u16::try_from(k).unwrap_or(0);
        }
    }
    let mut q = 0;
    for c in text.chars().map(fold_char) {
        while q > 0 && at(q) != Some(c) {
            q = back(&fail, q);
        }
        if at(q) == Some(c) {
            q += 1;
        }
        if q == m {
            return true;
        }
    }
    false
}

/// Whether `text` folded contains `folded`, tried at each character of `text`.
fn contains_at_each(text: &str, folded: &str) -> bool {
    folded.is_empty()
        || text
            .char_indices()
            .any(|(i, _)| text.get(i..).is_some_and(|rest| starts_with(rest, folded)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_folding() {
        assert!(eq(&fold_str("ǅ"), "Ǆ"));
        assert!(eq(&fold_str("ǆ"), "ǅ"));
        assert!(eq(&fold_str("k"), "\u{212A}"));
        assert!(eq(&fold_str("ß"), "ẞ"));
        assert!(eq(&fold_str("σ"), "ς"));
        assert!(eq(&fold_str("σ"), "Σ"));
        assert!(!eq(&fold_str("straße"), "STRASSE"));
        assert!(!eq(&fold_str("i"), "ı"));
        assert!(!eq(&fold_str("i"), "İ"));
        assert!(eq(&fold_str("İ"), "İ"));
        assert!(eq(&fold_str("Hello"), "hELLO"));
        assert!(!eq(&fold_str("Hello"), "hELLO!"));
    }

    #[test]
    fn the_one_pass_search_equals_trying_each_character() {
        let texts = [
            "",
            "a",
            "aaaaab",
            "abababca",
            "xxΣΑΣyy",
            "ǅǅǆ",
            "aabaabaaab",
            "Große STRASSE",
        ];
        let needles = [
            "", "a", "ab", "aab", "abca", "ababca", "σας", "ǆǆ", "aabaaab", "strasse", "b",
        ];
        for t in texts {
            for n in needles {
                let f = fold_str(n);
                assert_eq!(
                    contains(t, &f),
                    contains_at_each(t, &f),
                    "{t:?} contains {n:?}"
                );
            }
        }
        // A needle of the longest allowed length against a long text of its near-misses.
        let needle = fold_str(&("a".repeat(1_023) + "b"));
        let text = "a".repeat(100_000);
        assert!(!contains(&text, &needle));
        assert!(contains(&(text + "b"), &needle));
    }

    #[test]
    fn affixes_and_search() {
        assert!(starts_with("ÉCOLE normale", &fold_str("école")));
        assert!(!starts_with("éc", &fold_str("école")));
        assert!(ends_with("ada@Example.COM", &fold_str("@example.com")));
        assert!(!ends_with("com", &fold_str(".com")));
        assert!(contains("Große STRASSE", &fold_str("strasse")));
        assert!(contains("abc", ""));
        assert!(!contains("ab", &fold_str("abc")));
        assert!(contains("xxΣΑΣyy", &fold_str("σας")));
    }
}
