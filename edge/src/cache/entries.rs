//! Compiled prompt entries (the per-prompt layout), shared by every revision that lists
//! them: a prompt is read and compiled on its first use and kept until the budget
//! evicts it, least recently used first; a revision that leaves a prompt unchanged
//! names the same entry, so nothing is compiled again.

use edgeprompt::manifest::layout::{compile_entry, entry_key};
use edgeprompt::manifest::CompiledManifest;
use std::cell::RefCell;
use std::collections::HashMap;
use worker::Env;

/// Entry text kept compiled, in bytes. Compiled, an entry takes about 19 times its text
/// (measured: 10,000 entries of 8.4 MiB grew the isolate's memory to 161 MiB, most of it
/// the entry's parsed source kept for the raw-template API; BENCHMARKS.md "The edge at
/// its floor"), so 3 MiB of text keeps the compiled prompts near 60 MiB, well inside an
/// isolate's 128 MB.
pub const MAX_HELD_BYTES: usize = 3 * 1024 * 1024;
/// How long an entry that could not be loaded is not asked for again.
const MISSING_TTL_MS: u64 = 5_000;

struct Held {
    name: Box<str>,
    compiled: CompiledManifest,
    bytes: usize,
    used: u64,
}

#[derive(Default)]
struct Entries {
    held: HashMap<Box<str>, Held>,
    bytes: usize,
    tick: u64,
    loads: u64,
    missing: Vec<(String, u64, String)>,
}

thread_local! {
    static ENTRIES: RefCell<Entries> = RefCell::new(Entries::default());
}

/// The compiled entry with this hash, if held.
pub fn get(hash: &str) -> Option<CompiledManifest> {
    ENTRIES.with(|e| {
        let mut e = e.borrow_mut();
        e.tick += 1;
        let tick = e.tick;
        let held = e.held.get_mut(hash)?;
        held.used = tick;
        Some(held.compiled.clone())
    })
}

/// Whether the entry with this hash is held.
pub fn holds(hash: &str) -> bool {
    ENTRIES.with(|e| e.borrow().held.contains_key(hash))
}

/// Names and hashes of the held entries.
pub fn held() -> Vec<(Box<str>, Box<str>)> {
    ENTRIES.with(|e| {
        e.borrow()
            .held
            .iter()
            .map(|(h, held)| (held.name.clone(), h.clone()))
            .collect()
    })
}

/// Reads, checks and compiles prompt `name`'s entry `hash`, and keeps it.
pub async fn load(env: &Env, name: &str, hash: &str, now: u64) -> Result<CompiledManifest, String> {
    if let Some(c) = get(hash) {
        return Ok(c);
    }
    let key = entry_key(name, hash);
    let known = ENTRIES.with(|e| {
        let mut e = e.borrow_mut();
        e.missing
            .retain(|(_, at, _)| now.saturating_sub(*at) < MISSING_TTL_MS);
        e.missing
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, reason)| reason.clone())
    });
    if let Some(reason) = known {
        return Err(reason);
    }
    match read_and_compile(env, name, hash, &key).await {
        Ok((compiled, None)) => Ok(compiled),
        Ok((compiled, Some(bytes))) => {
            insert(name, hash, compiled.clone(), bytes);
            Ok(compiled)
        }
        Err(reason) => {
            ENTRIES.with(|e| e.borrow_mut().missing.push((key, now, reason.clone())));
            Err(reason)
        }
    }
}

async fn read_and_compile(
    env: &Env,
    name: &str,
    hash: &str,
    key: &str,
) -> Result<(CompiledManifest, Option<usize>), String> {
    ENTRIES.with(|e| e.borrow_mut().loads += 1);
    let text = super::read_text(env, key).await?;
    // Concurrent first requests for one prompt may each have read it: the first to
    // finish compiles it, the others use that instead of holding a copy each.
    if let Some(c) = get(hash) {
        return Ok((c, None));
    }
    let compiled = compile_entry(name, hash, &text).map_err(|e| format!("{key}: {e}"))?;
    Ok((compiled, Some(text.len())))
}

fn insert(name: &str, hash: &str, compiled: CompiledManifest, bytes: usize) {
    ENTRIES.with(|e| {
        let mut e = e.borrow_mut();
        e.tick += 1;
        let used = e.tick;
        let held = Held {
            name: name.into(),
            compiled,
            bytes,
            used,
        };
        if let Some(old) = e.held.insert(hash.into(), held) {
            e.bytes -= old.bytes;
        }
        e.bytes += bytes;
        // Evicts least recently used first; the entry just loaded stays even alone over
        // the budget (it is about to be served).
        while e.bytes > MAX_HELD_BYTES && e.held.len() > 1 {
            let oldest = e
                .held
                .iter()
                .filter(|(h, _)| &***h != hash)
                .min_by_key(|(_, held)| held.used)
                .map(|(h, _)| h.clone());
            let Some(oldest) = oldest else { break };
            if let Some(gone) = e.held.remove(&oldest) {
                e.bytes -= gone.bytes;
            }
        }
    });
}

/// What the store holds, for `/v1/status`.
pub struct Stats {
    /// Entries held compiled.
    pub held: usize,
    /// Their text, in bytes.
    pub bytes: usize,
    /// Entries read from KV and compiled by this isolate.
    pub loads: u64,
}

/// The store's figures.
pub fn stats() -> Stats {
    ENTRIES.with(|e| {
        let e = e.borrow();
        Stats {
            held: e.held.len(),
            bytes: e.bytes,
            loads: e.loads,
        }
    })
}
