//! Dead letters: queue messages the consumer could not apply, each kept with the
//! reason it recorded, listed and replayed through the admin API (one object, named
//! `global`: dead letters are rare, and one place lists them all).

use crate::config::Settings;
use edgeprompt_shell::aggregates::{DeadLetter, Message};
use edgeprompt_shell::http::{respond, ApiError};
use edgeprompt_shell::platform::now_ms;
use serde::Deserialize;
use serde_json::json;
use worker::{
    console_error, durable_object, DurableObject, Env, Request, Response, Result,
    SqlStorageValue as V, State,
};

/// The dead-letter store.
#[durable_object]
pub struct DeadLetters {
    state: State,
    env: Env,
}

/// A stored dead letter.
struct Row {
    id: String,
    at: f64,
    queue: String,
    attempts: i64,
    reason: String,
    body: String,
}

#[derive(Deserialize)]
struct Replay {
    #[serde(default)]
    ids: Option<Vec<String>>,
}

impl DurableObject for DeadLetters {
    fn new(state: State, env: Env) -> Self {
        if let Err(e) = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS dead (id TEXT PRIMARY KEY, at INTEGER NOT NULL, queue TEXT NOT NULL, attempts INTEGER NOT NULL, reason TEXT NOT NULL, body TEXT NOT NULL)",
            None,
        ) {
            console_error!("edgeprompt dead letters: schema: {e}");
        }
        DeadLetters { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let answer = match req.path().as_str() {
            "/record" => match req.json::<DeadLetter>().await {
                Ok(d) => self.record(d),
                Err(e) => Err(ApiError::new(400, "malformed_request", e.to_string())),
            },
            "/list" => self
                .list()
                .map(|l| respond(200, &json!({"dead_letters": l}))),
            "/replay" => match req.json::<Replay>().await {
                Ok(r) => self.replay(r).await,
                Err(e) => Err(ApiError::new(400, "malformed_request", e.to_string())),
            },
            other => Err(ApiError::not_found(other)),
        };
        Ok(answer.unwrap_or_else(ApiError::into_response))
    }
}

fn storage_error(e: worker::Error) -> ApiError {
    ApiError::new(503, "storage_error", e.to_string())
}

impl DeadLetters {
    fn record(&self, d: DeadLetter) -> std::result::Result<Response, ApiError> {
        // A message dead-lettered again (a replay that failed) keeps one entry.
        self.state
            .storage()
            .sql()
            .exec(
                "INSERT OR REPLACE INTO dead (id, at, queue, attempts, reason, body) VALUES (?, ?, ?, ?, ?, ?)",
                vec![
                    V::String(d.id),
                    V::Integer(i64::try_from(now_ms()).unwrap_or(i64::MAX)),
                    V::String(d.queue),
                    V::Integer(i64::from(d.attempts)),
                    V::String(d.reason),
                    V::String(d.body),
                ],
            )
            .map_err(storage_error)?;
        Ok(respond(200, &json!({"recorded": true})))
    }

    fn rows(&self) -> std::result::Result<Vec<Row>, ApiError> {
        self.state
            .storage()
            .sql()
            .exec(
                "SELECT id, at, queue, attempts, reason, body FROM dead ORDER BY at, id",
                None,
            )
            .and_then(super::rows::all)
            .map_err(storage_error)
            .map(|rows| {
                rows.iter()
                    .map(|r| Row {
                        id: super::rows::text(r, 0),
                        at: super::rows::real(r, 1).unwrap_or(0.0),
                        queue: super::rows::text(r, 2),
                        attempts: super::rows::int(r, 3),
                        reason: super::rows::text(r, 4),
                        body: super::rows::text(r, 5),
                    })
                    .collect()
            })
    }

    fn list(&self) -> std::result::Result<Vec<DeadLetter>, ApiError> {
        Ok(self
            .rows()?
            .into_iter()
            .map(|r| DeadLetter {
                id: r.id,
                at_ms: r.at as u64,
                queue: r.queue,
                attempts: u32::try_from(r.attempts).unwrap_or(0),
                reason: r.reason,
                body: r.body,
            })
            .collect())
    }

    /// Sends dead letters (all, or the ids given) back to the events queues; each is
    /// removed once a queue accepted it. Its batch id still makes it count once.
    async fn replay(&self, r: Replay) -> std::result::Result<Response, ApiError> {
        let mut replayed = Vec::new();
        let mut failed = Vec::new();
        for row in self.rows()? {
            if r.ids.as_ref().is_some_and(|ids| !ids.contains(&row.id)) {
                continue;
            }
            // Sent as recorded, even if it still does not read as a batch: the fix may
            // be in the consumer; if it fails again it comes back here.
            let queue = serde_json::from_str::<Message>(&row.body)
                .ok()
                .and_then(|m| {
                    m.events
                        .first()
                        .map(|e| crate::outbox::queue_of(e, &Settings::get(&self.env)))
                })
                .unwrap_or(0);
            let sent = crate::outbox::send_raw_json(&self.env, queue, &row.body).await;
            match sent {
                Ok(()) => {
                    self.state
                        .storage()
                        .sql()
                        .exec(
                            "DELETE FROM dead WHERE id = ?",
                            vec![V::String(row.id.clone())],
                        )
                        .map_err(storage_error)?;
                    replayed.push(row.id);
                }
                Err(reason) => failed.push(json!({"id": row.id, "reason": reason})),
            }
        }
        Ok(respond(
            200,
            &json!({"replayed": replayed, "failed": failed}),
        ))
    }
}
