//! Standalone lines: text split into line pieces, section-like tags paired, and each
//! line checked for being standalone (only whitespace and tags that render nothing in
//! place), so that such lines are dropped and the whitespace before a standalone
//! partial or parent becomes its indentation.

use super::error::ErrorAt;
use super::lexer::{Tag, TagKind, Token};

/// A tag with what the parser learns about it.
#[derive(Debug, Clone, Copy)]
pub(super) struct TagItem<'s> {
    pub(super) tag: Tag<'s>,
    /// Index of the matching opening/closing item (only for paired tags).
    pub(super) partner: usize,
    /// Index of the innermost enclosing opening tag, if any.
    pub(super) container: Option<usize>,
    /// The tag's line holds only whitespace and tags that render nothing in place,
    /// and was removed.
    pub(super) standalone: bool,
    /// Whitespace before the tag when it is the first thing on its line.
    pub(super) line_ws: Option<(usize, usize)>,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Item<'s> {
    /// `src[start..end]`; contains at most one `\n`, at the end.
    Text {
        start: usize,
        end: usize,
        removed: bool,
    },
    Tag(TagItem<'s>),
}

pub(super) fn split_lines<'s>(src: &str, tokens: &[Token<'s>]) -> Vec<Item<'s>> {
    let mut items = Vec::with_capacity(tokens.len());
    for token in tokens {
        match *token {
            Token::Text { start, end } => {
                let text = src.get(start..end).unwrap_or("");
                let mut offset = start;
                for piece in text.split_inclusive('\n') {
                    items.push(Item::Text {
                        start: offset,
                        end: offset + piece.len(),
                        removed: false,
                    });
                    offset += piece.len();
                }
            }
            Token::Tag(tag) => items.push(Item::Tag(TagItem {
                tag,
                partner: usize::MAX,
                container: None,
                standalone: false,
                line_ws: None,
            })),
        }
    }
    items
}

fn container_word(kind: TagKind) -> &'static str {
    match kind {
        TagKind::Parent => "parent",
        TagKind::Block => "block",
        _ => "section",
    }
}

fn tag_at<'a, 's>(items: &'a [Item<'s>], i: usize) -> Option<&'a TagItem<'s>> {
    match items.get(i) {
        Some(Item::Tag(t)) => Some(t),
        _ => None,
    }
}

fn set_partner(items: &mut [Item<'_>], i: usize, partner: usize) {
    if let Some(Item::Tag(t)) = items.get_mut(i) {
        t.partner = partner;
    }
}

/// Pairs every section, inverted section, parent and block with its closing tag.
pub(super) fn match_pairs(items: &mut [Item<'_>]) -> Result<(), ErrorAt> {
    let mut stack: Vec<usize> = Vec::new();
    for i in 0..items.len() {
        let Some(t) = tag_at(items, i).copied() else {
            continue;
        };
        if let Some(Item::Tag(t)) = items.get_mut(i) {
            t.container = stack.last().copied();
        }
        if t.tag.kind.opens() {
            stack.push(i);
        } else if t.tag.kind == TagKind::Close {
            let name = t.tag.name;
            let Some(open_index) = stack.pop() else {
                return Err(ErrorAt::new(
                    t.tag.start,
                    format!("unexpected closing tag \"{name}\""),
                ));
            };
            let Some(open) = tag_at(items, open_index).copied() else {
                continue;
            };
            if open.tag.name != name {
                return Err(ErrorAt::new(
                    t.tag.start,
                    format!(
                        "unexpected closing tag \"{name}\" (open {} is \"{}\")",
                        container_word(open.tag.kind),
                        open.tag.name
                    ),
                ));
            }
            set_partner(items, open_index, i);
            set_partner(items, i, open_index);
        }
    }
    if let Some(open) = stack.pop().and_then(|i| tag_at(items, i)) {
        return Err(ErrorAt::new(
            open.tag.start,
            format!(
                "unclosed {} \"{}\"",
                container_word(open.tag.kind),
                open.tag.name
            ),
        ));
    }
    Ok(())
}

/// Spaces and tabs only.
fn is_ws(s: &str) -> bool {
    s.bytes().all(|b| b == b' ' || b == b'\t')
}

/// Spaces and tabs, then optionally a line ending (`\n` or `\r\n`).
pub(super) fn is_blank(s: &str) -> bool {
    let body = match s.strip_suffix('\n') {
        Some(rest) => rest.strip_suffix('\r').unwrap_or(rest),
        None => s,
    };
    is_ws(body)
}

pub(super) fn text_of(src: &str, start: usize, end: usize) -> &str {
    src.get(start..end).unwrap_or("")
}

fn ends_line(src: &str, item: Option<&Item<'_>>) -> bool {
    match item {
        Some(Item::Text { end, .. }) => {
            end.checked_sub(1).and_then(|e| src.as_bytes().get(e)) == Some(&b'\n')
        }
        _ => false,
    }
}

/// Finds standalone lines, removes their whitespace and records indentation.
pub(super) fn mark_standalone(src: &str, items: &mut [Item<'_>]) {
    let mut a = 0;
    while a < items.len() {
        let mut b = a;
        while b < items.len() {
            let last = ends_line(src, items.get(b));
            b += 1;
            if last {
                break;
            }
        }
        process_line(src, items, a, b);
        a = b;
    }
}

/// Whether the tags on one line (which holds nothing but whitespace besides them) make
/// it a standalone line. A single tag qualifies unless it is an interpolation. Several
/// tags qualify only when they are all parent and block tags (so `{{<parent}}{{$block}}`
/// and `{{/block}}{{/parent}}` lines vanish), and no block that is not an argument of
/// a parent both opens and closes on the line (`{{$block}}{{/block}}` renders content
/// in place).
fn standalone_tags(items: &[Item<'_>], tags: &[usize], line: std::ops::Range<usize>) -> bool {
    match tags {
        [] => false,
        [one] => {
            tag_at(items, *one).is_some_and(|t| !matches!(t.tag.kind, TagKind::Var | TagKind::Raw))
        }
        _ => tags.iter().all(|&i| {
            let Some(t) = tag_at(items, i) else {
                return false;
            };
            match t.tag.kind {
                TagKind::Parent => true,
                TagKind::Block => {
                    !line.contains(&t.partner)
                        || t.container
                            .and_then(|c| tag_at(items, c))
                            .is_some_and(|c| c.tag.kind == TagKind::Parent)
                }
                TagKind::Close => tag_at(items, t.partner)
                    .is_some_and(|o| matches!(o.tag.kind, TagKind::Parent | TagKind::Block)),
                _ => false,
            }
        }),
    }
}

fn process_line(src: &str, items: &mut [Item<'_>], a: usize, b: usize) {
    let Some(line) = items.get(a..b) else {
        return;
    };
    let mut tags = Vec::new();
    let mut blank = true;
    for (k, item) in line.iter().enumerate() {
        match *item {
            Item::Text { start, end, .. } => blank &= is_blank(text_of(src, start, end)),
            Item::Tag(_) => tags.push(a + k),
        }
    }
    let Some(&first_tag) = tags.first() else {
        return;
    };
    // Whitespace before the first tag, if nothing else precedes it on the line.
    let leading = match line.first() {
        Some(Item::Text { start, end, .. }) if first_tag == a + 1 => {
            is_ws(text_of(src, *start, *end)).then_some((*start, *end))
        }
        Some(Item::Tag(t)) => Some((t.tag.start, t.tag.start)),
        _ => None,
    };
    let standalone = blank && standalone_tags(items, &tags, a..b);
    if let Some(Item::Tag(t)) = items.get_mut(first_tag) {
        t.line_ws = leading;
    }
    if !standalone {
        return;
    }
    for item in items.get_mut(a..b).into_iter().flatten() {
        match item {
            Item::Text { removed, .. } => *removed = true,
            Item::Tag(t) => t.standalone = true,
        }
    }
}

/// Removes from `s` the longest prefix it shares with `prefix`.
pub(super) fn strip_common<'a>(s: &'a str, prefix: &str) -> &'a str {
    let n = s
        .bytes()
        .zip(prefix.bytes())
        .take_while(|(x, y)| x == y)
        .count();
    s.get(n..).unwrap_or(s)
}
