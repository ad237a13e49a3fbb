//! `edgeprompt validate FILE`.

use crate::input::load_manifest;
use crate::Failure;
use edgeprompt::manifest::Body;

/// Arguments of `validate`.
#[derive(clap::Args)]
pub struct Args {
    /// The manifest (JSON), `-` for standard input, or a sources directory.
    file: String,
    /// Print `{"valid", "problems", ...}` on stdout instead of lines (exit codes unchanged).
    #[arg(long)]
    json: bool,
}

/// Validates and prints a one-line summary.
pub fn run(a: Args) -> Result<(), Failure> {
    let json = a.json;
    match check(a) {
        Err(Failure::Fail(problems)) if json => {
            crate::out(&serde_json::json!({"valid": false, "problems": problems}).to_string())?;
            Err(Failure::Fail(Vec::new()))
        }
        other => other,
    }
}

fn check(a: Args) -> Result<(), Failure> {
    let m = if std::path::Path::new(&a.file).is_dir() {
        let doc = crate::sources_cmd::build_manifest(std::path::Path::new(&a.file), None)?;
        edgeprompt::manifest::compile_value(doc).map_err(|e| Failure::Fail(e.lines()))?
    } else {
        load_manifest(&a.file)?
    };
    let names = m.prompt_names();
    let (mut versions, mut labels, mut chat) = (0, 0, 0);
    for name in &names {
        if let Some(p) = m.prompt(name) {
            versions += p.versions.len();
            labels += p.labels.len();
            chat += p
                .versions
                .iter()
                .filter(|v| matches!(v.body, Body::Messages(_)))
                .count();
        }
    }
    if a.json {
        return crate::out(
            &serde_json::json!({"valid": true, "problems": [], "schema": m.schema(), "revision": m.revision(),
                "prompts": names.len(), "versions": versions, "chat_versions": chat, "labels": labels})
            .to_string(),
        );
    }
    crate::out(&format!(
        "{}: valid: schema {}, revision {}, {} prompt(s), {} version(s) ({} chat), {} label(s)",
        a.file,
        m.schema(),
        m.revision(),
        names.len(),
        versions,
        chat,
        labels
    ))?;
    Ok(())
}
