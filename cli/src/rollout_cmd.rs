//! `edgeprompt rollout ...`: the guarded rollout's decision, line by line
//! (`step`), and over simulated traffic (`simulate`).

use crate::Failure;
use std::io::BufRead;

/// Arguments of `rollout`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

/// The `rollout` subcommands (the control plane's start, status, pause, resume and
/// abort join these).
#[derive(clap::Subcommand)]
enum Command {
    /// Run the controller's decision on JSON lines: one step input a line in, one step output (or {"line", "error"}) a line out; exits 1 if any line failed.
    Step(StepArgs),
    /// Run the decision over simulated traffic and print each scenario's figures against its goal.
    Simulate(crate::rollout_sim::Args),
}

/// Arguments of `rollout step`.
#[derive(clap::Args)]
pub struct StepArgs {
    /// JSON lines, each `{"plan", "metrics", "state", "now_ms", "periods"}`; `-` for standard input.
    #[arg(default_value = "-")]
    file: String,
}

/// Runs a `rollout` subcommand.
pub fn run(a: Args) -> Result<(), Failure> {
    match a.command {
        Command::Step(a) => step(a),
        Command::Simulate(a) => crate::rollout_sim::run(a),
    }
}

/// Answers each non-blank line in order; a line that fails gets an error line in its
/// place (so answers stay aligned with inputs) and the command exits 1 at the end.
fn step(a: StepArgs) -> Result<(), Failure> {
    let reader: Box<dyn BufRead> = if a.file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(&a.file)
            .map_err(|e| Failure::fail(format!("{}: cannot read: {e}", a.file)))?;
        Box::new(std::io::BufReader::new(f))
    };
    let (mut failed, mut total) = (0usize, 0usize);
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let answer = match line {
            Ok(l) if l.trim().is_empty() => continue,
            Ok(l) => edgeprompt::rollout::step_json(&l).map_err(|e| e.to_string()),
            // A line that is not UTF-8 is that line's failure; the next ones still count.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(e.to_string()),
            Err(e) => return Err(Failure::fail(format!("{}: cannot read: {e}", a.file))),
        };
        total += 1;
        match answer {
            Ok(out) => crate::out(&out)?,
            Err(e) => {
                failed += 1;
                let msg = format!("line {n}: {e}");
                crate::out(&serde_json::json!({"line": n, "error": msg}).to_string())?;
            }
        }
    }
    if failed > 0 {
        return Err(Failure::fail(format!(
            "{}: {failed} of {total} line(s) failed",
            a.file
        )));
    }
    Ok(())
}
