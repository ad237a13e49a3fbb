//! Lexer: splits Mustache source into text and tags, following set-delimiter tags.
//!
//! Every token carries byte offsets into the source so later stages can apply the
//! standalone-line rules and report errors with positions.

use super::error::ErrorAt;

/// What a tag does, from its sigil.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagKind {
    /// `{{name}}`: escaped interpolation (when HTML escaping is on).
    Var,
    /// `{{{name}}}` or `{{&name}}`: never escaped.
    Raw,
    /// `{{#name}}`
    Section,
    /// `{{^name}}`
    Inverted,
    /// `{{/name}}`
    Close,
    /// `{{! ... }}`
    Comment,
    /// `{{>name}}`
    Partial,
    /// `{{<name}}`
    Parent,
    /// `{{$name}}`
    Block,
    /// `{{=<% %>=}}`
    SetDelim,
}

impl TagKind {
    /// Tags that open a section-like pair closed by `{{/name}}`.
    pub(crate) fn opens(self) -> bool {
        matches!(
            self,
            TagKind::Section | TagKind::Inverted | TagKind::Parent | TagKind::Block
        )
    }
}

/// One tag: its kind, trimmed content and byte span (delimiters included).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tag<'s> {
    pub kind: TagKind,
    /// Trimmed tag content without sigil; empty for comments and set-delimiter tags.
    pub name: &'s str,
    /// Byte offset of the opening delimiter.
    pub start: usize,
}

/// A lexical token.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Token<'s> {
    /// Literal text `src[start..end]`, never empty.
    Text { start: usize, end: usize },
    /// A tag.
    Tag(Tag<'s>),
}

/// Splits `src` into tokens.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token<'_>>, ErrorAt> {
    let mut tokens = Vec::new();
    let mut open: &str = "{{";
    let mut close: &str = "}}";
    let mut pos = 0;
    while let Some(rest) = src.get(pos..) {
        if rest.is_empty() {
            break;
        }
        let Some(rel) = rest.find(open) else {
            tokens.push(Token::Text {
                start: pos,
                end: src.len(),
            });
            break;
        };
        let tag_start = pos + rel;
        if rel > 0 {
            tokens.push(Token::Text {
                start: pos,
                end: tag_start,
            });
        }
        let inner = tag_start + open.len();
        let body = src.get(inner..).unwrap_or("");
        let sigil = body.chars().next();
        let (kind, content_start, terminator) = match sigil {
            Some('{') => (TagKind::Raw, inner + 1, format!("}}{close}")),
            Some('=') => (TagKind::SetDelim, inner + 1, format!("={close}")),
            Some(c) => match sigil_kind(c) {
                Some(kind) => (kind, inner + c.len_utf8(), close.to_string()),
                None => (TagKind::Var, inner, close.to_string()),
            },
            None => (TagKind::Var, inner, close.to_string()),
        };
        let after = src.get(content_start..).unwrap_or("");
        let Some(content_len) = after.find(terminator.as_str()) else {
            return Err(ErrorAt::new(
                tag_start,
                format!("unclosed tag (expected \"{terminator}\")"),
            ));
        };
        let content = after.get(..content_len).unwrap_or("");
        let end = content_start + content_len + terminator.len();
        let name = content.trim();
        match kind {
            TagKind::Comment => {}
            TagKind::SetDelim => {
                let mut parts = name.split_whitespace();
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(o), Some(c), None) if !o.contains('=') && !c.contains('=') => {
                        open = o;
                        close = c;
                    }
                    _ => {
                        return Err(ErrorAt::new(
                            tag_start,
                            format!("invalid delimiters \"{name}\""),
                        ))
                    }
                }
            }
            _ => validate_name(kind, name, tag_start)?,
        }
        let name = match kind {
            TagKind::Comment | TagKind::SetDelim => "",
            _ => name,
        };
        tokens.push(Token::Tag(Tag {
            kind,
            name,
            start: tag_start,
        }));
        pos = end;
    }
    Ok(tokens)
}

fn sigil_kind(c: char) -> Option<TagKind> {
    Some(match c {
        '&' => TagKind::Raw,
        '#' => TagKind::Section,
        '^' => TagKind::Inverted,
        '/' => TagKind::Close,
        '!' => TagKind::Comment,
        '>' => TagKind::Partial,
        '<' => TagKind::Parent,
        '$' => TagKind::Block,
        _ => return None,
    })
}

/// Checks a tag's trimmed content: non-empty, no inner whitespace, and for names
/// looked up in the context, either `.` or dot-separated non-empty segments.
fn validate_name(kind: TagKind, name: &str, at: usize) -> Result<(), ErrorAt> {
    if name.is_empty() {
        return Err(ErrorAt::new(at, "empty tag"));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(ErrorAt::new(at, format!("invalid name \"{name}\"")));
    }
    let is_context_name = matches!(
        kind,
        TagKind::Var | TagKind::Raw | TagKind::Section | TagKind::Inverted
    );
    if is_context_name && name != "." && name.split('.').any(str::is_empty) {
        return Err(ErrorAt::new(at, format!("invalid name \"{name}\"")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<String> {
        tokenize(src)
            .unwrap()
            .iter()
            .map(|t| match t {
                Token::Text { start, end } => format!("T({})", &src[*start..*end]),
                Token::Tag(t) => format!("{:?}({})", t.kind, t.name),
            })
            .collect()
    }

    #[test]
    fn basic_tokens() {
        assert_eq!(
            kinds("a{{b}}c{{{d}}}{{&e}}{{#f}}{{/f}}{{^g}}{{!x}}{{>p}}{{<q}}{{$r}}"),
            [
                "T(a)",
                "Var(b)",
                "T(c)",
                "Raw(d)",
                "Raw(e)",
                "Section(f)",
                "Close(f)",
                "Inverted(g)",
                "Comment()",
                "Partial(p)",
                "Parent(q)",
                "Block(r)"
            ]
        );
    }

    #[test]
    fn set_delimiters() {
        assert_eq!(
            kinds("{{=<% %>=}}<% a %>{{b}}<%={{ }}=%>{{c}}"),
            ["SetDelim()", "Var(a)", "T({{b}})", "SetDelim()", "Var(c)"]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(tokenize("ab{{x").unwrap_err().offset, 2);
        assert_eq!(tokenize("{{ }}").unwrap_err().message, "empty tag");
        assert_eq!(
            tokenize("{{=a=}}").unwrap_err().message,
            "invalid delimiters \"a\""
        );
        assert_eq!(
            tokenize("{{a..b}}").unwrap_err().message,
            "invalid name \"a..b\""
        );
    }
}
