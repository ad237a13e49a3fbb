//! Webhooks: subscriptions (`/admin/v1/webhooks`), a delivery queued with every audited
//! change in the change's own transaction, and deliveries sent from the object's alarm,
//! signed (`edgeprompt::webhook`), retried with backoff, and logged per webhook. Sending
//! never runs on a change's path, so a slow or failing receiver cannot block or fail it.

use super::{param, storage, Control, Row};
use edgeprompt::webhook::{self, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER};
use edgeprompt_shell::http::{respond, ApiError};
use edgeprompt_shell::platform::{nonce, now_ms};
use futures_util::future::{join_all, select, Either};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;
use worker::{console_error, Fetch, Headers, Method, Request, RequestInit, SqlStorageValue};

/// The tables: subscriptions, and their deliveries (pending, delivered or failed).
pub const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS webhooks (id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL, created_ms REAL NOT NULL, actor TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, webhook TEXT NOT NULL, event TEXT NOT NULL, body TEXT NOT NULL, created_ms REAL NOT NULL, attempts INTEGER NOT NULL, next_ms REAL, state TEXT NOT NULL, last_status INTEGER, last_error TEXT, done_ms REAL)",
    "CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_ms)",
];
/// Deliveries sent per alarm run (each with its own timeout, concurrently).
const PER_RUN: i64 = 20;
/// How long a receiver has to answer.
const TIMEOUT_MS: u64 = 10_000;
/// How long finished deliveries stay in the log.
const KEEP_MS: f64 = 7.0 * 24.0 * 3_600_000.0;
/// Webhooks at most.
const MAX_WEBHOOKS: usize = 50;

#[derive(Deserialize)]
struct Hook {
    id: String,
    url: String,
    events: String,
    created_ms: f64,
    actor: String,
}

#[derive(Deserialize)]
struct Due {
    id: f64,
    event: String,
    body: String,
    attempts: f64,
    url: String,
    secret: String,
}

#[derive(Deserialize)]
struct Logged {
    id: f64,
    event: String,
    created_ms: f64,
    attempts: f64,
    next_ms: Option<f64>,
    state: String,
    last_status: Option<f64>,
    last_error: Option<String>,
    done_ms: Option<f64>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "invalid_request", message)
}

impl Control {
    /// `/admin/v1/webhooks...`: list, add, remove, a webhook's delivery log, a test ping.
    pub(super) async fn webhooks_route(
        &self,
        method: &Method,
        rest: &[&str],
        query: &[(String, String)],
        body: &Value,
        actor: &str,
        scope: &str,
    ) -> Result<worker::Response, ApiError> {
        match (method, rest) {
            // A read-only reader sees where deliveries go, not the credential a URL carries.
            (Method::Get, []) => self.list_webhooks(scope == "ro"),
            (Method::Post, []) => self.add_webhook(body, actor),
            (Method::Delete, [id]) => {
                self.hook(id)?;
                let sql = self.sql();
                for q in [
                    "DELETE FROM deliveries WHERE webhook = ?",
                    "DELETE FROM webhooks WHERE id = ?",
                ] {
                    sql.exec(q, vec![(*id).into()]).map_err(storage)?;
                }
                Ok(respond(200, &json!({"removed": id})))
            }
            (Method::Get, [id, "deliveries"]) => {
                self.hook(id)?;
                let limit = param(query, "limit")
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(50)
                    .clamp(1, 500);
                let rows: Vec<Logged> = self
                    .sql()
                    .exec(
                        "SELECT id, event, created_ms, attempts, next_ms, state, last_status, last_error, done_ms FROM deliveries WHERE webhook = ? ORDER BY id DESC LIMIT ?",
                        vec![(*id).into(), SqlStorageValue::from(limit)],
                    )
                    .and_then(|c| c.to_array())
                    .map_err(storage)?;
                let list: Vec<Value> = rows
                    .iter()
                    .map(|d| json!({"id": d.id as u64, "event": d.event, "created_ms": d.created_ms as u64, "attempts": d.attempts as u64, "state": d.state, "next_ms": d.next_ms.map(|t| t as u64), "last_status": d.last_status.map(|s| s as u64), "last_error": d.last_error, "done_ms": d.done_ms.map(|t| t as u64)}))
                    .collect();
                Ok(respond(200, &json!({"webhook": id, "deliveries": list})))
            }
            (Method::Post, [id, "test"]) => {
                let hook = self.hook(id)?;
                let payload =
                    json!({"event": "ping", "webhook": hook.id, "actor": actor, "at_ms": now_ms()});
                self.sql()
                    .exec(
                        INSERT_DELIVERY,
                        delivery_args(&hook.id, "ping", &payload.to_string(), now_ms()),
                    )
                    .map_err(storage)?;
                self.schedule_alarm().await;
                Ok(respond(200, &json!({"queued": "ping"})))
            }
            _ => Err(ApiError::not_found(&format!(
                "{method:?} /admin/v1/webhooks/{}",
                rest.join("/")
            ))),
        }
    }

    fn hooks(&self) -> Result<Vec<Hook>, ApiError> {
        self.sql()
            .exec(
                "SELECT id, url, events, created_ms, actor FROM webhooks ORDER BY created_ms",
                None,
            )
            .and_then(|c| c.to_array())
            .map_err(storage)
    }

    fn hook(&self, id: &str) -> Result<Hook, ApiError> {
        self.hooks()?
            .into_iter()
            .find(|h| h.id == id)
            .ok_or_else(|| ApiError::new(404, "unknown_webhook", format!("no webhook \"{id}\"")))
    }

    fn list_webhooks(&self, redact: bool) -> Result<worker::Response, ApiError> {
        #[derive(Deserialize)]
        struct Count {
            webhook: String,
            state: String,
            n: f64,
        }
        let counts: Vec<Count> = self
            .sql()
            .exec(
                "SELECT webhook, state, COUNT(*) AS n FROM deliveries GROUP BY webhook, state",
                None,
            )
            .and_then(|c| c.to_array())
            .map_err(storage)?;
        let list: Vec<Value> = self
            .hooks()?
            .iter()
            .map(|h| {
                let n = |state: &str| counts.iter().filter(|c| c.webhook == h.id && c.state == state).map(|c| c.n as u64).sum::<u64>();
                let url = if redact { webhook::redact_url(&h.url) } else { h.url.clone() };
                json!({"id": h.id, "url": url, "events": events_of(h), "created_ms": h.created_ms as u64, "actor": h.actor, "deliveries": {"pending": n("pending"), "delivered": n("delivered"), "failed": n("failed")}})
            })
            .collect();
        Ok(respond(200, &json!({"webhooks": list})))
    }

    fn add_webhook(&self, body: &Value, actor: &str) -> Result<worker::Response, ApiError> {
        let url = body["url"]
            .as_str()
            .ok_or_else(|| bad("\"url\" is required"))?
            .trim();
        let events: Vec<String> = match &body["events"] {
            Value::Null => vec!["*".into()],
            Value::Array(a) => a
                .iter()
                .map(|e| {
                    e.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad("\"events\" must be an array of strings"))
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(bad("\"events\" must be an array of strings")),
        };
        let (secret, generated) = match body["secret"].as_str() {
            Some(s) => (s.to_string(), false),
            None => (format!("{}{}", nonce(), nonce()), true),
        };
        webhook::validate(url, &events, &secret)
            .map_err(|e| ApiError::new(422, "invalid_webhook", e.to_string()))?;
        if self.hooks()?.len() >= MAX_WEBHOOKS {
            return Err(ApiError::new(
                409,
                "too_many_webhooks",
                format!("at most {MAX_WEBHOOKS} webhooks"),
            ));
        }
        let id = format!("wh_{}", &nonce()[..16]);
        self.sql()
            .exec(
                "INSERT INTO webhooks (id, url, events, secret, created_ms, actor) VALUES (?, ?, ?, ?, ?, ?)",
                vec![id.clone().into(), url.into(), json!(events).to_string().into(), secret.clone().into(), SqlStorageValue::from(now_ms() as f64), actor.into()],
            )
            .map_err(storage)?;
        // The secret is shown once, when the webhook is made (and only if generated here).
        let mut answer = json!({"id": id, "url": url, "events": events});
        if generated {
            answer["secret"] = json!(secret);
        }
        Ok(respond(201, &answer))
    }

    /// The statements that queue `event` for every webhook taking it; run in the
    /// transaction that stores the change.
    pub(super) fn delivery_statements(
        &self,
        event: &str,
        payload: &Value,
    ) -> Result<Vec<(&'static str, Vec<SqlStorageValue>)>, ApiError> {
        let now = now_ms();
        let body = payload.to_string();
        Ok(self
            .hooks()?
            .iter()
            .filter(|h| webhook::matches(&events_of(h), event))
            .map(|h| (INSERT_DELIVERY, delivery_args(&h.id, event, &body, now)))
            .collect())
    }

    /// Sends the deliveries that are due (some at a time), records each outcome, and
    /// drops finished ones older than a week.
    pub(super) async fn deliver_due(&self) {
        let now = now_ms();
        let due: Vec<Due> = match self
            .sql()
            .exec(
                "SELECT d.id AS id, d.event AS event, d.body AS body, d.attempts AS attempts, w.url AS url, w.secret AS secret FROM deliveries d JOIN webhooks w ON w.id = d.webhook WHERE d.state = 'pending' AND d.next_ms <= ? ORDER BY d.next_ms LIMIT ?",
                vec![SqlStorageValue::from(now as f64), SqlStorageValue::from(PER_RUN)],
            )
            .and_then(|c| c.to_array())
        {
            Ok(rows) => rows,
            Err(e) => {
                console_error!("edgeprompt control: reading due webhook deliveries: {e}");
                return;
            }
        };
        let outcomes = join_all(due.iter().map(send)).await;
        let done = now_ms() as f64;
        let sql = self.sql();
        for (d, outcome) in due.iter().zip(outcomes) {
            let attempts = d.attempts as u32 + 1;
            let (state, next, status, error) = match outcome {
                Ok(status) if (200..300).contains(&status) => {
                    ("delivered", None, Some(status), None)
                }
                failed => {
                    let (status, error) = match failed {
                        Ok(status) => (Some(status), format!("the receiver answered {status}")),
                        Err(e) => (None, e),
                    };
                    match webhook::retry_delay_ms(attempts) {
                        Some(delay) => ("pending", Some(done + delay as f64), status, Some(error)),
                        None => ("failed", None, status, Some(error)),
                    }
                }
            };
            let finished = (state != "pending").then_some(done);
            if let Err(e) = sql.exec(
                "UPDATE deliveries SET attempts = ?, state = ?, next_ms = ?, last_status = ?, last_error = ?, done_ms = ? WHERE id = ?",
                vec![
                    SqlStorageValue::from(attempts as i64),
                    state.into(),
                    next.map_or(SqlStorageValue::Null, SqlStorageValue::from),
                    status.map_or(SqlStorageValue::Null, |s| SqlStorageValue::from(s as i64)),
                    error.map_or(SqlStorageValue::Null, SqlStorageValue::from),
                    finished.map_or(SqlStorageValue::Null, SqlStorageValue::from),
                    SqlStorageValue::from(d.id as i64),
                ],
            ) {
                console_error!("edgeprompt control: recording webhook delivery {}: {e}", d.id);
            }
        }
        let _ = sql.exec(
            "DELETE FROM deliveries WHERE state != 'pending' AND created_ms < ?",
            vec![SqlStorageValue::from(done - KEEP_MS)],
        );
    }

    /// Sets the alarm for the next due delivery or rollout check unless it is set
    /// earlier already (a KV retry sets its own).
    pub(super) async fn schedule_alarm(&self) {
        let next: Vec<Row<Option<f64>>> = self
            .sql()
            .exec(
                "SELECT MIN(d.next_ms) AS v FROM deliveries d JOIN webhooks w ON w.id = d.webhook WHERE d.state = 'pending'",
                None,
            )
            .and_then(|c| c.to_array())
            .unwrap_or_default();
        let deliveries = next.first().and_then(|r| r.v);
        let due = [deliveries, self.next_rollout_check()];
        let Some(next) = due.into_iter().flatten().reduce(f64::min) else {
            return;
        };
        let storage = self.state.storage();
        let set = storage.get_alarm().await.ok().flatten();
        if set.is_some_and(|at| (at as f64) <= next) {
            return;
        }
        let delay = (next - now_ms() as f64).max(0.0) as u64;
        if let Err(e) = storage.set_alarm(Duration::from_millis(delay)).await {
            console_error!("edgeprompt control: cannot set the alarm: {e}");
        }
    }
}

const INSERT_DELIVERY: &str = "INSERT INTO deliveries (webhook, event, body, created_ms, attempts, next_ms, state) VALUES (?, ?, ?, ?, 0, ?, 'pending')";

fn delivery_args(hook: &str, event: &str, body: &str, now: u64) -> Vec<SqlStorageValue> {
    vec![
        hook.into(),
        event.into(),
        body.into(),
        SqlStorageValue::from(now as f64),
        SqlStorageValue::from(now as f64),
    ]
}

fn events_of(h: &Hook) -> Vec<String> {
    serde_json::from_str(&h.events).unwrap_or_default()
}

/// One attempt: the receiver's status, or why there is none.
async fn send(d: &Due) -> Result<u16, String> {
    let at = now_ms();
    let signature = webhook::sign(&d.secret, at, &d.body).map_err(|e| e.to_string())?;
    let headers = Headers::new();
    let id = (d.id as u64).to_string();
    for (k, v) in [
        ("content-type", "application/json"),
        ("user-agent", "edgeprompt-webhooks"),
        (EVENT_HEADER, d.event.as_str()),
        (DELIVERY_HEADER, id.as_str()),
        (SIGNATURE_HEADER, signature.as_str()),
    ] {
        headers.set(k, v).map_err(|e| e.to_string())?;
    }
    let mut init = RequestInit::new();
    // A redirect is not followed: it could carry the signed body to another host (or to
    // plain http), past the URL check the webhook was made with.
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(d.body.clone().into()))
        .with_redirect(worker::RequestRedirect::Manual);
    let req = Request::new_with_init(&d.url, &init).map_err(|e| e.to_string())?;
    let fetch = Fetch::Request(req);
    let sent = Box::pin(fetch.send());
    let timeout = Box::pin(worker::Delay::from(Duration::from_millis(TIMEOUT_MS)));
    let outcome = match select(sent, timeout).await {
        Either::Left((Ok(resp), _)) if (300..400).contains(&resp.status_code()) => Err(format!(
            "the receiver answered {} (a redirect, not followed)",
            resp.status_code()
        )),
        Either::Left((Ok(resp), _)) => Ok(resp.status_code()),
        Either::Left((Err(e), _)) => Err(e.to_string()),
        Either::Right(_) => Err(format!("no answer within {TIMEOUT_MS} ms")),
    };
    outcome
}
