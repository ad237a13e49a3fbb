//! Secrets, read once per isolate and never replaced by a default.

use std::cell::RefCell;
use std::rc::Rc;
use std::thread::LocalKey;
use worker::Env;

// Secrets are fixed for an isolate's lifetime (a change is a new deployment).
thread_local! {
    static SECRETS: NamedCache<Option<Rc<[u8]>>> = const { RefCell::new(Vec::new()) };
}

/// Values derived once per isolate, by name.
pub type NamedCache<T> = RefCell<Vec<(&'static str, T)>>;

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

/// Reads a secret (once per isolate); a missing or empty one is an error naming it,
/// never a default key.
pub fn secret(env: &Env, name: &'static str) -> Result<Rc<[u8]>, &'static str> {
    let value = once_per_isolate(&SECRETS, name, || {
        Ok::<_, &'static str>(
            env.secret(name)
                .ok()
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
                .map(|s| Rc::from(s.into_bytes())),
        )
    })?;
    value.ok_or(name)
}
