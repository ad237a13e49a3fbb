//! edgeprompt: deploy prompt versions the way good teams deploy code.
//!
//! The engine is I/O-free: it takes bytes and values (and the current time, where it
//! needs one) and returns values. Pipeline:
//! [`manifest`] parses, validates and compiles a manifest once; [`assign`] buckets
//! units into versions; [`render`] is the Mustache engine; [`resolve`] turns a compiled
//! manifest and a request into a [`resolve::Decision`]; [`events`] holds the exposure
//! and outcome event schema; [`rollout`] is the guarded rollout's decision; [`policy`] is
//! a label's promotion policy (eval, approval, freeze windows), [`time`] reads its
//! instants. The platforms (CLI, Workers, npm) are crates of their own on top
//! (docs/architecture.md); this crate has no I/O and no platform types.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod assign;
pub mod condition;
pub mod doc;
pub mod events;
pub mod manifest;
pub mod metrics;
pub mod names;
pub mod ops;
pub mod policy;
pub mod render;
pub mod resolve;
pub mod rollout;
pub mod stats;
pub mod time;

/// Internals for this workspace's platform crates (the npm package's per-resolve
/// crossing decides, then renders into its own [`resolve`] target): no stability
/// promise, anything here may change in any release.
pub mod unstable {
    pub use crate::resolve::input::{decide, Input};
    pub use crate::resolve::render::{render_version, Target};
    pub use crate::resolve::request::with_json_input;
}
pub mod value;
pub mod webhook;

/// The version of the behaviour this engine implements: the manifest schema and the
/// decisions, assignments, conditions and renderings it implies. Every platform runs the
/// conformance set in `tests/conformance/` and checks that its `spec_version` equals this.
pub const SPEC_VERSION: u32 = 2;

pub use manifest::{CompiledManifest, ManifestError, Problem};
pub use resolve::{resolve, Decision, Request, ResolveError};
