//! A label's promotion policy: what a change of its route needs (a passing eval, an
//! approval) and when it may not change at all (freeze windows). Pure: the control plane
//! stores the policy and supplies the clock and the time zones.
//!
//! The JSON shape, every key optional (defaults false, false, 72, none), unknown keys
//! refused:
//!
//! ```json
//! {
//!   "require_eval": true,
//!   "require_approval": true,
//!   "approval_expires_hours": 72,
//!   "freeze": [
//!     {"start": "2026-12-20T00:00:00Z", "end": "2027-01-04T00:00:00+01:00", "note": "holidays"},
//!     {"days": ["fri", "sat"], "from": "16:00", "to": "08:00", "time_zone": "Europe/Berlin", "note": "weekend"}
//!   ]
//! }
//! ```
//!
//! `approval_expires_hours` is an integer from 1 to 720; at most 32 windows, each either
//! absolute (`start`, `end`: RFC 3339 with an offset, start before end, active from
//! start inclusive to end exclusive) or weekly (`days`: distinct `mon`..`sun`; `from`
//! 00:00-23:59 and `to` 00:00-24:00 as `"HH:MM"`, not equal; `[from, to)` on each listed
//! day, or, when `to` is before `from`, from `from` on a listed day to `to` the next day;
//! `time_zone`: an IANA name, checked for syntax only since the engine has no time zone
//! database), with an optional `note` of up to 200 bytes.

mod freeze;
mod served;

pub use freeze::{Freeze, LocalTime, DAY_NAMES, MAX_NOTE_LEN, MAX_TIME_ZONE_LEN};
pub use served::{newly_served, served_versions};

use crate::doc::{as_array, as_int, index_path, Obj, Problem, Problems};
use crate::time::format_rfc3339;
use serde_json::{Map, Value};

/// Most freeze windows a policy may have.
pub const MAX_FREEZE_WINDOWS: usize = 32;

/// Hours an approval stays valid when the policy does not say.
pub const DEFAULT_APPROVAL_EXPIRES_HOURS: u32 = 72;

/// Longest validity of an approval, in hours (30 days).
pub const MAX_APPROVAL_EXPIRES_HOURS: u32 = 720;

const KEYS: &[&str] = &[
    "require_eval",
    "require_approval",
    "approval_expires_hours",
    "freeze",
];

/// A label's promotion policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// A new version must have a passing eval report before the route serves it.
    pub require_eval: bool,
    /// A change of the route must be approved by someone other than its author.
    pub require_approval: bool,
    /// How long an approval stays valid, 1-720 hours.
    pub approval_expires_hours: u32,
    /// When the route may not change, in order.
    pub freeze: Vec<Freeze>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            require_eval: false,
            require_approval: false,
            approval_expires_hours: DEFAULT_APPROVAL_EXPIRES_HOURS,
            freeze: Vec::new(),
        }
    }
}

/// The freeze window in effect at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreezeHit {
    /// Its position in [`Policy::freeze`], from 0 (the reason counts from 1).
    pub index: usize,
    /// Why in words, e.g. `freeze window 2 (fri, sat 16:00-08:00 Europe/Berlin: weekend)
    /// is in effect`.
    pub reason: String,
    /// When it ends, for an absolute window.
    pub until_ms: Option<i64>,
}

impl Policy {
    /// Reads a policy, collecting every problem with its path (e.g. `freeze[1].time_zone`).
    pub fn parse(v: &Value) -> Result<Policy, Vec<Problem>> {
        let mut p = Problems::default();
        let policy = read(v, &mut p);
        match policy {
            Some(policy) if p.is_empty() => Ok(policy),
            _ => Err(p.into_vec()),
        }
    }

    /// The canonical JSON: every key present, windows in order, times as `HH:MM`,
    /// absolute windows' instants as written.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("require_eval".into(), self.require_eval.into());
        m.insert("require_approval".into(), self.require_approval.into());
        m.insert(
            "approval_expires_hours".into(),
            self.approval_expires_hours.into(),
        );
        m.insert(
            "freeze".into(),
            Value::Array(self.freeze.iter().map(Freeze::to_value).collect()),
        );
        Value::Object(m)
    }

    /// Whether it protects nothing: no eval, no approval, no freeze window.
    pub fn is_empty(&self) -> bool {
        !self.require_eval && !self.require_approval && self.freeze.is_empty()
    }

    /// The distinct time zones of the weekly windows, in order of first use, so that the
    /// shell can check each before the policy is stored.
    pub fn time_zones(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for w in &self.freeze {
            if let Freeze::Weekly { time_zone, .. } = w {
                if !out.contains(&time_zone.as_str()) {
                    out.push(time_zone);
                }
            }
        }
        out
    }

    /// The first window in effect at `now_ms`; `local(tz)` is the wall-clock time in `tz`
    /// at `now_ms`. A zone `local` cannot resolve counts as in effect (fail closed).
    pub fn frozen_at(
        &self,
        now_ms: i64,
        local: &dyn Fn(&str) -> Option<LocalTime>,
    ) -> Option<FreezeHit> {
        self.freeze.iter().enumerate().find_map(|(index, w)| {
            // What holds, and what to add to the window's description.
            let tail = match w {
                Freeze::Absolute {
                    start_ms, end_ms, ..
                } => (*start_ms <= now_ms && now_ms < *end_ms)
                    .then(|| format!("is in effect until {}", format_rfc3339(*end_ms)))?,
                Freeze::Weekly { time_zone, .. } => match local(time_zone) {
                    Some(t) => w.holds_at(t).then(|| "is in effect".to_string())?,
                    None => format!(
                        "counts as in effect: its time zone {} could not be resolved",
                        crate::value::canonical::quoted(time_zone)
                    ),
                },
            };
            Some(FreezeHit {
                index,
                reason: format!("freeze window {} ({}) {tail}", index + 1, w.describe()),
                until_ms: match w {
                    Freeze::Absolute { end_ms, .. } => Some(*end_ms),
                    Freeze::Weekly { .. } => None,
                },
            })
        })
    }
}

fn read(v: &Value, p: &mut Problems) -> Option<Policy> {
    let obj = Obj::new(v, "", KEYS, p)?;
    let mut policy = Policy::default();
    if let Some(b) = obj.opt_bool("require_eval", p) {
        policy.require_eval = b;
    }
    if let Some(b) = obj.opt_bool("require_approval", p) {
        policy.require_approval = b;
    }
    if let Some(v) = obj.get("approval_expires_hours") {
        let max = u64::from(MAX_APPROVAL_EXPIRES_HOURS);
        if let Some(h) = as_int(v, &obj.at("approval_expires_hours"), 1, max, p) {
            policy.approval_expires_hours = u32::try_from(h).unwrap_or(MAX_APPROVAL_EXPIRES_HOURS);
        }
    }
    if let Some(v) = obj.get("freeze") {
        let path = obj.at("freeze");
        let windows = as_array(v, &path, p)?;
        if windows.len() > MAX_FREEZE_WINDOWS {
            p.add(
                &path,
                format!(
                    "{} windows, over the limit of {MAX_FREEZE_WINDOWS}",
                    windows.len()
                ),
            );
        }
        // Every window is read, so that all problems are reported at once.
        for (i, w) in windows.iter().enumerate() {
            if let Some(f) = freeze::parse_window(w, &index_path(&path, i), p) {
                policy.freeze.push(f);
            }
        }
    }
    Some(policy)
}

#[cfg(test)]
mod tests;
