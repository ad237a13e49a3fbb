//! The answer cache on disk: one JSON file per model call, named by the SHA-256 of
//! the call's canonical key (the version's content hash, the case's input, the model
//! settings, the endpoint and the exact request body), so an unchanged version costs
//! no call to re-check.

use edgeprompt::value::canonical::{canonical, sha256_hex};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where answers are kept; `None` when caching is off (`--no-cache`).
#[derive(Debug, Clone)]
pub struct Cache {
    dir: Option<PathBuf>,
}

/// The key of a call: hex SHA-256 of the canonical JSON of its parts.
pub fn key(parts: &Value) -> String {
    sha256_hex(canonical(parts).as_bytes())
}

impl Cache {
    /// A cache in `dir`, or none.
    pub fn new(dir: Option<PathBuf>) -> Cache {
        Cache { dir }
    }

    /// Whether answers are read and kept.
    pub fn enabled(&self) -> bool {
        self.dir.is_some()
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        // Two levels, as git does, so no directory grows too large.
        Some(dir.join(key.get(..2)?).join(format!("{key}.json")))
    }

    /// The kept answer message for `key`, if any (an unreadable entry is a miss).
    pub fn get(&self, key: &str) -> Option<Value> {
        let text = std::fs::read_to_string(self.path(key)?).ok()?;
        let v: Value = serde_json::from_str(&text).ok()?;
        (v["key"] == key).then(|| v["answer"].clone())
    }

    /// Keeps an answer message; written to a temporary file and renamed, so that a
    /// concurrent reader never sees half an entry.
    pub fn put(&self, key: &str, answer: &Value, about: &Value) -> Result<(), String> {
        let Some(path) = self.path(key) else {
            return Ok(());
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let entry = json!({"key": key, "about": about, "answer": answer});
        // Unique per writer: two cases with the same input may write the same key at once.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let n = WRITES.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
        std::fs::write(&tmp, entry.to_string()).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_keys_ignore_key_order() {
        let dir = std::env::temp_dir().join(format!("edgeprompt-cache-{}", std::process::id()));
        let cache = Cache::new(Some(dir.clone()));
        let k = key(&json!({"b": 1, "a": [1.0]}));
        assert_eq!(k, key(&json!({"a": [1], "b": 1})));
        assert_eq!(cache.get(&k), None);
        cache
            .put(&k, &json!({"content": "hi"}), &json!({}))
            .unwrap();
        assert_eq!(cache.get(&k), Some(json!({"content": "hi"})));
        assert_eq!(Cache::new(None).get(&k), None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
