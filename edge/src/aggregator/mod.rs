//! The aggregator Durable Objects (SQLite-backed), one per (prompt, label, weights
//! period, shard): each applies its event batches exactly once and answers a summary
//! whose size grows with versions, metrics and hours, never with units.
//!
//! Tables (all `WITHOUT ROWID`, so a write touches one b-tree):
//! - `batches (id, at)`: batch ids applied, kept for the retention (dedup of queue
//!   redeliveries; their latest time also tells when the period went quiet);
//! - `units (unit, version, state)`: each unit's [`UnitState`] as JSON;
//! - `buckets (hour, version, metric, ...)`: hourly [`Sums`], added to per batch.
//!
//! Retention: outcome ids are kept the token lifetime plus a day (dropped as their unit
//! changes). When a period has had no batch for that long no valid token can name it
//! any more, and the alarm drops unit states and batch ids, keeping the buckets.

pub mod dead;
pub mod periods;
mod rows;

use edgeprompt::events::Event;
use edgeprompt::metrics::unit::{Batch, UnitState};
use edgeprompt::metrics::{Bucket, Summary, Sums};
use edgeprompt_shell::aggregates::{Applied, ApplyRequest, Part, ShardKey, ShardSummary};
use edgeprompt_shell::http::{respond, ApiError};
use edgeprompt_shell::platform::now_ms;
use std::cell::{Cell, RefCell};
use worker::{
    console_error, durable_object, DurableObject, Env, Request, Response, Result, SqlStorage,
    SqlStorageValue as V, State,
};

/// Most unit hashes per `IN (...)` lookup (a statement binds at most 100 values).
const LOOKUP_CHUNK: usize = 90;
/// How often an object pushes its compaction alarm forward while busy.
const ALARM_EVERY_MS: u64 = 3_600_000;

/// One shard of one period's aggregates.
#[durable_object]
pub struct Aggregator {
    state: State,
    env: Env,
    stats: RefCell<Counters>,
    alarm_pushed_ms: Cell<u64>,
    retention_ms: Cell<u64>,
}

#[derive(Default, Clone, Copy)]
struct Counters {
    rows_written: u64,
    events: u64,
    batches: u64,
}

impl DurableObject for Aggregator {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        for ddl in [
            "CREATE TABLE IF NOT EXISTS batches (id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS units (unit TEXT NOT NULL, version INTEGER NOT NULL, state TEXT NOT NULL, PRIMARY KEY (unit, version)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS buckets (hour INTEGER NOT NULL, version INTEGER NOT NULL, metric TEXT NOT NULL, \
             units INTEGER NOT NULL, default_units INTEGER NOT NULL, exposures INTEGER NOT NULL, forced INTEGER NOT NULL, \
             vals INTEGER NOT NULL, total REAL NOT NULL, obs REAL NOT NULL, obs_sq REAL NOT NULL, \
             PRIMARY KEY (hour, version, metric)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID",
        ] {
            if let Err(e) = sql.exec(ddl, None) {
                console_error!("edgeprompt aggregator: schema: {e}");
            }
        }
        Aggregator {
            state,
            env,
            stats: RefCell::new(Counters::default()),
            alarm_pushed_ms: Cell::new(0),
            retention_ms: Cell::new(0),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        let answer = match path.as_str() {
            "/apply" => match req.json::<ApplyRequest>().await {
                Ok(body) => self.apply(body).await,
                Err(e) => Err(ApiError::new(400, "malformed_batch", format!("apply: {e}"))),
            },
            // Paths only (no query string): parsing a URL would link the url crate.
            "/summary" => self.summary(false),
            "/summary-hours" => self.summary(true),
            _ => Err(ApiError::not_found(&path)),
        };
        Ok(answer.unwrap_or_else(ApiError::into_response))
    }

    async fn alarm(&self) -> Result<Response> {
        if let Err(e) = self.compact_if_quiet().await {
            console_error!("edgeprompt aggregator: compaction: {e}");
        }
        Response::ok("")
    }
}

fn storage_error(e: worker::Error) -> ApiError {
    ApiError::new(503, "storage_error", e.to_string())
}

fn int(n: u64) -> V {
    V::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

impl Aggregator {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn compacted(&self) -> std::result::Result<bool, ApiError> {
        let rows = self
            .sql()
            .exec("SELECT COUNT(*) AS n FROM meta WHERE k = 'compacted'", None)
            .and_then(rows::all)
            .map_err(storage_error)?;
        Ok(rows.first().is_some_and(|r| rows::int(r, 0) > 0))
    }

    async fn apply(&self, req: ApplyRequest) -> std::result::Result<Response, ApiError> {
        for part in &req.parts {
            check_events(&req.key, &part.events)?;
        }
        let sql = self.sql();
        if self.compacted()? {
            return Err(ApiError::new(
                409,
                "period_compacted",
                "this period's unit states were dropped after the retention; its tokens have expired",
            ));
        }
        let mut seen: Vec<String> = Vec::new();
        for chunk in req.parts.chunks(LOOKUP_CHUNK) {
            let marks = vec!["?"; chunk.len()].join(",");
            let rows = sql
                .exec(
                    &format!("SELECT id FROM batches WHERE id IN ({marks})"),
                    chunk
                        .iter()
                        .map(|p| V::String(p.batch.clone()))
                        .collect::<Vec<_>>(),
                )
                .and_then(rows::all)
                .map_err(storage_error)?;
            seen.extend(rows.iter().map(|r| rows::text(r, 0)));
        }
        // A batch id repeated within the call (a message delivered twice in one batch)
        // counts once too.
        let mut fresh: Vec<&Part> = Vec::new();
        for p in &req.parts {
            if !seen.contains(&p.batch) && !fresh.iter().any(|f| f.batch == p.batch) {
                fresh.push(p);
            }
        }
        if fresh.is_empty() {
            return Ok(respond(200, &Applied::default()));
        }
        let events: Vec<Event> = fresh
            .iter()
            .flat_map(|p| p.events.iter().cloned())
            .collect();
        let mut batch = Batch::new(req.retention_hours);
        let needed = Batch::units_needed(&events);
        for chunk in needed.chunks(LOOKUP_CHUNK) {
            let marks = vec!["?"; chunk.len()].join(",");
            let mut units: Vec<&str> = chunk.iter().map(|(u, _)| u.as_str()).collect();
            units.dedup();
            let rows = sql
                .exec(
                    &format!("SELECT unit, version, state FROM units WHERE unit IN ({marks})"),
                    units
                        .iter()
                        .map(|u| V::String((*u).to_string()))
                        .collect::<Vec<_>>(),
                )
                .and_then(rows::all)
                .map_err(storage_error)?;
            for row in rows {
                let unit = rows::text(&row, 0);
                let version = u32::try_from(rows::int(&row, 1)).unwrap_or(0);
                let state: UnitState = serde_json::from_str(&rows::text(&row, 2)).map_err(|e| {
                    ApiError::new(500, "corrupt_unit_state", format!("unit {unit}: {e}"))
                })?;
                batch.load(&unit, version, state);
            }
        }
        for e in &events {
            batch.apply(e);
        }
        let now = now_ms();
        let mut statements: Vec<(&'static str, Vec<V>)> = Vec::new();
        for (unit, version, state) in batch.changed_units() {
            let text = serde_json::to_string(state)
                .map_err(|e| ApiError::new(500, "internal", e.to_string()))?;
            statements.push((
                "INSERT INTO units (unit, version, state) VALUES (?, ?, ?) \
                 ON CONFLICT (unit, version) DO UPDATE SET state = excluded.state",
                vec![
                    V::String(unit.to_string()),
                    int(u64::from(version)),
                    V::String(text),
                ],
            ));
        }
        for (b, s) in batch.buckets() {
            statements.push((
                "INSERT INTO buckets (hour, version, metric, units, default_units, exposures, forced, vals, total, obs, obs_sq) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hour, version, metric) DO UPDATE SET \
                 units = units + excluded.units, default_units = default_units + excluded.default_units, \
                 exposures = exposures + excluded.exposures, forced = forced + excluded.forced, \
                 vals = vals + excluded.vals, total = total + excluded.total, obs = obs + excluded.obs, \
                 obs_sq = obs_sq + excluded.obs_sq",
                vec![
                    int(u64::from(b.hour)),
                    int(u64::from(b.version)),
                    V::String(b.metric.clone()),
                    int(s.units),
                    int(s.default_units),
                    int(s.exposures),
                    int(s.forced),
                    int(s.values),
                    V::Float(s.sum),
                    V::Float(s.obs_sum),
                    V::Float(s.obs_sum_sq),
                ],
            ));
        }
        for p in &fresh {
            statements.push((
                "INSERT INTO batches (id, at) VALUES (?, ?)",
                vec![V::String(p.batch.clone()), int(now)],
            ));
        }
        // All of the batch or none of it: the batch id commits with its aggregates.
        let written = std::rc::Rc::new(Cell::new(0u64));
        let counter = written.clone();
        let tx_sql = self.sql();
        // Dev fault: fail after the units and aggregates were written but before the
        // batch ids: the transaction must then leave nothing behind, or the redelivery
        // would count those events twice.
        let fault = crate::config::Settings::get(&self.env).faults.aggregator;
        let fail = fault > 0.0 && worker::js_sys::Math::random() < fault;
        self.state
            .storage()
            .transaction(move |_| async move {
                for (q, args) in statements {
                    if fail && q.starts_with("INSERT INTO batches") {
                        return Err(worker::Error::RustError(
                            "EDGEPROMPT_DEV_FAULTS aggregator: failing before the batch ids".into(),
                        ));
                    }
                    let c = tx_sql.exec(q, args)?;
                    counter.set(counter.get() + c.rows_written() as u64);
                }
                Ok(())
            })
            .await
            .map_err(storage_error)?;
        let applied = batch.applied();
        {
            let mut s = self.stats.borrow_mut();
            s.rows_written += written.get();
            s.events += events.len() as u64;
            s.batches += fresh.len() as u64;
        }
        self.retention_ms
            .set(u64::from(req.retention_hours).saturating_mul(3_600_000));
        self.push_alarm(now).await;
        Ok(respond(
            200,
            &Applied {
                fresh: fresh.len() as u32,
                counted: applied.counted,
                duplicates: applied.duplicates,
                rows_written: written.get(),
            },
        ))
    }

    /// Keeps the compaction alarm a retention ahead of the latest batch (at most one
    /// alarm write an hour while the period is busy).
    async fn push_alarm(&self, now: u64) {
        if now.saturating_sub(self.alarm_pushed_ms.get()) < ALARM_EVERY_MS {
            return;
        }
        let at = now.saturating_add(self.retention_ms.get().max(ALARM_EVERY_MS));
        match self.state.storage().set_alarm(at as i64).await {
            Ok(()) => self.alarm_pushed_ms.set(now),
            Err(e) => console_error!("edgeprompt aggregator: alarm: {e}"),
        }
    }

    async fn compact_if_quiet(&self) -> Result<()> {
        let sql = self.sql();
        let latest = rows::all(sql.exec("SELECT MAX(at) AS at FROM batches", None)?)?;
        let Some(last) = latest.first().and_then(|l| rows::real(l, 0)) else {
            return Ok(());
        };
        let retention = self.retention_ms.get().max(ALARM_EVERY_MS);
        let now = now_ms();
        let last = last as u64;
        if now.saturating_sub(last) >= retention {
            sql.exec("DELETE FROM units", None)?;
            sql.exec("DELETE FROM batches", None)?;
            sql.exec(
                "INSERT OR REPLACE INTO meta (k, v) VALUES ('compacted', ?)",
                vec![int(now)],
            )?;
        } else {
            sql.exec(
                "DELETE FROM batches WHERE at < ?",
                vec![int(now.saturating_sub(retention))],
            )?;
            self.state
                .storage()
                .set_alarm(last.saturating_add(retention) as i64)
                .await?;
        }
        Ok(())
    }

    fn summary(&self, hours: bool) -> std::result::Result<Response, ApiError> {
        let sql = self.sql();
        let rows = sql
            .exec(
                "SELECT hour, version, metric, units, default_units, exposures, forced, vals, total, obs, obs_sq \
                 FROM buckets ORDER BY hour, version, metric",
                None,
            )
            .and_then(rows::all)
            .map_err(storage_error)?;
        let mut summary = Summary::default();
        let mut by_hour = Vec::new();
        for r in rows {
            let s = Sums {
                units: rows::count(&r, 3),
                default_units: rows::count(&r, 4),
                exposures: rows::count(&r, 5),
                forced: rows::count(&r, 6),
                values: rows::count(&r, 7),
                sum: rows::real(&r, 8).unwrap_or(0.0),
                obs_sum: rows::real(&r, 9).unwrap_or(0.0),
                obs_sum_sq: rows::real(&r, 10).unwrap_or(0.0),
            };
            let version = u32::try_from(rows::int(&r, 1)).unwrap_or(0);
            let metric = rows::text(&r, 2);
            summary.add(version, &metric, &s);
            if hours {
                by_hour.push((
                    Bucket {
                        hour: u32::try_from(rows::int(&r, 0)).unwrap_or(0),
                        version,
                        metric,
                    },
                    s,
                ));
            }
        }
        let stats = *self.stats.borrow();
        Ok(respond(
            200,
            &ShardSummary {
                summary,
                hours: by_hour,
                compacted: self.compacted()?,
                database_bytes: sql.database_size() as u64,
                rows_written: stats.rows_written,
                events: stats.events,
                batches: stats.batches,
            },
        ))
    }
}

/// Every event must belong to this object: its prompt, label, period and shard.
fn check_events(key: &ShardKey, events: &[Event]) -> std::result::Result<(), ApiError> {
    for (i, e) in events.iter().enumerate() {
        let (prompt, label, period, unit) = match e {
            Event::Exposure(x) => (&x.prompt, &x.label, &x.period, &x.unit_hash),
            Event::Outcome(o) => (&o.prompt, &o.label, &o.period, &o.unit_hash),
        };
        let shard = edgeprompt::metrics::shard(unit, key.shards);
        if *prompt != key.prompt
            || *label != key.label
            || *period != key.period
            || shard != key.shard
        {
            return Err(ApiError::new(
                400,
                "wrong_shard",
                format!("event {i} belongs to {prompt}/{label} period {period} shard {shard}, not to {}", key.name()),
            ));
        }
    }
    Ok(())
}
