//! D1: the SQL that folds events into aggregates, idempotently, and reads them back.
//! The schema is in `migrations/`.

use edgeprompt::events::{Event, Exposure, Outcome};
use edgeprompt::manifest::MetricKind;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement, D1Type, Env};

/// The D1 binding.
pub const D1_BINDING: &str = "METRICS";

/// An owned SQL argument (D1 binds JavaScript numbers, so integers travel as doubles).
pub enum Arg {
    /// Text.
    T(String),
    /// A number.
    N(f64),
}

fn bind(db: &D1Database, sql: &str, args: &[Arg]) -> worker::Result<D1PreparedStatement> {
    let values: Vec<D1Type<'_>> = args
        .iter()
        .map(|a| match a {
            Arg::T(s) => D1Type::Text(s),
            Arg::N(x) => D1Type::Real(*x),
        })
        .collect();
    db.prepare(sql).bind_refs(&values)
}

/// The database handle.
pub fn database(env: &Env) -> worker::Result<D1Database> {
    env.d1(D1_BINDING)
}

const NOT_SEEN: &str = "NOT EXISTS (SELECT 1 FROM seen_events WHERE id = ?";

/// The statements that count one event, each guarded so that an id is counted once;
/// they must run in one batch (one transaction), the id's record last.
pub fn statements(
    db: &D1Database,
    event: &Event,
    now_ms: u64,
) -> worker::Result<Vec<D1PreparedStatement>> {
    match event {
        Event::Exposure(e) => exposure(db, e, now_ms),
        Event::Outcome(o) => outcome(db, o, now_ms),
    }
}

fn t(s: &str) -> Arg {
    Arg::T(s.to_string())
}

fn exposure(
    db: &D1Database,
    e: &Exposure,
    now_ms: u64,
) -> worker::Result<Vec<D1PreparedStatement>> {
    let key = || {
        vec![
            t(&e.prompt),
            t(&e.label),
            t(&e.period),
            Arg::N(f64::from(e.version)),
        ]
    };
    let mut out = vec![bind(
        db,
        "INSERT OR IGNORE INTO periods (prompt, label, period, first_revision, first_seen) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[t(&e.prompt), t(&e.label), t(&e.period), Arg::N(e.revision as f64), Arg::N(now_ms as f64)],
    )?];
    let mut args = key();
    args.extend([
        t(&e.unit_hash),
        t(&e.rule),
        Arg::N(f64::from(u8::from(e.forced))),
        Arg::N(now_ms as f64),
        t(&e.id),
    ]);
    out.push(bind(
        db,
        &format!("INSERT OR IGNORE INTO exposed_units (prompt, label, period, version, unit_hash, rule, forced, first_seen) \
                  SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE {NOT_SEEN}9)"),
        &args,
    )?);
    if !e.forced {
        let mut args = key();
        args.push(t(&e.id));
        out.push(bind(
            db,
            &format!("INSERT INTO exposure_counts (prompt, label, period, version, n) SELECT ?1, ?2, ?3, ?4, 1 \
                      WHERE {NOT_SEEN}5) ON CONFLICT (prompt, label, period, version) DO UPDATE SET n = n + 1"),
            &args,
        )?);
    }
    out.push(seen(db, &e.id, "exposure", now_ms)?);
    Ok(out)
}

fn outcome(db: &D1Database, o: &Outcome, now_ms: u64) -> worker::Result<Vec<D1PreparedStatement>> {
    let key = || {
        vec![
            t(&o.prompt),
            t(&o.label),
            t(&o.period),
            Arg::N(f64::from(o.version)),
            t(&o.metric),
        ]
    };
    let mut out = Vec::new();
    // Forced (QA) units are recorded as seen but left out of every comparison.
    if !o.forced {
        if o.kind == MetricKind::Binary && o.value >= 1.0 {
            let mut args = key();
            args.extend([t(&o.unit_hash), t(&o.id)]);
            out.push(bind(
                db,
                &format!("INSERT OR IGNORE INTO outcome_units (prompt, label, period, version, metric, unit_hash) \
                          SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE {NOT_SEEN}7)"),
                &args,
            )?);
        }
        let mut args = key();
        args.extend([Arg::N(o.value), Arg::N(o.value * o.value), t(&o.id)]);
        out.push(bind(
            db,
            &format!("INSERT INTO outcome_sums (prompt, label, period, version, metric, n, total, total_sq) \
                      SELECT ?1, ?2, ?3, ?4, ?5, 1, ?6, ?7 WHERE {NOT_SEEN}8) \
                      ON CONFLICT (prompt, label, period, version, metric) \
                      DO UPDATE SET n = n + 1, total = total + excluded.total, total_sq = total_sq + excluded.total_sq"),
            &args,
        )?);
    }
    out.push(seen(db, &o.id, "outcome", now_ms)?);
    Ok(out)
}

fn seen(db: &D1Database, id: &str, kind: &str, now_ms: u64) -> worker::Result<D1PreparedStatement> {
    bind(
        db,
        "INSERT OR IGNORE INTO seen_events (id, kind, seen_at) VALUES (?1, ?2, ?3)",
        &[t(id), t(kind), Arg::N(now_ms as f64)],
    )
}

/// Which of these event ids were already counted.
pub async fn already_seen(db: &D1Database, ids: &[String]) -> worker::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
    }
    let mut found = Vec::new();
    // D1 binds at most 100 parameters per statement.
    for chunk in ids.chunks(90) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "SELECT id FROM seen_events WHERE id IN ({})",
            marks.join(", ")
        );
        let args: Vec<Arg> = chunk.iter().map(|s| t(s)).collect();
        let rows: Vec<Row> = bind(db, &sql, &args)?.all().await?.results()?;
        found.extend(rows.into_iter().map(|r| r.id));
    }
    Ok(found)
}

/// Exposed units per version (forced units excluded), and those a default rule decided.
#[derive(Debug, Deserialize)]
pub struct UnitsRow {
    /// Version.
    pub version: u32,
    /// Distinct units.
    pub units: u64,
    /// Distinct units assigned by the route's default (for the ratio check).
    pub default_units: u64,
}

/// Units per version and metric with a binary success.
#[derive(Debug, Deserialize)]
pub struct SuccessRow {
    /// Version.
    pub version: u32,
    /// Metric.
    pub metric: String,
    /// Distinct units with a success.
    pub units: u64,
}

/// Sums per version and metric.
#[derive(Debug, Deserialize)]
pub struct SumRow {
    /// Version.
    pub version: u32,
    /// Metric.
    pub metric: String,
    /// Values reported.
    pub n: u64,
    /// Their sum.
    pub total: f64,
    /// The sum of their squares.
    pub total_sq: f64,
}

/// The aggregates of one prompt and label, for one period or (`None`) all of them.
pub struct Aggregates {
    /// Exposed units.
    pub units: Vec<UnitsRow>,
    /// Binary successes.
    pub successes: Vec<SuccessRow>,
    /// Sums.
    pub sums: Vec<SumRow>,
}

/// Reads the aggregates.
pub async fn aggregates(
    db: &D1Database,
    prompt: &str,
    label: &str,
    period: Option<&str>,
) -> worker::Result<Aggregates> {
    let (filter, mut args) = match period {
        Some(p) => (
            "prompt = ?1 AND label = ?2 AND period = ?3",
            vec![t(prompt), t(label), t(p)],
        ),
        None => ("prompt = ?1 AND label = ?2", vec![t(prompt), t(label)]),
    };
    let units_sql = format!(
        "SELECT version, COUNT(DISTINCT unit_hash) AS units, \
         COUNT(DISTINCT CASE WHEN rule = 'default' THEN unit_hash END) AS default_units \
         FROM exposed_units WHERE {filter} AND forced = 0 GROUP BY version ORDER BY version"
    );
    let units: Vec<UnitsRow> = bind(db, &units_sql, &args)?.all().await?.results()?;
    let succ_sql = format!(
        "SELECT version, metric, COUNT(DISTINCT unit_hash) AS units FROM outcome_units WHERE {filter} GROUP BY version, metric"
    );
    let successes: Vec<SuccessRow> = bind(db, &succ_sql, &args)?.all().await?.results()?;
    let sums_sql = format!(
        "SELECT version, metric, SUM(n) AS n, SUM(total) AS total, SUM(total_sq) AS total_sq \
         FROM outcome_sums WHERE {filter} GROUP BY version, metric"
    );
    let sums: Vec<SumRow> = bind(db, &sums_sql, &args)?.all().await?.results()?;
    args.clear();
    Ok(Aggregates {
        units,
        successes,
        sums,
    })
}

/// Deletes seen ids older than `before_ms`.
pub async fn expire_seen(db: &D1Database, before_ms: u64) -> worker::Result<()> {
    bind(
        db,
        "DELETE FROM seen_events WHERE seen_at < ?1",
        &[Arg::N(before_ms as f64)],
    )?
    .run()
    .await
    .map(|_| ())
}
