//! The packed request: `prompt NUL label NUL unit NUL A NUL (name NUL value NUL){A} V
//! (NUL name NUL value){V} NUL N`, where `A` and `V` count the attributes and
//! variables in decimal, an empty label means the default one, and `N` counts the
//! NULs in the whole text, so a NUL inside a field is detected here rather than
//! searched for by the caller (the caller then sends the request as JSON). A value is
//! a tag and its text: `s` string, `n` number as JavaScript's `String(x)` (finite
//! only), `t` true, `f` false, `z` null, `j` any JSON (lists, objects), or `a` and a
//! count `k`: a list of scalars whose `k` items follow as the next fields (each
//! tagged `s`, `n`, `t`, `f` or `z`).
//!
//! Values are read in place (strings borrowed from the text, numbers kept as their
//! text), and every one answers lookups, coercions and rendering exactly as the JSON
//! value the JSON path would build from `JSON.stringify` of the same request, so both
//! paths decide and render identically.

use edgeprompt::resolve::ResolveError;
use edgeprompt::unstable::Input;
use edgeprompt::value::canonical::quoted;
use edgeprompt::value::number::parse_number;
use edgeprompt::value::{Fields, Val};
use serde_json::Value;

/// The field separator.
pub const SEP: char = '\0';

pub(crate) fn bad(what: &str) -> ResolveError {
    ResolveError::InvalidRequest(format!("packed request: {what}"))
}

/// The request's fields, split at NUL, borrowed from its text.
struct Split<'a> {
    prompt: &'a str,
    label: Option<&'a str>,
    unit: &'a str,
    /// Attribute then variable entries; a `j` value is held as its JSON text (a
    /// [`Val::Str`]) until parsed, at an index listed in `json_at`.
    entries: Vec<(&'a str, Val<'a>)>,
    json_at: Vec<usize>,
    /// The items of `a` lists, in order (each named ""), and per list the entry it is
    /// the value of, its first item and its length.
    items: Vec<(&'a str, Val<'a>)>,
    lists: Vec<(usize, usize, usize)>,
    attribute_count: usize,
    /// How many fields the text had.
    fields: usize,
}

/// Splits at NUL bytes (NUL is ASCII, so every piece is on a character boundary),
/// counting the fields.
struct NulSplit<'a> {
    rest: Option<&'a str>,
    count: usize,
}

impl<'a> Iterator for NulSplit<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        self.count += 1;
        match memchr::memchr(0, rest.as_bytes()) {
            Some(i) => {
                self.rest = rest.get(i + 1..);
                rest.get(..i)
            }
            None => self.rest.take(),
        }
    }
}

/// Why a packed request was not decoded.
pub(crate) enum Unpacked {
    /// A field holds NUL: the request must take the JSON path.
    Nul,
    /// Malformed, or refused by the engine.
    Error(ResolveError),
}

impl From<ResolveError> for Unpacked {
    fn from(e: ResolveError) -> Self {
        Unpacked::Error(e)
    }
}

/// Decodes the fields in one pass, then checks the trailing count of NULs, so that a
/// NUL inside a field (which the JavaScript side never looks for) is told apart from
/// the separators: the fields of a well-formed text are one more than its NULs.
fn split(text: &str) -> Result<Split<'_>, Unpacked> {
    let (body, count) = text.rsplit_once(SEP).ok_or_else(|| bad("no NUL count"))?;
    let nuls: usize = count.parse().map_err(|_| bad("NUL count"))?;
    match split_fields(body) {
        Ok(split) if split.fields == nuls => Ok(split),
        Ok(_) => Err(Unpacked::Nul),
        // Only now is it worth counting: a NUL inside a field derails the decoding.
        Err(_) if body.bytes().filter(|&b| b == 0).count() + 1 != nuls => Err(Unpacked::Nul),
        Err(e) => Err(e.into()),
    }
}

fn split_fields(text: &str) -> Result<Split<'_>, ResolveError> {
    let mut fields = NulSplit {
        rest: Some(text),
        count: 0,
    };
    let mut next = |what: &str| fields.next().ok_or_else(|| bad(what));
    let prompt = next("prompt")?;
    let label = Some(next("label")?).filter(|l| !l.is_empty());
    let unit = next("unit")?;
    // Every entry takes two fields; the count is only a first guess.
    let mut entries = Vec::with_capacity(text.len() / 16);
    let mut json_at = Vec::new();
    let mut items = Vec::new();
    let mut lists = Vec::new();
    let mut attribute_count = 0;
    for what in ["attributes", "variables"] {
        let count: usize = fields
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| bad(&format!("{what} count")))?;
        for _ in 0..count {
            let (Some(name), Some(v)) = (fields.next(), fields.next()) else {
                return Err(bad(&format!("{what} end early")));
            };
            if let (Some(b'j'), Some(json)) = (v.as_bytes().first(), v.get(1..)) {
                json_at.push(entries.len());
                entries.push((name, Val::Str(json)));
            } else if let (Some(b'a'), Some(n)) = (v.as_bytes().first(), v.get(1..)) {
                let n: usize = n.parse().map_err(|_| bad("list length"))?;
                lists.push((entries.len(), items.len(), n));
                for _ in 0..n {
                    let item = fields.next().ok_or_else(|| bad("list ends early"))?;
                    items.push(("", value(item)?));
                }
                entries.push((name, Val::Null));
            } else {
                entries.push((name, value(v)?));
            }
        }
        if what == "attributes" {
            attribute_count = entries.len();
        }
    }
    if fields.next().is_some() {
        return Err(bad("trailing fields"));
    }
    Ok(Split {
        prompt,
        label,
        unit,
        entries,
        json_at,
        items,
        lists,
        attribute_count,
        fields: fields.count,
    })
}

/// A scalar value from its tag and text.
#[inline]
fn value(tagged: &str) -> Result<Val<'_>, ResolveError> {
    let (tag, text) = tagged.split_at_checked(1).unwrap_or(("", ""));
    match tag {
        "s" => Ok(Val::Str(text)),
        // String(x) of a finite number is valid JSON number text.
        "n" if parse_number(text).is_some() => Ok(Val::Num(text)),
        "t" if text.is_empty() => Ok(Val::Bool(true)),
        "f" if text.is_empty() => Ok(Val::Bool(false)),
        "z" if text.is_empty() => Ok(Val::Null),
        _ => Err(bad(&format!("bad value {}", quoted(tagged)))),
    }
}

/// Decodes a packed request and hands it to `then`: its values are borrowed from the
/// text (JSON values are parsed once), never copied into JSON objects.
pub(crate) fn with_input<T>(
    text: &str,
    now_ms: Option<i64>,
    then: impl FnOnce(&Input<'_>, &[(&str, Val<'_>)], &[(&str, Val<'_>)]) -> Result<T, ResolveError>,
) -> Result<T, Unpacked> {
    let split = split(text)?;
    let json: Vec<Value> = split
        .json_at
        .iter()
        .map(|&i| match split.entries.get(i) {
            Some((_, Val::Str(text))) => {
                serde_json::from_str(text).map_err(|e| bad(&format!("value {}: {e}", quoted(text))))
            }
            _ => Err(bad("JSON value")),
        })
        .collect::<Result<_, _>>()?;
    let items = split.items;
    let mut entries = split.entries;
    for (&i, value) in split.json_at.iter().zip(&json) {
        if let Some(entry) = entries.get_mut(i) {
            entry.1 = Val::Json(value);
        }
    }
    for &(i, start, n) in &split.lists {
        if let (Some(entry), Some(list)) = (entries.get_mut(i), items.get(start..start + n)) {
            entry.1 = Val::List(list);
        }
    }
    let (attrs, vars) = entries.split_at(split.attribute_count.min(entries.len()));
    let input = Input {
        prompt: split.prompt,
        label: split.label,
        unit: split.unit,
        attributes: (!attrs.is_empty()).then_some(Fields::List(attrs)),
        variables: (!vars.is_empty()).then_some(Val::Obj(Fields::List(vars))),
        now_ms,
    };
    Ok(then(&input, &entries, &items)?)
}
