//! A label's route: ordered targeting rules, then a default, under one salt.

use super::hash::bucket_from;
use super::split::SplitLayout;
use crate::condition::Condition;
use crate::names::NameSet;
use crate::value::canonical::sha256_hex;
use crate::value::Fields;

/// The rule name of a decision made by a route's default (no rule matched).
pub const DEFAULT_RULE: &str = "default";

/// A route's salt when its author sets none: `<prompt>/<label>`, so that two prompts,
/// or two labels, assign independently.
pub fn default_salt(prompt: &str, label: &str) -> String {
    let mut salt = String::with_capacity(prompt.len() + label.len() + 1);
    salt.push_str(prompt);
    salt.push('/');
    salt.push_str(label);
    salt
}

/// The hex SHA-256 under which a forced unit appears in a client projection.
pub fn forced_unit_hash(salt: &str, unit: &str) -> String {
    let mut bytes = Vec::with_capacity(salt.len() + unit.len() + 1);
    bytes.extend_from_slice(salt.as_bytes());
    bytes.push(0xFF);
    bytes.extend_from_slice(unit.as_bytes());
    sha256_hex(&bytes)
}

/// Which version a unit gets, and why: a decision's identity, as its event token and
/// its exposure record it (no rendering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment<'m> {
    /// The prompt's name.
    pub prompt: &'m str,
    /// The label's name as held by the manifest.
    pub label: &'m str,
    /// The version served.
    pub version: u32,
    /// The matching rule's name, or `default`.
    pub rule: &'m str,
    /// The unit's bucket in [0, 10000) under the route's salt.
    pub bucket: u16,
    /// Whether a forced-unit (QA) rule decided it.
    pub forced: bool,
    /// The route's weights period (metrics are kept per period).
    pub period: &'m str,
    /// The revision of the manifest that decided.
    pub revision: u64,
}

/// Where a route is: what an [`Assignment`] names besides the route's own decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteAt<'m> {
    /// The prompt's name.
    pub prompt: &'m str,
    /// The label's name.
    pub label: &'m str,
    /// The manifest's revision.
    pub revision: u64,
}

/// A label's route: ordered rules, then a default.
#[derive(Debug, Clone)]
pub struct Route {
    /// The assignment salt.
    pub salt: Box<str>,
    /// FNV-1a state after the salt and separator (see `assign::salt_state`).
    pub salt_state: u64,
    /// The weights period: 16 hex digits of SHA-256 over the route's canonical JSON
    /// (effective salt, rules, default). Metrics are kept per period, so every change
    /// of weights or rules starts a fresh comparison.
    pub period: Box<str>,
    /// Rules tried in order.
    pub rules: Box<[Rule]>,
    /// The target when no rule matches.
    pub default: Target,
}

/// A targeting rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its name, reported in decisions.
    pub name: Box<str>,
    /// When it applies.
    pub matcher: Matcher,
    /// What it serves.
    pub target: Target,
}

/// What a rule tests.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// A condition on attributes.
    When(Condition),
    /// Forced units for QA, in clear.
    Units(NameSet),
    /// Forced units as hex SHA-256 of `salt ‖ 0xFF ‖ unit` (the client projection).
    UnitHashes(NameSet),
}

/// What a route serves.
#[derive(Debug, Clone)]
pub enum Target {
    /// One version.
    Version(u32),
    /// A weighted split.
    Split(SplitLayout),
}

impl Target {
    /// The version for a unit in `bucket`.
    #[inline]
    pub fn pick(&self, bucket: u16) -> u32 {
        match self {
            Target::Version(v) => *v,
            Target::Split(s) => s.pick(bucket),
        }
    }
}

impl Route {
    /// Whether a rule reads the request's time (`$now`).
    pub fn uses_now(&self) -> bool {
        self.rules
            .iter()
            .any(|r| matches!(&r.matcher, Matcher::When(c) if c.uses_now()))
    }

    /// Runs the rules in order, then the default, for one unit: the first rule whose
    /// condition holds or whose forced units hold the unit decides. `now_ms` is the
    /// request's time for `$now` conditions (milliseconds since the Unix epoch).
    pub fn assign<'m>(
        &'m self,
        at: RouteAt<'m>,
        unit: &str,
        attrs: Option<Fields<'_>>,
        now_ms: Option<i64>,
    ) -> Assignment<'m> {
        let bucket = bucket_from(self.salt_state, unit);
        let attrs = attrs.unwrap_or(Fields::List(&[]));
        let mut unit_hash: Option<String> = None;
        for rule in self.rules.iter() {
            let (hit, forced) = match &rule.matcher {
                Matcher::When(c) => (c.matches_fields(attrs, now_ms), false),
                Matcher::Units(set) => (set.contains(unit), true),
                Matcher::UnitHashes(set) => {
                    let h = unit_hash.get_or_insert_with(|| forced_unit_hash(&self.salt, unit));
                    (set.contains(h.as_str()), true)
                }
            };
            if hit {
                return Assignment {
                    prompt: at.prompt,
                    label: at.label,
                    version: rule.target.pick(bucket),
                    rule: &rule.name,
                    bucket,
                    forced,
                    period: &self.period,
                    revision: at.revision,
                };
            }
        }
        Assignment {
            prompt: at.prompt,
            label: at.label,
            version: self.default.pick(bucket),
            rule: DEFAULT_RULE,
            bucket,
            forced: false,
            period: &self.period,
            revision: at.revision,
        }
    }
}
