//! Unit tests for `schedule`: slot grids, refusals and hours wording, including New York's 2026
//! spring-forward (March 8) and fall-back (November 1) nights.

use super::*;
use chrono::TimeZone;
use chrono_tz::America::New_York as NY;

fn hm(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M").unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// Instants on one UTC date, written like a timetable.
fn utc_on(day: NaiveDate, times: &[&str]) -> Vec<DateTime<Utc>> {
    times
        .iter()
        .map(|t| day.and_time(hm(t)).and_utc())
        .collect()
}

/// New York wall-clock time (unambiguous) as an instant.
fn ny(day: NaiveDate, time: &str) -> DateTime<Utc> {
    NY.from_local_datetime(&day.and_time(hm(time)))
        .unwrap()
        .with_timezone(&Utc)
}

fn iv(open: &str, close: &str) -> Interval {
    Interval {
        open: hm(open),
        close: hm(close),
    }
}

fn rules(slot: u32, buffer: u32, notice: u32, horizon: u32) -> BookingRules {
    BookingRules {
        buffer_minutes: buffer,
        slot_minutes: slot,
        min_notice_minutes: notice,
        horizon_days: horizon,
    }
}

fn cal<'a>(hours: &'a WeeklyHours, closed: &'a [NaiveDate], r: &'a BookingRules) -> Calendar<'a> {
    Calendar {
        tz: NY,
        hours,
        closures: closed,
        rules: r,
    }
}

fn busy(start: DateTime<Utc>, end: DateTime<Utc>) -> Busy {
    Busy { start, end }
}

fn every_day(periods: Vec<Interval>) -> WeeklyHours {
    WeeklyHours {
        days: std::array::from_fn(|_| periods.clone()),
    }
}

fn closed_week() -> WeeklyHours {
    WeeklyHours {
        days: Default::default(),
    }
}

// 2025-11-24 is a Monday, in EST (UTC-5).
fn monday() -> NaiveDate {
    date(2025, 11, 24)
}

fn mon(time: &str) -> DateTime<Utc> {
    ny(monday(), time)
}

// Thursday 2025-11-20 at 10:00 AM in New York.
fn thursday_10am() -> DateTime<Utc> {
    utc(2025, 11, 20, 15, 0)
}

#[test]
fn overlap_rule() {
    let a = busy(mon("09:00"), mon("10:00"));
    let b = busy(mon("10:00"), mon("11:00"));
    let c = busy(mon("10:15"), mon("11:00"));
    let inside = busy(mon("09:15"), mon("09:45"));
    assert!(!conflicts(&a, &b, 0) && !conflicts(&b, &a, 0));
    assert!(conflicts(&a, &b, 1) && conflicts(&b, &a, 15));
    assert!(!conflicts(&a, &c, 15) && conflicts(&a, &c, 16));
    assert!(conflicts(&a, &inside, 0) && conflicts(&inside, &a, 0));
    let end_of_time = busy(DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MAX_UTC);
    assert!(!conflicts(&a, &end_of_time, 240));
}

#[test]
fn ordinary_day_grid() {
    let (hours, r) = (WeeklyHours::default(), rules(30, 0, 0, 60));
    let c = cal(&hours, &[], &r);
    let starts = free_starts(&c, monday(), 60, &[], thursday_10am());
    assert_eq!(starts.len(), 15);
    assert_eq!(starts.first(), Some(&utc(2025, 11, 24, 14, 0)));
    assert_eq!(starts.last(), Some(&utc(2025, 11, 24, 21, 0)));
    assert!(starts.windows(2).all(|w| w[0] < w[1]));
    let now = thursday_10am();
    assert!(
        free_starts(&c, date(2025, 11, 23), 60, &[], now).is_empty(),
        "Sunday"
    );
    assert!(free_starts(&c, monday(), 0, &[], now).is_empty());
    assert!(free_starts(&c, monday(), 24 * 60 + 1, &[], now).is_empty());
    assert!(free_starts(&c, monday(), 9 * 60, &[], now).is_empty());
    assert_eq!(
        free_starts(&c, monday(), 8 * 60, &[], now),
        vec![mon("09:00")]
    );
}

#[test]
fn lunch_break_splits_the_day() {
    let mut hours = WeeklyHours::default();
    hours.days[0] = vec![iv("13:00", "17:00"), iv("09:00", "12:00")];
    let r = rules(30, 0, 0, 60);
    let starts = free_starts(&cal(&hours, &[], &r), monday(), 60, &[], thursday_10am());
    let expected = utc_on(
        monday(),
        &[
            "14:00", "14:30", "15:00", "15:30", "16:00", "18:00", "18:30", "19:00", "19:30",
        ],
    );
    assert_eq!(starts[..9], expected[..]);
    assert_eq!(
        starts[9..],
        utc_on(monday(), &["20:00", "20:30", "21:00"])[..]
    );
}

#[test]
fn busy_and_buffer_block_starts() {
    let hours = WeeklyHours::default();
    let (no_buffer, buffer) = (rules(30, 0, 0, 60), rules(30, 15, 0, 60));
    let taken = [busy(mon("10:00"), mon("11:00"))];
    let starts = free_starts(
        &cal(&hours, &[], &no_buffer),
        monday(),
        60,
        &taken,
        thursday_10am(),
    );
    assert!(starts.contains(&mon("09:00")) && starts.contains(&mon("11:00")));
    assert!(!starts.contains(&mon("09:30")) && !starts.contains(&mon("10:30")));
    let starts = free_starts(
        &cal(&hours, &[], &buffer),
        monday(),
        60,
        &taken,
        thursday_10am(),
    );
    assert_eq!(starts.first(), Some(&mon("11:30")));
}

#[test]
fn min_notice_and_past_days() {
    let (hours, r) = (WeeklyHours::default(), rules(30, 0, 120, 60));
    let c = cal(&hours, &[], &r);
    // 10:10 AM plus two hours is 12:10, so the first slot is 12:30; exactly the notice is fine.
    let starts = free_starts(&c, monday(), 30, &[], mon("10:10"));
    assert_eq!(starts.first(), Some(&mon("12:30")));
    assert_eq!(
        free_starts(&c, monday(), 30, &[], mon("10:30")).first(),
        Some(&mon("12:30"))
    );
    assert!(free_starts(&c, date(2025, 11, 21), 30, &[], mon("10:10")).is_empty());
}

#[test]
fn horizon_and_closures() {
    let (hours, r) = (WeeklyHours::default(), rules(30, 0, 0, 7));
    let closures = [date(2025, 11, 27)];
    let c = cal(&hours, &closures, &r);
    let now = mon("10:10");
    assert!(
        !free_starts(&c, date(2025, 12, 1), 30, &[], now).is_empty(),
        "today + 7"
    );
    assert!(
        free_starts(&c, date(2025, 12, 2), 30, &[], now).is_empty(),
        "today + 8"
    );
    assert!(
        free_starts(&c, date(2025, 11, 27), 30, &[], now).is_empty(),
        "closure"
    );
    assert!(!free_starts(&c, date(2025, 11, 28), 30, &[], now).is_empty());
}

#[test]
fn spring_forward_night_skips_the_gap() {
    let (hours, r) = (every_day(vec![iv("00:00", "06:00")]), rules(30, 0, 0, 365));
    let c = cal(&hours, &[], &r);
    let (day, now) = (date(2026, 3, 8), utc(2026, 3, 1, 0, 0));
    // 00:00–01:30 EST are 05:00–06:30Z; 2:00 and 2:30 do not exist; 3:00–5:30 EDT are 07:00–09:30Z.
    let expected = [
        "05:00", "05:30", "06:00", "06:30", "07:00", "07:30", "08:00", "08:30",
    ];
    let mut expected = utc_on(day, &expected);
    expected.extend(utc_on(day, &["09:00", "09:30"]));
    assert_eq!(free_starts(&c, day, 30, &[], now), expected);
    // An hour from 1:30 AM EST ends at 3:30 AM EDT; the last hour starts at 5:00 AM EDT.
    let hour_long = free_starts(&c, day, 60, &[], now);
    assert_eq!(hour_long.len(), 9);
    assert!(hour_long.contains(&utc(2026, 3, 8, 6, 30)));
    assert_eq!(hour_long.last(), Some(&utc(2026, 3, 8, 9, 0)));
    // Midnight to 6:00 AM is only five real hours that night.
    assert_eq!(
        free_starts(&c, day, 300, &[], now),
        vec![utc(2026, 3, 8, 5, 0)]
    );
    assert!(free_starts(&c, day, 330, &[], now).is_empty());
}

#[test]
fn fall_back_night_uses_first_occurrence() {
    let (hours, r) = (every_day(vec![iv("00:00", "06:00")]), rules(30, 0, 0, 365));
    let c = cal(&hours, &[], &r);
    let (day, now) = (date(2026, 11, 1), utc(2026, 10, 25, 0, 0));
    // 1:00 and 1:30 AM are the EDT ones (05:00Z, 05:30Z); the EST repeats are not grid times.
    let mut expected = utc_on(day, &["04:00", "04:30", "05:00", "05:30", "07:00", "07:30"]);
    expected.extend(utc_on(
        day,
        &["08:00", "08:30", "09:00", "09:30", "10:00", "10:30"],
    ));
    assert_eq!(free_starts(&c, day, 30, &[], now), expected);
    // Midnight to 6:00 AM is seven real hours that night.
    assert_eq!(
        free_starts(&c, day, 420, &[], now),
        vec![utc(2026, 11, 1, 4, 0)]
    );
    // Busy time in the repeated hour blocks by real time, not by the wall clock.
    let taken = [busy(utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 6, 0))];
    let starts = free_starts(&c, day, 30, &taken, now);
    assert_eq!(starts[..3], utc_on(day, &["04:00", "04:30", "07:00"])[..]);
}

#[test]
fn ordinary_hours_on_dst_sundays() {
    let (hours, r) = (every_day(vec![iv("09:00", "17:00")]), rules(60, 0, 0, 365));
    let c = cal(&hours, &[], &r);
    let now = utc(2026, 3, 1, 0, 0);
    for (day, first, last) in [
        (
            date(2026, 3, 7),
            utc(2026, 3, 7, 14, 0),
            utc(2026, 3, 7, 21, 0),
        ),
        (
            date(2026, 3, 8),
            utc(2026, 3, 8, 13, 0),
            utc(2026, 3, 8, 20, 0),
        ),
        (
            date(2026, 10, 31),
            utc(2026, 10, 31, 13, 0),
            utc(2026, 10, 31, 20, 0),
        ),
        (
            date(2026, 11, 1),
            utc(2026, 11, 1, 14, 0),
            utc(2026, 11, 1, 21, 0),
        ),
    ] {
        let starts = free_starts(&c, day, 60, &[], now);
        assert_eq!(
            (starts.len(), starts.first(), starts.last()),
            (8, Some(&first), Some(&last))
        );
    }
}

#[test]
fn check_start_accepts_inside_hours_on_or_off_grid() {
    let (hours, r) = (WeeklyHours::default(), rules(30, 0, 120, 60));
    let c = cal(&hours, &[], &r);
    for (start, minutes) in [("09:00", 60), ("16:00", 60), ("09:10", 30), ("16:59", 1)] {
        assert_eq!(
            check_start(&c, mon(start), minutes, thursday_10am()),
            Ok(()),
            "{start}"
        );
    }
}

#[test]
fn check_start_refusals() {
    let mut hours = WeeklyHours::default();
    hours.days[0] = vec![iv("09:00", "12:00"), iv("13:00", "17:00")];
    hours.days[5] = vec![iv("10:00", "14:00")];
    let (r, closures) = (rules(30, 0, 120, 60), [date(2025, 11, 27)]);
    let c = cal(&hours, &closures, &r);
    let now = thursday_10am();
    let refuse = |start, minutes| check_start(&c, start, minutes, now).unwrap_err();
    let thursday = date(2025, 11, 20);

    assert_eq!(refuse(ny(thursday, "09:00"), 30), SlotRefusal::Past);
    assert_eq!(
        refuse(mon("09:00"), 0),
        SlotRefusal::InvalidDuration { minutes: 0 }
    );
    let e = refuse(ny(thursday, "11:00"), 30);
    let earliest = ny(thursday, "12:00");
    assert_eq!(
        e,
        SlotRefusal::TooSoon {
            notice_minutes: 120,
            earliest: Some(earliest),
            earliest_local: Some(thursday.and_time(hm("12:00"))),
        }
    );
    let cases = [
        (
            e,
            "We need at least 2 hours' notice; the earliest I can book is Thursday, November 20 at 12:00 PM.",
        ),
        (
            refuse(ny(date(2026, 1, 20), "10:00"), 30),
            "I can only book up to 60 days ahead; the last day I can book is Monday, January 19.",
        ),
        (
            refuse(ny(date(2025, 11, 23), "10:00"), 30),
            "We're closed on Sunday, November 23. We're open Monday from 9:00 AM to 12:00 PM and \
             1:00 PM to 5:00 PM; Tuesday to Friday from 9:00 AM to 5:00 PM; Saturday from 10:00 AM \
             to 2:00 PM.",
        ),
        (
            refuse(mon("12:15"), 30),
            "That's outside our hours on Monday, November 24; we're open from 9:00 AM to 12:00 PM \
             and 1:00 PM to 5:00 PM that day.",
        ),
        (
            refuse(mon("11:30"), 60),
            "A 60-minute appointment at 11:30 AM on Monday, November 24 would run past 12:00 PM, \
             when we close.",
        ),
    ];
    for (refusal, sentence) in cases {
        assert_eq!(refusal.to_string(), sentence);
    }
    let holiday = ny(date(2025, 11, 27), "10:00");
    assert!(matches!(refuse(holiday, 30), SlotRefusal::Closed { .. }));
    for start in ["08:30", "17:00", "12:00"] {
        assert!(
            matches!(refuse(mon(start), 30), SlotRefusal::OutsideHours { .. }),
            "{start}"
        );
    }
    assert!(matches!(
        refuse(mon("16:45"), 30),
        SlotRefusal::RunsPastClose { .. }
    ));
}

#[test]
fn closed_wording() {
    let r = rules(30, 0, 0, 365);
    let (default_hours, never_open) = (WeeklyHours::default(), closed_week());
    let sunday = ny(date(2026, 3, 8), "10:00");
    let now = utc(2026, 3, 1, 0, 0);
    assert_eq!(
        check_start(&cal(&default_hours, &[], &r), sunday, 30, now)
            .unwrap_err()
            .to_string(),
        "We're closed on Sunday, March 8. We're open Monday to Friday from 9:00 AM to 5:00 PM."
    );
    assert_eq!(
        check_start(&cal(&never_open, &[], &r), sunday, 30, now)
            .unwrap_err()
            .to_string(),
        "We're closed on Sunday, March 8."
    );
}

#[test]
fn check_start_across_dst() {
    let (hours, r) = (every_day(vec![iv("00:00", "06:00")]), rules(30, 0, 0, 365));
    let c = cal(&hours, &[], &r);
    let now = utc(2026, 3, 1, 0, 0);
    // 3:00 AM EDT just after the jump, and 1:30 AM EST in the repeated hour, are open.
    assert_eq!(check_start(&c, utc(2026, 3, 8, 7, 0), 60, now), Ok(()));
    assert_eq!(check_start(&c, utc(2026, 11, 1, 6, 30), 60, now), Ok(()));
    // 5:30 AM EDT plus an hour passes the 6:00 AM close.
    let late = check_start(&c, utc(2026, 3, 8, 9, 30), 60, now);
    assert!(matches!(late, Err(SlotRefusal::RunsPastClose { .. })));
}

#[test]
fn notice_wording() {
    for (minutes, phrase) in [
        (120, "2 hours'"),
        (60, "1 hour's"),
        (90, "90 minutes'"),
        (1, "1 minute's"),
        (1440, "1 day's"),
        (2880, "2 days'"),
    ] {
        assert_eq!(notice_phrase(minutes), phrase);
    }
    let none = SlotRefusal::TooSoon {
        notice_minutes: 30,
        earliest: None,
        earliest_local: None,
    };
    assert_eq!(
        none.to_string(),
        "We need at least 30 minutes' notice; please choose a later time."
    );
}

#[test]
fn nearest_free_prefers_the_same_day() {
    let (hours, r) = (WeeklyHours::default(), rules(30, 0, 0, 60));
    let c = cal(&hours, &[], &r);
    let now = thursday_10am();
    let taken = [busy(mon("10:00"), mon("12:00"))];
    let near = nearest_free(&c, mon("11:00"), 60, &taken, now, 4);
    assert_eq!(
        near,
        vec![mon("12:00"), mon("12:30"), mon("09:00"), mon("13:00")]
    );
    assert!(nearest_free(&c, mon("11:00"), 60, &taken, now, 0).is_empty());

    // Monday full: Tuesday (a day later) before Friday (three days earlier), nearest 11 AM first.
    let full = [busy(mon("09:00"), mon("17:00"))];
    let tue = date(2025, 11, 25);
    let near = nearest_free(&c, mon("11:00"), 60, &full, now, 3);
    assert_eq!(
        near,
        vec![ny(tue, "11:00"), ny(tue, "10:30"), ny(tue, "11:30")]
    );
    // Wednesday full: Tuesday and Thursday are both one day away and interleave by clock time.
    let (wed, thu) = (date(2025, 11, 26), date(2025, 11, 27));
    let wed_full = [busy(ny(wed, "09:00"), ny(wed, "17:00"))];
    let near = nearest_free(&c, ny(wed, "11:00"), 60, &wed_full, now, 4);
    let expected = [
        ny(tue, "11:00"),
        ny(thu, "11:00"),
        ny(tue, "10:30"),
        ny(tue, "11:30"),
    ];
    assert_eq!(near, expected);

    // Everything within 14 days and the 60-day horizon, never in the past.
    let all = nearest_free(&c, mon("11:00"), 60, &[], now, 10_000);
    assert!(all.iter().all(|s| *s >= now));
    assert!(all.contains(&thursday_10am()));
    assert!(all.contains(&ny(date(2025, 12, 8), "16:00")));
    assert!(!all.iter().any(|s| *s > utc(2025, 12, 9, 0, 0)));
}

#[test]
fn validation() {
    assert_eq!(WeeklyHours::default().validate(), Ok(()));
    let mut hours = WeeklyHours::default();
    hours.days[1] = vec![iv("17:00", "09:00")];
    assert_eq!(
        hours.validate().unwrap_err().to_string(),
        "Tuesday's hours from 5:00 PM to 9:00 AM must close after they open."
    );
    hours.days[1] = vec![iv("09:00", "09:00")];
    assert!(matches!(
        hours.validate(),
        Err(ConfigError::InvertedHours { .. })
    ));
    hours.days[1] = vec![iv("12:00", "17:00"), iv("09:00", "13:00")];
    assert_eq!(
        hours.validate().unwrap_err().to_string(),
        "Tuesday's hours 9:00 AM to 1:00 PM and 12:00 PM to 5:00 PM overlap."
    );
    hours.days[1] = vec![iv("12:00", "17:00"), iv("09:00", "12:00")];
    assert_eq!(hours.validate(), Ok(()));

    assert_eq!(BookingRules::default().validate(), Ok(()));
    assert_eq!(rules(240, 240, 10_080, 365).validate(), Ok(()));
    for (r, e) in [
        (rules(4, 0, 0, 1), ConfigError::SlotMinutes(4)),
        (rules(241, 0, 0, 1), ConfigError::SlotMinutes(241)),
        (rules(5, 241, 0, 1), ConfigError::BufferMinutes(241)),
        (rules(5, 0, 10_081, 1), ConfigError::NoticeMinutes(10_081)),
        (rules(5, 0, 0, 0), ConfigError::HorizonDays(0)),
        (rules(5, 0, 0, 366), ConfigError::HorizonDays(366)),
    ] {
        assert_eq!(r.validate(), Err(e));
    }
}

#[test]
fn unvalidated_rules_do_not_panic() {
    let hours = WeeklyHours::default();
    let now = thursday_10am();
    for r in [
        rules(0, 0, 0, 1),
        rules(u32::MAX, u32::MAX, u32::MAX, u32::MAX),
    ] {
        let c = cal(&hours, &[], &r);
        let _ = free_starts(&c, monday(), 30, &[busy(mon("09:00"), mon("09:30"))], now);
        let _ = check_start(&c, mon("09:00"), 30, now);
        let _ = nearest_free(&c, mon("09:00"), 30, &[], now, 5);
    }
    let r = rules(30, 0, 0, 365);
    let c = cal(&hours, &[], &r);
    for extreme in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
        let _ = check_start(&c, extreme, 30, now);
        let _ = check_start(&c, mon("09:00"), 30, extreme);
        let _ = nearest_free(&c, extreme, 30, &[], now, 3);
        let _ = nearest_free(&c, mon("09:00"), 30, &[], extreme, 3);
        let _ = free_starts(&c, NaiveDate::MAX, 30, &[], extreme);
        let _ = free_starts(&c, NaiveDate::MIN, 30, &[], extreme);
    }
    // A zero slot length falls back to one-minute steps: 9:00 to 4:30 PM inclusive.
    let r = rules(0, 0, 0, 1);
    assert_eq!(
        free_starts(&cal(&hours, &[], &r), date(2025, 11, 21), 30, &[], now).len(),
        451
    );
}

#[test]
fn hours_sentences() {
    let mut saturday = WeeklyHours::default();
    saturday.days[5] = vec![iv("10:00", "14:00")];
    let mut alternate = closed_week();
    for i in [0, 2, 4] {
        alternate.days[i] = vec![iv("09:00", "12:00"), iv("13:00", "17:00")];
    }
    let mut split_weekend = closed_week();
    split_weekend.days[0] = vec![iv("10:00", "12:00")];
    split_weekend.days[6] = vec![iv("10:00", "12:00")];
    for (hours, sentence) in [
        (
            WeeklyHours::default(),
            "Monday to Friday 9:00 AM to 5:00 PM; closed Saturday and Sunday",
        ),
        (
            saturday,
            "Monday to Friday 9:00 AM to 5:00 PM; Saturday 10:00 AM to 2:00 PM; closed Sunday",
        ),
        (
            alternate,
            "Monday, Wednesday and Friday 9:00 AM to 12:00 PM and 1:00 PM to 5:00 PM; \
             closed Tuesday, Thursday, Saturday and Sunday",
        ),
        (
            every_day(vec![iv("08:00", "20:00")]),
            "every day 8:00 AM to 8:00 PM",
        ),
        (closed_week(), "closed every day"),
        (
            split_weekend,
            "Monday and Sunday 10:00 AM to 12:00 PM; closed Tuesday to Saturday",
        ),
    ] {
        assert_eq!(week_hours_sentence(&hours), sentence);
    }
}
