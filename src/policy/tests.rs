use super::*;
use crate::time::parse_rfc3339;
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeSet;

fn example() -> Value {
    json!({
        "require_eval": true,
        "require_approval": true,
        "approval_expires_hours": 72,
        "freeze": [
            {"start": "2026-12-20T00:00:00Z", "end": "2027-01-04T00:00:00+01:00", "note": "holidays"},
            {"days": ["fri", "sat"], "from": "16:00", "to": "08:00", "time_zone": "Europe/Berlin", "note": "weekend"}
        ]
    })
}

fn problems(v: Value) -> Vec<String> {
    Policy::parse(&v)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn ms(s: &str) -> i64 {
    parse_rfc3339(s).unwrap()
}

fn weekly(days: &[u8], from: u16, to: u16) -> Policy {
    Policy {
        freeze: vec![Freeze::Weekly {
            days: days.to_vec(),
            from,
            to,
            time_zone: "Europe/Berlin".into(),
            note: None,
        }],
        ..Policy::default()
    }
}

/// `frozen_at` with every zone at the given local time.
fn frozen_when(p: &Policy, weekday: u8, minute: u16) -> bool {
    p.frozen_at(0, &|_| Some(LocalTime { weekday, minute }))
        .is_some()
}

const FRI: u8 = 4;
const SAT: u8 = 5;
const SUN: u8 = 6;

#[test]
fn reads_the_documented_example() {
    let p = Policy::parse(&example()).unwrap();
    assert!(p.require_eval && p.require_approval);
    assert_eq!(p.approval_expires_hours, 72);
    assert_eq!(
        p.freeze,
        vec![
            Freeze::Absolute {
                start: "2026-12-20T00:00:00Z".into(),
                end: "2027-01-04T00:00:00+01:00".into(),
                start_ms: ms("2026-12-20T00:00:00Z"),
                end_ms: ms("2027-01-03T23:00:00Z"),
                note: Some("holidays".into()),
            },
            Freeze::Weekly {
                days: vec![FRI, SAT],
                from: 16 * 60,
                to: 8 * 60,
                time_zone: "Europe/Berlin".into(),
                note: Some("weekend".into()),
            },
        ]
    );
    assert!(!p.is_empty());
    assert_eq!(p.time_zones(), ["Europe/Berlin"]);
}

#[test]
fn every_key_is_optional() {
    let p = Policy::parse(&json!({})).unwrap();
    assert_eq!(p, Policy::default());
    assert_eq!(p.approval_expires_hours, 72);
    assert!(p.is_empty());
    // The expiry alone protects nothing.
    assert!(Policy::parse(&json!({"approval_expires_hours": 1}))
        .unwrap()
        .is_empty());
    assert!(!Policy::parse(&json!({"require_eval": true}))
        .unwrap()
        .is_empty());
}

#[test]
fn canonical_form_has_every_key_and_normalised_times() {
    let p = Policy::parse(&json!({"freeze": [
        {"days": ["sun", "mon", "sat"], "from": "00:00", "to": "24:00", "time_zone": "UTC"}
    ]}))
    .unwrap();
    assert_eq!(
        p.to_value(),
        json!({
            "require_eval": false,
            "require_approval": false,
            "approval_expires_hours": 72,
            "freeze": [{"days": ["mon", "sat", "sun"], "from": "00:00", "to": "24:00", "time_zone": "UTC"}]
        })
    );
    let example = Policy::parse(&example()).unwrap();
    assert_eq!(example.to_value(), self::example());
    assert_eq!(Policy::parse(&example.to_value()), Ok(example));
}

#[test]
fn collects_every_problem_with_its_path() {
    let got = problems(json!({
        "require_eval": "yes",
        "approval_expires_hours": 721,
        "owner": "me",
        "freeze": [
            {"start": "2026-12-20T00:00:00", "end": "2026-13-01T00:00:00Z"},
            {"days": ["fri", "Sat", "fri"], "from": "16:00", "to": "8:00", "time_zone": "Europe/Berlin"},
            {"days": [], "from": "24:00", "to": "24:01", "time_zone": "Europe Berlin"},
            {"start": "2026-12-20T00:00:00Z", "days": ["mon"], "from": "00:00"},
            {"note": "nothing"},
            {"days": ["mon"], "from": "09:00", "to": "09:00", "time_zone": "UTC", "note": "x".repeat(201), "color": 1},
            {"start": "2026-12-20T00:00:00Z", "end": "2026-12-20T00:00:00+00:00"},
            {"end": "2026-12-20T00:00:00Z"},
            {"days": "mon", "time_zone": 3},
            7
        ]
    }));
    let want = [
        "owner: unknown field (expected one of: require_eval, require_approval, approval_expires_hours, freeze)",
        "require_eval: expected true or false, found a string",
        "approval_expires_hours: expected an integer from 1 to 720, found 721",
        "freeze[0].start: \"2026-12-20T00:00:00\": has no offset: add Z for UTC or an offset like +01:00 (a local time names no instant)",
        "freeze[0].end: \"2026-13-01T00:00:00Z\": month 13 is out of range",
        "freeze[1].days[1]: unknown day \"Sat\" (expected one of: mon, tue, wed, thu, fri, sat, sun)",
        "freeze[1].days[2]: fri is listed twice",
        "freeze[1].to: expected a time \"HH:MM\" from 00:00 to 24:00, found \"8:00\"",
        "freeze[2].days: expected at least one day",
        "freeze[2].from: expected a time \"HH:MM\" from 00:00 to 23:59, found \"24:00\"",
        "freeze[2].to: expected a time \"HH:MM\" from 00:00 to 24:00, found \"24:01\"",
        "freeze[2].time_zone: time zone \"Europe Berlin\" is not an IANA name (1 to 64 letters, digits, _, +, - and /, e.g. Europe/Berlin)",
        "freeze[3]: a window is either absolute (start, end) or weekly (days, from, to, time_zone), not both: found start and days, from",
        "freeze[4]: expected an absolute window (start, end) or a weekly window (days, from, to, time_zone)",
        "freeze[5].color: unknown field (expected one of: start, end, days, from, to, time_zone, note)",
        "freeze[5].note: note is 201 bytes, over the limit of 200",
        "freeze[5].to: to equals from (09:00): a window needs a length (00:00 to 24:00 is a whole day)",
        "freeze[6].end: end 2026-12-20T00:00:00+00:00 is not after start 2026-12-20T00:00:00Z",
        "freeze[7]: missing required field \"start\"",
        "freeze[8].days: expected an array, found a string",
        "freeze[8]: missing required field \"from\"",
        "freeze[8]: missing required field \"to\"",
        "freeze[8].time_zone: expected a string, found a number",
        "freeze[9]: expected an object, found a number",
    ];
    assert_eq!(got, want);
}

#[test]
fn refuses_too_many_windows_and_non_objects() {
    let one = json!({"days": ["mon"], "from": "09:00", "to": "10:00", "time_zone": "UTC"});
    let windows = vec![one; MAX_FREEZE_WINDOWS];
    assert!(Policy::parse(&json!({ "freeze": windows })).is_ok());
    let mut more = windows.clone();
    more.push(json!({"days": ["tue"], "from": "09:00", "to": "10:00", "time_zone": "UTC"}));
    assert_eq!(
        problems(json!({ "freeze": more })),
        ["freeze: 33 windows, over the limit of 32"]
    );
    assert_eq!(
        problems(json!([])),
        [": expected an object, found an array"]
    );
    assert_eq!(
        problems(json!({"freeze": {}})),
        ["freeze: expected an array, found an object"]
    );
    assert_eq!(
        problems(json!({"approval_expires_hours": 0})),
        ["approval_expires_hours: expected an integer from 1 to 720, found 0"]
    );
    assert_eq!(
        problems(json!({"approval_expires_hours": 1.5})),
        ["approval_expires_hours: expected an integer from 1 to 720, found 1.5"]
    );
    let tz = |s: &str| {
        Policy::parse(
            &json!({"freeze": [{"days": ["mon"], "from": "09:00", "to": "10:00", "time_zone": s}]}),
        )
    };
    for ok in [
        "UTC",
        "Etc/GMT+5",
        "America/Argentina/Buenos_Aires",
        "America/Port-au-Prince",
        &"A".repeat(64),
    ] {
        assert!(tz(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "Europe/Berlin ",
        "Europe.Berlin",
        "Zürich",
        &"A".repeat(65),
    ] {
        assert!(tz(bad).is_err(), "{bad}");
    }
}

#[test]
fn time_zones_are_distinct_in_order_of_first_use() {
    let w = |tz: &str| json!({"days": ["mon"], "from": "09:00", "to": "10:00", "time_zone": tz});
    let p = Policy::parse(&json!({"freeze": [
        w("Europe/Berlin"),
        {"start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z"},
        w("America/New_York"),
        w("Europe/Berlin")
    ]}))
    .unwrap();
    assert_eq!(p.time_zones(), ["Europe/Berlin", "America/New_York"]);
}

#[test]
fn absolute_windows_include_start_and_exclude_end() {
    let p = Policy::parse(&example()).unwrap();
    let start = ms("2026-12-20T00:00:00Z");
    let end = ms("2027-01-03T23:00:00Z");
    // The weekly window's zone is on a Monday morning: outside it.
    let monday = |_: &str| {
        Some(LocalTime {
            weekday: 0,
            minute: 600,
        })
    };
    assert_eq!(p.frozen_at(start - 1, &monday), None);
    let hit = p.frozen_at(start, &monday).unwrap();
    assert_eq!(
        hit,
        FreezeHit {
            index: 0,
            reason: "freeze window 1 (2026-12-20T00:00:00Z to 2027-01-04T00:00:00+01:00: holidays) is in effect until 2027-01-03T23:00:00Z".into(),
            until_ms: Some(end),
        }
    );
    assert_eq!(p.frozen_at(end - 1, &monday).map(|h| h.index), Some(0));
    assert_eq!(p.frozen_at(end, &monday), None);
}

#[test]
fn the_first_window_in_effect_is_reported() {
    let p = Policy::parse(&example()).unwrap();
    let saturday = |tz: &str| {
        assert_eq!(tz, "Europe/Berlin");
        Some(LocalTime {
            weekday: SAT,
            minute: 17 * 60,
        })
    };
    let inside_both = ms("2026-12-26T16:00:00Z");
    assert_eq!(
        p.frozen_at(inside_both, &saturday).map(|h| h.index),
        Some(0)
    );
    let hit = p.frozen_at(ms("2027-02-06T16:00:00Z"), &saturday).unwrap();
    assert_eq!(
        hit,
        FreezeHit {
            index: 1,
            reason: "freeze window 2 (fri, sat 16:00-08:00 Europe/Berlin: weekend) is in effect"
                .into(),
            until_ms: None,
        }
    );
}

#[test]
fn weekly_same_day_window() {
    let p = weekly(&[FRI], 9 * 60, 17 * 60);
    assert!(!frozen_when(&p, FRI, 9 * 60 - 1));
    assert!(frozen_when(&p, FRI, 9 * 60));
    assert!(frozen_when(&p, FRI, 17 * 60 - 1));
    assert!(!frozen_when(&p, FRI, 17 * 60));
    assert!(!frozen_when(&p, SAT, 12 * 60));
    // To the end of the day.
    let p = weekly(&[SUN], 0, 1440);
    assert!(frozen_when(&p, SUN, 0) && frozen_when(&p, SUN, 1439));
    assert!(!frozen_when(&p, 0, 0) && !frozen_when(&p, SAT, 1439));
}

#[test]
fn weekly_overnight_window_runs_into_the_next_day() {
    let p = weekly(&[FRI], 16 * 60, 8 * 60);
    assert!(!frozen_when(&p, FRI, 16 * 60 - 1));
    assert!(frozen_when(&p, FRI, 16 * 60));
    assert!(frozen_when(&p, FRI, 1439));
    assert!(frozen_when(&p, SAT, 0));
    assert!(frozen_when(&p, SAT, 8 * 60 - 1));
    assert!(!frozen_when(&p, SAT, 8 * 60));
    // Saturday is not listed: its evening is free.
    assert!(!frozen_when(&p, SAT, 16 * 60));
    // Friday morning is the tail of a Thursday, which is not listed.
    assert!(!frozen_when(&p, FRI, 7 * 60));
    // Sunday's night runs into Monday.
    let p = weekly(&[SUN], 22 * 60, 6 * 60);
    assert!(frozen_when(&p, 0, 5 * 60 + 59));
    assert!(!frozen_when(&p, 0, 6 * 60));
    // Ending at midnight: the evening only.
    let p = weekly(&[FRI], 20 * 60, 0);
    assert!(frozen_when(&p, FRI, 20 * 60) && !frozen_when(&p, SAT, 0));
    // A weekday out of range is no day.
    let p = weekly(&[SUN], 22 * 60, 6 * 60);
    assert!(!frozen_when(&p, 7, 60) && !frozen_when(&p, u8::MAX, 60));
}

#[test]
fn an_unresolved_time_zone_fails_closed() {
    let p = Policy::parse(&json!({"freeze": [
        {"days": ["mon"], "from": "09:00", "to": "10:00", "time_zone": "Mars/Olympus_Mons"}
    ]}))
    .unwrap();
    let hit = p.frozen_at(0, &|_| None).unwrap();
    assert_eq!(
        hit,
        FreezeHit {
            index: 0,
            reason: "freeze window 1 (mon 09:00-10:00 Mars/Olympus_Mons) counts as in effect: its time zone \"Mars/Olympus_Mons\" could not be resolved".into(),
            until_ms: None,
        }
    );
    // Absolute windows need no zone.
    let p = Policy::parse(&json!({"freeze": [
        {"start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z"}
    ]}))
    .unwrap();
    assert_eq!(p.frozen_at(0, &|_| None), None);
}

#[test]
fn served_versions_of_routes() {
    assert_eq!(
        served_versions(&json!({"default": {"version": 3}})),
        BTreeSet::from([3])
    );
    let route = json!({
        "salt": "s",
        "rules": [
            {"name": "beta", "when": {"var": "beta"}, "target": {"version": 7}},
            {"name": "ab", "units": ["u1"], "target": {"split": [{"version": 8, "weight": 0.5}, {"version": 9, "weight": 0}]}},
            {"name": "broken", "target": {"version": "10"}},
            {"name": "no target"},
            "not a rule"
        ],
        "default": {"split": [{"version": 1, "weight": 90}, {"version": 2, "weight": 10}, {"weight": 5}, {"version": 4}]}
    });
    assert_eq!(served_versions(&route), BTreeSet::from([1, 2, 7, 8]));
    assert!(served_versions(&json!(null)).is_empty());
    assert!(served_versions(&json!({"rules": 3, "default": []})).is_empty());
}

#[test]
fn newly_served_versions() {
    let before = json!({"default": {"version": 1}});
    let after = json!({"default": {"split": [{"version": 1, "weight": 50}, {"version": 3, "weight": 50}]},
                       "rules": [{"name": "x", "when": true, "target": {"version": 2}}]});
    assert_eq!(newly_served(Some(&before), &after), [2, 3]);
    assert_eq!(newly_served(None, &after), [1, 2, 3]);
    assert_eq!(newly_served(Some(&after), &before), Vec::<u64>::new());
    // A rollback to a version served before is nothing new.
    let ramp =
        json!({"default": {"split": [{"version": 1, "weight": 0}, {"version": 3, "weight": 100}]}});
    assert_eq!(newly_served(Some(&after), &ramp), Vec::<u64>::new());
    assert_eq!(newly_served(Some(&ramp), &before), [1]);
}

fn arb_window() -> impl Strategy<Value = Value> {
    let absolute = (
        -62_167_219_200_000i64..253_402_300_799_000,
        1i64..100_000_000_000,
        proptest::option::of("[a-z ]{0,20}"),
    )
        .prop_map(|(start, len, note)| {
            // The end within 0000-9999, which RFC 3339 can write.
            let mut w = json!({
                "start": crate::time::format_rfc3339(start),
                "end": crate::time::format_rfc3339((start + len).min(253_402_300_799_999)),
            });
            if let Some(n) = note {
                w["note"] = n.into();
            }
            w
        });
    let weekly = (
        proptest::sample::subsequence(DAY_NAMES.to_vec(), 1..=7).prop_shuffle(),
        0u16..1440,
        0u16..=1440,
        "[A-Za-z_]{1,10}(/[A-Za-z_+-]{1,10})?",
        proptest::option::of("[a-z ]{0,20}"),
    )
        .prop_filter("a length", |(_, from, to, _, _)| from != to)
        .prop_map(|(days, from, to, tz, note)| {
            let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
            let mut w = json!({"days": days, "from": hm(from), "to": hm(to), "time_zone": tz});
            if let Some(n) = note {
                w["note"] = n.into();
            }
            w
        });
    prop_oneof![absolute, weekly]
}

proptest! {
    /// Any valid policy reads back from its canonical form as itself.
    #[test]
    fn canonical_form_round_trips(
        eval in any::<bool>(),
        approval in any::<bool>(),
        hours in 1u32..=720,
        windows in proptest::collection::vec(arb_window(), 0..=MAX_FREEZE_WINDOWS),
    ) {
        let v = json!({
            "require_eval": eval,
            "require_approval": approval,
            "approval_expires_hours": hours,
            "freeze": windows,
        });
        let p = Policy::parse(&v);
        prop_assert!(p.is_ok(), "{:?}", p);
        let p = p.unwrap();
        let canonical = p.to_value();
        prop_assert_eq!(Policy::parse(&canonical), Ok(p.clone()));
        prop_assert_eq!(Policy::parse(&canonical).unwrap().to_value(), canonical);
    }

    /// A same-day weekly window holds exactly on its days from `from` to before `to`.
    #[test]
    fn same_day_window_holds_exactly_on_its_days_and_hours(
        days in proptest::sample::subsequence((0u8..7).collect::<Vec<_>>(), 1..=7),
        a in 0u16..1440,
        b in 0u16..=1440,
        weekday in 0u8..7,
        minute in 0u16..1440,
    ) {
        prop_assume!(a < b);
        let p = weekly(&days, a, b);
        let want = days.contains(&weekday) && a <= minute && minute < b;
        prop_assert_eq!(frozen_when(&p, weekday, minute), want);
    }

    /// An overnight window holds from `from` on a listed day to before `to` the next day.
    #[test]
    fn overnight_window_holds_from_a_listed_evening_to_the_next_morning(
        days in proptest::sample::subsequence((0u8..7).collect::<Vec<_>>(), 1..=7),
        a in 0u16..1440,
        b in 0u16..1440,
        weekday in 0u8..7,
        minute in 0u16..1440,
    ) {
        prop_assume!(b < a);
        let p = weekly(&days, a, b);
        // Minutes since Monday 00:00, the window starting at each listed day's `from`.
        let t = u32::from(weekday) * 1440 + u32::from(minute);
        let len = u32::from(1440 - a + b);
        let want = days.iter().any(|&d| {
            let start = u32::from(d) * 1440 + u32::from(a);
            (t + 7 * 1440 - start) % (7 * 1440) < len
        });
        prop_assert_eq!(frozen_when(&p, weekday, minute), want);
    }
}
