//! Case-insensitive text comparison by Unicode simple case folding (CaseFolding.txt,
//! statuses C and S: one character to one character, no language tailoring) of the
//! Unicode version of the pinned Rust toolchain's standard library, so that
//! folding never changes a string's length in characters and two strings can be
//! compared character by character without allocating.
//!
//! What follows from simple folding: `"ǅ"`, `"Ǆ"` and `"ǆ"` are equal, `"K"` (the Kelvin
//! sign) equals `"k"`, `"ẞ"` equals `"ß"`, final `"ς"` equals `"σ"`; `"Straße"` does not
//! equal `"STRASSE"` (that is full folding, `ß` to `ss`); `"İ"` (dotted capital I) folds
//! to nothing else and `"ı"` (dotless small i) equals neither `"i"` nor `"I"` (that is the
//! Turkic tailoring, status T).

/// The simple case folding of one character: its simple lowercase mapping (the
/// standard library's table, already in every build) except where CaseFolding.txt says
/// otherwise ([`FOLD_EXCEPTIONS`], and Cherokee, which folds to its uppercase letters).
#[inline]
pub(crate) fn fold_char(c: char) -> char {
    // ASCII first: most attribute text is ASCII, and its folding is a byte operation.
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let n = u32::from(c);
    match n {
        // Cherokee folds to its uppercase letters (for stability with Unicode 8, which
        // added the lowercase ones): capitals fold to themselves, small letters up.
        0x13A0..=0x13F5 => return c,
        0x13F8..=0x13FD => return char::from_u32(n - 8).unwrap_or(c),
        0xAB70..=0xABBF => return char::from_u32(n - 0x97D0).unwrap_or(c),
        _ => {}
    }
    if let Ok(i) = FOLD_EXCEPTIONS.binary_search_by_key(&c, |e| e.0) {
        return FOLD_EXCEPTIONS.get(i).map_or(c, |e| e.1);
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        // A lowercase mapping of two characters (`İ`) is no simple folding: unchanged.
        _ => c,
    }
}

/// The characters (outside Cherokee) whose simple case folding (CaseFolding.txt,
/// statuses C and S) is not their simple lowercase mapping, sorted; checked against
/// every character by the tests (`unicode-case-mapping`'s table).
const FOLD_EXCEPTIONS: [(char, char); 25] = [
    ('\u{00B5}', '\u{03BC}'),
    ('\u{017F}', 's'),
    ('\u{0345}', '\u{03B9}'),
    ('\u{03C2}', '\u{03C3}'),
    ('\u{03D0}', '\u{03B2}'),
    ('\u{03D1}', '\u{03B8}'),
    ('\u{03D5}', '\u{03C6}'),
    ('\u{03D6}', '\u{03C0}'),
    ('\u{03F0}', '\u{03BA}'),
    ('\u{03F1}', '\u{03C1}'),
    ('\u{03F5}', '\u{03B5}'),
    ('\u{1C80}', '\u{0432}'),
    ('\u{1C81}', '\u{0434}'),
    ('\u{1C82}', '\u{043E}'),
    ('\u{1C83}', '\u{0441}'),
    ('\u{1C84}', '\u{0442}'),
    ('\u{1C85}', '\u{0442}'),
    ('\u{1C86}', '\u{044A}'),
    ('\u{1C87}', '\u{0463}'),
    ('\u{1C88}', '\u{A64B}'),
    ('\u{1E9B}', '\u{1E61}'),
    ('\u{1FBE}', '\u{03B9}'),
    ('\u{1FD3}', '\u{0390}'),
    ('\u{1FE3}', '\u{03B0}'),
    ('\u{FB05}', '\u{FB06}'),
];

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

/// Whether `text` folded contains `folded`: tried at each character of `text`; the
/// needle is bounded (MAX_TEXT_OPERAND_BYTES), so this stays linear in the text.
pub(crate) fn contains(text: &str, folded: &str) -> bool {
    if folded.is_empty() {
        return true;
    }
    text.char_indices()
        .any(|(i, _)| text.get(i..).is_some_and(|rest| starts_with(rest, folded)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character folds as unicode-case-mapping's generated CaseFolding.txt table
    /// (simple folding, Unicode 16) says; the standard library may know cased letters
    /// of a later Unicode version (17 in Rust 1.95: 28 letters) that the table lacks.
    #[test]
    fn folding_equals_case_folding_txt() {
        let mut differ = Vec::new();
        let mut newer = 0;
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let known = unicode_case_mapping::case_folded(c);
            let want = known.and_then(|n| char::from_u32(n.get())).unwrap_or(c);
            if fold_char(c) != want && known.is_none() && char::UNICODE_VERSION.0 > 16 {
                newer += 1;
                continue;
            }
            if fold_char(c) != want {
                differ.push(format!(
                    "U+{:04X} -> {:?}, want {:?}",
                    u32::from(c),
                    fold_char(c),
                    want
                ));
            }
        }
        assert!(differ.is_empty(), "{} differ: {:?}", differ.len(), differ);
        assert!(newer <= 64, "{newer} letters newer than Unicode 16");
    }

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
