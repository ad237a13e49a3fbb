//! The control plane: a SQLite-backed Durable Object, the source of truth for the
//! manifest and its history. Writes are serialised and compare-and-swap on the revision;
//! every accepted revision is validated by the engine, stored compactly with an audit
//! entry, then written through to KV (`manifest/<rev>`, then `manifest/current`), with
//! an alarm retrying until KV matches.

use edgeprompt::manifest::{self, ManifestError};
use edgeprompt::ops::{self, history, OpError, PromptSource, RouteChange, Sources};
use edgeprompt_shell::http::{respond, ApiError};
mod evals;
mod gates;
mod rollouts;
mod since;
mod store;
mod sync;
mod webhooks;

use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use worker::{
    console_error, durable_object, DurableObject, Env, Method, Request, Response, Result,
    SqlStorage, State,
};

/// Largest stored value: a revision's skeleton (without version bodies), or one
/// version's body; a SQLite value in a Durable Object holds at most 2 MB.
const MAX_SKELETON_BYTES: usize = 2_000_000;
/// Revisions per page of `GET /admin/v1/history` by default, and at most.
const HISTORY_PAGE: u64 = 100;
const HISTORY_PAGE_MAX: u64 = 1_000;
/// First retry of a failed KV write, then doubling up to a minute.
const KV_RETRY_MS: u64 = 2_000;

/// The control plane object (one instance, named `global`).
#[durable_object]
pub struct Control {
    state: State,
    env: Env,
    sync: sync::SyncState,
    faults: sync::DevFaults,
}

#[derive(Deserialize)]
struct Row<T> {
    v: T,
}

#[derive(Deserialize)]
struct RevisionRow {
    revision: u64,
    actor: String,
    at: f64,
    action: String,
    summary: String,
}

impl DurableObject for Control {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        for ddl in [
            "CREATE TABLE IF NOT EXISTS versions (kind TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, name, version))",
            "CREATE TABLE IF NOT EXISTS revisions (revision INTEGER PRIMARY KEY, skeleton TEXT NOT NULL, actor TEXT NOT NULL, at REAL NOT NULL, action TEXT NOT NULL, summary TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS kv_entries (key TEXT PRIMARY KEY)",
            "CREATE TABLE IF NOT EXISTS kv_state (id INTEGER PRIMARY KEY CHECK (id = 1), written INTEGER NOT NULL, retry_ms INTEGER NOT NULL)",
        ]
        .into_iter()
        .chain(since::SCHEMA)
        .chain(webhooks::SCHEMA)
        .chain(rollouts::SCHEMA)
        .chain(evals::SCHEMA)
        .chain(gates::SCHEMA)
        {
            if let Err(e) = sql.exec(ddl, None) {
                console_error!("edgeprompt control: schema: {e}");
            }
        }
        let faults = sync::DevFaults::from_env(&env);
        Control {
            state,
            env,
            sync: sync::SyncState::default(),
            faults,
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let actor = req
            .headers()
            .get("x-edgeprompt-actor")?
            .unwrap_or_else(|| "unknown".into());
        // The token's scope, as the admin Worker checked it (approvals need rw+approve).
        let scope = req.headers().get("x-edgeprompt-scope")?.unwrap_or_default();
        let path = req.path();
        let method = req.method();
        let body: Value = if method == Method::Post {
            match req.json().await {
                Ok(v) => v,
                Err(e) => {
                    return Ok(
                        ApiError::new(400, "malformed_json", format!("request body: {e}"))
                            .into_response(),
                    )
                }
            }
        } else {
            Value::Null
        };
        let query: Vec<(String, String)> = edgeprompt_shell::http::query_pairs(&req);
        let if_none_match = req.headers().get("if-none-match")?;
        let result = self
            .route(
                &method,
                &path,
                &query,
                &body,
                &actor,
                &scope,
                if_none_match.as_deref(),
            )
            .await;
        Ok(match result {
            Ok(r) => r,
            Err(e) => e.into_response(),
        })
    }

    async fn alarm(&self) -> Result<Response> {
        self.sync_kv().await;
        self.run_due_rollouts().await;
        self.deliver_due().await;
        self.schedule_alarm().await;
        Response::ok("ok")
    }
}

impl Control {
    /// A metric's kind or direction may change only while no current period of any
    /// label has data for it (a new name is the way to change a definition with data):
    /// the edge's aggregates tell, through the `PERIODS`/`AGGREGATES` bindings.
    async fn refuse_if_metrics_have_data(
        &self,
        live: &Value,
        metrics: &[String],
    ) -> std::result::Result<(), ApiError> {
        let compiled = manifest::compile_value(live.clone()).map_err(|e| {
            ApiError::new(
                500,
                "invalid_live_manifest",
                format!("the live manifest: {e}"),
            )
        })?;
        let mut in_use = Vec::new();
        for prompt in compiled.prompt_names() {
            let Some(p) = compiled.prompt(prompt) else {
                continue;
            };
            for (label, route) in &p.labels {
                let summary = edgeprompt_shell::aggregates::summary(
                    &self.env,
                    prompt,
                    label,
                    Some(&route.period),
                )
                .await
                .map_err(|e| {
                    ApiError::new(
                        503,
                        "aggregates_unavailable",
                        format!("cannot tell whether the metrics have data: {e}"),
                    )
                })?;
                for m in metrics {
                    let values: u64 = summary
                        .versions()
                        .map(|v| summary.get(v, m).values + summary.get(v, m).forced)
                        .sum();
                    if values > 0 {
                        in_use.push(json!({"metric": m, "prompt": prompt, "label": label, "values": values}));
                    }
                }
            }
        }
        if in_use.is_empty() {
            return Ok(());
        }
        Err(ApiError::new(
            409,
            "metric_in_use",
            format!(
                "a metric's kind or direction cannot change while it has data in a current period ({}): declare it under a new name",
                in_use
                    .iter()
                    .map(|u| format!("{} on {}/{}", u["metric"].as_str().unwrap_or(""), u["prompt"].as_str().unwrap_or(""), u["label"].as_str().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .details(json!({"in_use": in_use})))
    }

    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    #[allow(clippy::too_many_arguments)]
    async fn route(
        &self,
        method: &Method,
        path: &str,
        query: &[(String, String)],
        body: &Value,
        actor: &str,
        scope: &str,
        if_none_match: Option<&str>,
    ) -> std::result::Result<Response, ApiError> {
        self.adopt_kv().await?;
        self.check_sync_on_start().await;
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method, segs.as_slice()) {
            (Method::Get, ["manifest"]) => {
                // The revision is the document's version: a caller holding it (the
                // console, the metrics' compiled cache) gets 304 and no document.
                let current = self.current_revision()?;
                let etag = format!("\"{current}\"");
                let mut r = if if_none_match == Some(etag.as_str()) {
                    // No body at all (not an empty one): a 304 has none.
                    worker::ResponseBuilder::new().with_status(304).empty()
                } else {
                    let doc = self.load(current)?.unwrap_or_else(history::empty_manifest);
                    respond(200, &doc)
                };
                r.headers_mut().set("etag", &etag).map_err(storage)?;
                Ok(r)
            }
            (Method::Get, ["labels"]) => Ok(respond(200, &self.labels_since().await?)),
            (_, ["rollouts", rest @ ..]) => {
                self.rollouts_route(method, rest, query, body, actor).await
            }
            (_, ["evals", rest @ ..]) => self.evals_route(method, rest, query, body, actor),
            (_, ["policies" | "changes", ..]) => {
                self.gates_route(method, &segs, query, body, actor, scope)
                    .await
            }
            (_, ["webhooks", rest @ ..]) => {
                self.webhooks_route(method, rest, query, body, actor, scope)
                    .await
            }
            (Method::Get, ["history"]) => {
                let num = |k: &str| -> std::result::Result<Option<u64>, ApiError> {
                    match param(query, k) {
                        None => Ok(None),
                        Some(v) => v.parse().map(Some).map_err(|_| {
                            ApiError::new(
                                400,
                                "invalid_request",
                                format!("\"{k}\" must be a whole number, not \"{v}\""),
                            )
                        }),
                    }
                };
                let limit = num("limit")?
                    .unwrap_or(HISTORY_PAGE)
                    .clamp(1, HISTORY_PAGE_MAX);
                let (revisions, next) = self.audit(num("before")?, limit)?;
                Ok(respond(
                    200,
                    &json!({"revisions": revisions, "next_before": next}),
                ))
            }
            (Method::Get, ["history", rev]) => {
                let n: u64 = rev.parse().map_err(|_| {
                    ApiError::new(
                        400,
                        "invalid_request",
                        format!("\"{rev}\" is not a revision number"),
                    )
                })?;
                let doc = self.load(n)?.ok_or_else(|| {
                    ApiError::new(404, "unknown_revision", format!("no revision {n}"))
                })?;
                Ok(respond(200, &doc))
            }
            (Method::Get, ["diff"]) => {
                let get = |k: &str| param(query, k).and_then(|v| v.parse::<u64>().ok());
                let current = self.current_revision()?;
                let to = get("to").unwrap_or(current);
                let from = get("from").unwrap_or(to.saturating_sub(1));
                let load = |n: u64| -> std::result::Result<Value, ApiError> {
                    if n == 0 {
                        return Ok(history::empty_manifest());
                    }
                    self.load(n)?.ok_or_else(|| {
                        ApiError::new(404, "unknown_revision", format!("no revision {n}"))
                    })
                };
                Ok(respond(
                    200,
                    &json!({"from": from, "to": to, "changes": history::diff(&load(from)?, &load(to)?)}),
                ))
            }
            (Method::Post, [op]) => self.write(op, body, actor, None).await,
            _ => Err(ApiError::not_found(&format!("{method:?} /admin/v1{path}"))),
        }
    }

    /// Applies one change: compare-and-swap on `base_revision`, the operation, validation,
    /// the label's gates (a change needing approval is held, not applied), storage with an
    /// audit entry, then the write-through to KV. `approval` is set when an approved
    /// pending change is applied.
    async fn write(
        &self,
        op: &str,
        body: &Value,
        actor: &str,
        approval: Option<&gates::Approval>,
    ) -> std::result::Result<Response, ApiError> {
        let base = body
            .get("base_revision")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                ApiError::new(
                    400,
                    "invalid_request",
                    "\"base_revision\" (the revision this change is based on) is required",
                )
            })?;
        let current = self.current_revision()?;
        if base != current {
            return Err(ApiError::new(409, "conflict", format!("the change is based on revision {base}, but the live revision is {current}: fetch it and try again"))
                .details(json!({"current_revision": current})));
        }
        let live = self.load(current)?.unwrap_or_else(history::empty_manifest);
        let s = |k: &str| body.get(k).and_then(Value::as_str);
        let need = |k: &str| {
            s(k).ok_or_else(|| {
                ApiError::new(400, "invalid_request", format!("\"{k}\" is required"))
            })
        };
        // A running rollout steers its label: manual changes of its route wait for it
        // to end (a rollback always goes through, and ends it).
        if let ("promote" | "split" | "ramp", Some(prompt), Some(label)) =
            (op, s("prompt"), s("label"))
        {
            self.refuse_during_rollout(op, prompt, label)?;
        }
        if let ("publish", Some(label)) = (op, s("label")) {
            let names = body["sources"]["prompts"].as_array().into_iter().flatten();
            for prompt in names.filter_map(|p| p["name"].as_str()) {
                self.refuse_during_rollout("publish --label", prompt, label)?;
            }
        }
        let mut changes: Vec<(String, Value, &str)> = Vec::new();
        match op {
            "publish" => {
                let sources = parse_sources(body.get("sources").unwrap_or(&Value::Null))?;
                let p = ops::publish(Some(&live), &sources).map_err(op_error)?;
                if !p.redefined_metrics.is_empty() {
                    self.refuse_if_metrics_have_data(&live, &p.redefined_metrics)
                        .await?;
                }
                let mut doc = p.doc;
                if p.changed {
                    changes.push((p.summary, doc.clone(), "publish"));
                }
                if let Some(label) = s("label") {
                    for (prompt, version) in latest_added(&p.added) {
                        let c = ops::point(&doc, &prompt, label, version).map_err(op_error)?;
                        doc = c.doc.clone();
                        changes.push((c.summary, c.doc, "label"));
                    }
                }
            }
            "promote" => {
                let version = body.get("version").and_then(Value::as_u64).ok_or_else(|| {
                    ApiError::new(400, "invalid_request", "\"version\" is required")
                })?;
                let clear = body
                    .get("clear_rules")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let (prompt, label) = (need("prompt")?, need("label")?);
                // A label that does not exist yet is created when asked to, or when a
                // policy already names it (so that a typo never makes a label).
                let missing = live["prompts"][prompt]["labels"].get(label).is_none();
                let create = body.get("create").and_then(Value::as_bool) == Some(true)
                    || self.policy_of(prompt, label)?.is_some();
                if missing && !create && live["prompts"].get(prompt).is_some() {
                    return Err(ApiError::new(404, "unknown_label", format!("prompt \"{prompt}\" has no label \"{label}\": pass \"create\": true (edgeprompt promote --create) to create it")));
                }
                let change = if missing {
                    ops::point(&live, prompt, label, version)
                } else {
                    ops::promote(&live, prompt, label, version, clear)
                };
                push(&mut changes, change, "promote")?;
            }
            "split" => {
                let weights = body
                    .get("weights")
                    .and_then(Value::as_object)
                    .ok_or_else(|| {
                        ApiError::new(
                            400,
                            "invalid_request",
                            "\"weights\" is required: {\"1\": 90, \"2\": 10}",
                        )
                    })?;
                let mut list = Vec::new();
                for (v, w) in weights {
                    let v: u64 = v.parse().map_err(|_| {
                        ApiError::new(
                            400,
                            "invalid_request",
                            format!("\"{v}\" is not a version number"),
                        )
                    })?;
                    list.push((v, w.to_string().trim_matches('"').to_string()));
                }
                push(
                    &mut changes,
                    ops::split(&live, need("prompt")?, need("label")?, s("rule"), &list),
                    "split",
                )?;
            }
            "ramp" => {
                let to = body.get("to").and_then(Value::as_u64).ok_or_else(|| {
                    ApiError::new(
                        400,
                        "invalid_request",
                        "\"to\" (the candidate version) is required",
                    )
                })?;
                let percent = body
                    .get("percent")
                    .map(|p| p.to_string().trim_matches('"').to_string())
                    .ok_or_else(|| {
                        ApiError::new(400, "invalid_request", "\"percent\" is required")
                    })?;
                push(
                    &mut changes,
                    ops::ramp(
                        &live,
                        need("prompt")?,
                        need("label")?,
                        s("rule"),
                        to,
                        &percent,
                    ),
                    "ramp",
                )?;
            }
            "rollback" => {
                let (prompt, label) = (need("prompt")?, need("label")?);
                let to = body.get("to_revision").and_then(Value::as_u64);
                if live["prompts"][prompt]["labels"].get(label).is_none() {
                    return Err(op_error(OpError::UnknownLabel {
                        prompt: prompt.into(),
                        label: label.into(),
                    }));
                }
                let (from, route) = self.rollback_source(prompt, label, current, to)?;
                push(
                    &mut changes,
                    ops::restore_route(&live, prompt, label, from, route),
                    "rollback",
                )?;
            }
            other => return Err(ApiError::not_found(&format!("POST /admin/v1/{other}"))),
        }
        if changes.is_empty() {
            // An approved change that now changes nothing is not what was approved.
            if approval.is_some() {
                self.check_gates(op, &live, &live, approval)?;
            }
            return Ok(respond(
                200,
                &json!({"revision": current, "changed": false, "summaries": ["publish: nothing new"], "dry_run": body.get("dry_run").and_then(Value::as_bool).unwrap_or(false)}),
            ));
        }
        // Validate every step before storing any of them: a refused change stores nothing.
        for (_, doc, _) in &changes {
            let size = doc.to_string().len();
            if size > manifest::limits::MAX_DOCUMENT_BYTES {
                return Err(ApiError::new(413, "manifest_too_large", format!("the manifest would be {size} bytes, over the limit of {} (KV's value limit)", manifest::limits::MAX_DOCUMENT_BYTES)));
            }
            if let Err(e) = manifest::compile_value(doc.clone()) {
                let problems = match e {
                    ManifestError::Invalid(ps) => {
                        ps.iter().map(ToString::to_string).collect::<Vec<_>>()
                    }
                    other => vec![other.to_string()],
                };
                return Err(ApiError::new(422, "invalid_manifest", format!("the change would make an invalid manifest ({} problem(s)); nothing was stored", problems.len()))
                    .details(json!({"problems": problems})));
            }
        }
        // The protected labels' gates: a freeze window or a missing eval refuses the
        // change (a dry run says so too); a required approval holds it.
        let after = changes.last().map_or(&live, |(_, doc, _)| doc);
        let gate = self.check_gates(op, &live, after, approval)?;
        if body.get("dry_run").and_then(Value::as_bool) == Some(true) {
            let mut answer = dry_run(&live, &changes, s("prompt"), s("label"));
            answer["needs_approval"] = json!(!gate.needs_approval.is_empty());
            return Ok(respond(200, &answer));
        }
        if !gate.needs_approval.is_empty() {
            let summary = changes
                .iter()
                .map(|(s, _, _)| s.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            return self
                .hold_for_approval(op, &gate, &summary, body, current, actor)
                .await;
        }
        if !gate.bypassed.is_empty() {
            let labels = gate
                .bypassed
                .iter()
                .map(|(p, l)| format!("{p}/{l}"))
                .collect::<Vec<_>>()
                .join(", ");
            for (summary, _, _) in &mut changes {
                summary.push_str(&format!(
                    " (emergency rollback of protected {labels}: gates bypassed)"
                ));
            }
        }
        let actor = approval.map_or_else(|| actor.to_string(), gates::Approval::actor);
        let actor = actor.as_str();
        // One change, however many revisions (a publish and its label): all or none.
        let revision = self.store_all(&live, &changes, actor).await?;
        if self.faults.after_store {
            panic!("injected fault (control_after_store): revision {revision} is stored, KV is not written");
        }
        if let ("rollback", Some(prompt), Some(label)) = (op, s("prompt"), s("label")) {
            self.end_rollout_by_rollback(prompt, label, actor, revision);
        }
        let summaries: Vec<String> = changes.iter().map(|(s, _, _)| s.clone()).collect();
        let in_kv = self.sync_kv().await;
        // Notifications go out from the alarm, never on the change's path.
        self.schedule_alarm().await;
        Ok(respond(
            200,
            &json!({"revision": revision, "changed": true, "summaries": summaries, "kv_written": in_kv}),
        ))
    }
}

/// What a change would do, validated like the change itself but stored nowhere: each
/// revision's summary and its changes path by path, and the label's route before and
/// after (what the console shows before a person confirms).
fn dry_run(
    live: &Value,
    changes: &[(String, Value, &str)],
    prompt: Option<&str>,
    label: Option<&str>,
) -> Value {
    let mut before = live;
    let mut revisions = Vec::with_capacity(changes.len());
    for (summary, doc, action) in changes {
        revisions.push(json!({"revision": ops::revision_of(doc), "action": action, "summary": summary, "changes": history::diff(before, doc)}));
        before = doc;
    }
    let route = |doc: &Value| match (prompt, label) {
        (Some(p), Some(l)) => doc["prompts"][p]["labels"].get(l).cloned(),
        _ => None,
    };
    let after = changes.last().map_or(live, |(_, doc, _)| doc);
    let mut answer = json!({
        "dry_run": true,
        "revision": ops::revision_of(live),
        "changed": !changes.is_empty(),
        "summaries": changes.iter().map(|(s, _, _)| s.clone()).collect::<Vec<_>>(),
        "revisions": revisions,
    });
    if let (Some(b), Some(a)) = (route(live), route(after)) {
        answer["route"] = json!({"before": b, "after": a});
    }
    answer
}

/// A query parameter's value, if given (the first of that name).
fn param<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn storage(e: worker::Error) -> ApiError {
    ApiError::new(500, "storage", format!("control plane storage: {e}"))
}

fn op_error(e: OpError) -> ApiError {
    let (status, code) = match &e {
        OpError::UnknownPrompt(_) => (404, "unknown_prompt"),
        OpError::UnknownLabel { .. } => (404, "unknown_label"),
        OpError::UnknownRule { .. } => (404, "unknown_rule"),
        OpError::UnknownVersion { .. } => (404, "unknown_version"),
        OpError::NoRollbackTarget(_) => (409, "no_rollback_target"),
        OpError::Invalid(_) => (422, "invalid_change"),
        OpError::Malformed(_) => (500, "malformed_manifest"),
    };
    ApiError::new(status, code, e.to_string())
}

fn push(
    changes: &mut Vec<(String, Value, &'static str)>,
    r: std::result::Result<RouteChange, OpError>,
    action: &'static str,
) -> std::result::Result<(), ApiError> {
    let c = r.map_err(op_error)?;
    changes.push((c.summary, c.doc, action));
    Ok(())
}

/// The newest added version of each prompt.
fn latest_added(added: &[(String, u64)]) -> Vec<(String, u64)> {
    let mut latest: BTreeMap<&str, u64> = BTreeMap::new();
    for (p, v) in added {
        let e = latest.entry(p).or_insert(*v);
        *e = (*e).max(*v);
    }
    latest
        .into_iter()
        .map(|(p, v)| (p.to_string(), v))
        .collect()
}

fn parse_sources(v: &Value) -> std::result::Result<Sources, ApiError> {
    let bad = |m: String| ApiError::new(400, "invalid_request", m);
    let prompts = v
        .get("prompts")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("\"sources.prompts\" must be an array".into()))?;
    let mut out = Sources::default();
    for (i, p) in prompts.iter().enumerate() {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("sources.prompts[{i}].name is required")))?;
        let versions = p
            .get("versions")
            .and_then(Value::as_array)
            .ok_or_else(|| bad(format!("sources.prompts[{i}].versions must be an array")))?;
        out.prompts.push(PromptSource {
            name: name.into(),
            versions: versions.clone(),
            labels: p.get("labels").cloned(),
            client: p.get("client").and_then(Value::as_bool).unwrap_or(false),
            description: p
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    if let Some(snippets) = v.get("snippets").and_then(Value::as_object) {
        for (name, versions) in snippets {
            let list = versions.as_array().ok_or_else(|| {
                bad(format!(
                    "sources.snippets.{name} must be an array of versions"
                ))
            })?;
            out.snippets.insert(name.clone(), list.clone());
        }
    }
    if let Some(metrics) = v.get("metrics") {
        let m = metrics.as_object().ok_or_else(|| {
            bad("\"sources.metrics\" must be an object: metric name -> declaration".into())
        })?;
        out.metrics = m.clone().into_iter().collect();
    }
    Ok(out)
}
