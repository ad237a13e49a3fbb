//! `edgeprompt eval`: runs the eval suites beside the prompt sources against the local
//! sources, or against a version (or what a label serves) in the live manifest, and
//! optionally records the result with the control plane (docs/evals.md).

mod assert;
mod cache;
mod judge;
mod model;
mod progress;
mod render;
mod report;
mod run;
mod suite;

use crate::Failure;
use edgeprompt::assign::Target;
use edgeprompt::manifest::CompiledManifest;
use run::{CaseResult, Job, Pick, Runner, Verdict};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use suite::Suite;

/// Arguments of `eval`.
#[derive(clap::Args)]
pub struct Args {
    /// The sources directory: suites are `prompts/<name>/evals/*.json`.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Only this prompt's suites.
    #[arg(long)]
    prompt: Option<String>,
    /// Evaluate this version of --prompt in the live manifest (instead of the local sources).
    #[arg(long, requires = "prompt", conflicts_with = "label")]
    version: Option<u32>,
    /// Evaluate every version this label serves in the live manifest.
    #[arg(long)]
    label: Option<String>,
    /// Print the results as one JSON document (docs/evals.md) instead of a table.
    #[arg(long)]
    json: bool,
    /// Record the results with the control plane (POST /admin/v1/evals).
    #[arg(long)]
    report: bool,
    /// The edge's URL, for --version, --label and --report (default: $EDGEPROMPT_URL).
    #[arg(long, env = "EDGEPROMPT_URL")]
    remote: Option<String>,
    /// An admin token (default: $EDGEPROMPT_TOKEN).
    #[arg(long, env = "EDGEPROMPT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// An OpenAI-compatible chat-completions URL; without one, assertions on answers are skipped.
    #[arg(long, env = "EDGEPROMPT_MODEL_URL")]
    model_url: Option<String>,
    /// The environment variable holding the model endpoint's key (sent as a bearer token).
    #[arg(long, default_value = "OPENAI_API_KEY")]
    model_key_env: String,
    /// The model name for versions that pin none.
    #[arg(long)]
    model: Option<String>,
    /// Most model calls at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Seconds to wait for one model call.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
    /// Retries of a model call answered with 429 or 5xx.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=10))]
    retries: u32,
    /// Neither read nor keep answers in the cache.
    #[arg(long)]
    no_cache: bool,
    /// Where answers are cached (default: DIR/.edgeprompt/eval-cache).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
}

/// The starter suite `edgeprompt init` writes beside the starter prompt.
pub fn starter_suite() -> (&'static str, &'static str) {
    (
        "prompts/assistant/evals/basic.json",
        r##"{
  "description": "starter checks of the assistant prompt: see docs/evals.md",
  "assertions": [
    {"type": "no_unrendered"},
    {"type": "uses_required_variables"}
  ],
  "cases": [
    {
      "name": "order question",
      "variables": {"question": "Where is my order #1234?"},
      "assertions": [
        {"type": "contains", "role": "system", "value": "Acme"},
        {"type": "contains", "role": "user", "value": "#1234"},
        {"type": "length", "role": "system", "max": 2000}
      ]
    },
    {
      "name": "another company",
      "variables": {"question": "Hi!", "company": "Globex"},
      "assertions": [
        {"type": "matches", "role": "system", "pattern": "assistant of Globex\\."},
        {"type": "not_contains", "value": "acme", "case_insensitive": true}
      ]
    }
  ]
}
"##,
    )
}

/// Where the evaluated versions come from.
enum Source {
    /// The local sources, built as `edgeprompt build` builds them.
    Local,
    /// The live manifest.
    Remote { url: String, token: String },
}

/// Runs the suites and prints the results; exit 1 when a case does not pass.
pub fn run(a: Args) -> Result<(), Failure> {
    let live = a.version.is_some() || a.label.is_some();
    let creds = |why: &str| {
        match (&a.remote, &a.token) {
        (Some(url), Some(token)) => Ok((url.clone(), token.clone())),
        _ => Err(Failure::Usage(format!(
            "{why} needs the control plane: --remote and --token (or EDGEPROMPT_URL and EDGEPROMPT_TOKEN)"
        ))),
    }
    };
    let source = if live {
        let (url, token) = creds("--version or --label")?;
        Source::Remote { url, token }
    } else {
        Source::Local
    };
    let reporter = if a.report {
        Some(creds("--report")?)
    } else {
        None
    };
    let suites = suite::load(&a.dir, a.prompt.as_deref()).map_err(Failure::Fail)?;
    if suites.is_empty() {
        let which = a.prompt.as_deref().unwrap_or("<name>");
        return Err(Failure::fail(format!(
            "{}: no eval suites (prompts/{which}/evals/*.json; see docs/evals.md)",
            a.dir.display()
        )));
    }
    let wants_judge = suites
        .iter()
        .flat_map(|s| &s.cases)
        .flat_map(|c| &c.assertions)
        .any(|x| matches!(x, assert::Assertion::Judge { .. }));
    let local = match (&source, wants_judge) {
        (Source::Local, _) | (_, true) => Some(build_local(&a.dir)?),
        _ => None,
    };
    let (manifest, source_json) = match &source {
        Source::Local => (
            local
                .clone()
                .ok_or_else(|| Failure::fail("no local build"))?,
            json!({"kind": "local", "dir": a.dir.display().to_string(), "url": null,
                   "revision": null, "version": null, "label": null}),
        ),
        Source::Remote { url, token } => {
            let m = fetch_live(url, token)?;
            let j = json!({"kind": "remote", "dir": a.dir.display().to_string(), "url": url,
                           "revision": m.revision(), "version": a.version, "label": a.label});
            (m, j)
        }
    };
    let default_label = a.label.clone().unwrap_or_else(|| "production".to_string());
    let jobs = jobs(
        &suites,
        &manifest,
        &source,
        a.version,
        a.label.as_deref(),
        &default_label,
    )?;

    let client = a.model_url.as_ref().map(|url| {
        model::Client::new(model::Endpoint {
            url: url.clone(),
            key: std::env::var(&a.model_key_env)
                .ok()
                .filter(|k| !k.is_empty()),
            key_env: a.model_key_env.clone(),
            timeout: Duration::from_secs(a.timeout),
            retries: a.retries,
            backoff: Duration::from_millis(500),
            fallback_model: a.model.clone(),
        })
    });
    let cache_dir = a
        .cache_dir
        .clone()
        .unwrap_or_else(|| a.dir.join(".edgeprompt").join("eval-cache"));
    let cache = cache::Cache::new((!a.no_cache).then_some(cache_dir));
    let runner = Runner {
        manifest: &manifest,
        local: matches!(source, Source::Local),
        judges: local.as_ref(),
        client: client.as_ref(),
        cache: &cache,
        hits: Default::default(),
    };
    let results = execute(&runner, &jobs, usize::from(a.concurrency));
    let model_json = match &client {
        None => Value::Null,
        Some(c) => json!({
            "url": without_query(&c.endpoint().url),
            "calls": c.calls(),
            "retries": c.retried(),
            "cache_hits": runner.hits.load(Ordering::Relaxed),
            "cache": cache.enabled(),
        }),
    };
    let doc = report::document(source_json, model_json, &suites, &results);
    if a.json {
        crate::out(&doc.to_string())?;
    } else {
        for line in report::table(&results) {
            crate::out(&line)?;
        }
        if let Some(c) = &client {
            crate::out(&format!(
                "model: {} call(s) ({} retried), {} answer(s) from the cache",
                c.calls(),
                c.retried(),
                runner.hits.load(Ordering::Relaxed)
            ))?;
        }
    }
    if let Some((url, token)) = reporter {
        let answer = report::post(&url, &token, &report::report(&doc))?;
        // The control plane numbers reports; a string id is shown as it is.
        let id = answer["id"]
            .as_str()
            .map(str::to_string)
            .or_else(|| answer["id"].as_u64().map(|n| n.to_string()))
            .map(|i| format!(" as {i}"))
            .unwrap_or_default();
        let line = format!("reported to {url}{id}");
        if a.json {
            eprintln!("{line}");
        } else {
            crate::out(&line)?;
        }
    }
    if results.iter().all(|r| r.verdict == Verdict::Pass) {
        Ok(())
    } else {
        Err(Failure::Fail(Vec::new()))
    }
}

/// The local sources' manifest, validated.
fn build_local(dir: &Path) -> Result<CompiledManifest, Failure> {
    let doc = crate::sources_cmd::build_manifest(dir, None)?;
    edgeprompt::manifest::compile_value(doc).map_err(|e| Failure::Fail(e.lines()))
}

/// The live manifest from the control plane.
fn fetch_live(url: &str, token: &str) -> Result<CompiledManifest, Failure> {
    let doc = crate::remote::Remote::new(url, token).get("manifest")?;
    edgeprompt::manifest::compile_value(doc).map_err(|e| {
        Failure::Fail(
            e.lines()
                .into_iter()
                .map(|l| format!("{url}: live manifest: {l}"))
                .collect(),
        )
    })
}

/// Every (case, version) to evaluate: local sources evaluate their one version; `--version`
/// that version; `--label` every version the label's route serves (rules and default,
/// each split's versions). A case that names a label or a unit resolves through it.
fn jobs<'s>(
    suites: &'s [Suite],
    m: &CompiledManifest,
    source: &Source,
    version: Option<u32>,
    label: Option<&str>,
    default_label: &str,
) -> Result<Vec<Job<'s>>, Failure> {
    let mut problems = Vec::new();
    let mut jobs = Vec::new();
    let whence = match source {
        Source::Local => "the sources",
        Source::Remote { .. } => "the live manifest",
    };
    for s in suites {
        let Some(p) = m.prompt(&s.prompt) else {
            problems.push(format!("{}: no prompt {:?} in {whence}", s.file, s.prompt));
            continue;
        };
        let picks: Vec<u32> = match (version, label) {
            (Some(n), _) => {
                if p.version(n).is_none() {
                    problems.push(format!(
                        "prompt {:?} has no version {n} in the live manifest (it has 1 to {})",
                        s.prompt,
                        p.versions.len()
                    ));
                    continue;
                }
                vec![n]
            }
            (None, Some(l)) => match p.route(l) {
                Some(route) => {
                    let mut vs = Vec::new();
                    for t in route
                        .rules
                        .iter()
                        .map(|r| &r.target)
                        .chain([&route.default])
                    {
                        match t {
                            Target::Version(v) => vs.push(*v),
                            Target::Split(layout) => vs.extend(
                                layout
                                    .ranges()
                                    .iter()
                                    .filter(|(_, start, end)| end > start)
                                    .map(|(v, _, _)| *v),
                            ),
                        }
                    }
                    vs.sort_unstable();
                    vs.dedup();
                    vs
                }
                None => {
                    problems.push(format!("prompt {:?} has no label {l:?}", s.prompt));
                    continue;
                }
            },
            (None, None) => p.versions.last().map(|v| v.number).into_iter().collect(),
        };
        for case in &s.cases {
            if case.routed() {
                jobs.push(Job {
                    suite: s,
                    case,
                    pick: Pick::Routed(default_label.to_string()),
                });
            } else {
                jobs.extend(picks.iter().map(|&n| Job {
                    suite: s,
                    case,
                    pick: Pick::Version(n),
                }));
            }
        }
    }
    problems.dedup();
    if problems.is_empty() {
        Ok(jobs)
    } else {
        Err(Failure::Fail(problems))
    }
}

/// Runs the jobs on `n` threads (so at most `n` model calls at once), results in job order.
fn execute(runner: &Runner<'_>, jobs: &[Job<'_>], n: usize) -> Vec<CaseResult> {
    let progress = progress::Progress::new(jobs.len());
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<CaseResult>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..n.clamp(1, jobs.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let (Some(job), Some(slot)) = (jobs.get(i), slots.get(i)) else {
                    break;
                };
                let r = runner.run(job);
                progress.tick(r.verdict != Verdict::Pass);
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    progress.finish();
    slots
        .into_iter()
        .filter_map(|m| m.into_inner().ok().flatten())
        .collect()
}

/// A URL without its query (a key may ride there; reports never carry one).
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}
