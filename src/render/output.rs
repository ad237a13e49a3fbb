//! The output buffer: appends with a size limit and optional HTML escaping.

use std::fmt;

/// The output limit was reached; nothing more may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

/// Marks a literal reference in the refs form (see [`Out::with_refs`]).
pub(crate) const MARK: char = '\u{1}';

/// Appends to a `String`, refusing to grow the output past `max_output` bytes.
pub(crate) struct Out<'o> {
    buf: &'o mut String,
    /// Bytes of output so far (a literal reference counts as the literal's bytes).
    written: usize,
    max_output: usize,
    refs: bool,
    clash: bool,
}

impl<'o> Out<'o> {
    /// `max_output` counts only bytes appended from now on.
    pub(crate) fn new(buf: &'o mut String, max_output: usize) -> Self {
        Out {
            buf,
            written: 0,
            max_output,
            refs: false,
            clash: false,
        }
    }

    /// The refs form: template text is written as `MARK address:length MARK` (hex) of
    /// the literal in memory instead of its bytes, so a caller holding the same memory
    /// (JavaScript, beside the Wasm engine) can splice in text it has cached. Values
    /// are written as they are; one holding [`MARK`] makes the form unusable
    /// ([`Out::clashed`]).
    pub(crate) fn with_refs(buf: &'o mut String, max_output: usize) -> Self {
        Out {
            refs: true,
            ..Out::new(buf, max_output)
        }
    }

    /// Whether a value held [`MARK`], so the refs form is ambiguous.
    pub(crate) fn clashed(&self) -> bool {
        self.clash
    }

    /// Bytes of output written.
    pub(crate) fn written(&self) -> usize {
        self.written
    }

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
        if self.refs && s.contains(MARK) {
            self.clash = true;
        }
        self.buf.push_str(s);
        Ok(())
    }

    /// Appends template text, which lives as long as the compiled template.
    #[inline]
    pub(crate) fn push_literal(&mut self, s: &str) -> Result<(), Overflow> {
        if !self.refs {
            return self.push(s);
        }
        if s.is_empty() {
            return Ok(());
        }
        self.take(s.len())?;
        self.buf.push(MARK);
        // The address is only an identity and a place to read from, never dereferenced here.
        push_hex(self.buf, s.as_ptr() as usize);
        self.buf.push(':');
        push_hex(self.buf, s.len());
        self.buf.push(MARK);
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

fn push_hex(buf: &mut String, mut n: usize) {
    let mut digits = [0u8; 16];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b"0123456789abcdef".get(n & 15).copied().unwrap_or(b'0');
        }
        n >>= 4;
        if n == 0 || i == 0 {
            break;
        }
    }
    for &d in digits.get(i..).unwrap_or(&[]) {
        buf.push(char::from(d));
    }
}
