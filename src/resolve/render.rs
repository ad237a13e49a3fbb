//! Rendering a decided version into a [`Target`]: its text, or its chat messages with
//! placeholders expanded, within one output budget per decision.

use super::{RenderedMessage, ResolveError, MAX_RENDERED_BYTES};
use crate::manifest::{Body, CompiledManifest, Message, Version};
use crate::render::{self, Escape, Limits, Partials, RenderError, RenderOptions, Template};
use crate::value::Val;
use serde_json::Value;
use std::borrow::Cow;

/// Where a version's rendered text goes.
pub trait Target<'a> {
    /// Renders `tpl` as the text (`role` is `None`) or as a message's content, with at
    /// most `max_output` bytes; returns the bytes written.
    fn render(
        &mut self,
        role: Option<&'a str>,
        tpl: &'a Template,
        scopes: &[Val<'a>],
        partials: &dyn Partials,
        opts: &RenderOptions,
    ) -> Result<usize, RenderError>;

    /// Adds a message given verbatim by a chat placeholder.
    fn message(&mut self, role: &'a str, content: &'a str);
}

/// Renders into owned strings, for a [`Decision`].
pub(crate) struct Owned<'a> {
    pub(crate) text: Option<String>,
    pub(crate) messages: Option<Vec<RenderedMessage<'a>>>,
    /// Room for the message list when it is started: one allocation of the right size,
    /// as before the `Target` seam, instead of a first push growing an empty list.
    room: usize,
}

impl<'a> Owned<'a> {
    /// Ready for `version`'s messages (placeholders may add more).
    pub(crate) fn for_version(version: &Version) -> Self {
        let room = match &version.body {
            Body::Messages(list) => list.len(),
            Body::Text(_) => 0,
        };
        Owned {
            text: None,
            messages: None,
            room,
        }
    }

    fn messages(&mut self) -> &mut Vec<RenderedMessage<'a>> {
        let room = self.room;
        self.messages
            .get_or_insert_with(|| Vec::with_capacity(room))
    }
}

impl<'a> Target<'a> for Owned<'a> {
    fn render(
        &mut self,
        role: Option<&'a str>,
        tpl: &'a Template,
        scopes: &[Val<'a>],
        partials: &dyn Partials,
        opts: &RenderOptions,
    ) -> Result<usize, RenderError> {
        let max = opts.limits.max_output;
        let mut text = String::with_capacity(render::estimate(tpl, max));
        let written = render::render_values(tpl, scopes, partials, opts, &mut text)?;
        match role {
            None => self.text = Some(text),
            Some(role) => self.messages().push(RenderedMessage {
                role: Cow::Borrowed(role),
                content: Cow::Owned(text),
            }),
        }
        Ok(written)
    }

    fn message(&mut self, role: &'a str, content: &'a str) {
        self.messages().push(RenderedMessage {
            role: Cow::Borrowed(role),
            content: Cow::Borrowed(content),
        });
    }
}

/// Renders a version's text or messages into `target`, within [`MAX_RENDERED_BYTES`].
pub fn render_version<'a>(
    m: &'a CompiledManifest,
    version: &'a Version,
    vars: Option<Val<'a>>,
    target: &mut dyn Target<'a>,
) -> Result<(), ResolveError> {
    let partials = m.partials_for(version);
    let defaults = Val::Json(&version.defaults);
    let scopes_buf = [defaults, vars.unwrap_or(defaults)];
    let scopes: &[Val<'a>] = if vars.is_some() {
        &scopes_buf
    } else {
        &scopes_buf[..1]
    };
    let mut budget = MAX_RENDERED_BYTES;
    let mut opts = RenderOptions {
        escape: Escape::None,
        limits: Limits::default(),
    };
    match &version.body {
        Body::Text(t) => {
            opts.limits.max_output = budget;
            target.render(None, t, scopes, &partials, &opts)?;
        }
        Body::Messages(list) => {
            for msg in list.iter() {
                match msg {
                    Message::Template { role, content } => {
                        opts.limits.max_output = budget;
                        let written =
                            target.render(Some(role), content, scopes, &partials, &opts)?;
                        budget = budget.saturating_sub(written);
                    }
                    Message::Placeholder { variable } => {
                        let value = vars
                            .and_then(|v| v.member(variable))
                            .or_else(|| version.defaults.get(&**variable).map(Val::Json));
                        expand_placeholder(variable, value, &mut budget, target)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn expand_placeholder<'a>(
    name: &str,
    value: Option<Val<'a>>,
    budget: &mut usize,
    target: &mut dyn Target<'a>,
) -> Result<(), ResolveError> {
    let bad = |reason: String| ResolveError::InvalidVariable {
        name: name.to_string(),
        reason,
    };
    let list = match value {
        None => return Ok(()),
        Some(v) if v.is_null() => return Ok(()),
        Some(v) => match (v.as_list(), v.list_len()) {
            (Some(list), _) => list,
            // Packed items are scalars, never {role, content}: the JSON path's answer.
            (None, Some(0)) => return Ok(()),
            (None, Some(_)) => {
                return Err(bad("item 0 needs string \"role\" and \"content\"".into()))
            }
            (None, None) => {
                return Err(bad(
                    "expected a list of {\"role\", \"content\"} messages".into()
                ))
            }
        },
    };
    for (i, item) in list.iter().enumerate() {
        let role = item.get("role").and_then(Value::as_str);
        let content = item.get("content").and_then(Value::as_str);
        let (Some(role), Some(content)) = (role, content) else {
            return Err(bad(format!(
                "item {i} needs string \"role\" and \"content\""
            )));
        };
        if content.len() + role.len() > *budget {
            return Err(RenderError::OutputTooLarge {
                limit: MAX_RENDERED_BYTES,
            }
            .into());
        }
        *budget -= content.len() + role.len();
        // Values are data: inserted verbatim, never parsed as a template.
        target.message(role, content);
    }
    Ok(())
}
