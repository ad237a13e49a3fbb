//! `edgeprompt rollout ...`: guarded rollouts on the control plane (`start`, `status`,
//! `pause`, `resume`, `abort`, `check`), and the controller's decision, line by line
//! (`step`), and over simulated traffic (`simulate`).

use crate::remote::Remote;
use crate::{out, Failure};
use serde_json::{json, Value};
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
    /// Start a guarded rollout of a candidate on a label that serves one version now.
    Start(StartArgs),
    /// A label's rollout: stage, status, the last decision and its evidence, the log.
    Status(LabelArgs),
    /// Stop advancing (a guardrail still rolls back).
    Pause(LabelArgs),
    /// Go on from a pause (the sample-ratio state so far is accepted).
    Resume(LabelArgs),
    /// End the rollout; the label keeps its current split (then split, ramp, promote or roll back by hand).
    Abort(LabelArgs),
    /// Run the controller for the label now instead of at its next interval.
    Check(LabelArgs),
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

/// Arguments of `rollout start`.
#[derive(clap::Args)]
pub struct StartArgs {
    #[command(flatten)]
    remote: Remote,
    /// The prompt.
    prompt: String,
    /// The candidate version.
    #[arg(long)]
    candidate: u64,
    /// The label.
    #[arg(long, default_value = "production")]
    label: String,
    /// The stages, the candidate's percent at each, comma-separated, ending at 100.
    #[arg(long, value_delimiter = ',', default_value = "1,10,50,100")]
    stages: Vec<f64>,
    /// Candidate exposed units each stage needs before it may advance.
    #[arg(long, default_value_t = 500)]
    min_units: u64,
    /// Minimum time per stage, in minutes.
    #[arg(long, default_value_t = 60)]
    min_minutes: u64,
    /// A guardrail: METRIC, or METRIC:MAX_REGRESSION (absolute, in the metric's unit);
    /// repeat for several.
    #[arg(long = "guardrail")]
    guardrails: Vec<String>,
    /// The guardrails' error rate, together.
    #[arg(long)]
    alpha: Option<f64>,
    /// What a tripped guardrail does: rollback or pause.
    #[arg(long)]
    on_trip: Option<String>,
    /// How often the controller checks, in minutes.
    #[arg(long)]
    every_minutes: Option<f64>,
}

/// A label's rollout.
#[derive(clap::Args)]
pub struct LabelArgs {
    #[command(flatten)]
    remote: Remote,
    /// The prompt.
    prompt: String,
    /// The label.
    #[arg(long, default_value = "production")]
    label: String,
}

/// Runs a `rollout` subcommand.
pub fn run(a: Args) -> Result<(), Failure> {
    match a.command {
        Command::Start(a) => start(a),
        Command::Status(a) => control(a, None),
        Command::Pause(a) => control(a, Some("pause")),
        Command::Resume(a) => control(a, Some("resume")),
        Command::Abort(a) => control(a, Some("abort")),
        Command::Check(a) => control(a, Some("check")),
        Command::Step(a) => step(a),
        Command::Simulate(a) => crate::rollout_sim::run(a),
    }
}

fn start(a: StartArgs) -> Result<(), Failure> {
    let mut guardrails = Vec::new();
    for g in &a.guardrails {
        let (metric, tolerance) = match g.split_once(':') {
            Some((m, t)) => {
                let t: f64 = t.parse().map_err(|_| {
                    Failure::Usage(format!("--guardrail {g}: \"{t}\" is not a number"))
                })?;
                (m, t)
            }
            None => (g.as_str(), 0.0),
        };
        guardrails.push(json!({"metric": metric, "max_regression": tolerance}));
    }
    let mut body = json!({
        "prompt": a.prompt,
        "label": a.label,
        "candidate": a.candidate,
        "stages": a.stages,
        "min_units": a.min_units,
        "min_duration_ms": a.min_minutes * 60_000,
        "guardrails": guardrails,
    });
    if let Some(alpha) = a.alpha {
        body["alpha"] = json!(alpha);
    }
    if let Some(on_trip) = a.on_trip {
        body["on_trip"] = json!(on_trip);
    }
    if let Some(m) = a.every_minutes {
        body["check_interval_ms"] = json!((m * 60_000.0).round() as u64);
    }
    let v = a.remote.post_based("rollouts", body)?;
    show(&a.remote, &v)
}

fn control(a: LabelArgs, op: Option<&str>) -> Result<(), Failure> {
    let path = format!("rollouts/{}/{}", a.prompt, a.label);
    let v = match op {
        None => a.remote.get(&path)?,
        Some(op) => a.remote.post_as_is(&format!("{path}/{op}"), json!({}))?,
    };
    show(&a.remote, &v)
}

/// A rollout as lines: where it stands, the last decision, the log.
fn show(remote: &Remote, v: &Value) -> Result<(), Failure> {
    if remote.wants_json() {
        return out(&v.to_string());
    }
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let stages = v["plan"]["stages"].as_array().map_or(0, Vec::len);
    let percent = v["stages"]
        .as_array()
        .and_then(|a| a.last())
        .and_then(|st| st["percent"].as_f64())
        .map_or("?".to_string(), |p| {
            // 5.0 reads 5, 0.5 reads 0.5.
            if p.fract() == 0.0 {
                format!("{p:.0}")
            } else {
                format!("{p}")
            }
        });
    out(&format!(
        "{}/{}: {} at stage {} of {} (version {} at {}%, control version {})",
        s(&v["prompt"]),
        s(&v["label"]),
        s(&v["status"]),
        v["stage"],
        stages,
        v["plan"]["candidate"],
        percent,
        v["plan"]["control"]
    ))?;
    if let Some(reason) = v["last_decision"]["reason"].as_str() {
        out(&format!(
            "last decision: {} ({reason})",
            s(&v["last_decision"]["action"])
        ))?;
    }
    for l in v["log"].as_array().into_iter().flatten() {
        out(&format!("  {}  {}", s(&l["action"]), s(&l["reason"])))?;
    }
    Ok(())
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
