//! The owners' daily digest: when it is due, and what it says (yesterday's calls and bookings,
//! today's schedule, open leads). Times of the schedule are in the clinic's zone.

use super::mail::{escape_html, Composed};
use super::when::{resolve_local, WhenError};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc};
use chrono_tz::Tz;

/// The instant the clinic's local `date` begins (a midnight lost to a DST change begins at the
/// first valid minute).
pub fn day_start(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    match resolve_local(tz, midnight) {
        Ok(t) => t,
        Err(WhenError::NonexistentLocalTime { next_valid_at, .. }) => next_valid_at,
        Err(_) => midnight.and_utc(),
    }
}

/// The local date a digest is due for at `local_now`, when the clinic's hour has come and
/// today's has not gone yet.
pub fn due_on(
    local_now: NaiveDateTime,
    hour: u32,
    sent_on: Option<NaiveDate>,
) -> Option<NaiveDate> {
    let today = local_now.date();
    (local_now.hour() >= hour && sent_on != Some(today)).then_some(today)
}

/// One appointment of today's schedule.
pub struct Visit {
    /// "9:30 AM".
    pub time: String,
    pub service: String,
    pub practitioner: String,
}

/// What the digest reports.
pub struct Facts {
    pub calls_yesterday: i64,
    pub bookings_yesterday: i64,
    pub today: Vec<Visit>,
    /// Callers not called back yet (leads still `new`) from the last seven days.
    pub open_leads: i64,
}

/// The digest e-mail; `date` is today as people say it ("Monday, June 15").
pub fn digest_mail(clinic: &str, date: &str, f: &Facts) -> Composed {
    let plural = |n: i64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let yesterday = format!(
        "Yesterday: {} and {}.",
        plural(f.calls_yesterday, "call", "calls"),
        plural(f.bookings_yesterday, "booking", "bookings")
    );
    let open = match f.open_leads {
        0 => "No callers are waiting for a call back.".to_string(),
        n => format!(
            "{} from the last seven days still waiting for a call back (Leads page).",
            plural(n, "caller", "callers")
        ),
    };
    let schedule_head = if f.today.is_empty() {
        "Today: no appointments.".to_string()
    } else {
        format!(
            "Today: {}.",
            plural(f.today.len() as i64, "appointment", "appointments")
        )
    };
    let lines: Vec<String> = f
        .today
        .iter()
        .map(|v| format!("{} — {} ({})", v.time, v.service, v.practitioner))
        .collect();
    let mut text = format!("{clinic}, {date}\n\n{yesterday}\n\n{schedule_head}\n");
    for l in &lines {
        text.push_str(&format!("  {l}\n"));
    }
    text.push_str(&format!("\n{open}\n"));
    let mut html = format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif; line-height: 1.5\">\n<h1 style=\"font-size: 1.2em\">{}, {}</h1>\n<p>{}</p>\n<p>{}</p>\n",
        escape_html(clinic),
        escape_html(date),
        escape_html(&yesterday),
        escape_html(&schedule_head)
    );
    if !lines.is_empty() {
        html.push_str("<ul>\n");
        for l in &lines {
            html.push_str(&format!("<li>{}</li>\n", escape_html(l)));
        }
        html.push_str("</ul>\n");
    }
    html.push_str(&format!("<p>{}</p>\n</body></html>\n", escape_html(&open)));
    Composed {
        subject: format!("{clinic}: your day, {date}"),
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_once_a_day_from_the_clinic_s_hour() {
        let d = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
        let at = |h| d.and_hms_opt(h, 5, 0).unwrap();
        assert_eq!(due_on(at(6), 7, None), None);
        assert_eq!(due_on(at(7), 7, None), Some(d));
        assert_eq!(due_on(at(15), 7, d.pred_opt()), Some(d));
        assert_eq!(due_on(at(15), 7, Some(d)), None);
    }

    #[test]
    fn the_digest_counts_and_lists() {
        let m = digest_mail(
            "Alpha",
            "Monday, June 15",
            &Facts {
                calls_yesterday: 1,
                bookings_yesterday: 0,
                today: vec![Visit {
                    time: "9:30 AM".into(),
                    service: "Botox".into(),
                    practitioner: "Main calendar".into(),
                }],
                open_leads: 2,
            },
        );
        assert_eq!(m.subject, "Alpha: your day, Monday, June 15");
        assert!(m.text.contains("Yesterday: 1 call and 0 bookings."));
        assert!(m.text.contains("9:30 AM — Botox (Main calendar)"));
        assert!(m.text.contains("2 callers from the last seven days"));
    }
}
