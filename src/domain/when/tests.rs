//! Unit tests for `when`: date and time phrases, DST gaps and repeats, and start resolution.

use super::*;
use chrono_tz::America::New_York;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

// Thursday.
fn today() -> NaiveDate {
    date(2025, 11, 20)
}

fn d(s: &str) -> NaiveDate {
    parse_date(s, today()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

#[test]
fn dates_absolute_and_relative() {
    let monday = date(2025, 11, 24);
    for s in [
        "2025-11-24",
        "November 24",
        "Nov 24",
        "nov. 24",
        "24 November 2025",
        "November 24th, 2025",
        "the 24th of November",
        "11/24/2025",
        "11/24/25",
        "11/24",
        "2025/11/24",
        "Monday, November 24",
        "monday",
        "Mon",
        "next monday",
        "this Monday",
        "on Monday",
        "the 24th",
    ] {
        assert_eq!(d(s), monday, "{s}");
    }
    assert_eq!(d("today"), today());
    assert_eq!(d("  Tomorrow "), date(2025, 11, 21));
    assert_eq!(d("day after tomorrow"), date(2025, 11, 22));
    assert_eq!(d("2025-1-5"), date(2025, 1, 5));
}

#[test]
fn weekday_on_or_after_versus_next() {
    // Today is a Thursday: the bare weekday is today, "next" is a week later.
    assert_eq!(d("thursday"), today());
    assert_eq!(d("next thursday"), date(2025, 11, 27));
    assert_eq!(d("wednesday"), date(2025, 11, 26));
    assert_eq!(d("next wednesday"), date(2025, 11, 26));
    assert_eq!(d("friday"), date(2025, 11, 21));
}

#[test]
fn yearless_dates_roll_forward() {
    assert_eq!(d("November 20"), today());
    assert_eq!(d("November 19"), date(2026, 11, 19));
    assert_eq!(d("Jan 3"), date(2026, 1, 3));
    assert_eq!(d("1/3"), date(2026, 1, 3));
    assert_eq!(d("February 29"), date(2028, 2, 29));
    assert_eq!(d("the 3rd"), date(2025, 12, 3));
    assert_eq!(d("the 31st"), date(2025, 12, 31));
    // Past dates with a year are understood; refusing them is the schedule's job.
    assert_eq!(d("2020-01-01"), date(2020, 1, 1));
}

#[test]
fn bad_dates_say_so() {
    let e = parse_date("blursday", today()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "I couldn't understand the date “blursday”; please give a date like November 24 or 2025-11-24."
    );
    for s in [
        "",
        "   ",
        "next",
        "next november 24",
        "2025-13",
        "soon",
        "24",
        "ma 3",
        "12/12/123",
    ] {
        assert!(
            matches!(parse_date(s, today()), Err(WhenError::BadDate { .. })),
            "{s}"
        );
    }
    for s in [
        "13/45",
        "February 30",
        "2025-02-29",
        "2025-13-01",
        "11/31/2025",
        "february 30 2025",
    ] {
        assert!(
            matches!(parse_date(s, today()), Err(WhenError::NoSuchDate { .. })),
            "{s}"
        );
    }
    let e = parse_date("Tuesday, November 24", today()).unwrap_err();
    assert_eq!(
        e,
        WhenError::WeekdayMismatch {
            date: date(2025, 11, 24),
            said: Weekday::Tue
        }
    );
    assert_eq!(
        e.to_string(),
        "November 24 is a Monday, not a Tuesday; please tell me which date you meant."
    );
    let e = parse_date(&"x".repeat(500), today())
        .unwrap_err()
        .to_string();
    assert!(e.chars().count() < 150, "{e}");
}

#[test]
fn times() {
    for (s, h, m) in [
        ("15:00", 15, 0),
        ("09:30", 9, 30),
        ("9:30", 9, 30),
        ("3:00 PM", 15, 0),
        ("3:00pm", 15, 0),
        ("3pm", 15, 0),
        ("3 p.m.", 15, 0),
        ("3 P.M", 15, 0),
        ("11:30 a.m.", 11, 30),
        ("11:30 AM", 11, 30),
        ("noon", 12, 0),
        ("Midday", 12, 0),
        ("12 noon", 12, 0),
        ("midnight", 0, 0),
        ("12am", 0, 0),
        ("12:30 am", 0, 30),
        ("12pm", 12, 0),
        ("12:15pm", 12, 15),
        ("15:00:00", 15, 0),
        ("3.30pm", 15, 30),
        ("1500", 15, 0),
        ("930am", 9, 30),
        ("0:00", 0, 0),
        ("23:59", 23, 59),
    ] {
        assert_eq!(
            parse_time(s).unwrap_or_else(|e| panic!("{s}: {e}")),
            time(h, m),
            "{s}"
        );
    }
    assert_eq!(
        parse_time("15:00:30").unwrap(),
        NaiveTime::from_hms_opt(15, 0, 30).unwrap()
    );
}

#[test]
fn bad_times() {
    for s in [
        "25:00", "13pm", "0am", "24:00", "3", "15", "12:60", "3:5pm", "", "teatime", "3:00:60",
        "pm", "-1:00", "3:00 xm", "123:00",
    ] {
        assert!(
            matches!(parse_time(s), Err(WhenError::BadTime { .. })),
            "{s}"
        );
    }
    assert_eq!(
        parse_time("25:00").unwrap_err().to_string(),
        "I couldn't understand the time “25:00”; please give a time like 3:00 PM or 15:00."
    );
}

#[test]
fn resolve_ordinary_gap_and_repeat() {
    let ny = New_York;
    let summer = date(2026, 7, 1).and_time(time(9, 0));
    assert_eq!(resolve_local(ny, summer).unwrap(), utc(2026, 7, 1, 13, 0));

    // Spring forward 2026-03-08: 2:00 AM EST jumps to 3:00 AM EDT.
    let gap = date(2026, 3, 8).and_time(time(2, 30));
    let e = resolve_local(ny, gap).unwrap_err();
    assert_eq!(
        e,
        WhenError::NonexistentLocalTime {
            local: gap,
            next_valid: date(2026, 3, 8).and_time(time(3, 0)),
            next_valid_at: utc(2026, 3, 8, 7, 0),
        }
    );
    assert_eq!(
        e.to_string(),
        "2:30 AM doesn't exist on Sunday, March 8 because the clocks spring forward; the next valid time is 3:00 AM."
    );
    let at_two = date(2026, 3, 8).and_time(time(2, 0));
    assert!(matches!(
        resolve_local(ny, at_two),
        Err(WhenError::NonexistentLocalTime { .. })
    ));
    assert_eq!(
        resolve_local(ny, date(2026, 3, 8).and_time(time(1, 59))).unwrap(),
        utc(2026, 3, 8, 6, 59)
    );
    assert_eq!(
        resolve_local(ny, date(2026, 3, 8).and_time(time(3, 0))).unwrap(),
        utc(2026, 3, 8, 7, 0)
    );
    let with_secs = date(2026, 3, 8).and_hms_opt(2, 59, 30).unwrap();
    match resolve_local(ny, with_secs) {
        Err(WhenError::NonexistentLocalTime { next_valid, .. }) => {
            assert_eq!(next_valid, date(2026, 3, 8).and_time(time(3, 0)));
        }
        other => panic!("{other:?}"),
    }

    // Fall back 2026-11-01: 1:30 AM happens at 05:30Z (EDT) and 06:30Z (EST); the first is chosen.
    let repeat = date(2026, 11, 1).and_time(time(1, 30));
    assert_eq!(resolve_local(ny, repeat).unwrap(), utc(2026, 11, 1, 5, 30));
    assert_eq!(
        resolve_local(ny, date(2026, 11, 1).and_time(time(2, 0))).unwrap(),
        utc(2026, 11, 1, 7, 0)
    );
}

#[test]
fn gap_on_another_day_names_the_day() {
    // Samoa skipped Friday 2011-12-30 entirely.
    let apia = chrono_tz::Pacific::Apia;
    let local = date(2011, 12, 30).and_time(time(10, 0));
    let e = resolve_local(apia, local).unwrap_err();
    assert_eq!(
        e.to_string(),
        "10:00 AM doesn't exist on Friday, December 30 because the clocks spring forward; the next valid time is Saturday, December 31 at 12:00 AM."
    );
}

fn start(s: Option<&str>, d: Option<&str>, t: Option<&str>) -> Result<DateTime<Utc>, WhenError> {
    // 2025-11-20 10:00 in New York.
    parse_start(s, d, t, New_York, utc(2025, 11, 20, 15, 0))
}

#[test]
fn start_from_iso() {
    let expected = utc(2025, 11, 24, 19, 30);
    assert_eq!(
        start(Some("2025-11-24T11:30:00-08:00"), None, None).unwrap(),
        expected
    );
    assert_eq!(
        start(Some("2025-11-24T19:30:00Z"), None, None).unwrap(),
        expected
    );
    assert_eq!(
        start(Some("2025-11-24T19:30:00.000Z"), None, None).unwrap(),
        expected
    );
    assert_eq!(
        start(Some("2025-11-24T20:30+0100"), None, None).unwrap(),
        expected
    );
    assert_eq!(
        start(Some("2025-11-24T21:30+02"), None, None).unwrap(),
        expected
    );
    // No offset: clinic-local wall-clock time (EST in November).
    assert_eq!(
        start(Some("2025-11-24T14:30:00"), None, None).unwrap(),
        expected
    );
    assert_eq!(
        start(Some("2025-11-24 14:30"), None, None).unwrap(),
        expected
    );
    // A whole date-time in the date field is understood too.
    assert_eq!(
        start(None, Some("2025-11-24T14:30"), None).unwrap(),
        expected
    );
    assert!(matches!(
        start(Some("2025-02-30T10:00:00Z"), None, None),
        Err(WhenError::NoSuchDate { .. })
    ));
    assert!(matches!(
        start(Some("2026-03-08T02:30:00"), None, None),
        Err(WhenError::NonexistentLocalTime { .. })
    ));
    assert!(matches!(
        start(Some("2025-11-24T25:00"), None, None),
        Err(WhenError::BadDateTime { .. })
    ));
}

#[test]
fn start_from_parts_and_free_text() {
    let expected = utc(2025, 11, 24, 20, 0);
    assert_eq!(
        start(None, Some("November 24"), Some("3pm")).unwrap(),
        expected
    );
    assert_eq!(
        start(None, Some("monday"), Some("15:00")).unwrap(),
        expected
    );
    assert_eq!(
        start(Some(""), Some("2025-11-24"), Some("3:00 PM")).unwrap(),
        expected
    );
    assert_eq!(
        start(Some("November 24 at 3pm"), None, None).unwrap(),
        expected
    );
    assert_eq!(
        start(Some("Monday, November 24th at 3:00 p.m."), None, None).unwrap(),
        expected
    );
    assert_eq!(start(Some("3pm on Monday"), None, None).unwrap(), expected);
    assert_eq!(start(Some("2025-11-24 3pm"), None, None).unwrap(), expected);
    assert_eq!(
        start(Some("tomorrow at noon"), None, None).unwrap(),
        utc(2025, 11, 21, 17, 0)
    );
    // A garbled `start` falls back to good separate fields; otherwise its own error is reported.
    assert_eq!(
        start(Some("sometime"), Some("November 24"), Some("3pm")).unwrap(),
        expected
    );
    assert_eq!(
        start(Some("blursday at 3pm"), Some("blursday"), Some("3pm")),
        Err(WhenError::BadDate {
            input: "blursday".into()
        })
    );
    assert_eq!(
        start(Some("sometime"), None, Some("3pm")),
        Err(WhenError::BadDateTime {
            input: "sometime".into()
        })
    );
    // `start` wins over the separate fields.
    assert_eq!(
        start(Some("November 24 at 3pm"), Some("today"), Some("9am")).unwrap(),
        expected
    );
}

#[test]
fn start_errors_are_specific() {
    assert_eq!(start(None, None, None), Err(WhenError::MissingStart));
    assert_eq!(
        start(Some("  "), Some(""), None),
        Err(WhenError::MissingStart)
    );
    assert_eq!(
        start(None, Some("tomorrow"), None),
        Err(WhenError::MissingTime)
    );
    assert_eq!(start(None, None, Some("3pm")), Err(WhenError::MissingDate));
    assert_eq!(
        start(Some("2025-11-24"), None, None),
        Err(WhenError::MissingTime)
    );
    assert_eq!(
        start(Some("blursday at 3pm"), None, None),
        Err(WhenError::BadDate {
            input: "blursday".into()
        })
    );
    assert_eq!(
        start(Some("tomorrow at 25:00"), None, None),
        Err(WhenError::BadTime {
            input: "25:00".into()
        })
    );
    assert_eq!(
        start(None, Some("blursday"), Some("3pm")),
        Err(WhenError::BadDate {
            input: "blursday".into()
        })
    );
    assert_eq!(
        start(None, Some("tomorrow"), Some("13pm")),
        Err(WhenError::BadTime {
            input: "13pm".into()
        })
    );
    assert!(matches!(
        start(Some("whenever works"), None, None),
        Err(WhenError::BadDateTime { .. })
    ));
}

#[test]
fn messages_are_single_spoken_sentences() {
    let errors = [
        WhenError::BadDate { input: "x".into() },
        WhenError::NoSuchDate {
            input: "February 30".into(),
        },
        WhenError::WeekdayMismatch {
            date: date(2025, 11, 24),
            said: Weekday::Fri,
        },
        WhenError::BadTime { input: "x".into() },
        WhenError::BadDateTime { input: "x".into() },
        WhenError::MissingDate,
        WhenError::MissingTime,
        WhenError::MissingStart,
        WhenError::OutOfRange,
    ];
    for e in errors {
        let s = e.to_string();
        assert!(s.ends_with('.'), "{s}");
        assert_eq!(s.matches(". ").count(), 0, "{s}");
        assert!(!s.to_lowercase().contains("invalid"), "{s}");
    }
}

/// Every parser is total: odd bytes, multi-byte characters and fragments in any order must give
/// an answer or an error, never a panic.
#[test]
fn parsers_never_panic() {
    let fragments = [
        "1é2",
        "é",
        "12",
        "3",
        ":",
        ".",
        "-",
        "/",
        "+",
        "z",
        "t",
        " ",
        "pm",
        "a.m.",
        "noon",
        "next",
        "monday",
        "nov",
        "24th",
        "2025",
        "9999",
        "0",
        "٣",
        "🙂",
        "\u{0}",
        ",",
        "at",
        "the",
        "of",
        "99:99",
        "2025-02-29",
        "t25:00",
        "+99:00",
        "-05",
        "Z",
        "31",
        "feb",
        "29",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        usize::try_from(seed >> 33).unwrap_or(0)
    };
    let now = utc(2025, 11, 20, 15, 0);
    for extreme in [NaiveDateTime::MAX, NaiveDateTime::MIN] {
        let _ = resolve_local(New_York, extreme);
        let _ = resolve_local(chrono_tz::Pacific::Kiritimati, extreme);
    }
    for _ in 0..4000 {
        let len = next() % 5 + 1;
        let text: String = (0..len)
            .map(|_| fragments[next() % fragments.len()])
            .collect();
        let _ = parse_date(&text, today());
        let _ = parse_date(&text, NaiveDate::MAX);
        let _ = parse_date(&text, NaiveDate::MIN);
        let _ = parse_time(&text);
        let _ = parse_start(Some(&text), None, None, New_York, now);
        let _ = parse_start(None, Some(&text), Some(&text), New_York, now);
        let _ = parse_start(
            Some(&text),
            None,
            None,
            chrono_tz::Pacific::Apia,
            DateTime::<Utc>::MAX_UTC,
        );
    }
}

#[test]
fn reminders_keep_the_wall_clock_across_dst() {
    // 10:00 on Monday 2026-03-09 (EDT, UTC-4); the clocks sprang forward on Sunday at 02:00.
    let visit = utc(2026, 3, 9, 14, 0);
    let reminder = wall_clock_before(New_York, visit, 24);
    assert_eq!(reminder, utc(2026, 3, 8, 14, 0)); // 10:00 EDT on Sunday: 24 real hours
                                                  // 10:00 on Monday 2026-03-09 minus 24h -> Sunday 10:00; a visit on Sunday 10:00 minus 24h
                                                  // -> Saturday 10:00 EST = 15:00 UTC, 23 real hours earlier.
    let sunday_visit = utc(2026, 3, 8, 14, 0);
    assert_eq!(
        wall_clock_before(New_York, sunday_visit, 24),
        utc(2026, 3, 7, 15, 0)
    );
    // Fall back: Sunday 2026-11-01 10:00 EST (15:00 UTC) -> Saturday 10:00 EDT (14:00 UTC),
    // 25 real hours earlier.
    assert_eq!(
        wall_clock_before(New_York, utc(2026, 11, 1, 15, 0), 24),
        utc(2026, 10, 31, 14, 0)
    );
    // A reminder landing in the gap (02:30 on spring-forward day) moves to 03:00 EDT.
    assert_eq!(
        wall_clock_before(New_York, utc(2026, 3, 9, 6, 30), 24),
        utc(2026, 3, 8, 7, 0)
    );
    assert_eq!(
        wall_clock_before(New_York, DateTime::<Utc>::MIN_UTC, 24),
        DateTime::<Utc>::MIN_UTC
    );
}
