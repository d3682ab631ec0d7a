//! What the clinic's e-mails say: each as a subject, a plain-text part and an HTML part, in the
//! clinic's name, with the minimum of health information (date, time, practitioner, service;
//! nothing clinical). Also the one check an e-mail address passes before it is stored.

/// An e-mail's words, before it is addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Which booking e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingMailKind<'a> {
    Confirmation,
    Reminder,
    /// Moved from the (zone-labelled) time given.
    Moved {
        from: &'a str,
    },
    Cancelled,
}

/// A booking e-mail's facts. `when` is already labelled with the clinic's zone.
pub struct BookingMail<'a> {
    pub kind: BookingMailKind<'a>,
    pub clinic: &'a str,
    pub patient: Option<&'a str>,
    pub when: &'a str,
    pub service: &'a str,
    pub practitioner: Option<&'a str>,
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Drops line breaks and control characters from a header value (a subject, a name).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// A plain e-mail of paragraphs, both parts built from the same lines.
fn paragraphs(subject: &str, clinic: &str, lines: &[String]) -> Composed {
    let mut text = lines.join("\n\n");
    text.push_str(&format!("\n\n— {clinic}\n"));
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif; line-height: 1.5\">\n",
    );
    for l in lines {
        html.push_str(&format!("<p>{}</p>\n", escape_html(l)));
    }
    html.push_str(&format!(
        "<p>— {}</p>\n</body></html>\n",
        escape_html(clinic)
    ));
    Composed {
        subject: one_line(subject),
        text,
        html,
    }
}

/// The confirmation, reminder, move or cancellation e-mail for an appointment.
pub fn booking_mail(m: &BookingMail<'_>) -> Composed {
    let greeting = match m.patient.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => format!("Hello {name},"),
        None => "Hello,".to_string(),
    };
    let with = m
        .practitioner
        .map(|p| format!(" with {p}"))
        .unwrap_or_default();
    let (subject, body) = match m.kind {
        BookingMailKind::Confirmation => (
            format!("Your appointment at {} is booked", m.clinic),
            format!(
                "Your {}{with} at {} is booked for {}.",
                m.service, m.clinic, m.when
            ),
        ),
        BookingMailKind::Reminder => (
            format!("Reminder: your appointment at {}", m.clinic),
            format!(
                "This is a reminder of your {}{with} at {} on {}.",
                m.service, m.clinic, m.when
            ),
        ),
        BookingMailKind::Moved { from } => (
            format!("Your appointment at {} has moved", m.clinic),
            format!(
                "Your {}{with} at {} has moved from {from} to {}.",
                m.service, m.clinic, m.when
            ),
        ),
        BookingMailKind::Cancelled => (
            format!("Your appointment at {} is cancelled", m.clinic),
            format!(
                "Your {}{with} at {} on {} is cancelled.",
                m.service, m.clinic, m.when
            ),
        ),
    };
    let closing = match m.kind {
        BookingMailKind::Cancelled => "To book again, call or reply to this e-mail.",
        _ => "To change or cancel, call or reply to this e-mail.",
    };
    paragraphs(&subject, m.clinic, &[greeting, body, closing.to_string()])
}

/// Adds the unsubscribe line to a reminder's two parts.
pub fn with_unsubscribe(text: &str, html: &str, url: &str) -> (String, String) {
    let line = "To stop reminder e-mails from this clinic, open";
    let text = format!("{text}\n{line} {url}\n");
    let footer = format!(
        "<p style=\"font-size: small; color: #666\">{line} <a href=\"{u}\">{u}</a></p>\n</body>",
        u = escape_html(url)
    );
    let html = match html.rfind("</body>") {
        Some(i) => format!("{}{footer}{}", &html[..i], &html[i + "</body>".len()..]),
        None => format!("{html}{footer}"),
    };
    (text, html)
}

/// The e-mail `voxanne email test` and Settings → E-mail send.
pub fn test_mail(clinic: &str) -> Composed {
    paragraphs(
        &format!("Test e-mail from {clinic}"),
        clinic,
        &[
            "This is a test e-mail from your Voxanne appliance.".to_string(),
            "If you can read it, patients will receive confirmations and reminders from this mailbox.".to_string(),
        ],
    )
}

/// The e-mail that hands someone a shared call recording: the link and until when it works.
/// The link is a secret; the e-mail says nothing about the call itself.
pub fn recording_share_mail(clinic: &str, url: &str, until: &str) -> Composed {
    paragraphs(
        &format!("A call recording from {clinic}"),
        clinic,
        &[
            format!("{clinic} has shared a call recording with you."),
            format!("Listen here: {url}"),
            format!("The link works until {until}. Please do not forward it."),
        ],
    )
}

/// A hot lead, as the owner's alert tells of it.
pub struct HotLead<'a> {
    pub name: Option<&'a str>,
    pub phone: &'a str,
    pub service: Option<&'a str>,
    pub score: u8,
    pub booked: bool,
}

/// The e-mail to the clinic's owners when a call scored as a hot lead.
pub fn hot_lead_mail(clinic: &str, lead: &HotLead<'_>) -> Composed {
    let who = lead
        .name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("An unknown caller");
    let phone = match lead.phone.trim() {
        "" => "number withheld".to_string(),
        p => p.to_string(),
    };
    let about = match lead.service.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => format!(" asked about {s}"),
        None => " called".to_string(),
    };
    let next = if lead.booked {
        "They booked an appointment."
    } else {
        "They have not booked yet: call them back soon."
    };
    paragraphs(
        &format!("Hot lead at {clinic}: {who}"),
        clinic,
        &[
            format!("{who} ({phone}){about}."),
            format!("Lead score {}/100. {next}", lead.score.min(100)),
            "The call is on the Calls page of the dashboard.".to_string(),
        ],
    )
}

/// The e-mail to the clinic's owners when a call needs someone urgently (the Needs-attention
/// reasons as the front desk reads them).
pub fn attention_mail(clinic: &str, name: Option<&str>, phone: &str, reasons: &[&str]) -> Composed {
    let who = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("A caller");
    let phone = match phone.trim() {
        "" => "number withheld".to_string(),
        p => p.to_string(),
    };
    paragraphs(
        &format!("Needs attention at {clinic}: {who}"),
        clinic,
        &[
            format!("{who} ({phone}) needs someone: {}.", reasons.join("; ")),
            "The call is under Needs attention on the Overview of the dashboard.".to_string(),
        ],
    )
}

/// The summary line of an appointment in a calendar: the service and the clinic, nothing more.
pub fn calendar_summary(service: &str, clinic: &str) -> String {
    format!("{service} at {clinic}")
}

/// An address as the assistant reads it back to a caller: the part before the `@` letter by
/// letter, the domain as words ("d, a, n, a, dot, l, e, e, at example dot com").
pub fn spelled(address: &str) -> String {
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    let letters: Vec<String> = local
        .chars()
        .map(|c| match c {
            '.' => "dot".to_string(),
            '-' => "dash".to_string(),
            '_' => "underscore".to_string(),
            '+' => "plus".to_string(),
            c => c.to_string(),
        })
        .collect();
    format!(
        "{}, at {}",
        letters.join(", "),
        domain.replace('.', " dot ")
    )
}

/// Checks an e-mail address someone typed or said and returns it trimmed. Deliberately plain:
/// one `@`, something before it, a dotted domain after it, no spaces, quotes or brackets.
pub fn check_address(input: &str) -> Result<String, String> {
    let a = input.trim();
    let bad = || {
        Err(format!(
            "“{a}” is not an e-mail address (like name@example.com)"
        ))
    };
    if a.is_empty() || a.len() > 254 {
        return bad();
    }
    if a.chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c))
    {
        return bad();
    }
    let Some((local, domain)) = a.rsplit_once('@') else {
        return bad();
    };
    let labels_ok = domain.split('.').count() >= 2
        && domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
    if local.is_empty() || local.contains('@') || local.len() > 64 || !labels_ok {
        return bad();
    }
    Ok(a.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_plainly() {
        assert_eq!(
            check_address("  dana@example.com ").unwrap(),
            "dana@example.com"
        );
        for bad in [
            "",
            "dana",
            "dana@",
            "@example.com",
            "dana@example",
            "da na@example.com",
            "a@b@example.com",
            "dana@-x.com",
            "<dana@example.com>",
        ] {
            assert!(check_address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_address_is_spelled_for_reading_back() {
        assert_eq!(
            spelled("dana.lee-2@example.com"),
            "d, a, n, a, dot, l, e, e, dash, 2, at example dot com"
        );
    }

    #[test]
    fn booking_mails_say_when_what_and_who_and_escape_html() {
        let m = booking_mail(&BookingMail {
            kind: BookingMailKind::Moved {
                from: "Tuesday, June 16 at 12:00 PM EDT",
            },
            clinic: "Alpha & <Co>",
            patient: Some("Dana"),
            when: "Wednesday, June 17 at 2:30 PM EDT",
            service: "Botox",
            practitioner: Some("Dr. Rivera"),
        });
        assert_eq!(m.subject, "Your appointment at Alpha & <Co> has moved");
        assert!(m.text.contains("Your Botox with Dr. Rivera at Alpha & <Co> has moved from Tuesday, June 16 at 12:00 PM EDT to Wednesday, June 17 at 2:30 PM EDT."));
        assert!(m.html.contains("Alpha &amp; &lt;Co&gt;"));
        assert!(!m.html.contains("<Co>"));
    }
}
