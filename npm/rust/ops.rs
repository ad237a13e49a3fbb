//! The decision in the ops form, what the npm package's JavaScript reads straight from
//! the engine's memory: only value text crosses as text, and a list of words says how
//! to assemble the decision, naming template text, rules and labels by their address,
//! which the JavaScript side reads once and caches, so the common bytes of a prompt
//! never cross the boundary again.
//!
//! The words: the header ([`head`]) then, per output: for chat, its role as a piece;
//! the number of pieces; the pieces. A piece is (address, byte length) of text in
//! memory, ([`PIECE_TEXT`], n): the next n UTF-16 units of the value text, or
//! ([`PIECE_ENTRY`], i): the string value of the request's entry `i` (attributes then
//! variables, from 0; then the items of `a` lists in order), which the caller holds
//! already. A message given by a chat placeholder has the role `(PIECE_TEXT, n)` and
//! one piece. An error has only the first three words, and `{"code", "details"?,
//! "message"}` as its text.

use crate::request::{with_input, Unpacked};
use edgeprompt::manifest::{Body, CompiledManifest, Version};
use edgeprompt::render::{self, Output, Partials, RenderError, RenderOptions, Template};
use edgeprompt::resolve::{Detail, ResolveError};
use edgeprompt::unstable::{decide, render_version, with_json_input, Input, Target};
use edgeprompt::value::canonical::write_quoted;
use edgeprompt::value::Val;

/// The header's words, by index (npm/src/engine.js reads them by the same names with a
/// `HEAD_` prefix; a test checks that both agree).
pub mod head {
    /// [`super::STATUS_DECISION`], [`super::STATUS_ERROR`] or [`super::STATUS_JSON`].
    pub const STATUS: usize = 0;
    /// The address of the value text.
    pub const TEXT: usize = 1;
    /// The value text's length in bytes.
    pub const TEXT_LEN: usize = 2;
    /// The version served.
    pub const VERSION: usize = 3;
    /// The unit's bucket.
    pub const BUCKET: usize = 4;
    /// 1 when a forced-unit rule decided.
    pub const FORCED: usize = 5;
    /// The version's address: an identity for what is fixed per version.
    pub const VERSION_KEY: usize = 6;
    /// The rule's name: address, then byte length.
    pub const RULE: usize = 7;
    /// The rule name's byte length.
    pub const RULE_LEN: usize = 8;
    /// The label's name: address, then byte length.
    pub const LABEL: usize = 9;
    /// The label name's byte length.
    pub const LABEL_LEN: usize = 10;
    /// [`super::KIND_TEXT`] or [`super::KIND_CHAT`].
    pub const KIND: usize = 11;
    /// How many outputs follow (1 for text, one per message for chat).
    pub const OUTPUTS: usize = 12;
    /// The header's length in words.
    pub const LEN: usize = 13;
}

/// A decision follows.
pub const STATUS_DECISION: usize = 0;
/// An error's JSON is the value text.
pub const STATUS_ERROR: usize = 1;
/// A field holds NUL: the caller resends the request as JSON.
pub const STATUS_JSON: usize = 2;
/// A text version.
pub const KIND_TEXT: usize = 0;
/// A chat version.
pub const KIND_CHAT: usize = 1;
/// A piece of the value text: `(PIECE_TEXT, UTF-16 units)`.
pub const PIECE_TEXT: usize = 0;
/// A piece that is a request entry's own string: `(PIECE_ENTRY, index)`.
pub const PIECE_ENTRY: usize = 1;

/// Every name the JavaScript side shares, with its value.
pub const SHARED: &[(&str, usize)] = &[
    ("HEAD_STATUS", head::STATUS),
    ("HEAD_TEXT", head::TEXT),
    ("HEAD_TEXT_LEN", head::TEXT_LEN),
    ("HEAD_VERSION", head::VERSION),
    ("HEAD_BUCKET", head::BUCKET),
    ("HEAD_FORCED", head::FORCED),
    ("HEAD_VERSION_KEY", head::VERSION_KEY),
    ("HEAD_RULE", head::RULE),
    ("HEAD_RULE_LEN", head::RULE_LEN),
    ("HEAD_LABEL", head::LABEL),
    ("HEAD_LABEL_LEN", head::LABEL_LEN),
    ("HEAD_KIND", head::KIND),
    ("HEAD_OUTPUTS", head::OUTPUTS),
    ("HEAD_LEN", head::LEN),
    ("STATUS_DECISION", STATUS_DECISION),
    ("STATUS_ERROR", STATUS_ERROR),
    ("STATUS_JSON", STATUS_JSON),
    ("KIND_CHAT", KIND_CHAT),
    ("PIECE_TEXT", PIECE_TEXT),
    ("PIECE_ENTRY", PIECE_ENTRY),
];

#[inline]
fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}

/// A render's [`Output`] in the ops form: template text as (address, length), a value
/// that is one of the request's own strings as its entry index, other text appended
/// to the value text and counted in UTF-16 units.
struct OpsOutput<'o, 'e> {
    text: &'o mut String,
    ops: &'o mut Vec<usize>,
    /// UTF-16 units of value text written since the last op.
    pending: usize,
    /// The request's entries, then list items, whose string values the ops name by index.
    entries: &'e [(&'e str, Val<'e>)],
    items: &'e [(&'e str, Val<'e>)],
}

impl OpsOutput<'_, '_> {
    /// Records the last run of value text.
    #[inline]
    fn flush(&mut self) {
        if self.pending > 0 {
            self.ops.extend_from_slice(&[PIECE_TEXT, self.pending]);
            self.pending = 0;
        }
    }

    /// The index of the request entry (or list item) whose string is `s` itself.
    fn entry(&self, s: &str) -> Option<usize> {
        // The same address and length: the caller's own string, not a copy.
        let same = |(_, v): &(&str, Val<'_>)| matches!(v, Val::Str(x) if x.as_ptr() == s.as_ptr() && x.len() == s.len());
        self.entries.iter().position(same).or_else(|| {
            self.items
                .iter()
                .position(same)
                .map(|k| self.entries.len() + k)
        })
    }
}

impl Output for OpsOutput<'_, '_> {
    #[inline]
    fn write_str(&mut self, s: &str) {
        if !s.is_empty() {
            if let Some(i) = self.entry(s) {
                self.flush();
                self.ops.extend_from_slice(&[PIECE_ENTRY, i]);
                return;
            }
        }
        self.pending += utf16_len(s);
        self.text.push_str(s);
    }

    #[inline]
    fn write_literal(&mut self, s: &str) {
        self.flush();
        // The address is an identity and a place to read from, never dereferenced here.
        self.ops.extend_from_slice(&[s.as_ptr() as usize, s.len()]);
    }
}

/// Writes a version's outputs in the ops form.
struct Packer<'o, 'e> {
    text: &'o mut String,
    ops: &'o mut Vec<usize>,
    entries: &'e [(&'e str, Val<'e>)],
    items: &'e [(&'e str, Val<'e>)],
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
            self.ops
                .extend_from_slice(&[role.as_ptr() as usize, role.len()]);
        }
        let count_at = self.ops.len();
        self.ops.push(0);
        let mut out = OpsOutput {
            text: self.text,
            ops: self.ops,
            pending: 0,
            entries: self.entries,
            items: self.items,
        };
        let written = render::render_values(tpl, scopes, partials, opts, &mut out)?;
        out.flush();
        let pieces = (self.ops.len() - count_at - 1) / 2;
        if let Some(slot) = self.ops.get_mut(count_at) {
            *slot = pieces;
        }
        Ok(written)
    }

    fn message(&mut self, role: &'a str, content: &'a str) {
        self.ops.extend_from_slice(&[PIECE_TEXT, utf16_len(role)]);
        self.text.push_str(role);
        self.ops
            .extend_from_slice(&[1, PIECE_TEXT, utf16_len(content)]);
        self.text.push_str(content);
    }
}

/// `{"code", "details"?, "message"}` as canonical JSON (keys sorted), written by hand:
/// the npm package's Wasm builds no JSON object for an error.
pub(crate) fn error_json(e: &ResolveError) -> String {
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

/// Resolves a packed request ([`crate::request`]) in the ops form: `text` (cleared
/// first) receives only value text (or, on error, the error's JSON), and `ops`
/// (cleared first) says how to assemble the decision.
pub fn resolve_packed_ops(
    m: &CompiledManifest,
    request: &str,
    now_ms: Option<i64>,
    ops: &mut Vec<usize>,
    text: &mut String,
) {
    in_ops_form(ops, text, |ops, text| {
        with_input(request, now_ms, |input, entries, items| {
            decision_ops(m, input, entries, items, ops, text)
        })
    });
}

/// Resolves a request given as JSON text (what the packed form cannot carry: a field
/// holding NUL, a value of a type JSON allows but the packed form does not) into the
/// same ops form as [`resolve_packed_ops`]; the ops name no request entries.
pub fn resolve_json_ops(
    m: &CompiledManifest,
    request: &str,
    now_ms: Option<i64>,
    ops: &mut Vec<usize>,
    text: &mut String,
) {
    in_ops_form(ops, text, |ops, text| {
        with_json_input(request, |input| {
            let input = Input { now_ms, ..*input };
            decision_ops(m, &input, &[], &[], ops, text)
        })
        .map_err(Unpacked::Error)
    });
}

/// Clears `ops` and `text`, has `decide` write the decision, then the status (or the
/// error in place of the decision).
fn in_ops_form(
    ops: &mut Vec<usize>,
    text: &mut String,
    decide: impl FnOnce(&mut Vec<usize>, &mut String) -> Result<(), Unpacked>,
) {
    ops.clear();
    text.clear();
    let result = decide(ops, text);
    finish_ops(result, ops, text);
}

fn is_chat(version: &Version) -> bool {
    matches!(version.body, Body::Messages(_))
}

/// The decision for `input` in the ops form: the header, then the outputs.
fn decision_ops<'e>(
    m: &CompiledManifest,
    input: &Input<'e>,
    entries: &'e [(&'e str, Val<'e>)],
    items: &'e [(&'e str, Val<'e>)],
    ops: &mut Vec<usize>,
    text: &mut String,
) -> Result<(), ResolveError> {
    let (_, a, version) = decide(m, input)?;
    let mut header = [0; head::LEN];
    header[head::STATUS] = STATUS_DECISION;
    header[head::VERSION] = a.version as usize;
    header[head::BUCKET] = usize::from(a.bucket);
    header[head::FORCED] = usize::from(a.forced);
    header[head::VERSION_KEY] = std::ptr::from_ref(version) as usize;
    header[head::RULE] = a.rule.as_ptr() as usize;
    header[head::RULE_LEN] = a.rule.len();
    header[head::LABEL] = a.label.as_ptr() as usize;
    header[head::LABEL_LEN] = a.label.len();
    header[head::KIND] = if is_chat(version) {
        KIND_CHAT
    } else {
        KIND_TEXT
    };
    ops.extend_from_slice(&header);
    let mut packer = Packer {
        text,
        ops,
        entries,
        items,
    };
    render_version(m, version, input.variables, &mut packer)
}

/// Writes the status, and the error in place of a decision.
fn finish_ops(result: Result<(), Unpacked>, ops: &mut Vec<usize>, text: &mut String) {
    match result {
        Ok(()) => count_outputs(ops),
        Err(Unpacked::Nul) => {
            ops.clear();
            ops.extend_from_slice(&[STATUS_JSON, 0, 0]);
            text.clear();
        }
        Err(Unpacked::Error(e)) => {
            ops.clear();
            ops.extend_from_slice(&[STATUS_ERROR, 0, 0]);
            text.clear();
            text.push_str(&error_json(&e));
        }
    }
    // Only now is the text where it stays.
    if let Some(words) = ops.get_mut(head::TEXT..=head::TEXT_LEN) {
        words.copy_from_slice(&[text.as_ptr() as usize, text.len()]);
    }
}

/// Fills in the number of outputs by walking them.
fn count_outputs(ops: &mut [usize]) {
    let chat = ops.get(head::KIND) == Some(&KIND_CHAT);
    let mut at = head::LEN;
    let mut outputs = 0;
    while at < ops.len() {
        if chat {
            at += 2;
        }
        let pieces = ops.get(at).copied().unwrap_or(0);
        at += 1 + 2 * pieces;
        outputs += 1;
    }
    if let Some(slot) = ops.get_mut(head::OUTPUTS) {
        *slot = outputs;
    }
}
