//! `edgeprompt render --template FILE --data FILE [--partials FILE] [--escape html|none]`.

use crate::input::{read_json, read_text};
use crate::Failure;
use edgeprompt::render::{self, Escape, Limits, RenderOptions, Template};
use std::collections::HashMap;
use std::io::Write;

/// Escaping of `{{name}}` interpolations.
#[derive(Clone, Copy, clap::ValueEnum)]
enum EscapeArg {
    /// Insert values verbatim (the default: prompts are not HTML).
    None,
    /// HTML-escape `& < > "` (the Mustache spec's behaviour).
    Html,
}

/// Arguments of `render`.
#[derive(clap::Args)]
pub struct Args {
    /// Template file; `-` reads standard input.
    #[arg(long)]
    template: String,
    /// JSON data file; `-` reads standard input.
    #[arg(long)]
    data: String,
    /// JSON object of partials: name -> template source.
    #[arg(long)]
    partials: Option<String>,
    /// Escaping of {{name}}.
    #[arg(long, value_enum, default_value = "none")]
    escape: EscapeArg,
}

/// Renders and prints exactly the rendered bytes.
pub fn run(a: Args) -> Result<(), Failure> {
    if a.template == "-" && a.data == "-" {
        return Err(Failure::Usage(
            "--template and --data cannot both read standard input".into(),
        ));
    }
    let source = read_text(&a.template)?;
    let template =
        Template::compile(&source).map_err(|e| Failure::fail(format!("{}: {e}", a.template)))?;
    let data = read_json(&a.data)?;
    let mut partials: HashMap<String, Template> = HashMap::new();
    if let Some(path) = &a.partials {
        let value = read_json(path)?;
        let map = value.as_object().ok_or_else(|| {
            Failure::fail(format!("{path}: expected an object of name -> template"))
        })?;
        let mut problems = Vec::new();
        for (name, src) in map {
            match src.as_str().map(Template::compile) {
                Some(Ok(t)) => {
                    partials.insert(name.clone(), t);
                }
                Some(Err(e)) => problems.push(format!("{path}: partial \"{name}\": {e}")),
                None => problems.push(format!("{path}: partial \"{name}\": expected a string")),
            }
        }
        if !problems.is_empty() {
            return Err(Failure::Fail(problems));
        }
    }
    let opts = RenderOptions {
        escape: match a.escape {
            EscapeArg::None => Escape::None,
            EscapeArg::Html => Escape::Html,
        },
        limits: Limits::default(),
    };
    let out = render::render(&template, &[&data], &partials, &opts)
        .map_err(|e| Failure::fail(format!("{}: {e}", a.template)))?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
        .map_err(|e| Failure::fail(format!("cannot write output: {e}")))
}
