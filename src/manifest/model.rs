//! The compiled, immutable form of a manifest that resolve reads.

pub use crate::assign::{Matcher, Route, Rule, Target};
pub use crate::names::{NameMap, NameSet};
use crate::render::{Partials, Template};
use serde_json::Value;
use std::sync::Arc;

/// A validated, compiled manifest. Built once, shared read-only by every resolve; its
/// parts are shared, so a clone (or [`CompiledManifest::with_head`]) copies no prompt.
#[derive(Debug, Clone)]
pub struct CompiledManifest {
    pub(crate) schema: u64,
    pub(crate) revision: u64,
    pub(crate) prompts: Arc<NameMap<Prompt>>,
    pub(crate) snippets: Arc<NameMap<Vec<Template>>>,
    pub(crate) metrics: Arc<[(String, Metric)]>,
    pub(crate) source: Arc<Value>,
}

/// One prompt: its versions and labelled routes.
#[derive(Debug, Clone)]
pub struct Prompt {
    /// The prompt's name.
    pub name: Box<str>,
    /// Whether npm clients may receive it.
    pub client: bool,
    /// Versions; `versions[n - 1]` is version n.
    pub versions: Vec<Version>,
    /// Label name -> route, in document order.
    pub labels: Vec<(Box<str>, Route)>,
}

/// One immutable prompt version.
#[derive(Debug, Clone)]
pub struct Version {
    /// Its number, from 1.
    pub number: u32,
    /// Its template(s).
    pub body: Body,
    /// Model settings (`null` when not set).
    pub model: Value,
    /// Tool definitions (`null` when not set).
    pub tools: Value,
    /// Output schema (`null` when not set).
    pub response_format: Value,
    /// Default values of optional variables, as an object.
    pub defaults: Value,
    /// Names of required variables.
    pub required: Box<[Box<str>]>,
    /// Pinned snippets: name -> snippet version.
    pub pins: Box<[(Box<str>, u32)]>,
    /// Hex SHA-256 of the canonical JSON of everything that shapes its output.
    pub hash: String,
}

/// A version's template: one text or chat messages.
#[derive(Debug, Clone)]
pub enum Body {
    /// A single text template.
    Text(Template),
    /// Chat messages.
    Messages(Box<[Message]>),
}

/// One chat message template.
#[derive(Debug, Clone)]
pub enum Message {
    /// A role with a content template.
    Template {
        /// The role (`system`, `user`, ...).
        role: Box<str>,
        /// The content template.
        content: Template,
    },
    /// Expands a list of `{role, content}` messages given in a variable.
    Placeholder {
        /// The variable holding the messages.
        variable: Box<str>,
    },
}

/// A declared metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metric {
    /// How values are aggregated.
    pub kind: MetricKind,
    /// Direction of improvement.
    pub higher_is_better: bool,
}

/// Metric kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// 0/1 per unit: a rate over exposed units.
    Binary,
    /// A number per event: a mean.
    Continuous,
    /// Events per exposed unit.
    Count,
}

/// Resolves partials through a version's pins to compiled snippet versions.
pub struct PinnedPartials<'a> {
    pub(crate) pins: &'a [(Box<str>, u32)],
    pub(crate) snippets: &'a NameMap<Vec<Template>>,
}

impl Partials for PinnedPartials<'_> {
    fn get(&self, name: &str) -> Option<&Template> {
        let (_, version) = self.pins.iter().find(|(n, _)| &**n == name)?;
        let index = usize::try_from(*version).ok()?.checked_sub(1)?;
        self.snippets.get(name)?.get(index)
    }
}

impl CompiledManifest {
    /// The manifest's schema number.
    pub fn schema(&self) -> u64 {
        self.schema
    }

    /// The manifest's revision.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// A prompt by name.
    pub fn prompt(&self, name: &str) -> Option<&Prompt> {
        self.prompts.get(name)
    }

    /// Prompt names, sorted.
    pub fn prompt_names(&self) -> Vec<&str> {
        // Kept sorted already.
        self.prompts.keys().collect()
    }

    /// A declared metric by name.
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|(n, _)| n == name).map(|(_, m)| m)
    }

    /// Declared metrics in document order.
    pub fn metrics_iter(&self) -> impl Iterator<Item = (&str, &Metric)> {
        self.metrics.iter().map(|(n, m)| (n.as_str(), m))
    }

    /// The document the manifest was compiled from.
    pub fn source(&self) -> &Value {
        &self.source
    }

    /// This manifest's prompts and snippets under `head`'s revision and metrics: how a
    /// per-prompt entry (`layout`) is served at the revision whose index names it,
    /// without compiling it again when a new revision leaves it unchanged.
    pub fn with_head(&self, head: &CompiledManifest) -> CompiledManifest {
        CompiledManifest {
            schema: head.schema,
            revision: head.revision,
            prompts: self.prompts.clone(),
            snippets: self.snippets.clone(),
            metrics: head.metrics.clone(),
            source: self.source.clone(),
        }
    }

    /// The partial resolver for one version.
    pub fn partials_for<'a>(&'a self, version: &'a Version) -> PinnedPartials<'a> {
        PinnedPartials {
            pins: &version.pins,
            snippets: &self.snippets,
        }
    }
}

impl Prompt {
    /// A route by label name.
    pub fn route(&self, label: &str) -> Option<&Route> {
        self.labels
            .iter()
            .find(|(n, _)| &**n == label)
            .map(|(_, r)| r)
    }

    /// A version by number.
    pub fn version(&self, number: u32) -> Option<&Version> {
        self.versions
            .get(usize::try_from(number).ok()?.checked_sub(1)?)
    }
}
