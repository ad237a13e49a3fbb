//! The engine's integration tests, in one test binary so that cargo links it once
//! (each file here used to be a test binary of its own). Run one group with
//! `cargo test --test it assignment::`.
//!
//! Proptest keeps the failures it found of a module here in
//! `tests/proptest-regressions/<module>.txt` (beside the directory holding `main.rs`),
//! and replays them before new cases.
//!
//! `tests/no_alloc.rs` stays a binary of its own: it installs a counting
//! `#[global_allocator]`, which holds for a whole binary, so here every test would
//! allocate through it.

mod assignment;
mod conformance;
mod layout;
mod manifest_validation;
mod metrics;
mod mustache_spec;
mod ops;
mod projection;
mod properties;
mod render;
mod render_properties;
mod resolve;
mod rollout;
mod targeting_properties;
