//! Where a render writes: the [`Output`] trait, and the limit every render keeps.

use std::fmt;

/// A render's destination. Template text and value text arrive apart, so that a caller
/// sharing memory with the engine may refer to template text instead of copying it;
/// a `String` just appends both.
pub trait Output {
    /// Appends text the template does not hold: a value, an escape, a number.
    fn write_str(&mut self, s: &str);

    /// Appends template text, which stays unmoved as long as the compiled template.
    #[inline]
    fn write_literal(&mut self, s: &str) {
        self.write_str(s);
    }
}

impl Output for String {
    #[inline]
    fn write_str(&mut self, s: &str) {
        self.push_str(s);
    }
}

/// The output limit was reached; nothing more may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

/// Writes to an [`Output`], refusing to grow the output past `max_output` bytes.
pub(crate) struct Out<'o, O: Output + ?Sized> {
    sink: &'o mut O,
    /// Bytes of output so far (a literal counts as the literal's bytes).
    written: usize,
    max_output: usize,
}

impl<'o, O: Output + ?Sized> Out<'o, O> {
    /// `max_output` counts only bytes written from now on.
    pub(crate) fn new(sink: &'o mut O, max_output: usize) -> Self {
        Out {
            sink,
            written: 0,
            max_output,
        }
    }

    /// Bytes of output written.
    pub(crate) fn written(&self) -> usize {
        self.written
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
        self.sink.write_str(s);
        Ok(())
    }

    /// Appends template text that lives, unmoved, as long as the compiled template.
    #[inline]
    pub(crate) fn push_literal(&mut self, s: &str) -> Result<(), Overflow> {
        if s.is_empty() {
            return Ok(());
        }
        self.take(s.len())?;
        self.sink.write_literal(s);
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

struct DisplaySink<'a, 'o, O: Output + ?Sized> {
    out: &'a mut Out<'o, O>,
    escape: bool,
    overflow: bool,
}

impl<O: Output + ?Sized> fmt::Write for DisplaySink<'_, '_, O> {
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
