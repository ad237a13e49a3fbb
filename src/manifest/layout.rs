//! The per-prompt layout of a manifest in KV (docs/kv-layout.md): one self-contained
//! entry per prompt, named by its content hash, and an index of a revision that lists
//! every entry, so that an edge reads and compiles only the prompts it serves and a new
//! revision costs only the prompts whose entries changed.
//!
//! An entry is itself a manifest document of revision 0 with one prompt and the
//! snippets that prompt pins: it is validated and compiled by [`super::compile`], the
//! same code as a whole manifest, and served at a revision through
//! [`CompiledManifest::with_head`]. The index is line-oriented text, prompts sorted by
//! name, so that one prompt is found by binary search without parsing the rest.

use super::{compile_value, CompiledManifest, ManifestError, SCHEMA};
use crate::value::canonical::sha256_hex;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The first line of every index.
pub const INDEX_HEADER: &str = "edgeprompt-index 1";
/// The last line of every index: a truncated one is refused.
const INDEX_END: &str = "end";

/// Why a per-prompt layout was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// The index text is malformed.
    #[error("index line {line}: {reason}")]
    Index {
        /// 1-based line number.
        line: usize,
        /// What is wrong there.
        reason: String,
    },
    /// An entry's bytes do not hash to what the index names.
    #[error("entry of prompt {name:?} has hash {found}, the index names {expected}")]
    Integrity {
        /// The prompt.
        name: String,
        /// The hash the index names.
        expected: String,
        /// The hash of the bytes read.
        found: String,
    },
    /// An entry that is not a valid one-prompt manifest.
    #[error("entry of prompt {name:?}: {error}")]
    Entry {
        /// The prompt.
        name: String,
        /// Why it was refused.
        error: ManifestError,
    },
    /// A valid manifest that is not the entry of this prompt.
    #[error("the entry of prompt {name:?} must hold exactly that prompt, at revision 0")]
    NotAnEntry {
        /// The prompt.
        name: String,
    },
    /// An index whose metrics do not validate.
    #[error("index metrics: {0}")]
    Head(ManifestError),
}

/// The pointer key: the live revision, and in the per-prompt layout its index.
pub const POINTER_KEY: &str = "manifest/current";

/// What the pointer says: the live revision and, when the writer knew it, the revision
/// KV served before it (first line `"12"` or `"12 11"`), which a cold edge serves while
/// the live one's document has not reached its location yet. In the per-prompt layout
/// the revision's index follows on the next lines, so that a cold edge reads the
/// pointer and then only the entry it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pointer {
    /// The live revision.
    pub revision: u64,
    /// The revision before it, if named.
    pub previous: Option<u64>,
}

impl Pointer {
    /// Parses the pointer's first line; `None` when it is not one or two revision numbers.
    pub fn parse(text: &str) -> Option<Pointer> {
        let first = text.split('\n').next().unwrap_or_default();
        let mut parts = first.split_ascii_whitespace();
        let revision = parts.next()?.parse().ok()?;
        let previous = match parts.next() {
            Some(p) => Some(p.parse().ok()?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Pointer { revision, previous })
    }

    /// The index that follows the first line, if any (the per-prompt layout).
    pub fn index(text: &str) -> Option<&str> {
        let (_, rest) = text.split_once('\n')?;
        (!rest.trim().is_empty()).then_some(rest)
    }

    /// The pointer's text, followed by `index` when given.
    pub fn text(&self, index: Option<&str>) -> String {
        let mut out = match self.previous {
            Some(p) => format!("{} {p}", self.revision),
            None => self.revision.to_string(),
        };
        if let Some(index) = index {
            out.push('\n');
            out.push_str(index);
        }
        out
    }
}

/// One prompt's entry: its KV value and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The prompt's name.
    pub name: String,
    /// The entry document (JSON text).
    pub text: String,
    /// Hex SHA-256 of `text`.
    pub hash: String,
}

impl Entry {
    /// The entry's KV key.
    pub fn key(&self) -> String {
        entry_key(&self.name, &self.hash)
    }
}

/// A manifest laid out for KV: its entries, its client projection and its index.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The manifest's revision.
    pub revision: u64,
    /// One entry per prompt, sorted by name.
    pub entries: Vec<Entry>,
    /// The client projection (JSON text) and its hex SHA-256.
    pub client: (String, String),
    /// The index text.
    pub index: String,
}

/// The KV key of a prompt's entry.
pub fn entry_key(name: &str, hash: &str) -> String {
    format!("prompt/{name}/{hash}")
}

/// The KV key of a client projection.
pub fn client_key(hash: &str) -> String {
    format!("client/{hash}")
}

/// The KV key of a revision's document: a whole manifest or an index.
pub fn revision_key(revision: u64) -> String {
    format!("manifest/{revision}")
}

/// Lays out a compiled (so validated) manifest.
pub fn split(m: &CompiledManifest) -> Layout {
    let src = m.source();
    let snippets = src.get("snippets").and_then(Value::as_object);
    let mut entries = Vec::new();
    for (name, prompt) in src
        .get("prompts")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let mut doc = Map::new();
        doc.insert("schema".into(), Value::from(SCHEMA));
        doc.insert("revision".into(), Value::from(0u64));
        let mut one = Map::new();
        one.insert(name.clone(), prompt.clone());
        doc.insert("prompts".into(), Value::Object(one));
        let pinned = pinned_snippets(prompt);
        let kept: Map<String, Value> = snippets
            .into_iter()
            .flatten()
            .filter(|(n, _)| pinned.contains(n.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !kept.is_empty() {
            doc.insert("snippets".into(), Value::Object(kept));
        }
        let text = Value::Object(doc).to_string();
        let hash = sha256_hex(text.as_bytes());
        entries.push(Entry {
            name: name.clone(),
            text,
            hash,
        });
    }
    let client = m.client_projection().to_string();
    let client_hash = sha256_hex(client.as_bytes());
    let metrics = src
        .get("metrics")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let mut index = format!(
        "{INDEX_HEADER}\nrevision {}\nmetrics {metrics}\nclient {client_hash}\nprompts {}\n",
        m.revision(),
        entries.len()
    );
    for e in &entries {
        index.push_str(&e.name);
        index.push(' ');
        index.push_str(&e.hash);
        index.push('\n');
    }
    index.push_str(INDEX_END);
    index.push('\n');
    Layout {
        revision: m.revision(),
        entries,
        client: (client, client_hash),
        index,
    }
}

/// Every snippet any version of `prompt` pins.
fn pinned_snippets(prompt: &Value) -> BTreeSet<&str> {
    prompt
        .get("versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("snippets").and_then(Value::as_object))
        .flat_map(|pins| pins.keys().map(String::as_str))
        .collect()
}

/// A parsed index: its header fields, and its prompt lines kept as text to search.
#[derive(Debug, Clone)]
pub struct Index {
    text: String,
    revision: u64,
    metrics: (usize, usize),
    client: (usize, usize),
    /// Byte range of the prompt lines.
    prompts: (usize, usize),
    count: usize,
}

impl Index {
    /// Reads an index; its prompt lines are checked for shape and order on the way (one
    /// pass, no allocation per line).
    pub fn parse(text: String) -> Result<Index, LayoutError> {
        let bad = |line: usize, reason: &str| LayoutError::Index {
            line,
            reason: reason.to_string(),
        };
        // Byte ranges of each line, read one at a time.
        let mut pos = 0usize;
        let mut line = 0usize;
        let mut next = || -> Result<(usize, usize), LayoutError> {
            line += 1;
            let len = text
                .get(pos..)
                .and_then(|rest| rest.find('\n'))
                .ok_or_else(|| bad(line, "the index ends early"))?;
            let range = (pos, pos + len);
            pos += len + 1;
            Ok((range.0, range.1))
        };
        let at = |(a, b): (usize, usize)| text.get(a..b).unwrap_or_default();
        let field = |range: (usize, usize), no: usize, name: &str| match at(range)
            .strip_prefix(name)
            .and_then(|r| r.strip_prefix(' '))
        {
            Some(value) => Ok((range.1 - value.len(), range.1)),
            None => Err(bad(no, &format!("expected \"{name} ...\""))),
        };
        if at(next()?) != INDEX_HEADER {
            return Err(bad(1, &format!("expected \"{INDEX_HEADER}\"")));
        }
        let revision: u64 = at(field(next()?, 2, "revision")?)
            .parse()
            .map_err(|_| bad(2, "the revision is not a number"))?;
        let metrics = field(next()?, 3, "metrics")?;
        let client = field(next()?, 4, "client")?;
        if !is_hash(at(client)) {
            return Err(bad(4, "the client hash is not 64 lowercase hex digits"));
        }
        let count: usize = at(field(next()?, 5, "prompts")?)
            .parse()
            .map_err(|_| bad(5, "the prompt count is not a number"))?;
        let mut prompts = (0, 0);
        let mut previous: Option<(usize, usize)> = None;
        for i in 0..count {
            let range = next()?;
            let no = 6 + i;
            let (name, hash) = at(range)
                .split_once(' ')
                .ok_or_else(|| bad(no, "expected \"NAME HASH\""))?;
            if name.is_empty() || !is_hash(hash) {
                return Err(bad(no, "expected \"NAME HASH\" with a 64-digit hex hash"));
            }
            let name_at = (range.0, range.0 + name.len());
            if previous.is_some_and(|p| at(p) >= name) {
                return Err(bad(no, "prompts are not sorted by name, or repeat"));
            }
            previous = Some(name_at);
            if i == 0 {
                prompts.0 = range.0;
            }
            prompts.1 = range.1;
        }
        let no = 6 + count;
        let last = next()?;
        if at(last) != INDEX_END {
            return Err(bad(no, "expected \"end\" after the prompt lines"));
        }
        if last.1 + 1 != text.len() {
            return Err(bad(no + 1, "text after \"end\""));
        }
        Ok(Index {
            revision,
            metrics,
            client,
            prompts,
            count,
            text,
        })
    }

    /// The revision it lays out.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// How many prompts it lists.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it lists no prompt.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Its text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The client projection's hash.
    pub fn client_hash(&self) -> &str {
        self.text
            .get(self.client.0..self.client.1)
            .unwrap_or_default()
    }

    /// The entry hash of prompt `name`, by binary search over the prompt lines.
    pub fn find(&self, name: &str) -> Option<&str> {
        let lines = self.text.get(self.prompts.0..self.prompts.1)?;
        let bytes = lines.as_bytes();
        let (mut lo, mut hi) = (0usize, bytes.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            // The line holding byte `mid`: back to its start, on to its end.
            let start = bytes
                .get(lo..mid)
                .and_then(|b| b.iter().rposition(|&c| c == b'\n'))
                .map_or(lo, |i| lo + i + 1);
            let end = bytes
                .get(start..hi)
                .and_then(|b| b.iter().position(|&c| c == b'\n'))
                .map_or(hi, |i| start + i);
            let (n, hash) = lines.get(start..end)?.split_once(' ')?;
            match n.cmp(name) {
                std::cmp::Ordering::Equal => return Some(hash),
                std::cmp::Ordering::Less => lo = end + 1,
                std::cmp::Ordering::Greater => hi = start,
            }
        }
        None
    }

    /// Every (name, hash), in name order.
    pub fn prompts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.text
            .get(self.prompts.0..self.prompts.1)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' '))
    }

    /// The revision's head: a manifest with its revision and metrics and no prompt,
    /// validated as any manifest; entries are served under it.
    pub fn head(&self) -> Result<CompiledManifest, LayoutError> {
        let metrics = self.text.get(self.metrics.0..self.metrics.1).unwrap_or("");
        let metrics: Value = serde_json::from_str(metrics)
            .map_err(|e| LayoutError::Head(ManifestError::Json(e.to_string())))?;
        let mut doc = Map::new();
        doc.insert("schema".into(), Value::from(SCHEMA));
        doc.insert("revision".into(), Value::from(self.revision));
        doc.insert("metrics".into(), metrics);
        doc.insert("prompts".into(), Value::Object(Map::new()));
        compile_value(Value::Object(doc)).map_err(LayoutError::Head)
    }
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks an entry's bytes against the hash its index names, then validates and
/// compiles it as a one-prompt manifest of that name.
pub fn compile_entry(name: &str, hash: &str, text: &str) -> Result<CompiledManifest, LayoutError> {
    let found = sha256_hex(text.as_bytes());
    if found != hash {
        return Err(LayoutError::Integrity {
            name: name.to_string(),
            expected: hash.to_string(),
            found,
        });
    }
    let entry_error = |error| LayoutError::Entry {
        name: name.to_string(),
        error,
    };
    let m = super::compile(text).map_err(entry_error)?;
    if m.prompt_names() != [name] || m.revision() != 0 {
        return Err(LayoutError::NotAnEntry {
            name: name.to_string(),
        });
    }
    Ok(m)
}

/// Puts a revision laid out per prompt back together as one whole manifest (for a
/// control plane adopting what KV serves): each entry checked and validated as the edge
/// does, then the whole validated again.
pub fn assemble<'a>(
    index: &Index,
    entries: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<CompiledManifest, LayoutError> {
    let head = index.head()?;
    let mut prompts = Map::new();
    let mut snippets = Map::new();
    for (name, text) in entries {
        let hash = index.find(name).ok_or_else(|| LayoutError::NotAnEntry {
            name: name.to_string(),
        })?;
        let entry = compile_entry(name, hash, text)?;
        let src = entry.source();
        if let Some(p) = src.get("prompts").and_then(|p| p.get(name)) {
            prompts.insert(name.to_string(), p.clone());
        }
        for (k, v) in src
            .get("snippets")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            snippets.insert(k.clone(), v.clone());
        }
    }
    if prompts.len() != index.len() {
        return Err(LayoutError::Index {
            line: 5,
            reason: format!(
                "{} prompts listed, {} entries given",
                index.len(),
                prompts.len()
            ),
        });
    }
    let mut doc = Map::new();
    doc.insert("schema".into(), Value::from(SCHEMA));
    doc.insert("revision".into(), Value::from(head.revision()));
    if let Some(m) = head.source().get("metrics") {
        if m.as_object().is_some_and(|m| !m.is_empty()) {
            doc.insert("metrics".into(), m.clone());
        }
    }
    if !snippets.is_empty() {
        doc.insert("snippets".into(), Value::Object(snippets));
    }
    doc.insert("prompts".into(), Value::Object(prompts));
    compile_value(Value::Object(doc)).map_err(|error| LayoutError::Entry {
        name: "*".into(),
        error,
    })
}
