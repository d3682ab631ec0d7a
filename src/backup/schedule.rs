//! When a scheduled backup is due: daily at a wall-clock time in a zone. Pure rules, no I/O.
//!
//! The rule: a backup is due when no backup exists, or the newest one is older than the most
//! recent scheduled instant. So an appliance that was off at 03:30 catches up when it starts,
//! a manual backup taken after 03:30 counts for the day, and nothing depends on how often the
//! job happens to run.

use crate::domain::when::{self, WhenError};
use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

/// `VOXANNE_BACKUP_TIME`: a time of day and, optionally, the zone it is read in (else the
/// appliance's first clinic's zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupTime {
    pub at: NaiveTime,
    pub zone: Option<Tz>,
}

impl BackupTime {
    /// Reads "03:30", "3:30am" or "03:30 Europe/London"; "off" means no scheduled backups.
    pub fn parse(value: &str) -> Result<Option<BackupTime>, String> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let (time, zone) = match value.rsplit_once(' ') {
            Some((time, zone)) if zone.contains('/') || zone.eq_ignore_ascii_case("UTC") => {
                let tz = zone.parse::<Tz>().map_err(|_| {
                    format!(
                        "“{zone}” is not a known time zone; use an IANA name like Europe/London"
                    )
                })?;
                (time, Some(tz))
            }
            _ => (value, None),
        };
        let at = when::parse_time(time).map_err(|_| {
            format!("“{value}” is not a time like 03:30 (optionally followed by a zone such as Europe/London), or off")
        })?;
        Ok(Some(BackupTime { at, zone }))
    }

    /// "03:30" or "03:30 Europe/London", as `parse` reads it back.
    pub fn describe(&self) -> String {
        match self.zone {
            Some(tz) => format!("{} {}", self.at.format("%H:%M"), tz.name()),
            None => self.at.format("%H:%M").to_string(),
        }
    }
}

/// The instant `time` names on `day` in `tz`; a time the clocks skip (spring forward) happens
/// when the clocks show the first time after the jump, a repeated one the first time round.
fn instant_on(tz: Tz, day: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    match when::resolve_local(tz, day.and_time(time)) {
        Ok(at) => Some(at),
        Err(WhenError::NonexistentLocalTime { next_valid_at, .. }) => Some(next_valid_at),
        Err(_) => None,
    }
}

/// The most recent scheduled instant at or before `now`.
pub fn latest_slot(now: DateTime<Utc>, time: NaiveTime, tz: Tz) -> Option<DateTime<Utc>> {
    let today = now.with_timezone(&tz).date_naive();
    // Today's slot, else yesterday's; two days back covers zones that skipped a whole day.
    (0..=2)
        .filter_map(|back| today.checked_sub_days(Days::new(back)))
        .filter_map(|day| instant_on(tz, day, time))
        .find(|at| *at <= now)
}

/// The first scheduled instant after `now` (for "next backup at …").
pub fn next_slot(now: DateTime<Utc>, time: NaiveTime, tz: Tz) -> Option<DateTime<Utc>> {
    let today = now.with_timezone(&tz).date_naive();
    (0..=2)
        .filter_map(|ahead| today.checked_add_days(Days::new(ahead)))
        .filter_map(|day| instant_on(tz, day, time))
        .find(|at| *at > now)
}

/// Whether a scheduled backup is due at `now`, given when the newest existing backup was taken.
pub fn is_due(now: DateTime<Utc>, newest: Option<DateTime<Utc>>, time: NaiveTime, tz: Tz) -> bool {
    match (newest, latest_slot(now, time, tz)) {
        (None, _) => true,
        (Some(newest), Some(slot)) => newest < slot,
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    const NY: Tz = chrono_tz::America::New_York;

    #[test]
    fn parses_times_zones_and_off() {
        assert_eq!(
            BackupTime::parse("03:30").unwrap(),
            Some(BackupTime {
                at: t(3, 30),
                zone: None
            })
        );
        let with_zone = BackupTime::parse("3:30am Europe/London").unwrap().unwrap();
        assert_eq!(with_zone.zone, Some(chrono_tz::Europe::London));
        assert_eq!(with_zone.describe(), "03:30 Europe/London");
        assert_eq!(BackupTime::parse("OFF").unwrap(), None);
        assert!(BackupTime::parse("25:00").unwrap_err().contains("03:30"));
        assert!(BackupTime::parse("03:30 Mars/Base")
            .unwrap_err()
            .contains("Mars/Base"));
        assert!(BackupTime::parse("soon").is_err());
    }

    #[test]
    fn due_once_a_day_after_the_local_time() {
        // 03:30 in New York (EDT, UTC-4) is 07:30 UTC.
        let at = t(3, 30);
        assert!(
            is_due(utc(2026, 6, 15, 14, 0), None, at, NY),
            "no backup yet"
        );
        let taken = utc(2026, 6, 15, 14, 0);
        assert!(!is_due(utc(2026, 6, 16, 7, 29), Some(taken), at, NY));
        assert!(is_due(utc(2026, 6, 16, 7, 30), Some(taken), at, NY));
        let next = utc(2026, 6, 16, 7, 30);
        assert!(!is_due(utc(2026, 6, 17, 7, 0), Some(next), at, NY));
        assert_eq!(
            next_slot(utc(2026, 6, 16, 7, 30), at, NY),
            Some(utc(2026, 6, 17, 7, 30))
        );
    }

    #[test]
    fn catches_up_after_downtime() {
        let taken = utc(2026, 6, 10, 7, 30);
        assert!(is_due(utc(2026, 6, 15, 2, 0), Some(taken), t(3, 30), NY));
    }

    #[test]
    fn dst_gap_and_repeat() {
        // 2026-03-08: New York skips 02:00–03:00. A 02:30 backup happens at 03:00 EDT (07:00 UTC).
        assert_eq!(
            latest_slot(utc(2026, 3, 8, 12, 0), t(2, 30), NY),
            Some(utc(2026, 3, 8, 7, 0))
        );
        // 2026-11-01: 01:30 happens twice; the first (EDT, 05:30 UTC) is the slot.
        assert_eq!(
            latest_slot(utc(2026, 11, 1, 12, 0), t(1, 30), NY),
            Some(utc(2026, 11, 1, 5, 30))
        );
        let first = utc(2026, 11, 1, 5, 30);
        assert!(!is_due(utc(2026, 11, 1, 6, 45), Some(first), t(1, 30), NY));
    }
}
