//! What both Workers (the edge and the control plane) share: HTTP plumbing, the
//! platform's clock and randomness, secrets, and the KV layout.

pub mod access;
pub mod aggregates;
pub mod http;
pub mod metrics;
pub mod platform;
pub mod secrets;

/// The KV namespace binding that holds manifests.
pub const KV_BINDING: &str = "MANIFESTS";
/// The pointer key: its value is the live revision as decimal text.
pub const POINTER_KEY: &str = "manifest/current";

/// What the pointer says: the live revision and, when the writer knew it, the revision
/// KV served before it (`"12"` or `"12 11"`), which a cold edge serves while the live
/// one's document has not reached its location yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pointer {
    /// The live revision.
    pub revision: u64,
    /// The revision before it, if named.
    pub previous: Option<u64>,
}

impl Pointer {
    /// Parses the pointer's text; `None` when it is not one or two revision numbers.
    pub fn parse(text: &str) -> Option<Pointer> {
        let mut parts = text.split_ascii_whitespace();
        let revision = parts.next()?.parse().ok()?;
        let previous = match parts.next() {
            Some(p) => Some(p.parse().ok()?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Pointer { revision, previous })
    }

    /// The pointer's text.
    pub fn text(&self) -> String {
        match self.previous {
            Some(p) => format!("{} {p}", self.revision),
            None => self.revision.to_string(),
        }
    }
}
