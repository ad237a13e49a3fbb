//! Events leave the worker through Q queues (`EVENTS_0` ..): a unit's events always go
//! to the queue of its shard, so one hot prompt spreads over every queue. Exposures of
//! a resolve wait a few milliseconds in the isolate to share messages with other
//! requests and leave from `ctx.wait_until`, never on the response's path; a failed
//! send is retried, and what still fails is counted for `/v1/status`.

use crate::config::Settings;
use edgeprompt::events::{batches, Event};
use edgeprompt_shell::aggregates::Message;
use edgeprompt_shell::platform::nonce;
use futures_util::future::join_all;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Duration;
use worker::{console_error, Context, Delay, Env};

/// Prefix of the queue bindings.
pub const QUEUE_PREFIX: &str = "EVENTS_";
/// Most events per queue message.
const MAX_EVENTS_PER_MESSAGE: usize = 100;
/// Most JSON bytes of events per queue message (a message may hold 128 KB).
const MAX_MESSAGE_BYTES: usize = 100_000;
/// Sends tried per message from the resolve path, with these pauses between them.
const RETRY_PAUSES_MS: [u64; 2] = [100, 1_000];

thread_local! {
    static PENDING: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
    static SENT: Cell<u64> = const { Cell::new(0) };
    static UNSENT: Cell<u64> = const { Cell::new(0) };
}

/// Events this isolate queued, and those it gave up on after its retries.
pub fn counters() -> (u64, u64) {
    (SENT.with(Cell::get), UNSENT.with(Cell::get))
}

fn unit_of(e: &Event) -> &str {
    match e {
        Event::Exposure(x) => &x.unit_hash,
        Event::Outcome(o) => &o.unit_hash,
    }
}

/// The queue of an event: its shard's (shard mod Q).
pub fn queue_of(e: &Event, settings: &Settings) -> u32 {
    edgeprompt::metrics::shard(unit_of(e), settings.event_shards) % settings.event_queues.max(1)
}

/// Queues events to be sent after the response, batched with other requests' events.
pub fn push(env: &Env, ctx: &Context, events: Vec<Event>, settings: Settings) {
    if events.is_empty() {
        return;
    }
    PENDING.with(|p| p.borrow_mut().extend(events));
    if SCHEDULED.with(|s| s.replace(true)) {
        return;
    }
    let env = env.clone();
    ctx.wait_until(async move {
        if settings.flush_delay_ms > 0 {
            Delay::from(Duration::from_millis(settings.flush_delay_ms)).await;
        }
        SCHEDULED.with(|s| s.set(false));
        let events = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
        let unsent = send_with_retries(&env, &settings, events).await;
        if unsent > 0 {
            UNSENT.with(|u| u.set(u.get() + unsent));
            console_error!("edgeprompt: {unsent} event(s) could not be queued after retries");
        }
    });
}

/// The messages for these events: per queue, batches within the message limits, each
/// with a fresh batch id.
fn messages(events: Vec<Event>, settings: &Settings) -> Vec<(u32, Message)> {
    let mut by_queue: BTreeMap<u32, Vec<Event>> = BTreeMap::new();
    for e in events {
        by_queue.entry(queue_of(&e, settings)).or_default().push(e);
    }
    let mut out = Vec::new();
    for (q, evs) in by_queue {
        for chunk in batches(&evs, MAX_EVENTS_PER_MESSAGE, MAX_MESSAGE_BYTES) {
            out.push((
                q,
                Message {
                    batch: nonce(),
                    events: chunk.into_iter().cloned().collect(),
                },
            ));
        }
    }
    out
}

async fn send_one(env: &Env, queue: u32, m: &Message) -> Result<(), String> {
    let name = format!("{QUEUE_PREFIX}{queue}");
    env.queue(&name)
        .map_err(|e| format!("queue binding {name}: {e}"))?
        .send(m)
        .await
        .map_err(|e| format!("queue {name}: {e}"))?;
    SENT.with(|s| s.set(s.get() + m.events.len() as u64));
    Ok(())
}

/// Sends now, every message concurrently; the first failure is returned (messages that
/// were accepted stay accepted: a repeat of the whole request is deduplicated).
pub async fn send(env: &Env, settings: &Settings, events: Vec<Event>) -> Result<(), String> {
    let msgs = messages(events, settings);
    let results = join_all(msgs.iter().map(|(q, m)| send_one(env, *q, m))).await;
    results
        .into_iter()
        .collect::<Result<Vec<()>, String>>()
        .map(|_| ())
}

/// Sends with retries; returns how many events could not be sent. A retried message
/// keeps its batch id, so a send that failed after all counts once.
async fn send_with_retries(env: &Env, settings: &Settings, events: Vec<Event>) -> u64 {
    let msgs = messages(events, settings);
    let results = join_all(msgs.iter().map(|(q, m)| async move {
        let mut last = send_one(env, *q, m).await;
        for pause in RETRY_PAUSES_MS {
            if last.is_ok() {
                break;
            }
            Delay::from(Duration::from_millis(pause)).await;
            last = send_one(env, *q, m).await;
        }
        last.map_err(|_| m.events.len() as u64)
    }))
    .await;
    results.into_iter().filter_map(Result::err).sum()
}

/// Sends JSON text as it is (a dead letter replayed, a test's injected message) to a queue.
pub async fn send_raw_json(env: &Env, queue: u32, json: &str) -> Result<(), String> {
    let name = format!("{QUEUE_PREFIX}{queue}");
    let body =
        worker::js_sys::JSON::parse(json).map_err(|_| format!("{name}: the body is not JSON"))?;
    env.queue(&name)
        .map_err(|e| format!("queue binding {name}: {e}"))?
        .send_raw(
            worker::RawMessageBuilder::new(body)
                .build_with_content_type(worker::QueueContentType::Json),
        )
        .await
        .map_err(|e| format!("queue {name}: {e}"))
}
