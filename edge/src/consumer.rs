//! The queue consumer: folds event batches into D1, each event's id and its aggregate
//! update in one transaction, so a redelivered batch counts nothing twice.

use super::config::Settings;
use super::store;
use edgeprompt::events::Event;
use edgeprompt_shell::platform::now_ms;
use serde::Deserialize;
use serde_json::Value;
use worker::{console_error, console_warn, Env, MessageBatch};

/// Most statements per D1 batch (each event needs up to four).
const MAX_STATEMENTS: usize = 200;

#[derive(Deserialize)]
struct Message {
    events: Vec<Event>,
}

/// Consumes one batch. On a D1 failure the whole batch is retried (the queue's
/// `max_retries`, then the dead-letter queue); ids already counted are skipped on retry.
/// Errors are handled here: returning one would abort the Wasm instance.
pub async fn consume(batch: MessageBatch<Value>, env: Env) -> worker::Result<()> {
    if let Err(e) = fold(&batch, &env).await {
        console_error!("edgeprompt: D1 write failed, the batch will be retried: {e}");
        batch.retry_all();
        return Ok(());
    }
    batch.ack_all();
    Ok(())
}

async fn fold(batch: &MessageBatch<Value>, env: &Env) -> worker::Result<()> {
    let db = store::database(env)?;
    let now = now_ms();
    let mut events = Vec::new();
    for raw in batch.raw_iter() {
        let body = raw.body();
        match serde_wasm_value(body)
            .and_then(|v| serde_json::from_value::<Message>(v).map_err(|e| e.to_string()))
        {
            Ok(m) => events.extend(m.events),
            // A message that is not ours can never succeed: log it and drop it.
            Err(e) => console_warn!("edgeprompt: dropping an unreadable queue message: {e}"),
        }
    }
    let mut pending = Vec::new();
    for event in &events {
        let stmts = store::statements(&db, event, now)?;
        if pending.len() + stmts.len() > MAX_STATEMENTS {
            db.batch(std::mem::take(&mut pending)).await?;
        }
        pending.extend(stmts);
    }
    if !pending.is_empty() {
        db.batch(pending).await?;
    }
    Ok(())
}

fn serde_wasm_value(v: worker::wasm_bindgen::JsValue) -> Result<Value, String> {
    let text = worker::js_sys::JSON::stringify(&v)
        .map_err(|_| "message body is not JSON".to_string())?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// Forgets event ids older than the token expiry plus a day (run by the cron trigger).
pub async fn expire_seen_ids(env: &Env) {
    let settings = Settings::get(env);
    let keep_ms = settings.token_ttl_ms.saturating_add(24 * 3600 * 1000);
    let before = now_ms().saturating_sub(keep_ms);
    match store::database(env) {
        Ok(db) => {
            if let Err(e) = store::expire_seen(&db, before).await {
                console_error!("edgeprompt: expiring seen event ids failed: {e}");
            }
        }
        Err(e) => console_error!("edgeprompt: D1 binding: {e}"),
    }
}
