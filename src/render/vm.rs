//! Renderer: walks a template's node list against a context stack.
//!
//! All stacks (section contexts, indentation, block overrides) are linked lists of
//! frames living on the Rust stack, so rendering allocates nothing besides the output.

use crate::value::canonical::CanonicalVal;
use crate::value::Val;
use serde_json::Value;

use super::node::{BlockNode, Include, Node, Path};
use super::output::{Out, Output, Overflow};
use super::{Escape, Partials, RenderError, RenderOptions, Template};
use crate::value::number::{format_number, format_text, NumBuf};

/// Nesting is capped here whatever `Limits::max_depth` says, so that recursion can
/// never overflow the stack.
pub(crate) const DEPTH_CAP: usize = 256;

/// A value pushed on the context stack by a section.
struct Ctx<'c> {
    value: Val<'c>,
    up: Option<&'c Ctx<'c>>,
}

/// Indentation added to each line; the full indentation is the chain, outermost first.
struct Indent<'c> {
    text: &'c str,
    up: Option<&'c Indent<'c>>,
}

/// Override blocks passed to a parent; the outermost match wins.
struct Overrides<'c> {
    tpl: &'c Template,
    list: &'c [(Box<str>, usize)],
    up: Option<&'c Overrides<'c>>,
}

/// Everything that changes as rendering descends.
#[derive(Clone, Copy)]
struct Env<'c> {
    ctx: Option<&'c Ctx<'c>>,
    indent: Option<&'c Indent<'c>>,
    overrides: Option<&'c Overrides<'c>>,
    depth: usize,
}

pub(crate) struct Vm<'r, O: Output + ?Sized> {
    out: Out<'r, O>,
    scopes: &'r [Val<'r>],
    partials: &'r dyn Partials,
    html: bool,
    max_output: usize,
    max_depth: usize,
    max_iterations: usize,
    iterations: usize,
    /// The last template text written ended a line (tracked while indenting).
    line_start: bool,
}

impl<'r, O: Output + ?Sized> Vm<'r, O> {
    pub(crate) fn new(
        out: Out<'r, O>,
        scopes: &'r [Val<'r>],
        partials: &'r dyn Partials,
        opts: &RenderOptions,
    ) -> Self {
        Vm {
            out,
            scopes,
            partials,
            html: opts.escape == Escape::Html,
            max_output: opts.limits.max_output,
            max_depth: opts.limits.max_depth.min(DEPTH_CAP),
            max_iterations: opts.limits.max_iterations,
            iterations: 0,
            line_start: true,
        }
    }

    /// The output, once rendering is over.
    pub(crate) fn out(&mut self) -> &mut Out<'r, O> {
        &mut self.out
    }

    pub(crate) fn render(&mut self, tpl: &'r Template) -> Result<(), RenderError> {
        let env = Env {
            ctx: None,
            indent: None,
            overrides: None,
            depth: 0,
        };
        self.run(tpl, 0, tpl.nodes.len(), env)
    }

    fn run<'c>(
        &mut self,
        tpl: &'c Template,
        start: usize,
        end: usize,
        env: Env<'c>,
    ) -> Result<(), RenderError>
    where
        'r: 'c,
    {
        let mut i = start;
        while i < end {
            let Some(node) = tpl.nodes.get(i) else {
                break;
            };
            i += 1;
            match node {
                Node::Text(text) => self.text(text, env.indent)?,
                Node::Var { path, escape } => {
                    let value = self.lookup(path, env.ctx);
                    self.value(value, *escape, env.indent)?;
                }
                Node::Section { path, end } => {
                    let value = self.lookup(path, env.ctx);
                    self.section(tpl, i, *end, value, env)?;
                    i = *end;
                }
                Node::Inverted { path, end } => {
                    // The body follows inline: skip it when the value is truthy.
                    if self.lookup(path, env.ctx).is_some_and(|v| v.truthy()) {
                        i = *end;
                    }
                }
                Node::Partial(include) => {
                    if let Some(partial) = self.partials.get(&include.name) {
                        self.include(partial, include, env)?;
                    }
                }
                Node::Parent(parent) => {
                    if let Some(partial) = self.partials.get(&parent.include.name) {
                        let overrides = Overrides {
                            tpl,
                            list: &parent.overrides,
                            up: env.overrides,
                        };
                        let env = Env {
                            overrides: Some(&overrides),
                            ..env
                        };
                        self.include(partial, &parent.include, env)?;
                    }
                    i = parent.end;
                }
                Node::Block(block) => {
                    self.block(tpl, i, block, env)?;
                    i = block.end;
                }
            }
        }
        Ok(())
    }

    fn enter(&self, depth: usize) -> Result<usize, RenderError> {
        let depth = depth + 1;
        if depth > self.max_depth {
            return Err(RenderError::TooDeep {
                limit: self.max_depth,
            });
        }
        Ok(depth)
    }

    fn section<'c>(
        &mut self,
        tpl: &'c Template,
        body: usize,
        end: usize,
        value: Option<Val<'c>>,
        env: Env<'c>,
    ) -> Result<(), RenderError>
    where
        'r: 'c,
    {
        let Some(value) = value.filter(Val::truthy) else {
            return Ok(());
        };
        let depth = self.enter(env.depth)?;
        if let Some(len) = value.list_len() {
            for item in (0..len).filter_map(|i| value.list_item(i)) {
                self.iterations += 1;
                if self.iterations > self.max_iterations {
                    return Err(RenderError::TooManyIterations {
                        limit: self.max_iterations,
                    });
                }
                let ctx = Ctx {
                    value: item,
                    up: env.ctx,
                };
                let env = Env {
                    ctx: Some(&ctx),
                    depth,
                    ..env
                };
                self.run(tpl, body, end, env)?;
            }
            Ok(())
        } else {
            let ctx = Ctx { value, up: env.ctx };
            let env = Env {
                ctx: Some(&ctx),
                depth,
                ..env
            };
            self.run(tpl, body, end, env)
        }
    }

    /// Renders a partial or parent template in place.
    fn include<'c>(
        &mut self,
        tpl: &'c Template,
        include: &'c Include,
        env: Env<'c>,
    ) -> Result<(), RenderError>
    where
        'r: 'c,
    {
        let depth = self.enter(env.depth)?;
        let frame;
        let indent = if include.indent.is_empty() {
            env.indent
        } else {
            frame = Indent {
                text: &include.indent,
                up: env.indent,
            };
            Some(&frame)
        };
        if include.standalone {
            self.line_start = true;
        }
        let env = Env {
            indent,
            depth,
            ..env
        };
        self.run(tpl, 0, tpl.nodes.len(), env)
    }

    /// Renders a block: the outermost override passed to an enclosing parent, or the
    /// block's own default content (`tpl` nodes `body .. block.end`).
    fn block<'c>(
        &mut self,
        tpl: &'c Template,
        body: usize,
        block: &'c BlockNode,
        env: Env<'c>,
    ) -> Result<(), RenderError>
    where
        'r: 'c,
    {
        let (tpl, start, end) =
            find_override(env.overrides, &block.name).unwrap_or((tpl, body, block.end));
        let depth = self.enter(env.depth)?;
        let frame;
        let indent = if block.indent.is_empty() {
            env.indent
        } else {
            frame = Indent {
                text: &block.indent,
                up: env.indent,
            };
            Some(&frame)
        };
        if block.standalone {
            self.line_start = true;
        } else if !block.indent.is_empty() {
            // The indentation was just written as literal text before the tag.
            self.line_start = false;
        }
        let env = Env {
            indent,
            depth,
            ..env
        };
        self.run(tpl, start, end, env)
    }

    /// Resolves a name: the first segment through the section contexts (innermost
    /// first), then through the scopes (last first); further segments strictly inside.
    #[inline]
    fn lookup<'c>(&self, path: &Path, ctx: Option<&'c Ctx<'c>>) -> Option<Val<'c>>
    where
        'r: 'c,
    {
        let Some((first, rest)) = path.split_first() else {
            return match ctx {
                Some(c) => Some(c.value),
                None => self.scopes.last().copied(),
            };
        };
        let mut found = None;
        let mut frame = ctx;
        while let Some(c) = frame {
            if let Some(v) = c.value.member(first) {
                found = Some(v);
                break;
            }
            frame = c.up;
        }
        let mut value = match found {
            Some(v) => v,
            None => self.scopes.iter().rev().find_map(|s| s.member(first))?,
        };
        for segment in rest.iter() {
            value = child(value, segment)?;
        }
        Some(value)
    }

    #[inline]
    fn push(&mut self, s: &str) -> Result<(), RenderError> {
        self.out.push(s).map_err(|Overflow| self.too_large())
    }

    #[inline]
    fn push_literal(&mut self, s: &str) -> Result<(), RenderError> {
        self.out
            .push_literal(s)
            .map_err(|Overflow| self.too_large())
    }

    fn too_large(&self) -> RenderError {
        RenderError::OutputTooLarge {
            limit: self.max_output,
        }
    }

    #[inline]
    fn text(&mut self, text: &str, indent: Option<&Indent<'_>>) -> Result<(), RenderError> {
        match indent {
            None => self.push_literal(text),
            Some(indent) => self.text_indented(text, indent),
        }
    }

    /// Writes template text, indenting every line it starts.
    fn text_indented(&mut self, text: &str, indent: &Indent<'_>) -> Result<(), RenderError> {
        let mut rest = text;
        while !rest.is_empty() {
            if self.line_start {
                self.write_indent(indent)?;
                self.line_start = false;
            }
            let (line, tail) = match rest.find('\n') {
                Some(p) => rest.split_at_checked(p + 1).unwrap_or((rest, "")),
                None => (rest, ""),
            };
            // Part of a literal: written as text, so that an address names one literal.
            self.push(line)?;
            self.line_start = line.ends_with('\n');
            rest = tail;
        }
        Ok(())
    }

    fn write_indent(&mut self, indent: &Indent<'_>) -> Result<(), RenderError> {
        if let Some(up) = indent.up {
            self.write_indent(up)?;
        }
        self.push_literal(indent.text)
    }

    /// Before a value: indents if a line was just started. Newlines inside values
    /// are never indented.
    fn begin_value(&mut self, indent: Option<&Indent<'_>>) -> Result<(), RenderError> {
        if let Some(indent) = indent {
            if self.line_start {
                self.write_indent(indent)?;
                self.line_start = false;
            }
        }
        Ok(())
    }

    fn value(
        &mut self,
        value: Option<Val<'_>>,
        escape: bool,
        indent: Option<&Indent<'_>>,
    ) -> Result<(), RenderError> {
        let escape = escape && self.html;
        let Some(value) = value else {
            return Ok(());
        };
        if let Some(s) = value.as_str() {
            if s.is_empty() {
                return Ok(());
            }
            self.begin_value(indent)?;
            let result = if escape {
                self.out.push_escaped(s)
            } else {
                self.out.push(s)
            };
            return result.map_err(|Overflow| self.too_large());
        }
        let mut buf = NumBuf::new();
        let text = match value {
            Val::Null | Val::Json(Value::Null) => return Ok(()),
            Val::Bool(b) | Val::Json(&Value::Bool(b)) => {
                if b {
                    "true"
                } else {
                    "false"
                }
            }
            Val::Num(text) => {
                format_text(text, &mut buf);
                buf.as_str()
            }
            Val::Json(Value::Number(n)) => {
                format_number(n, &mut buf);
                buf.as_str()
            }
            _ => {
                self.begin_value(indent)?;
                return self
                    .out
                    .push_display(&CanonicalVal(value), escape)
                    .map_err(|Overflow| self.too_large());
            }
        };
        self.begin_value(indent)?;
        self.push(text)
    }
}

/// A dotted-name step: an object key, or an array index.
fn child<'v>(value: Val<'v>, segment: &str) -> Option<Val<'v>> {
    match value.list_len() {
        Some(_) => value.list_item(segment.parse::<usize>().ok()?),
        None => value.member(segment),
    }
}

/// The outermost override for block `name`: its template and body node range.
fn find_override<'c>(
    mut overrides: Option<&'c Overrides<'c>>,
    name: &str,
) -> Option<(&'c Template, usize, usize)> {
    let mut found = None;
    while let Some(o) = overrides {
        if let Some((_, index)) = o.list.iter().find(|(n, _)| &**n == name) {
            if let Some(Node::Block(b)) = o.tpl.nodes.get(*index) {
                found = Some((o.tpl, index + 1, b.end));
            }
        }
        overrides = o.up;
    }
    found
}
