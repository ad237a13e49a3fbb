//! Promotion gates (docs/gates.md): a label's policy (`/admin/v1/policies`) and the
//! pending changes that wait for an approval (`/admin/v1/changes`). Every path that
//! changes a label's route (the admin API's writes, a rollout's start and its advances)
//! asks [`Control::check_gates`] here, so the CLI, the console and scripts meet the same
//! rules. A rollback is never gated: it is applied, and audited as a bypass.

use super::{param, storage, Control, Row};
use edgeprompt::manifest;
use edgeprompt::policy::{self, Policy};
use edgeprompt_shell::http::{respond, ApiError};
use edgeprompt_shell::platform::now_ms;
use edgeprompt_shell::zones;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use worker::{Method, SqlStorageValue};

/// The tables: policies, their audit log, and changes waiting for (or decided by) an approval.
pub const SCHEMA: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS policies (prompt TEXT NOT NULL, label TEXT NOT NULL, policy TEXT NOT NULL, set_by TEXT NOT NULL, set_at_ms REAL NOT NULL, PRIMARY KEY (prompt, label))",
    "CREATE TABLE IF NOT EXISTS policy_log (id INTEGER PRIMARY KEY AUTOINCREMENT, prompt TEXT NOT NULL, label TEXT NOT NULL, policy TEXT, actor TEXT NOT NULL, approved_by TEXT, at_ms REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS changes (id INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, prompt TEXT NOT NULL, label TEXT NOT NULL, summary TEXT NOT NULL, request TEXT NOT NULL, guard TEXT NOT NULL, base_revision INTEGER NOT NULL, requested_by TEXT NOT NULL, requested_at_ms REAL NOT NULL, expires_at_ms REAL NOT NULL, state TEXT NOT NULL, decided_by TEXT, decided_at_ms REAL, reason TEXT, revision INTEGER)",
    "CREATE INDEX IF NOT EXISTS changes_by_state ON changes (state, id)",
];
/// The scope a token needs to approve a change.
const APPROVE_SCOPE: &str = "rw+approve";
/// Changes listed at most.
const LIST_MAX: i64 = 200;
/// The largest request kept for a pending change (a SQLite value holds at most 2 MB).
const MAX_REQUEST_BYTES: usize = 1_900_000;
/// The longest reason kept with a rejection.
const MAX_REASON_BYTES: usize = 500;
/// Requests larger than this are left out of lists (`GET /admin/v1/changes/ID` has them).
const LISTED_REQUEST_BYTES: usize = 16_384;
/// A change being applied that long (its object was reset meanwhile) is pending again.
const APPLYING_STALE_MS: f64 = 300_000.0;

/// Who approved a change being applied now, and what it was shown to do.
pub(super) struct Approval {
    /// The pending change's number.
    pub id: i64,
    /// Who asked for it (the change is stored in their name).
    pub requester: String,
    /// Who approved it.
    pub approver: String,
    /// The routes the change set when it was asked for (`P/L` -> route, `null` when it
    /// removed one): applied now, it must set exactly these, or it is not what was
    /// approved. `None` for a policy change.
    pub expect_after: Option<Map<String, Value>>,
}

impl Approval {
    /// The audit log's actor for the applied change.
    pub fn actor(&self) -> String {
        format!(
            "{} (approved by {}, change #{})",
            self.requester, self.approver, self.id
        )
    }
}

/// What the gates decided for a change: labels whose change waits for an approval,
/// labels a rollback changed past their gates, what each gated label serves now
/// (checked again when the change is approved), and every route the change sets.
#[derive(Default)]
pub(super) struct Gate {
    pub needs_approval: Vec<(String, String)>,
    pub bypassed: Vec<(String, String)>,
    pub guard: Map<String, Value>,
    pub after: Map<String, Value>,
    pub expires_hours: u32,
}

#[derive(Deserialize)]
struct PolicyRow {
    prompt: String,
    label: String,
    policy: String,
    set_by: String,
    set_at_ms: f64,
}

#[derive(Deserialize)]
struct ChangeRow {
    id: f64,
    op: String,
    prompt: String,
    label: String,
    summary: String,
    request: String,
    guard: String,
    base_revision: f64,
    requested_by: String,
    requested_at_ms: f64,
    expires_at_ms: f64,
    state: String,
    decided_by: Option<String>,
    decided_at_ms: Option<f64>,
    reason: Option<String>,
    revision: Option<f64>,
}

impl ChangeRow {
    /// The change as listed: a request over [`LISTED_REQUEST_BYTES`] is left out.
    fn listed(&self) -> Value {
        let mut v = self.to_json();
        if self.request.len() > LISTED_REQUEST_BYTES {
            v["request"] = Value::Null;
            v["request_bytes"] = json!(self.request.len());
        }
        v
    }

    /// The change as a webhook carries it: without its request.
    fn notified(&self) -> Value {
        let mut v = self.to_json();
        if let Some(o) = v.as_object_mut() {
            o.remove("request");
        }
        v
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id as u64,
            "state": self.state,
            "op": self.op,
            "prompt": self.prompt,
            "label": self.label,
            "summary": self.summary,
            "request": serde_json::from_str::<Value>(&self.request).unwrap_or(Value::Null),
            "base_revision": self.base_revision as u64,
            "requested_by": self.requested_by,
            "requested_at_ms": self.requested_at_ms as u64,
            "expires_at_ms": self.expires_at_ms as u64,
            "decided_by": self.decided_by,
            "decided_at_ms": self.decided_at_ms.map(|v| v as u64),
            "reason": self.reason,
            "revision": self.revision.map(|v| v as u64),
        })
    }
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "invalid_request", message)
}

/// The guard key of a label's route, and of its policy.
fn route_key(prompt: &str, label: &str) -> String {
    format!("route:{prompt}/{label}")
}
fn policy_key(prompt: &str, label: &str) -> String {
    format!("policy:{prompt}/{label}")
}

/// Every label route that differs between two documents: `P/L` -> the route in
/// `after` (`null` when it has none).
pub(super) fn changed_routes(before: &Value, after: &Value) -> Map<String, Value> {
    let keys = |v: &Value| {
        v.as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let mut prompts = keys(&before["prompts"]);
    prompts.extend(keys(&after["prompts"]));
    prompts.sort();
    prompts.dedup();
    let mut out = Map::new();
    for p in &prompts {
        let (b, a) = (
            &before["prompts"][p.as_str()]["labels"],
            &after["prompts"][p.as_str()]["labels"],
        );
        let mut labels = keys(b);
        labels.extend(keys(a));
        labels.sort();
        labels.dedup();
        for l in &labels {
            if b.get(l.as_str()) != a.get(l.as_str()) {
                out.insert(
                    format!("{p}/{l}"),
                    a.get(l.as_str()).cloned().unwrap_or(Value::Null),
                );
            }
        }
    }
    out
}

/// A name as the manifest allows it (docs/manifest.md), so that a policy cannot be set
/// on a label that can never exist.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    (1..=128).contains(&b.len())
        && b.first()
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

/// The window in force for `policy` now, if any.
pub(super) fn frozen_now(p: &Policy) -> Option<policy::FreezeHit> {
    let now = now_ms();
    p.frozen_at(now as i64, &|tz: &str| zones::local_time(tz, now))
}

fn frozen_error(prompt: &str, label: &str, hit: &policy::FreezeHit) -> ApiError {
    ApiError::new(
        423,
        "label_frozen",
        format!(
            "{prompt}/{label} is frozen: {}; only a rollback changes it now",
            hit.reason
        ),
    )
    .details(json!({"prompt": prompt, "label": label, "window": hit.index, "reason": hit.reason, "until_ms": hit.until_ms}))
}

impl Control {
    /// `/admin/v1/policies` and `/admin/v1/changes`.
    pub(super) async fn gates_route(
        &self,
        method: &Method,
        segs: &[&str],
        query: &[(String, String)],
        body: &Value,
        actor: &str,
        scope: &str,
    ) -> Result<worker::Response, ApiError> {
        match (method, segs) {
            (Method::Get, ["policies"]) => self.list_policies(query),
            (Method::Post, ["policies"]) => self.set_policy(body, actor, None).await,
            (Method::Get, ["policies", "log"]) => self.policy_log(query),
            (Method::Get, ["changes"]) => self.list_changes(query),
            (Method::Get, ["changes", id]) => {
                Ok(respond(200, &self.change(parse_id(id)?)?.to_json()))
            }
            (Method::Post, ["changes", id, "approve"]) => {
                self.approve(parse_id(id)?, actor, scope).await
            }
            (Method::Post, ["changes", id, "reject"]) => {
                self.reject(parse_id(id)?, body, actor, scope)
            }
            _ => Err(ApiError::not_found(&format!(
                "{method:?} /admin/v1/{}",
                segs.join("/")
            ))),
        }
    }

    /// The policy of a label, if it has one.
    pub(super) fn policy_of(&self, prompt: &str, label: &str) -> Result<Option<Policy>, ApiError> {
        let rows: Vec<Row<String>> = self
            .sql()
            .exec(
                "SELECT policy AS v FROM policies WHERE prompt = ? AND label = ?",
                vec![prompt.into(), label.into()],
            )
            .and_then(|c| c.to_array())
            .map_err(storage)?;
        rows.first().map(|r| parse_stored(&r.v)).transpose()
    }

    fn policies(&self) -> Result<Vec<PolicyRow>, ApiError> {
        self.sql()
            .exec(
                "SELECT prompt, label, policy, set_by, set_at_ms FROM policies ORDER BY prompt, label",
                None,
            )
            .and_then(|c| c.to_array())
            .map_err(storage)
    }

    /// The gates of every protected label whose route differs between `live` and
    /// `after`: a freeze window or a missing eval refuses the change (unless it is a
    /// rollback); a required approval is returned for the caller to hold the change.
    pub(super) fn check_gates(
        &self,
        op: &str,
        live: &Value,
        after: &Value,
        approval: Option<&Approval>,
    ) -> Result<Gate, ApiError> {
        let mut gate = Gate {
            after: changed_routes(live, after),
            ..Gate::default()
        };
        // An approved change applies as it was shown, or not at all: computed again on
        // the live revision, it must set exactly the routes it set when asked for.
        if let Some(expect) = approval.and_then(|a| a.expect_after.as_ref()) {
            if &gate.after != expect {
                let keys =
                    |m: &Map<String, Value>| m.keys().cloned().collect::<Vec<_>>().join(", ");
                return Err(ApiError::new(
                    409,
                    "label_moved",
                    format!(
                        "applied now, the change would set the routes of [{}], not the routes of [{}] as approved",
                        keys(&gate.after),
                        keys(expect)
                    ),
                ));
            }
        }
        let approved = approval.is_some();
        let mut missing = Vec::new();
        for row in self.policies()? {
            let (p, l) = (row.prompt.as_str(), row.label.as_str());
            let before = live["prompts"][p]["labels"].get(l);
            let now = after["prompts"][p]["labels"].get(l);
            if before == now {
                continue;
            }
            let pol = parse_stored(&row.policy)?;
            if pol.is_empty() {
                continue;
            }
            if op == "rollback" {
                gate.bypassed.push((row.prompt.clone(), row.label.clone()));
                continue;
            }
            if let Some(hit) = frozen_now(&pol) {
                return Err(frozen_error(p, l, &hit));
            }
            if pol.require_eval {
                if let Some(route) = now {
                    for v in policy::newly_served(before, route) {
                        let Some(body) = after["prompts"][p]["versions"]
                            .as_array()
                            .and_then(|vs| vs.iter().find(|x| x["version"].as_u64() == Some(v)))
                        else {
                            // Validation makes this unreachable; the gate still fails closed.
                            missing.push(json!({"prompt": p, "label": l, "version": v, "content_hash": null}));
                            continue;
                        };
                        let hash = manifest::content_hash(body);
                        if !self.eval_passed(p, &hash)? {
                            missing.push(json!({"prompt": p, "label": l, "version": v, "content_hash": hash}));
                        }
                    }
                }
            }
            if pol.require_approval && !approved {
                gate.needs_approval
                    .push((row.prompt.clone(), row.label.clone()));
                gate.guard
                    .insert(route_key(p, l), before.cloned().unwrap_or(Value::Null));
                gate.expires_hours = gate.expires_hours.max(pol.approval_expires_hours);
            }
        }
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|m| {
                    format!(
                        "{}/{} version {} (content {})",
                        m["prompt"].as_str().unwrap_or(""),
                        m["label"].as_str().unwrap_or(""),
                        m["version"],
                        m["content_hash"]
                            .as_str()
                            .unwrap_or("")
                            .get(..12)
                            .unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ApiError::new(
                412,
                "eval_required",
                format!("no passing eval report for {list}: run `edgeprompt eval --report` on exactly this content first"),
            )
            .details(json!({"missing": missing})));
        }
        Ok(gate)
    }

    /// Whether a passing report with at least one case was recorded for this content.
    fn eval_passed(&self, prompt: &str, hash: &str) -> Result<bool, ApiError> {
        let rows: Vec<Row<f64>> = self
            .sql()
            .exec(
                "SELECT COUNT(*) AS v FROM eval_versions WHERE prompt = ? AND hash = ? AND passed = 1 AND cases > 0",
                vec![prompt.into(), hash.into()],
            )
            .and_then(|c| c.to_array())
            .map_err(storage)?;
        Ok(rows.first().is_some_and(|r| r.v > 0.0))
    }

    /// Holds a change for approval: 202 with the pending change.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn hold_for_approval(
        &self,
        op: &str,
        gate: &Gate,
        summary: &str,
        request: &Value,
        base: u64,
        actor: &str,
    ) -> Result<worker::Response, ApiError> {
        let mut request = request.clone();
        if let Some(o) = request.as_object_mut() {
            o.remove("base_revision");
            o.remove("dry_run");
        }
        let text = request.to_string();
        if text.len() > MAX_REQUEST_BYTES {
            return Err(ApiError::new(413, "change_too_large", format!("a change waiting for approval is kept whole, at most {MAX_REQUEST_BYTES} bytes; this one has {}", text.len())));
        }
        let (prompt, label) = gate.needs_approval.first().cloned().unwrap_or_default();
        let now = now_ms() as f64;
        let expires = match self.faults.approval_ttl_ms {
            Some(ms) => now + ms as f64,
            None => now + f64::from(gate.expires_hours.max(1)) * 3_600_000.0,
        };
        let labels = gate
            .needs_approval
            .iter()
            .map(|(p, l)| format!("{p}/{l}"))
            .collect::<Vec<_>>()
            .join(", ");
        let summary = format!("{summary} (needs approval: {labels})");
        let sql = self.sql();
        sql.exec(
            "INSERT INTO changes (op, prompt, label, summary, request, guard, base_revision, requested_by, requested_at_ms, expires_at_ms, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
            vec![
                op.into(),
                prompt.into(),
                label.into(),
                summary.into(),
                text.into(),
                json!({"before": gate.guard, "after": gate.after}).to_string().into(),
                SqlStorageValue::from(base as i64),
                actor.into(),
                SqlStorageValue::from(now),
                SqlStorageValue::from(expires),
            ],
        )
        .map_err(storage)?;
        let id = self.last_id()?;
        let change = self.change(id)?;
        self.notify("change.pending", &change, actor)?;
        self.schedule_alarm().await;
        Ok(respond(202, &json!({"pending": change.to_json()})))
    }

    fn last_id(&self) -> Result<i64, ApiError> {
        let rows: Vec<Row<f64>> = self
            .sql()
            .exec("SELECT last_insert_rowid() AS v", None)
            .and_then(|c| c.to_array())
            .map_err(storage)?;
        Ok(rows.first().map_or(0, |r| r.v as i64))
    }

    /// Queues a change's webhook event (sent from the alarm).
    fn notify(&self, event: &str, change: &ChangeRow, actor: &str) -> Result<(), ApiError> {
        let payload = json!({"event": event, "actor": actor, "at_ms": now_ms(), "summary": change.summary, "change": change.notified()});
        for (q, args) in self.delivery_statements(event, &payload)? {
            self.sql().exec(q, args).map_err(storage)?;
        }
        Ok(())
    }

    fn change(&self, id: i64) -> Result<ChangeRow, ApiError> {
        self.expire_due()?;
        let rows: Vec<ChangeRow> = self
            .sql()
            .exec(
                "SELECT * FROM changes WHERE id = ?",
                vec![SqlStorageValue::from(id)],
            )
            .and_then(|c| c.to_array())
            .map_err(storage)?;
        rows.into_iter()
            .next()
            .ok_or_else(|| ApiError::new(404, "unknown_change", format!("no change #{id}")))
    }

    /// Pending changes past their time become `expired` (checked when read, so that no
    /// timer is needed for it).
    fn expire_due(&self) -> Result<(), ApiError> {
        let now = now_ms() as f64;
        self.sql()
            .exec(
                "UPDATE changes SET state = 'pending', decided_by = NULL, decided_at_ms = NULL WHERE state = 'applying' AND decided_at_ms <= ?",
                vec![SqlStorageValue::from(now - APPLYING_STALE_MS)],
            )
            .map_err(storage)?;
        self.sql()
            .exec(
                "UPDATE changes SET state = 'expired', decided_at_ms = expires_at_ms WHERE state = 'pending' AND expires_at_ms <= ?",
                vec![SqlStorageValue::from(now)],
            )
            .map(|_| ())
            .map_err(storage)
    }

    fn list_changes(&self, query: &[(String, String)]) -> Result<worker::Response, ApiError> {
        self.expire_due()?;
        let (clause, mut args) = matching(query, &["state", "prompt", "label"]);
        args.push(SqlStorageValue::from(LIST_MAX));
        let rows: Vec<ChangeRow> = self
            .sql()
            .exec(
                &format!("SELECT * FROM changes WHERE {clause} ORDER BY id DESC LIMIT ?"),
                args,
            )
            .and_then(|c| c.to_array())
            .map_err(storage)?;
        Ok(respond(
            200,
            &json!({"changes": rows.iter().map(ChangeRow::listed).collect::<Vec<_>>()}),
        ))
    }

    fn decide(
        &self,
        id: i64,
        state: &str,
        by: &str,
        reason: Option<&str>,
        revision: Option<u64>,
    ) -> Result<ChangeRow, ApiError> {
        self.sql()
            .exec(
                "UPDATE changes SET state = ?, decided_by = ?, decided_at_ms = ?, reason = ?, revision = ? WHERE id = ? AND state IN ('pending', 'applying')",
                vec![
                    state.into(),
                    by.into(),
                    SqlStorageValue::from(now_ms() as f64),
                    reason.map_or(SqlStorageValue::Null, SqlStorageValue::from),
                    revision.map_or(SqlStorageValue::Null, |r| SqlStorageValue::from(r as i64)),
                    SqlStorageValue::from(id),
                ],
            )
            .map_err(storage)?;
        self.change(id)
    }

    /// What a guard key holds now (a label's route, or its policy).
    fn guarded_now(&self, key: &str, live: &Value) -> Result<Value, ApiError> {
        if let Some(rest) = key.strip_prefix("route:") {
            let (p, l) = rest.split_once('/').unwrap_or((rest, ""));
            return Ok(live["prompts"][p]["labels"]
                .get(l)
                .cloned()
                .unwrap_or(Value::Null));
        }
        if let Some(rest) = key.strip_prefix("policy:") {
            let (p, l) = rest.split_once('/').unwrap_or((rest, ""));
            return Ok(self.policy_of(p, l)?.map_or(Value::Null, |p| p.to_value()));
        }
        Ok(Value::Null)
    }

    async fn approve(
        &self,
        id: i64,
        approver: &str,
        scope: &str,
    ) -> Result<worker::Response, ApiError> {
        let change = self.change(id)?;
        match change.state.as_str() {
            "pending" => {}
            "expired" => {
                return Err(ApiError::new(
                    410,
                    "change_expired",
                    format!("change #{id} expired unapproved; ask for it again"),
                ))
            }
            other => {
                return Err(ApiError::new(
                    409,
                    "change_decided",
                    format!("change #{id} is already {other}"),
                ))
            }
        }
        if scope != APPROVE_SCOPE {
            return Err(ApiError::new(
                403,
                "approval_not_allowed",
                format!(
                    "approving needs a token with scope {APPROVE_SCOPE}; {approver}'s is {scope}"
                ),
            ));
        }
        if approver == change.requested_by {
            return Err(ApiError::new(
                403,
                "approval_not_allowed",
                format!("change #{id} was asked for by {approver}: someone else must approve it"),
            ));
        }
        let current = self.current_revision()?;
        let live = self
            .load(current)?
            .unwrap_or_else(edgeprompt::ops::history::empty_manifest);
        let guard: Value = serde_json::from_str(&change.guard).unwrap_or(Value::Null);
        for (key, expected) in guard["before"].as_object().into_iter().flatten() {
            if &self.guarded_now(key, &live)? != expected {
                let what = key
                    .replace("route:", "the route of ")
                    .replace("policy:", "the policy of ");
                let reason = format!(
                    "{what} changed after the change was asked for (revision {}); nothing was applied",
                    change.base_revision as u64
                );
                return Err(self.fail_change(id, approver, &reason)?);
            }
        }
        // Claimed before the first await: a second approval, a rejection or an expiry
        // meanwhile finds it no longer pending.
        self.sql()
            .exec(
                "UPDATE changes SET state = 'applying', decided_by = ?, decided_at_ms = ? WHERE id = ? AND state = 'pending'",
                vec![
                    approver.into(),
                    SqlStorageValue::from(now_ms() as f64),
                    SqlStorageValue::from(id),
                ],
            )
            .map_err(storage)?;
        let mut body: Value = serde_json::from_str(&change.request).unwrap_or(Value::Null);
        if let Some(o) = body.as_object_mut() {
            o.insert("base_revision".into(), json!(current));
        }
        let approval = Approval {
            id,
            requester: change.requested_by.clone(),
            approver: approver.to_string(),
            expect_after: (change.op != "policy")
                .then(|| guard["after"].as_object().cloned().unwrap_or_default()),
        };
        let requester = change.requested_by.as_str();
        let applied = match change.op.as_str() {
            "policy" => self.set_policy(&body, requester, Some(&approval)).await,
            "rollout.start" => self.start_rollout(&body, requester, Some(&approval)).await,
            op => self.write(op, &body, requester, Some(&approval)).await,
        };
        let mut applied = match applied {
            Ok(r) => r,
            Err(e) if e.code() == "label_moved" => {
                let reason = e.message().to_string();
                return Err(self.fail_change(id, approver, &reason)?);
            }
            Err(e) => {
                // Refused now (a freeze, a missing eval, a running rollout): still pending.
                self.sql()
                    .exec(
                        "UPDATE changes SET state = 'pending', decided_by = NULL, decided_at_ms = NULL WHERE id = ? AND state = 'applying'",
                        vec![SqlStorageValue::from(id)],
                    )
                    .map_err(storage)?;
                return Err(e);
            }
        };
        let result: Value = applied.json().await.unwrap_or(Value::Null);
        let revision = match result["revision"].as_u64() {
            Some(r) => Some(r),
            None if change.op != "policy" => Some(self.current_revision()?),
            None => None,
        };
        let decided = self.decide(id, "applied", approver, None, revision)?;
        self.notify("change.approved", &decided, approver)?;
        self.schedule_alarm().await;
        Ok(respond(
            200,
            &json!({"change": decided.to_json(), "result": result}),
        ))
    }

    /// Marks a change failed (it no longer applies as asked) and answers 409 `label_moved`.
    fn fail_change(&self, id: i64, by: &str, reason: &str) -> Result<ApiError, ApiError> {
        let failed = self.decide(id, "failed", by, Some(reason), None)?;
        self.notify("change.failed", &failed, by)?;
        Ok(ApiError::new(
            409,
            "label_moved",
            format!("change #{id}: {reason}; ask for it again from what is live now"),
        )
        .details(json!({"change": failed.to_json()})))
    }

    fn reject(
        &self,
        id: i64,
        body: &Value,
        actor: &str,
        scope: &str,
    ) -> Result<worker::Response, ApiError> {
        let change = self.change(id)?;
        if change.state != "pending" {
            return Err(ApiError::new(
                409,
                "change_decided",
                format!("change #{id} is already {}", change.state),
            ));
        }
        if scope != APPROVE_SCOPE && actor != change.requested_by {
            return Err(ApiError::new(403, "approval_not_allowed", format!("rejecting needs a token with scope {APPROVE_SCOPE} (or the requester's, to withdraw it)")));
        }
        let reason = match body.get("reason") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.len() <= MAX_REASON_BYTES => Some(s.as_str()),
            Some(_) => {
                return Err(bad(format!(
                    "\"reason\" must be a string of at most {MAX_REASON_BYTES} bytes"
                )))
            }
        };
        let decided = self.decide(id, "rejected", actor, reason, None)?;
        self.notify("change.rejected", &decided, actor)?;
        Ok(respond(200, &json!({"change": decided.to_json()})))
    }

    fn list_policies(&self, query: &[(String, String)]) -> Result<worker::Response, ApiError> {
        let mut out = Vec::new();
        for row in self.policies()? {
            if param(query, "prompt").is_some_and(|p| p != row.prompt)
                || param(query, "label").is_some_and(|l| l != row.label)
            {
                continue;
            }
            let pol = parse_stored(&row.policy)?;
            let frozen = frozen_now(&pol)
                .map(|h| json!({"reason": h.reason, "until_ms": h.until_ms, "window": h.index}));
            out.push(json!({"prompt": row.prompt, "label": row.label, "policy": pol.to_value(), "set_by": row.set_by, "set_at_ms": row.set_at_ms as u64, "frozen": frozen}));
        }
        Ok(respond(200, &json!({"policies": out})))
    }

    fn policy_log(&self, query: &[(String, String)]) -> Result<worker::Response, ApiError> {
        #[derive(Deserialize)]
        struct Logged {
            id: f64,
            prompt: String,
            label: String,
            policy: Option<String>,
            actor: String,
            approved_by: Option<String>,
            at_ms: f64,
        }
        let (clause, mut args) = matching(query, &["prompt", "label"]);
        args.push(SqlStorageValue::from(LIST_MAX));
        let rows: Vec<Logged> = self
            .sql()
            .exec(
                &format!("SELECT * FROM policy_log WHERE {clause} ORDER BY id DESC LIMIT ?"),
                args,
            )
            .and_then(|c| c.to_array())
            .map_err(storage)?;
        let list: Vec<Value> = rows
            .iter()
            .map(|r| json!({"id": r.id as u64, "prompt": r.prompt, "label": r.label, "policy": r.policy.as_deref().and_then(|p| serde_json::from_str::<Value>(p).ok()), "actor": r.actor, "approved_by": r.approved_by, "at_ms": r.at_ms as u64}))
            .collect();
        Ok(respond(200, &json!({"log": list})))
    }

    /// `POST /admin/v1/policies {prompt, label, policy}` (`policy: null` removes it). A
    /// label whose policy requires approval needs one to change that policy too.
    pub(super) async fn set_policy(
        &self,
        body: &Value,
        actor: &str,
        approval: Option<&Approval>,
    ) -> Result<worker::Response, ApiError> {
        let s = |k: &str| {
            body[k]
                .as_str()
                .filter(|v| valid_name(v))
                .ok_or_else(|| bad(format!("\"{k}\" is required: a name (docs/manifest.md)")))
        };
        let (prompt, label) = (s("prompt")?, s("label")?);
        let new = match body.get("policy") {
            None => {
                return Err(bad(
                    "\"policy\" is required (null removes the label's policy)",
                ))
            }
            Some(Value::Null) => None,
            Some(v) => {
                let p = Policy::parse(v).map_err(|problems| {
                    let list: Vec<Value> = problems
                        .iter()
                        .map(|p| json!({"path": format!("policy.{}", p.path), "reason": p.reason}))
                        .collect();
                    let lines: Vec<String> = problems
                        .iter()
                        .map(|p| format!("policy.{}: {}", p.path, p.reason))
                        .collect();
                    ApiError::new(
                        422,
                        "invalid_policy",
                        format!(
                            "the policy is invalid ({} problem(s)); nothing was stored",
                            list.len()
                        ),
                    )
                    .details(json!({"problems": lines, "fields": list}))
                })?;
                let canonical = p.to_value();
                let windows = canonical["freeze"].as_array().cloned().unwrap_or_default();
                for (i, w) in windows.iter().enumerate() {
                    if let Some(tz) = w["time_zone"].as_str() {
                        if !zones::known(tz) {
                            let path = format!("policy.freeze[{i}].time_zone");
                            return Err(ApiError::new(422, "invalid_policy", format!("{path}: \"{tz}\" is not a time zone the runtime knows (an IANA name such as Europe/Berlin)"))
                                .details(json!({"problems": [format!("{path}: unknown time zone \"{tz}\"")], "fields": [{"path": path, "reason": "unknown time zone"}]})));
                        }
                    }
                }
                Some(p)
            }
        };
        let old = self.policy_of(prompt, label)?;
        let old_json = old.as_ref().map_or(Value::Null, Policy::to_value);
        let new_json = new.as_ref().map_or(Value::Null, Policy::to_value);
        if old_json == new_json {
            return Ok(respond(
                200,
                &json!({"prompt": prompt, "label": label, "policy": new_json, "changed": false}),
            ));
        }
        if approval.is_none() && old.as_ref().is_some_and(|p| p.require_approval) {
            let gate = Gate {
                needs_approval: vec![(prompt.to_string(), label.to_string())],
                guard: [(policy_key(prompt, label), old_json.clone())]
                    .into_iter()
                    .collect(),
                expires_hours: old.as_ref().map_or(72, |p| p.approval_expires_hours),
                ..Gate::default()
            };
            // What the approver is asked to accept, the protections it removes included.
            let summary = format!(
                "policy {prompt}/{label}: from \"{}\" to \"{}\"",
                describe(old.as_ref()),
                describe(new.as_ref())
            );
            return self
                .hold_for_approval(
                    "policy",
                    &gate,
                    &summary,
                    body,
                    self.current_revision()?,
                    actor,
                )
                .await;
        }
        let now = now_ms() as f64;
        let who = approval.map_or_else(|| actor.to_string(), Approval::actor);
        let sql = self.sql();
        match &new {
            Some(_) => sql.exec(
                "INSERT OR REPLACE INTO policies (prompt, label, policy, set_by, set_at_ms) VALUES (?, ?, ?, ?, ?)",
                vec![prompt.into(), label.into(), new_json.to_string().into(), who.clone().into(), SqlStorageValue::from(now)],
            ),
            None => sql.exec(
                "DELETE FROM policies WHERE prompt = ? AND label = ?",
                vec![prompt.into(), label.into()],
            ),
        }
        .map_err(storage)?;
        sql.exec(
            "INSERT INTO policy_log (prompt, label, policy, actor, approved_by, at_ms) VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                prompt.into(),
                label.into(),
                new.as_ref().map_or(SqlStorageValue::Null, |_| new_json.to_string().into()),
                actor.into(),
                approval.map_or(SqlStorageValue::Null, |a| a.approver.clone().into()),
                SqlStorageValue::from(now),
            ],
        )
        .map_err(storage)?;
        let summary = format!("policy {prompt}/{label}: {}", describe(new.as_ref()));
        let payload = json!({"event": "policy.set", "actor": who, "at_ms": now as u64, "summary": summary, "prompt": prompt, "label": label, "policy": new_json, "previous": old_json});
        for (q, args) in self.delivery_statements("policy.set", &payload)? {
            sql.exec(q, args).map_err(storage)?;
        }
        Ok(respond(
            200,
            &json!({"prompt": prompt, "label": label, "policy": new_json, "changed": true, "summary": summary}),
        ))
    }
}

/// A policy in words, for summaries and the audit log.
fn describe(p: Option<&Policy>) -> String {
    let Some(p) = p else {
        return "removed".into();
    };
    let mut parts = Vec::new();
    if p.require_eval {
        parts.push("requires a passing eval".to_string());
    }
    if p.require_approval {
        parts.push(format!(
            "requires approval (pending changes expire after {} h)",
            p.approval_expires_hours
        ));
    }
    if !p.freeze.is_empty() {
        parts.push(format!("{} freeze window(s)", p.freeze.len()));
    }
    if parts.is_empty() {
        "protects nothing".into()
    } else {
        parts.join(", ")
    }
}

fn parse_stored(text: &str) -> Result<Policy, ApiError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| ApiError::new(500, "corrupt_policy", format!("a stored policy: {e}")))?;
    Policy::parse(&v)
        .map_err(|_| ApiError::new(500, "corrupt_policy", "a stored policy no longer validates"))
}

/// A `WHERE` clause (and its arguments) for the query parameters among `columns` that
/// were given: each names a column of the same name.
fn matching(query: &[(String, String)], columns: &[&str]) -> (String, Vec<SqlStorageValue>) {
    let mut clause = vec!["1 = 1".to_string()];
    let mut args = Vec::new();
    for col in columns {
        if let Some(v) = param(query, col) {
            clause.push(format!("{col} = ?"));
            args.push(v.into());
        }
    }
    (clause.join(" AND "), args)
}

fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| bad(format!("\"{id}\" is not a change number")))
}
