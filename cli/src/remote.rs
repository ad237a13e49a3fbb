//! The remote commands: the CLI as a client of the control plane's admin API.
//! `--remote URL` and `--token TOKEN`, or `EDGEPROMPT_URL` and `EDGEPROMPT_TOKEN`.

use crate::sources_cmd::read_sources;
use crate::Failure;
use edgeprompt::ops::{history, sources};
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// Where the control plane is and who is asking.
#[derive(clap::Args, Clone)]
pub struct Remote {
    /// The edge's URL (default: $EDGEPROMPT_URL).
    #[arg(long, env = "EDGEPROMPT_URL")]
    remote: String,
    /// An admin token (default: $EDGEPROMPT_TOKEN).
    #[arg(long, env = "EDGEPROMPT_TOKEN", hide_env_values = true)]
    token: String,
    /// Print the server's JSON answer instead of a summary.
    #[arg(long)]
    json: bool,
    /// The revision the change is based on (default: the live one, read first).
    #[arg(long)]
    base: Option<u64>,
}

impl Remote {
    /// A client of the control plane at `remote` with `token` (for commands with their
    /// own flags, such as `eval`).
    pub fn new(remote: &str, token: &str) -> Remote {
        Remote {
            remote: remote.to_string(),
            token: token.to_string(),
            json: false,
            base: None,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/admin/v1/{path}", self.remote.trim_end_matches('/'))
    }

    fn answer(&self, r: Result<ureq::Response, ureq::Error>) -> Result<Value, Failure> {
        let resp = match r {
            Ok(resp) => resp,
            Err(ureq::Error::Status(code, resp)) => {
                let body: Value = resp.into_json().unwrap_or(Value::Null);
                let err = &body["error"];
                let mut lines = vec![format!(
                    "{} ({code}): {}",
                    err["code"].as_str().unwrap_or("error"),
                    err["message"]
                        .as_str()
                        .unwrap_or("the server refused the request")
                )];
                if let Some(problems) = err["details"]["problems"].as_array() {
                    lines.extend(
                        problems
                            .iter()
                            .filter_map(Value::as_str)
                            .map(|p| format!("  {p}")),
                    );
                }
                // With --json the command prints the API's error on stdout when it ends
                // with it, so that scripts read one format; the reason goes to stderr.
                if self.json && body.get("error").is_some() {
                    return Err(Failure::Refused(body, lines));
                }
                return Err(Failure::Fail(lines));
            }
            Err(e) => return Err(Failure::fail(format!("{}: {e}", self.remote))),
        };
        let status = resp.status();
        let v: Value = resp
            .into_json()
            .map_err(|e| Failure::fail(format!("{}: unreadable answer: {e}", self.remote)))?;
        // A change to a protected label that waits for an approval: not applied yet.
        if status == 202 && v.get("pending").is_some() {
            if self.json {
                crate::out(&v.to_string())?;
                return Err(Failure::Pending(Vec::new()));
            }
            return Err(Failure::Pending(crate::gates_cmd::pending_lines(
                &v["pending"],
            )));
        }
        Ok(v)
    }

    /// GET an admin path.
    pub fn get(&self, path: &str) -> Result<Value, Failure> {
        self.answer(
            ureq::get(&self.url(path))
                .set("authorization", &format!("Bearer {}", self.token))
                .call(),
        )
    }

    /// POST a JSON body to an admin path, as is (no `base_revision`).
    pub fn post_as_is(&self, path: &str, body: Value) -> Result<Value, Failure> {
        self.answer(
            ureq::post(&self.url(path))
                .set("authorization", &format!("Bearer {}", self.token))
                .send_json(body),
        )
    }

    /// POST a change to an admin path, based on the live revision (or `--base`).
    pub fn post_based(&self, path: &str, body: Value) -> Result<Value, Failure> {
        self.post(path, body)
    }

    /// DELETE an admin path.
    pub fn delete(&self, path: &str) -> Result<Value, Failure> {
        self.answer(
            ureq::delete(&self.url(path))
                .set("authorization", &format!("Bearer {}", self.token))
                .call(),
        )
    }

    /// Whether the caller asked for the server's JSON.
    pub fn wants_json(&self) -> bool {
        self.json
    }

    fn post(&self, op: &str, mut body: Value) -> Result<Value, Failure> {
        let base = match self.base {
            Some(b) => b,
            None => self.get("manifest")?["revision"].as_u64().unwrap_or(0),
        };
        if let Some(o) = body.as_object_mut() {
            o.insert("base_revision".into(), json!(base));
        }
        self.answer(
            ureq::post(&self.url(op))
                .set("authorization", &format!("Bearer {}", self.token))
                .send_json(body),
        )
    }

    fn report(&self, v: &Value) -> Result<(), Failure> {
        if self.json {
            return crate::out(&v.to_string());
        }
        for s in v["summaries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            crate::out(s)?;
        }
        Ok(())
    }
}

/// Arguments of `publish`.
#[derive(clap::Args)]
pub struct PublishArgs {
    #[command(flatten)]
    remote: Remote,
    /// The sources directory.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Also point this label at the newly published version(s).
    #[arg(long)]
    label: Option<String>,
}

/// `publish`.
pub fn publish(a: PublishArgs) -> Result<(), Failure> {
    let files = read_sources(&a.dir)?;
    let srcs = sources::sources_from_files(&files).map_err(Failure::Fail)?;
    let prompts: Vec<Value> = srcs
        .prompts
        .iter()
        .map(|p| json!({"name": p.name, "versions": p.versions, "labels": p.labels, "client": p.client, "description": p.description}))
        .collect();
    let snippets: Map<String, Value> = srcs
        .snippets
        .iter()
        .map(|(k, v)| (k.clone(), Value::Array(v.clone())))
        .collect();
    let metrics: Map<String, Value> = srcs.metrics.clone().into_iter().collect();
    let mut body =
        json!({"sources": {"prompts": prompts, "snippets": snippets, "metrics": metrics}});
    if let Some(l) = &a.label {
        body["label"] = json!(l);
    }
    let v = a.remote.post("publish", body)?;
    a.remote.report(&v)
}

/// Arguments of `promote`.
#[derive(clap::Args)]
pub struct PromoteArgs {
    #[command(flatten)]
    remote: Remote,
    /// Prompt.
    prompt: String,
    /// The version the label's default will serve.
    version: u64,
    /// Label.
    #[arg(long, default_value = "production")]
    label: String,
    /// Remove the label's rules too.
    #[arg(long)]
    clear_rules: bool,
    /// Create the label if it does not exist yet.
    #[arg(long)]
    create: bool,
}

/// `promote`.
pub fn promote(a: PromoteArgs) -> Result<(), Failure> {
    let v = a.remote.post("promote", json!({"prompt": a.prompt, "label": a.label, "version": a.version, "clear_rules": a.clear_rules, "create": a.create}))?;
    a.remote.report(&v)
}

/// Arguments of `split`.
#[derive(clap::Args)]
pub struct SplitArgs {
    #[command(flatten)]
    remote: Remote,
    /// Prompt.
    prompt: String,
    /// VERSION=PERCENT pairs summing to 100, the control first (e.g. 1=90 2=10).
    #[arg(required = true)]
    weights: Vec<String>,
    /// Label.
    #[arg(long, default_value = "production")]
    label: String,
    /// A rule's target instead of the default.
    #[arg(long)]
    rule: Option<String>,
}

/// `split`.
pub fn split(a: SplitArgs) -> Result<(), Failure> {
    let mut weights = Map::new();
    for w in &a.weights {
        let (v, p) = w
            .split_once('=')
            .ok_or_else(|| Failure::Usage(format!("{w:?}: expected VERSION=PERCENT")))?;
        let pct: f64 = p
            .parse()
            .map_err(|_| Failure::Usage(format!("{w:?}: {p:?} is not a percent")))?;
        weights.insert(v.to_string(), json!(pct));
    }
    let v = a.remote.post(
        "split",
        json!({"prompt": a.prompt, "label": a.label, "rule": a.rule, "weights": weights}),
    )?;
    a.remote.report(&v)
}

/// Arguments of `ramp`.
#[derive(clap::Args)]
pub struct RampArgs {
    #[command(flatten)]
    remote: Remote,
    /// Prompt.
    prompt: String,
    /// The candidate version.
    #[arg(long)]
    to: u64,
    /// Its new share in percent.
    #[arg(long)]
    percent: f64,
    /// Label.
    #[arg(long, default_value = "production")]
    label: String,
    /// A rule's target instead of the default.
    #[arg(long)]
    rule: Option<String>,
}

/// `ramp`.
pub fn ramp(a: RampArgs) -> Result<(), Failure> {
    let v = a.remote.post("ramp", json!({"prompt": a.prompt, "label": a.label, "rule": a.rule, "to": a.to, "percent": a.percent}))?;
    a.remote.report(&v)
}

/// Arguments of `rollback`.
#[derive(clap::Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    remote: Remote,
    /// Prompt.
    prompt: String,
    /// Label.
    #[arg(long, default_value = "production")]
    label: String,
    /// Restore the route of this revision (default: the last one serving one version).
    #[arg(long)]
    to_revision: Option<u64>,
}

/// `rollback`.
pub fn rollback(a: RollbackArgs) -> Result<(), Failure> {
    let v = a.remote.post(
        "rollback",
        json!({"prompt": a.prompt, "label": a.label, "to_revision": a.to_revision}),
    )?;
    a.remote.report(&v)
}

/// Arguments of `history`.
#[derive(clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    remote: Remote,
    /// How many revisions to list (newest first; the server allows at most 1000).
    #[arg(long, default_value_t = 100)]
    limit: u64,
    /// List the revisions before this one (the next page).
    #[arg(long)]
    before: Option<u64>,
}

/// `history`: a page of revisions, newest first, with who, when and what.
pub fn history(a: HistoryArgs) -> Result<(), Failure> {
    let mut q = format!("history?limit={}", a.limit);
    if let Some(b) = a.before {
        q.push_str(&format!("&before={b}"));
    }
    let v = a.remote.get(&q)?;
    if a.remote.json {
        return crate::out(&v.to_string());
    }
    if let Some(next) = v["next_before"].as_u64() {
        eprintln!("(older revisions: edgeprompt history --before {next})");
    }
    for r in v["revisions"].as_array().into_iter().flatten() {
        crate::out(&format!(
            "{:>5}  {:<10} {:<9} {}",
            r["revision"].as_u64().unwrap_or(0),
            r["actor"].as_str().unwrap_or(""),
            r["action"].as_str().unwrap_or(""),
            r["summary"].as_str().unwrap_or("")
        ))?;
    }
    Ok(())
}

/// Arguments of `diff`.
#[derive(clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    remote: Remote,
    /// Compare this sources directory with the live manifest (instead of two revisions).
    #[arg(long)]
    sources: Option<PathBuf>,
    /// From this revision (default: the one before --to).
    #[arg(long)]
    from: Option<u64>,
    /// To this revision (default: the live one).
    #[arg(long)]
    to: Option<u64>,
}

/// `diff`: what changed between two revisions, or what publishing the sources would change.
pub fn diff(a: DiffArgs) -> Result<(), Failure> {
    let changes = match &a.sources {
        Some(dir) => {
            let live = a.remote.get("manifest")?;
            let files = read_sources(dir)?;
            let srcs = sources::sources_from_files(&files).map_err(Failure::Fail)?;
            let next = edgeprompt::ops::publish(Some(&live), &srcs)
                .map_err(|e| Failure::fail(e.to_string()))?;
            serde_json::to_value(history::diff(&live, &next.doc)).unwrap_or(Value::Null)
        }
        None => {
            let mut q = Vec::new();
            if let Some(f) = a.from {
                q.push(format!("from={f}"));
            }
            if let Some(t) = a.to {
                q.push(format!("to={t}"));
            }
            a.remote.get(&format!("diff?{}", q.join("&")))?["changes"].clone()
        }
    };
    if a.remote.json {
        return crate::out(&changes.to_string());
    }
    let list = changes.as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        return crate::out("no changes");
    }
    for c in list {
        let sign = match c["kind"].as_str() {
            Some("added") => "+",
            Some("removed") => "-",
            _ => "~",
        };
        crate::out(&format!("{sign} {}", c["path"].as_str().unwrap_or("")))?;
        // Template text (and other strings) diff line by line; other values as JSON.
        let as_text = |v: Option<&Value>| -> String {
            match v {
                None => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => serde_json::to_string_pretty(other).unwrap_or_default(),
            }
        };
        let (before, after) = (as_text(c.get("before")), as_text(c.get("after")));
        let lines = similar::TextDiff::from_lines(&before, &after);
        for change in lines.iter_all_changes() {
            let mark = match change.tag() {
                similar::ChangeTag::Delete => "-",
                similar::ChangeTag::Insert => "+",
                similar::ChangeTag::Equal => " ",
            };
            crate::out(&format!(
                "    {mark} {}",
                change.value().trim_end_matches('\n')
            ))?;
        }
    }
    Ok(())
}

/// Arguments of `status`.
#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    remote: Remote,
}

/// `status`: per prompt and label, what is served and the live metrics summary.
pub fn status(a: StatusArgs) -> Result<(), Failure> {
    let live = a.remote.get("manifest")?;
    let revisions: Vec<u64> = a.remote.get("history")?["revisions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["revision"].as_u64())
        .collect();
    let mut docs: std::collections::HashMap<u64, Value> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for (name, p) in live["prompts"].as_object().into_iter().flatten() {
        for (label, route) in p["labels"].as_object().into_iter().flatten() {
            // One label's results being unavailable does not hide the others' routes.
            let metrics = a
                .remote
                .get(&format!("metrics/{name}?label={label}"))
                .unwrap_or_else(|e| {
                    let reason = match e {
                        Failure::Fail(lines)
                        | Failure::Pending(lines)
                        | Failure::Refused(_, lines) => lines.join("; "),
                        Failure::Usage(u) => u,
                    };
                    json!({"error": reason})
                });
            // Walk back (at most 50 revisions) to the first one with this same route.
            let live_rev = live["revision"].as_u64().unwrap_or(0);
            let mut since = live_rev;
            for &rev in revisions.iter().filter(|&&r| r < live_rev).take(50) {
                if let std::collections::hash_map::Entry::Vacant(e) = docs.entry(rev) {
                    e.insert(a.remote.get(&format!("history/{rev}"))?);
                }
                if docs.get(&rev).map(|d| &d["prompts"][name]["labels"][label]) != Some(route) {
                    break;
                }
                since = rev;
            }
            out.push(json!({"prompt": name, "label": label, "since_revision": since, "default": route["default"], "rules": route["rules"].as_array().map(Vec::len).unwrap_or(0), "metrics": metrics}));
        }
    }
    if a.remote.json {
        return crate::out(&json!({"revision": live["revision"], "routes": out}).to_string());
    }
    crate::out(&format!("revision {}", live["revision"]))?;
    for r in out {
        let serving = if let Some(v) = r["default"]["version"].as_u64() {
            format!("version {v}")
        } else {
            r["default"]["split"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| format!("{}={}%", e["version"], e["weight"]))
                .collect::<Vec<_>>()
                .join(" ")
        };
        crate::out(&format!(
            "{}/{}: {serving} ({} rule(s)) since revision {}",
            r["prompt"].as_str().unwrap_or(""),
            r["label"].as_str().unwrap_or(""),
            r["rules"],
            r["since_revision"]
        ))?;
        for v in r["metrics"]["versions"].as_array().into_iter().flatten() {
            crate::out(&format!(
                "    v{}: {} exposed unit(s)",
                v["version"], v["exposed_units"]
            ))?;
            for (name, m) in v["metrics"].as_object().into_iter().flatten() {
                let Some(est) = m["estimate"].as_f64() else {
                    continue;
                };
                let ci = |c: &Value| {
                    format!(
                        "[{:.4}, {:.4}]",
                        c[0].as_f64().unwrap_or(0.0),
                        c[1].as_f64().unwrap_or(0.0)
                    )
                };
                let diff = match m["diff"]["estimate"].as_f64() {
                    Some(d) => format!(", vs control {d:+.4} {}", ci(&m["diff"]["ci"])),
                    None => String::new(),
                };
                crate::out(&format!("        {name}: {est:.4} {}{diff}", ci(&m["ci"])))?;
            }
        }
    }
    Ok(())
}

/// Arguments of `events`.
#[derive(clap::Args)]
pub struct EventsArgs {
    #[command(subcommand)]
    command: EventsCommand,
}

/// `events` subcommands.
#[derive(clap::Subcommand)]
enum EventsCommand {
    /// List the event messages the edge could not apply, with the reasons; `--replay`
    /// sends them (all, or the ids given) back to the queues after a fix.
    DeadLetters {
        #[command(flatten)]
        remote: Remote,
        /// Send them back to the events queues.
        #[arg(long)]
        replay: bool,
        /// Only these message ids (with --replay).
        ids: Vec<String>,
    },
}

/// `events`.
pub fn events(a: EventsArgs) -> Result<(), Failure> {
    let EventsCommand::DeadLetters {
        remote,
        replay,
        ids,
    } = a.command;
    if !ids.is_empty() && !replay {
        return Err(Failure::Usage("message ids are given with --replay".into()));
    }
    if replay {
        let body = if ids.is_empty() {
            json!({})
        } else {
            json!({ "ids": ids })
        };
        let v = remote.answer(
            ureq::post(&remote.url("dead-letters/replay"))
                .set("authorization", &format!("Bearer {}", remote.token))
                .send_json(body),
        )?;
        if remote.json {
            return crate::out(&v.to_string());
        }
        let replayed = v["replayed"].as_array().map(Vec::len).unwrap_or(0);
        crate::out(&format!("replayed {replayed} dead letter(s)"))?;
        let failed = v["failed"].as_array().cloned().unwrap_or_default();
        for f in &failed {
            crate::out(&format!(
                "  not replayed {}: {}",
                f["id"].as_str().unwrap_or(""),
                f["reason"].as_str().unwrap_or("")
            ))?;
        }
        return if failed.is_empty() {
            Ok(())
        } else {
            Err(Failure::fail(format!(
                "{} dead letter(s) not replayed",
                failed.len()
            )))
        };
    }
    let v = remote.get("dead-letters")?;
    if remote.json {
        return crate::out(&v.to_string());
    }
    let list = v["dead_letters"].as_array().cloned().unwrap_or_default();
    crate::out(&format!("{} dead letter(s)", list.len()))?;
    for d in list {
        let events = serde_json::from_str::<Value>(d["body"].as_str().unwrap_or(""))
            .ok()
            .and_then(|b| b["events"].as_array().map(Vec::len));
        crate::out(&format!(
            "{}  {} attempt(s), {} event(s), queue {}: {}",
            d["id"].as_str().unwrap_or(""),
            d["attempts"],
            events.map_or("?".to_string(), |n| n.to_string()),
            d["queue"].as_str().unwrap_or(""),
            d["reason"].as_str().unwrap_or("")
        ))?;
    }
    Ok(())
}
