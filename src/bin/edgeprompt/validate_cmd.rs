//! `edgeprompt validate FILE`.

use crate::input::load_manifest;
use crate::Failure;
use edgeprompt::manifest::Body;

/// Arguments of `validate`.
#[derive(clap::Args)]
pub struct Args {
    /// The manifest (JSON), `-` for standard input, or a sources directory.
    file: String,
}

/// Validates and prints a one-line summary.
pub fn run(a: Args) -> Result<(), Failure> {
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
