//! Promotion gates from the command line (docs/gates.md): `label policy`, `changes`,
//! `approve` and `reject`.

use crate::console_cmd::fragment_escape as enc;
use crate::remote::Remote;
use crate::{out, Failure};
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// Arguments of `label`.
#[derive(clap::Args)]
pub struct LabelArgs {
    #[command(subcommand)]
    command: LabelCommand,
}

#[derive(clap::Subcommand)]
enum LabelCommand {
    /// Show a label's policy (every policy without PROMPT), or set or clear it.
    ///
    /// Setting replaces the whole policy: give it as a JSON file (`--file`) or with flags.
    /// A label whose policy requires approval needs one to change the policy too.
    Policy(PolicyArgs),
}

/// Arguments of `label policy`.
#[derive(clap::Args)]
pub struct PolicyArgs {
    #[command(flatten)]
    remote: Remote,
    /// Prompt (without it: every policy).
    prompt: Option<String>,
    /// Label.
    #[arg(long, default_value = "production")]
    label: String,
    /// The whole policy as a JSON file (docs/gates.md), `-` for stdin.
    #[arg(long, conflicts_with_all = ["require_eval", "require_approval", "freeze", "approval_expires_hours", "clear"])]
    file: Option<PathBuf>,
    /// Require a passing eval report for every version the label newly serves.
    #[arg(long)]
    require_eval: bool,
    /// Require an approval by another token holder (scope rw+approve) for every change.
    #[arg(long)]
    require_approval: bool,
    /// How long a pending change waits for its approval, in hours (1-720; default 72).
    #[arg(long)]
    approval_expires_hours: Option<u32>,
    /// A freeze window as JSON, repeatable: `{"start": RFC3339, "end": RFC3339}` or
    /// `{"days": ["fri"], "from": "16:00", "to": "24:00", "time_zone": "Europe/Berlin"}`.
    #[arg(long)]
    freeze: Vec<String>,
    /// Remove the label's policy.
    #[arg(long)]
    clear: bool,
}

impl PolicyArgs {
    fn sets(&self) -> bool {
        self.file.is_some()
            || self.require_eval
            || self.require_approval
            || self.approval_expires_hours.is_some()
            || !self.freeze.is_empty()
            || self.clear
    }

    fn policy(&self) -> Result<Value, Failure> {
        if self.clear {
            return Ok(Value::Null);
        }
        if let Some(path) = &self.file {
            let text = if path.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
                    .map_err(|e| Failure::fail(format!("stdin: {e}")))?
            } else {
                std::fs::read_to_string(path)
                    .map_err(|e| Failure::fail(format!("{}: {e}", path.display())))?
            };
            return serde_json::from_str(&text)
                .map_err(|e| Failure::fail(format!("{}: not JSON: {e}", path.display())));
        }
        let mut p = Map::new();
        p.insert("require_eval".into(), json!(self.require_eval));
        p.insert("require_approval".into(), json!(self.require_approval));
        if let Some(h) = self.approval_expires_hours {
            p.insert("approval_expires_hours".into(), json!(h));
        }
        let mut windows = Vec::new();
        for (i, w) in self.freeze.iter().enumerate() {
            windows.push(serde_json::from_str::<Value>(w).map_err(|e| {
                Failure::Usage(format!("--freeze #{}: not a JSON object: {e}", i + 1))
            })?);
        }
        p.insert("freeze".into(), Value::Array(windows));
        Ok(Value::Object(p))
    }
}

/// `label policy`.
pub fn label(a: LabelArgs) -> Result<(), Failure> {
    let LabelCommand::Policy(a) = a.command;
    if a.sets() {
        let prompt = a.prompt.clone().ok_or_else(|| {
            Failure::Usage("setting a policy needs the PROMPT (and --label)".into())
        })?;
        let body = json!({"prompt": prompt, "label": a.label, "policy": a.policy()?});
        let v = a.remote.post_as_is("policies", body)?;
        if a.remote.wants_json() {
            return out(&v.to_string());
        }
        if v["changed"].as_bool() == Some(false) {
            return out(&format!(
                "{prompt}/{}: the policy is already this; nothing changed",
                a.label
            ));
        }
        return out(v["summary"].as_str().unwrap_or("policy set"));
    }
    let path = match &a.prompt {
        Some(p) => format!("policies?prompt={}&label={}", enc(p), enc(&a.label)),
        None => "policies".into(),
    };
    let v = a.remote.get(&path)?;
    if a.remote.wants_json() {
        return out(&v.to_string());
    }
    let list = v["policies"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        return out(&match &a.prompt {
            Some(p) => format!("{p}/{}: no policy (changes apply directly)", a.label),
            None => "no label has a policy".into(),
        });
    }
    for p in &list {
        for line in policy_lines(p) {
            out(&line)?;
        }
    }
    Ok(())
}

/// A policy in lines, as `label policy` shows it.
fn policy_lines(p: &Value) -> Vec<String> {
    let pol = &p["policy"];
    let mut lines = vec![format!(
        "{}/{} (set by {} at {})",
        p["prompt"].as_str().unwrap_or(""),
        p["label"].as_str().unwrap_or(""),
        p["set_by"].as_str().unwrap_or("?"),
        when(p["set_at_ms"].as_u64())
    )];
    let yes = |b: &Value| {
        if b.as_bool() == Some(true) {
            "yes"
        } else {
            "no"
        }
    };
    lines.push(format!("  require eval:     {}", yes(&pol["require_eval"])));
    lines.push(format!(
        "  require approval: {} (pending changes expire after {} h)",
        yes(&pol["require_approval"]),
        pol["approval_expires_hours"]
    ));
    for (i, w) in pol["freeze"].as_array().into_iter().flatten().enumerate() {
        lines.push(format!("  freeze {}: {}", i + 1, window_text(w)));
    }
    if let Some(reason) = p["frozen"]["reason"].as_str() {
        lines.push(format!("  FROZEN NOW: {reason}"));
    }
    lines
}

fn window_text(w: &Value) -> String {
    let note = w["note"]
        .as_str()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    if let (Some(s), Some(e)) = (w["start"].as_str(), w["end"].as_str()) {
        return format!("{s} to {e}{note}");
    }
    let days: Vec<&str> = w["days"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    format!(
        "every {} {}-{} {}{note}",
        days.join(", "),
        w["from"].as_str().unwrap_or(""),
        w["to"].as_str().unwrap_or(""),
        w["time_zone"].as_str().unwrap_or("")
    )
}

/// Arguments of `changes`.
#[derive(clap::Args)]
pub struct ChangesArgs {
    #[command(flatten)]
    remote: Remote,
    /// Every change (applied, rejected, expired, failed too), not only pending ones.
    #[arg(long)]
    all: bool,
    /// Only this prompt's.
    #[arg(long)]
    prompt: Option<String>,
    /// Only this label's.
    #[arg(long)]
    label: Option<String>,
}

/// `changes`: what waits for an approval.
pub fn changes(a: ChangesArgs) -> Result<(), Failure> {
    let mut q = Vec::new();
    if !a.all {
        q.push("state=pending".to_string());
    }
    if let Some(p) = &a.prompt {
        q.push(format!("prompt={}", enc(p)));
    }
    if let Some(l) = &a.label {
        q.push(format!("label={}", enc(l)));
    }
    let path = if q.is_empty() {
        "changes".to_string()
    } else {
        format!("changes?{}", q.join("&"))
    };
    let v = a.remote.get(&path)?;
    if a.remote.wants_json() {
        return out(&v.to_string());
    }
    let list = v["changes"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        return out(if a.all {
            "no change has needed an approval"
        } else {
            "no change waits for an approval"
        });
    }
    for c in &list {
        out(&change_line(c))?;
    }
    Ok(())
}

fn change_line(c: &Value) -> String {
    let state = c["state"].as_str().unwrap_or("?");
    let tail = match state {
        "pending" => format!("expires {}", when(c["expires_at_ms"].as_u64())),
        _ => {
            let mut t = format!(
                "by {} at {}",
                c["decided_by"].as_str().unwrap_or("?"),
                when(c["decided_at_ms"].as_u64())
            );
            if let Some(r) = c["revision"].as_u64() {
                t.push_str(&format!(", revision {r}"));
            }
            if let Some(r) = c["reason"].as_str() {
                t.push_str(&format!(": {r}"));
            }
            t
        }
    };
    format!(
        "#{} {state} {}/{} {}: {} (asked by {} at {}; {tail})",
        c["id"],
        c["prompt"].as_str().unwrap_or(""),
        c["label"].as_str().unwrap_or(""),
        c["op"].as_str().unwrap_or(""),
        c["summary"].as_str().unwrap_or(""),
        c["requested_by"].as_str().unwrap_or("?"),
        when(c["requested_at_ms"].as_u64()),
    )
}

/// What a write prints when its change was held for approval.
pub fn pending_lines(c: &Value) -> Vec<String> {
    vec![
        format!(
            "change #{} waits for an approval: {}",
            c["id"],
            c["summary"].as_str().unwrap_or("")
        ),
        format!(
            "  someone else with a rw+approve token approves it: edgeprompt approve {} (it expires {})",
            c["id"],
            when(c["expires_at_ms"].as_u64())
        ),
    ]
}

/// Arguments of `approve`.
#[derive(clap::Args)]
pub struct DecideArgs {
    #[command(flatten)]
    remote: Remote,
    /// The change's number (`edgeprompt changes`).
    id: u64,
}

/// `approve`: applies a pending change.
pub fn approve(a: DecideArgs) -> Result<(), Failure> {
    let v = a
        .remote
        .post_as_is(&format!("changes/{}/approve", a.id), json!({}))?;
    if a.remote.wants_json() {
        return out(&v.to_string());
    }
    out(&format!("change #{} approved and applied", a.id))?;
    for s in v["result"]["summaries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        out(&format!("  {s}"))?;
    }
    if let Some(s) = v["result"]["summary"].as_str() {
        out(&format!("  {s}"))?;
    }
    Ok(())
}

/// Arguments of `reject`.
#[derive(clap::Args)]
pub struct RejectArgs {
    #[command(flatten)]
    remote: Remote,
    /// The change's number (`edgeprompt changes`).
    id: u64,
    /// Why, kept with the change.
    #[arg(long)]
    reason: Option<String>,
}

/// `reject`: refuses a pending change (the requester may withdraw their own).
pub fn reject(a: RejectArgs) -> Result<(), Failure> {
    let v = a.remote.post_as_is(
        &format!("changes/{}/reject", a.id),
        json!({"reason": a.reason}),
    )?;
    if a.remote.wants_json() {
        return out(&v.to_string());
    }
    out(&format!("change #{} rejected", a.id))
}

/// A time for people: RFC 3339 in UTC, to the second.
fn when(ms: Option<u64>) -> String {
    ms.map_or_else(
        || "?".into(),
        |ms| edgeprompt::time::format_rfc3339((ms / 1000 * 1000) as i64),
    )
}
