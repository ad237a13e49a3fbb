//! The queue consumers: a queue batch's events go, per period and shard, to their
//! aggregator object in one call per object. Messages are settled one by one: one that
//! was applied is acknowledged, one whose aggregator failed is retried alone, and one
//! that can never be applied (unreadable, or refused for its content) is recorded as a
//! dead letter with the reason, so no event is lost to another's fault.
//!
//! The handler is exported by hand rather than with `#[event(queue)]`: the macro's
//! `MessageBatch` does not expose a message's delivery count, which deciding "last
//! attempt" needs.

use crate::config::Settings;
use edgeprompt::events::Event;
use edgeprompt_shell::aggregates::{
    self, ApplyRequest, CallError, DeadLetter, Message, Part, ShardKey,
};
use futures_util::future::join_all;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::worker_sys::{Context as ContextSys, Message as MessageSys, MessageBatch as BatchSys};
use worker::{console_error, js_sys, Env};

/// The dead-letter queue's name (wrangler.toml): messages whose consumer crashed on
/// every delivery land there and are recorded without a reason of ours.
pub const DLQ_NAME: &str = "edgeprompt-events-dlq";

thread_local! {
    /// Shard counts of periods already registered by this isolate (they never change).
    static SHARDS: RefCell<HashMap<(String, String, String), u32>> = RefCell::new(HashMap::new());
}

/// The queue handler (what `#[event(queue)]` would export).
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, wasm_bindgen_futures = ::worker::wasm_bindgen_futures)]
pub async fn queue(batch: BatchSys, env: Env, _ctx: ContextSys) -> Result<JsValue, JsValue> {
    consume(&batch, &env).await;
    Ok(JsValue::UNDEFINED)
}

enum Settle {
    Ack,
    Retry { delay_s: Option<u32> },
    Dead(String),
}

async fn consume(batch: &BatchSys, env: &Env) {
    let settings = Settings::get(env);
    let queue = batch.queue().map(String::from).unwrap_or_default();
    let Ok(messages) = batch.messages() else {
        console_error!("edgeprompt: a queue batch without messages");
        return;
    };
    let messages: Vec<MessageSys> = messages.iter().map(JsCast::unchecked_into).collect();
    let texts: Vec<String> = messages.iter().map(body_text).collect();
    let decisions: Vec<Settle> = if queue == DLQ_NAME {
        messages
            .iter()
            .map(|_| Settle::Dead(format!(
                "the consumer of the events queue failed on each of its deliveries without recording a reason (it crashed or timed out); moved to {DLQ_NAME}"
            )))
            .collect()
    } else {
        decide(env, &settings, &messages, &texts).await
    };
    join_all(
        messages
            .iter()
            .zip(texts)
            .zip(decisions)
            .map(|((m, text), d)| act(m, env, &queue, text, d)),
    )
    .await;
}

fn attempts(m: &MessageSys) -> u32 {
    js_sys::Reflect::get(m, &JsValue::from_str("attempts"))
        .ok()
        .and_then(|v| v.as_f64())
        .map(|a| a as u32)
        .unwrap_or(1)
}

fn body_text(m: &MessageSys) -> String {
    m.body()
        .ok()
        .and_then(|b| js_sys::JSON::stringify(&b).ok())
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// What to do with each message: the whole queue batch is applied with one call per
/// shard (so the aggregates' rows are written once per call, not per message); a call
/// that fails is repeated message by message, so one bad message fails only itself.
async fn decide(
    env: &Env,
    settings: &Settings,
    messages: &[MessageSys],
    texts: &[String],
) -> Vec<Settle> {
    let mut outcome: Vec<Result<(), CallError>> = vec![Ok(()); messages.len()];
    let mut groups: BTreeMap<ShardKey, Vec<(usize, Part)>> = BTreeMap::new();
    for (i, text) in texts.iter().enumerate() {
        let msg = match serde_json::from_str::<Message>(text) {
            Ok(m) => m,
            Err(e) => {
                outcome[i] = Err(CallError {
                    status: 400,
                    message: format!("unreadable message: {e}"),
                });
                continue;
            }
        };
        match parts_of(env, settings, msg).await {
            Ok(parts) => {
                for (key, part) in parts {
                    groups.entry(key).or_default().push((i, part));
                }
            }
            Err(e) => outcome[i] = Err(e),
        }
    }
    let retention_hours = settings.retention_hours();
    let results = join_all(groups.into_iter().map(|(key, parts)| async move {
        let whole = ApplyRequest {
            key: key.clone(),
            retention_hours,
            parts: parts.iter().map(|(_, p)| p.clone()).collect(),
        };
        match aggregates::apply(env, &whole).await {
            Ok(_) => parts.iter().map(|(i, _)| (*i, Ok(()))).collect::<Vec<_>>(),
            Err(_) if parts.len() > 1 => {
                let single = parts.iter().map(|(i, p)| {
                    let req = ApplyRequest {
                        key: key.clone(),
                        retention_hours,
                        parts: vec![p.clone()],
                    };
                    async move { (*i, aggregates::apply(env, &req).await.map(|_| ())) }
                });
                join_all(single).await
            }
            Err(e) => parts.iter().map(|(i, _)| (*i, Err(e.clone()))).collect(),
        }
    }))
    .await;
    for (i, r) in results.into_iter().flatten() {
        if let (Err(e), Some(slot @ Ok(()))) = (r, outcome.get_mut(i)) {
            *slot = Err(e);
        }
    }
    outcome
        .into_iter()
        .zip(messages)
        .map(|(r, m)| {
            let attempts = attempts(m);
            let last = attempts > settings.max_retries;
            match r {
                Ok(())
                    if !last
                        && settings.faults.consumer > 0.0
                        && js_sys::Math::random() < settings.faults.consumer =>
                {
                    Settle::Retry { delay_s: Some(0) }
                }
                Ok(()) => Settle::Ack,
                Err(e) if e.permanent() => Settle::Dead(e.message),
                Err(e) if last => Settle::Dead(format!("failed on all {attempts} deliveries: {e}")),
                Err(e) => {
                    console_error!(
                        "edgeprompt: applying a message failed, it will be retried: {e}"
                    );
                    Settle::Retry { delay_s: None }
                }
            }
        })
        .collect()
}

async fn act(m: &MessageSys, env: &Env, queue: &str, text: String, decision: Settle) {
    match decision {
        Settle::Ack => {
            let _ = m.ack();
        }
        Settle::Retry { delay_s } => {
            let opts = match delay_s {
                Some(d) => {
                    let o = js_sys::Object::new();
                    let _ = js_sys::Reflect::set(&o, &"delaySeconds".into(), &JsValue::from(d));
                    o.into()
                }
                None => JsValue::NULL,
            };
            let _ = m.retry(opts);
        }
        Settle::Dead(reason) => {
            let letter = DeadLetter {
                id: m.id().map(String::from).unwrap_or_default(),
                at_ms: 0,
                queue: queue.to_string(),
                attempts: attempts(m),
                reason,
                body: text,
            };
            match aggregates::record_dead_letter(env, &letter).await {
                Ok(()) => {
                    let _ = m.ack();
                }
                Err(e) => {
                    // Not recorded: leave it to the queue (retries, then the DLQ).
                    console_error!("edgeprompt: recording a dead letter failed: {e}");
                    let _ = m.retry(JsValue::NULL);
                }
            }
        }
    }
}

/// A message's events grouped by period and shard, each group a part for its object.
async fn parts_of(
    env: &Env,
    settings: &Settings,
    msg: Message,
) -> Result<Vec<(ShardKey, Part)>, CallError> {
    let mut by_period: BTreeMap<(String, String, String), Vec<Event>> = BTreeMap::new();
    for e in msg.events {
        let (p, l, per) = match &e {
            Event::Exposure(x) => (&x.prompt, &x.label, &x.period),
            Event::Outcome(o) => (&o.prompt, &o.label, &o.period),
        };
        by_period
            .entry((p.clone(), l.clone(), per.clone()))
            .or_default()
            .push(e);
    }
    let mut out = Vec::new();
    for ((prompt, label, period), events) in by_period {
        let shards = period_shards(env, settings, &prompt, &label, &period, &events).await?;
        let mut by_shard: BTreeMap<u32, Vec<Event>> = BTreeMap::new();
        for e in events {
            let unit = match &e {
                Event::Exposure(x) => &x.unit_hash,
                Event::Outcome(o) => &o.unit_hash,
            };
            by_shard
                .entry(edgeprompt::metrics::shard(unit, shards))
                .or_default()
                .push(e);
        }
        for (shard, events) in by_shard {
            out.push((
                ShardKey {
                    prompt: prompt.clone(),
                    label: label.clone(),
                    period: period.clone(),
                    shard,
                    shards,
                },
                Part {
                    batch: msg.batch.clone(),
                    events,
                },
            ));
        }
    }
    Ok(out)
}

async fn period_shards(
    env: &Env,
    settings: &Settings,
    prompt: &str,
    label: &str,
    period: &str,
    events: &[Event],
) -> Result<u32, CallError> {
    let key = (prompt.to_string(), label.to_string(), period.to_string());
    if let Some(s) = SHARDS.with(|m| m.borrow().get(&key).copied()) {
        return Ok(s);
    }
    let first_ms = events
        .iter()
        .map(|e| match e {
            Event::Exposure(x) => x.time_ms,
            Event::Outcome(o) => o.time_ms,
        })
        .min()
        .unwrap_or(0);
    let shards =
        aggregates::register_period(env, prompt, label, period, settings.event_shards, first_ms)
            .await?;
    SHARDS.with(|m| m.borrow_mut().insert(key, shards));
    Ok(shards)
}
