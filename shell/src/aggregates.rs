//! The aggregator Durable Objects, as their callers see them: names, wire shapes and
//! calls. The objects live in the edge Worker (`edge/src/aggregator/`); the edge's
//! queue consumer and `/v1/metrics` call them directly, the control plane through a
//! binding with `script_name`.
//!
//! - `AGGREGATES`: one object per (prompt, label, weights period, shard), named by
//!   [`ShardKey::name`]; it applies event batches and answers its summary.
//! - `PERIODS`: one object per (prompt, label): the periods seen and the shard count
//!   each was aggregated with (fixed by the first event of the period).
//! - `DEAD_LETTERS`: one object (`global`): queue messages that could not be applied,
//!   with the reason, until they are replayed.

use edgeprompt::events::Event;
use edgeprompt::metrics::{Bucket, Summary, Sums};
use futures_util::future::join_all;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{Env, Method, Request, RequestInit, Stub};

/// Binding of the aggregator objects.
pub const AGGREGATES: &str = "AGGREGATES";
/// Binding of the period index objects.
pub const PERIODS: &str = "PERIODS";
/// Binding of the dead-letter object.
pub const DEAD_LETTERS: &str = "DEAD_LETTERS";

/// Which aggregator: a prompt, label, weights period and shard (of `shards`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ShardKey {
    /// Prompt.
    pub prompt: String,
    /// Label.
    pub label: String,
    /// Weights period.
    pub period: String,
    /// This shard.
    pub shard: u32,
    /// Shards of the period.
    pub shards: u32,
}

impl ShardKey {
    /// The object's name (JSON, so no separator can be ambiguous).
    pub fn name(&self) -> String {
        serde_json::json!([
            self.prompt,
            self.label,
            self.period,
            self.shard,
            self.shards
        ])
        .to_string()
    }
}

/// A queue message: a batch of events with the id that makes it count once per shard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    /// Batch id (random, from the sender).
    pub batch: String,
    /// The events.
    pub events: Vec<Event>,
}

/// What `apply` sends to an aggregator.
#[derive(Debug, Serialize, Deserialize)]
pub struct ApplyRequest {
    /// The object's identity (checked against every event).
    pub key: ShardKey,
    /// How long outcome ids and batch ids are kept (hours).
    pub retention_hours: u32,
    /// This shard's part of each message: the consumer sends the parts of a whole
    /// queue batch at once, so that the aggregates' rows are written once per call.
    pub parts: Vec<Part>,
}

/// One message's events for one shard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Part {
    /// The message's batch id (applied once per shard).
    pub batch: String,
    /// The events.
    pub events: Vec<Event>,
}

/// What an aggregator answers to `apply`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Applied {
    /// Parts applied now (the others had been applied before).
    pub fresh: u32,
    /// Events that changed an aggregate.
    pub counted: u64,
    /// Outcomes already applied for their unit.
    pub duplicates: u64,
    /// SQLite rows written by the batch.
    pub rows_written: u64,
}

/// An aggregator's summary and storage figures.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ShardSummary {
    /// Totals per version and metric.
    pub summary: Summary,
    /// Hourly aggregates, when asked for.
    #[serde(default)]
    pub hours: Vec<(Bucket, Sums)>,
    /// Whether unit states were dropped after the retention (summaries stay).
    pub compacted: bool,
    /// Bytes of the object's SQLite database.
    pub database_bytes: u64,
    /// Rows written since the object started (for the cost model).
    pub rows_written: u64,
    /// Events applied since the object started.
    pub events: u64,
    /// Batches applied since the object started.
    pub batches: u64,
}

/// A period as the index recorded it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeriodInfo {
    /// Weights period.
    pub period: String,
    /// Shards its events were aggregated in.
    pub shards: u32,
    /// First event's time (ms since the epoch).
    pub first_ms: u64,
}

/// A failed call: the object's status (0 when it was not reached) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// HTTP status the object answered, or 0.
    pub status: u16,
    /// What failed.
    pub message: String,
}

impl CallError {
    fn new(message: impl Into<String>) -> CallError {
        CallError {
            status: 0,
            message: message.into(),
        }
    }

    /// Refused for what was sent (a 4xx): sending it again cannot succeed.
    pub fn permanent(&self) -> bool {
        (400..500).contains(&self.status)
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn stub(env: &Env, binding: &str, name: &str) -> Result<Stub, CallError> {
    env.durable_object(binding)
        .and_then(|ns| ns.get_by_name(name))
        .map_err(|e| CallError::new(format!("Durable Object binding {binding}: {e}")))
}

/// Calls an object: `body` is sent as JSON with POST, or GET without one.
pub async fn call<T: DeserializeOwned>(
    env: &Env,
    binding: &str,
    name: &str,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, CallError> {
    let mut init = RequestInit::new();
    match body {
        Some(b) => {
            let text = serde_json::to_string(b).map_err(|e| CallError::new(e.to_string()))?;
            init.with_method(Method::Post).with_body(Some(text.into()));
        }
        None => {
            init.with_method(Method::Get);
        }
    }
    let req = Request::new_with_init(&format!("https://do/{path}"), &init)
        .map_err(|e| CallError::new(e.to_string()))?;
    let mut res = stub(env, binding, name)?
        .fetch_with_request(req)
        .await
        .map_err(|e| CallError::new(format!("{binding} {path}: {e}")))?;
    let text = res
        .text()
        .await
        .map_err(|e| CallError::new(e.to_string()))?;
    if res.status_code() != 200 {
        let reason = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| {
                v.pointer("/error/message")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or(text);
        return Err(CallError {
            status: res.status_code(),
            message: format!("{binding} {path}: {} {reason}", res.status_code()),
        });
    }
    serde_json::from_str(&text).map_err(|e| CallError::new(format!("{binding} {path}: {e}")))
}

/// Applies a batch to its shard's aggregator.
pub async fn apply(env: &Env, req: &ApplyRequest) -> Result<Applied, CallError> {
    call(env, AGGREGATES, &req.key.name(), "apply", Some(req)).await
}

/// One shard's summary (with hourly buckets when `hours`).
pub async fn shard_summary(
    env: &Env,
    key: &ShardKey,
    hours: bool,
) -> Result<ShardSummary, CallError> {
    let path = if hours { "summary-hours" } else { "summary" };
    call(env, AGGREGATES, &key.name(), path, None::<&()>).await
}

fn index_name(prompt: &str, label: &str) -> String {
    serde_json::json!([prompt, label]).to_string()
}

/// The shard count of a period: the one recorded, or `shards` recorded now.
pub async fn register_period(
    env: &Env,
    prompt: &str,
    label: &str,
    period: &str,
    shards: u32,
    time_ms: u64,
) -> Result<u32, CallError> {
    let info = PeriodInfo {
        period: period.to_string(),
        shards,
        first_ms: time_ms,
    };
    let recorded: PeriodInfo = call(
        env,
        PERIODS,
        &index_name(prompt, label),
        "register",
        Some(&info),
    )
    .await?;
    Ok(recorded.shards)
}

/// Every period of a prompt's label that has events.
pub async fn periods(env: &Env, prompt: &str, label: &str) -> Result<Vec<PeriodInfo>, CallError> {
    call(
        env,
        PERIODS,
        &index_name(prompt, label),
        "list",
        None::<&()>,
    )
    .await
}

/// The merged summary of one period (every shard), or of every period (`None`).
pub async fn summary(
    env: &Env,
    prompt: &str,
    label: &str,
    period: Option<&str>,
) -> Result<Summary, CallError> {
    let (total, _) = summary_by_hour(env, prompt, label, period, false).await?;
    Ok(total)
}

/// The merged summary and, when `hours`, per hour, version and metric the merged
/// hourly aggregates (what was added in that hour: new units, successes, values...).
pub async fn summary_by_hour(
    env: &Env,
    prompt: &str,
    label: &str,
    period: Option<&str>,
    hours: bool,
) -> Result<(Summary, Vec<(Bucket, Sums)>), CallError> {
    let mut keys = Vec::new();
    for p in periods(env, prompt, label).await? {
        if period.is_some_and(|want| want != p.period) {
            continue;
        }
        for shard in 0..p.shards {
            keys.push(ShardKey {
                prompt: prompt.to_string(),
                label: label.to_string(),
                period: p.period.clone(),
                shard,
                shards: p.shards,
            });
        }
    }
    let calls = keys.iter().map(|k| shard_summary(env, k, hours));
    let mut total = Summary::default();
    let mut by_hour: std::collections::BTreeMap<Bucket, Sums> = std::collections::BTreeMap::new();
    for s in join_all(calls).await {
        let s = s?;
        total.merge(&s.summary);
        for (b, x) in s.hours {
            by_hour.entry(b).or_default().add(&x);
        }
    }
    Ok((total, by_hour.into_iter().collect()))
}

/// A queue message the consumer could not apply.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The queue's message id.
    pub id: String,
    /// When it was recorded (ms since the epoch; set by the store).
    #[serde(default)]
    pub at_ms: u64,
    /// The queue it came from.
    pub queue: String,
    /// Deliveries tried.
    pub attempts: u32,
    /// Why it could not be applied.
    pub reason: String,
    /// The message body (JSON text).
    pub body: String,
}

/// Records a dead letter.
pub async fn record_dead_letter(env: &Env, d: &DeadLetter) -> Result<(), CallError> {
    call::<Value>(env, DEAD_LETTERS, "global", "record", Some(d))
        .await
        .map(|_| ())
}
