//! Canonical JSON and SHA-256 digests, so that equal content hashes equal everywhere.
//!
//! Canonical form: no whitespace, object keys sorted by their UTF-8 bytes, strings
//! escaped as serde_json escapes them, numbers as JavaScript's Number-to-String
//! writes them (so `1.0` and `1` are the same content).

use crate::value::number::{format_number, format_text, NumBuf};
use crate::value::{Fields, Val};
use serde_json::Value;
use std::fmt::{self, Write};

/// Displays a JSON value in canonical form; streams, so a caller can bound its size.
pub struct Canonical<'a>(pub &'a Value);

impl fmt::Display for Canonical<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_value(self.0, f)
    }
}

fn write_value(v: &Value, out: &mut dyn Write) -> fmt::Result {
    match v {
        Value::Null => out.write_str("null"),
        Value::Bool(b) => out.write_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let mut buf = NumBuf::new();
            format_number(n, &mut buf);
            out.write_str(buf.as_str())
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.write_char('[')?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_char(',')?;
                }
                write_value(item, out)?;
            }
            out.write_char(']')
        }
        Value::Object(map) => {
            // serde_json's map is sorted unless a dependent crate turns on
            // `preserve_order`; only then is a sorted copy of the entries needed.
            let sorted = map.keys().zip(map.keys().skip(1)).all(|(a, b)| a < b);
            if sorted {
                out.write_char('{')?;
                write_entries(map.iter(), out)?;
                out.write_char('}')
            } else {
                write_val(Val::Obj(Fields::Json(map)), out)
            }
        }
    }
}

/// Writes a request value in canonical form, exactly as its JSON value would be.
pub(crate) fn write_val(v: Val<'_>, out: &mut dyn Write) -> fmt::Result {
    match v {
        Val::Json(v) => write_value(v, out),
        Val::Str(s) => write_string(s, out),
        Val::Num(text) => {
            let mut buf = NumBuf::new();
            format_text(text, &mut buf);
            out.write_str(buf.as_str())
        }
        Val::Bool(b) => out.write_str(if b { "true" } else { "false" }),
        Val::Null => out.write_str("null"),
        Val::List(items) => {
            out.write_char('[')?;
            for (i, (_, item)) in items.iter().enumerate() {
                if i > 0 {
                    out.write_char(',')?;
                }
                write_val(*item, out)?;
            }
            out.write_char(']')
        }
        Val::Obj(fields) => {
            out.write_char('{')?;
            for (i, (key, value)) in fields.sorted().into_iter().enumerate() {
                if i > 0 {
                    out.write_char(',')?;
                }
                write_string(key, out)?;
                out.write_char(':')?;
                write_val(value, out)?;
            }
            out.write_char('}')
        }
    }
}

/// Displays a request value in canonical form.
pub(crate) struct CanonicalVal<'a>(pub Val<'a>);

impl fmt::Display for CanonicalVal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_val(self.0, f)
    }
}

fn write_entries<'a>(
    entries: impl Iterator<Item = (&'a String, &'a Value)>,
    out: &mut dyn Write,
) -> fmt::Result {
    for (i, (key, value)) in entries.enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        write_string(key, out)?;
        out.write_char(':')?;
        write_value(value, out)?;
    }
    Ok(())
}

/// Writes a JSON string literal, escaping as serde_json does (`"`, `\\`, controls).
fn write_string(s: &str, out: &mut dyn Write) -> fmt::Result {
    out.write_char('"')?;
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0C => Some("\\f"),
            0..=0x1F => None,
            _ => continue,
        };
        out.write_str(s.get(last..i).unwrap_or(""))?;
        match escaped {
            Some(e) => out.write_str(e)?,
            None => write!(out, "\\u{b:04x}")?,
        }
        last = i + 1;
    }
    out.write_str(s.get(last..).unwrap_or(""))?;
    out.write_char('"')
}

/// Appends `s` as a JSON string literal.
pub fn write_quoted(s: &str, out: &mut String) {
    // Writing into a String cannot fail.
    let _ = write_string(s, out);
}

/// Appends a JSON object whose values are all strings, keys in the order given.
pub fn write_str_object(fields: &[(&str, &str)], out: &mut String) {
    out.push('{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_quoted(key, out);
        out.push(':');
        write_quoted(value, out);
    }
    out.push('}');
}

/// `s` as a JSON string literal, for quoting names in messages.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    // Writing into a String cannot fail.
    let _ = write_string(s, &mut out);
    out
}

/// Appends the canonical JSON text of `v` to `out`.
pub fn write_canonical(v: &Value, out: &mut String) {
    // Writing into a String cannot fail.
    let _ = write_value(v, out);
}

/// The canonical JSON text of `v`.
pub fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

/// Lower-case hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest: [u8; 32] =
        sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(bytes)).into();
    hex(&digest)
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // Bytes first, one String at the end: `push(char)` per digit re-checks UTF-8
    // widths, which shows in the edge's per-request profile.
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        let digit = |n: u8| DIGITS.get(usize::from(n)).copied().unwrap_or(b'0');
        out.push(digit(b >> 4));
        out.push(digit(b & 15));
    }
    // Only ASCII digits were written.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_normalises_numbers() {
        let v = json!({"b": [1.0, 2.5, -0.0], "a": {"z": "x\"y", "y": null}});
        assert_eq!(
            canonical(&v),
            r#"{"a":{"y":null,"z":"x\"y"},"b":[1,2.5,0]}"#
        );
    }

    #[test]
    fn strings_escape_like_serde_json() {
        for s in [
            "plain",
            "q\"b\\s",
            "line\nfeed\ttab\r",
            "\u{1}\u{8}\u{c}\u{1f}",
            "日本 é 👩‍💻",
        ] {
            let v = Value::String(s.to_string());
            assert_eq!(canonical(&v), serde_json::to_string(&v).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
