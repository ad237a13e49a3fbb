//! The packed per-resolve text of the npm package: a request in one string and the
//! decision back in one string, both fields joined by NUL, so a resolve crosses the
//! JavaScript/Wasm boundary as two strings instead of two JSON documents.
//!
//! Request: `prompt NUL label NUL unit NUL A NUL (name NUL value NUL){A} V (NUL name NUL
//! value){V} NUL N` where `A` and `V` count the attributes and variables in decimal,
//! an empty label means the default one, and `N` counts the NULs in the whole text, so
//! a NUL inside a field is detected here rather than searched for by the caller (the
//! caller then sends the request as JSON, [`crate::resolve::resolve_json`]). A value
//! is a tag and its text: `s` string, `n` number as JavaScript's `String(x)` (finite
//! only), `t` true, `f` false, `z` null, `j` any JSON (lists, objects), or `a` and a
//! count `k`: a list of scalars whose `k` items follow as the next fields (each
//! tagged `s`, `n`, `t`, `f` or `z`).
//!
//! Decision: `version NUL bucket NUL forced NUL rule NUL label NUL` then `t NUL text`
//! for a text prompt, or `m` and `NUL role NUL content` per message for a chat prompt.
//! An error is `!` followed by `{"code", "message"}` as JSON.
//!
//! The ops form ([`resolve_packed_ops`]) is what the npm package uses: the answer holds
//! only value text, and a list of numbers says how to assemble the decision, naming
//! template text, rules and labels by their address in the engine's memory, which
//! the JavaScript side reads once and caches, so the common bytes of a prompt never
//! cross the boundary again.
//!
//! Values are read in place (strings borrowed from the text, numbers kept as their
//! text), and every one answers lookups, coercions and rendering exactly as the JSON
//! value the JSON path would build from `JSON.stringify` of the same request, so both
//! paths decide and render identically.

use crate::assign::Assignment;
use crate::manifest::CompiledManifest;
use crate::render::{self, Out, Partials, RenderError, RenderOptions, Template};
use crate::resolve::{decide, render_version, Detail, Input, ResolveError, Target};
use crate::value::{Fields, Val};
use serde_json::Value;

/// The field separator.
pub const SEP: char = '\0';

fn bad(what: &str) -> ResolveError {
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

/// Splits at NUL bytes (a byte search: fields are short, and NUL is ASCII, so every
/// piece is on a character boundary), counting the fields.
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
        match find_nul(rest.as_bytes()) {
            Some(i) => {
                self.rest = rest.get(i + 1..);
                rest.get(..i)
            }
            None => self.rest.take(),
        }
    }
}

/// The index of the first NUL byte, scanning eight bytes at a time.
#[inline]
fn find_nul(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(chunk) = bytes
        .get(i..i + 8)
        .and_then(|c| <[u8; 8]>::try_from(c).ok())
    {
        let x = u64::from_le_bytes(chunk);
        // Nonzero exactly when some byte of x is zero.
        if x.wrapping_sub(ONES) & !x & HIGHS != 0 {
            break;
        }
        i += 8;
    }
    let tail = bytes.get(i..)?;
    tail.iter().position(|&b| b == 0).map(|p| i + p)
}

/// Why a packed request was not decoded.
enum Unpacked {
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

impl Unpacked {
    fn into_error(self) -> ResolveError {
        match self {
            Unpacked::Nul => bad("a field holds NUL; send the request as JSON"),
            Unpacked::Error(e) => e,
        }
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
        "n" if crate::value::number::parse_number(text).is_some() => Ok(Val::Num(text)),
        "t" if text.is_empty() => Ok(Val::Bool(true)),
        "f" if text.is_empty() => Ok(Val::Bool(false)),
        "z" if text.is_empty() => Ok(Val::Null),
        _ => Err(bad(&format!(
            "bad value {}",
            crate::value::canonical::quoted(tagged)
        ))),
    }
}

/// Decodes a packed request and hands it to `then`: its values are borrowed from the
/// text (JSON values are parsed once), never copied into JSON objects.
fn with_input<T>(
    text: &str,
    then: impl FnOnce(&Input<'_>, &[(&str, Val<'_>)], &[(&str, Val<'_>)]) -> Result<T, ResolveError>,
) -> Result<T, Unpacked> {
    let split = split(text)?;
    let json: Vec<Value> = split
        .json_at
        .iter()
        .map(|&i| match split.entries.get(i) {
            Some((_, Val::Str(text))) => serde_json::from_str(text).map_err(|e| {
                bad(&format!(
                    "value {}: {e}",
                    crate::value::canonical::quoted(text)
                ))
            }),
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
    };
    Ok(then(&input, &entries, &items)?)
}

fn push_decimal(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            // n % 10 < 10, so the cast is exact.
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    for &d in digits.get(i..).unwrap_or(&[]) {
        out.push(char::from(d));
    }
}

fn encode_head(a: &Assignment<'_>, out: &mut String) {
    push_decimal(out, a.version);
    out.push(SEP);
    push_decimal(out, u32::from(a.bucket));
    out.push(SEP);
    out.push(if a.forced { '1' } else { '0' });
    out.push(SEP);
    out.push_str(a.rule);
    out.push(SEP);
    out.push_str(a.label);
    out.push(SEP);
}

/// Writes the rendered text or messages after the decision's head; in the ops form,
/// records them in `ops` (see [`resolve_packed_ops`]).
struct Packer<'o, 'e> {
    out: &'o mut String,
    ops: Option<&'o mut Vec<usize>>,
    /// The request's entries, then list items, whose string values the ops name by index.
    entries: &'e [(&'e str, Val<'e>)],
    items: &'e [(&'e str, Val<'e>)],
}

impl Packer<'_, '_> {
    fn role(&mut self, role: &str, literal: bool) {
        match self.ops.as_deref_mut() {
            None => {
                self.out.push(SEP);
                self.out.push_str(role);
            }
            Some(ops) if literal => {
                ops.push(role.as_ptr() as usize);
                ops.push(role.len());
            }
            Some(ops) => {
                ops.push(0);
                ops.push(utf16_len(role));
                self.out.push_str(role);
            }
        }
    }
}

#[inline]
fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}

impl<'a> Target<'a> for Packer<'_, '_> {
    fn render(
        &mut self,
        role: Option<&'a str>,
        tpl: &'a Template,
        scopes: &[Val<'a>],
        partials: &dyn Partials,
        opts: &RenderOptions,
    ) -> Result<usize, RenderError> {
        if let Some(role) = role {
            self.role(role, true);
        }
        let max = opts.limits.max_output;
        let done = match self.ops.as_deref_mut() {
            None => {
                self.out.push(SEP);
                render::render_vals(tpl, scopes, partials, opts, Out::new(self.out, max))?
            }
            Some(ops) => {
                let count_at = ops.len();
                ops.push(0);
                let done = render::render_vals(
                    tpl,
                    scopes,
                    partials,
                    opts,
                    Out::with_ops(self.out, max, ops, [self.entries, self.items]),
                )?;
                let pairs = (ops.len() - count_at - 1) / 2;
                if let Some(slot) = ops.get_mut(count_at) {
                    *slot = pairs;
                }
                done
            }
        };
        Ok(done.bytes)
    }

    fn message(&mut self, role: &'a str, content: &'a str) {
        self.role(role, false);
        match self.ops.as_deref_mut() {
            None => {
                self.out.push(SEP);
                self.out.push_str(content);
            }
            Some(ops) => {
                ops.extend_from_slice(&[1, 0, utf16_len(content)]);
                self.out.push_str(content);
            }
        }
    }
}

fn is_text(version: &crate::manifest::Version) -> bool {
    matches!(version.body, crate::manifest::Body::Text(_))
}

/// `{"code", "details"?, "message"}` as canonical JSON (keys sorted), written by hand:
/// the npm package's Wasm builds no JSON object for an error.
fn error_json(e: &ResolveError) -> String {
    use crate::value::canonical::write_quoted;
    let mut out = String::from("{\"code\":");
    write_quoted(e.code(), &mut out);
    if let Some((key, detail)) = e.detail() {
        out.push_str(",\"details\":{");
        write_quoted(key, &mut out);
        out.push(':');
        match detail {
            Detail::Names(names) => {
                out.push('[');
                for (i, n) in names.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_quoted(n, &mut out);
                }
                out.push(']');
            }
            Detail::Name(name) => write_quoted(name, &mut out),
        }
        out.push('}');
    }
    out.push_str(",\"message\":");
    write_quoted(&e.to_string(), &mut out);
    out.push('}');
    out
}

/// Writes an error in the packed form: `!` and `{"code", "message"}`.
pub fn encode_error(e: &ResolveError, out: &mut String) {
    out.push('!');
    out.push_str(&error_json(e));
}

/// Resolves a packed request into a packed decision or error.
pub fn resolve_packed(m: &CompiledManifest, text: &str) -> String {
    let mut out = String::with_capacity(1024);
    let result = with_input(text, |input, _, _| {
        let (_, a, version) = decide(m, input)?;
        encode_head(&a, &mut out);
        out.push(if is_text(version) { 't' } else { 'm' });
        let mut packer = Packer {
            out: &mut out,
            ops: None,
            entries: &[],
            items: &[],
        };
        render_version(m, version, input.variables, &mut packer)
    })
    .map_err(Unpacked::into_error);
    if let Err(e) = result {
        out.clear();
        encode_error(&e, &mut out);
    }
    out
}

/// Resolves a packed request in the ops form: `out` (cleared first) receives only value
/// text (or, on error, `{"code", "message"}` as JSON), and `ops` (cleared first) says
/// how to assemble the decision, as addresses in memory and lengths:
///
/// `status` (0 decision, 1 error, 2 a field holds NUL: use the JSON path), the address and byte length of `out`'s text,
/// `version`, `bucket`, `forced` (0 or 1), the version's address (an identity for
/// what is fixed per version), the rule and the label as (address, byte length),
/// `kind` (0 text, 1 chat), the number of outputs, then per output: for chat, its
/// role as a piece; the number of pieces; the pieces. A piece is (address, byte
/// length) of text in memory, (0, n): the next n UTF-16 units of `out`, or (1, i): the
/// string value of the request's entry `i` (attributes then variables, from 0; then
/// the items of `a` lists in order), which the caller holds already. A message
/// given by a chat placeholder has the role `(0, n)` and one piece. An error has only
/// the first three words.
pub fn resolve_packed_ops(
    m: &CompiledManifest,
    text: &str,
    ops: &mut Vec<usize>,
    out: &mut String,
) {
    ops.clear();
    out.clear();
    let result = with_input(text, |input, entries, items| {
        decision_ops(m, input, entries, items, ops, out)
    });
    finish_ops(result, ops, out);
}

/// Resolves a request given as JSON text (what the packed form cannot carry: a field
/// holding NUL, a value of a type JSON allows but the packed form does not) into the
/// same ops form as [`resolve_packed_ops`]; the ops name no request entries.
pub fn resolve_json_ops(
    m: &CompiledManifest,
    request: &str,
    ops: &mut Vec<usize>,
    out: &mut String,
) {
    ops.clear();
    out.clear();
    let result = crate::resolve::with_json_input(request, |input| {
        decision_ops(m, input, &[], &[], ops, out)
    })
    .map_err(Unpacked::Error);
    finish_ops(result, ops, out);
}

/// The decision for `input` in the ops form, after its head of 13 words.
fn decision_ops<'e>(
    m: &CompiledManifest,
    input: &Input<'e>,
    entries: &'e [(&'e str, Val<'e>)],
    items: &'e [(&'e str, Val<'e>)],
    ops: &mut Vec<usize>,
    out: &mut String,
) -> Result<(), ResolveError> {
    let (_, a, version) = decide(m, input)?;
    let chat = !is_text(version);
    ops.extend_from_slice(&[
        0,
        0,
        0,
        a.version as usize,
        usize::from(a.bucket),
        usize::from(a.forced),
        std::ptr::from_ref(version) as usize,
        a.rule.as_ptr() as usize,
        a.rule.len(),
        a.label.as_ptr() as usize,
        a.label.len(),
        usize::from(chat),
        0,
    ]);
    let mut packer = Packer {
        out,
        ops: Some(ops),
        entries,
        items,
    };
    render_version(m, version, input.variables, &mut packer)
}

/// Writes the status, and the error in place of a decision.
fn finish_ops(result: Result<(), Unpacked>, ops: &mut Vec<usize>, out: &mut String) {
    match result {
        Ok(()) => count_outputs(ops),
        Err(Unpacked::Nul) => {
            ops.clear();
            ops.extend_from_slice(&[2, 0, 0]);
            out.clear();
        }
        Err(Unpacked::Error(e)) => {
            ops.clear();
            ops.extend_from_slice(&[1, 0, 0]);
            out.clear();
            out.push_str(&error_json(&e));
        }
    }
    // Only now is the text where it stays.
    if let Some(words) = ops.get_mut(1..3) {
        words.copy_from_slice(&[out.as_ptr() as usize, out.len()]);
    }
}

/// Fills in the number of outputs by walking them.
fn count_outputs(ops: &mut [usize]) {
    const HEAD: usize = 13;
    let chat = ops.get(HEAD - 2) == Some(&1);
    let mut at = HEAD;
    let mut outputs = 0;
    while at < ops.len() {
        if chat {
            at += 2;
        }
        let pieces = ops.get(at).copied().unwrap_or(0);
        at += 1 + 2 * pieces;
        outputs += 1;
    }
    if let Some(slot) = ops.get_mut(HEAD - 1) {
        *slot = outputs;
    }
}

#[cfg(test)]
mod tests {
    use super::{error_json, find_nul};
    use crate::resolve::ResolveError;

    /// The hand-written error JSON is the canonical form of the error object the edge
    /// sends: its code, its details when it has any, its message.
    #[test]
    fn error_json_is_the_canonical_error_object() {
        let errors = [
            ResolveError::MissingVariables(vec!["a\"b".into(), "ü".into()]),
            ResolveError::MissingVariables(vec![]),
            ResolveError::InvalidVariable {
                name: "x".into(),
                reason: "r".into(),
            },
            ResolveError::UnknownPrompt("p".into()),
        ];
        for e in errors {
            let mut obj = serde_json::Map::new();
            obj.insert("code".into(), e.code().into());
            obj.insert("message".into(), e.to_string().into());
            if !e.details().is_null() {
                obj.insert("details".into(), e.details());
            }
            let expected = crate::value::canonical::canonical(&serde_json::Value::Object(obj));
            assert_eq!(error_json(&e), expected);
        }
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn find_nul_finds_the_first_nul(bytes in proptest::collection::vec(prop_oneof![Just(0u8), 1u8..=255, Just(0x80u8), Just(1u8)], 0..40)) {
            prop_assert_eq!(find_nul(&bytes), bytes.iter().position(|&b| b == 0));
        }
    }
}
