//! Practitioners: who an appointment is with, when each one works, and which one a caller means.
//!
//! A practitioner works their own weekly hours (several periods a day; none set means the
//! clinic's), never outside the clinic's hours, never on a clinic closure or one of their own
//! days off, and performs the services listed for them (none listed means every service).
//! Their bookable calendar is therefore the clinic's calendar narrowed by theirs:
//! [`Practitioner::working_hours`] and [`Practitioner::days_off`].

use super::format::spoken_date;
use super::schedule::{BookingRules, Calendar, Interval, SlotRefusal, WeeklyHours};
use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// At most this many days off ranges per practitioner, each at most a year long.
pub const MAX_TIME_OFF_RANGES: usize = 60;
const MAX_RANGE_DAYS: i64 = 366;

/// A whole-day range of local dates, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRange {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Practitioner {
    pub id: i64,
    pub name: String,
    /// What they are, as callers may say it: "Dentist", "Hygienist".
    pub title: Option<String>,
    /// Their own weekly hours; `None` works the clinic's.
    pub hours: Option<WeeklyHours>,
    pub time_off: Vec<DayRange>,
    /// The services they perform; empty performs every service.
    pub service_ids: Vec<i64>,
    pub active: bool,
}

impl Practitioner {
    pub fn performs(&self, service_id: i64) -> bool {
        self.service_ids.is_empty() || self.service_ids.contains(&service_id)
    }

    /// When they can be booked in a week: their hours within the clinic's.
    pub fn working_hours(&self, clinic: &WeeklyHours) -> WeeklyHours {
        match &self.hours {
            None => clinic.clone(),
            Some(own) => intersect(clinic, own),
        }
    }

    /// The clinic's closures and every one of their days off.
    pub fn days_off(&self, clinic_closures: &[NaiveDate]) -> Vec<NaiveDate> {
        let mut days = clinic_closures.to_vec();
        for range in &self.time_off {
            days.extend(range.first.iter_days().take_while(|d| *d <= range.last));
        }
        days.sort();
        days.dedup();
        days
    }

    /// Off on `day` by their own time off (not counting clinic closures).
    pub fn off_on(&self, day: NaiveDate) -> bool {
        self.time_off
            .iter()
            .any(|r| r.first <= day && day <= r.last)
    }
}

/// A practitioner's bookable calendar: their hours within the clinic's, and every day they
/// cannot be booked. Built once per request from the practitioner and the clinic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Working {
    pub id: i64,
    pub name: String,
    pub hours: WeeklyHours,
    pub closures: Vec<NaiveDate>,
}

impl Working {
    pub fn of(p: &Practitioner, clinic_hours: &WeeklyHours, clinic_closures: &[NaiveDate]) -> Self {
        Working {
            id: p.id,
            name: p.name.clone(),
            hours: p.working_hours(clinic_hours),
            closures: p.days_off(clinic_closures),
        }
    }

    pub fn calendar<'a>(&'a self, tz: Tz, rules: &'a BookingRules) -> Calendar<'a> {
        Calendar {
            tz,
            hours: &self.hours,
            closures: &self.closures,
            rules,
        }
    }
}

/// Why a practitioner cannot take a start the clinic's own rules allow, for the caller.
pub fn refusal_sentence(name: &str, refusal: &SlotRefusal) -> String {
    match refusal {
        SlotRefusal::Closed { date, .. } => {
            format!("{name} isn't working on {}.", spoken_date(*date))
        }
        SlotRefusal::OutsideHours { date, hours } => format!(
            "{name} works from {hours} on {}; that time is outside it.",
            spoken_date(*date)
        ),
        SlotRefusal::RunsPastClose { minutes, close, .. } => format!(
            "A {minutes}-minute appointment then would run past the end of {name}'s hours at {}.",
            super::format::spoken_time(*close)
        ),
        other => other.to_string(),
    }
}

/// The periods both `a` and `b` are open, per weekday.
pub fn intersect(a: &WeeklyHours, b: &WeeklyHours) -> WeeklyHours {
    let mut days: [Vec<Interval>; 7] = Default::default();
    for (i, day) in days.iter_mut().enumerate() {
        for x in &a.days[i] {
            for y in &b.days[i] {
                let (open, close) = (x.open.max(y.open), x.close.min(y.close));
                if open < close {
                    day.push(Interval { open, close });
                }
            }
        }
        day.sort_by_key(|iv| iv.open);
    }
    WeeklyHours { days }
}

const DAY_NAMES: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

/// "mon", "tues", "Thursday": a day's name or a start of it of at least three letters.
fn weekday(word: &str) -> Option<usize> {
    let w = word.trim().to_lowercase();
    if w.len() < 3 {
        return None;
    }
    DAY_NAMES
        .iter()
        .position(|(_, d)| full_name(*d).starts_with(&w))
}

fn full_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

fn clock(raw: &str) -> Result<NaiveTime, String> {
    let raw = raw.trim();
    NaiveTime::parse_from_str(raw, "%H:%M")
        .map_err(|_| format!("“{raw}” is not a time; write 24-hour times like 09:00 or 13:30"))
}

/// Reads weekly hours written as `mon-fri 09:00-12:30,13:30-17:00; sat 09:00-12:00`: groups
/// separated by `;`, each a day or a day range (or several, comma-separated) followed by one
/// or more periods. Days not named are closed. A day named twice is refused.
pub fn parse_hours(spec: &str) -> Result<WeeklyHours, String> {
    let mut days: [Vec<Interval>; 7] = Default::default();
    let mut named = [false; 7];
    for group in spec.split(';').map(str::trim).filter(|g| !g.is_empty()) {
        let (day_part, periods) = group
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("“{group}” needs days and times, like “mon-fri 09:00-17:00”"))?;
        let mut these = Vec::new();
        for piece in day_part.split(',').filter(|p| !p.is_empty()) {
            match piece.split_once('-') {
                Some((from, to)) => {
                    let (a, b) = (weekday(from), weekday(to));
                    let (Some(a), Some(b)) = (a, b) else {
                        return Err(format!("“{piece}” is not a range of days, like mon-fri"));
                    };
                    if a > b {
                        return Err(format!("“{piece}” runs backwards; write it from Monday on"));
                    }
                    these.extend(a..=b);
                }
                None => these.push(
                    weekday(piece).ok_or_else(|| format!("“{piece}” is not a day, like mon"))?,
                ),
            }
        }
        let mut intervals = Vec::new();
        for period in periods.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (open, close) = period
                .split_once('-')
                .ok_or_else(|| format!("“{period}” is not a period, like 09:00-12:30"))?;
            let (open, close) = (clock(open)?, clock(close)?);
            if open >= close {
                return Err(format!("{period}: the end must come after the start"));
            }
            intervals.push(Interval { open, close });
        }
        if intervals.is_empty() {
            return Err(format!("“{group}” has no times"));
        }
        for d in these {
            if named[d] {
                return Err(format!("{} is named twice", full_name(DAY_NAMES[d].1)));
            }
            named[d] = true;
            days[d] = intervals.clone();
            days[d].sort_by_key(|iv| iv.open);
        }
    }
    let hours = WeeklyHours { days };
    hours.validate().map_err(|e| e.to_string())?;
    Ok(hours)
}

/// Writes hours the way [`parse_hours`] reads them, runs of equal days joined: the form and
/// the command line show what they would accept back.
pub fn format_hours(hours: &WeeklyHours) -> String {
    let mut groups = Vec::new();
    let mut i = 0;
    while i < 7 {
        if hours.days[i].is_empty() {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < 7 && hours.days[j + 1] == hours.days[i] {
            j += 1;
        }
        let days = if i == j {
            DAY_NAMES[i].0.to_string()
        } else {
            format!("{}-{}", DAY_NAMES[i].0, DAY_NAMES[j].0)
        };
        let periods: Vec<String> = hours.days[i]
            .iter()
            .map(|iv| format!("{}-{}", iv.open.format("%H:%M"), iv.close.format("%H:%M")))
            .collect();
        groups.push(format!("{days} {}", periods.join(",")));
        i = j + 1;
    }
    groups.join("; ")
}

/// Reads days off written as `2026-12-24..2027-01-02, 2027-02-14` (a date or a range per
/// comma; US-style 12/24/2026 is understood too).
pub fn parse_time_off(spec: &str) -> Result<Vec<DayRange>, String> {
    let mut out = Vec::new();
    for piece in spec
        .split([',', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (first, last) = match piece.split_once("..") {
            Some((a, b)) => (parse_day(a)?, parse_day(b)?),
            None => (parse_day(piece)?, parse_day(piece)?),
        };
        if last < first {
            return Err(format!("{piece}: the last day comes before the first"));
        }
        if (last - first).num_days() >= MAX_RANGE_DAYS {
            return Err(format!("{piece}: a range of days off is at most a year"));
        }
        out.push(DayRange { first, last });
    }
    if out.len() > MAX_TIME_OFF_RANGES {
        return Err(format!(
            "at most {MAX_TIME_OFF_RANGES} ranges of days off; remove past ones first"
        ));
    }
    out.sort_by_key(|r| r.first);
    Ok(out)
}

/// A whole day as staff type it: 2026-12-24 (what date pickers send) or US-style 12/24/2026.
pub fn parse_day(raw: &str) -> Result<NaiveDate, String> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%m/%d/%Y"))
        .map_err(|_| format!("“{raw}” is not a date; write 2026-12-24 or 12/24/2026"))
}

pub fn format_time_off(ranges: &[DayRange]) -> String {
    ranges
        .iter()
        .map(|r| {
            if r.first == r.last {
                r.first.to_string()
            } else {
                format!("{}..{}", r.first, r.last)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which practitioner a caller means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    One(usize),
    /// Several fit ("Patel" with two Patels; "the hygienist" with two hygienists).
    Several(Vec<usize>),
    Nobody,
}

/// Words that only dress a name up: "Dr", "doctor", "the", "a", "with", "please".
const FILLER: [&str; 11] = [
    "dr", "doctor", "the", "a", "an", "with", "please", "mr", "mrs", "ms", "miss",
];

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !FILLER.contains(w))
        .map(|w| {
            w.strip_suffix('s')
                .filter(|s| s.len() > 3)
                .unwrap_or(w)
                .to_string()
        })
        .collect()
}

/// The practitioners `query` names, forgivingly: case, titles ("Dr"), punctuation and a plural
/// are ignored, and every word the caller said must be a word of the practitioner's name or
/// title. "Dr Patel", "patel" and "Anita Patel" name Dr Anita Patel; "the hygienist" names
/// whoever has the title Hygienist. An exact full name wins over partial matches.
pub fn named(query: &str, people: &[&Practitioner]) -> Named {
    let asked = words(query);
    if asked.is_empty() {
        return Named::Nobody;
    }
    let fits: Vec<usize> = people
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            let mut own = words(&p.name);
            own.extend(p.title.as_deref().map(words).unwrap_or_default());
            asked.iter().all(|w| own.contains(w))
        })
        .map(|(i, _)| i)
        .collect();
    match fits.as_slice() {
        [] => Named::Nobody,
        [one] => Named::One(*one),
        many => {
            let exact: Vec<usize> = many
                .iter()
                .copied()
                .filter(|&i| words(&people[i].name) == asked)
                .collect();
            match exact.as_slice() {
                [one] => Named::One(*one),
                _ => Named::Several(many.to_vec()),
            }
        }
    }
}

/// A practitioner as staff or the command line set them, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub name: String,
    pub title: Option<String>,
    /// `None`: the clinic's hours.
    pub hours: Option<WeeklyHours>,
    pub time_off: Vec<DayRange>,
    /// Empty: every service.
    pub service_ids: Vec<i64>,
}

impl Draft {
    /// Reads the fields as typed: a name of 1–80 characters, a title of at most 60, hours in
    /// the [`parse_hours`] form (blank: the clinic's) and days off in the [`parse_time_off`] form.
    pub fn parse(
        name: &str,
        title: &str,
        hours: &str,
        time_off: &str,
        service_ids: Vec<i64>,
    ) -> Result<Draft, String> {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() || name.chars().count() > 80 {
            return Err("A practitioner's name must be 1 to 80 characters".into());
        }
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.chars().count() > 60 {
            return Err("A title must be at most 60 characters".into());
        }
        let hours = match hours.trim() {
            "" => None,
            spec => Some(parse_hours(spec).map_err(|e| format!("Hours: {e}"))?),
        };
        let time_off = parse_time_off(time_off).map_err(|e| format!("Days off: {e}"))?;
        Ok(Draft {
            name,
            title: (!title.is_empty()).then_some(title),
            hours,
            time_off,
            service_ids,
        })
    }

    /// The draft that leaves `p` as it is, to change one field of.
    pub fn of(p: &Practitioner) -> Draft {
        Draft {
            name: p.name.clone(),
            title: p.title.clone(),
            hours: p.hours.clone(),
            time_off: p.time_off.clone(),
            service_ids: p.service_ids.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn person(name: &str, title: Option<&str>) -> Practitioner {
        Practitioner {
            id: 1,
            name: name.into(),
            title: title.map(str::to_string),
            hours: None,
            time_off: vec![],
            service_ids: vec![],
            active: true,
        }
    }

    #[test]
    fn hours_with_a_lunch_break_read_and_write_back() {
        let h = parse_hours("mon-fri 09:00-12:30,13:30-17:00; sat 09:00-12:00").unwrap();
        assert_eq!(
            h.on(Weekday::Tue),
            &[
                Interval {
                    open: t(9, 0),
                    close: t(12, 30)
                },
                Interval {
                    open: t(13, 30),
                    close: t(17, 0)
                }
            ]
        );
        assert_eq!(
            h.on(Weekday::Sat),
            &[Interval {
                open: t(9, 0),
                close: t(12, 0)
            }]
        );
        assert!(h.on(Weekday::Sun).is_empty());
        let written = format_hours(&h);
        assert_eq!(written, "mon-fri 09:00-12:30,13:30-17:00; sat 09:00-12:00");
        assert_eq!(parse_hours(&written).unwrap(), h);
        assert_eq!(
            parse_hours("Monday 08:00-12:00; wed,fri 10:00-14:00")
                .unwrap()
                .on(Weekday::Fri),
            &[Interval {
                open: t(10, 0),
                close: t(14, 0)
            }]
        );
    }

    #[test]
    fn bad_hours_are_refused_with_the_reason() {
        let err = |s: &str| parse_hours(s).unwrap_err();
        assert!(err("funday 09:00-17:00").contains("“funday” is not a day"));
        assert!(err("fri-mon 09:00-17:00").contains("runs backwards"));
        assert!(err("mon 17:00-09:00").contains("end must come after"));
        assert!(err("mon 9am-5pm").contains("is not a time"));
        assert!(err("mon 09:00-12:00,11:00-13:00")
            .to_lowercase()
            .contains("overlap"));
        assert!(err("mon 09:00-12:00; mon 13:00-14:00").contains("monday is named twice"));
        assert!(err("mon").contains("needs days and times"));
    }

    #[test]
    fn working_hours_are_within_the_clinics() {
        let clinic = parse_hours("mon-fri 09:00-17:00").unwrap();
        let mut p = person("Dr Anita Patel", Some("Dentist"));
        assert_eq!(p.working_hours(&clinic), clinic);
        p.hours = Some(parse_hours("mon-sat 08:00-12:30,13:30-18:00").unwrap());
        let w = p.working_hours(&clinic);
        assert_eq!(format_hours(&w), "mon-fri 09:00-12:30,13:30-17:00");
    }

    #[test]
    fn days_off_add_to_the_clinics_closures() {
        let mut p = person("Sam", None);
        p.time_off = parse_time_off("2026-12-30..2027-01-01, 12/24/2026").unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            p.days_off(&[d("2026-12-25"), d("2026-12-31")]),
            vec![
                d("2026-12-24"),
                d("2026-12-25"),
                d("2026-12-30"),
                d("2026-12-31"),
                d("2027-01-01")
            ]
        );
        assert!(p.off_on(d("2026-12-24")) && !p.off_on(d("2026-12-25")));
        assert_eq!(
            format_time_off(&p.time_off),
            "2026-12-24, 2026-12-30..2027-01-01"
        );
        assert!(parse_time_off("2026-13-01")
            .unwrap_err()
            .contains("is not a date"));
        assert!(parse_time_off("2027-01-02..2027-01-01")
            .unwrap_err()
            .contains("before"));
        assert!(parse_time_off("2026-01-01..2027-06-01")
            .unwrap_err()
            .contains("at most a year"));
    }

    #[test]
    fn callers_name_practitioners_forgivingly() {
        let patel = person("Dr Anita Patel", Some("Dentist"));
        let raj = person("Raj Patel", Some("Dentist"));
        let kim = person("Kim Lee", Some("Hygienist"));
        let ortiz = person("Maria Ortiz", Some("Dentist"));
        let all = [&patel, &raj, &kim, &ortiz];
        assert_eq!(named("Dr Patel", &all), Named::Several(vec![0, 1]));
        assert_eq!(named("Anita Patel", &all), Named::One(0));
        assert_eq!(named("dr. anita", &all), Named::One(0));
        assert_eq!(named("the hygienist", &all), Named::One(2));
        assert_eq!(named("hygienists", &all), Named::One(2));
        assert_eq!(named("Ortiz", &all), Named::One(3));
        assert_eq!(named("Dr Smith", &all), Named::Nobody);
        assert_eq!(named("the", &all), Named::Nobody);
        assert_eq!(named("a dentist", &all), Named::Several(vec![0, 1, 3]));
        let only = [&patel, &kim];
        assert_eq!(named("Dr Patel", &only), Named::One(0));
        // The full name said exactly wins over someone who merely shares a word of it.
        let two = [&person("Lee", None), &kim];
        assert_eq!(named("Lee", &two), Named::One(0));
    }

    #[test]
    fn drafts_are_checked_field_by_field() {
        let d = Draft::parse("  Dr   Anita Patel ", "Dentist", "", "", vec![3]).unwrap();
        assert_eq!(d.name, "Dr Anita Patel");
        assert_eq!(
            (d.title.as_deref(), d.hours.is_none()),
            (Some("Dentist"), true)
        );
        let e = |r: Result<Draft, String>| r.unwrap_err();
        assert!(e(Draft::parse(" ", "", "", "", vec![])).contains("name must be"));
        assert!(e(Draft::parse("A", &"x".repeat(61), "", "", vec![])).contains("title"));
        assert!(e(Draft::parse("A", "", "mon 9-5", "", vec![])).starts_with("Hours: "));
        assert!(e(Draft::parse("A", "", "", "tomorrow", vec![])).starts_with("Days off: "));
    }

    #[test]
    fn performs_every_service_unless_some_are_listed() {
        let mut p = person("Sam", None);
        assert!(p.performs(7));
        p.service_ids = vec![1, 2];
        assert!(p.performs(2) && !p.performs(7));
    }
}
