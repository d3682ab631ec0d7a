//! Free times, the one engine the phone and the desk both ask: each practitioner's calendar
//! under the clinic's (see `domain::practitioner::Working`), their live bookings, and the
//! rules of the door the booking comes through.

use crate::domain::practitioner::Working;
use crate::domain::schedule::{self, BookingRules, Busy};
use crate::error::AppResult;
use crate::store::{appointments, OrgScope};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rusqlite::Connection;
use std::collections::BTreeMap;

/// Each practitioner's live bookings overlapping `[from, to)`.
pub fn busy(
    conn: &Connection,
    scope: &OrgScope,
    practitioners: &[i64],
    from: i64,
    to: i64,
    now: i64,
) -> AppResult<Vec<(i64, Vec<Busy>)>> {
    practitioners
        .iter()
        .map(|&p| {
            Ok((
                p,
                appointments::busy_between(conn, scope, p, from, to, now)?,
            ))
        })
        .collect()
}

/// The practitioners' calendars as one door sees them.
#[derive(Clone, Copy)]
pub struct Calendars<'a> {
    pub tz: Tz,
    pub rules: &'a BookingRules,
    pub working: &'a [Working],
}

impl Calendars<'_> {
    fn of(&self, id: i64) -> Option<schedule::Calendar<'_>> {
        self.working
            .iter()
            .find(|w| w.id == id)
            .map(|w| w.calendar(self.tz, self.rules))
    }

    /// Free starts on `day`, each with the practitioners free then (in `busy`'s order).
    pub fn free_on(
        &self,
        busy: &[(i64, Vec<Busy>)],
        day: NaiveDate,
        duration: u32,
        now: DateTime<Utc>,
    ) -> BTreeMap<DateTime<Utc>, Vec<i64>> {
        let mut all: BTreeMap<DateTime<Utc>, Vec<i64>> = BTreeMap::new();
        for (id, b) in busy {
            let Some(cal) = self.of(*id) else { continue };
            for t in schedule::free_starts(&cal, day, duration, b, now) {
                all.entry(t).or_default().push(*id);
            }
        }
        all
    }

    /// Up to `max` free starts nearest to `around` with any of the practitioners in `busy`,
    /// each with the first of them free then, in time order.
    pub fn nearest(
        &self,
        busy: &[(i64, Vec<Busy>)],
        around: DateTime<Utc>,
        duration: u32,
        now: DateTime<Utc>,
        max: usize,
    ) -> Vec<(DateTime<Utc>, i64)> {
        let mut all: BTreeMap<DateTime<Utc>, i64> = BTreeMap::new();
        for (id, b) in busy {
            let Some(cal) = self.of(*id) else { continue };
            for t in schedule::nearest_free(&cal, around, duration, b, now, max) {
                all.entry(t).or_insert(*id);
            }
        }
        let mut v: Vec<(DateTime<Utc>, i64)> = all.into_iter().collect();
        v.sort_by_key(|(t, _)| ((*t - around).num_seconds().abs(), *t));
        v.truncate(max);
        v.sort();
        v
    }
}
