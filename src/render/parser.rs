//! Parser: matches opening and closing tags, applies the standalone-line whitespace
//! rules ([`super::standalone`]), and builds the flat node list.
//!
//! Stages:
//! 1. text tokens are split into line pieces (each ends with at most one `\n`);
//! 2. section-like tags are paired (errors for mismatched or unclosed tags);
//! 3. each line is checked for being standalone: only whitespace and tags that
//!    render nothing in place. Such lines are dropped, and the whitespace before a
//!    standalone partial or parent becomes its indentation;
//! 4. nodes are emitted. Text directly inside a parent tag is ignored; the
//!    indentation of block content is removed here and re-added where the block is
//!    rendered (see `block_indent`).

use super::error::{CompileError, LineIndex};
use super::lexer::{tokenize, TagKind};
use super::node::{BlockNode, Include, Node, ParentNode, Path};
use super::refs::{Collector, References};
use super::standalone::{
    is_blank, mark_standalone, match_pairs, split_lines, strip_common, text_of, Item, TagItem,
};

/// The result of compiling one template source.
pub(crate) struct Compiled {
    pub nodes: Vec<Node>,
    pub literal_len: usize,
    pub refs: References,
}

/// Compiles `src` into nodes.
pub(crate) fn compile(src: &str) -> Result<Compiled, CompileError> {
    let tokens = tokenize(src).map_err(|e| e.locate(src))?;
    let mut items = split_lines(src, &tokens);
    match_pairs(&mut items).map_err(|e| e.locate(src))?;
    mark_standalone(src, &mut items);
    Ok(Builder::new(src, &items).build())
}

fn to_path(name: &str) -> Path {
    if name == "." {
        Box::new([])
    } else {
        name.split('.').map(Box::from).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Root,
    Section,
    Inverted,
    Parent,
    Block,
}

struct Frame {
    kind: FrameKind,
    /// Index of this frame's container node, if one was emitted.
    node: Option<usize>,
    /// Whether text and tags in the body are emitted (false inside parent tags,
    /// outside their blocks).
    live: bool,
    /// Whether names in the body resolve against the root scope (no enclosing
    /// non-inverted section).
    root_ctx: bool,
    /// Whether this frame pushed an indentation to strip from block content.
    strips: bool,
    /// For parents: the override blocks found so far.
    overrides: Vec<(Box<str>, usize)>,
}

struct Builder<'a, 's> {
    src: &'s str,
    items: &'a [Item<'s>],
    lines: LineIndex<'s>,
    nodes: Vec<Node>,
    text: String,
    literal_len: usize,
    frames: Vec<Frame>,
    /// Indentation removed from block content lines, innermost last.
    strip: Vec<&'s str>,
    refs: Collector,
}

impl<'a, 's> Builder<'a, 's> {
    fn new(src: &'s str, items: &'a [Item<'s>]) -> Self {
        Builder {
            src,
            items,
            lines: LineIndex::new(src),
            nodes: Vec::new(),
            text: String::new(),
            literal_len: 0,
            frames: vec![Frame {
                kind: FrameKind::Root,
                node: None,
                live: true,
                root_ctx: true,
                strips: false,
                overrides: Vec::new(),
            }],
            strip: Vec::new(),
            refs: Collector::default(),
        }
    }

    fn build(mut self) -> Compiled {
        for i in 0..self.items.len() {
            match self.items.get(i).copied() {
                Some(Item::Text {
                    start,
                    end,
                    removed: false,
                }) => self.text(start, end),
                Some(Item::Tag(t)) => self.tag(i, &t),
                _ => {}
            }
        }
        self.flush();
        Compiled {
            nodes: self.nodes,
            literal_len: self.literal_len,
            refs: self.refs.finish(),
        }
    }

    fn top(&self) -> Option<&Frame> {
        self.frames.last()
    }

    fn live(&self) -> bool {
        self.top().is_some_and(|f| f.live)
    }

    fn root_ctx(&self) -> bool {
        self.top().is_some_and(|f| f.root_ctx)
    }

    fn current_strip(&self) -> &'s str {
        self.strip.last().copied().unwrap_or("")
    }

    fn ws(&self, range: Option<(usize, usize)>) -> Option<&'s str> {
        range.map(|(a, b)| text_of(self.src, a, b))
    }

    fn at_line_start(&self, offset: usize) -> bool {
        offset == 0
            || offset
                .checked_sub(1)
                .and_then(|p| self.src.as_bytes().get(p))
                == Some(&b'\n')
    }

    fn text(&mut self, start: usize, end: usize) {
        if !self.live() {
            return;
        }
        let mut piece = text_of(self.src, start, end);
        if self.at_line_start(start) {
            piece = strip_common(piece, self.current_strip());
        }
        self.text.push_str(piece);
    }

    fn flush(&mut self) {
        if !self.text.is_empty() {
            self.literal_len += self.text.len();
            let text = std::mem::take(&mut self.text);
            self.nodes.push(Node::Text(text.into_boxed_str()));
        }
    }

    fn emit(&mut self, node: Node) -> usize {
        self.flush();
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn push_frame(&mut self, kind: FrameKind, node: Option<usize>, live: bool, strips: bool) {
        let root_ctx = self.root_ctx() && kind != FrameKind::Section;
        self.frames.push(Frame {
            kind,
            node,
            live,
            root_ctx,
            strips,
            overrides: Vec::new(),
        });
    }

    fn tag(&mut self, index: usize, t: &TagItem<'s>) {
        let tag = t.tag;
        let live = self.live();
        let pos = self.lines.locate(tag.start);
        match tag.kind {
            TagKind::Comment | TagKind::SetDelim => {}
            TagKind::Var | TagKind::Raw => {
                if live {
                    if self.root_ctx() {
                        self.refs.root_name(tag.name, pos);
                    }
                    self.emit(Node::Var {
                        path: to_path(tag.name),
                        escape: tag.kind == TagKind::Var,
                    });
                }
            }
            TagKind::Section | TagKind::Inverted => {
                let node = live.then(|| {
                    if self.root_ctx() {
                        self.refs.root_name(tag.name, pos);
                    }
                    let path = to_path(tag.name);
                    self.emit(if tag.kind == TagKind::Section {
                        Node::Section { path, end: 0 }
                    } else {
                        Node::Inverted { path, end: 0 }
                    })
                });
                let kind = if tag.kind == TagKind::Section {
                    FrameKind::Section
                } else {
                    FrameKind::Inverted
                };
                self.push_frame(kind, node, live, false);
            }
            TagKind::Partial => {
                if live {
                    self.refs.partial(tag.name, !self.root_ctx(), pos);
                    let include = self.include(t);
                    self.emit(Node::Partial(Box::new(include)));
                }
            }
            TagKind::Parent => {
                let node = live.then(|| {
                    self.refs.partial(tag.name, !self.root_ctx(), pos);
                    let include = self.include(t);
                    self.emit(Node::Parent(Box::new(ParentNode {
                        include,
                        end: 0,
                        overrides: Box::new([]),
                    })))
                });
                self.push_frame(FrameKind::Parent, node, false, false);
            }
            TagKind::Block => {
                // Blocks directly inside an emitted parent are its overrides.
                let live = match self.top() {
                    Some(f) if f.kind == FrameKind::Parent => f.node.is_some(),
                    Some(f) => f.live,
                    None => false,
                };
                let mut strips = false;
                let node = if live {
                    let (strip, indent) = self.block_indent(index, t);
                    let indent = strip_common(indent, self.current_strip());
                    let node = self.emit(Node::Block(Box::new(BlockNode {
                        name: tag.name.into(),
                        end: 0,
                        indent: indent.into(),
                        standalone: t.standalone,
                    })));
                    if let Some(strip) = strip {
                        self.strip.push(strip);
                        strips = true;
                    }
                    Some(node)
                } else {
                    None
                };
                self.push_frame(FrameKind::Block, node, live, strips);
            }
            TagKind::Close => self.close(),
        }
    }

    fn include(&self, t: &TagItem<'s>) -> Include {
        let indent = if t.standalone {
            strip_common(self.ws(t.line_ws).unwrap_or(""), self.current_strip())
        } else {
            ""
        };
        Include {
            name: t.tag.name.into(),
            indent: indent.into(),
            standalone: t.standalone,
        }
    }

    /// Indentation rules for a block opened at item `index`. Returns the indentation
    /// to remove from the start of each content line (if any), and the indentation to
    /// add to each line of whatever content is rendered at this block:
    /// - opening tag standalone: the content's own indentation (that of its first
    ///   non-blank line) is removed, and re-added on rendering, so defaults render as
    ///   written and overrides take the default's indentation; with no default
    ///   content, the opening tag's indentation is used;
    /// - opening tag preceded by whitespace only: that whitespace (it is output
    ///   literally before the first line, and added before the following ones);
    /// - otherwise none.
    fn block_indent(&self, index: usize, t: &TagItem<'s>) -> (Option<&'s str>, &'s str) {
        let tag_ws = self.ws(t.line_ws);
        if !t.standalone {
            return match tag_ws {
                Some(ws) => (Some(ws), ws),
                None => (None, ""),
            };
        }
        let mut found = None;
        for k in index + 1..t.partner {
            match self.items.get(k) {
                Some(Item::Text { removed: true, .. }) => {}
                Some(Item::Text { start, end, .. }) => {
                    let s = text_of(self.src, *start, *end);
                    if !(s.ends_with('\n') && is_blank(s)) {
                        let ws_len = s.len() - s.trim_start_matches([' ', '\t']).len();
                        found = Some(s.get(..ws_len).unwrap_or(""));
                        break;
                    }
                }
                Some(Item::Tag(inner)) => {
                    if inner.standalone
                        && matches!(inner.tag.kind, TagKind::Comment | TagKind::SetDelim)
                    {
                        continue;
                    }
                    found = Some(if inner.standalone {
                        self.ws(inner.line_ws).unwrap_or("")
                    } else {
                        ""
                    });
                    break;
                }
                None => break,
            }
        }
        match found {
            Some(ws) => (Some(ws), ws),
            None => (None, tag_ws.unwrap_or("")),
        }
    }

    fn close(&mut self) {
        self.flush();
        let Some(frame) = self.frames.pop() else {
            return;
        };
        if frame.strips {
            self.strip.pop();
        }
        let end = self.nodes.len();
        let Some(index) = frame.node else {
            return;
        };
        match self.nodes.get_mut(index) {
            Some(Node::Section { end: e, .. }) | Some(Node::Inverted { end: e, .. }) => *e = end,
            Some(Node::Block(b)) => {
                b.end = end;
                let name = b.name.clone();
                if let Some(parent) = self.frames.last_mut() {
                    if parent.kind == FrameKind::Parent
                        && !parent.overrides.iter().any(|(n, _)| *n == name)
                    {
                        parent.overrides.push((name, index));
                    }
                }
            }
            Some(Node::Parent(p)) => {
                p.end = end;
                p.overrides = frame.overrides.into_boxed_slice();
            }
            _ => {}
        }
    }
}
