//! Signed event tokens: the opaque proof, returned with each decision, that lets a
//! client report outcomes against exactly that exposure.
//!
//! Format: `base64url(payload JSON) "." base64url(HMAC-SHA256(key, first part))`,
//! both without padding. The payload names the decision (prompt, label, version,
//! rule, bucket, period, revision), a keyed hash of the unit (never the unit), the
//! issue time and a nonce. Verification is constant-time and checks expiry against
//! the caller's clock.

use crate::assign::Assignment;
use crate::value::canonical::hex;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Longest token accepted for verification, in bytes.
pub const MAX_TOKEN_BYTES: usize = 2048;
/// Tolerated clock skew for tokens issued "in the future", in milliseconds.
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

/// What a token vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// Prompt name.
    #[serde(rename = "p")]
    pub prompt: String,
    /// Label name.
    #[serde(rename = "l")]
    pub label: String,
    /// Version served.
    #[serde(rename = "v")]
    pub version: u32,
    /// Rule that decided, or `default`.
    #[serde(rename = "r")]
    pub rule: String,
    /// Bucket in [0, 10000).
    #[serde(rename = "b")]
    pub bucket: u16,
    /// Keyed hash of the unit id.
    #[serde(rename = "u")]
    pub unit_hash: String,
    /// Manifest revision of the decision.
    #[serde(rename = "rev")]
    pub revision: u64,
    /// The route's weights period (see `Route::period`).
    #[serde(rename = "per")]
    pub period: String,
    /// Whether a forced-unit rule decided.
    #[serde(rename = "f")]
    pub forced: bool,
    /// Issue time, milliseconds since the Unix epoch.
    #[serde(rename = "iat")]
    pub issued_ms: u64,
    /// A random nonce from the platform (hex), so equal decisions get distinct tokens;
    /// for a decision an npm client made, derived from the decision, so that a resent
    /// exposure keeps its id.
    #[serde(rename = "n")]
    pub nonce: String,
    /// Issued for a decision whose exposure was not recorded (`track: false`): such a
    /// token cannot report outcomes. Absent (tracked) in tokens issued before it existed.
    #[serde(rename = "x", default, skip_serializing_if = "is_false")]
    pub untracked: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl TokenClaims {
    /// The claims for a decision: its identity, the keyed hash of its unit, when it was
    /// issued and a nonce from the platform.
    pub fn new(a: &Assignment<'_>, unit_hash: String, issued_ms: u64, nonce: String) -> Self {
        TokenClaims {
            prompt: a.prompt.to_string(),
            label: a.label.to_string(),
            version: a.version,
            rule: a.rule.to_string(),
            bucket: a.bucket,
            unit_hash,
            revision: a.revision,
            period: a.period.to_string(),
            forced: a.forced,
            issued_ms,
            nonce,
            untracked: false,
        }
    }

    /// The exposure's id: the nonce, which the signature binds to the decision. A
    /// server resolve's nonce is random (each resolve its own exposure); a client
    /// decision's is derived from the decision ([`client_nonce`]), so a token issued
    /// again for it names the same exposure. Costs no hashing on the resolve path.
    pub fn exposure_id(&self) -> String {
        self.nonce.clone()
    }
}

/// The nonce of a decision an npm client made: 32 hex digits of SHA-256 over the
/// prompt, label, version, the unit's keyed hash and the manifest revision, so that the
/// same decision reported again gets the same exposure id.
pub fn client_nonce(a: &Assignment<'_>, unit_hash: &str) -> String {
    let mut bytes = Vec::with_capacity(128);
    for part in [
        a.prompt,
        a.label,
        &a.version.to_string(),
        unit_hash,
        &a.revision.to_string(),
    ] {
        bytes.extend_from_slice(part.as_bytes());
        bytes.push(0xFF);
    }
    let mut id = crate::value::canonical::sha256_hex(&bytes);
    id.truncate(32);
    id
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not two base64url parts, too long, or a payload that is not the claims JSON.
    #[error("malformed token")]
    Malformed,
    /// The signature does not match: forged or tampered.
    #[error("invalid token signature")]
    BadSignature,
    /// Older than the expiry, or issued too far in the future.
    #[error("token expired")]
    Expired,
    /// The signing key is empty.
    #[error("empty signing key")]
    EmptyKey,
}

/// An HMAC-SHA256 key with its inner and outer pads already hashed: each use then costs
/// only the message's blocks (two fewer SHA-256 compressions than keying every time).
#[derive(Clone)]
pub struct MacKey(HmacSha256);

impl MacKey {
    /// Prepares a key; an empty key is refused.
    pub fn new(key: &[u8]) -> Result<MacKey, TokenError> {
        if key.is_empty() {
            return Err(TokenError::EmptyKey);
        }
        HmacSha256::new_from_slice(key)
            .map(MacKey)
            .map_err(|_| TokenError::EmptyKey)
    }

    /// The HMAC-SHA256 tag of `data`.
    pub fn tag(&self, data: &[u8]) -> [u8; 32] {
        self.mac(data).finalize().into_bytes().into()
    }

    fn mac(&self, data: &[u8]) -> HmacSha256 {
        let mut m = self.0.clone();
        m.update(data);
        m
    }
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey(..)")
    }
}

/// Signs claims into a token.
pub fn sign(claims: &TokenClaims, key: &MacKey) -> Result<String, TokenError> {
    let json = serde_json::to_vec(claims).map_err(|_| TokenError::Malformed)?;
    let mut token = URL_SAFE_NO_PAD.encode(json);
    let tag = key.mac(token.as_bytes()).finalize().into_bytes();
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(tag, &mut token);
    Ok(token)
}

/// Verifies a token's signature (constant time) and age; returns its claims.
pub fn verify(
    token: &str,
    key: &MacKey,
    now_ms: u64,
    ttl_ms: u64,
) -> Result<TokenClaims, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed);
    }
    let (body, sig) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| TokenError::Malformed)?;
    key.mac(body.as_bytes())
        .verify_slice(&sig)
        .map_err(|_| TokenError::BadSignature)?;
    let json = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| TokenError::Malformed)?;
    let claims: TokenClaims = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
    let too_old = now_ms.saturating_sub(claims.issued_ms) > ttl_ms;
    let too_new = claims.issued_ms > now_ms.saturating_add(MAX_CLOCK_SKEW_MS);
    if too_old || too_new {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

/// A keyed hash of a unit id (hex HMAC-SHA256, 32 hex digits): events carry this,
/// never the id, and without the key it cannot be linked back to the id.
pub fn unit_hash(key: &MacKey, unit: &str) -> String {
    let tag = key.mac(unit.as_bytes()).finalize().into_bytes();
    tag.get(..16).map(hex).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> TokenClaims {
        TokenClaims {
            prompt: "support".into(),
            label: "production".into(),
            version: 2,
            rule: "default".into(),
            bucket: 9478,
            unit_hash: "ab".repeat(16),
            revision: 12,
            period: "0123456789abcdef".into(),
            forced: false,
            issued_ms: 1_000_000,
            nonce: "00ff".into(),
            untracked: false,
        }
    }

    fn key(k: &[u8]) -> MacKey {
        MacKey::new(k).unwrap()
    }
    const KEY: &[u8] = b"k3y-for-tests";
    const DAY: u64 = 86_400_000;

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let t = sign(&claims(), &key(KEY)).unwrap();
        assert_eq!(
            verify(&t, &key(KEY), 1_000_000 + DAY, 7 * DAY).unwrap(),
            claims()
        );
        assert_eq!(
            verify(&t, &key(KEY), 1_000_000 + 8 * DAY, 7 * DAY),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify(&t, &key(KEY), 1_000_000 - 60_000, 7 * DAY),
            Ok(claims()),
            "within the clock skew"
        );
        assert_eq!(
            verify(&t, &key(KEY), 0, 7 * DAY),
            Err(TokenError::Expired),
            "issued 16 minutes ahead"
        );
    }

    #[test]
    fn forged_and_tampered_tokens_are_refused() {
        let t = sign(&claims(), &key(KEY)).unwrap();
        assert_eq!(
            verify(&t, &key(b"other key"), 1_000_000, DAY),
            Err(TokenError::BadSignature)
        );
        let mut c = claims();
        c.version = 1;
        let forged_body = sign(&c, &key(b"attacker")).unwrap();
        let (body, _) = forged_body.split_once('.').unwrap();
        let (_, sig) = t.split_once('.').unwrap();
        assert_eq!(
            verify(&format!("{body}.{sig}"), &key(KEY), 1_000_000, DAY),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify("nodot", &key(KEY), 0, DAY),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            verify("a.!!", &key(KEY), 0, DAY),
            Err(TokenError::Malformed)
        );
        assert_eq!(MacKey::new(b"").err(), Some(TokenError::EmptyKey));
    }

    #[test]
    fn exposure_ids_follow_the_decision_and_unit_hashes_are_keyed() {
        let a = claims();
        let mut b = claims();
        b.nonce = "0100".into();
        assert_eq!(a.exposure_id(), "00ff");
        assert_ne!(a.exposure_id(), b.exposure_id());
        // Issued again later for the same decision (an npm client's resend): same id.
        let mut again = claims();
        again.issued_ms += 60_000;
        assert_eq!(a.exposure_id(), again.exposure_id());
        let decision = |version, revision| crate::assign::Assignment {
            prompt: "support",
            label: "production",
            version,
            rule: "default",
            bucket: 1,
            forced: false,
            period: "p",
            revision,
        };
        let n = client_nonce(&decision(2, 7), "ab");
        assert_eq!(n.len(), 32);
        assert_eq!(n, client_nonce(&decision(2, 7), "ab"));
        assert_ne!(n, client_nonce(&decision(2, 7), "cd"));
        assert_ne!(n, client_nonce(&decision(1, 7), "ab"));
        assert_ne!(n, client_nonce(&decision(2, 8), "ab"));

        assert_eq!(unit_hash(&key(KEY), "user-1").len(), 32);
        assert_ne!(
            unit_hash(&key(KEY), "user-1"),
            unit_hash(&key(b"k2"), "user-1")
        );
        assert_eq!(
            unit_hash(&key(KEY), "user-1"),
            unit_hash(&key(KEY), "user-1")
        );
        // The prepared key gives the standard HMAC (RFC 4231, test case 2).
        let tag = key(b"Jefe")
            .mac(b"what do ya want for nothing?")
            .finalize()
            .into_bytes();
        assert_eq!(
            hex(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
