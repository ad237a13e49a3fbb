//! Bearer credentials from a list secret: `name:key` entries (`EDGE_KEYS`) or
//! `name:scope:token` entries (`ADMIN_TOKENS`), comma-separated, so that a key can be
//! rotated with two valid at once. Each is checked once per isolate (shape, length) and
//! kept as a digest; a presented key is compared with every entry in constant time.

use crate::secrets::{once_per_isolate, secret, NamedCache, SecretError, MIN_SECRET_LEN};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::rc::Rc;
use subtle::ConstantTimeEq;
use worker::{Env, Request};

/// One credential of a list.
#[derive(Debug, Clone)]
pub struct Credential {
    /// Who holds it (audit logs name it; never the key).
    pub name: String,
    /// Its scope, for lists that have one (`rw`, `ro`, `rw+approve`).
    pub scope: Option<String>,
    digest: [u8; 32],
}

thread_local! {
    static LISTS: NamedCache<Rc<[Credential]>> = const { RefCell::new(Vec::new()) };
}

/// The credentials of a list secret; `scoped` lists have a middle `scope` field.
pub fn credentials(
    env: &Env,
    name: &'static str,
    scoped: bool,
) -> Result<Rc<[Credential]>, SecretError> {
    once_per_isolate(&LISTS, name, || {
        let text = secret(env, name)?;
        parse(name, &String::from_utf8_lossy(&text), scoped).map(Rc::from)
    })
}

/// Parses and checks a list secret.
pub fn parse(name: &'static str, text: &str, scoped: bool) -> Result<Vec<Credential>, SecretError> {
    let expected = if scoped {
        "name:scope:token with scope rw, ro or rw+approve"
    } else {
        "name:key"
    };
    let mut out = Vec::new();
    for (i, entry) in text
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
    {
        let malformed = SecretError::Malformed {
            name,
            entry: i + 1,
            expected,
        };
        let mut parts = entry.splitn(if scoped { 3 } else { 2 }, ':').map(str::trim);
        let who = parts.next().unwrap_or_default();
        let scope = if scoped { parts.next() } else { None };
        let key = parts.next().ok_or_else(|| malformed.clone())?;
        if who.is_empty() || (scoped && !matches!(scope, Some("rw" | "ro" | "rw+approve"))) {
            return Err(malformed);
        }
        if key.len() < MIN_SECRET_LEN {
            return Err(SecretError::TooShort {
                name,
                entry: Some(who.to_string()),
            });
        }
        out.push(Credential {
            name: who.to_string(),
            scope: scope.map(str::to_string),
            digest: Sha256::digest(key.as_bytes()).into(),
        });
    }
    if out.is_empty() {
        return Err(SecretError::Missing(name));
    }
    Ok(out)
}

/// The token of an `Authorization: Bearer` header, if there is one.
pub fn bearer(req: &Request) -> Option<String> {
    bearer_in(&req.headers().get("authorization").ok().flatten()?)
}

/// The token of an `Authorization: Bearer TOKEN` header's value.
pub fn bearer_in(header: &str) -> Option<String> {
    // The scheme's name is case-insensitive (RFC 9110).
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// The credential a presented key belongs to. Every entry is compared, so the time
/// taken does not reveal which one matched, or how much of a key did.
pub fn find<'a>(list: &'a [Credential], given: &str) -> Option<&'a Credential> {
    let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
    let mut found = None;
    for c in list {
        if bool::from(c.digest.ct_eq(&given)) && found.is_none() {
            found = Some(c);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "0123456789abcdef0123456789abcdef";
    const K2: &str = "fedcba9876543210fedcba9876543210";

    #[test]
    fn entries_are_trimmed_and_both_keys_of_a_rotation_match() {
        let list = parse("EDGE_KEYS", &format!(" old : {K1} ,new:{K2}\n"), false).unwrap();
        assert_eq!(find(&list, K1).map(|c| c.name.as_str()), Some("old"));
        assert_eq!(find(&list, K2).map(|c| c.name.as_str()), Some("new"));
        assert!(find(&list, &K1[1..]).is_none());
    }

    #[test]
    fn a_short_key_an_unknown_scope_or_a_missing_part_is_refused_by_name() {
        assert_eq!(
            parse("EDGE_KEYS", &format!("a:{K1},b:short"), false).unwrap_err(),
            SecretError::TooShort {
                name: "EDGE_KEYS",
                entry: Some("b".into())
            }
        );
        assert!(matches!(
            parse("ADMIN_TOKENS", &format!("admin:RW:{K1}"), true),
            Err(SecretError::Malformed { entry: 1, .. })
        ));
        assert!(matches!(
            parse("EDGE_KEYS", K1, false),
            Err(SecretError::Malformed { .. })
        ));
        assert_eq!(
            parse("EDGE_KEYS", " , ", false).unwrap_err(),
            SecretError::Missing("EDGE_KEYS")
        );
        let admin = parse(
            "ADMIN_TOKENS",
            &format!("viewer:ro:{K1},boss:rw+approve:{K2}"),
            true,
        )
        .unwrap();
        assert_eq!(admin[0].scope.as_deref(), Some("ro"));
        assert_eq!(admin[1].scope.as_deref(), Some("rw+approve"));
        assert!(matches!(
            parse("ADMIN_TOKENS", &format!("boss:approve:{K1}"), true),
            Err(SecretError::Malformed { entry: 1, .. })
        ));
    }
}
