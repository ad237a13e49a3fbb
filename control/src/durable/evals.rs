//! Eval reports (`/admin/v1/evals`): what `edgeprompt eval --report` recorded, bound to
//! each evaluated version's content hash (docs/evals.md), so that a gate can ask whether
//! exactly this content passed. The report is kept whole; a row per version makes the
//! gate's question one lookup.

use super::{param, storage, Control};
use edgeprompt_shell::http::{respond, ApiError};
use edgeprompt_shell::platform::now_ms;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Method, SqlStorageValue};

/// The tables: reports, and each report's versions.
pub const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS eval_reports (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms REAL NOT NULL, actor TEXT NOT NULL, passed INTEGER NOT NULL, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS eval_versions (report INTEGER NOT NULL, prompt TEXT NOT NULL, hash TEXT NOT NULL, version INTEGER, passed INTEGER NOT NULL, cases INTEGER NOT NULL, failed INTEGER NOT NULL, errors INTEGER NOT NULL, skipped INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS eval_versions_by_hash ON eval_versions (prompt, hash)",
];
/// The largest report kept (a Durable Object's SQLite value holds at most 2 MB).
const MAX_REPORT_BYTES: usize = 1_900_000;

#[derive(Deserialize)]
struct Recorded {
    report: f64,
    version: Option<f64>,
    passed: f64,
    cases: f64,
    failed: f64,
    errors: f64,
    skipped: f64,
    at_ms: f64,
    actor: String,
}

fn refused(path: &str, reason: &str) -> ApiError {
    ApiError::new(422, "invalid_report", format!("{path}: {reason}"))
        .details(json!({"path": path, "reason": reason}))
}

impl Control {
    /// `POST /admin/v1/evals` records a report; `GET /admin/v1/evals?prompt=P&hash=H`
    /// lists what was recorded for that content, newest first; `GET .../evals/ID` is one
    /// report whole.
    pub(super) fn evals_route(
        &self,
        method: &Method,
        rest: &[&str],
        query: &[(String, String)],
        body: &Value,
        actor: &str,
    ) -> Result<worker::Response, ApiError> {
        match (method, rest) {
            (Method::Post, []) => self.record_report(body, actor),
            (Method::Get, []) => {
                let (Some(prompt), Some(hash)) = (param(query, "prompt"), param(query, "hash"))
                else {
                    return Err(ApiError::new(
                        400,
                        "invalid_request",
                        "GET /admin/v1/evals?prompt=P&hash=CONTENT_HASH",
                    ));
                };
                let rows: Vec<Recorded> = self
                    .sql()
                    .exec(
                        "SELECT v.report AS report, v.version AS version, v.passed AS passed, v.cases AS cases, v.failed AS failed, v.errors AS errors, v.skipped AS skipped, r.at_ms AS at_ms, r.actor AS actor FROM eval_versions v JOIN eval_reports r ON r.id = v.report WHERE v.prompt = ? AND v.hash = ? ORDER BY v.report DESC LIMIT 50",
                        vec![prompt.into(), hash.into()],
                    )
                    .and_then(|c| c.to_array())
                    .map_err(storage)?;
                let list: Vec<Value> = rows
                    .iter()
                    .map(|r| json!({"report": r.report as u64, "version": r.version.map(|v| v as u64), "passed": r.passed != 0.0, "cases": r.cases as u64, "failed": r.failed as u64, "errors": r.errors as u64, "skipped_assertions": r.skipped as u64, "at_ms": r.at_ms as u64, "actor": r.actor}))
                    .collect();
                Ok(respond(
                    200,
                    &json!({"prompt": prompt, "hash": hash, "reports": list}),
                ))
            }
            (Method::Get, [id]) => {
                #[derive(Deserialize)]
                struct Whole {
                    body: String,
                    at_ms: f64,
                    actor: String,
                }
                let id: i64 = id
                    .parse()
                    .map_err(|_| ApiError::not_found(&format!("eval report {id}")))?;
                let row: Option<Whole> = self
                    .sql()
                    .exec(
                        "SELECT body, at_ms, actor FROM eval_reports WHERE id = ?",
                        vec![SqlStorageValue::from(id)],
                    )
                    .and_then(|c| c.to_array())
                    .map_err(storage)?
                    .into_iter()
                    .next();
                let row = row.ok_or_else(|| {
                    ApiError::new(404, "unknown_report", format!("no eval report {id}"))
                })?;
                let report: Value = serde_json::from_str(&row.body).unwrap_or(Value::Null);
                Ok(respond(
                    200,
                    &json!({"id": id, "at_ms": row.at_ms as u64, "actor": row.actor, "report": report}),
                ))
            }
            _ => Err(ApiError::not_found(&format!(
                "{method:?} /admin/v1/evals/{}",
                rest.join("/")
            ))),
        }
    }

    fn record_report(&self, body: &Value, actor: &str) -> Result<worker::Response, ApiError> {
        if body["schema"].as_u64() != Some(1) {
            return Err(refused("schema", "1 (the report format of docs/evals.md)"));
        }
        let passed = body["passed"]
            .as_bool()
            .ok_or_else(|| refused("passed", "true or false"))?;
        let versions = body["versions"]
            .as_array()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| refused("versions", "a non-empty list"))?;
        let mut rows = Vec::with_capacity(versions.len());
        for (i, v) in versions.iter().enumerate() {
            let at = |k: &str| format!("versions[{i}].{k}");
            let prompt = v["prompt"]
                .as_str()
                .filter(|p| !p.is_empty())
                .ok_or_else(|| refused(&at("prompt"), "a prompt's name"))?;
            let hash = v["hash"]
                .as_str()
                .filter(|h| {
                    h.len() == 64
                        && h.bytes()
                            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                })
                .ok_or_else(|| {
                    refused(
                        &at("hash"),
                        "the version's content hash (64 lower-case hex digits)",
                    )
                })?;
            let ok = v["passed"]
                .as_bool()
                .ok_or_else(|| refused(&at("passed"), "true or false"))?;
            let n = |k: &str| v[k].as_u64().unwrap_or(0) as i64;
            rows.push((
                prompt.to_string(),
                hash.to_string(),
                v["version"].as_u64(),
                ok,
                n("cases"),
                n("failed"),
                n("errors"),
                n("skipped_assertions"),
            ));
        }
        let text = body.to_string();
        if text.len() > MAX_REPORT_BYTES {
            return Err(ApiError::new(
                413,
                "report_too_large",
                format!(
                    "the report is {} bytes, over {MAX_REPORT_BYTES}",
                    text.len()
                ),
            ));
        }
        let sql = self.sql();
        // One statement chain without an await: applied together by the object's storage.
        sql.exec(
            "INSERT INTO eval_reports (at_ms, actor, passed, body) VALUES (?, ?, ?, ?)",
            vec![
                SqlStorageValue::from(now_ms() as f64),
                actor.into(),
                SqlStorageValue::from(i64::from(passed)),
                text.into(),
            ],
        )
        .map_err(storage)?;
        #[derive(Deserialize)]
        struct Id {
            id: f64,
        }
        let id = sql
            .exec("SELECT last_insert_rowid() AS id", None)
            .and_then(|c| c.to_array::<Id>())
            .map_err(storage)?
            .first()
            .map(|r| r.id as i64)
            .unwrap_or(0);
        for (prompt, hash, version, ok, cases, failed, errors, skipped) in &rows {
            sql.exec(
                "INSERT INTO eval_versions (report, prompt, hash, version, passed, cases, failed, errors, skipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    SqlStorageValue::from(id),
                    prompt.as_str().into(),
                    hash.as_str().into(),
                    version.map_or(SqlStorageValue::Null, |v| SqlStorageValue::from(v as i64)),
                    SqlStorageValue::from(i64::from(*ok)),
                    SqlStorageValue::from(*cases),
                    SqlStorageValue::from(*failed),
                    SqlStorageValue::from(*errors),
                    SqlStorageValue::from(*skipped),
                ],
            )
            .map_err(storage)?;
        }
        Ok(respond(
            201,
            &json!({"id": id, "passed": passed, "versions": rows.len()}),
        ))
    }
}
