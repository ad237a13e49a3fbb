//! The compiled form of a template: a flat list of nodes.
//!
//! Containers (sections, blocks, parents) store the index just past their body, so
//! a body is the node range `index + 1 .. end` and no node owns other nodes.

/// A name looked up in the context: its dot-separated segments, pre-split at compile
/// time. Empty for the implicit iterator `.`.
pub(crate) type Path = Box<[Box<str>]>;

/// One step of a compiled template.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// Literal text, already stripped of standalone-line whitespace.
    Text(Box<str>),
    /// An interpolation; `escape` is false for `{{{x}}}` and `{{&x}}`.
    Var { path: Path, escape: bool },
    /// `{{#path}}`: body is `index + 1 .. end`.
    Section { path: Path, end: usize },
    /// `{{^path}}`: body is `index + 1 .. end`, rendered inline when falsey.
    Inverted { path: Path, end: usize },
    /// `{{>name}}`
    Partial(Box<Include>),
    /// `{{<name}}`: the body holds only override blocks; skip to `end`.
    Parent(Box<ParentNode>),
    /// `{{$name}}`: a replaceable block; default body is `index + 1 .. end`.
    Block(Box<BlockNode>),
}

/// A partial or parent inclusion.
#[derive(Debug, Clone)]
pub(crate) struct Include {
    /// Name looked up in [`Partials`](super::Partials).
    pub name: Box<str>,
    /// Indentation prepended to every line of the included template (standalone tags only).
    pub indent: Box<str>,
    /// The tag stood alone on its line, so the included template starts a line.
    pub standalone: bool,
}

/// A parent (`{{<name}}`) with its overriding blocks.
#[derive(Debug, Clone)]
pub(crate) struct ParentNode {
    pub include: Include,
    /// Index just past the parent's body.
    pub end: usize,
    /// Override blocks directly inside the parent: name and index of the block node.
    pub overrides: Box<[(Box<str>, usize)]>,
}

/// A block (`{{$name}}`).
#[derive(Debug, Clone)]
pub(crate) struct BlockNode {
    pub name: Box<str>,
    /// Index just past the default content.
    pub end: usize,
    /// Indentation added to each line of whatever content is rendered here
    /// (relative to the enclosing block's).
    pub indent: Box<str>,
    /// The opening tag stood alone on its line, so the content starts a line.
    pub standalone: bool,
}
