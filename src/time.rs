//! RFC 3339 timestamps as milliseconds since the Unix epoch, without a date crate: the
//! engine only needs UTC instants (a policy's freeze windows), and a time zone database
//! is the shell's business.
//!
//! [`parse_rfc3339`] accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` for years
//! 0000-9999: `T` may be `t` or one space and `Z` may be `z` (RFC 3339 §5.6); a
//! fraction of any length is truncated to milliseconds; an offset is required, since a
//! local time names no instant. A leap second (`:60`) is accepted and read as `:59.999`,
//! because Unix time has no room for it and the instant must stay before the next minute.
//! The days are counted with Howard Hinnant's days-from-civil algorithm (public domain).

use std::fmt::Write as _;

const MS_PER_DAY: i64 = 86_400_000;

/// Why a text is not an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", crate::value::canonical::quoted(text))]
pub struct TimeError {
    /// The text refused, as given.
    pub text: String,
    /// What is wrong with it, e.g. `month 13 is out of range`.
    pub reason: String,
}

/// A UTC instant split into calendar parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcParts {
    /// The proleptic Gregorian year (0 is 1 BC).
    pub year: i32,
    /// 1-12.
    pub month: u8,
    /// 1-31.
    pub day: u8,
    /// 0 = Monday ... 6 = Sunday.
    pub weekday: u8,
    /// Minutes since midnight, 0-1439.
    pub minute_of_day: u16,
}

/// Milliseconds since 1970-01-01T00:00:00Z of an RFC 3339 timestamp with an offset.
pub fn parse_rfc3339(s: &str) -> Result<i64, TimeError> {
    parse(s.as_bytes()).map_err(|reason| TimeError {
        text: s.to_string(),
        reason: reason.to_string(),
    })
}

/// Milliseconds since the epoch of an RFC 3339 timestamp, or `None`: what
/// [`parse_rfc3339`] accepts, without building its error (no allocation for the usual
/// refusals, which name the expected shape).
pub(crate) fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    parse(s.as_bytes()).ok()
}

/// The UTC RFC 3339 text of an instant: `YYYY-MM-DDTHH:MM:SS.sssZ`, without the
/// milliseconds when they are zero. Years outside 0000-9999 (which no RFC 3339 text
/// has) are written with a sign or five digits and are refused by [`parse_rfc3339`].
pub fn format_rfc3339(ms: i64) -> String {
    let days = ms.div_euclid(MS_PER_DAY);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let secs = in_day / 1000;
    let millis = in_day % 1000;
    let mut out = String::with_capacity(24);
    // Writing into a String cannot fail.
    let _ = if year < 0 {
        write!(out, "-{:04}", year.unsigned_abs())
    } else {
        write!(out, "{year:04}")
    };
    let _ = write!(
        out,
        "-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if millis != 0 {
        let _ = write!(out, ".{millis:03}");
    }
    out.push('Z');
    out
}

/// The calendar parts of an instant in UTC.
pub fn utc_parts(ms: i64) -> UtcParts {
    let days = ms.div_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    UtcParts {
        // Every i64 of milliseconds is within ±3e8 years.
        year: i32::try_from(year).unwrap_or(i32::MAX),
        month: u8::try_from(month).unwrap_or(0),
        day: u8::try_from(day).unwrap_or(0),
        // 1970-01-01 was a Thursday (3 with Monday as 0).
        weekday: u8::try_from((days + 3).rem_euclid(7)).unwrap_or(0),
        minute_of_day: u16::try_from(ms.rem_euclid(MS_PER_DAY) / 60_000).unwrap_or(0),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Years start in March, so that the leap day is the last day of a year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Why a text is not a timestamp, written out only when a message is wanted, so that
/// telling a non-timestamp apart (a rule's attribute, per evaluation) allocates nothing.
enum Reason {
    /// A fixed message.
    Fixed(&'static str),
    /// A field (`month`, `offset hour`...) and its out-of-range value.
    Range(&'static str, i64),
    /// A day beyond its month: day, year, month, the month's days.
    Day(i64, i64, i64, i64),
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Fixed(m) => f.write_str(m),
            Reason::Range(field, v) => write!(f, "{field} {v} is out of range"),
            Reason::Day(day, year, month, last) => write!(
                f,
                "day {day} is out of range ({year:04}-{month:02} has {last} days)"
            ),
        }
    }
}

const SHAPE: &str = "expected YYYY-MM-DDTHH:MM:SS with Z or an offset like +01:00";

/// Reads bytes left to right; every step says what it expected.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// `n` decimal digits as a number, or the shape message.
    fn digits(&mut self, n: usize) -> Result<i64, Reason> {
        let mut v = 0;
        for _ in 0..n {
            match self.peek() {
                Some(b @ b'0'..=b'9') => v = v * 10 + i64::from(b - b'0'),
                _ => return Err(Reason::Fixed(SHAPE)),
            }
            self.at += 1;
        }
        Ok(v)
    }

    fn expect(&mut self, any_of: &[u8]) -> Result<(), Reason> {
        match self.peek() {
            Some(b) if any_of.contains(&b) => {
                self.at += 1;
                Ok(())
            }
            _ => Err(Reason::Fixed(SHAPE)),
        }
    }
}

fn parse(bytes: &[u8]) -> Result<i64, Reason> {
    let mut c = Cursor { bytes, at: 0 };
    let year = c.digits(4)?;
    c.expect(b"-")?;
    let month = c.digits(2)?;
    c.expect(b"-")?;
    let day = c.digits(2)?;
    c.expect(b"Tt ")?;
    let hour = c.digits(2)?;
    c.expect(b":")?;
    let minute = c.digits(2)?;
    c.expect(b":")?;
    let mut second = c.digits(2)?;
    let mut millis = 0;
    if c.peek() == Some(b'.') {
        c.at += 1;
        let start = c.at;
        let mut scale = 100;
        while let Some(b @ b'0'..=b'9') = c.peek() {
            // Digits past the third are dropped: truncated to milliseconds.
            millis += i64::from(b - b'0') * scale;
            scale /= 10;
            c.at += 1;
        }
        if c.at == start {
            return Err(Reason::Fixed(
                "a fraction needs at least one digit after the \".\"",
            ));
        }
    }
    let offset = match c.peek() {
        Some(b'Z' | b'z') => {
            c.at += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            c.at += 1;
            let oh = c.digits(2)?;
            c.expect(b":")?;
            let om = c.digits(2)?;
            if oh > 23 {
                return Err(Reason::Range("offset hour", oh));
            }
            if om > 59 {
                return Err(Reason::Range("offset minute", om));
            }
            let minutes = oh * 60 + om;
            if sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        None => return Err(Reason::Fixed(
            "has no offset: add Z for UTC or an offset like +01:00 (a local time names no instant)",
        )),
        Some(_) => return Err(Reason::Fixed(SHAPE)),
    };
    if c.at != bytes.len() {
        return Err(Reason::Fixed("unexpected text after the offset"));
    }
    if !(1..=12).contains(&month) {
        return Err(Reason::Range("month", month));
    }
    let last = days_in_month(year, month);
    if !(1..=last).contains(&day) {
        return Err(Reason::Day(day, year, month, last));
    }
    if hour > 23 {
        return Err(Reason::Range("hour", hour));
    }
    if minute > 59 {
        return Err(Reason::Range("minute", minute));
    }
    if second > 60 {
        return Err(Reason::Range("second", second));
    }
    if second == 60 {
        // A leap second: the last millisecond of the minute (see the module doc).
        second = 59;
        millis = 999;
    }
    let days = days_from_civil(year, month, day);
    let local = ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis;
    Ok(local - offset * 60_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(s: &str) -> i64 {
        parse_rfc3339(s).unwrap()
    }

    fn refused(s: &str) -> String {
        parse_rfc3339(s).unwrap_err().to_string()
    }

    const MIN_MS: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00Z
    const MAX_MS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

    #[test]
    fn known_instants() {
        assert_eq!(ms("1970-01-01T00:00:00Z"), 0);
        assert_eq!(ms("2000-02-29T12:00:00+01:00"), 951_822_000_000);
        assert_eq!(ms("2026-12-02T14:21:47.123Z"), 1_796_221_307_123);
        assert_eq!(ms("1969-12-31T23:59:59.999Z"), -1);
        assert_eq!(ms("1900-01-01T00:00:00Z"), -2_208_988_800_000);
        assert_eq!(ms("0000-01-01T00:00:00Z"), MIN_MS);
        assert_eq!(ms("9999-12-31T23:59:59Z"), 253_402_300_799_000);
        assert_eq!(ms("9999-12-31T23:59:59.999999Z"), MAX_MS);
    }

    #[test]
    fn accepted_spellings() {
        let utc = ms("2026-12-02T14:21:47Z");
        assert_eq!(ms("2026-12-02t14:21:47z"), utc);
        assert_eq!(ms("2026-12-02 14:21:47Z"), utc);
        assert_eq!(ms("2026-12-02T15:21:47+01:00"), utc);
        assert_eq!(ms("2026-12-02T09:51:47-04:30"), utc);
        assert_eq!(ms("2026-12-02T14:21:47-00:00"), utc);
        // Truncated, not rounded.
        assert_eq!(ms("2026-12-02T14:21:47.1239Z"), utc + 123);
        assert_eq!(ms("2026-12-02T14:21:47.5Z"), utc + 500);
        // The leap second is the minute's last millisecond.
        assert_eq!(ms("2016-12-31T23:59:60Z"), ms("2016-12-31T23:59:59.999Z"));
        // An offset may carry the instant out of 0000-9999.
        assert_eq!(ms("0000-01-01T00:00:00+01:00"), MIN_MS - 3_600_000);
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        assert_eq!(
            refused("2026-13-01T00:00:00Z"),
            "\"2026-13-01T00:00:00Z\": month 13 is out of range"
        );
        assert!(refused("2026-12-02T14:21:47").contains("has no offset"));
        assert!(refused("2026-02-29T00:00:00Z")
            .contains("day 29 is out of range (2026-02 has 28 days)"));
        assert!(refused("2026-04-31T00:00:00Z").contains("day 31"));
        assert!(refused("2026-01-00T00:00:00Z").contains("day 0"));
        assert!(refused("1900-02-29T00:00:00Z").contains("day 29"));
        assert!(refused("2026-01-01T24:00:00Z").contains("hour 24 is out of range"));
        assert!(refused("2026-01-01T23:60:00Z").contains("minute 60"));
        assert!(refused("2026-01-01T23:59:61Z").contains("second 61"));
        assert!(refused("2026-01-01T00:00:00+24:00").contains("offset hour 24"));
        assert!(refused("2026-01-01T00:00:00+01:60").contains("offset minute 60"));
        assert!(refused("2026-01-01T00:00:00.Z").contains("at least one digit"));
        assert!(refused("2026-01-01T00:00:00Zx").contains("unexpected text after the offset"));
        assert!(refused("2026-01-01T00:00:00+01:00 ").contains("unexpected text"));
        for garbage in [
            "",
            "yesterday",
            "2026-1-01T00:00:00Z",
            "26-01-01T00:00:00Z",
            "2026-01-01",
            "2026-01-01X00:00:00Z",
            "2026-01-01  00:00:00Z",
            "2026-01-01T00:00Z",
            "2026-01-01T00:00:00+0100",
            "+2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00UTC",
            "２026-01-01T00:00:00Z",
        ] {
            assert!(
                refused(garbage).contains("expected YYYY-MM-DD"),
                "{garbage}"
            );
        }
    }

    #[test]
    fn formats_utc_with_milliseconds_only_when_there_are_some() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(1_796_221_307_123),
            "2026-12-02T14:21:47.123Z"
        );
        assert_eq!(format_rfc3339(1_796_221_307_000), "2026-12-02T14:21:47Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_rfc3339(MIN_MS), "0000-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(MIN_MS - 1), "-0001-12-31T23:59:59.999Z");
        assert_eq!(format_rfc3339(MAX_MS + 1), "10000-01-01T00:00:00Z");
        // Never panics, at the ends of i64 either.
        assert!(!format_rfc3339(i64::MIN).is_empty());
        assert!(!format_rfc3339(i64::MAX).is_empty());
        assert!(utc_parts(i64::MIN).year < 0 && utc_parts(i64::MAX).year > 0);
    }

    #[test]
    fn utc_parts_of_known_instants() {
        assert_eq!(
            utc_parts(ms("2026-12-04T16:30:59Z")),
            UtcParts {
                year: 2026,
                month: 12,
                day: 4,
                weekday: 4, // a Friday
                minute_of_day: 16 * 60 + 30,
            }
        );
        assert_eq!(utc_parts(0).weekday, 3); // a Thursday
        assert_eq!(utc_parts(-1).weekday, 2);
        assert_eq!(utc_parts(-1).minute_of_day, 1439);
        assert_eq!(utc_parts(MIN_MS).weekday, 5); // 0000-01-01 was a Saturday
    }

    #[test]
    fn every_day_from_0000_to_9999_follows_the_previous_one() {
        let (mut y, mut m, mut d) = (0, 1, 1);
        let mut days = days_from_civil(0, 1, 1);
        assert_eq!(days * MS_PER_DAY, MIN_MS);
        while y <= 9999 {
            assert_eq!(days_from_civil(y, m, d), days);
            assert_eq!(civil_from_days(days), (y, m, d));
            days += 1;
            d += 1;
            if d > days_in_month(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
        assert_eq!(days * MS_PER_DAY, MAX_MS + 1);
    }

    proptest! {
        /// Formatting then parsing any instant of 0000-9999 gives it back, and the text
        /// formats the same again.
        #[test]
        fn format_then_parse_round_trips(t in MIN_MS..=MAX_MS) {
            let text = format_rfc3339(t);
            prop_assert_eq!(parse_rfc3339(&text), Ok(t));
            prop_assert_eq!(format_rfc3339(parse_rfc3339(&text).unwrap()), text);
        }

        /// The same instant written in any offset (and with a longer fraction) parses to it.
        #[test]
        fn any_offset_names_the_same_instant(
            t in MIN_MS + 86_400_000..=MAX_MS - 86_400_000,
            offset in -(23 * 60 + 59)..=(23 * 60 + 59i64),
            extra in 0u32..1000,
        ) {
            let local = utc_parts(t + offset * 60_000);
            let in_minute = (t + offset * 60_000).rem_euclid(60_000);
            let sign = if offset < 0 { '-' } else { '+' };
            let text = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{extra:03}{sign}{:02}:{:02}",
                local.year,
                local.month,
                local.day,
                local.minute_of_day / 60,
                local.minute_of_day % 60,
                in_minute / 1000,
                in_minute % 1000,
                offset.abs() / 60,
                offset.abs() % 60,
            );
            prop_assert_eq!(parse_rfc3339(&text), Ok(t), "{}", text);
        }
    }
}
