//! The object's storage: revisions and version bodies in SQLite, the audit log, and the
//! write-through to KV that an alarm retries until KV matches.

use super::{op_error, storage, Control, RevisionRow, Row, KV_RETRY_MS, MAX_SKELETON_BYTES};
use edgeprompt::manifest;
use edgeprompt::manifest::layout;
use edgeprompt::ops::{self, history};
use edgeprompt_shell::http::ApiError;
use edgeprompt_shell::platform::now_ms;
use edgeprompt_shell::{Pointer, KV_BINDING, POINTER_KEY};
use serde_json::{json, Value};
use worker::{console_error, console_log, Result, SqlStorageValue};

/// Revisions read per step of a rollback's search.
const ROLLBACK_PAGE: i64 = 200;

#[derive(serde::Deserialize)]
struct RouteRow {
    revision: u64,
    route: Option<String>,
}

impl Control {
    /// With no history yet, adopts the manifest KV already serves (e.g. one seeded by
    /// hand) as the first revision, so that the control plane continues from it instead
    /// of publishing a conflicting revision 1.
    pub(super) async fn adopt_kv(&self) -> std::result::Result<(), ApiError> {
        if self.current_revision()? > 0 {
            return Ok(());
        }
        let Ok(kv) = self.env.kv(KV_BINDING) else {
            return Ok(());
        };
        let pointer = kv.get(POINTER_KEY).text().await.ok().flatten();
        let Some(pointer) = pointer else {
            return Ok(());
        };
        let Some(rev) = Pointer::parse(&pointer).map(|p| p.revision) else {
            return Ok(());
        };
        let Some(doc) = read_revision(&kv, rev, Pointer::index(&pointer)).await else {
            console_error!("edgeprompt control: KV points at revision {rev}, which cannot be adopted; starting empty");
            return Ok(());
        };
        if ops::revision_of(&doc) != rev || self.current_revision()? > 0 {
            return Ok(());
        }
        let change = (format!("adopted revision {rev} from KV"), doc, "import");
        self.store_all(&history::empty_manifest(), &[change], "import")
            .await?;
        let _ = self.sql().exec(
            "INSERT OR REPLACE INTO kv_state (id, written, retry_ms) VALUES (1, ?, ?)",
            vec![
                SqlStorageValue::from(rev as i64),
                SqlStorageValue::from(KV_RETRY_MS as i64),
            ],
        );
        console_log!("edgeprompt control: adopted revision {rev} from KV");
        Ok(())
    }

    pub(super) fn current_revision(&self) -> std::result::Result<u64, ApiError> {
        let rows: Vec<Row<Option<f64>>> = self
            .sql()
            .exec("SELECT MAX(revision) AS v FROM revisions", None)
            .and_then(|c| c.to_array())
            .map_err(storage)?;
        Ok(rows
            .first()
            .and_then(|r| r.v)
            .map(|v| v as u64)
            .unwrap_or(0))
    }

    pub(super) fn load(&self, revision: u64) -> std::result::Result<Option<Value>, ApiError> {
        let rows: Vec<Row<String>> = self
            .sql()
            .exec(
                "SELECT skeleton AS v FROM revisions WHERE revision = ?",
                vec![SqlStorageValue::from(revision as i64)],
            )
            .and_then(|c| c.to_array())
            .map_err(storage)?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let skeleton: Value = serde_json::from_str(&row.v)
            .map_err(|e| ApiError::new(500, "storage", e.to_string()))?;
        let sql = self.sql();
        let mut failed = None;
        let doc = history::join_document(&skeleton, &mut |kind, name, count| {
            let rows: Result<Vec<Row<String>>> = sql
                .exec(
                    "SELECT body AS v FROM versions WHERE kind = ? AND name = ? AND version <= ? ORDER BY version",
                    vec![kind.into(), name.into(), SqlStorageValue::from(count as i64)],
                )
                .and_then(|c| c.to_array());
            match rows {
                Ok(rows) => rows
                    .into_iter()
                    .filter_map(|r| serde_json::from_str(&r.v).ok())
                    .collect(),
                Err(e) => {
                    failed = Some(e.to_string());
                    Vec::new()
                }
            }
        });
        match failed {
            Some(e) => Err(ApiError::new(500, "storage", e)),
            None => Ok(Some(doc)),
        }
    }

    /// A page of the audit log, newest first: revisions below `before` (all when
    /// `None`), at most `limit`, and the `before` of the next page if there is one.
    pub(super) fn audit(
        &self,
        before: Option<u64>,
        limit: u64,
    ) -> std::result::Result<(Vec<Value>, Option<u64>), ApiError> {
        let before = before.unwrap_or(i64::MAX as u64).min(i64::MAX as u64);
        let rows: Vec<RevisionRow> = self
            .sql()
            .exec(
                "SELECT revision, actor, at, action, summary FROM revisions WHERE revision < ? ORDER BY revision DESC LIMIT ?",
                vec![SqlStorageValue::from(before as i64), SqlStorageValue::from(limit as i64 + 1)],
            )
            .and_then(|c| c.to_array())
            .map_err(storage)?;
        let more = rows.len() as u64 > limit;
        let page: Vec<Value> = rows
            .into_iter()
            .take(limit as usize)
            .map(|r| json!({"revision": r.revision, "actor": r.actor, "at_ms": r.at as u64, "action": r.action, "summary": r.summary}))
            .collect();
        let next = if more {
            page.last().and_then(|r| r["revision"].as_u64())
        } else {
            None
        };
        Ok((page, next))
    }

    /// Where a rollback takes the label's route from: revision `to`, or else the
    /// newest revision before `live` in which the label served one version. Reads only
    /// the route out of each stored skeleton (no version bodies), a page at a time,
    /// newest first, so the emergency path stays cheap however long the history.
    pub(super) fn rollback_source(
        &self,
        prompt: &str,
        label: &str,
        live: u64,
        to: Option<u64>,
    ) -> std::result::Result<(u64, Option<Value>), ApiError> {
        // Validated names never hold these; refusing them keeps the JSON path well-formed.
        if [prompt, label].iter().any(|n| n.contains(['"', '\\'])) {
            return Err(op_error(ops::OpError::UnknownLabel {
                prompt: prompt.into(),
                label: label.into(),
            }));
        }
        let path = format!("$.prompts.\"{prompt}\".labels.\"{label}\"");
        let routes = |sql: &str,
                      args: Vec<SqlStorageValue>|
         -> std::result::Result<Vec<(u64, Option<Value>)>, ApiError> {
            let rows: Vec<RouteRow> = self
                .sql()
                .exec(sql, args)
                .and_then(|c| c.to_array())
                .map_err(storage)?;
            Ok(rows
                .into_iter()
                .map(|r| {
                    (
                        r.revision,
                        r.route.and_then(|t| serde_json::from_str(&t).ok()),
                    )
                })
                .collect())
        };
        if let Some(n) = to {
            return routes(
                "SELECT revision, json_extract(skeleton, ?) AS route FROM revisions WHERE revision = ?",
                vec![path.into(), SqlStorageValue::from(n as i64)],
            )?
            .into_iter()
            .next()
            .ok_or_else(|| {
                op_error(ops::OpError::NoRollbackTarget(format!(
                    "revision {n} is not in the history"
                )))
            });
        }
        let mut below = live;
        loop {
            let page = routes(
                "SELECT revision, json_extract(skeleton, ?) AS route FROM revisions WHERE revision < ? ORDER BY revision DESC LIMIT ?",
                vec![path.clone().into(), SqlStorageValue::from(below as i64), SqlStorageValue::from(ROLLBACK_PAGE)],
            )?;
            let Some(last) = page.last().map(|(r, _)| *r) else {
                return Err(op_error(ops::no_single_version(prompt, label)));
            };
            if let Some(found) = page
                .into_iter()
                .find(|(_, r)| r.as_ref().is_some_and(ops::serves_one_version))
            {
                return Ok(found);
            }
            below = last;
        }
    }

    /// Stores revisions (one change, possibly several revisions: a publish and its
    /// label) with their audit entries, all of them or none: every value's size is
    /// checked first, and the writes run in one transaction. A version row whose number
    /// the live document does not hold yet is written as validated, replacing any row
    /// a failed change may have left (so KV is never sent another body for that
    /// number). Returns the last revision stored.
    pub(super) async fn store_all(
        &self,
        live: &Value,
        changes: &[(String, Value, &str)],
        actor: &str,
    ) -> std::result::Result<u64, ApiError> {
        self.store_all_with(live, changes, actor, Vec::new()).await
    }

    /// [`Control::store_all`], with `extra` statements committed in the same transaction
    /// (a rollout's row with the revision that starts it: both, or neither).
    pub(super) async fn store_all_with(
        &self,
        live: &Value,
        changes: &[(String, Value, &str)],
        actor: &str,
        extra: Vec<(&'static str, Vec<SqlStorageValue>)>,
    ) -> std::result::Result<u64, ApiError> {
        let (_, live_rows) = history::split_document(live);
        let known: std::collections::HashSet<(&str, String, u64)> = live_rows
            .iter()
            .map(|(k, n, v, _)| (*k, n.clone(), *v))
            .collect();
        let mut statements: Vec<(&'static str, Vec<SqlStorageValue>)> = Vec::new();
        let mut written: std::collections::HashSet<(&str, String, u64)> = Default::default();
        let mut revision = 0;
        for (summary, doc, action) in changes {
            revision = ops::revision_of(doc);
            let (skeleton, rows) = history::split_document(doc);
            let skeleton = skeleton.to_string();
            if skeleton.len() > MAX_SKELETON_BYTES {
                return Err(ApiError::new(413, "manifest_too_large", format!("the manifest without version bodies is {} bytes, over the limit of {MAX_SKELETON_BYTES}; nothing was stored", skeleton.len())));
            }
            for (kind, name, version, body) in rows {
                let key = (kind, name.clone(), version);
                if known.contains(&key) || written.contains(&key) {
                    continue;
                }
                let body = body.to_string();
                if body.len() > MAX_SKELETON_BYTES {
                    return Err(ApiError::new(413, "version_too_large", format!("{kind} \"{name}\" version {version} is {} bytes, over the limit of {MAX_SKELETON_BYTES} per version; nothing was stored", body.len()))
                        .details(json!({"kind": kind, "name": name, "version": version, "bytes": body.len()})));
                }
                statements.push((
                    "INSERT OR REPLACE INTO versions (kind, name, version, body) VALUES (?, ?, ?, ?)",
                    vec![kind.into(), name.clone().into(), SqlStorageValue::from(version as i64), body.into()],
                ));
                written.insert(key);
            }
            let at = now_ms();
            statements.push((
                "INSERT INTO revisions (revision, skeleton, actor, at, action, summary) VALUES (?, ?, ?, ?, ?, ?)",
                vec![SqlStorageValue::from(revision as i64), skeleton.into(), actor.into(), SqlStorageValue::from(at as f64), (*action).into(), summary.clone().into()],
            ));
            // Its notifications commit with it (webhooks.rs sends them from the alarm).
            // A rollout's changes of traffic are `rollout.<action>`; the others `change.<action>`.
            let event = if action.starts_with("rollout.") {
                action.to_string()
            } else {
                format!("change.{action}")
            };
            let payload = json!({"event": event, "revision": revision, "action": action, "actor": actor, "at_ms": at, "summary": summary});
            statements.extend(self.delivery_statements(&event, &payload)?);
        }
        statements.extend(extra);
        let sql = self.sql();
        let alarms = self.state.storage();
        self.state
            .storage()
            .transaction(move |_| async move {
                for (q, args) in statements {
                    sql.exec(q, args)?;
                }
                // The write-through's safety net commits with the revision: a reset
                // between this commit and the KV write (a deploy) still ends in a sync.
                alarms
                    .set_alarm(std::time::Duration::from_millis(KV_RETRY_MS))
                    .await
            })
            .await
            .map_err(storage)?;
        Ok(revision)
    }
}

/// The whole manifest KV holds for a revision, validated: a document, or an index (from
/// the pointer or `manifest/<rev>`) and every entry it lists.
async fn read_revision(kv: &worker::kv::KvStore, rev: u64, index: Option<&str>) -> Option<Value> {
    let text = match index {
        Some(i) => i.to_string(),
        None => kv.get(&layout::revision_key(rev)).text().await.ok()??,
    };
    if !text.starts_with(layout::INDEX_HEADER) {
        return manifest::compile(&text).ok().map(|m| m.source().clone());
    }
    let index = layout::Index::parse(text).ok()?;
    let mut entries = Vec::with_capacity(index.len());
    for (name, hash) in index.prompts() {
        let text = kv.get(&layout::entry_key(name, hash)).text().await.ok()??;
        entries.push((name.to_string(), text));
    }
    let pairs = entries.iter().map(|(n, t)| (n.as_str(), t.as_str()));
    layout::assemble(&index, pairs)
        .ok()
        .map(|m| m.source().clone())
}
