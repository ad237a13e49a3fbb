//! What both Workers (the edge and the control plane) share: HTTP plumbing, the
//! platform's clock and randomness, secrets, and the KV layout.

pub mod aggregates;
pub mod http;
pub mod platform;
pub mod secrets;

/// The KV namespace binding that holds manifests.
pub const KV_BINDING: &str = "MANIFESTS";
/// The pointer key: its value is the live revision as decimal text.
pub const POINTER_KEY: &str = "manifest/current";
