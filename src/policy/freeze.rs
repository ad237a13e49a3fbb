//! Freeze windows: reading one, writing it back, and whether it holds at an instant.

use crate::doc::{as_array, as_str, index_path, Obj, Problems};
use crate::time::parse_rfc3339;
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// Longest note of a window, in bytes.
pub const MAX_NOTE_LEN: usize = 200;

/// Longest time zone name, in bytes.
pub const MAX_TIME_ZONE_LEN: usize = 64;

/// The weekday names of a weekly window, Monday first (a day's number is its position).
pub const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const MINUTES_PER_DAY: u16 = 1440;

const ABSOLUTE_KEYS: [&str; 2] = ["start", "end"];
const WEEKLY_KEYS: [&str; 4] = ["days", "from", "to", "time_zone"];
const WINDOW_KEYS: &[&str] = &["start", "end", "days", "from", "to", "time_zone", "note"];

/// A period during which the label's route may not change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freeze {
    /// From one instant to another: active when `start_ms <= now < end_ms`.
    Absolute {
        /// `start` as written (RFC 3339), kept for the canonical form.
        start: String,
        /// `end` as written (RFC 3339), kept for the canonical form.
        end: String,
        /// `start` in milliseconds since the epoch.
        start_ms: i64,
        /// `end` in milliseconds since the epoch, after `start_ms`.
        end_ms: i64,
        /// Why, for people.
        note: Option<String>,
    },
    /// Every week on the listed days, in a time zone's wall-clock time.
    Weekly {
        /// The days it starts on, ascending and distinct, 0 = Monday.
        days: Vec<u8>,
        /// Minute of the day it starts, 0-1439.
        from: u16,
        /// Minute of the day it ends, 0-1440, not `from`; before `from`, it ends on the
        /// next day (overnight).
        to: u16,
        /// An IANA time zone name, checked for syntax only (the shell resolves it).
        time_zone: String,
        /// Why, for people.
        note: Option<String>,
    },
}

/// A wall-clock time in some time zone, as the shell computes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// 0 = Monday ... 6 = Sunday.
    pub weekday: u8,
    /// Minutes since local midnight, 0-1439.
    pub minute: u16,
}

impl Freeze {
    /// Whether a weekly window holds at a local time; an absolute one never does here.
    pub(crate) fn holds_at(&self, local: LocalTime) -> bool {
        let Freeze::Weekly { days, from, to, .. } = self else {
            return false;
        };
        let listed = |d: u8| days.contains(&d);
        if from < to {
            listed(local.weekday) && *from <= local.minute && local.minute < *to
        } else {
            // Overnight: the evening of a listed day or the morning after one.
            let yesterday = match local.weekday {
                0 => 6,
                d @ 1..=6 => d - 1,
                // Out of range: no day.
                _ => u8::MAX,
            };
            (listed(local.weekday) && local.minute >= *from)
                || (listed(yesterday) && local.minute < *to)
        }
    }

    /// The window in words, e.g. `fri, sat 16:00-08:00 Europe/Berlin: weekend`.
    pub(crate) fn describe(&self) -> String {
        let (mut out, note) = match self {
            Freeze::Absolute {
                start, end, note, ..
            } => (format!("{start} to {end}"), note),
            Freeze::Weekly {
                from,
                to,
                time_zone,
                note,
                ..
            } => (
                format!(
                    "{} {}-{} {time_zone}",
                    self.day_names().join(", "),
                    clock(*from),
                    clock(*to)
                ),
                note,
            ),
        };
        if let Some(note) = note.as_deref().filter(|n| !n.is_empty()) {
            let _ = write!(out, ": {note}");
        }
        out
    }

    fn day_names(&self) -> Vec<&'static str> {
        match self {
            Freeze::Absolute { .. } => Vec::new(),
            Freeze::Weekly { days, .. } => days
                .iter()
                .filter_map(|&d| DAY_NAMES.get(usize::from(d)).copied())
                .collect(),
        }
    }

    /// The canonical JSON object: the keys of its kind, times as `HH:MM`, the note if any.
    pub(crate) fn to_value(&self) -> Value {
        let mut m = Map::new();
        let note = match self {
            Freeze::Absolute {
                start, end, note, ..
            } => {
                m.insert("start".into(), start.as_str().into());
                m.insert("end".into(), end.as_str().into());
                note
            }
            Freeze::Weekly {
                from,
                to,
                time_zone,
                note,
                ..
            } => {
                m.insert("days".into(), self.day_names().into());
                m.insert("from".into(), clock(*from).into());
                m.insert("to".into(), clock(*to).into());
                m.insert("time_zone".into(), time_zone.as_str().into());
                note
            }
        };
        if let Some(note) = note {
            m.insert("note".into(), note.as_str().into());
        }
        Value::Object(m)
    }
}

/// `HH:MM` of a minute of the day (24:00 for 1440).
fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// Reads one window at `path`, recording every problem.
pub(crate) fn parse_window(v: &Value, path: &str, p: &mut Problems) -> Option<Freeze> {
    let before = p.len();
    let obj = Obj::new(v, path, WINDOW_KEYS, p)?;
    let note = obj.opt_str("note", p).map(str::to_string);
    if let Some(n) = &note {
        if n.len() > MAX_NOTE_LEN {
            p.add(
                obj.at("note"),
                format!(
                    "note is {} bytes, over the limit of {MAX_NOTE_LEN}",
                    n.len()
                ),
            );
        }
    }
    let absolute: Vec<&str> = ABSOLUTE_KEYS.into_iter().filter(|k| obj.has(k)).collect();
    let weekly: Vec<&str> = WEEKLY_KEYS.into_iter().filter(|k| obj.has(k)).collect();
    let window = match (absolute.is_empty(), weekly.is_empty()) {
        (false, false) => {
            p.add(
                path,
                format!(
                    "a window is either absolute (start, end) or weekly (days, from, to, time_zone), not both: found {} and {}",
                    absolute.join(", "),
                    weekly.join(", ")
                ),
            );
            None
        }
        (true, true) => {
            p.add(
                path,
                "expected an absolute window (start, end) or a weekly window (days, from, to, time_zone)",
            );
            None
        }
        (false, true) => parse_absolute(&obj, note, p),
        (true, false) => parse_weekly(&obj, note, p),
    };
    // A window with any problem (its note, an unknown key) is not returned.
    window.filter(|_| p.len() == before)
}

fn parse_absolute(obj: &Obj<'_>, note: Option<String>, p: &mut Problems) -> Option<Freeze> {
    let instant = |key: &str, p: &mut Problems| {
        let text = as_str(obj.require(key, p)?, &obj.at(key), p)?;
        match parse_rfc3339(text) {
            Ok(ms) => Some((text.to_string(), ms)),
            Err(e) => {
                p.add(obj.at(key), e.to_string());
                None
            }
        }
    };
    let start = instant("start", p);
    let end = instant("end", p);
    let ((start, start_ms), (end, end_ms)) = (start?, end?);
    if end_ms <= start_ms {
        p.add(
            obj.at("end"),
            format!("end {end} is not after start {start}"),
        );
        return None;
    }
    Some(Freeze::Absolute {
        start,
        end,
        start_ms,
        end_ms,
        note,
    })
}

fn parse_weekly(obj: &Obj<'_>, note: Option<String>, p: &mut Problems) -> Option<Freeze> {
    let days = obj
        .require("days", p)
        .and_then(|v| parse_days(v, &obj.at("days"), p));
    let from = obj
        .require("from", p)
        .and_then(|v| parse_clock(v, &obj.at("from"), false, p));
    let to = obj
        .require("to", p)
        .and_then(|v| parse_clock(v, &obj.at("to"), true, p));
    let time_zone = obj
        .require("time_zone", p)
        .and_then(|v| as_str(v, &obj.at("time_zone"), p))
        .filter(|tz| check_time_zone(tz, &obj.at("time_zone"), p));
    let (days, from, to, time_zone) = (days?, from?, to?, time_zone?);
    if from == to {
        p.add(
            obj.at("to"),
            format!(
                "to equals from ({}): a window needs a length (00:00 to 24:00 is a whole day)",
                clock(to)
            ),
        );
        return None;
    }
    Some(Freeze::Weekly {
        days,
        from,
        to,
        time_zone: time_zone.to_string(),
        note,
    })
}

fn parse_days(v: &Value, path: &str, p: &mut Problems) -> Option<Vec<u8>> {
    let items = as_array(v, path, p)?;
    if items.is_empty() {
        p.add(path, "expected at least one day");
        return None;
    }
    let before = p.len();
    let mut days: Vec<u8> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = index_path(path, i);
        let Some(name) = as_str(item, &at, p) else {
            continue;
        };
        let Some(day) = DAY_NAMES.iter().position(|d| *d == name) else {
            p.add(
                at,
                format!(
                    "unknown day {} (expected one of: {})",
                    crate::value::canonical::quoted(name),
                    DAY_NAMES.join(", ")
                ),
            );
            continue;
        };
        let day = u8::try_from(day).unwrap_or(u8::MAX);
        if days.contains(&day) {
            p.add(at, format!("{name} is listed twice"));
            continue;
        }
        days.push(day);
    }
    days.sort_unstable();
    (p.len() == before).then_some(days)
}

/// Reads `"HH:MM"` as a minute of the day; `24:00` only where `end_of_day` allows it.
fn parse_clock(v: &Value, path: &str, end_of_day: bool, p: &mut Problems) -> Option<u16> {
    let text = as_str(v, path, p)?;
    let minute = match text.as_bytes() {
        &[h1, h2, b':', m1, m2] if [h1, h2, m1, m2].iter().all(u8::is_ascii_digit) => {
            let n = |a: u8, b: u8| u16::from(a - b'0') * 10 + u16::from(b - b'0');
            let (h, m) = (n(h1, h2), n(m1, m2));
            (h < 24 && m < 60).then_some(h * 60 + m).or(
                // 24:00 is the end of the day, not a time in it.
                (end_of_day && h == 24 && m == 0).then_some(MINUTES_PER_DAY),
            )
        }
        _ => None,
    };
    if minute.is_none() {
        let range = if end_of_day {
            "00:00 to 24:00"
        } else {
            "00:00 to 23:59"
        };
        p.add(
            path,
            format!(
                "expected a time \"HH:MM\" from {range}, found {}",
                crate::value::canonical::quoted(text)
            ),
        );
    }
    minute
}

/// An IANA name's syntax: the engine has no time zone database, so the shell checks the
/// name itself.
fn check_time_zone(tz: &str, path: &str, p: &mut Problems) -> bool {
    let ok = (1..=MAX_TIME_ZONE_LEN).contains(&tz.len())
        && tz
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'/'));
    if !ok {
        p.add(
            path,
            format!(
                "time zone {} is not an IANA name (1 to {MAX_TIME_ZONE_LEN} letters, digits, _, +, - and /, e.g. Europe/Berlin)",
                crate::value::canonical::quoted(tz)
            ),
        );
    }
    ok
}
