//! Issuing a decision's event token and its exposure event.

use crate::config::Keys;
use edgeprompt::events::token::{self, TokenClaims};
use edgeprompt::events::{Event, Exposure};
use edgeprompt_shell::http::ApiError;
use edgeprompt_shell::platform::{nonce, now_ms};

/// What was decided, as the token records it.
pub struct Decided<'a> {
    /// Prompt.
    pub prompt: &'a str,
    /// Label.
    pub label: &'a str,
    /// Version.
    pub version: u32,
    /// Rule or `default`.
    pub rule: &'a str,
    /// Bucket.
    pub bucket: u16,
    /// Forced-unit rule?
    pub forced: bool,
    /// Manifest revision.
    pub revision: u64,
    /// Route period.
    pub period: &'a str,
}

/// Signs a token for the decision and, when `location` is given (the exposure is
/// recorded), builds its exposure event.
pub fn issue(
    d: &Decided<'_>,
    unit: &str,
    keys: &Keys,
    location: Option<&str>,
) -> Result<(String, Option<Event>), ApiError> {
    let internal = |e: token::TokenError| ApiError::new(500, "token_error", e.to_string());
    let unit_hash = token::unit_hash(&keys.unit_hash, unit);
    let now = now_ms();
    let claims = TokenClaims {
        prompt: d.prompt.to_string(),
        label: d.label.to_string(),
        version: d.version,
        rule: d.rule.to_string(),
        bucket: d.bucket,
        unit_hash: unit_hash.clone(),
        revision: d.revision,
        period: d.period.to_string(),
        forced: d.forced,
        issued_ms: now,
        nonce: nonce(),
    };
    let signed = token::sign(&claims, &keys.signing).map_err(internal)?;
    let Some(location) = location else {
        return Ok((signed, None));
    };
    let id = token::exposure_id(&signed).unwrap_or_default();
    let event = Event::Exposure(Exposure {
        id,
        prompt: claims.prompt,
        label: claims.label,
        version: d.version,
        rule: claims.rule,
        bucket: d.bucket,
        unit_hash,
        revision: d.revision,
        period: claims.period,
        time_ms: now,
        location: location.to_string(),
        forced: d.forced,
    });
    Ok((signed, Some(event)))
}
