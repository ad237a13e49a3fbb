//! Issuing a decision's event token and its exposure event.

use crate::config::Keys;
use edgeprompt::assign::Assignment;
use edgeprompt::events::token::{self, TokenClaims};
use edgeprompt::events::{Event, Exposure};
use edgeprompt_shell::http::ApiError;
use edgeprompt_shell::platform::{nonce, now_ms};

/// Signs a token for the decision and, when `location` is given (the exposure is
/// recorded), builds its exposure event.
pub fn issue(
    d: &Assignment<'_>,
    unit: &str,
    keys: &Keys,
    location: Option<&str>,
) -> Result<(String, Option<Event>), ApiError> {
    let internal = |e: token::TokenError| ApiError::new(500, "token_error", e.to_string());
    let unit_hash = token::unit_hash(&keys.unit_hash, unit);
    let now = now_ms();
    let claims = TokenClaims::new(d, unit_hash, now, nonce());
    let signed = token::sign(&claims, &keys.signing).map_err(internal)?;
    let Some(location) = location else {
        return Ok((signed, None));
    };
    let id = token::exposure_id(&signed).unwrap_or_default();
    let event = Event::Exposure(Exposure::new(id, claims, now, location.to_string()));
    Ok((signed, Some(event)))
}
