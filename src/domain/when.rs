//! Understanding what a caller or the voice assistant said about dates and times, and turning a
//! clinic-local wall-clock time into a UTC instant (including the DST gap and the fall-back repeat).
//!
//! Every error reads as one sentence the assistant can say aloud, so a misheard date turns into a
//! question for the caller rather than a failed booking.

use chrono::{
    DateTime, Datelike, Days, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    Offset, TimeDelta, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;

use super::format::{
    local_datetime, month_name, spoken_date, spoken_local, spoken_time, weekday_name,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    #[error("I couldn't understand the date “{input}”; please give a date like November 24 or 2025-11-24.")]
    BadDate { input: String },
    #[error("“{input}” isn't a real date; please give a date like November 24 or 2025-11-24.")]
    NoSuchDate { input: String },
    #[error("{}", mismatch_sentence(.date, .said))]
    WeekdayMismatch { date: NaiveDate, said: Weekday },
    #[error("I couldn't understand the time “{input}”; please give a time like 3:00 PM or 15:00.")]
    BadTime { input: String },
    #[error(
        "I couldn't understand “{input}”; please give a date and time like November 24 at 3:00 PM."
    )]
    BadDateTime { input: String },
    /// The clocks jump over `local` (spring forward). `next_valid` is the first wall-clock time after
    /// the jump and `next_valid_at` its instant, so the assistant can offer it instead.
    #[error("{}", gap_sentence(.local, .next_valid))]
    NonexistentLocalTime {
        local: NaiveDateTime,
        next_valid: NaiveDateTime,
        next_valid_at: DateTime<Utc>,
    },
    #[error("I also need the date; please give a date like November 24.")]
    MissingDate,
    #[error("I also need the time; please give a time like 3:00 PM.")]
    MissingTime,
    #[error("I need a date and time for the appointment; please give something like November 24 at 3:00 PM.")]
    MissingStart,
    #[error(
        "That date is too far away for me to work with; please give a date in the next few months."
    )]
    OutOfRange,
}

fn mismatch_sentence(date: &NaiveDate, said: &Weekday) -> String {
    format!(
        "{} {} is a {}, not a {}; please tell me which date you meant.",
        month_name(date.month()),
        date.day(),
        weekday_name(date.weekday()),
        weekday_name(*said)
    )
}

fn gap_sentence(local: &NaiveDateTime, next_valid: &NaiveDateTime) -> String {
    let next = if next_valid.date() == local.date() {
        spoken_time(next_valid.time())
    } else {
        spoken_local(*next_valid)
    };
    format!(
        "{} doesn't exist on {} because the clocks spring forward; the next valid time is {}.",
        spoken_time(local.time()),
        spoken_date(local.date()),
        next
    )
}

// Long enough to recognise, short enough to read aloud.
const ECHO_MAX: usize = 40;

fn echo(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() <= ECHO_MAX {
        s.to_string()
    } else {
        let mut cut: String = s.chars().take(ECHO_MAX).collect();
        cut.push('…');
        cut
    }
}

/// Reads a date relative to `today` (the clinic's local date).
///
/// A bare or "this" weekday means the next one on or after today ("monday" said on a Monday is
/// today), while "next monday" is strictly after today, matching how people book: "this Friday"
/// and "Friday" name the coming one. A date without a year is the next occurrence on or after
/// today. Numeric dates are US order (11/24). A leading weekday ("Monday, November 24") must agree
/// with the date, because a disagreement means someone misheard.
pub fn parse_date(s: &str, today: NaiveDate) -> Result<NaiveDate, WhenError> {
    let bad = || WhenError::BadDate { input: echo(s) };
    let cleaned: String = s
        .to_lowercase()
        .chars()
        .map(|c| if c == ',' || c == '.' { ' ' } else { c })
        .collect();
    let mut words: Vec<&str> = cleaned
        .split_whitespace()
        .filter(|w| !matches!(*w, "on" | "the" | "of" | "this"))
        .collect();
    if words.is_empty() {
        return Err(bad());
    }

    let next = words.first() == Some(&"next");
    if next {
        words.remove(0);
    }
    if let [only] = words.as_slice() {
        if let Some(day) = weekday_from(only) {
            return weekday_on_or_after(today, day, next);
        }
    }
    if next {
        return Err(bad());
    }

    let said = match words.as_slice() {
        [first, _, ..] => weekday_from(first),
        _ => None,
    };
    if said.is_some() {
        words.remove(0);
    }

    let date = match words.as_slice() {
        ["today"] => Ok(today),
        ["tomorrow"] => today
            .checked_add_days(Days::new(1))
            .ok_or(WhenError::OutOfRange),
        ["day", "after", "tomorrow"] => today
            .checked_add_days(Days::new(2))
            .ok_or(WhenError::OutOfRange),
        [one] if one.contains('-') => match iso_ymd(one) {
            Some((y, m, d)) => exact(y, m, d, s),
            None => Err(bad()),
        },
        [one] if one.contains('/') => slash_date(one, today, s).unwrap_or_else(|| Err(bad())),
        // "the 24th": the next 24th of a month; only with the ordinal so a stray "3" is not a date.
        [one] if one.ends_with(char::is_alphabetic) => match day_from(one) {
            Some(d) => next_day_of_month(d, today, s),
            None => Err(bad()),
        },
        [a, b] => match (month_from(a), day_from(b), day_from(a), month_from(b)) {
            (Some(m), Some(d), _, _) | (_, _, Some(d), Some(m)) => next_occurrence(m, d, today, s),
            _ => Err(bad()),
        },
        [a, b, y] => match (
            month_from(a),
            day_from(b),
            day_from(a),
            month_from(b),
            year_from(y),
        ) {
            (Some(m), Some(d), _, _, Some(y)) | (_, _, Some(d), Some(m), Some(y)) => {
                exact(y, m, d, s)
            }
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }?;

    match said {
        Some(said) if said != date.weekday() => Err(WhenError::WeekdayMismatch { date, said }),
        _ => Ok(date),
    }
}

/// Reads a time of day: "15:00", "3pm", "3:00 p.m.", "noon", "15:00:00". A bare number ("3") is
/// refused because morning versus afternoon is exactly what must not be guessed for a booking.
pub fn parse_time(s: &str) -> Result<NaiveTime, WhenError> {
    let bad = || WhenError::BadTime { input: echo(s) };
    let mut t: String = s.to_lowercase().split_whitespace().collect();
    for (from, to) in [("a.m.", "am"), ("p.m.", "pm"), ("a.m", "am"), ("p.m", "pm")] {
        t = t.replace(from, to);
    }
    let t = t.trim_end_matches('.');
    match t {
        "noon" | "midday" | "12noon" | "12midday" => {
            return NaiveTime::from_hms_opt(12, 0, 0).ok_or_else(bad)
        }
        "midnight" | "12midnight" => return NaiveTime::from_hms_opt(0, 0, 0).ok_or_else(bad),
        _ => {}
    }
    let (body, pm) = match (t.strip_suffix("am"), t.strip_suffix("pm")) {
        (Some(body), _) => (body, Some(false)),
        (_, Some(body)) => (body, Some(true)),
        _ => (t, None),
    };
    // "3.30pm" is a common British spelling of 3:30 PM.
    let body = body.replace('.', ":");
    let parts: Vec<&str> = body.split(':').collect();
    let (hour, minute, second) = match parts.as_slice() {
        [h] if pm.is_some() && (1..=2).contains(&h.len()) => (number(h), Some(0), Some(0)),
        [hm] if (3..=4).contains(&hm.len()) && hm.bytes().all(|b| b.is_ascii_digit()) => {
            let (h, m) = hm.split_at(hm.len() - 2);
            (number(h), two_digits(m), Some(0))
        }
        [h, m] if (1..=2).contains(&h.len()) => (number(h), two_digits(m), Some(0)),
        [h, m, sec] if (1..=2).contains(&h.len()) => (number(h), two_digits(m), two_digits(sec)),
        _ => return Err(bad()),
    };
    let (Some(hour), Some(minute), Some(second)) = (hour, minute, second) else {
        return Err(bad());
    };
    let hour = match pm {
        None if hour <= 23 => hour,
        Some(is_pm) if (1..=12).contains(&hour) => (hour % 12) + if is_pm { 12 } else { 0 },
        _ => return Err(bad()),
    };
    NaiveTime::from_hms_opt(hour, minute, second).ok_or_else(bad)
}

/// The instant a clinic-local wall-clock time names.
///
/// When the clocks fall back, the repeated hour happens twice; the earlier instant is chosen
/// because a person saying "1:30" on that night means the first 1:30 they will live through, and
/// booking the earlier one never makes a patient late.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, WhenError> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => Ok(at.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Ok(a.with_timezone(&Utc).min(b.with_timezone(&Utc))),
        LocalResult::None => {
            first_valid_after(tz, local).map_or(Err(WhenError::OutOfRange), |(next_valid, at)| {
                Err(WhenError::NonexistentLocalTime {
                    local,
                    next_valid,
                    next_valid_at: at,
                })
            })
        }
    }
}

/// The instant `hours` before `at` on the clinic's wall clock: a reminder 24 hours ahead of a
/// 10:00 visit goes out at 10:00 the day before, also across a DST change (23 or 25 real hours
/// then). A wall time in a gap moves to the first valid minute after it; a repeated one takes
/// the earlier instant.
pub fn wall_clock_before(tz: Tz, at: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
    let back = TimeDelta::hours(i64::from(hours));
    let offset = at.with_timezone(&tz).offset().fix();
    let Some(local) = at
        .naive_utc()
        .checked_add_offset(offset)
        .and_then(|l| l.checked_sub_signed(back))
    else {
        return at;
    };
    match resolve_local(tz, local) {
        Ok(t) => t,
        Err(WhenError::NonexistentLocalTime { next_valid_at, .. }) => next_valid_at,
        Err(_) => at - back,
    }
}

/// Gaps start on a whole minute and last at most a day (Samoa skipped one in 2011), so walking whole
/// minutes for up to two days always lands on the first wall-clock time after the jump.
fn first_valid_after(tz: Tz, local: NaiveDateTime) -> Option<(NaiveDateTime, DateTime<Utc>)> {
    let minute_start = local.with_second(0)?.with_nanosecond(0)?;
    (1..=2 * 24 * 60).find_map(|m| {
        let candidate = minute_start.checked_add_signed(TimeDelta::try_minutes(m)?)?;
        let at = tz.from_local_datetime(&candidate).earliest()?;
        Some((candidate, at.with_timezone(&Utc)))
    })
}

/// Works out when an appointment starts, from either `start` (an ISO date-time, or free text such
/// as "November 24 at 3pm") or separate `date` and `time`; `start` wins when both are given. An ISO value with an offset or "Z" is
/// taken as that exact instant; anything else is wall-clock time in the clinic's zone `tz`.
/// Relative words ("tomorrow", "monday") are read against the clinic's local date at `now`.
pub fn parse_start(
    start: Option<&str>,
    date: Option<&str>,
    time: Option<&str>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, WhenError> {
    let today = local_datetime(now, tz).date();
    let from_parts = |date: &str, time: &str| {
        let date = parse_date(date, today)?;
        let time = parse_time(time)?;
        resolve_local(tz, date.and_time(time))
    };
    match (given(start), given(date), given(time)) {
        // Assistants sometimes fill every field; a good date and time rescue a garbled `start`,
        // but the caller hears about `start`, the field that was meant to be authoritative.
        (Some(text), Some(date), Some(time)) => {
            start_text(text, tz, today).or_else(|e| from_parts(date, time).map_err(|_| e))
        }
        (Some(text), _, _) | (None, Some(text), None) | (None, None, Some(text)) => {
            start_text(text, tz, today)
        }
        (None, Some(date), Some(time)) => from_parts(date, time),
        (None, None, None) => Err(WhenError::MissingStart),
    }
}

/// Blank strings count as missing: assistants often send "" for a field they have no value for.
fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

fn start_text(text: &str, tz: Tz, today: NaiveDate) -> Result<DateTime<Utc>, WhenError> {
    if let Some(result) = iso_datetime(text, tz) {
        return result;
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut date_error = None;
    let mut time_error = None;
    for i in 1..words.len() {
        let (left, right) = words.split_at(i);
        let left = join_without_at(left);
        let right = join_without_at(right);
        for (date_part, time_part) in [(&left, &right), (&right, &left)] {
            match (parse_date(date_part, today), parse_time(time_part)) {
                (Ok(d), Ok(t)) => return resolve_local(tz, d.and_time(t)),
                (Err(e), Ok(_)) => {
                    date_error.get_or_insert(e);
                }
                (Ok(_), Err(e)) => {
                    time_error.get_or_insert(e);
                }
                (Err(_), Err(_)) => {}
            }
        }
    }
    if let Some(e) = date_error.or(time_error) {
        return Err(e);
    }
    if parse_date(text, today).is_ok() {
        return Err(WhenError::MissingTime);
    }
    if parse_time(text).is_ok() {
        return Err(WhenError::MissingDate);
    }
    Err(WhenError::BadDateTime { input: echo(text) })
}

fn join_without_at(words: &[&str]) -> String {
    let words = match words {
        [first, rest @ ..] if first.eq_ignore_ascii_case("at") => rest,
        _ => words,
    };
    let words = match words {
        [rest @ .., last] if last.eq_ignore_ascii_case("at") => rest,
        _ => words,
    };
    words.join(" ")
}

/// `None` when `text` does not look like an ISO 8601 date-time, so free text can be tried instead.
fn iso_datetime(text: &str, tz: Tz) -> Option<Result<DateTime<Utc>, WhenError>> {
    let (date_part, time_part) = text.trim().split_once(['T', 't', ' '])?;
    let (y, m, d) = iso_ymd(date_part)?;
    let time_part = time_part.trim();
    let (clock, offset) = if let Some(clock) = time_part.strip_suffix(['Z', 'z']) {
        (clock, Some(Utc.fix()))
    } else if let Some(at) = time_part.rfind(['+', '-']) {
        let (clock, offset) = time_part.split_at(at);
        (clock, Some(parse_offset(offset)?))
    } else {
        (time_part, None)
    };
    let time = ["%H:%M:%S%.f", "%H:%M"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(clock.trim(), f).ok())?;
    let date = match exact(y, m, d, date_part) {
        Ok(date) => date,
        Err(e) => return Some(Err(e)),
    };
    let local = date.and_time(time);
    Some(match offset {
        Some(offset) => offset
            .from_local_datetime(&local)
            .single()
            .map(|at| at.with_timezone(&Utc))
            .ok_or(WhenError::OutOfRange),
        None => resolve_local(tz, local),
    })
}

/// "+05:30", "-0800", "+05".
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    let (h, m) = match digits.len() {
        2 => (two_digits(&digits)?, 0),
        4 => (two_digits(digits.get(..2)?)?, two_digits(digits.get(2..)?)?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    let secs = i32::try_from(h * 3600 + m * 60).ok()?;
    FixedOffset::east_opt(sign * secs)
}

fn iso_ymd(s: &str) -> Option<(i32, u32, u32)> {
    match s.split('-').collect::<Vec<_>>().as_slice() {
        [y, m, d] if y.len() == 4 && (1..=2).contains(&m.len()) && (1..=2).contains(&d.len()) => {
            Some((i32::try_from(number(y)?).ok()?, number(m)?, number(d)?))
        }
        _ => None,
    }
}

/// US order: 11/24, 11/24/2025, 11/24/25; and 2025/11/24, which no one means any other way.
fn slash_date(s: &str, today: NaiveDate, input: &str) -> Option<Result<NaiveDate, WhenError>> {
    let parts: Vec<&str> = s.split('/').collect();
    let short = |p: &&str| (1..=2).contains(&p.len());
    Some(match parts.as_slice() {
        [m, d] if short(m) && short(d) => next_occurrence(number(m)?, number(d)?, today, input),
        [m, d, y] if short(m) && short(d) && y.len() == 4 => exact(
            i32::try_from(number(y)?).ok()?,
            number(m)?,
            number(d)?,
            input,
        ),
        // Two-digit years are this century; nobody books an appointment for 1925.
        [m, d, y] if short(m) && short(d) && y.len() == 2 => exact(
            2000 + i32::try_from(number(y)?).ok()?,
            number(m)?,
            number(d)?,
            input,
        ),
        [y, m, d] if y.len() == 4 && short(m) && short(d) => exact(
            i32::try_from(number(y)?).ok()?,
            number(m)?,
            number(d)?,
            input,
        ),
        _ => return None,
    })
}

fn exact(y: i32, m: u32, d: u32, input: &str) -> Result<NaiveDate, WhenError> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| WhenError::NoSuchDate { input: echo(input) })
}

/// Eight years always contains a February 29, so a real month-day is always found.
fn next_occurrence(m: u32, d: u32, today: NaiveDate, input: &str) -> Result<NaiveDate, WhenError> {
    (0..=8)
        .filter_map(|ahead| today.year().checked_add(ahead))
        .filter_map(|y| NaiveDate::from_ymd_opt(y, m, d))
        .find(|date| *date >= today)
        .ok_or_else(|| WhenError::NoSuchDate { input: echo(input) })
}

fn next_day_of_month(d: u32, today: NaiveDate, input: &str) -> Result<NaiveDate, WhenError> {
    let first = today.with_day(1).ok_or(WhenError::OutOfRange)?;
    (0..=12)
        .filter_map(|ahead| first.checked_add_months(chrono::Months::new(ahead)))
        .filter_map(|month| month.with_day(d))
        .find(|date| *date >= today)
        .ok_or_else(|| WhenError::NoSuchDate { input: echo(input) })
}

fn weekday_on_or_after(
    today: NaiveDate,
    day: Weekday,
    strictly_after: bool,
) -> Result<NaiveDate, WhenError> {
    let ahead = (day.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
    let ahead = if strictly_after && ahead == 0 {
        7
    } else {
        ahead
    };
    today
        .checked_add_days(Days::new(u64::from(ahead)))
        .ok_or(WhenError::OutOfRange)
}

fn weekday_from(w: &str) -> Option<Weekday> {
    Some(match w {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tue" | "tues" => Weekday::Tue,
        "wednesday" | "wed" => Weekday::Wed,
        "thursday" | "thu" | "thur" | "thurs" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" | "sat" => Weekday::Sat,
        "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

/// Full names and any prefix of three letters or more ("nov", "sept", "febr").
fn month_from(w: &str) -> Option<u32> {
    if w.chars().count() < 3 {
        return None;
    }
    (1..=12).find(|m| {
        let name = month_name(*m);
        name.get(..w.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(w))
    })
}

/// "24", "24th", "1st"; the suffix is not checked against the number because people say "22th".
fn day_from(w: &str) -> Option<u32> {
    let digits = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|suffix| w.strip_suffix(suffix))
        .unwrap_or(w);
    if !(1..=2).contains(&digits.len()) {
        return None;
    }
    number(digits).filter(|d| (1..=31).contains(d))
}

fn year_from(w: &str) -> Option<i32> {
    if w.len() != 4 {
        return None;
    }
    number(w).and_then(|y| i32::try_from(y).ok())
}

fn number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn two_digits(s: &str) -> Option<u32> {
    if s.len() == 2 {
        number(s)
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
