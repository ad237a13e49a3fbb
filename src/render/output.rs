//! The output buffer: appends with a size limit and optional HTML escaping.

use crate::value::Val;
use std::fmt;

/// The output limit was reached; nothing more may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

/// Appends to a `String`, refusing to grow the output past `max_output` bytes.
pub(crate) struct Out<'o> {
    buf: &'o mut String,
    /// Bytes of output so far (a literal reference counts as the literal's bytes).
    written: usize,
    max_output: usize,
    ops: Option<&'o mut Vec<usize>>,
    /// UTF-16 units of value text written since the last op.
    pending: usize,
    /// Request entries, then list items, whose string values are named by index
    /// instead of written.
    inputs: [&'o [(&'o str, Val<'o>)]; 2],
}

impl<'o> Out<'o> {
    /// `max_output` counts only bytes appended from now on.
    pub(crate) fn new(buf: &'o mut String, max_output: usize) -> Self {
        Out {
            buf,
            written: 0,
            max_output,
            ops: None,
            pending: 0,
            inputs: [&[], &[]],
        }
    }

    /// The ops form: template text is not written but recorded in `ops` as a pair
    /// (address, byte length) of the literal in memory, so a caller that shares the
    /// memory (JavaScript, beside the Wasm engine) splices in text it has cached; a
    /// run of value text written to `buf` is recorded as (0, its length in UTF-16
    /// units); a value that is the very string of one of `inputs` (request entries, then
    /// list items, indexed on from the entries) is recorded as (1, its index), since the
    /// caller holds it already. Call [`Out::finish`] at the end.
    pub(crate) fn with_ops(
        buf: &'o mut String,
        max_output: usize,
        ops: &'o mut Vec<usize>,
        inputs: [&'o [(&'o str, Val<'o>)]; 2],
    ) -> Self {
        Out {
            ops: Some(ops),
            inputs,
            ..Out::new(buf, max_output)
        }
    }

    /// Bytes of output written.
    pub(crate) fn written(&self) -> usize {
        self.written
    }

    /// Records the last run of value text.
    #[inline]
    pub(crate) fn finish(&mut self) {
        if let Some(ops) = self.ops.as_deref_mut() {
            if self.pending > 0 {
                ops.push(0);
                ops.push(self.pending);
                self.pending = 0;
            }
        }
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<(), Overflow> {
        if n > self.max_output - self.written {
            return Err(Overflow);
        }
        self.written += n;
        Ok(())
    }

    /// Appends a value's text.
    #[inline]
    pub(crate) fn push(&mut self, s: &str) -> Result<(), Overflow> {
        self.take(s.len())?;
        if self.ops.is_some() {
            // The same address and length: the caller's own string, not a copy.
            let same = |(_, v): &(&str, Val<'_>)| matches!(v, Val::Str(x) if x.as_ptr() == s.as_ptr() && x.len() == s.len());
            if !s.is_empty() {
                let [entries, items] = self.inputs;
                let found = entries
                    .iter()
                    .position(same)
                    .or_else(|| items.iter().position(same).map(|k| entries.len() + k));
                if let Some(i) = found {
                    self.finish();
                    if let Some(ops) = self.ops.as_deref_mut() {
                        ops.push(1);
                        ops.push(i);
                    }
                    return Ok(());
                }
            }
            self.pending += if s.is_ascii() {
                s.len()
            } else {
                s.chars().map(char::len_utf16).sum()
            };
        }
        self.buf.push_str(s);
        Ok(())
    }

    /// Appends template text that lives, unmoved, as long as the compiled template.
    #[inline]
    pub(crate) fn push_literal(&mut self, s: &str) -> Result<(), Overflow> {
        if self.ops.is_none() || s.is_empty() {
            return self.push(s);
        }
        self.take(s.len())?;
        self.finish();
        if let Some(ops) = self.ops.as_deref_mut() {
            // The address is an identity and a place to read from, never dereferenced here.
            ops.push(s.as_ptr() as usize);
            ops.push(s.len());
        }
        Ok(())
    }

    /// Appends `s` with `&`, `<`, `>` and `"` replaced by HTML entities.
    pub(crate) fn push_escaped(&mut self, s: &str) -> Result<(), Overflow> {
        let mut last = 0;
        for (i, b) in s.bytes().enumerate() {
            let entity = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => continue,
            };
            self.push(s.get(last..i).unwrap_or(""))?;
            self.push(entity)?;
            last = i + 1;
        }
        self.push(s.get(last..).unwrap_or(""))
    }

    /// Appends `value`'s `Display` output (escaped when `escape`), stopping at the limit.
    pub(crate) fn push_display(
        &mut self,
        value: &dyn fmt::Display,
        escape: bool,
    ) -> Result<(), Overflow> {
        let mut w = DisplaySink {
            out: self,
            escape,
            overflow: false,
        };
        // A formatting error not caused by the limit cannot happen for JSON values;
        // only the limit is reported.
        let _ = fmt::write(&mut w, format_args!("{value}"));
        if w.overflow {
            return Err(Overflow);
        }
        Ok(())
    }
}

struct DisplaySink<'a, 'o> {
    out: &'a mut Out<'o>,
    escape: bool,
    overflow: bool,
}

impl fmt::Write for DisplaySink<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let result = if self.escape {
            self.out.push_escaped(s)
        } else {
            self.out.push(s)
        };
        result.map_err(|Overflow| {
            self.overflow = true;
            fmt::Error
        })
    }
}
