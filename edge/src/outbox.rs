//! Events leave the worker after the response: exposures wait a few milliseconds in
//! the isolate so that concurrent requests share one queue message, then go to the
//! `EVENTS` queue from `ctx.wait_until`, never on the response's path.

use edgeprompt::events::{batches, Event};
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::time::Duration;
use worker::{console_error, Context, Delay, Env};

/// The queue binding.
pub const QUEUE_BINDING: &str = "EVENTS";
/// Most events per queue message.
const MAX_EVENTS_PER_MESSAGE: usize = 100;
/// Most JSON bytes of events per queue message (the queue allows 128 KB).
const MAX_MESSAGE_BYTES: usize = 100_000;

thread_local! {
    static PENDING: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
}

/// A queue message: a batch of events.
#[derive(Serialize)]
struct Message<'a> {
    events: Vec<&'a Event>,
}

/// Queues events to be sent after the response, batched with other requests' events.
pub fn push(env: &Env, ctx: &Context, events: Vec<Event>, delay_ms: u64) {
    if events.is_empty() {
        return;
    }
    PENDING.with(|p| p.borrow_mut().extend(events));
    if SCHEDULED.with(|s| s.replace(true)) {
        return;
    }
    let env = env.clone();
    ctx.wait_until(async move {
        if delay_ms > 0 {
            Delay::from(Duration::from_millis(delay_ms)).await;
        }
        SCHEDULED.with(|s| s.set(false));
        let events = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
        if let Err(e) = send(&env, &events).await {
            console_error!(
                "edgeprompt: {} event(s) could not be queued: {e}",
                events.len()
            );
        }
    });
}

/// Sends events to the queue now, in as few messages as the limits allow.
pub async fn send(env: &Env, events: &[Event]) -> Result<(), String> {
    let queue = env
        .queue(QUEUE_BINDING)
        .map_err(|e| format!("queue binding {QUEUE_BINDING}: {e}"))?;
    for chunk in batches(events, MAX_EVENTS_PER_MESSAGE, MAX_MESSAGE_BYTES) {
        queue
            .send(Message { events: chunk })
            .await
            .map_err(|e| format!("queue send: {e}"))?;
    }
    Ok(())
}
