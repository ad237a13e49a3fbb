//! Webhooks, the pure part: which events a subscription takes, how a delivery is signed
//! and when a failed one is retried. The control plane stores subscriptions, queues a
//! delivery with each audited change and sends them from its alarm.
//!
//! A delivery's signature header is `t=<ms>,v1=<hex>`: HMAC-SHA256 with the webhook's
//! secret over `<ms>.<body>`, so a receiver checks the body and refuses old replays by
//! the time.

use crate::events::token::{MacKey, TokenError};
use crate::value::canonical::hex;

/// The header that carries a delivery's signature.
pub const SIGNATURE_HEADER: &str = "x-edgeprompt-signature";
/// The header that names a delivery's event.
pub const EVENT_HEADER: &str = "x-edgeprompt-event";
/// The header that carries a delivery's id (the same on every attempt).
pub const DELIVERY_HEADER: &str = "x-edgeprompt-delivery";
/// Attempts before a delivery is given up (the last one about 3.4 hours after the first).
pub const MAX_ATTEMPTS: u32 = 12;
/// The first retry's delay; each next one doubles, up to [`MAX_RETRY_DELAY_MS`].
pub const FIRST_RETRY_DELAY_MS: u64 = 10_000;
/// The longest delay between two attempts.
pub const MAX_RETRY_DELAY_MS: u64 = 3_600_000;
/// The longest URL accepted.
pub const MAX_URL_BYTES: usize = 2048;
/// The most event patterns per webhook.
pub const MAX_PATTERNS: usize = 32;

/// Every event a webhook can take: one per audited change's action, the promotion
/// gates' pending changes and policies, and the rollout controller's actions.
pub const EVENTS: &[&str] = &[
    "change.publish",
    "change.label",
    "change.promote",
    "change.split",
    "change.ramp",
    "change.rollback",
    "change.import",
    "change.pending",
    "change.approved",
    "change.rejected",
    "change.failed",
    "policy.set",
    "rollout.start",
    "rollout.advance",
    "rollout.complete",
    "rollout.pause",
    "rollout.resume",
    "rollout.rollback",
    "rollout.abort",
];

/// Why a webhook's settings are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The URL is not https (or http to this machine), or too long.
    #[error("url: {0}")]
    Url(String),
    /// An event pattern matches no event.
    #[error("events[{index}]: \"{pattern}\" is not an event, \"*\", or a prefix such as \"change.*\" ({known})", known = EVENTS.join(", "))]
    Pattern {
        /// The pattern's position.
        index: usize,
        /// The pattern.
        pattern: String,
    },
    /// No pattern, or too many.
    #[error("events: between 1 and {MAX_PATTERNS} patterns")]
    PatternCount,
    /// The secret is too short to sign with, or has whitespace around it.
    #[error("secret: at least 32 characters, without whitespace around them")]
    Secret,
}

/// Whether `event` is one that `patterns` take: `*`, an exact name, or `prefix.*`.
pub fn matches(patterns: &[String], event: &str) -> bool {
    patterns.iter().any(|p| pattern_matches(p, event))
}

fn pattern_matches(pattern: &str, event: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => event.starts_with(prefix) && (prefix.is_empty() || prefix.ends_with('.')),
        None => pattern == event,
    }
}

/// Checks a webhook's URL, event patterns and secret.
pub fn validate(url: &str, patterns: &[String], secret: &str) -> Result<(), WebhookError> {
    validate_url(url)?;
    if patterns.is_empty() || patterns.len() > MAX_PATTERNS {
        return Err(WebhookError::PatternCount);
    }
    for (index, p) in patterns.iter().enumerate() {
        if !EVENTS.iter().any(|e| pattern_matches(p, e)) {
            return Err(WebhookError::Pattern {
                index,
                pattern: p.clone(),
            });
        }
    }
    // Whitespace around a secret is refused, not trimmed: the receiver checks the
    // signature with the secret exactly as it was given.
    if secret.chars().count() < 32 || secret.trim() != secret {
        return Err(WebhookError::Secret);
    }
    Ok(())
}

/// https anywhere; plain http only to this machine (a local receiver).
fn validate_url(url: &str) -> Result<(), WebhookError> {
    if url.len() > MAX_URL_BYTES {
        return Err(WebhookError::Url(format!(
            "longer than {MAX_URL_BYTES} bytes"
        )));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| WebhookError::Url(format!("\"{url}\" is not an absolute URL")))?;
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
    };
    if host.is_empty() || host_port.contains('@') || url.chars().any(char::is_whitespace) {
        return Err(WebhookError::Url(format!("\"{url}\" has no plain host")));
    }
    let local = matches!(host, "localhost" | "127.0.0.1" | "::1");
    match scheme {
        "https" => Ok(()),
        "http" if local => Ok(()),
        _ => Err(WebhookError::Url(format!(
            "\"{url}\": https only (http only to localhost)"
        ))),
    }
}

/// A webhook URL as a read-only reader sees it: scheme and host only, because receivers
/// such as chat services carry their credential in the path or the query.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            if host.len() == rest.len() {
                url.to_string()
            } else {
                format!("{scheme}://{host}/…")
            }
        }
        None => "…".to_string(),
    }
}

/// The signature header's value for `body` sent at `timestamp_ms`.
pub fn sign(secret: &str, timestamp_ms: u64, body: &str) -> Result<String, TokenError> {
    let key = MacKey::new(secret.as_bytes())?;
    let tag = key.tag(format!("{timestamp_ms}.{body}").as_bytes());
    Ok(format!("t={timestamp_ms},v1={}", hex(&tag)))
}

/// How long after failed attempt number `attempt` (from 1) the next one is due; `None`
/// when it was the last.
pub fn retry_delay_ms(attempt: u32) -> Option<u64> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    let doubled = FIRST_RETRY_DELAY_MS.saturating_mul(1u64 << attempt.saturating_sub(1).min(32));
    Some(doubled.min(MAX_RETRY_DELAY_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_redacted_url_keeps_only_scheme_and_host() {
        assert_eq!(
            redact_url("https://hooks.example.com/services/T0/B0/secret"),
            "https://hooks.example.com/…"
        );
        assert_eq!(
            redact_url("https://h.example:8443?token=abc"),
            "https://h.example:8443/…"
        );
        assert_eq!(redact_url("https://h.example"), "https://h.example");
        assert_eq!(redact_url("not a url"), "…");
    }

    #[test]
    fn patterns_match_exact_names_prefixes_and_everything() {
        assert!(matches(&pats(&["*"]), "change.split"));
        assert!(matches(&pats(&["change.*"]), "change.split"));
        assert!(!matches(&pats(&["change.*"]), "rollout.advance"));
        assert!(matches(
            &pats(&["rollout.rollback", "change.rollback"]),
            "change.rollback"
        ));
        assert!(!matches(&pats(&["change.split"]), "change.splitx"));
        // A prefix stops at a dot: "chan*" is not a pattern.
        assert!(!matches(&pats(&["chan*"]), "change.split"));
    }

    #[test]
    fn settings_are_refused_with_the_field_that_is_wrong() {
        let secret = "s".repeat(32);
        assert_eq!(
            validate("https://hooks.example.com/x", &pats(&["*"]), &secret),
            Ok(())
        );
        assert_eq!(
            validate("http://127.0.0.1:9000/h", &pats(&["change.*"]), &secret),
            Ok(())
        );
        assert_eq!(
            validate("http://[::1]:9000/h", &pats(&["change.*"]), &secret),
            Ok(())
        );
        for bad in [
            "http://hooks.example.com/x",
            "ftp://x/y",
            "hooks.example.com",
            "https://u:p@h/x",
            "https:///x",
        ] {
            assert!(
                matches!(
                    validate(bad, &pats(&["*"]), &secret),
                    Err(WebhookError::Url(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(
            validate("https://h/x", &pats(&["*", "nope.*"]), &secret),
            Err(WebhookError::Pattern {
                index: 1,
                pattern: "nope.*".into()
            })
        );
        assert_eq!(
            validate("https://h/x", &[], &secret),
            Err(WebhookError::PatternCount)
        );
        assert_eq!(
            validate("https://h/x", &pats(&["*"]), "short"),
            Err(WebhookError::Secret)
        );
        assert_eq!(
            validate("https://h/x", &pats(&["*"]), &format!(" {secret}")),
            Err(WebhookError::Secret)
        );
    }

    #[test]
    fn the_signature_covers_time_and_body() {
        let secret = "k".repeat(32);
        let a = sign(&secret, 1_000, "{}").unwrap();
        assert!(a.starts_with("t=1000,v1="));
        assert_eq!(a.len(), "t=1000,v1=".len() + 64);
        assert_ne!(a, sign(&secret, 1_001, "{}").unwrap());
        assert_ne!(a, sign(&secret, 1_000, "{ }").unwrap());
        assert_ne!(a, sign(&"j".repeat(32), 1_000, "{}").unwrap());
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), RFC 4231 style vector.
        let key = MacKey::new(b"key").unwrap();
        assert_eq!(
            hex(&key.tag(b"The quick brown fox jumps over the lazy dog")),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn retries_back_off_and_end() {
        assert_eq!(retry_delay_ms(1), Some(10_000));
        assert_eq!(retry_delay_ms(2), Some(20_000));
        assert_eq!(retry_delay_ms(10), Some(MAX_RETRY_DELAY_MS));
        assert_eq!(retry_delay_ms(MAX_ATTEMPTS), None);
        let total: u64 = (1..MAX_ATTEMPTS).filter_map(retry_delay_ms).sum();
        assert!(total > 3 * 3_600_000 && total < 8 * 3_600_000, "{total}");
    }
}
