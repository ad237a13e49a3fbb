//! The output buffer: appends with a size limit and optional HTML escaping.

use std::fmt;

/// The output limit was reached; nothing more may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

/// Appends to a `String`, refusing to grow it past `limit` bytes in total.
pub(crate) struct Out<'o> {
    buf: &'o mut String,
    limit: usize,
}

impl<'o> Out<'o> {
    /// `max_output` counts only bytes appended from now on.
    pub(crate) fn new(buf: &'o mut String, max_output: usize) -> Self {
        let limit = buf.len().saturating_add(max_output);
        Out { buf, limit }
    }

    #[inline]
    pub(crate) fn push(&mut self, s: &str) -> Result<(), Overflow> {
        if s.len() > self.limit.saturating_sub(self.buf.len()) {
            return Err(Overflow);
        }
        self.buf.push_str(s);
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
