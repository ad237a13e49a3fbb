//! Since which revision each label serves its route (`GET /admin/v1/labels`, the
//! console's overview): kept in a table that follows the revisions lazily, so a call
//! reads only the revisions stored since the last one, and a store that predates the
//! table is caught up once, a page of skeletons at a time (no version bodies read).

use super::{storage, Control};
use edgeprompt_shell::http::ApiError;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use worker::SqlStorageValue;

/// Revisions read per step.
const PAGE: i64 = 100;

/// The table, and up to which revision it is current.
pub const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS label_since (prompt TEXT NOT NULL, label TEXT NOT NULL, route TEXT NOT NULL, revision INTEGER NOT NULL, at REAL NOT NULL, actor TEXT NOT NULL, PRIMARY KEY (prompt, label))",
    "CREATE TABLE IF NOT EXISTS label_since_state (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL)",
];

#[derive(Deserialize)]
struct RevisionPrompts {
    revision: u64,
    at: f64,
    actor: String,
    prompts: Option<String>,
}

#[derive(Deserialize)]
struct SinceRow {
    prompt: String,
    label: String,
    route: String,
    revision: u64,
    at: f64,
    actor: String,
}

#[derive(Deserialize)]
struct Upto {
    revision: u64,
}

impl Control {
    /// Every label of the live revision with the revision, time and actor since which
    /// it serves its current route.
    pub(super) async fn labels_since(&self) -> Result<Value, ApiError> {
        self.catch_up_since().await?;
        let rows: Vec<SinceRow> = self
            .sql()
            .exec(
                "SELECT prompt, label, route, revision, at, actor FROM label_since ORDER BY prompt, label",
                None,
            )
            .and_then(|c| c.to_array())
            .map_err(storage)?;
        let labels: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "prompt": r.prompt,
                    "label": r.label,
                    "since_revision": r.revision,
                    "since_at_ms": r.at as u64,
                    "since_actor": r.actor,
                    "route": serde_json::from_str::<Value>(&r.route).unwrap_or(Value::Null),
                })
            })
            .collect();
        Ok(json!({"revision": self.current_revision()?, "labels": labels}))
    }

    /// Reads the revisions after the table's and records each label whose route
    /// changed (or appeared); labels no longer in a revision are dropped.
    async fn catch_up_since(&self) -> Result<(), ApiError> {
        let sql = self.sql();
        let upto: Vec<Upto> = sql
            .exec("SELECT revision FROM label_since_state WHERE id = 1", None)
            .and_then(|c| c.to_array())
            .map_err(storage)?;
        let mut upto = upto.first().map(|u| u.revision).unwrap_or(0);
        loop {
            let page: Vec<RevisionPrompts> = sql
                .exec(
                    "SELECT revision, at, actor, json_extract(skeleton, '$.prompts') AS prompts FROM revisions WHERE revision > ? ORDER BY revision LIMIT ?",
                    vec![SqlStorageValue::from(upto as i64), SqlStorageValue::from(PAGE)],
                )
                .and_then(|c| c.to_array())
                .map_err(storage)?;
            let Some(last) = page.last().map(|r| r.revision) else {
                return Ok(());
            };
            let held: Vec<SinceRow> = sql
                .exec(
                    "SELECT prompt, label, route, revision, at, actor FROM label_since",
                    None,
                )
                .and_then(|c| c.to_array())
                .map_err(storage)?;
            let mut known: BTreeMap<(String, String), SinceRow> = held
                .into_iter()
                .map(|r| ((r.prompt.clone(), r.label.clone()), r))
                .collect();
            for rev in &page {
                let prompts: Map<String, Value> = rev
                    .prompts
                    .as_deref()
                    .and_then(|t| serde_json::from_str(t).ok())
                    .unwrap_or_default();
                let mut now = BTreeMap::new();
                for (prompt, p) in &prompts {
                    let labels = p.get("labels").and_then(Value::as_object);
                    for (label, route) in labels.into_iter().flatten() {
                        let k = (prompt.clone(), label.clone());
                        let route = route.to_string();
                        let row = match known.remove(&k) {
                            Some(same) if same.route == route => same,
                            _ => SinceRow {
                                prompt: prompt.clone(),
                                label: label.clone(),
                                route,
                                revision: rev.revision,
                                at: rev.at,
                                actor: rev.actor.clone(),
                            },
                        };
                        now.insert(k, row);
                    }
                }
                known = now;
            }
            let mut statements: Vec<(&'static str, Vec<SqlStorageValue>)> =
                vec![("DELETE FROM label_since", Vec::new())];
            for r in known.into_values() {
                statements.push((
                    "INSERT INTO label_since (prompt, label, route, revision, at, actor) VALUES (?, ?, ?, ?, ?, ?)",
                    vec![
                        r.prompt.into(),
                        r.label.into(),
                        r.route.into(),
                        SqlStorageValue::from(r.revision as i64),
                        SqlStorageValue::from(r.at),
                        r.actor.into(),
                    ],
                ));
            }
            statements.push((
                "INSERT OR REPLACE INTO label_since_state (id, revision) VALUES (1, ?)",
                vec![SqlStorageValue::from(last as i64)],
            ));
            // One page at a time, all of it or none (the next call resumes from the state).
            let writer = self.sql();
            self.state
                .storage()
                .transaction(move |_| async move {
                    for (q, args) in statements {
                        writer.exec(q, args)?;
                    }
                    Ok(())
                })
                .await
                .map_err(storage)?;
            upto = last;
        }
    }
}
