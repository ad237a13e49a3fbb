//! The packed per-resolve text of the npm package: a request in one string and the
//! decision back in one string, both fields joined by NUL, so a resolve crosses the
//! JavaScript/Wasm boundary as two strings instead of two JSON documents.
//!
//! Request: `prompt NUL label NUL unit NUL A NUL (name NUL value NUL){A} V (NUL name NUL
//! value){V}` where `A` and `V` count the attributes and variables in decimal and an
//! empty label means the default one. A value is a tag and its text: `s` string, `n`
//! number as JavaScript's `String(x)` (finite only), `t` true, `f` false, `z` null,
//! `j` any JSON (lists, objects). Callers must not pack a string containing NUL; they
//! take the JSON path instead ([`crate::resolve::resolve_json`]).
//!
//! Decision: `version NUL bucket NUL forced NUL rule NUL label NUL` then `t NUL text`
//! for a text prompt, or `m` and `NUL role NUL content` per message for a chat prompt.
//! An error is `!` followed by `{"code", "message"}` as JSON.
//!
//! Every value becomes exactly the `serde_json::Value` the JSON path would build from
//! `JSON.stringify` of the same request, so both paths decide and render identically.

use crate::manifest::CompiledManifest;
use crate::resolve::{resolve, Decision, Request, ResolveError};
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// The field separator.
pub const SEP: char = '\0';

fn bad(what: &str) -> ResolveError {
    ResolveError::InvalidRequest(format!("packed request: {what}"))
}

fn value(tagged: &str) -> Result<Value, ResolveError> {
    let mut chars = tagged.chars();
    let tag = chars.next();
    let text = chars.as_str();
    match tag {
        Some('s') => Ok(Value::String(text.to_string())),
        // String(x) of a finite number is also its JSON text, so serde_json reads it
        // exactly as it reads JSON.stringify's output (integers stay integers).
        Some('n') | Some('j') => {
            serde_json::from_str(text).map_err(|e| bad(&format!("value {text:?}: {e}")))
        }
        Some('t') if text.is_empty() => Ok(Value::Bool(true)),
        Some('f') if text.is_empty() => Ok(Value::Bool(false)),
        Some('z') if text.is_empty() => Ok(Value::Null),
        _ => Err(bad(&format!("unknown value tag in {tagged:?}"))),
    }
}

fn object<'a>(
    fields: &mut impl Iterator<Item = &'a str>,
    what: &str,
) -> Result<Option<Value>, ResolveError> {
    let count: usize = fields
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| bad(&format!("{what} count")))?;
    if count == 0 {
        return Ok(None);
    }
    let mut map = Map::new();
    for _ in 0..count {
        let (Some(name), Some(v)) = (fields.next(), fields.next()) else {
            return Err(bad(&format!("{what} end early")));
        };
        map.insert(name.to_string(), value(v)?);
    }
    Ok(Some(Value::Object(map)))
}

/// A decoded packed request, owning its attribute and variable values.
#[derive(Debug, Clone, PartialEq)]
pub struct Packed<'a> {
    prompt: &'a str,
    label: Option<&'a str>,
    unit: &'a str,
    attributes: Option<Value>,
    variables: Option<Value>,
}

impl<'a> Packed<'a> {
    /// Decodes the packed request text.
    pub fn decode(text: &'a str) -> Result<Packed<'a>, ResolveError> {
        let mut fields = text.split(SEP);
        let mut next = |what: &str| fields.next().ok_or_else(|| bad(what));
        let prompt = next("prompt")?;
        let label = Some(next("label")?).filter(|l| !l.is_empty());
        let unit = next("unit")?;
        let attributes = object(&mut fields, "attributes")?;
        let variables = object(&mut fields, "variables")?;
        if fields.next().is_some() {
            return Err(bad("trailing fields"));
        }
        Ok(Packed {
            prompt,
            label,
            unit,
            attributes,
            variables,
        })
    }

    /// Borrows it as an engine request.
    pub fn as_request(&self) -> Request<'_> {
        Request {
            prompt: self.prompt,
            label: self.label,
            unit: self.unit,
            attributes: self.attributes.as_ref(),
            variables: self.variables.as_ref(),
        }
    }
}

/// Writes a decision's varying parts in the packed form (the rest is fixed per
/// version: see the module docs).
pub fn encode_decision(d: &Decision<'_>, out: &mut String) {
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{}{SEP}{}{SEP}{}{SEP}{}{SEP}{}{SEP}",
        d.version,
        d.bucket,
        u8::from(d.forced),
        d.rule,
        d.label
    );
    if let Some(text) = &d.text {
        out.push('t');
        out.push(SEP);
        out.push_str(text);
    } else {
        out.push('m');
        for m in d.messages.iter().flatten() {
            out.push(SEP);
            out.push_str(&m.role);
            out.push(SEP);
            out.push_str(&m.content);
        }
    }
}

/// Writes an error in the packed form: `!` and `{"code", "message"}`.
pub fn encode_error(e: &ResolveError, out: &mut String) {
    out.push('!');
    out.push_str(&serde_json::json!({"code": e.code(), "message": e.to_string()}).to_string());
}

/// Resolves a packed request into a packed decision or error.
pub fn resolve_packed(m: &CompiledManifest, text: &str) -> String {
    let mut out = String::with_capacity(256);
    match Packed::decode(text).and_then(|p| {
        let d = resolve(m, &p.as_request())?;
        encode_decision(&d, &mut out);
        Ok(())
    }) {
        Ok(()) => out,
        Err(e) => {
            out.clear();
            encode_error(&e, &mut out);
            out
        }
    }
}
