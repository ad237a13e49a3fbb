//! The edgeprompt ops CLI: validate manifests, preview templates, resolve locally.

mod input;
mod render_cmd;
mod resolve_cmd;
mod validate_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Command outcome: `Ok` exits 0; `Fail` prints to stderr and exits 1; `Usage` exits 2.
pub enum Failure {
    /// A runtime failure: bad manifest, unreadable file, resolve error.
    Fail(Vec<String>),
    /// A usage error: malformed arguments.
    Usage(String),
}

impl Failure {
    fn fail(msg: impl Into<String>) -> Failure {
        Failure::Fail(vec![msg.into()])
    }
}

#[derive(Parser)]
#[command(
    name = "edgeprompt",
    version,
    about = "Deploy prompt versions safely: validate, preview and resolve manifests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a manifest: a summary line when valid, one `PATH: reason` line per problem when not.
    Validate(validate_cmd::Args),
    /// Render a Mustache template with JSON data; prints exactly the rendered bytes.
    Render(render_cmd::Args),
    /// Resolve a prompt for a unit (or for every unit of a file) against a manifest.
    Resolve(resolve_cmd::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(a) => validate_cmd::run(a),
        Command::Render(a) => render_cmd::run(a),
        Command::Resolve(a) => resolve_cmd::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Fail(lines)) => {
            for l in lines {
                eprintln!("{l}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}");
            eprintln!("\nFor more information, try '--help'.");
            ExitCode::from(2)
        }
    }
}
