//! The one formatter for every date, time, amount of money and duration a person reads or hears.
//!
//! Instants are stored in UTC; everything here renders them in the clinic's IANA zone so the voice
//! assistant, SMS texts and the dashboard all say the same thing the same way.

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
    Timelike, Utc, Weekday,
};
use chrono_tz::Tz;

/// "Thursday, August 20 at 3:00 PM" in the clinic's zone.
pub fn spoken_datetime(at: DateTime<Utc>, tz: Tz) -> String {
    spoken_local(local_datetime(at, tz))
}

/// "Thursday, August 20 at 3:00 PM EDT": the spoken form labelled with the clinic's zone, for
/// what is read away from the clinic (an e-mail may be opened anywhere).
pub fn zoned_datetime(at: DateTime<Utc>, tz: Tz) -> String {
    let zone = tz.offset_from_utc_datetime(&at.naive_utc());
    format!("{} {zone}", spoken_datetime(at, tz))
}

/// The clinic's wall-clock reading of `at`. chrono panics converting instants within a day of the
/// end of its calendar; this stays total by reading those few in UTC instead.
pub fn local_datetime(at: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    local_with_offset(at, tz).0
}

fn local_with_offset(at: DateTime<Utc>, tz: Tz) -> (NaiveDateTime, FixedOffset) {
    let utc = at.naive_utc();
    let offset = tz.offset_from_utc_datetime(&utc).fix();
    match utc.checked_add_offset(offset) {
        Some(local) => (local, offset),
        None => (utc, Utc.fix()),
    }
}

/// "Thursday, August 20 at 3:00 PM" for a wall-clock time that is already local to the clinic.
pub fn spoken_local(local: NaiveDateTime) -> String {
    format!(
        "{} at {}",
        spoken_date(local.date()),
        spoken_time(local.time())
    )
}

/// "Thursday, August 20". The year is left out because callers book weeks, not years, ahead.
pub fn spoken_date(date: NaiveDate) -> String {
    format!(
        "{}, {} {}",
        weekday_name(date.weekday()),
        month_name(date.month()),
        date.day()
    )
}

/// "3:00 PM", "12:00 PM" for noon, "12:00 AM" for midnight; seconds are never spoken.
pub fn spoken_time(time: NaiveTime) -> String {
    let (is_pm, hour12) = time.hour12();
    let meridiem = if is_pm { "PM" } else { "AM" };
    format!("{}:{:02} {}", hour12, time.minute(), meridiem)
}

/// "Aug 20, 2025 3:00 PM" for tables, where the year matters and space is short.
pub fn short_datetime(at: DateTime<Utc>, tz: Tz) -> String {
    let local = local_datetime(at, tz);
    let month = month_name(local.month());
    format!(
        "{} {}, {} {}",
        month.get(..3).unwrap_or(month),
        local.day(),
        local.year(),
        spoken_time(local.time())
    )
}

/// "2025-08-20T15:00:00-04:00": the instant with the clinic's offset, for machines that want local time.
pub fn local_iso(at: DateTime<Utc>, tz: Tz) -> String {
    let (local, offset) = local_with_offset(at, tz);
    format!("{}{}", local.format("%Y-%m-%dT%H:%M:%S"), offset)
}

/// "15:00" in the clinic's zone, for compact lists and form fields.
pub fn hhmm(at: DateTime<Utc>, tz: Tz) -> String {
    let local = local_datetime(at, tz);
    format!("{:02}:{:02}", local.hour(), local.minute())
}

/// "$400", "$12.50", "$1,234,567.05", "-$5": whole dollars drop the cents so prices read naturally.
pub fn format_cents(cents: i64) -> String {
    // unsigned_abs so i64::MIN cannot overflow.
    let magnitude = cents.unsigned_abs();
    let dollars = group_thousands(magnitude / 100);
    let rest = magnitude % 100;
    let sign = if cents < 0 { "-" } else { "" };
    if rest == 0 {
        format!("{sign}${dollars}")
    } else {
        format!("{sign}${dollars}.{rest:02}")
    }
}

/// "45s", "3m 05s", "1h 02m": call lengths on the dashboard; seconds stop mattering past an hour.
pub fn format_duration_secs(secs: u64) -> String {
    let hours = secs / 3600;
    let minutes = (secs % 3600) / 60;
    let seconds = secs % 60;
    if hours > 0 {
        format!("{hours}h {minutes:02}m")
    } else if minutes > 0 {
        format!("{minutes}m {seconds:02}s")
    } else {
        format!("{seconds}s")
    }
}

/// English weekday name; written out here so output never depends on a locale.
pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// English month name for a 1-based month; anything else yields an empty string rather than a panic.
pub fn month_name(month: u32) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    month
        .checked_sub(1)
        .and_then(|i| NAMES.get(i as usize))
        .copied()
        .unwrap_or("")
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap_or_default()
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
    }

    #[test]
    fn spoken_datetime_uses_clinic_zone() {
        let at = utc(2025, 8, 20, 19, 0);
        assert_eq!(
            spoken_datetime(at, chrono_tz::America::New_York),
            "Wednesday, August 20 at 3:00 PM"
        );
        assert_eq!(
            spoken_datetime(at, chrono_tz::Europe::London),
            "Wednesday, August 20 at 8:00 PM"
        );
        // Crossing midnight changes the spoken day too.
        assert_eq!(
            spoken_datetime(utc(2025, 8, 21, 2, 5), chrono_tz::America::Los_Angeles),
            "Wednesday, August 20 at 7:05 PM"
        );
    }

    #[test]
    fn spoken_date_has_no_leading_zero() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap_or_default();
        assert_eq!(spoken_date(d), "Sunday, March 8");
        let d = NaiveDate::from_ymd_opt(2020, 8, 20).unwrap_or_default();
        assert_eq!(spoken_date(d), "Thursday, August 20");
    }

    #[test]
    fn spoken_time_twelve_hour_clock() {
        assert_eq!(spoken_time(time(15, 0)), "3:00 PM");
        assert_eq!(spoken_time(time(9, 5)), "9:05 AM");
        assert_eq!(spoken_time(time(12, 0)), "12:00 PM");
        assert_eq!(spoken_time(time(0, 0)), "12:00 AM");
        assert_eq!(spoken_time(time(0, 30)), "12:30 AM");
        assert_eq!(spoken_time(time(23, 59)), "11:59 PM");
        let with_secs = NaiveTime::from_hms_opt(10, 15, 42).unwrap_or_default();
        assert_eq!(spoken_time(with_secs), "10:15 AM");
    }

    #[test]
    fn short_and_machine_forms() {
        let at = utc(2025, 8, 20, 19, 0);
        let ny = chrono_tz::America::New_York;
        assert_eq!(short_datetime(at, ny), "Aug 20, 2025 3:00 PM");
        assert_eq!(local_iso(at, ny), "2025-08-20T15:00:00-04:00");
        assert_eq!(hhmm(at, ny), "15:00");
        assert_eq!(local_iso(at, chrono_tz::UTC), "2025-08-20T19:00:00+00:00");
        assert_eq!(
            local_iso(at, chrono_tz::Asia::Kolkata),
            "2025-08-21T00:30:00+05:30"
        );
        assert_eq!(hhmm(utc(2025, 1, 1, 5, 7), chrono_tz::UTC), "05:07");
        assert_eq!(
            short_datetime(utc(2025, 5, 1, 12, 0), chrono_tz::UTC),
            "May 1, 2025 12:00 PM"
        );
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let ny = chrono_tz::America::New_York;
        let tokyo = chrono_tz::Asia::Tokyo;
        for at in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
            for tz in [ny, tokyo] {
                assert!(!spoken_datetime(at, tz).is_empty());
                assert!(!short_datetime(at, tz).is_empty());
                assert!(!local_iso(at, tz).is_empty());
                assert!(!hhmm(at, tz).is_empty());
            }
        }
        assert_eq!(
            local_datetime(utc(2025, 8, 20, 19, 0), ny),
            NaiveDate::from_ymd_opt(2025, 8, 20)
                .unwrap_or_default()
                .and_time(time(15, 0))
        );
    }

    #[test]
    fn cents() {
        assert_eq!(format_cents(40_000), "$400");
        assert_eq!(format_cents(1_250), "$12.50");
        assert_eq!(format_cents(800_000), "$8,000");
        assert_eq!(format_cents(123_456_705), "$1,234,567.05");
        assert_eq!(format_cents(-500), "-$5");
        assert_eq!(format_cents(-1), "-$0.01");
        assert_eq!(format_cents(0), "$0");
        assert_eq!(format_cents(99_999), "$999.99");
        assert_eq!(format_cents(100_000), "$1,000");
        assert_eq!(format_cents(i64::MIN), "-$92,233,720,368,547,758.08");
        assert_eq!(format_cents(i64::MAX), "$92,233,720,368,547,758.07");
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration_secs(0), "0s");
        assert_eq!(format_duration_secs(45), "45s");
        assert_eq!(format_duration_secs(231), "3m 51s");
        assert_eq!(format_duration_secs(65), "1m 05s");
        assert_eq!(format_duration_secs(3600), "1h 00m");
        assert_eq!(format_duration_secs(3720), "1h 02m");
        assert_eq!(format_duration_secs(3759), "1h 02m");
        assert_eq!(format_duration_secs(90_000), "25h 00m");
        assert!(!format_duration_secs(u64::MAX).is_empty());
    }

    #[test]
    fn names() {
        assert_eq!(month_name(1), "January");
        assert_eq!(month_name(12), "December");
        assert_eq!(month_name(0), "");
        assert_eq!(month_name(13), "");
        assert_eq!(weekday_name(Weekday::Sun), "Sunday");
    }
}
