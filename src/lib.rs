//! edgeprompt: deploy prompt versions the way good teams deploy code.
//!
//! The engine is I/O-free: it takes bytes and values (and the current time, where it
//! needs one) and returns values. Pipeline:
//! [`manifest`] parses, validates and compiles a manifest once; [`assign`] buckets
//! units into versions; [`render`] is the Mustache engine; [`resolve`] turns a compiled
//! manifest and a request into a [`resolve::Decision`]; [`events`] holds the exposure
//! and outcome event schema. Platform shells live behind cargo features.

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
pub mod canonical;
pub mod condition;
#[cfg(feature = "control")]
pub mod control;
#[cfg(feature = "edge")]
pub mod edge;
pub mod events;
#[cfg(any(test, feature = "js"))]
pub mod heap;
pub mod input;
#[cfg(feature = "js")]
pub mod js;
pub mod manifest;
pub mod names;
pub mod ops;
pub mod packed;
pub mod render;
pub mod resolve;
pub mod semver_precedence;
#[cfg(any(test, feature = "js"))]
pub mod sha256;
#[cfg(any(feature = "edge", feature = "control"))]
pub mod shell;
pub mod stats;

pub use manifest::{CompiledManifest, ManifestError, Problem};
pub use resolve::{resolve, Decision, Request, ResolveError};

// Each Worker exports its own fetch handler: one crate build is one Worker.
#[cfg(any(
    all(feature = "edge", feature = "control"),
    all(feature = "edge", feature = "js"),
    all(feature = "control", feature = "js")
))]
compile_error!(
    "features `edge`, `control` and `js` build different Wasm modules: enable one at a time"
);
