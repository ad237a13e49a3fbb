//! Mustache templates for prompts: compile once, render many times.
//!
//! Implements the Mustache spec (interpolation, sections, inverted sections,
//! comments, partials, set delimiters, standalone-line rules) and the optional
//! template inheritance module (`{{<parent}}`, `{{$block}}`). Lambdas and dynamic
//! names are not supported: a template only ever reads data.
//!
//! Values are inserted verbatim unless [`Escape::Html`] is chosen, and are never
//! parsed as templates. How each JSON value interpolates:
//! - missing and `null`: nothing;
//! - strings: as is (HTML-escaped with [`Escape::Html`] for `{{x}}`, never for
//!   `{{{x}}}` or `{{&x}}`);
//! - booleans: `true` / `false`;
//! - numbers: as JavaScript prints them (see [`write_number`]);
//! - arrays and objects: canonical compact JSON (object keys sorted, numbers as
//!   JavaScript prints them; see [`crate::value::canonical`]), so prompts can embed
//!   structured data and every platform prints the same bytes.
//!
//! Sections treat `null`, `false`, missing names, `""` and `[]` as false; anything
//! else (`0` and `{}` included) is true. Lists render once per element, other true
//! values render once with the value pushed on the context stack.
//!
//! Names: the first segment of `a.b.c` is looked up through the section contexts
//! (innermost first), then through the render scopes (last first); the first object
//! holding the key wins, even when its value is `null`. Later segments are looked up
//! strictly inside (a numeric segment indexes an array: `items.0.name`).
//!
//! Whitespace: standalone lines (only whitespace and one non-interpolation tag, or
//! only parent/block tags such as `{{<layout}}{{$body}}`) are removed. A standalone
//! partial or parent gets the whitespace before it as indentation, added to every
//! line its template text or values start (newlines inside values start no line).
//! Block content loses its own indentation (that of its first non-blank line when
//! the opening tag is standalone, else the whitespace before the opening tag) and
//! takes the indentation of the block it is rendered at, per the spec's
//! "block reindentation" cases.
//!
//! Inheritance: only blocks directly inside `{{<parent}}...{{/parent}}` override (the
//! first one per name); other content there is ignored. When parents nest, the
//! outermost override wins. Overrides render in the context of the block they
//! replace.
//!
//! Limits: sections, partials, parents and blocks each count one nesting level;
//! `max_depth` is capped at 256 so recursion never exhausts the stack.
//!
//! Pipeline: `lexer` (tokens) → `parser` (standalone lines, pairing, flat nodes)
//! → `vm` (rendering).

mod error;
mod lexer;
mod node;
mod output;
mod parser;
mod refs;
mod standalone;
mod vm;

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

pub use crate::value::number::{write_f64, write_number};
pub use error::{CompileError, RenderError};
pub use refs::{NameRef, PartialRef, References};
pub use serde_json::Value;

use crate::value::Val;
use node::Node;
use output::Out;
pub use output::Output;

/// A compiled template; immutable, cheap to render many times.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Box<[Node]>,
    literal_len: usize,
    /// Room to reserve for an output ([`estimate`]), worked out once when compiled.
    room: usize,
}

impl Template {
    /// Compiles Mustache source.
    pub fn compile(source: &str) -> Result<Template, CompileError> {
        Self::compile_with_references(source).map(|(t, _)| t)
    }

    /// Compiles Mustache source, with its static references for validation: the
    /// root-scope names and the partials it uses. (Handed out, not kept: a compiled
    /// manifest validates once and then only renders.)
    pub fn compile_with_references(source: &str) -> Result<(Template, References), CompileError> {
        let compiled = parser::compile(source)?;
        let values = compiled
            .nodes
            .iter()
            .filter(|n| matches!(n, Node::Var { .. }))
            .count();
        // A quarter more than the literal text, and 64 bytes per interpolation (values
        // in prompts are names, ids, a question). Too little costs a reallocation and a
        // copy of the output: the bench's short user message (35 literal bytes, three
        // values, 133 bytes out) outgrew the guess without the per-value room (107
        // bytes), ~50 ns of `resolve/resolve_render` (BENCHMARKS.md "Engine speed after
        // the npm size work"); too much costs only memory while the decision lives.
        let literal_len = compiled.literal_len;
        let room = literal_len
            .saturating_add(literal_len / 4 + 64)
            .saturating_add(values.saturating_mul(64));
        let t = Template {
            nodes: compiled.nodes.into_boxed_slice(),
            literal_len,
            room,
        };
        Ok((t, compiled.refs))
    }

    /// Size in bytes of the literal text, used to pre-size output.
    pub fn literal_len(&self) -> usize {
        self.literal_len
    }
}

/// Where partials (and parents for inheritance) come from.
pub trait Partials {
    /// The template named `name`, if there is one (a missing one renders as nothing).
    fn get(&self, name: &str) -> Option<&Template>;
}

impl<S: BuildHasher> Partials for HashMap<String, Template, S> {
    fn get(&self, name: &str) -> Option<&Template> {
        HashMap::get(self, name)
    }
}

impl Partials for BTreeMap<String, Template> {
    fn get(&self, name: &str) -> Option<&Template> {
        BTreeMap::get(self, name)
    }
}

impl<P: Partials + ?Sized> Partials for &P {
    fn get(&self, name: &str) -> Option<&Template> {
        (**self).get(name)
    }
}

/// No partials at all: every partial and parent renders as nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoPartials;

impl Partials for NoPartials {
    fn get(&self, _name: &str) -> Option<&Template> {
        None
    }
}

/// How `{{x}}` interpolations are escaped (`{{{x}}}` and `{{&x}}` never are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Escape {
    /// Values are inserted verbatim (the default: prompts are not HTML).
    #[default]
    None,
    /// `&`, `<`, `>` and `"` become `&amp;`, `&lt;`, `&gt;` and `&quot;`.
    Html,
}

/// Resource limits for one render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum number of bytes a render may append.
    pub max_output: usize,
    /// Maximum nesting of sections, partials, parents and blocks (capped at 256).
    pub max_depth: usize,
    /// Maximum number of list elements rendered, over the whole render.
    pub max_iterations: usize,
}

impl Default for Limits {
    /// 1 MiB of output, depth 32, 100 000 iterations.
    fn default() -> Self {
        Limits {
            max_output: 1_048_576,
            max_depth: 32,
            max_iterations: 100_000,
        }
    }
}

/// Options for one render.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Escaping of `{{x}}` interpolations.
    pub escape: Escape,
    /// Resource limits.
    pub limits: Limits,
}

/// Renders `tpl` against a context stack: `scopes` are searched from LAST to FIRST for
/// a name's first segment (so callers pass `[defaults, request_variables]` without
/// merging maps); the first scope holding the key wins, even with a `null` value.
/// Appends to `out`; on error `out` holds the output written so far.
pub fn render_to(
    tpl: &Template,
    scopes: &[&Value],
    partials: &dyn Partials,
    opts: &RenderOptions,
    out: &mut String,
) -> Result<(), RenderError> {
    // The usual one or two scopes need no allocation.
    let mut few = [Val::Null; 4];
    if let Some(slots) = few.get_mut(..scopes.len()) {
        for (slot, v) in slots.iter_mut().zip(scopes) {
            *slot = Val::Json(v);
        }
        return render_values(tpl, slots, partials, opts, out).map(|_| ());
    }
    let many: Vec<Val<'_>> = scopes.iter().map(|v| Val::Json(v)).collect();
    render_values(tpl, &many, partials, opts, out).map(|_| ())
}

/// Renders `tpl` with request values as scopes (searched as in [`render_to`]) into any
/// [`Output`]; returns the bytes written, at most `opts.limits.max_output`.
pub fn render_values<'r, O: Output + ?Sized>(
    tpl: &'r Template,
    scopes: &'r [Val<'r>],
    partials: &'r dyn Partials,
    opts: &RenderOptions,
    out: &'r mut O,
) -> Result<usize, RenderError> {
    let mut vm = vm::Vm::new(
        Out::new(out, opts.limits.max_output),
        scopes,
        partials,
        opts,
    );
    vm.render(tpl)?;
    Ok(vm.out().written())
}

/// Room for a template's literal text plus some interpolated values.
pub(crate) fn estimate(tpl: &Template, max_output: usize) -> usize {
    tpl.room.min(max_output)
}

/// Convenience: render into a new String.
pub fn render(
    tpl: &Template,
    scopes: &[&Value],
    partials: &dyn Partials,
    opts: &RenderOptions,
) -> Result<String, RenderError> {
    let mut out = String::with_capacity(estimate(tpl, opts.limits.max_output));
    render_to(tpl, scopes, partials, opts, &mut out)?;
    Ok(out)
}
