//! iCalendar (RFC 5545) text for appointments: CRLF line ends, lines folded at 75 octets,
//! TEXT values escaped, instants in UTC. Two shapes: a calendar feed (`METHOD:PUBLISH`, many
//! events) and an e-mailed invitation (iTIP, RFC 5546: `METHOD:REQUEST` or `METHOD:CANCEL`,
//! one event with its organizer, attendee and `SEQUENCE`). docs/email.md §3 says why.

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

/// The one UID an appointment has everywhere: feeds, downloads and e-mailed invitations, so a
/// calendar that has it from one place recognises it from another.
pub fn appointment_uid(org_id: i64, appointment_id: i64) -> String {
    format!("appointment-{org_id}-{appointment_id}@voxanne")
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

/// What an e-mailed invitation asks of the patient's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Add or update the event (same UID, higher SEQUENCE replaces).
    Request,
    /// Remove it.
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        [Method::Request, Method::Cancel]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// Someone named in an invitation: a display name and a mailbox.
pub struct Party<'a> {
    pub name: &'a str,
    pub address: &'a str,
}

/// One appointment as an iTIP message.
pub struct Invitation<'a> {
    pub method: Method,
    pub event: Event<'a>,
    pub sequence: i64,
    /// The clinic's sending mailbox: replies go there.
    pub organizer: Party<'a>,
    pub attendee: Party<'a>,
}

/// A parameter value (RFC 5545 §3.2): quoted, with the one character a quoted value cannot
/// hold dropped.
fn param_value(s: &str) -> String {
    let clean: String = s.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    format!("\"{clean}\"")
}

/// The iCalendar text of an invitation. Times are UTC; a cancel carries `STATUS:CANCELLED`.
/// Replies are not processed, so the attendee is asked for none (`RSVP=FALSE`).
pub fn invitation(inv: &Invitation<'_>) -> String {
    let e = &inv.event;
    let cancelled = e.cancelled || inv.method == Method::Cancel;
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//Voxanne//Appointments//EN".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        format!("METHOD:{}", inv.method.as_str()),
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", escape_text(&e.uid)),
        format!("SEQUENCE:{}", inv.sequence),
        format!("DTSTAMP:{}", stamp(e.stamp)),
        format!("DTSTART:{}", stamp(e.start)),
        format!("DTEND:{}", stamp(e.end)),
        format!("SUMMARY:{}", escape_text(e.summary)),
        format!("DESCRIPTION:{}", escape_text(e.description)),
        format!(
            "ORGANIZER;CN={}:mailto:{}",
            param_value(inv.organizer.name),
            inv.organizer.address
        ),
        format!(
            "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{}",
            param_value(inv.attendee.name),
            inv.attendee.address
        ),
        format!(
            "STATUS:{}",
            if cancelled { "CANCELLED" } else { "CONFIRMED" }
        ),
        "TRANSP:OPAQUE".to_string(),
        "END:VEVENT".to_string(),
        "END:VCALENDAR".to_string(),
    ];
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

    #[test]
    fn an_invitation_names_method_sequence_and_both_parties() {
        let t = Utc.with_ymd_and_hms(2026, 6, 16, 16, 0, 0).unwrap();
        let text = invitation(&Invitation {
            method: Method::Cancel,
            event: Event {
                uid: appointment_uid(3, 9),
                start: t,
                end: t + chrono::Duration::minutes(30),
                stamp: t,
                summary: "Botox at Alpha Clinic",
                description: "",
                cancelled: false,
            },
            sequence: 2,
            organizer: Party {
                name: "Alpha \"Clinic\"",
                address: "front@alpha.test",
            },
            attendee: Party {
                name: "Dana Lee",
                address: "dana@example.com",
            },
        });
        assert!(text.contains("METHOD:CANCEL\r\n"));
        assert!(text.contains("UID:appointment-3-9@voxanne\r\n"));
        assert!(text.contains("SEQUENCE:2\r\n"));
        assert!(text.contains("STATUS:CANCELLED\r\n"));
        assert!(text.contains("ORGANIZER;CN=\"Alpha Clinic\":mailto:front@alpha.test\r\n"));
        assert!(text.contains("DTSTART:20260616T160000Z\r\n"));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
    }
}
