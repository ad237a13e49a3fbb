//! Static analysis: which names and partials a template refers to.

use crate::names::NameSet;

/// Names and partials a template refers to, for validating it against known variables
/// and templates before deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    /// First segments of names used where the context is the ROOT scope: interpolations
    /// and section/inverted-section names outside any (non-inverted) section, including
    /// inside inverted sections and blocks at root level. Names used inside a
    /// non-inverted section are excluded (they may come from the section's items).
    /// `.` is excluded. Deduplicated by name, first occurrence kept, in order of appearance.
    pub root_names: Vec<NameRef>,
    /// Partials and parents referenced, with whether the reference sits inside a
    /// non-inverted section; first occurrence per name, in order of appearance.
    pub partials: Vec<PartialRef>,
}

/// A name used at root scope, with the 1-based position of its tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRef {
    /// The first segment of the name (`user` for `{{user.name}}`).
    pub name: String,
    /// 1-based line of the tag.
    pub line: usize,
    /// 1-based column (in characters) of the tag.
    pub column: usize,
}

/// A partial (`{{>name}}`) or parent (`{{<name}}`) reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialRef {
    /// The partial's name.
    pub name: String,
    /// Whether the tag sits inside a non-inverted section.
    pub in_section: bool,
    /// 1-based line of the tag.
    pub line: usize,
    /// 1-based column (in characters) of the tag.
    pub column: usize,
}

/// Accumulates references while a template is compiled.
#[derive(Default)]
pub(crate) struct Collector {
    refs: References,
    names: NameSet,
    partials: NameSet,
}

impl Collector {
    /// Records a context name used at root scope (only its first segment).
    pub(crate) fn root_name(&mut self, name: &str, (line, column): (usize, usize)) {
        if name == "." {
            return;
        }
        let first = name.split('.').next().unwrap_or(name);
        if self.names.add(first) {
            self.refs.root_names.push(NameRef {
                name: first.to_string(),
                line,
                column,
            });
        }
    }

    /// Records a partial or parent reference.
    pub(crate) fn partial(&mut self, name: &str, in_section: bool, (line, column): (usize, usize)) {
        if self.partials.add(name) {
            self.refs.partials.push(PartialRef {
                name: name.to_string(),
                in_section,
                line,
                column,
            });
        }
    }

    pub(crate) fn finish(self) -> References {
        self.refs
    }
}
