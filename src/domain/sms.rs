//! SMS wording, segment counting and opt-out keywords for texts sent through the
//! clinic's own Twilio number.
//!
//! * Segments follow GSM 03.38: a body made only of the GSM-7 basic set and its
//!   extension table (`^ { } \ [ ] ~ | €` and form feed cost two septets) is
//!   GSM-7 with 160 septets in one segment, 153 per segment when split. Any other
//!   character makes the whole body UCS-2: 70 UTF-16 units in one segment, 67 per
//!   segment when split (emoji outside the BMP count 2). Splitting never breaks
//!   an escape pair or a surrogate pair, so a part may hold one unit less.
//!   An empty body is 0 segments.
//! * Patient texts (confirmation, reminder, cancellation, reschedule) end with
//!   "Reply STOP to opt out." Two texts do not, on purpose: the verification
//!   code is a one-time password the person asked for (carrier rules require
//!   opt-out wording on marketing and recurring programmes, not on OTPs, and
//!   Twilio honours STOP either way), and the hot-lead alert goes to the clinic
//!   owner, not to a patient.
//! * Builders tidy their inputs (whitespace collapsed, smart quotes and dashes
//!   turned into GSM-7 ones, fields capped) so a text stays GSM-7 and short.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segments {
    pub encoding: Encoding,
    /// Septets for GSM-7, UTF-16 code units for UCS-2.
    pub units: usize,
    pub segments: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OptKeyword {
    Stop,
    Start,
    Help,
}

impl OptKeyword {
    pub fn as_str(self) -> &'static str {
        match self {
            OptKeyword::Stop => "stop",
            OptKeyword::Start => "start",
            OptKeyword::Help => "help",
        }
    }
}

const STOP_LINE: &str = "Reply STOP to opt out.";

/// Counts encoding, units and billed segments for a message body.
pub fn segments(body: &str) -> Segments {
    let gsm: Option<Vec<usize>> = body.chars().map(gsm_septets).collect();
    let (encoding, costs, single, multi) = match gsm {
        Some(costs) => (Encoding::Gsm7, costs, 160, 153),
        None => (
            Encoding::Ucs2,
            body.chars().map(char::len_utf16).collect(),
            70,
            67,
        ),
    };
    let units: usize = costs.iter().sum();
    let segments = if units == 0 {
        0
    } else if units <= single {
        1
    } else {
        let mut parts = 1;
        let mut used = 0;
        for cost in costs {
            if used + cost > multi {
                parts += 1;
                used = 0;
            }
            used += cost;
        }
        parts
    };
    Segments {
        encoding,
        units,
        segments,
    }
}

fn gsm_septets(c: char) -> Option<usize> {
    const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXTENSION: &str = "\u{c}^{}\\[~]|€";
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Replaces common typographic look-alikes with GSM-7 characters and collapses
/// whitespace, so a pasted clinic name does not force UCS-2.
pub fn to_gsm_friendly(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            match c {
                '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' | '`' | '´' => out.push('\''),
                '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2033}' => out.push('"'),
                '\u{2010}'..='\u{2015}' | '\u{2212}' => out.push('-'),
                '\u{2026}' => out.push_str("..."),
                '\u{200B}' | '\u{FEFF}' => {}
                _ => out.push(c),
            }
        }
    }
    out
}

fn field(s: &str, max_chars: usize) -> String {
    let clean = to_gsm_friendly(s);
    match clean.char_indices().nth(max_chars) {
        Some((cut, _)) => clean[..cut].trim_end().to_string(),
        None => clean,
    }
}

fn clinic_name(clinic: &str) -> String {
    let c = field(clinic, 60);
    if c.is_empty() {
        "Your clinic".to_string()
    } else {
        c
    }
}

fn appointment(service: &str) -> String {
    let s = field(service, 60);
    if s.is_empty() {
        "appointment".to_string()
    } else {
        format!("{s} appointment")
    }
}

fn when(when_spoken: &str) -> String {
    let w = field(when_spoken, 80);
    if w.is_empty() {
        "the time we agreed".to_string()
    } else {
        w
    }
}

/// Sent right after a booking.
pub fn confirmation_text(clinic: &str, when_spoken: &str, service: &str) -> String {
    format!(
        "{}: your {} is confirmed for {}. {STOP_LINE}",
        clinic_name(clinic),
        appointment(service),
        when(when_spoken)
    )
}

/// Sent ahead of the visit.
pub fn reminder_text(clinic: &str, when_spoken: &str, service: &str) -> String {
    format!(
        "Reminder from {}: your {} is {}. {STOP_LINE}",
        clinic_name(clinic),
        appointment(service),
        when(when_spoken)
    )
}

/// Sent when the clinic or the caller cancels.
pub fn cancellation_text(clinic: &str, when_spoken: &str, service: &str) -> String {
    format!(
        "{}: your {} for {} has been cancelled. Call us any time to book a new one. {STOP_LINE}",
        clinic_name(clinic),
        appointment(service),
        when(when_spoken)
    )
}

/// Sent when an appointment moves.
pub fn reschedule_text(
    clinic: &str,
    old_when_spoken: &str,
    new_when_spoken: &str,
    service: &str,
) -> String {
    format!(
        "{}: your {} has moved from {} to {}. {STOP_LINE}",
        clinic_name(clinic),
        appointment(service),
        when(old_when_spoken),
        when(new_when_spoken)
    )
}

/// One-time code; no STOP line (see module doc).
pub fn verification_text(clinic: &str, code: &str) -> String {
    let clinic = field(clinic, 60);
    let sep = if clinic.is_empty() { "" } else { " " };
    format!(
        "Your {clinic}{sep}verification code is {}. It expires in 10 minutes.",
        field(code, 12)
    )
}

/// Alert to the clinic owner; no STOP line (see module doc).
pub fn hot_lead_alert_text(
    name: Option<&str>,
    phone: &str,
    service: Option<&str>,
    score: u8,
    booked: bool,
) -> String {
    let who = name.map(|n| field(n, 60)).filter(|n| !n.is_empty());
    let who = who.as_deref().unwrap_or("Unknown caller");
    let phone = field(phone, 20);
    let phone = if phone.is_empty() {
        "number withheld".to_string()
    } else {
        phone
    };
    let about = match service.map(|s| field(s, 60)).filter(|s| !s.is_empty()) {
        Some(s) => format!(" asked about {s}"),
        None => " called".to_string(),
    };
    let outcome = if booked {
        "Booked an appointment."
    } else {
        "Not booked yet - call them back soon."
    };
    format!(
        "Voxanne hot lead ({}/100): {who} ({phone}){about}. {outcome}",
        score.min(100)
    )
}

/// Twilio's default opt keywords: the whole message must be the keyword,
/// ignoring case, surrounding whitespace and trailing punctuation.
pub fn opt_keyword(body: &str) -> Option<OptKeyword> {
    let trimmed = body.trim_end_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation());
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    match words.join(" ").to_ascii_uppercase().as_str() {
        "STOP" | "STOPALL" | "STOP ALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "OPTOUT"
        | "REVOKE" => Some(OptKeyword::Stop),
        "START" | "YES" | "UNSTOP" => Some(OptKeyword::Start),
        "HELP" | "INFO" => Some(OptKeyword::Help),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(s: &str) -> (Encoding, usize, usize) {
        let x = segments(s);
        (x.encoding, x.units, x.segments)
    }

    #[test]
    fn gsm_boundaries() {
        assert_eq!(seg(""), (Encoding::Gsm7, 0, 0));
        assert_eq!(seg("a"), (Encoding::Gsm7, 1, 1));
        assert_eq!(seg(&"a".repeat(160)), (Encoding::Gsm7, 160, 1));
        assert_eq!(seg(&"a".repeat(161)), (Encoding::Gsm7, 161, 2));
        assert_eq!(seg(&"a".repeat(306)), (Encoding::Gsm7, 306, 2));
        assert_eq!(seg(&"a".repeat(307)), (Encoding::Gsm7, 307, 3));
        assert_eq!(
            seg("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\r\n").0,
            Encoding::Gsm7
        );
    }

    #[test]
    fn extension_chars_cost_two() {
        for c in ['^', '{', '}', '\\', '[', '~', ']', '|', '€'] {
            assert_eq!(seg(&c.to_string()), (Encoding::Gsm7, 2, 1), "{c}");
        }
        assert_eq!(seg(&"€".repeat(80)), (Encoding::Gsm7, 160, 1));
        assert_eq!(seg(&"€".repeat(81)), (Encoding::Gsm7, 162, 2));
        // 152 plain + one escape pair: the pair moves to part two rather than split.
        let s = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        assert_eq!(seg(&s), (Encoding::Gsm7, 164, 2));
        let s = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(seg(&s), (Encoding::Gsm7, 306, 3));
    }

    #[test]
    fn ucs2() {
        assert_eq!(seg("héllo ç"), (Encoding::Ucs2, 7, 1)); // lowercase ç is not GSM-7
        assert_eq!(seg("🙂"), (Encoding::Ucs2, 2, 1));
        assert_eq!(seg(&"ê".repeat(70)), (Encoding::Ucs2, 70, 1));
        assert_eq!(seg(&"ê".repeat(71)), (Encoding::Ucs2, 71, 2));
        assert_eq!(seg(&"ê".repeat(134)), (Encoding::Ucs2, 134, 2));
        assert_eq!(seg(&"ê".repeat(135)), (Encoding::Ucs2, 135, 3));
        assert_eq!(seg(&"🙂".repeat(35)), (Encoding::Ucs2, 70, 1));
        // 33 emoji fill 66 units; the 34th cannot straddle the 67-unit boundary,
        // so 134 units need 3 parts, not ceil(134 / 67) = 2.
        assert_eq!(seg(&"🙂".repeat(67)), (Encoding::Ucs2, 134, 3));
        assert_eq!(seg("smart ’quote’").0, Encoding::Ucs2);
    }

    #[test]
    fn patient_texts_end_with_stop_and_stay_gsm() {
        let texts = [
            confirmation_text("Glow Clinic", "Tuesday, May 5 at 3:00 PM", "Botox"),
            reminder_text("Glow Clinic", "tomorrow at 3:00 PM", "Botox"),
            cancellation_text("Glow Clinic", "Tuesday at 3 PM", "Botox"),
            reschedule_text("Glow Clinic", "Tuesday at 3 PM", "Friday at 10 AM", "Botox"),
        ];
        for t in &texts {
            assert!(t.ends_with("Reply STOP to opt out."), "{t}");
            let s = segments(t);
            assert_eq!((s.encoding, s.segments), (Encoding::Gsm7, 1), "{t}");
        }
        assert_eq!(
            texts[0],
            "Glow Clinic: your Botox appointment is confirmed for Tuesday, May 5 at 3:00 PM. Reply STOP to opt out."
        );
        assert_eq!(
            texts[1],
            "Reminder from Glow Clinic: your Botox appointment is tomorrow at 3:00 PM. Reply STOP to opt out."
        );
        assert_eq!(
            texts[3],
            "Glow Clinic: your Botox appointment has moved from Tuesday at 3 PM to Friday at 10 AM. Reply STOP to opt out."
        );
    }

    #[test]
    fn builders_tidy_inputs() {
        let t = confirmation_text("  Dr. O’Neil’s\n Clinic ", "", "  ");
        assert_eq!(
            t,
            "Dr. O'Neil's Clinic: your appointment is confirmed for the time we agreed. Reply STOP to opt out."
        );
        let long = "x".repeat(500);
        let t = reminder_text(&long, &long, &long);
        assert!(segments(&t).segments <= 2);
        assert!(confirmation_text("", "noon", "Botox").starts_with("Your clinic: "));
    }

    #[test]
    fn verification_has_no_stop_line() {
        let t = verification_text("Glow Clinic", "123456");
        assert_eq!(
            t,
            "Your Glow Clinic verification code is 123456. It expires in 10 minutes."
        );
        assert!(!t.contains("STOP"));
        assert_eq!(
            verification_text("", "123456"),
            "Your verification code is 123456. It expires in 10 minutes."
        );
    }

    #[test]
    fn hot_lead_alert() {
        let t = hot_lead_alert_text(Some("Jane Doe"), "+15551234567", Some("Botox"), 85, true);
        assert_eq!(
            t,
            "Voxanne hot lead (85/100): Jane Doe (+15551234567) asked about Botox. Booked an appointment."
        );
        let t = hot_lead_alert_text(None, "+15551234567", None, 250, false);
        assert_eq!(
            t,
            "Voxanne hot lead (100/100): Unknown caller (+15551234567) called. Not booked yet - call them back soon."
        );
        assert!(!t.contains("STOP"));
        let t = hot_lead_alert_text(Some(" "), "", Some(""), 70, false);
        assert!(t.contains("Unknown caller (number withheld) called."));
        assert_eq!(segments(&t).encoding, Encoding::Gsm7);
    }

    #[test]
    fn opt_keywords() {
        for s in [
            "STOP",
            "stop",
            " Stop. ",
            "STOPALL",
            "stop all",
            "STOP  ALL!",
            "unsubscribe",
            "Cancel",
            "END",
            "quit",
            "optout",
            "REVOKE",
            "stop!!!",
        ] {
            assert_eq!(opt_keyword(s), Some(OptKeyword::Stop), "{s}");
        }
        for s in ["START", "yes", "Unstop.", "yes!"] {
            assert_eq!(opt_keyword(s), Some(OptKeyword::Start), "{s}");
        }
        for s in ["HELP", "help?", "Info"] {
            assert_eq!(opt_keyword(s), Some(OptKeyword::Help), "{s}");
        }
        for s in [
            "STOP PLEASE",
            "please stop",
            "",
            "  ",
            "...",
            "yes please",
            "stopp",
            "¿stop",
            "STOP 🙂",
        ] {
            assert_eq!(opt_keyword(s), None, "{s}");
        }
        assert_eq!(OptKeyword::Stop.as_str(), "stop");
    }

    #[test]
    fn serializes_lowercase() {
        let j = serde_json::to_value(segments("hi")).unwrap_or_default();
        assert_eq!(j["encoding"], "gsm7");
        assert_eq!(j["segments"], 1);
    }

    #[test]
    fn field_caps_on_char_boundaries() {
        let s = "é".repeat(100);
        assert_eq!(field(&s, 60).chars().count(), 60);
        assert_eq!(field("ab", 60), "ab");
    }
}

/// The longest follow-up staff may send from a call: one GSM segment.
pub const FOLLOW_UP_MAX_CHARS: usize = 160;

/// A follow-up text as staff typed it, trimmed; an error saying why it cannot be sent.
pub fn follow_up_text(message: &str) -> Result<String, String> {
    let text = message.trim();
    if text.is_empty() {
        return Err("Write the text to send.".into());
    }
    let n = text.chars().count();
    if n > FOLLOW_UP_MAX_CHARS {
        return Err(format!(
            "A follow-up is at most {FOLLOW_UP_MAX_CHARS} characters; this one has {n}."
        ));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod follow_up_tests {
    use super::*;

    #[test]
    fn follow_ups_are_one_to_160_characters() {
        assert_eq!(follow_up_text("  Hi Dana  ").as_deref(), Ok("Hi Dana"));
        assert!(follow_up_text("   ").is_err());
        assert!(follow_up_text(&"é".repeat(160)).is_ok());
        assert!(follow_up_text(&"a".repeat(161))
            .unwrap_err()
            .contains("161"));
    }
}
