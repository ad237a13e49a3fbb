//! What both Workers (the edge and the control plane) share: HTTP plumbing, the
//! platform's clock and randomness, secrets, and the KV layout.

pub mod access;
pub mod aggregates;
pub mod http;
pub mod metrics;
pub mod platform;
pub mod secrets;
pub mod zones;

/// The KV namespace binding that holds manifests.
pub const KV_BINDING: &str = "MANIFESTS";
pub use edgeprompt::manifest::layout::{Pointer, POINTER_KEY};
