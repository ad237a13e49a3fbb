//! Reading JSON documents with precise error paths: every problem is collected with
//! the exact place and reason (`prompts.support.labels.production.default.split:
//! weights sum to 95, expected 100`), so an author sees all of them at once. The
//! manifest and the condition language are read with it.

mod problem;
mod reader;

pub use problem::Problem;
pub(crate) use problem::{index_path, key_path, Problems};
pub(crate) use reader::{as_array, as_int, as_map, as_str, check_name, kind, short, Obj};

/// Longest name of a prompt, label, rule, variable, snippet or metric, in bytes.
pub const MAX_NAME_LEN: usize = 128;
