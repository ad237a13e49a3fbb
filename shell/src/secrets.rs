//! Secrets, read once per isolate and never replaced by a default: a missing, empty or
//! short one is an error naming it.

use std::cell::RefCell;
use std::rc::Rc;
use std::thread::LocalKey;
use worker::Env;

/// The fewest characters a key or token may have (about 128 bits when random hex or
/// base64): a shorter one is refused, so a guessable value never guards anything.
pub const MIN_SECRET_LEN: usize = 32;

// Secrets are fixed for an isolate's lifetime (a change is a new deployment).
thread_local! {
    static SECRETS: NamedCache<Option<Rc<[u8]>>> = const { RefCell::new(Vec::new()) };
}

/// Values derived once per isolate, by name.
pub type NamedCache<T> = RefCell<Vec<(&'static str, T)>>;

/// Why a secret cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretError {
    /// Not set, or empty.
    Missing(&'static str),
    /// A key (or one entry's key) is shorter than [`MIN_SECRET_LEN`].
    TooShort {
        /// The secret.
        name: &'static str,
        /// Which entry of a list (by its name), if the secret is a list.
        entry: Option<String>,
    },
    /// An entry of a list does not have the documented shape.
    Malformed {
        /// The secret.
        name: &'static str,
        /// The entry's position, from 1.
        entry: usize,
        /// The shape expected.
        expected: &'static str,
    },
}

impl SecretError {
    /// The secret's name.
    pub fn name(&self) -> &'static str {
        match self {
            SecretError::Missing(n) => n,
            SecretError::TooShort { name, .. } | SecretError::Malformed { name, .. } => name,
        }
    }
}

impl std::fmt::Display for SecretError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretError::Missing(name) => write!(f, "the secret {name} is not set: add it to .dev.vars locally or with `wrangler secret put {name}`"),
            SecretError::TooShort { name, entry: None } => write!(f, "the secret {name} is shorter than {MIN_SECRET_LEN} characters: use a random value (e.g. `openssl rand -hex 32`)"),
            SecretError::TooShort { name, entry: Some(e) } => write!(f, "the key of \"{e}\" in the secret {name} is shorter than {MIN_SECRET_LEN} characters: use a random value (e.g. `openssl rand -hex 32`)"),
            SecretError::Malformed { name, entry, expected } => write!(f, "entry {entry} of the secret {name} is not {expected}"),
        }
    }
}

/// The value cached under `name`, else `init`'s, which is cached when it succeeds.
pub fn once_per_isolate<T: Clone, E>(
    cache: &'static LocalKey<NamedCache<T>>,
    name: &'static str,
    init: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    let cached = cache.with(|c| {
        c.borrow()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    });
    if let Some(v) = cached {
        return Ok(v);
    }
    let v = init()?;
    cache.with(|c| c.borrow_mut().push((name, v.clone())));
    Ok(v)
}

/// Reads a secret as it is (once per isolate); a missing or empty one is an error.
pub fn secret(env: &Env, name: &'static str) -> Result<Rc<[u8]>, SecretError> {
    let value = once_per_isolate(&SECRETS, name, || {
        Ok::<_, SecretError>(
            env.secret(name)
                .ok()
                .map(|s| s.to_string())
                .filter(|s| !s.trim().is_empty())
                .map(|s| Rc::from(s.into_bytes())),
        )
    })?;
    value.ok_or(SecretError::Missing(name))
}

/// Reads a secret used whole as a key: it must be at least [`MIN_SECRET_LEN`] long.
pub fn key_secret(env: &Env, name: &'static str) -> Result<Rc<[u8]>, SecretError> {
    let key = secret(env, name)?;
    // Whitespace (a newline from `echo ... | wrangler secret put`) adds no strength.
    if String::from_utf8_lossy(&key).trim().len() < MIN_SECRET_LEN {
        return Err(SecretError::TooShort { name, entry: None });
    }
    Ok(key)
}
