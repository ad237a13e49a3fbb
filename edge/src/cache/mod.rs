//! The manifest in isolate memory: loaded cold on the first request, revalidated in the
//! background after the refresh interval, swapped atomically, never replaced by a lower
//! revision or by anything that fails validation.
//!
//! KV layout (docs/kv-layout.md): `manifest/current` holds the live revision as decimal
//! text, optionally followed by a space and the revision KV served before it; in the
//! per-prompt layout the revision's index follows on the next lines, so a cold request
//! reads the pointer and then only its prompt's entry ([`entries`]). `manifest/<rev>`
//! holds either that index or a whole manifest document (the document layout, which
//! `wrangler kv key put` users keep writing): both are served. KV propagates keys
//! separately, so a cold isolate that cannot read the pointer's document yet serves the
//! previous one (named, or else the revision below) and keeps checking. A few recently
//! used revisions stay loaded so that decisions reported by npm clients can be
//! re-derived.

mod entries;
mod loaded;

pub use loaded::Loaded;

use edgeprompt::manifest::layout::{revision_key, Index, INDEX_HEADER};
use edgeprompt::manifest::{self};
use edgeprompt_shell::http::ApiError;
use edgeprompt_shell::platform::now_ms;
use edgeprompt_shell::{Pointer, KV_BINDING, POINTER_KEY};
use std::cell::RefCell;
use std::rc::Rc;
use worker::{console_log, console_warn, Context, Env};

/// Revisions kept loaded besides the current one; also how far back a decision
/// reported by an npm client may be (`/v1/exposures`).
pub const RECENT: usize = 4;
/// KV's minimum read cache, in seconds (the pointer is read with it).
const POINTER_CACHE_TTL_S: u64 = 30;
/// A background revalidation not settled after this long is given up on: the next
/// request due starts another (one that never settles must not stop updates for good).
pub const REFRESH_TIMEOUT_MS: u64 = 10_000;
/// How long a revision that could not be loaded is not asked for again.
const MISSING_TTL_MS: u64 = 5_000;

#[derive(Default)]
struct State {
    current: Option<Rc<Loaded>>,
    checked_ms: u64,
    /// When the running background revalidation started, if one runs.
    refreshing_since: Option<u64>,
    /// Background revalidations started, for the `refresh_hang` dev fault.
    refreshes: u32,
    /// Documents read from KV and compiled by this isolate.
    loads: u64,
    /// Revisions that could not be loaded lately, and when: not read again for a while.
    missing: Vec<(u64, u64)>,
    recent: Vec<Rc<Loaded>>,
    last_problem: Option<(u64, String)>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// The manifest to serve: the held one (revalidating in the background when due), or a
/// cold load from KV; 503 when none can be loaded.
pub async fn current(env: &Env, ctx: &Context, refresh_ms: u64) -> Result<Rc<Loaded>, ApiError> {
    let now = now_ms();
    let (held, due) = STATE.with(|s| {
        let mut s = s.borrow_mut();
        let idle = s
            .refreshing_since
            .is_none_or(|t| now.saturating_sub(t) >= REFRESH_TIMEOUT_MS);
        let due = s.current.is_some() && idle && now.saturating_sub(s.checked_ms) >= refresh_ms;
        let mut started = None;
        if due {
            if s.refreshing_since.is_some() {
                s.last_problem = Some((
                    now,
                    format!("a revalidation did not settle within {REFRESH_TIMEOUT_MS} ms; started another"),
                ));
            }
            s.refreshing_since = Some(now);
            s.refreshes += 1;
            started = Some((now, s.refreshes));
        }
        (s.current.clone(), started)
    });
    if let Some(held) = held {
        if let Some((started, nth)) = due {
            let env = env.clone();
            let hang = crate::config::Settings::get(&env).faults.refresh_hang >= nth;
            ctx.wait_until(async move {
                if hang {
                    // The dev fault: a revalidation that never settles.
                    worker::Delay::from(std::time::Duration::from_secs(3600)).await;
                }
                revalidate(&env, started).await
            });
        }
        return Ok(held);
    }
    let loaded = load_current(env).await.map_err(|reason| {
        console_warn!("edgeprompt: cold start without a manifest: {reason}");
        STATE.with(|s| s.borrow_mut().last_problem = Some((now_ms(), reason.clone())));
        ApiError::no_manifest(&reason)
    })?;
    Ok(install(loaded))
}

/// The held manifest when no revalidation is due: what the synchronous path
/// (`api::resolve::fast`) serves from; `None` sends a request the loading way.
pub fn held(refresh_ms: u64) -> Option<Rc<Loaded>> {
    let now = now_ms();
    STATE.with(|s| {
        let s = s.borrow();
        let fresh = now.saturating_sub(s.checked_ms) < refresh_ms;
        s.current.clone().filter(|_| fresh)
    })
}

/// The manifest at a given revision (for decisions made by npm clients).
pub async fn at_revision(env: &Env, revision: u64) -> Result<Rc<Loaded>, String> {
    let now = now_ms();
    let held = STATE.with(|s| {
        let mut s = s.borrow_mut();
        if let Some(l) = s.current.as_ref().filter(|l| l.revision() == revision) {
            return Ok(Some(l.clone()));
        }
        // The most recently used stays longest.
        if let Some(i) = s.recent.iter().position(|l| l.revision() == revision) {
            let l = s.recent.remove(i);
            s.recent.insert(0, l.clone());
            return Ok(Some(l));
        }
        s.missing
            .retain(|(_, at)| now.saturating_sub(*at) < MISSING_TTL_MS);
        match s.missing.iter().find(|(r, _)| *r == revision) {
            Some(_) => Err(format!("manifest/{revision} was not readable moments ago")),
            None => Ok(None),
        }
    })?;
    if let Some(l) = held {
        return Ok(l);
    }
    let loaded = match fetch_revision(env, revision).await {
        Ok(l) => Rc::new(l),
        Err(e) => {
            STATE.with(|s| s.borrow_mut().missing.push((revision, now)));
            return Err(e);
        }
    };
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.recent.insert(0, loaded.clone());
        s.recent.truncate(RECENT);
    });
    Ok(loaded)
}

/// What the isolate holds, for `/v1/status`.
pub struct Status {
    /// Revision served, if any.
    pub revision: Option<u64>,
    /// When KV was last checked (ms since the epoch).
    pub checked_ms: u64,
    /// Revisions kept compiled for re-derivation.
    pub recent: Vec<u64>,
    /// The last refusal or failure to update: when, and why.
    pub last_problem: Option<(u64, String)>,
    /// Documents read from KV and compiled by this isolate.
    pub loads: u64,
    /// Whether the held revision uses the per-prompt layout.
    pub per_prompt: bool,
    /// Prompts of the held revision whose entry failed to load, and why.
    pub failed: Vec<(Box<str>, String)>,
    /// Prompt entries held compiled, their text in bytes, and entries read so far.
    pub entries: (usize, usize, u64),
}

/// The isolate's manifest status.
pub fn status() -> Status {
    STATE.with(|s| {
        let s = s.borrow();
        Status {
            revision: s.current.as_ref().map(|l| l.revision()),
            checked_ms: s.checked_ms,
            recent: s.recent.iter().map(|l| l.revision()).collect(),
            last_problem: s.last_problem.clone(),
            loads: s.loads,
            per_prompt: s.current.as_ref().is_some_and(|l| l.index().is_some()),
            failed: s.current.as_ref().map(|l| l.failed()).unwrap_or_default(),
            entries: {
                let e = entries::stats();
                (e.held, e.bytes, e.loads)
            },
        }
    })
}

/// The isolate's Wasm linear memory, in bytes: what its heap has grown to.
pub fn memory_bytes() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size::<0>() * 65_536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

/// The held revision, if any.
pub fn held_revision() -> Option<u64> {
    STATE.with(|s| s.borrow().current.as_ref().map(|l| l.revision()))
}

fn install(loaded: Loaded) -> Rc<Loaded> {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.checked_ms = now_ms();
        match &s.current {
            // Another request may have installed something newer meanwhile.
            Some(cur) if cur.revision() >= loaded.revision() => cur.clone(),
            _ => {
                let new = Rc::new(loaded);
                if let Some(old) = s.current.replace(new.clone()) {
                    s.recent.insert(0, old);
                    s.recent.truncate(RECENT);
                }
                new
            }
        }
    })
}

/// Checks KV for a newer revision and installs it; `started` identifies this run, so
/// that one given up on (timed out) does not clear the mark of its successor.
async fn revalidate(env: &Env, started: u64) {
    let held = held_revision().unwrap_or(0);
    let outcome = match read_pointer(env).await {
        Ok((p, text)) if p.revision > held => match from_pointer(env, p, &text).await {
            Ok(loaded) => match warm(env, &loaded).await {
                Ok(()) => {
                    install(loaded);
                    console_log!(
                        "edgeprompt: now serving manifest revision {} (was {held})",
                        p.revision
                    );
                    Ok(())
                }
                Err(reason) => Err(reason),
            },
            Err(reason) => Err(reason),
        },
        Ok((p, _)) if p.revision < held => Err(format!(
            "{POINTER_KEY} points at revision {}, lower than the held {held}; keeping {held}",
            p.revision
        )),
        Ok(_) => Ok(()),
        Err(reason) => Err(reason),
    };
    if let Err(reason) = &outcome {
        console_warn!("edgeprompt: keeping manifest revision {held}: {reason}");
    }
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.checked_ms = now_ms();
        if s.refreshing_since == Some(started) {
            s.refreshing_since = None;
        }
        if let Err(reason) = outcome {
            s.last_problem = Some((now_ms(), reason));
        }
    });
}

/// Before a new revision in the per-prompt layout is served, compiles the entries it
/// changed among the prompts the held revision serves from memory, so that requests
/// never wait on them; one that fails keeps the held revision serving.
async fn warm(env: &Env, new: &Loaded) -> Result<(), String> {
    let Some(new_index) = new.index() else {
        return Ok(());
    };
    let current = STATE.with(|s| s.borrow().current.clone());
    let Some(old_index) = current.as_ref().and_then(|c| c.index()) else {
        return Ok(());
    };
    let now = now_ms();
    for (name, hash) in entries::held() {
        if old_index.find(&name) != Some(&*hash) {
            continue;
        }
        match new_index.find(&name) {
            Some(h) if !entries::holds(h) => {
                entries::load(env, &name, h, now).await.map_err(|e| {
                    format!("revision {} changes prompt {name}: {e}", new.revision())
                })?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A cold load: the pointer's revision, or when its document cannot be read yet (KV
/// propagates keys separately), the previous one, with the reason kept for
/// `/v1/status`; the next revalidation tries the pointer's revision again.
async fn load_current(env: &Env) -> Result<Loaded, String> {
    let (p, text) = read_pointer(env).await?;
    let newest = match from_pointer(env, p, &text).await {
        Ok(loaded) => return Ok(loaded),
        Err(reason) => reason,
    };
    let previous = p.previous.unwrap_or(p.revision.saturating_sub(1));
    if previous == 0 || previous >= p.revision {
        return Err(newest);
    }
    let loaded = fetch_revision(env, previous)
        .await
        .map_err(|e| format!("{newest}; and the previous revision: {e}"))?;
    let reason = format!(
        "serving revision {previous} until revision {} can be read: {newest}",
        p.revision
    );
    console_warn!("edgeprompt: {reason}");
    STATE.with(|s| s.borrow_mut().last_problem = Some((now_ms(), reason)));
    Ok(loaded)
}

async fn read_pointer(env: &Env) -> Result<(Pointer, String), String> {
    let kv = env
        .kv(KV_BINDING)
        .map_err(|e| format!("KV binding {KV_BINDING}: {e}"))?;
    let text = kv
        .get(POINTER_KEY)
        .cache_ttl(POINTER_CACHE_TTL_S)
        .text()
        .await
        .map_err(|e| format!("reading {POINTER_KEY}: {e}"))?
        .ok_or_else(|| format!("{POINTER_KEY} is missing"))?;
    let p = Pointer::parse(&text).ok_or_else(|| {
        format!(
            "{POINTER_KEY} holds {:?}, not a revision number (optionally followed by the previous one)",
            text.lines().next().unwrap_or_default().trim()
        )
    })?;
    Ok((p, text))
}

/// The revision a pointer names: from the index it carries, else from its document.
async fn from_pointer(env: &Env, p: Pointer, text: &str) -> Result<Loaded, String> {
    match Pointer::index(text) {
        Some(index) => {
            STATE.with(|s| s.borrow_mut().loads += 1);
            from_index(index.to_string(), p.revision, POINTER_KEY)
        }
        None => fetch_revision(env, p.revision).await,
    }
}

fn from_index(text: String, rev: u64, key: &str) -> Result<Loaded, String> {
    let index = Index::parse(text).map_err(|e| format!("{key} is invalid: {e}"))?;
    if index.revision() != rev {
        return Err(format!(
            "{key} holds the index of revision {}, not {rev}",
            index.revision()
        ));
    }
    let head = index.head().map_err(|e| format!("{key} is invalid: {e}"))?;
    Ok(Loaded::indexed(index, head))
}

/// A KV value as text; an error naming the key when it cannot be read or is missing.
pub(super) async fn read_text(env: &Env, key: &str) -> Result<String, String> {
    let kv = env
        .kv(KV_BINDING)
        .map_err(|e| format!("KV binding {KV_BINDING}: {e}"))?;
    kv.get(key)
        .text()
        .await
        .map_err(|e| format!("reading {key}: {e}"))?
        .ok_or_else(|| format!("{key} is missing"))
}

async fn fetch_revision(env: &Env, rev: u64) -> Result<Loaded, String> {
    STATE.with(|s| s.borrow_mut().loads += 1);
    let key = revision_key(rev);
    let text = read_text(env, &key).await?;
    if text.starts_with(INDEX_HEADER) {
        return from_index(text, rev, &key);
    }
    let compiled = manifest::compile(&text).map_err(|e| {
        let lines = e.lines();
        let shown: Vec<&String> = lines.iter().take(5).collect();
        format!("{key} is invalid ({} problem(s)): {:?}", lines.len(), shown)
    })?;
    if compiled.revision() != rev {
        return Err(format!(
            "{key} holds revision {}, not {rev}",
            compiled.revision()
        ));
    }
    Ok(Loaded::whole(compiled))
}
