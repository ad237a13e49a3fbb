//! Issuing a decision's event token and its exposure event.

use crate::config::Keys;
use edgeprompt::assign::Assignment;
use edgeprompt::events::token::{self, TokenClaims};
use edgeprompt::events::{Event, Exposure};
use edgeprompt_shell::http::ApiError;
use edgeprompt_shell::platform::{nonce, now_ms};

/// Where a decision's nonce comes from.
pub enum Nonce {
    /// A fresh random one: each server resolve is its own exposure.
    Random,
    /// Derived from a client's decision (the unit's keyed hash and the revision), so
    /// that a resent exposure gets the same exposure id.
    Client,
}

/// Signs a token for the decision and, when `location` is given (the exposure is
/// recorded), builds its exposure event; without one the token is marked untracked
/// and cannot report outcomes.
pub fn issue(
    d: &Assignment<'_>,
    unit: &str,
    keys: &Keys,
    location: Option<&str>,
    nonce_from: Nonce,
) -> Result<(String, Option<Event>), ApiError> {
    let internal = |e: token::TokenError| ApiError::new(500, "token_error", e.to_string());
    let unit_hash = token::unit_hash(&keys.unit_hash, unit);
    let now = now_ms();
    let n = match nonce_from {
        Nonce::Random => nonce(),
        Nonce::Client => token::client_nonce(d, &unit_hash),
    };
    let mut claims = TokenClaims::new(d, unit_hash, now, n);
    claims.untracked = location.is_none();
    let signed = token::sign(&claims, &keys.signing).map_err(internal)?;
    let Some(location) = location else {
        return Ok((signed, None));
    };
    let id = claims.exposure_id();
    let event = Event::Exposure(Exposure::new(id, claims, now, location.to_string()));
    Ok((signed, Some(event)))
}
