//! The write-through to KV: the newest revision's entries and index (the per-prompt
//! layout, docs/kv-layout.md), then the pointer. One sync
//! runs at a time per object; the alarm set with every stored change, and again after
//! each failure (backing off to a minute), retries until KV holds the newest revision.

use super::{Control, Row, KV_RETRY_MS};
use edgeprompt::manifest::layout;
use edgeprompt_shell::{Pointer, KV_BINDING, POINTER_KEY};
use std::cell::Cell;
use std::time::Duration;
use worker::{console_error, console_log, Env, SqlStorageValue};

/// Most entries written to KV in one run of the sync (a Worker invocation may make
/// 1,000 KV calls on the paid plan): a manifest with more prompts is written over
/// several alarm runs before its pointer moves.
const MAX_PUTS_PER_RUN: usize = 400;
/// How long one run writes entries before it hands over to the next alarm.
const MAX_RUN_MS: u64 = 20_000;
/// Longest wait between retries of a failed KV write.
const KV_RETRY_MAX_MS: u64 = 60_000;
/// A sync still running after this long is presumed stuck (a KV call that never
/// settles) and no longer keeps others from starting.
const SYNC_STALE_MS: u64 = 30_000;

/// The variable that switches test faults on; never set in the wrangler files.
const FAULTS_VAR: &str = "EDGEPROMPT_DEV_FAULTS";

/// Faults injected for tests, from `EDGEPROMPT_DEV_FAULTS` (comma-separated).
#[derive(Debug, Default)]
pub(super) struct DevFaults {
    /// `control_after_store`: a change panics right after its transaction commits,
    /// before any KV write (a reset in the middle of a publish).
    pub after_store: bool,
    /// `control_rollout_after_store`: a rollout's start panics right after its revision
    /// (and its row) commit, before anything else.
    pub rollout_after_store: bool,
    /// `control_kv_fail=N`: the first N KV writes of this instance fail.
    pub kv_failures: Cell<u32>,
    /// `control_kv_delay_ms=N`: every KV write waits N ms first (a slow KV, so that
    /// syncs would overlap).
    pub kv_delay_ms: u64,
    /// `control_approval_ttl_ms=N`: pending changes expire after N ms instead of their
    /// policy's hours (so that a test can watch one expire).
    pub approval_ttl_ms: Option<u64>,
}

impl DevFaults {
    /// Reads the switch from the control Worker's own variables.
    pub fn from_env(env: &Env) -> DevFaults {
        let text = env
            .var(FAULTS_VAR)
            .map(|v| v.to_string())
            .unwrap_or_default();
        let mut f = DevFaults::default();
        for item in text.split(',').map(str::trim) {
            match item.split_once('=') {
                None if item == "control_after_store" => f.after_store = true,
                None if item == "control_rollout_after_store" => f.rollout_after_store = true,
                Some(("control_kv_fail", n)) => f.kv_failures.set(n.trim().parse().unwrap_or(0)),
                Some(("control_kv_delay_ms", n)) => f.kv_delay_ms = n.trim().parse().unwrap_or(0),
                Some(("control_approval_ttl_ms", n)) => f.approval_ttl_ms = n.trim().parse().ok(),
                _ => {}
            }
        }
        f
    }
}

/// What an object instance knows about its syncs.
#[derive(Default)]
pub(super) struct SyncState {
    /// When the running sync started, if one runs: another caller leaves the work to it
    /// (it re-reads the newest revision until KV holds it), unless it has run too long.
    running_since: Cell<Option<u64>>,
    /// The start-up check has run in this instance.
    checked: Cell<bool>,
}

impl Control {
    /// The revision KV is known to serve (0 before the first write).
    pub(super) fn kv_written(&self) -> u64 {
        let rows: Vec<Row<f64>> = self
            .sql()
            .exec("SELECT written AS v FROM kv_state WHERE id = 1", None)
            .and_then(|c| c.to_array())
            .unwrap_or_default();
        rows.first().map(|r| r.v as u64).unwrap_or(0)
    }

    /// Once per instance: a revision stored but not yet in KV (the object was reset
    /// mid-sync) gets an alarm now, whatever happened to the one set with it.
    pub(super) async fn check_sync_on_start(&self) {
        if self.sync.checked.replace(true) {
            return;
        }
        let Ok(current) = self.current_revision() else {
            return;
        };
        if current > self.kv_written() {
            console_log!("edgeprompt control: revision {current} is not in KV yet; syncing");
            self.arm_sync(0).await;
        }
    }

    /// Brings KV to the newest revision unless a sync is already running; on failure
    /// sets the alarm to try again. Returns whether KV holds the newest revision.
    pub(super) async fn sync_kv(&self) -> bool {
        let now = edgeprompt_shell::platform::now_ms();
        if let Some(since) = self.sync.running_since.get() {
            if now.saturating_sub(since) < SYNC_STALE_MS {
                // If the running one misses this change, the alarm will not.
                self.arm_sync(KV_RETRY_MS).await;
                return false;
            }
            console_error!("edgeprompt control: a KV sync has not settled for {SYNC_STALE_MS} ms; starting another");
        }
        self.sync.running_since.set(Some(now));
        let result = self.write_through(now).await;
        if self.sync.running_since.get() == Some(now) {
            self.sync.running_since.set(None);
        }
        match result {
            Ok(complete) => complete,
            Err((revision, e)) => {
                let delay = self.next_retry_ms();
                console_error!("edgeprompt control: writing revision {revision} to KV failed ({e}); retrying in {delay} ms");
                self.arm_sync(delay).await;
                false
            }
        }
    }

    /// Sets the alarm that runs a sync, `delay_ms` from now, unless it is set earlier
    /// already (a rollout check or a webhook delivery due sooner keeps its time; the
    /// alarm runs the sync too).
    async fn arm_sync(&self, delay_ms: u64) {
        let storage = self.state.storage();
        let at = edgeprompt_shell::platform::now_ms() + delay_ms;
        if let Ok(Some(set)) = storage.get_alarm().await {
            if set >= 0 && (set as u64) <= at {
                return;
            }
        }
        if let Err(e) = storage.set_alarm(Duration::from_millis(delay_ms)).await {
            console_error!("edgeprompt control: cannot set the sync alarm: {e}");
        }
    }

    /// Writes the newest revision to KV in the per-prompt layout (docs/kv-layout.md):
    /// the entries KV does not hold yet, the client projection, the index, then the
    /// pointer carrying the index. A change stored meanwhile is written before the
    /// pointer moves, and the pointer only ever moves up. At most [`MAX_PUTS_PER_RUN`]
    /// entries are written per run (a Worker invocation's limit on KV operations); the
    /// alarm continues at once, and `Ok(false)` says KV is not there yet.
    async fn write_through(&self, run: u64) -> Result<bool, (u64, String)> {
        loop {
            let current = self.current_revision().map_err(|e| (0, format!("{e:?}")))?;
            if current == 0 || self.kv_written() >= current {
                return Ok(true);
            }
            let fail = |e: String| (current, e);
            let doc = self
                .load(current)
                .map_err(|e| fail(format!("{e:?}")))?
                .ok_or_else(|| fail("revision vanished".into()))?;
            let compiled = edgeprompt::manifest::compile_value(doc)
                .map_err(|e| fail(format!("revision {current} does not compile: {e}")))?;
            let l = layout::split(&compiled);
            let mut puts = 0;
            let mut pairs: Vec<(String, &str)> = l
                .entries
                .iter()
                .map(|e| (e.key(), e.text.as_str()))
                .collect();
            pairs.push((layout::client_key(&l.client.1), &l.client.0));
            for (key, text) in pairs {
                if self.in_kv(&key) {
                    continue;
                }
                // By count (the invocation's KV calls) and by time: a run must end well
                // before it would be presumed stuck and a second one started.
                let elapsed = edgeprompt_shell::platform::now_ms().saturating_sub(run);
                if puts == MAX_PUTS_PER_RUN || elapsed > MAX_RUN_MS {
                    console_log!("edgeprompt control: revision {current}: {puts} entries written, continuing");
                    self.arm_sync(0).await;
                    return Ok(false);
                }
                self.kv_put(&key, text.to_string()).await.map_err(fail)?;
                self.sql()
                    .exec(
                        "INSERT OR IGNORE INTO kv_entries (key) VALUES (?)",
                        vec![SqlStorageValue::from(key)],
                    )
                    .map_err(|e| fail(format!("recording an entry: {e}")))?;
                puts += 1;
            }
            self.kv_put(&layout::revision_key(current), l.index.clone())
                .await
                .map_err(fail)?;
            if self
                .current_revision()
                .map_err(|e| fail(format!("{e:?}")))?
                != current
            {
                continue;
            }
            // Naming the revision KV served before lets a cold edge that cannot read
            // this document yet serve that one instead of nothing.
            let previous = Some(self.kv_written()).filter(|p| *p > 0 && *p < current);
            let pointer = Pointer {
                revision: current,
                previous,
            };
            // A run presumed stuck and replaced, or overtaken by another that already
            // wrote a newer pointer, must not move the pointer back.
            if self.sync.running_since.get() != Some(run) || self.kv_written() >= current {
                return Ok(self.kv_written() >= current);
            }
            self.kv_put(POINTER_KEY, pointer.text(Some(&l.index)))
                .await
                .map_err(fail)?;
            // Without this record the loop would write the same revision again at once.
            self.sql()
                .exec(
                    "INSERT INTO kv_state (id, written, retry_ms) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET written = MAX(written, excluded.written), retry_ms = excluded.retry_ms",
                    vec![SqlStorageValue::from(current as i64), SqlStorageValue::from(KV_RETRY_MS as i64)],
                )
                .map_err(|e| fail(format!("recording the write: {e}")))?;
            console_log!("edgeprompt control: KV now serves revision {current}");
        }
    }

    /// Whether an immutable key (an entry, a projection) is known to be in KV.
    fn in_kv(&self, key: &str) -> bool {
        let rows: Vec<Row<f64>> = self
            .sql()
            .exec(
                "SELECT 1 AS v FROM kv_entries WHERE key = ?",
                vec![SqlStorageValue::from(key.to_string())],
            )
            .and_then(|c| c.to_array())
            .unwrap_or_default();
        !rows.is_empty()
    }

    /// The delay before the next retry, doubling the stored one (2 s, 4 s, ... 60 s).
    fn next_retry_ms(&self) -> u64 {
        let rows: Vec<Row<f64>> = self
            .sql()
            .exec("SELECT retry_ms AS v FROM kv_state WHERE id = 1", None)
            .and_then(|c| c.to_array())
            .unwrap_or_default();
        let delay = rows.first().map(|r| r.v as u64).unwrap_or(KV_RETRY_MS);
        let _ = self.sql().exec(
            "INSERT INTO kv_state (id, written, retry_ms) VALUES (1, 0, ?) ON CONFLICT (id) DO UPDATE SET retry_ms = excluded.retry_ms",
            vec![SqlStorageValue::from((delay * 2).min(KV_RETRY_MAX_MS) as i64)],
        );
        delay
    }

    async fn kv_put(&self, key: &str, value: String) -> Result<(), String> {
        let left = self.faults.kv_failures.get();
        if left > 0 {
            self.faults.kv_failures.set(left - 1);
            return Err(format!("injected fault (control_kv_fail, {left} left)"));
        }
        if self.faults.kv_delay_ms > 0 {
            worker::Delay::from(Duration::from_millis(self.faults.kv_delay_ms)).await;
        }
        let kv = self.env.kv(KV_BINDING).map_err(|e| e.to_string())?;
        kv.put(key, value)
            .map_err(|e| e.to_string())?
            .execute()
            .await
            .map_err(|e| e.to_string())
    }
}
