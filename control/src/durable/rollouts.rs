//! Guarded rollouts in the control plane: a plan per label (`/admin/v1/rollouts`), the
//! controller the object's alarm runs at each rollout's interval (and on demand), and
//! the guard that keeps manual `split`/`ramp`/`promote` off a label while its rollout
//! runs. The decision is the engine's pure [`edgeprompt::rollout::step`], fed each
//! stage's weights period from the aggregate objects; every change of traffic it makes
//! is an audited revision whose summary carries its evidence.

use super::{op_error, param, storage, Control};
use edgeprompt::manifest;
use edgeprompt::ops::{self, history};
use edgeprompt::rollout::{
    self, Action, MetricSpec, Percent, Period, Plan, State, Status, StepInput, StepOutput,
    VersionTotals,
};
use edgeprompt_shell::aggregates;
use edgeprompt_shell::http::{respond, ApiError};
use edgeprompt_shell::platform::now_ms;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use worker::{console_error, Method, SqlStorageValue};

/// The tables: one row per rollout (at most one running or paused per label), and
/// what each one did.
pub const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS rollouts (id INTEGER PRIMARY KEY AUTOINCREMENT, prompt TEXT NOT NULL, label TEXT NOT NULL, plan TEXT NOT NULL, state TEXT NOT NULL, status TEXT NOT NULL, stages TEXT NOT NULL, interval_ms REAL NOT NULL, next_check_ms REAL, started_ms REAL NOT NULL, updated_ms REAL NOT NULL, actor TEXT NOT NULL, last TEXT)",
    "CREATE TABLE IF NOT EXISTS rollout_checks (id INTEGER PRIMARY KEY AUTOINCREMENT, rollout INTEGER NOT NULL, at_ms REAL NOT NULL, action TEXT NOT NULL, stage INTEGER NOT NULL, evidence TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rollout_log (id INTEGER PRIMARY KEY AUTOINCREMENT, rollout INTEGER NOT NULL, at_ms REAL NOT NULL, action TEXT NOT NULL, stage INTEGER NOT NULL, percent REAL NOT NULL, reason TEXT NOT NULL, revision INTEGER, actor TEXT NOT NULL)",
];
/// How often the controller checks a rollout unless its plan says otherwise.
const DEFAULT_INTERVAL_MS: u64 = 3_600_000;
/// Checks kept per rollout (each with its evidence, for the console's charts).
const KEEP_CHECKS: i64 = 2_000;
/// The shortest interval a plan may ask for.
const MIN_INTERVAL_MS: u64 = 1_000;

/// A stage as set: its weights period and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stage {
    stage: u32,
    percent: f64,
    period: String,
    started_ms: u64,
    revision: u64,
}

#[derive(Deserialize)]
struct Row {
    id: f64,
    prompt: String,
    label: String,
    plan: String,
    state: String,
    status: String,
    stages: String,
    interval_ms: f64,
    next_check_ms: Option<f64>,
    started_ms: f64,
    updated_ms: f64,
    actor: String,
    last: Option<String>,
}

impl Row {
    fn plan(&self) -> Result<Plan, ApiError> {
        serde_json::from_str(&self.plan).map_err(|e| corrupt("plan", e))
    }
    fn state(&self) -> Result<State, ApiError> {
        serde_json::from_str(&self.state).map_err(|e| corrupt("state", e))
    }
    fn stages(&self) -> Result<Vec<Stage>, ApiError> {
        serde_json::from_str(&self.stages).map_err(|e| corrupt("stages", e))
    }
    fn active(&self) -> bool {
        self.status == "running" || self.status == "paused"
    }
}

fn corrupt(what: &str, e: serde_json::Error) -> ApiError {
    ApiError::new(500, "storage", format!("a stored rollout's {what}: {e}"))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "invalid_request", message)
}

const COLUMNS: &str = "id, prompt, label, plan, state, status, stages, interval_ms, next_check_ms, started_ms, updated_ms, actor, last";

impl Control {
    /// `/admin/v1/rollouts...`: start, list, one label's rollout, and its controls.
    pub(super) async fn rollouts_route(
        &self,
        method: &Method,
        rest: &[&str],
        query: &[(String, String)],
        body: &Value,
        actor: &str,
    ) -> Result<worker::Response, ApiError> {
        match (method, rest) {
            (Method::Get, []) => {
                // ?active=1: every running or paused one (the console's badges), however
                // old; ?prompt=&label=: one label's. Otherwise the newest 100.
                let mut clause = vec!["1 = 1".to_string()];
                let mut args: Vec<SqlStorageValue> = Vec::new();
                if matches!(param(query, "active"), Some("1" | "true")) {
                    clause.push("status IN ('running', 'paused')".into());
                }
                for k in ["prompt", "label"] {
                    if let Some(v) = param(query, k) {
                        clause.push(format!("{k} = ?"));
                        args.push(v.into());
                    }
                }
                let rows = self.rows(
                    &format!("{} ORDER BY id DESC LIMIT 100", clause.join(" AND ")),
                    args,
                )?;
                let list: Vec<Value> = rows
                    .iter()
                    .map(|r| self.describe(r, false))
                    .collect::<Result<_, _>>()?;
                Ok(respond(200, &json!({"rollouts": list})))
            }
            (Method::Post, []) => self.start_rollout(body, actor, None).await,
            (Method::Get, [prompt, label]) => {
                let row = self
                    .latest(prompt, label)?
                    .ok_or_else(|| no_rollout(prompt, label))?;
                Ok(respond(200, &self.describe(&row, true)?))
            }
            (Method::Post, [prompt, label, op]) => {
                let row = self
                    .latest(prompt, label)?
                    .filter(Row::active)
                    .ok_or_else(|| no_rollout(prompt, label))?;
                match *op {
                    "pause" => {
                        self.set_status(&row, "pause", actor, |s, _| s.pause("paused by a person"))
                    }
                    "resume" => self.set_status(&row, "resume", actor, |s, now| s.resume(now)),
                    "abort" => self.end_rollout(
                        &row,
                        "aborted",
                        "abort",
                        actor,
                        "aborted; the label keeps its current split",
                        None,
                    ),
                    "check" => {
                        self.check_rollout(row.id as i64).await?;
                        self.schedule_alarm().await;
                        let row = self
                            .latest(prompt, label)?
                            .ok_or_else(|| no_rollout(prompt, label))?;
                        return Ok(respond(200, &self.describe(&row, true)?));
                    }
                    other => {
                        return Err(ApiError::not_found(&format!(
                            "POST /admin/v1/rollouts/{prompt}/{label}/{other}"
                        )))
                    }
                }?;
                self.schedule_alarm().await;
                let row = self
                    .latest(prompt, label)?
                    .ok_or_else(|| no_rollout(prompt, label))?;
                Ok(respond(200, &self.describe(&row, true)?))
            }
            _ => Err(ApiError::not_found(&format!(
                "{method:?} /admin/v1/rollouts/{}",
                rest.join("/")
            ))),
        }
    }

    fn rows(&self, clause: &str, args: Vec<SqlStorageValue>) -> Result<Vec<Row>, ApiError> {
        self.sql()
            .exec(
                &format!("SELECT {COLUMNS} FROM rollouts WHERE {clause}"),
                args,
            )
            .and_then(|c| c.to_array())
            .map_err(storage)
    }

    fn latest(&self, prompt: &str, label: &str) -> Result<Option<Row>, ApiError> {
        Ok(self
            .rows(
                "prompt = ? AND label = ? ORDER BY id DESC LIMIT 1",
                vec![prompt.into(), label.into()],
            )?
            .into_iter()
            .next())
    }

    /// 409 when a rollout runs (or is paused) on the label: `split`, `ramp` and
    /// `promote` would fight the controller; abort it first (rollback always works).
    pub(super) fn refuse_during_rollout(
        &self,
        op: &str,
        prompt: &str,
        label: &str,
    ) -> Result<(), ApiError> {
        match self.latest(prompt, label)? {
            Some(r) if r.active() => Err(ApiError::new(
                409,
                "rollout_running",
                format!("a rollout ({}) steers {prompt}/{label}: {op} is refused until it ends; abort it first (edgeprompt rollout abort {prompt} --label {label}), or roll back", r.status),
            )
            .details(json!({"rollout": r.id as u64, "status": r.status}))),
            _ => Ok(()),
        }
    }

    /// After a person's rollback of the label: its rollout, if one runs, ends with it.
    pub(super) fn end_rollout_by_rollback(
        &self,
        prompt: &str,
        label: &str,
        actor: &str,
        revision: u64,
    ) {
        if let Ok(Some(r)) = self.latest(prompt, label) {
            if r.active() {
                if let Err(e) = self.end_rollout(
                    &r,
                    "rolled_back",
                    "rollback",
                    actor,
                    "rolled back by a person",
                    Some(revision),
                ) {
                    console_error!(
                        "edgeprompt control: ending rollout {} after a rollback: {e:?}",
                        r.id
                    );
                }
            }
        }
    }

    pub(super) async fn start_rollout(
        &self,
        body: &Value,
        actor: &str,
        approval: Option<&super::gates::Approval>,
    ) -> Result<worker::Response, ApiError> {
        let base = body["base_revision"].as_u64().ok_or_else(|| {
            bad("\"base_revision\" (the revision this change is based on) is required")
        })?;
        let current = self.current_revision()?;
        if base != current {
            return Err(ApiError::new(409, "conflict", format!("the change is based on revision {base}, but the live revision is {current}: fetch it and try again"))
                .details(json!({"current_revision": current})));
        }
        let s = |k: &str| {
            body[k]
                .as_str()
                .ok_or_else(|| bad(format!("\"{k}\" is required")))
        };
        let (prompt, label) = (s("prompt")?, s("label")?);
        if let Some(r) = self.latest(prompt, label)?.filter(Row::active) {
            return Err(ApiError::new(
                409,
                "rollout_running",
                format!("{prompt}/{label} already has a rollout ({})", r.status),
            ));
        }
        let live = self.load(current)?.unwrap_or_else(history::empty_manifest);
        let route = live["prompts"][prompt]["labels"]
            .get(label)
            .cloned()
            .ok_or_else(|| {
                op_error(ops::OpError::UnknownLabel {
                    prompt: prompt.into(),
                    label: label.into(),
                })
            })?;
        let control = serving_one(&route).ok_or_else(|| {
            ApiError::new(409, "not_single_version", format!("{prompt}/{label} does not serve one version now; a rollout starts from one (promote or roll back first)"))
        })?;
        let mut plan_json = json!({
            "candidate": body["candidate"],
            "control": control,
            "stages": body.get("stages").cloned().unwrap_or(json!([1, 10, 50, 100])),
            "min_units": body.get("min_units").cloned().unwrap_or(json!(500)),
            "min_duration_ms": body.get("min_duration_ms").cloned().unwrap_or(json!(DEFAULT_INTERVAL_MS)),
            "guardrails": body.get("guardrails").cloned().unwrap_or(json!([])),
        });
        for k in ["alpha", "on_trip"] {
            if let Some(v) = body.get(k) {
                plan_json[k] = v.clone();
            }
        }
        typed(&plan_json)?;
        let plan: Plan =
            serde_json::from_value(plan_json).map_err(|e| plan_refused("plan", &e.to_string()))?;
        let metrics = declared(&live);
        let stages = plan.check(&metrics).map_err(|e| match e {
            rollout::RolloutError::Plan { field, reason } => plan_refused(&field, &reason),
            other => plan_refused("plan", &other.to_string()),
        })?;
        if !live["prompts"][prompt]["versions"]
            .as_array()
            .is_some_and(|vs| {
                vs.iter()
                    .any(|v| v["version"].as_u64() == Some(u64::from(plan.candidate)))
            })
        {
            return Err(plan_refused(
                "plan.candidate",
                &format!("{prompt} has no version {}", plan.candidate),
            ));
        }
        let interval = match body.get("check_interval_ms") {
            None => DEFAULT_INTERVAL_MS,
            Some(v) => v
                .as_u64()
                .filter(|&ms| ms >= MIN_INTERVAL_MS)
                .ok_or_else(|| {
                    plan_refused(
                        "check_interval_ms",
                        &format!("a whole number of milliseconds, at least {MIN_INTERVAL_MS}"),
                    )
                })?,
        };
        let first = stages.first().copied().unwrap_or(10_000);
        let percent = bp_text(first);
        let change = ops::ramp(
            &live,
            prompt,
            label,
            None,
            u64::from(plan.candidate),
            &percent,
        )
        .map_err(op_error)?;
        let summary = format!("rollout {prompt}/{label}: start, version {} to {percent}% (stage 1 of {}; control version {control}) (revision {})", plan.candidate, stages.len(), ops::revision_of(&change.doc));
        // A protected label's gates hold for a rollout's start as for any change.
        let gate = self.check_gates("rollout.start", &live, &change.doc, approval)?;
        if !gate.needs_approval.is_empty() {
            return self
                .hold_for_approval("rollout.start", &gate, &summary, body, current, actor)
                .await;
        }
        let actor = approval.map_or_else(|| actor.to_string(), super::gates::Approval::actor);
        let actor = actor.as_str();
        let now = now_ms();
        let stage = Stage {
            stage: 1,
            percent: f64::from(first) / 100.0,
            period: period_after(&change.doc, prompt, label)?,
            started_ms: now,
            revision: ops::revision_of(&change.doc),
        };
        let state = State::new();
        // The rollout's row commits with the revision that starts it: a reset between
        // the two can no longer leave the label at stage 1 with no rollout steering it.
        let row = (
            "INSERT INTO rollouts (prompt, label, plan, state, status, stages, interval_ms, next_check_ms, started_ms, updated_ms, actor, last) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, NULL)",
            vec![
                prompt.into(),
                label.into(),
                json!(plan).to_string().into(),
                json!(state).to_string().into(),
                json!([stage]).to_string().into(),
                SqlStorageValue::from(interval as f64),
                SqlStorageValue::from((now + interval) as f64),
                SqlStorageValue::from(now as f64),
                SqlStorageValue::from(now as f64),
                actor.into(),
            ],
        );
        let revision = self
            .store_all_with(
                &live,
                &[(summary.clone(), change.doc, "rollout.start")],
                actor,
                vec![row],
            )
            .await?;
        if self.faults.rollout_after_store {
            panic!("injected fault (control_rollout_after_store): revision {revision} and its rollout are stored");
        }
        let row = self
            .latest(prompt, label)?
            .ok_or_else(|| no_rollout(prompt, label))?;
        self.log(
            &row,
            "start",
            1,
            stage.percent,
            &summary,
            Some(revision),
            actor,
        )?;
        self.sync_kv().await;
        self.schedule_alarm().await;
        Ok(respond(201, &self.describe(&row, true)?))
    }

    /// Stores a change of traffic made for a rollout as an audited revision (its
    /// webhook event is `action`) and returns the revision and the label's new weights
    /// period.
    #[allow(clippy::too_many_arguments)]
    async fn store_traffic(
        &self,
        live: &Value,
        doc: Value,
        summary: String,
        action: &'static str,
        actor: &str,
        prompt: &str,
        label: &str,
    ) -> Result<(u64, String), ApiError> {
        let period = period_after(&doc, prompt, label)?;
        let revision = self
            .store_all(live, &[(summary, doc, action)], actor)
            .await?;
        Ok((revision, period))
    }

    fn set_status(
        &self,
        row: &Row,
        what: &str,
        actor: &str,
        change: impl FnOnce(&mut State, u64),
    ) -> Result<(), ApiError> {
        let mut state = row.state()?;
        let before = state.status;
        change(&mut state, now_ms());
        if state.status == before {
            return Err(ApiError::new(
                409,
                "rollout_not_changed",
                format!(
                    "the rollout of {}/{} is {} already",
                    row.prompt, row.label, row.status
                ),
            ));
        }
        let status = if what == "pause" { "paused" } else { "running" };
        let now = now_ms() as f64;
        self.sql()
            .exec(
                "UPDATE rollouts SET state = ?, status = ?, updated_ms = ?, next_check_ms = ? WHERE id = ?",
                vec![json!(state).to_string().into(), status.into(), SqlStorageValue::from(now), SqlStorageValue::from(if what == "resume" { now } else { now + row.interval_ms }), SqlStorageValue::from(row.id as i64)],
            )
            .map_err(storage)?;
        let stage = state.stage;
        let percent = row.stages()?.last().map_or(0.0, |s| s.percent);
        self.log(
            row,
            what,
            stage,
            percent,
            &format!("rollout {}/{}: {what} by {actor}", row.prompt, row.label),
            None,
            actor,
        )
    }

    fn end_rollout(
        &self,
        row: &Row,
        status: &str,
        action: &str,
        actor: &str,
        reason: &str,
        revision: Option<u64>,
    ) -> Result<(), ApiError> {
        self.sql()
            .exec(
                "UPDATE rollouts SET status = ?, updated_ms = ?, next_check_ms = NULL WHERE id = ?",
                vec![
                    status.into(),
                    SqlStorageValue::from(now_ms() as f64),
                    SqlStorageValue::from(row.id as i64),
                ],
            )
            .map_err(storage)?;
        let state = row.state()?;
        let percent = if status == "rolled_back" {
            0.0
        } else {
            row.stages()?.last().map_or(0.0, |s| s.percent)
        };
        self.log(
            row,
            action,
            state.stage,
            percent,
            &format!("rollout {}/{}: {reason}", row.prompt, row.label),
            revision,
            actor,
        )
    }

    /// Records what a rollout did and notifies webhooks of `rollout.<action>` (changes
    /// of traffic are notified with their revision instead).
    #[allow(clippy::too_many_arguments)]
    fn log(
        &self,
        row: &Row,
        action: &str,
        stage: u32,
        percent: f64,
        reason: &str,
        revision: Option<u64>,
        actor: &str,
    ) -> Result<(), ApiError> {
        let sql = self.sql();
        sql.exec(
            "INSERT INTO rollout_log (rollout, at_ms, action, stage, percent, reason, revision, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                SqlStorageValue::from(row.id as i64),
                SqlStorageValue::from(now_ms() as f64),
                action.into(),
                SqlStorageValue::from(i64::from(stage)),
                SqlStorageValue::from(percent),
                reason.into(),
                revision.map_or(SqlStorageValue::Null, |r| SqlStorageValue::from(r as i64)),
                actor.into(),
            ],
        )
        .map_err(storage)?;
        if revision.is_none() && action != "hold" {
            let event = format!("rollout.{action}");
            let payload = json!({"event": event, "prompt": row.prompt, "label": row.label, "rollout": row.id as u64, "stage": stage, "percent": percent, "actor": actor, "at_ms": now_ms(), "summary": reason});
            for (q, args) in self.delivery_statements(&event, &payload)? {
                sql.exec(q, args).map_err(storage)?;
            }
        }
        Ok(())
    }

    /// The rollout as the admin API shows it; `full` adds its log and last evidence.
    fn describe(&self, row: &Row, full: bool) -> Result<Value, ApiError> {
        let mut v = json!({
            "id": row.id as u64,
            "prompt": row.prompt,
            "label": row.label,
            "status": row.status,
            "plan": serde_json::from_str::<Value>(&row.plan).unwrap_or(Value::Null),
            "stage": row.state()?.stage,
            "stages": serde_json::from_str::<Value>(&row.stages).unwrap_or(Value::Null),
            "check_interval_ms": row.interval_ms as u64,
            "next_check_ms": row.next_check_ms.map(|t| t as u64),
            "started_ms": row.started_ms as u64,
            "updated_ms": row.updated_ms as u64,
            "actor": row.actor,
        });
        if full {
            v["last_decision"] = row
                .last
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(Value::Null);
            #[derive(Deserialize)]
            struct Log {
                at_ms: f64,
                action: String,
                stage: f64,
                percent: f64,
                reason: String,
                revision: Option<f64>,
                actor: String,
            }
            let log: Vec<Log> = self
                .sql()
                .exec("SELECT at_ms, action, stage, percent, reason, revision, actor FROM rollout_log WHERE rollout = ? ORDER BY id", vec![SqlStorageValue::from(row.id as i64)])
                .and_then(|c| c.to_array())
                .map_err(storage)?;
            #[derive(Deserialize)]
            struct Check {
                at_ms: f64,
                action: String,
                stage: f64,
                evidence: String,
            }
            let checks: Vec<Check> = self
                .sql()
                .exec("SELECT at_ms, action, stage, evidence FROM rollout_checks WHERE rollout = ? ORDER BY id", vec![SqlStorageValue::from(row.id as i64)])
                .and_then(|c| c.to_array())
                .map_err(storage)?;
            v["checks"] = checks
                .iter()
                .map(|c| json!({"at_ms": c.at_ms as u64, "action": c.action, "stage": c.stage as u64, "evidence": serde_json::from_str::<Value>(&c.evidence).unwrap_or(Value::Null)}))
                .collect();
            v["log"] = log
                .iter()
                .map(|l| json!({"at_ms": l.at_ms as u64, "action": l.action, "stage": l.stage as u64, "percent": l.percent, "reason": l.reason, "revision": l.revision.map(|r| r as u64), "actor": l.actor}))
                .collect();
        }
        Ok(v)
    }

    /// Runs the controller for every running rollout whose check is due.
    pub(super) async fn run_due_rollouts(&self) {
        let now = now_ms() as f64;
        let due = match self.rows(
            "status IN ('running', 'paused') AND next_check_ms <= ? ORDER BY next_check_ms",
            vec![SqlStorageValue::from(now)],
        ) {
            Ok(rows) => rows,
            Err(e) => {
                console_error!("edgeprompt control: reading due rollouts: {e:?}");
                return;
            }
        };
        for row in due {
            if let Err(e) = self.check_rollout(row.id as i64).await {
                console_error!(
                    "edgeprompt control: checking rollout {} ({}/{}): {e:?}",
                    row.id,
                    row.prompt,
                    row.label
                );
                // Try again at the next interval rather than in a tight loop.
                let _ = self.sql().exec(
                    "UPDATE rollouts SET next_check_ms = ? WHERE id = ?",
                    vec![
                        SqlStorageValue::from(now + row.interval_ms),
                        SqlStorageValue::from(row.id as i64),
                    ],
                );
            }
        }
    }

    /// The earliest check due among running rollouts.
    pub(super) fn next_rollout_check(&self) -> Option<f64> {
        #[derive(Deserialize)]
        struct Next {
            v: Option<f64>,
        }
        let rows: Vec<Next> = self
            .sql()
            .exec(
                "SELECT MIN(next_check_ms) AS v FROM rollouts WHERE status IN ('running', 'paused')",
                None,
            )
            .and_then(|c| c.to_array())
            .unwrap_or_default();
        rows.first().and_then(|r| r.v)
    }

    /// One controller step for a rollout: its periods' aggregates read, the engine's
    /// decision taken, and its action applied (unless the rollout or the manifest moved
    /// while the aggregates were read: then the next check decides).
    async fn check_rollout(&self, id: i64) -> Result<(), ApiError> {
        let row = self
            .rows("id = ?", vec![SqlStorageValue::from(id)])?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::not_found("rollout"))?;
        if !row.active() {
            return Ok(());
        }
        let plan = row.plan()?;
        let stages = row.stages()?;
        let revision = self.current_revision()?;
        let live = self.load(revision)?.unwrap_or_else(history::empty_manifest);
        // Someone else changed the label's route (a change that slipped past the guard,
        // or a rollback whose ending of the rollout was lost): the plan no longer
        // describes the traffic, and acting on it could undo that change. End it.
        let route = &live["prompts"][row.prompt.as_str()]["labels"][row.label.as_str()];
        let expected = stages.last().map_or(0.0, |s| s.percent);
        if candidate_share(route, plan.candidate).is_none_or(|p| (p - expected).abs() > 1e-9) {
            self.end_rollout(&row, "aborted", "abort", "rollout", &format!("the label's route was changed outside the rollout (the candidate no longer has {expected}%): ended without acting"), None)?;
            return Ok(());
        }
        let mut periods = Vec::with_capacity(stages.len());
        for s in &stages {
            let summary = aggregates::summary(&self.env, &row.prompt, &row.label, Some(&s.period))
                .await
                .map_err(|e| {
                    ApiError::new(
                        503,
                        "aggregates_unavailable",
                        format!("rollout evidence: {e}"),
                    )
                })?;
            periods.push(period_of(s, &plan, &summary, &live));
        }
        let input = StepInput {
            plan: plan.clone(),
            metrics: declared(&live),
            state: Some(row.state()?),
            now_ms: now_ms(),
            periods,
        };
        let out =
            rollout::step(&input).map_err(|e| ApiError::new(500, "rollout_step", e.to_string()))?;
        // The aggregates were read across awaits: apply only to what they describe.
        let again = self
            .rows("id = ?", vec![SqlStorageValue::from(id)])?
            .into_iter()
            .next();
        if again.as_ref().map(|r| r.updated_ms) != Some(row.updated_ms)
            || self.current_revision()? != revision
        {
            return Ok(());
        }
        self.apply(&row, &plan, &live, out).await
    }

    async fn apply(
        &self,
        row: &Row,
        plan: &Plan,
        live: &Value,
        mut out: StepOutput,
    ) -> Result<(), ApiError> {
        let now = now_ms();
        // A freeze window holds a rollout where it stands: no advance, no completion
        // (a rollback still goes through).
        if matches!(out.action, Action::Advance | Action::Complete) {
            let frozen = self
                .policy_of(&row.prompt, &row.label)?
                .and_then(|p| super::gates::frozen_now(&p));
            if let Some(hit) = frozen {
                let current = row.stages()?.last().cloned();
                out.reason = format!(
                    "held: {} (the evidence says {}: {})",
                    hit.reason,
                    if out.action == Action::Advance {
                        "advance"
                    } else {
                        "complete"
                    },
                    out.reason
                );
                out.action = Action::Hold;
                out.state = row.state()?;
                out.stage = current.as_ref().map_or(1, |s| s.stage);
                out.percent = Percent(
                    current
                        .as_ref()
                        .map_or(0, |s| (s.percent * 100.0).round() as u16),
                );
            }
        }
        let last = json!({"at_ms": now, "action": out.action, "stage": out.stage, "percent": out.percent, "reason": out.reason, "evidence": out.evidence}).to_string();
        let (prompt, label) = (row.prompt.as_str(), row.label.as_str());
        let mut stages = row.stages()?;
        // The engine's state says where the rollout stands (a paused one holds, and stays
        // paused, until a person resumes it).
        let status = match out.state.status {
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Completed => "completed",
            Status::RolledBack => "rolled_back",
        };
        let mut revision = None;
        match out.action {
            Action::Hold | Action::Pause => {}
            Action::Advance => {
                let percent = out.percent.to_string().trim_end_matches('%').to_string();
                let change = ops::ramp(
                    live,
                    prompt,
                    label,
                    None,
                    u64::from(plan.candidate),
                    &percent,
                )
                .map_err(op_error)?;
                let from = stages.last().map_or(1, |s| s.stage);
                let summary = format!(
                    "rollout {prompt}/{label}: stage {from} -> {} ({}): {} (revision {})",
                    out.stage,
                    out.percent,
                    out.reason,
                    ops::revision_of(&change.doc)
                );
                let (rev, period) = self
                    .store_traffic(
                        live,
                        change.doc,
                        summary,
                        "rollout.advance",
                        "rollout",
                        prompt,
                        label,
                    )
                    .await?;
                stages.push(Stage {
                    stage: out.stage,
                    percent: f64::from(out.percent.0) / 100.0,
                    period,
                    started_ms: now,
                    revision: rev,
                });
                revision = Some(rev);
            }
            Action::Complete | Action::Rollback => {
                let (version, action, what) = if out.action == Action::Complete {
                    (plan.candidate, "rollout.complete", "complete")
                } else {
                    (plan.control, "rollout.rollback", "rollback")
                };
                let change = ops::promote(live, prompt, label, u64::from(version), false)
                    .map_err(op_error)?;
                let summary = format!("rollout {prompt}/{label}: {what}, version {version} serves 100%: {} (revision {})", out.reason, ops::revision_of(&change.doc));
                let (rev, _) = self
                    .store_traffic(live, change.doc, summary, action, "rollout", prompt, label)
                    .await?;
                revision = Some(rev);
            }
        }
        // A paused rollout is still checked: a tripped guardrail rolls it back.
        let next = if status == "running" || status == "paused" {
            Some((now as f64) + row.interval_ms)
        } else {
            None
        };
        self.sql()
            .exec(
                "UPDATE rollouts SET state = ?, status = ?, stages = ?, updated_ms = ?, next_check_ms = ?, last = ? WHERE id = ?",
                vec![
                    json!(out.state).to_string().into(),
                    status.into(),
                    json!(stages).to_string().into(),
                    SqlStorageValue::from(now as f64),
                    next.map_or(SqlStorageValue::Null, SqlStorageValue::from),
                    last.into(),
                    SqlStorageValue::from(row.id as i64),
                ],
            )
            .map_err(storage)?;
        let action = match out.action {
            Action::Hold => "hold",
            Action::Advance => "advance",
            Action::Complete => "complete",
            Action::Pause => "pause",
            Action::Rollback => "rollback",
        };
        // Every check's evidence, for each guardrail's interval over time.
        let sql = self.sql();
        sql.exec(
            "INSERT INTO rollout_checks (rollout, at_ms, action, stage, evidence) VALUES (?, ?, ?, ?, ?)",
            vec![
                SqlStorageValue::from(row.id as i64),
                SqlStorageValue::from(now as f64),
                action.into(),
                SqlStorageValue::from(i64::from(out.stage)),
                json!(out.evidence).to_string().into(),
            ],
        )
        .map_err(storage)?;
        sql.exec(
            "DELETE FROM rollout_checks WHERE rollout = ? AND id <= (SELECT id FROM rollout_checks WHERE rollout = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
            vec![SqlStorageValue::from(row.id as i64), SqlStorageValue::from(row.id as i64), SqlStorageValue::from(KEEP_CHECKS)],
        )
        .map_err(storage)?;
        if out.action != Action::Hold {
            self.log(
                row,
                action,
                out.stage,
                f64::from(out.percent.0) / 100.0,
                &out.reason,
                revision,
                "rollout",
            )?;
        }
        if revision.is_some() {
            self.sync_kv().await;
        }
        Ok(())
    }
}

/// The weights period a label's route has in `doc` (validated and compiled first).
fn period_after(doc: &Value, prompt: &str, label: &str) -> Result<String, ApiError> {
    let compiled = manifest::compile_value(doc.clone()).map_err(|e| {
        ApiError::new(
            422,
            "invalid_manifest",
            format!("the rollout's change would make an invalid manifest: {e}"),
        )
    })?;
    Ok(compiled
        .prompt(prompt)
        .and_then(|p| {
            p.labels
                .iter()
                .find(|(l, _)| &**l == label)
                .map(|(_, r)| r.period.to_string())
        })
        .unwrap_or_default())
}

/// The candidate's share of a route's default, in percent.
fn candidate_share(route: &Value, candidate: u32) -> Option<f64> {
    let d = &route["default"];
    if let Some(v) = d["version"].as_u64() {
        return Some(if v == u64::from(candidate) {
            100.0
        } else {
            0.0
        });
    }
    let split = d["split"].as_array()?;
    Some(
        split
            .iter()
            .filter(|e| e["version"].as_u64() == Some(u64::from(candidate)))
            .filter_map(|e| e["weight"].as_f64())
            .sum(),
    )
}

/// The version a route's default serves alone, if it serves one.
fn serving_one(route: &Value) -> Option<u64> {
    let d = &route["default"];
    if let Some(v) = d["version"].as_u64() {
        return Some(v);
    }
    let weighted: Vec<u64> = d["split"]
        .as_array()?
        .iter()
        .filter(|e| e["weight"].as_f64().unwrap_or(0.0) > 0.0)
        .filter_map(|e| e["version"].as_u64())
        .collect();
    match weighted.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// The manifest's declared metrics, as the step reads them.
fn declared(live: &Value) -> BTreeMap<String, MetricSpec> {
    live["metrics"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, m)| {
            serde_json::from_value::<MetricSpec>(
                json!({"kind": m["kind"], "higher_is_better": m["higher_is_better"]}),
            )
            .ok()
            .map(|spec| (name.clone(), spec))
        })
        .collect()
}

/// A stage's period as the step reads it: the split's weights, and per version the
/// units the split decided (rule-decided and forced units are not the split's) and the
/// guardrails' unit-level sums.
fn period_of(
    s: &Stage,
    plan: &Plan,
    summary: &edgeprompt::metrics::Summary,
    live: &Value,
) -> Period {
    let weights = BTreeMap::from([
        (plan.control, 100.0 - s.percent),
        (plan.candidate, s.percent),
    ]);
    let mut versions = BTreeMap::new();
    for v in [plan.control, plan.candidate] {
        let exposed = summary.get(v, "");
        let mut metrics = BTreeMap::new();
        for g in &plan.guardrails {
            let m = summary.get(v, &g.metric);
            let kind = live["metrics"][&g.metric]["kind"].as_str().unwrap_or("");
            let units = if kind == "continuous" {
                m.units
            } else {
                exposed.units
            };
            metrics.insert(
                g.metric.clone(),
                rollout::MetricSums {
                    units,
                    sum: m.obs_sum,
                    sum_sq: m.obs_sum_sq,
                },
            );
        }
        versions.insert(
            v,
            VersionTotals {
                exposed_units: exposed.default_units,
                metrics,
            },
        );
    }
    Period {
        stage: s.stage,
        weights,
        started_ms: s.started_ms,
        versions,
    }
}

fn bp_text(bp: u16) -> String {
    if bp % 100 == 0 {
        (bp / 100).to_string()
    } else {
        format!("{}", f64::from(bp) / 100.0)
    }
}

/// 422 naming the plan's field at fault (`details.field`), as the message does.
fn plan_refused(field: &str, reason: &str) -> ApiError {
    ApiError::new(422, "invalid_plan", format!("{field}: {reason}"))
        .details(json!({"field": field, "reason": reason}))
}

/// The plan's numbers have the right types before they are read (a type error would
/// otherwise name no field).
fn typed(plan: &Value) -> Result<(), ApiError> {
    for k in ["candidate", "min_units", "min_duration_ms"] {
        if plan[k].as_u64().is_none() {
            return Err(plan_refused(
                &format!("plan.{k}"),
                &format!("a whole number, not {}", plan[k]),
            ));
        }
    }
    let Some(stages) = plan["stages"].as_array() else {
        return Err(plan_refused("plan.stages", "a list of percents"));
    };
    if let Some((i, x)) = stages.iter().enumerate().find(|(_, x)| !x.is_number()) {
        return Err(plan_refused(
            &format!("plan.stages[{i}]"),
            &format!("a percent, not {x}"),
        ));
    }
    if let Some(a) = plan.get("alpha").filter(|a| !a.is_number()) {
        return Err(plan_refused("plan.alpha", &format!("a number, not {a}")));
    }
    let Some(guardrails) = plan["guardrails"].as_array() else {
        return Err(plan_refused(
            "plan.guardrails",
            "a list of {metric, max_regression?, mde?}",
        ));
    };
    for (i, g) in guardrails.iter().enumerate() {
        if !g["metric"].is_string() {
            return Err(plan_refused(
                &format!("plan.guardrails[{i}].metric"),
                "a declared metric's name",
            ));
        }
        for k in ["max_regression", "mde"] {
            if let Some(x) = g.get(k).filter(|x| !x.is_number()) {
                return Err(plan_refused(
                    &format!("plan.guardrails[{i}].{k}"),
                    &format!("a number, not {x}"),
                ));
            }
        }
    }
    Ok(())
}

fn no_rollout(prompt: &str, label: &str) -> ApiError {
    ApiError::new(
        404,
        "no_rollout",
        format!("{prompt}/{label} has no rollout"),
    )
}
