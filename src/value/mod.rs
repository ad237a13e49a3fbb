//! The bottom layer: request values as the engine reads them (borrowed JSON, or fields
//! read straight from a platform's packed text without building JSON values first),
//! [`number`] parsing and JavaScript-style formatting, and [`canonical`] JSON.
//!
//! Both forms answer every question (lookup, truthiness, rendering, coercion) exactly
//! as the JSON value the other form would have built, so a decision never depends on
//! how its request crossed into the engine.

pub mod canonical;
pub mod number;

use serde_json::{Map, Value};

/// One borrowed value of a request.
// A pointer-wide tag, so that `Bool`'s payload sits in its own word after it: with
// Rust's default layout the bool sits at byte 1, and natively every copy of a `Val`
// (each name lookup returns one) moved bytes 1..8 as two overlapping 4-byte pieces,
// which stalled store forwarding: ~17 ns of `resolve/resolve_render` (BENCHMARKS.md
// "Engine speed after the npm size work"). The size stays that of the default layout
// (24 bytes natively, 12 in the npm package's wasm32).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, usize)]
pub enum Val<'a> {
    /// Any JSON value.
    Json(&'a Value),
    /// An object given as named fields.
    Obj(Fields<'a>),
    /// A list given item by item (the names are unused: items share the entries' shape).
    List(&'a [(&'a str, Val<'a>)]),
    /// A string.
    Str(&'a str),
    /// A finite number as JSON number text (JavaScript's `String(x)` is such text).
    Num(&'a str),
    /// A boolean.
    Bool(bool),
    /// `null`.
    Null,
}

/// An object of named values: attributes or variables.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fields<'a> {
    /// A JSON object.
    Json(&'a Map<String, Value>),
    /// Named fields in request order; a later field of the same name wins, as it does
    /// when JSON text with a repeated key is parsed.
    List(&'a [(&'a str, Val<'a>)]),
}

impl<'a> Fields<'a> {
    /// The value named `name`.
    #[inline]
    pub fn get(&self, name: &str) -> Option<Val<'a>> {
        match self {
            Fields::Json(map) => map.get(name).map(Val::Json),
            // Lengths and first bytes first: most names differ there, before a memcmp.
            Fields::List(list) => list
                .iter()
                .rev()
                .find(|(n, _)| {
                    n.len() == name.len()
                        && n.as_bytes().first() == name.as_bytes().first()
                        && *n == name
                })
                .map(|f| f.1),
        }
    }

    /// Whether a value (even `null`) is named `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        match self {
            Fields::Json(map) => map.is_empty(),
            Fields::List(list) => list.is_empty(),
        }
    }

    /// The fields sorted by name (the winning field per name), for canonical output.
    pub fn sorted(&self) -> Vec<(&'a str, Val<'a>)> {
        let mut all: Vec<(&'a str, Val<'a>)> = match self {
            Fields::Json(map) => map
                .iter()
                .map(|(k, v)| (k.as_str(), Val::Json(v)))
                .collect(),
            Fields::List(list) => list.to_vec(),
        };
        // A stable sort keeps request order within a name, so the last one wins.
        all.sort_by(|a, b| a.0.cmp(b.0));
        let mut out: Vec<(&'a str, Val<'a>)> = Vec::with_capacity(all.len());
        for field in all {
            match out.last_mut() {
                Some(last) if last.0 == field.0 => *last = field,
                _ => out.push(field),
            }
        }
        out
    }
}

impl<'a> Val<'a> {
    /// Whether it is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null | Val::Json(Value::Null))
    }

    /// The string, if it is one.
    #[inline]
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            Val::Str(s) => Some(s),
            Val::Json(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) | Val::Json(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// The number as an f64, if it is one (not a numeric string).
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Val::Num(text) => crate::value::number::parse_number(text),
            Val::Json(Value::Number(n)) => n.as_f64(),
            _ => None,
        }
    }

    /// The object, if it is one.
    #[inline]
    pub fn as_fields(&self) -> Option<Fields<'a>> {
        match self {
            Val::Obj(f) => Some(*f),
            Val::Json(Value::Object(map)) => Some(Fields::Json(map)),
            _ => None,
        }
    }

    /// The JSON list, if it is one.
    #[inline]
    pub fn as_list(&self) -> Option<&'a [Value]> {
        match self {
            Val::Json(Value::Array(items)) => Some(items),
            _ => None,
        }
    }

    /// How many items, if it is a list of either form.
    #[inline]
    pub fn list_len(&self) -> Option<usize> {
        match self {
            Val::Json(Value::Array(items)) => Some(items.len()),
            Val::List(items) => Some(items.len()),
            _ => None,
        }
    }

    /// Item `i` of a list of either form.
    #[inline]
    pub fn list_item(&self, i: usize) -> Option<Val<'a>> {
        match self {
            Val::Json(Value::Array(items)) => items.get(i).map(Val::Json),
            Val::List(items) => items.get(i).map(|item| item.1),
            _ => None,
        }
    }

    /// Mustache truthiness: `null`, `false`, `""` and `[]` are false, all else true.
    #[inline]
    pub fn truthy(&self) -> bool {
        match self {
            Val::Null | Val::Bool(false) => false,
            Val::Str(s) => !s.is_empty(),
            Val::Json(v) => match v {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => true,
            },
            Val::List(items) => !items.is_empty(),
            Val::Obj(_) | Val::Num(_) | Val::Bool(true) => true,
        }
    }

    /// The member `key` of an object.
    #[inline]
    pub fn member(&self, key: &str) -> Option<Val<'a>> {
        self.as_fields().and_then(|f| f.get(key))
    }
}
