//! Running one case against one version: render, check the rendering, then (when a
//! model endpoint is configured) ask the model, or the cache, and check its answer.

use super::assert::{Assertion, Outcome, Status};
use super::cache::{self, Cache};
use super::judge;
use super::model::{Answer, Client, ModelError};
use super::render::{self, Rendering};
use super::suite::{Case, Suite};
use edgeprompt::manifest::{CompiledManifest, Version};
use edgeprompt::resolve::{self, Request};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Which version a job evaluates.
#[derive(Debug, Clone)]
pub enum Pick {
    /// This version of the suite's prompt.
    Version(u32),
    /// What the label serves the case's unit (the case's own label, else this one).
    Routed(String),
}

/// One case against one version.
#[derive(Debug, Clone)]
pub struct Job<'s> {
    /// The case's suite.
    pub suite: &'s Suite,
    /// The case.
    pub case: &'s Case,
    /// The version.
    pub pick: Pick,
}

/// How a case came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every assertion that ran passed.
    Pass,
    /// An assertion failed.
    Fail,
    /// The case could not be evaluated (render or model error).
    Error,
}

impl Verdict {
    /// Its name in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }
}

/// One case's result against one version.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Prompt name.
    pub prompt: String,
    /// Suite name, file and hash.
    pub suite: String,
    /// The suite's file.
    pub suite_file: String,
    /// The suite's hash.
    pub suite_hash: String,
    /// Case name.
    pub case: String,
    /// The version's number (`None` for local sources, which have none yet).
    pub version: Option<u32>,
    /// The version's content hash (`None` when the case could not be resolved).
    pub hash: Option<String>,
    /// The label and unit a routed case was resolved for, and the rule that decided.
    pub route: Option<(String, String, String)>,
    /// The result.
    pub verdict: Verdict,
    /// What stopped the case, when it errored.
    pub error: Option<String>,
    /// Each assertion's type and role, and its outcome, in order.
    pub outcomes: Vec<(&'static str, Option<String>, Outcome)>,
    /// The model settings the answer came from.
    pub model: Option<Value>,
    /// Whether the answer came from the cache.
    pub cached: Option<bool>,
}

/// What every job shares.
pub struct Runner<'a> {
    /// The manifest the versions come from.
    pub manifest: &'a CompiledManifest,
    /// Whether it was built from local sources (its version numbers mean nothing yet).
    pub local: bool,
    /// Where judge prompts come from: the local sources' build.
    pub judges: Option<&'a CompiledManifest>,
    /// The model endpoint, when configured.
    pub client: Option<&'a Client>,
    /// The answer cache.
    pub cache: &'a Cache,
    /// Answers the cache held (answers and judges').
    pub hits: AtomicU64,
}

/// The answer, and whether the cache held it.
type Asked = Result<(Answer, bool), ModelError>;

impl Runner<'_> {
    /// Evaluates one job.
    pub fn run(&self, job: &Job<'_>) -> CaseResult {
        let (suite, case) = (job.suite, job.case);
        let mut r = CaseResult {
            prompt: suite.prompt.clone(),
            suite: suite.name.clone(),
            suite_file: suite.file.clone(),
            suite_hash: suite.hash.clone(),
            case: case.name.clone(),
            version: None,
            hash: None,
            route: None,
            verdict: Verdict::Error,
            error: None,
            outcomes: Vec::new(),
            model: None,
            cached: None,
        };
        let version = match self.version(job, &mut r) {
            Ok(v) => v,
            Err(e) => {
                r.error = Some(e);
                return r;
            }
        };
        r.version = (!self.local).then_some(version.number);
        r.hash = Some(version.hash.clone());
        let rendering = match render::render(self.manifest, version, &case.variables) {
            Ok(x) => x,
            Err(e) => {
                r.error = Some(format!("cannot render: {}: {e}", e.code()));
                return r;
            }
        };
        let mut rendered_failed = false;
        let mut pending = Vec::new();
        for a in &case.assertions {
            match a.check_rendered(self.manifest, version, &case.variables, &rendering) {
                Some(o) => {
                    rendered_failed |= o.status != Status::Pass;
                    r.outcomes.push((a.kind(), a.role().map(str::to_string), o));
                }
                None => {
                    pending.push(r.outcomes.len());
                    r.outcomes.push((a.kind(), None, Outcome::pass()));
                }
            }
        }
        if !pending.is_empty() {
            self.model_checks(case, version, &rendering, rendered_failed, &pending, &mut r);
        }
        r.verdict = verdict(&r);
        r
    }

    fn version<'m>(&'m self, job: &Job<'_>, r: &mut CaseResult) -> Result<&'m Version, String> {
        let m = self.manifest;
        let prompt = m
            .prompt(&job.suite.prompt)
            .ok_or_else(|| format!("no prompt {:?} in the manifest", job.suite.prompt))?;
        let number = match &job.pick {
            Pick::Version(n) => *n,
            Pick::Routed(default_label) => {
                let case = job.case;
                let label = case.label.as_deref().unwrap_or(default_label);
                let unit = case.unit.as_deref().unwrap_or(&case.name);
                let req = Request {
                    prompt: &job.suite.prompt,
                    label: Some(label),
                    unit,
                    attributes: Some(&case.attributes),
                    variables: Some(&case.variables),
                    now_ms: Some(crate::resolve_cmd::system_now_ms()),
                };
                let a = resolve::assign(m, &req)
                    .map_err(|e| format!("cannot resolve: {}: {e}", e.code()))?;
                r.route = Some((label.to_string(), unit.to_string(), a.rule.to_string()));
                a.version
            }
        };
        prompt
            .version(number)
            .ok_or_else(|| format!("prompt {:?} has no version {number}", job.suite.prompt))
    }

    /// Asks the model (or the cache) once for the case, then checks the answer.
    fn model_checks(
        &self,
        case: &Case,
        version: &Version,
        rendering: &Rendering,
        rendered_failed: bool,
        pending: &[usize],
        r: &mut CaseResult,
    ) {
        let skip = |r: &mut CaseResult, status: Status, reason: &str| {
            for &i in pending {
                if let Some(o) = r.outcomes.get_mut(i) {
                    o.2 = Outcome::not(status, reason);
                }
            }
        };
        let Some(client) = self.client else {
            return skip(
                r,
                Status::Skip,
                "no model endpoint (--model-url or EDGEPROMPT_MODEL_URL)",
            );
        };
        if rendered_failed {
            return skip(
                r,
                Status::Skip,
                "not run: an assertion on the rendered prompt did not pass",
            );
        }
        let asked = client.body(version, rendering).and_then(|body| {
            r.model = client.settings(version).ok();
            let material = json!({
                "kind": "answer",
                "hash": version.hash,
                "case": {"variables": case.variables, "attributes": case.attributes,
                         "label": case.label, "unit": case.unit},
                "model": r.model,
                "url": client.endpoint().url,
                "request": body,
            });
            self.ask(client, &material, &body)
        });
        let answer = match asked {
            Ok((answer, cached)) => {
                r.cached = Some(cached);
                answer
            }
            Err(e) => {
                let reason = e.to_string();
                skip(r, Status::Error, &reason);
                r.error = Some(reason);
                return;
            }
        };
        for &i in pending {
            let Some(a) = case.assertions.get(i) else {
                continue;
            };
            let o = match a {
                Assertion::Judge {
                    prompt,
                    threshold,
                    criteria,
                } => self.judge(
                    client,
                    case,
                    rendering,
                    &answer,
                    prompt,
                    *threshold,
                    criteria.as_deref(),
                ),
                other => other
                    .check_answer(version, &answer)
                    .unwrap_or_else(Outcome::pass),
            };
            if let Some(slot) = r.outcomes.get_mut(i) {
                slot.2 = o;
            }
        }
    }

    /// One call through the cache: the answer, and whether the cache held it.
    fn ask(&self, client: &Client, material: &Value, body: &Value) -> Asked {
        let key = cache::key(material);
        if let Some(answer) = self
            .cache
            .get(&key)
            .and_then(|m| Answer::from_message(&m).ok())
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok((answer, true));
        }
        let answer = client.complete(body)?;
        let about = json!({"hash": material["hash"], "model": material["model"],
                           "kind": material["kind"]});
        // A cache that cannot be written costs a call next time, nothing more.
        if let Err(e) = self.cache.put(&key, &answer.to_message(), &about) {
            eprintln!("warning: eval cache: {e}");
        }
        Ok((answer, false))
    }

    #[allow(clippy::too_many_arguments)]
    fn judge(
        &self,
        client: &Client,
        case: &Case,
        rendering: &Rendering,
        answer: &Answer,
        name: &str,
        threshold: f64,
        criteria: Option<&str>,
    ) -> Outcome {
        let Some(judges) = self.judges else {
            return Outcome::not(Status::Error, "no sources to read judge prompts from");
        };
        let Some(version) = judges.prompt(name).and_then(|p| p.versions.last()) else {
            return Outcome::not(
                Status::Error,
                format!("judge prompt {name:?} is not in the sources (prompts/{name}/prompt.json)"),
            );
        };
        let vars = judge::variables(rendering, answer, &case.name, &case.variables, criteria);
        let judged = match render::render(judges, version, &vars) {
            Ok(x) => x,
            Err(e) => {
                return Outcome::not(
                    Status::Error,
                    format!("cannot render judge prompt {name:?}: {}: {e}", e.code()),
                )
            }
        };
        let asked = client.body(version, &judged).and_then(|body| {
            let material = json!({
                "kind": "judge",
                "hash": version.hash,
                "model": client.settings(version)?,
                "url": client.endpoint().url,
                "request": body,
            });
            self.ask(client, &material, &body)
        });
        match asked {
            Ok((grade, _)) => judge::outcome(
                &grade.content.unwrap_or_default(),
                threshold,
                name,
                &version.hash,
            ),
            Err(e) => Outcome::not(Status::Error, format!("judge {name:?}: {e}")),
        }
    }
}

fn verdict(r: &CaseResult) -> Verdict {
    let any = |s: Status| r.outcomes.iter().any(|(_, _, o)| o.status == s);
    if r.error.is_some() || any(Status::Error) {
        Verdict::Error
    } else if any(Status::Fail) {
        Verdict::Fail
    } else {
        Verdict::Pass
    }
}
