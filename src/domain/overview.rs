//! The overview's periods in the clinic's zone: the window of the last N local days, and calls
//! counted per quarter hour folded into those days.

use super::calls::day_start;
use super::format::local_datetime;
use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;

/// The last `days` local days up to and including today: the first day, and the UTC instants
/// `[from, to)` they span (DST days are 23 or 25 hours long).
pub fn last_days(
    tz: Tz,
    now: DateTime<Utc>,
    days: u32,
) -> (NaiveDate, DateTime<Utc>, DateTime<Utc>) {
    let today = local_datetime(now, tz).date();
    let first = today - Days::new(u64::from(days.saturating_sub(1)));
    let end = today + Days::new(1);
    (first, day_start(tz, first), day_start(tz, end))
}

/// Calls and bookings of one local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    pub date: NaiveDate,
    pub calls: i64,
    pub booked: i64,
}

/// Folds `(bucket start, calls, booked)` counts into one entry per local day from `first` for
/// `days` days (days without calls count zero). A bucket lies wholly in one local day because
/// every zone's offset is a whole number of buckets; buckets outside the days are ignored.
pub fn per_local_day(
    tz: Tz,
    first: NaiveDate,
    days: u32,
    buckets: &[(i64, i64, i64)],
) -> Vec<DayCount> {
    let mut out: Vec<DayCount> = (0..days)
        .map(|i| DayCount {
            date: first + Days::new(u64::from(i)),
            calls: 0,
            booked: 0,
        })
        .collect();
    for &(start, calls, booked) in buckets {
        let Some(at) = DateTime::from_timestamp(start, 0) else {
            continue;
        };
        let date = local_datetime(at, tz).date();
        let Ok(i) = usize::try_from((date - first).num_days()) else {
            continue;
        };
        if let Some(day) = out.get_mut(i) {
            day.calls += calls;
            day.booked += booked;
        }
    }
    out
}

/// Calls and bookings over the last `n` entries of `days`.
pub fn sum_last(days: &[DayCount], n: usize) -> (i64, i64) {
    days.iter()
        .rev()
        .take(n)
        .fold((0, 0), |(c, b), d| (c + d.calls, b + d.booked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn folds_quarter_hours_into_local_days_across_a_clock_change() {
        let tz: Tz = "America/New_York".parse().unwrap();
        // Monday 2026-03-09 10:00 EDT; clocks went forward on Sunday 2026-03-08.
        let now = Utc.with_ymd_and_hms(2026, 3, 9, 14, 0, 0).unwrap();
        let (first, from, to) = last_days(tz, now, 3);
        assert_eq!(first, NaiveDate::from_ymd_opt(2026, 3, 7).unwrap());
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 3, 7, 5, 0, 0).unwrap());
        assert_eq!(to, Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0).unwrap());
        // Sunday is 23 hours long.
        let sunday = Utc
            .with_ymd_and_hms(2026, 3, 8, 5, 0, 0)
            .unwrap()
            .timestamp();
        let buckets = [
            (from.timestamp(), 2, 1),
            // 23:45 EDT on Sunday: still Sunday.
            (sunday + 23 * 3600 - 900, 3, 0),
            // 00:00 EDT Monday.
            (sunday + 23 * 3600, 4, 2),
            // Outside the window.
            (to.timestamp(), 9, 9),
            (from.timestamp() - 900, 9, 9),
        ];
        let days = per_local_day(tz, first, 3, &buckets);
        let counts: Vec<(i64, i64)> = days.iter().map(|d| (d.calls, d.booked)).collect();
        assert_eq!(counts, vec![(2, 1), (3, 0), (4, 2)]);
        assert_eq!(sum_last(&days, 2), (7, 2));
        assert_eq!(sum_last(&days, 7), (9, 3));
    }

    #[test]
    fn half_hour_zones_keep_their_days() {
        let tz: Tz = "Asia/Kolkata".parse().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap();
        let (first, from, _) = last_days(tz, now, 1);
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 6, 14, 18, 30, 0).unwrap());
        let days = per_local_day(
            tz,
            first,
            1,
            &[(from.timestamp() - 900, 1, 0), (from.timestamp(), 5, 1)],
        );
        assert_eq!((days[0].calls, days[0].booked), (5, 1));
    }
}
