//! Opening hours, booking rules and the slot arithmetic built on them: which starts are free on a
//! day, whether one proposed start is bookable, the nearest alternatives, and the one overlap rule.
//!
//! Hours are local wall-clock times in the clinic's zone; durations, buffers and notice are real
//! elapsed minutes. The slot grid is laid on the local clock (so 9:00, 9:30, … stay round across
//! DST); a grid time the clocks skip is not offered, and one they repeat means its first occurrence.

use chrono::{
    DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc,
    Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::format::{local_datetime, spoken_date, spoken_local, spoken_time, weekday_name};
use super::when::{resolve_local, WhenError};

/// One opening period, local clock times with `open < close`. A period cannot run past midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    pub open: NaiveTime,
    pub close: NaiveTime,
}

/// Opening periods per weekday, index 0 = Monday; an empty day is closed, two periods make a lunch break.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyHours {
    pub days: [Vec<Interval>; 7],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRules {
    /// Kept free between two appointments.
    pub buffer_minutes: u32,
    /// Spacing of offered start times from each opening time.
    pub slot_minutes: u32,
    /// How far ahead of now the earliest booking may start.
    pub min_notice_minutes: u32,
    /// How many days past the clinic's today may be booked.
    pub horizon_days: u32,
}

/// Everything that decides bookability apart from existing appointments.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calendar<'a> {
    pub tz: Tz,
    pub hours: &'a WeeklyHours,
    /// Whole local dates the clinic is shut (holidays).
    pub closures: &'a [NaiveDate],
    pub rules: &'a BookingRules,
}

/// Time already taken: a confirmed appointment or a live hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Busy {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Clinic settings that cannot be used; the message is for the staff member editing them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{}'s hours from {} to {} must close after they open.", weekday_name(*.day), spoken_time(.interval.open), spoken_time(.interval.close))]
    InvertedHours { day: Weekday, interval: Interval },
    #[error("{}'s hours {} and {} overlap.", weekday_name(*.day), span(.first), span(.second))]
    OverlappingHours {
        day: Weekday,
        first: Interval,
        second: Interval,
    },
    #[error("Appointment slots must be between 5 and 240 minutes apart (got {0}).")]
    SlotMinutes(u32),
    #[error("The buffer between appointments must be between 0 and 240 minutes (got {0}).")]
    BufferMinutes(u32),
    #[error("Minimum notice must be between 0 and 10080 minutes, which is one week (got {0}).")]
    NoticeMinutes(u32),
    #[error("The booking horizon must be between 1 and 365 days (got {0}).")]
    HorizonDays(u32),
}

/// Why a proposed start cannot be booked, worded for the assistant to say to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotRefusal {
    #[error("I can't book an appointment that lasts {minutes} minutes.")]
    InvalidDuration { minutes: u32 },
    #[error("That time has already passed.")]
    Past,
    /// `earliest` is the first grid slot that satisfies the notice (ignoring existing bookings).
    #[error("{}", too_soon_sentence(*.notice_minutes, .earliest_local))]
    TooSoon {
        notice_minutes: u32,
        earliest: Option<DateTime<Utc>>,
        earliest_local: Option<NaiveDateTime>,
    },
    #[error("I can only book up to {horizon_days} days ahead; the last day I can book is {}.", spoken_date(*.last_day))]
    BeyondHorizon {
        horizon_days: u32,
        last_day: NaiveDate,
    },
    /// `open_hours` lists only the open days, e.g. "Monday to Friday from 9:00 AM to 5:00 PM".
    #[error("{}", closed_sentence(.date, .open_hours))]
    Closed { date: NaiveDate, open_hours: String },
    #[error("That's outside our hours on {}; we're open from {hours} that day.", spoken_date(*.date))]
    OutsideHours { date: NaiveDate, hours: String },
    #[error("A {minutes}-minute appointment at {} on {} would run past {}, when we close.", spoken_time(*.start), spoken_date(*.date), spoken_time(*.close))]
    RunsPastClose {
        minutes: u32,
        date: NaiveDate,
        start: NaiveTime,
        close: NaiveTime,
    },
}

fn too_soon_sentence(notice_minutes: u32, earliest: &Option<NaiveDateTime>) -> String {
    match earliest {
        Some(at) => format!(
            "We need at least {} notice; the earliest I can book is {}.",
            notice_phrase(notice_minutes),
            spoken_local(*at)
        ),
        None => format!(
            "We need at least {} notice; please choose a later time.",
            notice_phrase(notice_minutes)
        ),
    }
}

fn closed_sentence(date: &NaiveDate, open_hours: &str) -> String {
    if open_hours.is_empty() {
        format!("We're closed on {}.", spoken_date(*date))
    } else {
        format!(
            "We're closed on {}. We're open {}.",
            spoken_date(*date),
            open_hours
        )
    }
}

/// "2 hours'", "1 day's", "90 minutes'": the possessive the sentence needs.
fn notice_phrase(minutes: u32) -> String {
    let (n, unit) = if minutes >= 1440 && minutes.is_multiple_of(1440) {
        (minutes / 1440, "day")
    } else if minutes >= 60 && minutes.is_multiple_of(60) {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    if n == 1 {
        format!("1 {unit}'s")
    } else {
        format!("{n} {unit}s'")
    }
}

fn span(interval: &Interval) -> String {
    format!(
        "{} to {}",
        spoken_time(interval.open),
        spoken_time(interval.close)
    )
}

impl Default for WeeklyHours {
    /// Monday to Friday, 9:00 AM to 5:00 PM.
    fn default() -> Self {
        let nine_to_five = match (
            NaiveTime::from_hms_opt(9, 0, 0),
            NaiveTime::from_hms_opt(17, 0, 0),
        ) {
            (Some(open), Some(close)) => vec![Interval { open, close }],
            _ => Vec::new(),
        };
        let open = nine_to_five;
        WeeklyHours {
            days: [
                open.clone(),
                open.clone(),
                open.clone(),
                open.clone(),
                open,
                Vec::new(),
                Vec::new(),
            ],
        }
    }
}

impl WeeklyHours {
    /// The periods for one weekday, in the order they were configured.
    pub fn on(&self, day: Weekday) -> &[Interval] {
        self.days
            .get(day.num_days_from_monday() as usize)
            .map_or(&[], Vec::as_slice)
    }

    /// Refuses periods that close before they open and periods that overlap on the same day;
    /// periods that merely touch (12:00–12:00) are allowed.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for day in WEEK {
            let mut periods = self.on(day).to_vec();
            if let Some(interval) = periods.iter().find(|i| i.open >= i.close) {
                return Err(ConfigError::InvertedHours {
                    day,
                    interval: *interval,
                });
            }
            periods.sort_by_key(|i| (i.open, i.close));
            for pair in periods.windows(2) {
                if let [first, second] = pair {
                    if second.open < first.close {
                        return Err(ConfigError::OverlappingHours {
                            day,
                            first: *first,
                            second: *second,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

impl Default for BookingRules {
    fn default() -> Self {
        BookingRules {
            buffer_minutes: 0,
            slot_minutes: 30,
            min_notice_minutes: 120,
            horizon_days: 60,
        }
    }
}

impl BookingRules {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(5..=240).contains(&self.slot_minutes) {
            return Err(ConfigError::SlotMinutes(self.slot_minutes));
        }
        if self.buffer_minutes > 240 {
            return Err(ConfigError::BufferMinutes(self.buffer_minutes));
        }
        if self.min_notice_minutes > 10_080 {
            return Err(ConfigError::NoticeMinutes(self.min_notice_minutes));
        }
        if !(1..=365).contains(&self.horizon_days) {
            return Err(ConfigError::HorizonDays(self.horizon_days));
        }
        Ok(())
    }
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

// A day is the longest an appointment can be, since a period cannot cross midnight.
const MAX_DURATION_MINUTES: u32 = 24 * 60;
// nearest_free looks this many days either side of the requested day.
const NEAREST_DAYS: u64 = 14;

/// The overlap rule used everywhere: two bookings clash unless `buffer_minutes` separate them.
/// Touching bookings (one ends as the next starts) are fine when the buffer is zero.
pub fn conflicts(a: &Busy, b: &Busy, buffer_minutes: u32) -> bool {
    let buffer = TimeDelta::try_minutes(i64::from(buffer_minutes)).unwrap_or(TimeDelta::MAX);
    // Past the end of representable time nothing can come after, so it counts as a clash.
    let starts_before_end_plus_buffer = |start: DateTime<Utc>, end: DateTime<Utc>| {
        end.checked_add_signed(buffer).is_none_or(|e| start < e)
    };
    starts_before_end_plus_buffer(a.start, b.end) && starts_before_end_plus_buffer(b.start, a.end)
}

/// Bookable starts on the clinic-local `day` for an appointment of `duration_minutes`, ascending.
/// Starts are each period's opening time plus whole slots; the appointment must end by closing
/// time, honour the notice and horizon, and not conflict (with buffer) with anything in `busy`.
pub fn free_starts(
    cal: &Calendar,
    day: NaiveDate,
    duration_minutes: u32,
    busy: &[Busy],
    now: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let Some(duration) = duration_delta(duration_minutes) else {
        return Vec::new();
    };
    let today = today_local(cal.tz, now);
    let within_horizon = last_bookable_day(cal, today).is_none_or(|last| day <= last);
    if day < today || !within_horizon || cal.closures.contains(&day) {
        return Vec::new();
    }
    let Some(earliest) = notice_delta(cal.rules).and_then(|n| now.checked_add_signed(n)) else {
        return Vec::new();
    };
    let buffer = cal.rules.buffer_minutes;
    let mut starts: Vec<DateTime<Utc>> = grid_starts(cal, day)
        .filter_map(|(start, close_at)| {
            let end = start.checked_add_signed(duration)?;
            let candidate = Busy { start, end };
            let fits = start >= earliest && end <= close_at;
            (fits && !busy.iter().any(|b| conflicts(&candidate, b, buffer))).then_some(start)
        })
        .collect();
    starts.sort();
    starts.dedup();
    starts
}

/// Whether `start` is bookable by the clinic's rules, ignoring existing bookings (the store checks
/// those under its lock). Any start inside opening hours that ends by closing time is accepted,
/// on the slot grid or not: staff and callers may agree on 9:10, and the grid is only a way of
/// offering a short list.
pub fn check_start(
    cal: &Calendar,
    start: DateTime<Utc>,
    duration_minutes: u32,
    now: DateTime<Utc>,
) -> Result<(), SlotRefusal> {
    let Some(duration) = duration_delta(duration_minutes) else {
        return Err(SlotRefusal::InvalidDuration {
            minutes: duration_minutes,
        });
    };
    if start < now {
        return Err(SlotRefusal::Past);
    }
    let too_soon = notice_delta(cal.rules)
        .and_then(|n| now.checked_add_signed(n))
        .is_none_or(|earliest| start < earliest);
    if too_soon {
        let earliest = first_bookable(cal, duration_minutes, now);
        return Err(SlotRefusal::TooSoon {
            notice_minutes: cal.rules.min_notice_minutes,
            earliest,
            earliest_local: earliest.map(|at| local_datetime(at, cal.tz)),
        });
    }

    let local = local_datetime(start, cal.tz);
    let day = local.date();
    let today = today_local(cal.tz, now);
    if let Some(last_day) = last_bookable_day(cal, today).filter(|last| day > *last) {
        return Err(SlotRefusal::BeyondHorizon {
            horizon_days: cal.rules.horizon_days,
            last_day,
        });
    }
    let periods = usable_periods(cal.hours.on(day.weekday()));
    if periods.is_empty() || cal.closures.contains(&day) {
        return Err(SlotRefusal::Closed {
            date: day,
            open_hours: open_days_phrase(cal.hours),
        });
    }

    for period in &periods {
        let (Some(open_at), Some(close_at)) = (
            boundary(cal.tz, day, period.open),
            boundary(cal.tz, day, period.close),
        ) else {
            continue;
        };
        if open_at <= start && start < close_at {
            return match start.checked_add_signed(duration) {
                Some(end) if end <= close_at => Ok(()),
                _ => Err(SlotRefusal::RunsPastClose {
                    minutes: duration_minutes,
                    date: day,
                    start: local.time(),
                    close: period.close,
                }),
            };
        }
    }
    Err(SlotRefusal::OutsideHours {
        date: day,
        hours: join_and(periods.iter().map(span).collect()),
    })
}

/// Up to `max` free starts closest to `around`: first by how many days away they are (the day
/// asked for, then one day either side, and so on up to 14 days), then by how far their clock time
/// is from the clock time asked for, then earliest first. A caller who asked for Tuesday at 11 AM
/// hears Tuesday's options first, and on another day hears 11 AM before 9 AM.
pub fn nearest_free(
    cal: &Calendar,
    around: DateTime<Utc>,
    duration_minutes: u32,
    busy: &[Busy],
    now: DateTime<Utc>,
    max: usize,
) -> Vec<DateTime<Utc>> {
    if max == 0 {
        return Vec::new();
    }
    let mut found: Vec<(u64, i64, DateTime<Utc>)> = Vec::new();
    let around_local = local_datetime(around, cal.tz);
    let centre = around_local.date();
    let wanted = i64::from(around_local.time().num_seconds_from_midnight());
    for distance in 0..=NEAREST_DAYS {
        let later = centre.checked_add_days(Days::new(distance));
        let earlier = centre
            .checked_sub_days(Days::new(distance))
            .filter(|_| distance > 0);
        for day in [later, earlier].into_iter().flatten() {
            for start in free_starts(cal, day, duration_minutes, busy, now) {
                // On the day asked for this is the plain distance in time (bar a DST change).
                let clock = local_datetime(start, cal.tz).num_seconds_from_midnight();
                let clock = i64::from(clock);
                found.push((distance, (clock - wanted).abs(), start));
            }
        }
        // Days further out always rank after the ones already found.
        if found.len() >= max {
            break;
        }
    }
    found.sort();
    found
        .into_iter()
        .take(max)
        .map(|(_, _, start)| start)
        .collect()
}

/// "Monday to Friday 9:00 AM to 5:00 PM; Saturday 10:00 AM to 2:00 PM; closed Sunday".
pub fn week_hours_sentence(hours: &WeeklyHours) -> String {
    let mut parts: Vec<String> = hour_groups(hours)
        .into_iter()
        .map(|(days, periods)| format!("{} {}", days_label(&days), periods_phrase(&periods)))
        .collect();
    let closed: Vec<Weekday> = WEEK
        .into_iter()
        .filter(|d| usable_periods(hours.on(*d)).is_empty())
        .collect();
    if !closed.is_empty() {
        parts.push(format!("closed {}", days_label(&closed)));
    }
    parts.join("; ")
}

/// Only the open days, with "from": "Monday to Friday from 9:00 AM to 5:00 PM". Empty if never open.
fn open_days_phrase(hours: &WeeklyHours) -> String {
    hour_groups(hours)
        .into_iter()
        .map(|(days, periods)| format!("{} from {}", days_label(&days), periods_phrase(&periods)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Open weekdays grouped by identical hours, in order of each group's first day.
fn hour_groups(hours: &WeeklyHours) -> Vec<(Vec<Weekday>, Vec<Interval>)> {
    let mut groups: Vec<(Vec<Weekday>, Vec<Interval>)> = Vec::new();
    for day in WEEK {
        let periods = usable_periods(hours.on(day));
        if periods.is_empty() {
            continue;
        }
        match groups.iter_mut().find(|(_, p)| *p == periods) {
            Some((days, _)) => days.push(day),
            None => groups.push((vec![day], periods)),
        }
    }
    groups
}

fn periods_phrase(periods: &[Interval]) -> String {
    join_and(periods.iter().map(span).collect())
}

/// "every day", "Monday to Friday" for a run of three or more, otherwise "Monday, Wednesday and Friday".
fn days_label(days: &[Weekday]) -> String {
    // Days arrive in Monday-to-Sunday order, so a run never wraps from Sunday to Monday.
    let consecutive = days
        .windows(2)
        .all(|w| matches!(w, [a, b] if a.succ() == *b));
    match days {
        _ if days.len() == 7 => "every day".to_string(),
        [first, .., last] if consecutive && days.len() >= 3 => {
            format!("{} to {}", weekday_name(*first), weekday_name(*last))
        }
        _ => join_and(days.iter().map(|d| weekday_name(*d).to_string()).collect()),
    }
}

fn join_and(mut items: Vec<String>) -> String {
    match items.len() {
        0 => String::new(),
        1 => items.remove(0),
        _ => {
            let last = items.pop().unwrap_or_default();
            format!("{} and {}", items.join(", "), last)
        }
    }
}

/// Periods that can hold an appointment, sorted; inverted ones are ignored rather than trusted.
fn usable_periods(periods: &[Interval]) -> Vec<Interval> {
    let mut usable: Vec<Interval> = periods
        .iter()
        .copied()
        .filter(|i| i.open < i.close)
        .collect();
    usable.sort_by_key(|i| (i.open, i.close));
    usable.dedup();
    usable
}

/// Every grid start on `day` as (instant, closing instant of its period).
fn grid_starts(
    cal: &Calendar,
    day: NaiveDate,
) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> {
    let step =
        usize::try_from(cal.rules.slot_minutes.max(1).saturating_mul(60)).unwrap_or(usize::MAX);
    let tz = cal.tz;
    usable_periods(cal.hours.on(day.weekday()))
        .into_iter()
        .filter_map(move |period| Some((period, boundary(tz, day, period.close)?)))
        .flat_map(move |(period, close_at)| {
            let (from, to) = (
                period.open.num_seconds_from_midnight(),
                period.close.num_seconds_from_midnight(),
            );
            (from..to).step_by(step).filter_map(move |secs| {
                let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)?;
                // A grid time inside the spring-forward gap never happens on the wall clock.
                let start = resolve_local(tz, day.and_time(time)).ok()?;
                Some((start, close_at))
            })
        })
}

/// The instant of an opening or closing time; one that falls in a DST gap happens at the end of the
/// gap (a 2:30 AM closing on spring-forward night is when the clock shows 3:00 AM).
fn boundary(tz: Tz, day: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    match resolve_local(tz, day.and_time(time)) {
        Ok(at) => Some(at),
        Err(WhenError::NonexistentLocalTime { next_valid_at, .. }) => Some(next_valid_at),
        Err(_) => None,
    }
}

fn first_bookable(
    cal: &Calendar,
    duration_minutes: u32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let today = today_local(cal.tz, now);
    let days = u64::from(cal.rules.horizon_days.min(366));
    (0..=days)
        .filter_map(|ahead| today.checked_add_days(Days::new(ahead)))
        .find_map(|day| {
            free_starts(cal, day, duration_minutes, &[], now)
                .first()
                .copied()
        })
}

fn today_local(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    local_datetime(now, tz).date()
}

/// `None` only if the horizon runs off the calendar, which then imposes no limit.
fn last_bookable_day(cal: &Calendar, today: NaiveDate) -> Option<NaiveDate> {
    today.checked_add_days(Days::new(u64::from(cal.rules.horizon_days)))
}

fn notice_delta(rules: &BookingRules) -> Option<TimeDelta> {
    TimeDelta::try_minutes(i64::from(rules.min_notice_minutes))
}

fn duration_delta(minutes: u32) -> Option<TimeDelta> {
    if minutes == 0 || minutes > MAX_DURATION_MINUTES {
        return None;
    }
    TimeDelta::try_minutes(i64::from(minutes))
}

#[cfg(test)]
mod tests;
