//! `edgeprompt init DIR` and `edgeprompt build DIR`: prompt sources as files.

use crate::input::read_json;
use crate::Failure;
use edgeprompt::ops::{self, sources};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Arguments of `init`.
#[derive(clap::Args)]
pub struct InitArgs {
    /// Where to create the starter `prompts/` and `snippets/` directories.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Print the created files as a JSON array.
    #[arg(long)]
    json: bool,
}

/// Arguments of `build`.
#[derive(clap::Args)]
pub struct BuildArgs {
    /// The directory holding `prompts/` (and `snippets/`).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// A live manifest to publish onto (versions keep their numbers; routes stay).
    #[arg(long)]
    base: Option<String>,
}

/// Writes the starter files, refusing to overwrite any.
pub fn init(a: InitArgs) -> Result<(), Failure> {
    let mut files = sources::starter_files();
    files.push(crate::eval::starter_suite());
    for (rel, _) in &files {
        let p = a.dir.join(rel);
        if p.exists() {
            return Err(Failure::fail(format!(
                "{}: already exists; init writes only into an empty place",
                p.display()
            )));
        }
    }
    for (rel, text) in files {
        let p = a.dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::fail(format!("{}: {e}", parent.display())))?;
        }
        std::fs::write(&p, text).map_err(|e| Failure::fail(format!("{}: {e}", p.display())))?;
        crate::out(&format!("created {}", p.display()))?;
    }
    Ok(())
}

/// Reads `prompts/`, `snippets/` and `metrics.json` under `dir` as
/// `relative path -> contents`.
pub fn read_sources(dir: &Path) -> Result<BTreeMap<String, String>, Failure> {
    let mut out = BTreeMap::new();
    let metrics = dir.join("metrics.json");
    if metrics.is_file() {
        let text = std::fs::read_to_string(&metrics)
            .map_err(|e| Failure::fail(format!("{}: {e}", metrics.display())))?;
        out.insert("metrics.json".to_string(), text);
    }
    for top in ["prompts", "snippets"] {
        let root = dir.join(top);
        if !root.exists() {
            continue;
        }
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            let entries = std::fs::read_dir(&d)
                .map_err(|e| Failure::fail(format!("{}: {e}", d.display())))?;
            for entry in entries {
                let path = entry
                    .map_err(|e| Failure::fail(format!("{}: {e}", d.display())))?
                    .path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path
                        .strip_prefix(dir)
                        .unwrap_or(&path)
                        .to_string_lossy()
                        .replace('\\', "/");
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| Failure::fail(format!("{}: {e}", path.display())))?;
                    out.insert(rel, text);
                }
            }
        }
    }
    if !out.keys().any(|k| k.starts_with("prompts/")) {
        return Err(Failure::fail(format!(
            "{}: no prompts/ directory with prompts in it (see `edgeprompt init`)",
            dir.display()
        )));
    }
    Ok(out)
}

/// Builds the manifest the sources publish to, validated by the engine.
pub fn build_manifest(dir: &Path, base: Option<&str>) -> Result<serde_json::Value, Failure> {
    let files = read_sources(dir)?;
    let srcs = sources::sources_from_files(&files).map_err(Failure::Fail)?;
    let base = base.map(read_json).transpose()?;
    let published = ops::publish(base.as_ref(), &srcs).map_err(|e| Failure::fail(e.to_string()))?;
    edgeprompt::manifest::compile_value(published.doc.clone()).map_err(|e| {
        Failure::Fail(
            e.lines()
                .into_iter()
                .map(|l| format!("{}: {l}", dir.display()))
                .collect(),
        )
    })?;
    Ok(published.doc)
}

/// Prints the built manifest.
pub fn build(a: BuildArgs) -> Result<(), Failure> {
    let doc = build_manifest(&a.dir, a.base.as_deref())?;
    let text = serde_json::to_string_pretty(&doc).map_err(|e| Failure::fail(e.to_string()))?;
    crate::out(&text)?;
    Ok(())
}
