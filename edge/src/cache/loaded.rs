//! One revision as the isolate holds it: a whole manifest compiled at once (the
//! document layout), or an index whose prompts are read and compiled on first use (the
//! per-prompt layout, docs/kv-layout.md).

use super::entries;
use edgeprompt::manifest::layout::{client_key, Index};
use edgeprompt::manifest::{CompiledManifest, Metric};
use edgeprompt::value::canonical::sha256_hex;
use edgeprompt_shell::http::ApiError;
use edgeprompt_shell::platform::now_ms;
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;
use worker::Env;

/// A compiled revision and what is derived from it once.
pub struct Loaded {
    /// The whole manifest, or the index's head (revision and metrics, no prompt).
    head: CompiledManifest,
    index: Option<Index>,
    projection: OnceCell<Rc<(String, String)>>,
    /// Prompts this revision lists whose entry failed to load, with why (for status).
    failed: RefCell<Vec<(Box<str>, String)>>,
}

impl Loaded {
    /// A whole manifest.
    pub fn whole(manifest: CompiledManifest) -> Loaded {
        Loaded {
            head: manifest,
            index: None,
            projection: OnceCell::new(),
            failed: RefCell::default(),
        }
    }

    /// An index and its head.
    pub fn indexed(index: Index, head: CompiledManifest) -> Loaded {
        Loaded {
            head,
            index: Some(index),
            projection: OnceCell::new(),
            failed: RefCell::default(),
        }
    }

    /// The revision.
    pub fn revision(&self) -> u64 {
        self.head.revision()
    }

    /// A declared metric.
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.head.metric(name)
    }

    /// The index, in the per-prompt layout.
    pub fn index(&self) -> Option<&Index> {
        self.index.as_ref()
    }

    /// Prompts whose entry failed to load lately, and why.
    pub fn failed(&self) -> Vec<(Box<str>, String)> {
        self.failed.borrow().clone()
    }

    /// The manifest to decide `prompt` with: the whole manifest, or the prompt's entry
    /// served at this revision (read and compiled on its first use). A prompt the
    /// revision does not list gets the head, on which resolve reports it unknown.
    pub async fn serving(&self, env: &Env, prompt: &str) -> Result<CompiledManifest, ApiError> {
        let Some(index) = &self.index else {
            return Ok(self.head.clone());
        };
        let Some(hash) = index.find(prompt) else {
            return Ok(self.head.clone());
        };
        if let Some(entry) = entries::get(hash) {
            return Ok(entry.with_head(&self.head));
        }
        match entries::load(env, prompt, hash, now_ms()).await {
            Ok(entry) => {
                self.failed.borrow_mut().retain(|(n, _)| &**n != prompt);
                Ok(entry.with_head(&self.head))
            }
            Err(reason) => {
                worker::console_warn!("edgeprompt: prompt {prompt} unavailable: {reason}");
                let mut failed = self.failed.borrow_mut();
                failed.retain(|(n, _)| &**n != prompt);
                failed.push((prompt.into(), reason.clone()));
                Err(ApiError::new(
                    503,
                    "prompt_unavailable",
                    format!(
                        "prompt {prompt} of revision {} cannot be loaded: {reason}",
                        self.revision()
                    ),
                ))
            }
        }
    }

    /// The manifest to decide `prompt` with when nothing needs loading: as
    /// [`Loaded::serving`], but `None` when the prompt's entry is not compiled yet.
    pub fn held(&self, prompt: &str) -> Option<CompiledManifest> {
        let Some(index) = &self.index else {
            return Some(self.head.clone());
        };
        match index.find(prompt) {
            None => Some(self.head.clone()),
            Some(hash) => entries::get(hash).map(|e| e.with_head(&self.head)),
        }
    }

    /// The client projection as JSON text and its ETag: derived once from a whole
    /// manifest, or read once and checked against the index's hash.
    pub async fn projection(&self, env: &Env) -> Result<Rc<(String, String)>, ApiError> {
        if let Some(p) = self.projection.get() {
            return Ok(p.clone());
        }
        let (body, digest) = match &self.index {
            None => {
                let body = self.head.client_projection().to_string();
                let digest = sha256_hex(body.as_bytes());
                (body, digest)
            }
            Some(index) => {
                let hash = index.client_hash();
                let body = read_client(env, hash)
                    .await
                    .map_err(|reason| ApiError::new(503, "projection_unavailable", reason))?;
                (body, hash.to_string())
            }
        };
        let etag = format!(
            "\"{}-{}\"",
            self.revision(),
            digest.get(..16).unwrap_or_default()
        );
        Ok(self
            .projection
            .get_or_init(|| Rc::new((body, etag)))
            .clone())
    }
}

async fn read_client(env: &Env, hash: &str) -> Result<String, String> {
    let key = client_key(hash);
    let text = super::read_text(env, &key).await?;
    let found = sha256_hex(text.as_bytes());
    if found != hash {
        return Err(format!(
            "{key} has hash {found}: not the one its index names"
        ));
    }
    Ok(text)
}
