//! Error types for compiling and rendering templates.

/// A template that could not be compiled: where (1-based line and column, the column
/// counted in characters) and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct CompileError {
    /// 1-based line of the offending tag or character.
    pub line: usize,
    /// 1-based column, in characters, of the offending tag or character.
    pub column: usize,
    /// What is wrong, e.g. `unclosed section "items"`.
    pub message: String,
}

/// A render that was stopped because it hit one of the [`Limits`](super::Limits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The output would have grown past `max_output` bytes.
    #[error("rendered output exceeds {limit} bytes")]
    OutputTooLarge {
        /// The `max_output` limit in force.
        limit: usize,
    },
    /// Sections, partials, parents and blocks were nested deeper than `max_depth`.
    #[error("nesting deeper than {limit} levels (sections, partials and parents)")]
    TooDeep {
        /// The depth limit in force.
        limit: usize,
    },
    /// More list elements were rendered than `max_iterations`.
    #[error("more than {limit} section iterations")]
    TooManyIterations {
        /// The `max_iterations` limit in force.
        limit: usize,
    },
}

/// An error located by byte offset; turned into a [`CompileError`] once the
/// offset is converted to a line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorAt {
    pub offset: usize,
    pub message: String,
}

impl ErrorAt {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        ErrorAt {
            offset,
            message: message.into(),
        }
    }

    /// Converts the byte offset into a 1-based line and character column in `src`.
    pub(crate) fn locate(self, src: &str) -> CompileError {
        let (line, column) = line_column(src, self.offset);
        CompileError {
            line,
            column,
            message: self.message,
        }
    }
}

/// 1-based line and character column of byte `offset` in `src` (clamped to the end).
pub(crate) fn line_column(src: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for (i, c) in src.char_indices() {
        if i >= offset {
            break;
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

/// Converts many byte offsets of one source to line/column quickly.
pub(crate) struct LineIndex<'s> {
    src: &'s str,
    /// Byte offset of the start of each line.
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            src.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { src, starts }
    }

    /// 1-based line and character column of byte `offset`.
    pub(crate) fn locate(&self, offset: usize) -> (usize, usize) {
        let idx = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(idx).copied().unwrap_or(0);
        let column = self
            .src
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        (idx + 1, column)
    }
}
