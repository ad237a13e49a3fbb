//! The edgeprompt ops CLI: validate manifests, preview templates, resolve locally.

mod console_cmd;
mod eval;
mod gates_cmd;
mod input;
mod kv_cmd;
mod remote;
mod render_cmd;
mod resolve_cmd;
mod rollout_cmd;
mod rollout_sim;
mod sources_cmd;
mod validate_cmd;
mod webhooks_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Command outcome: `Ok` exits 0; `Fail` prints to stderr and exits 1; `Usage` exits 2;
/// `Pending` (a change held for approval) prints to stdout and exits 3.
pub enum Failure {
    /// The change was accepted as a pending change: it waits for an approval.
    Pending(Vec<String>),
    /// Refused by the server, with `--json`: its `{"error": ...}` goes to stdout, the
    /// lines to stderr, exit 1.
    Refused(serde_json::Value, Vec<String>),
    /// A runtime failure: bad manifest, unreadable file, resolve error.
    Fail(Vec<String>),
    /// A usage error: malformed arguments.
    Usage(String),
}

/// Prints a line to stdout; a closed pipe (`| head`) ends output quietly.
pub fn out(line: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{line}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::fail(format!("cannot write output: {e}")))
        }
        _ => Ok(()),
    }
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
    /// Validate a manifest file or a sources directory: a summary line when valid, one `PATH: reason` line per problem when not.
    Validate(validate_cmd::Args),
    /// Create a starter prompts/ and snippets/ directory.
    Init(sources_cmd::InitArgs),
    /// Build the manifest that a sources directory publishes (onto --base, if given).
    Build(sources_cmd::BuildArgs),
    /// Render a Mustache template with JSON data; prints exactly the rendered bytes.
    Render(render_cmd::Args),
    /// A manifest's KV entries in the per-prompt layout, for `wrangler kv bulk put FILE --binding MANIFESTS`.
    KvBulk(kv_cmd::Args),
    /// Resolve a prompt for a unit (or for every unit of a file) against a manifest.
    Resolve(resolve_cmd::Args),
    /// Publish a sources directory to the control plane (new versions only).
    Publish(remote::PublishArgs),
    /// Make a label's default serve one version.
    Promote(remote::PromoteArgs),
    /// Set a label's split: VERSION=PERCENT pairs.
    Split(remote::SplitArgs),
    /// Raise a candidate's share, keeping everyone who already has it.
    Ramp(remote::RampArgs),
    /// Restore a label's route from history.
    Rollback(remote::RollbackArgs),
    /// List every revision: who, when, what.
    History(remote::HistoryArgs),
    /// What changed between revisions, or what publishing sources would change.
    Diff(remote::DiffArgs),
    /// What each label serves, with live metrics.
    Status(remote::StatusArgs),
    /// The event pipeline: dead letters, and replaying them.
    Events(remote::EventsArgs),
    /// Webhooks: list, add, remove, test, and each one's delivery log.
    Webhooks(webhooks_cmd::Args),
    /// Print the web console's sign-in link (`URL/console/#token=TOKEN`) and exit.
    Console(console_cmd::Args),
    /// Run the eval suites (prompts/<name>/evals/*.json) against the sources or a live version.
    Eval(eval::Args),
    /// Guarded rollouts: the controller's decision on JSON lines, and its simulation.
    Rollout(rollout_cmd::Args),
    /// A label's promotion policy: show, set or clear (`label policy`).
    Label(gates_cmd::LabelArgs),
    /// Changes waiting for an approval (and recently decided ones).
    Changes(gates_cmd::ChangesArgs),
    /// Approve a pending change (needs a token with scope rw+approve, not the requester's).
    Approve(gates_cmd::DecideArgs),
    /// Reject a pending change (or withdraw your own).
    Reject(gates_cmd::RejectArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(a) => validate_cmd::run(a),
        Command::Init(a) => sources_cmd::init(a),
        Command::Build(a) => sources_cmd::build(a),
        Command::Render(a) => render_cmd::run(a),
        Command::Resolve(a) => resolve_cmd::run(a),
        Command::KvBulk(a) => kv_cmd::run(a),
        Command::Publish(a) => remote::publish(a),
        Command::Promote(a) => remote::promote(a),
        Command::Split(a) => remote::split(a),
        Command::Ramp(a) => remote::ramp(a),
        Command::Rollback(a) => remote::rollback(a),
        Command::History(a) => remote::history(a),
        Command::Diff(a) => remote::diff(a),
        Command::Status(a) => remote::status(a),
        Command::Events(a) => remote::events(a),
        Command::Console(a) => console_cmd::run(a),
        Command::Webhooks(a) => webhooks_cmd::run(a),
        Command::Rollout(a) => rollout_cmd::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Label(a) => gates_cmd::label(a),
        Command::Changes(a) => gates_cmd::changes(a),
        Command::Approve(a) => gates_cmd::approve(a),
        Command::Reject(a) => gates_cmd::reject(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Fail(lines)) => {
            for l in lines {
                eprintln!("{l}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Refused(json, lines)) => {
            let _ = out(&json.to_string());
            for l in lines {
                eprintln!("{l}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Pending(lines)) => {
            for l in lines {
                let _ = out(&l);
            }
            ExitCode::from(3)
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}");
            eprintln!("\nFor more information, try '--help'.");
            ExitCode::from(2)
        }
    }
}
