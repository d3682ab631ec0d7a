//! iCalendar (RFC 5545) text for appointments: CRLF line ends, lines folded at 75 octets,
//! TEXT values escaped, instants in UTC.

use chrono::{DateTime, Utc};

/// One event.
pub struct Event<'a> {
    pub uid: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub stamp: DateTime<Utc>,
    pub summary: &'a str,
    pub description: &'a str,
    pub cancelled: bool,
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets without splitting a UTF-8 character (§3.1).
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A calendar holding `events`, named `name`.
pub fn calendar(name: &str, events: &[Event<'_>]) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//Voxanne//Appointments//EN".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        "METHOD:PUBLISH".to_string(),
        format!("X-WR-CALNAME:{}", escape_text(name)),
    ];
    for e in events {
        lines.extend([
            "BEGIN:VEVENT".to_string(),
            format!("UID:{}", escape_text(&e.uid)),
            format!("DTSTAMP:{}", stamp(e.stamp)),
            format!("DTSTART:{}", stamp(e.start)),
            format!("DTEND:{}", stamp(e.end)),
            format!("SUMMARY:{}", escape_text(e.summary)),
            format!("DESCRIPTION:{}", escape_text(e.description)),
            format!(
                "STATUS:{}",
                if e.cancelled {
                    "CANCELLED"
                } else {
                    "CONFIRMED"
                }
            ),
            "END:VEVENT".to_string(),
        ]);
    }
    lines.push("END:VCALENDAR".to_string());
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn escapes_folds_and_uses_crlf() {
        let t = Utc.with_ymd_and_hms(2026, 8, 20, 19, 0, 0).unwrap();
        let long = "Botox; for Dana, \"VIP\"\nsecond line ".repeat(4);
        let text = calendar(
            "Alpha, Clinic",
            &[Event {
                uid: "appointment-7@alpha".into(),
                start: t,
                end: t + chrono::Duration::minutes(30),
                stamp: t,
                summary: &long,
                description: "é".repeat(60).as_str(),
                cancelled: false,
            }],
        );
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(text.contains("X-WR-CALNAME:Alpha\\, Clinic\r\n"));
        assert!(text.contains("DTSTART:20260820T190000Z\r\n"));
        assert!(text.contains("Botox\\; for Dana\\, \"VIP\"\\nsecond"));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
        assert!(!text.replace("\r\n", "").contains('\n'));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
    }
}
