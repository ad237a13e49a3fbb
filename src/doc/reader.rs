//! A JSON walker that tracks paths, reports type errors and unknown fields.

use super::problem::{key_path, Problems};
use serde_json::{Map, Value};

/// A JSON object being read; reports the keys nobody asked for as unknown fields.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
    known: &'static [&'static str],
}

impl<'a> Obj<'a> {
    /// Reads `v` as an object whose allowed keys are `known`; a problem if it is not one.
    pub(crate) fn new(
        v: &'a Value,
        path: &str,
        known: &'static [&'static str],
        p: &mut Problems,
    ) -> Option<Obj<'a>> {
        match v.as_object() {
            Some(map) => {
                let obj = Obj {
                    map,
                    path: path.to_string(),
                    known,
                };
                obj.report_unknown(p);
                Some(obj)
            }
            None => {
                p.add(path, format!("expected an object, found {}", kind(v)));
                None
            }
        }
    }

    fn report_unknown(&self, p: &mut Problems) {
        for key in self.map.keys() {
            if !self.known.contains(&key.as_str()) {
                p.add(
                    key_path(&self.path, key),
                    format!("unknown field (expected one of: {})", self.known.join(", ")),
                );
            }
        }
    }

    /// The path of one of its keys.
    #[inline(never)]
    pub(crate) fn at(&self, key: &str) -> String {
        key_path(&self.path, key)
    }

    /// The value under `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    /// Whether `key` is present.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// A required key; a problem when absent.
    #[inline(never)]
    pub(crate) fn require(&self, key: &str, p: &mut Problems) -> Option<&'a Value> {
        let v = self.map.get(key);
        if v.is_none() {
            // At the top level there is no enclosing path: name the field itself.
            let path = if self.path.is_empty() {
                key.to_string()
            } else {
                self.path.clone()
            };
            p.add(path, format!("missing required field \"{key}\""));
        }
        v
    }

    /// An optional string.
    #[inline(never)]
    pub(crate) fn opt_str(&self, key: &str, p: &mut Problems) -> Option<&'a str> {
        self.get(key).and_then(|v| as_str(v, &self.at(key), p))
    }

    /// An optional boolean.
    #[inline(never)]
    pub(crate) fn opt_bool(&self, key: &str, p: &mut Problems) -> Option<bool> {
        let v = self.get(key)?;
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                p.add(
                    self.at(key),
                    format!("expected true or false, found {}", kind(v)),
                );
                None
            }
        }
    }
}

/// Reads a string, or records a problem.
#[inline(never)]
pub(crate) fn as_str<'a>(v: &'a Value, path: &str, p: &mut Problems) -> Option<&'a str> {
    match v.as_str() {
        Some(s) => Some(s),
        None => {
            p.add(path, format!("expected a string, found {}", kind(v)));
            None
        }
    }
}

/// Reads an array, or records a problem.
#[inline(never)]
pub(crate) fn as_array<'a>(v: &'a Value, path: &str, p: &mut Problems) -> Option<&'a [Value]> {
    match v.as_array() {
        Some(a) => Some(a.as_slice()),
        None => {
            p.add(path, format!("expected an array, found {}", kind(v)));
            None
        }
    }
}

/// Reads a map (an object with free-form keys), or records a problem.
#[inline(never)]
pub(crate) fn as_map<'a>(
    v: &'a Value,
    path: &str,
    p: &mut Problems,
) -> Option<&'a Map<String, Value>> {
    match v.as_object() {
        Some(m) => Some(m),
        None => {
            p.add(path, format!("expected an object, found {}", kind(v)));
            None
        }
    }
}

/// Reads an integer in `[min, max]`, or records a problem.
#[inline(never)]
pub(crate) fn as_int(v: &Value, path: &str, min: u64, max: u64, p: &mut Problems) -> Option<u64> {
    match v.as_u64() {
        Some(n) if n >= min && n <= max => Some(n),
        _ => {
            p.add(
                path,
                format!(
                    "expected an integer from {min} to {max}, found {}",
                    short(v)
                ),
            );
            None
        }
    }
}

/// Describes a JSON value's type for messages.
#[inline(never)]
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value quoted for a message, shortened when long.
#[inline(never)]
pub(crate) fn short(v: &Value) -> String {
    let mut s = crate::value::canonical::canonical(v);
    // Over 40 characters: the first 37 and "...".
    let mut starts = s.char_indices().map(|(i, _)| i);
    if let (Some(cut), true) = (starts.nth(37), starts.nth(2).is_some()) {
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

/// Checks a name against `[A-Za-z0-9_][A-Za-z0-9_.-]*` and the length limit.
#[inline(never)]
pub(crate) fn check_name(name: &str, what: &str, path: &str, p: &mut Problems) -> bool {
    let ok_first = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    let ok_rest = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !ok_first || !ok_rest {
        p.add(
            path,
            format!(
                "{what} name {} must start with a letter, digit or _ and contain only letters, digits, _, - and .",
                crate::value::canonical::quoted(name)
            ),
        );
        return false;
    }
    if name.len() > super::MAX_NAME_LEN {
        p.add(
            path,
            format!(
                "{what} name is {} bytes, over the limit of {}",
                name.len(),
                super::MAX_NAME_LEN
            ),
        );
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::short;
    use serde_json::Value;

    #[test]
    fn short_keeps_40_characters_and_cuts_41_to_37_and_dots() {
        // Canonical text of a string includes its quotes: 38 letters are 40 characters.
        let forty = Value::String("é".repeat(38));
        assert_eq!(short(&forty), format!("\"{}\"", "é".repeat(38)));
        let forty_one = Value::String("é".repeat(39));
        assert_eq!(short(&forty_one), format!("\"{}...", "é".repeat(36)));
    }
}
