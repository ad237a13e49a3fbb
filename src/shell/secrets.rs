//! Secrets, read once per isolate and never replaced by a default.

use std::cell::RefCell;
use std::rc::Rc;
use worker::Env;

// Secrets are fixed for an isolate's lifetime (a change is a new deployment).
thread_local! {
    static SECRETS: RefCell<Vec<CachedSecret>> = const { RefCell::new(Vec::new()) };
}

/// A secret's name and value (`None` when unset).
type CachedSecret = (&'static str, Option<Rc<[u8]>>);

/// Reads a secret (once per isolate); a missing or empty one is an error naming it,
/// never a default key.
pub fn secret(env: &Env, name: &'static str) -> Result<Rc<[u8]>, &'static str> {
    let cached = SECRETS.with(|s| {
        s.borrow()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    });
    let value = match cached {
        Some(v) => v,
        None => {
            let v = env
                .secret(name)
                .ok()
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
                .map(|s| Rc::from(s.into_bytes()));
            SECRETS.with(|s| s.borrow_mut().push((name, v.clone())));
            v
        }
    };
    value.ok_or(name)
}
