//! The compiled manifest in isolate memory: loaded cold on the first request,
//! revalidated in the background after the refresh interval, swapped atomically, never
//! replaced by a lower revision or by a document that fails validation.
//!
//! KV layout: `manifest/current` holds the live revision as decimal text and
//! `manifest/<revision>` the immutable documents. A few recently used revisions stay
//! compiled so that decisions reported by npm clients can be re-derived.

use edgeprompt::manifest::{self, CompiledManifest};
use edgeprompt_shell::http::ApiError;
use edgeprompt_shell::platform::now_ms;
use edgeprompt_shell::{KV_BINDING, POINTER_KEY};
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;
use worker::{console_log, console_warn, Context, Env};

/// Revisions kept compiled besides the current one.
const RECENT: usize = 4;
/// KV's minimum read cache, in seconds (the pointer is read with it).
const POINTER_CACHE_TTL_S: u64 = 30;

/// A compiled manifest and what is derived from it once.
pub struct Loaded {
    /// The compiled manifest.
    pub manifest: CompiledManifest,
    projection: OnceCell<(String, String)>,
}

impl Loaded {
    fn new(manifest: CompiledManifest) -> Loaded {
        Loaded {
            manifest,
            projection: OnceCell::new(),
        }
    }

    /// The client projection as JSON text and its ETag, built on first use.
    pub fn projection(&self) -> (&str, &str) {
        let (body, etag) = self.projection.get_or_init(|| {
            let body = self.manifest.client_projection().to_string();
            let digest = edgeprompt::value::canonical::sha256_hex(body.as_bytes());
            let etag = format!(
                "\"{}-{}\"",
                self.manifest.revision(),
                digest.get(..16).unwrap_or_default()
            );
            (body, etag)
        });
        (body, etag)
    }
}

#[derive(Default)]
struct State {
    current: Option<Rc<Loaded>>,
    checked_ms: u64,
    refreshing: bool,
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
        let due =
            s.current.is_some() && !s.refreshing && now.saturating_sub(s.checked_ms) >= refresh_ms;
        if due {
            s.refreshing = true;
        }
        (s.current.clone(), due)
    });
    if let Some(held) = held {
        if due {
            let env = env.clone();
            ctx.wait_until(async move { revalidate(&env).await });
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

/// The manifest at a given revision (for decisions made by npm clients).
pub async fn at_revision(env: &Env, revision: u64) -> Result<Rc<Loaded>, String> {
    let held = STATE.with(|s| {
        let s = s.borrow();
        s.current
            .iter()
            .chain(s.recent.iter())
            .find(|l| l.manifest.revision() == revision)
            .cloned()
    });
    if let Some(l) = held {
        return Ok(l);
    }
    let loaded = Rc::new(fetch_revision(env, revision).await?);
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
}

/// The isolate's manifest status.
pub fn status() -> Status {
    STATE.with(|s| {
        let s = s.borrow();
        Status {
            revision: s.current.as_ref().map(|l| l.manifest.revision()),
            checked_ms: s.checked_ms,
            recent: s.recent.iter().map(|l| l.manifest.revision()).collect(),
            last_problem: s.last_problem.clone(),
        }
    })
}

/// The held revision, if any.
pub fn held_revision() -> Option<u64> {
    STATE.with(|s| s.borrow().current.as_ref().map(|l| l.manifest.revision()))
}

fn install(loaded: Loaded) -> Rc<Loaded> {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.checked_ms = now_ms();
        s.refreshing = false;
        match &s.current {
            // Another request may have installed something newer meanwhile.
            Some(cur) if cur.manifest.revision() >= loaded.manifest.revision() => cur.clone(),
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

async fn revalidate(env: &Env) {
    let held = held_revision().unwrap_or(0);
    let outcome = match read_pointer(env).await {
        Ok(rev) if rev > held => match fetch_revision(env, rev).await {
            Ok(loaded) => {
                install(loaded);
                console_log!("edgeprompt: now serving manifest revision {rev} (was {held})");
                Ok(())
            }
            Err(reason) => Err(reason),
        },
        Ok(rev) if rev < held => Err(format!(
            "{POINTER_KEY} points at revision {rev}, lower than the held {held}; keeping {held}"
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
        s.refreshing = false;
        if let Err(reason) = outcome {
            s.last_problem = Some((now_ms(), reason));
        }
    });
}

async fn load_current(env: &Env) -> Result<Loaded, String> {
    let rev = read_pointer(env).await?;
    fetch_revision(env, rev).await
}

async fn read_pointer(env: &Env) -> Result<u64, String> {
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
    text.trim().parse::<u64>().map_err(|_| {
        format!(
            "{POINTER_KEY} holds {:?}, not a revision number",
            text.trim()
        )
    })
}

async fn fetch_revision(env: &Env, rev: u64) -> Result<Loaded, String> {
    let key = format!("manifest/{rev}");
    let kv = env
        .kv(KV_BINDING)
        .map_err(|e| format!("KV binding {KV_BINDING}: {e}"))?;
    let text = kv
        .get(&key)
        .text()
        .await
        .map_err(|e| format!("reading {key}: {e}"))?
        .ok_or_else(|| format!("{key} is missing"))?;
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
    Ok(Loaded::new(compiled))
}
