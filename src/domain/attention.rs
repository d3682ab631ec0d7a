//! Needs attention: the front desk's worklist, built from what calls and texts came to. A call
//! needs someone when the caller asked for a person, a transfer to the desk failed, they said
//! something urgent, they wanted to book and did not, or the call was a voicemail or a hang-up
//! within seconds; every text a patient sends needs reading.

use serde::Serialize;

/// A call this short (inbound, unbooked) is a hang-up worth calling back.
pub const SHORT_CALL_SECS: i64 = 15;

/// Words that make a call urgent when the caller says them (whole words, any case).
pub const URGENT_WORDS: &[&str] = &[
    "pain",
    "painful",
    "bleeding",
    "blood",
    "emergency",
    "urgent",
    "urgently",
    "swelling",
    "swollen",
    "broke",
    "broken",
    "accident",
    "infection",
    "infected",
    "fever",
    "abscess",
    "allergic",
    "faint",
    "fainted",
];

/// What callers say when they want a person rather than the assistant.
pub const PERSON_PHRASES: &[&str] = &[
    "speak to a person",
    "talk to a person",
    "speak to someone",
    "talk to someone",
    "speak with someone",
    "talk with someone",
    "real person",
    "a human",
    "receptionist",
    "front desk",
    "operator",
    "speak to the doctor",
    "talk to the doctor",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    AskedForPerson,
    TransferFailed,
    Urgent,
    WantedToBook,
    ShortCall,
    Voicemail,
    TextReceived,
}

impl Reason {
    pub fn slug(self) -> &'static str {
        match self {
            Reason::AskedForPerson => "asked_for_person",
            Reason::TransferFailed => "transfer_failed",
            Reason::Urgent => "urgent",
            Reason::WantedToBook => "wanted_to_book",
            Reason::ShortCall => "short_call",
            Reason::Voicemail => "voicemail",
            Reason::TextReceived => "text_received",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        ALL.iter().copied().find(|r| r.slug() == s)
    }

    /// What the front desk reads.
    pub fn label(self) -> &'static str {
        match self {
            Reason::AskedForPerson => "Asked for a person",
            Reason::TransferFailed => "Transfer to the desk failed",
            Reason::Urgent => "Said something urgent",
            Reason::WantedToBook => "Wanted to book, did not",
            Reason::ShortCall => "Hung up within seconds",
            Reason::Voicemail => "Reached voicemail",
            Reason::TextReceived => "Sent a text",
        }
    }

    /// Urgent items come first in the list.
    pub fn is_urgent(self) -> bool {
        matches!(self, Reason::Urgent | Reason::TransferFailed)
    }
}

const ALL: [Reason; 7] = [
    Reason::AskedForPerson,
    Reason::TransferFailed,
    Reason::Urgent,
    Reason::WantedToBook,
    Reason::ShortCall,
    Reason::Voicemail,
    Reason::TextReceived,
];

/// What a finished call tells about whether it needs someone.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallSignals<'a> {
    pub inbound: bool,
    /// Vapi's `endedReason`, e.g. `customer-ended-call`, `…-transfer-failed`, `voicemail`.
    pub ended_reason: Option<&'a str>,
    pub duration_secs: Option<i64>,
    /// What the caller said (their lines only).
    pub caller_text: &'a str,
    pub booked: bool,
    pub booking_intent: bool,
}

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether the caller said one of the urgent words.
pub fn sounds_urgent(caller_text: &str) -> bool {
    words(caller_text)
        .iter()
        .any(|w| URGENT_WORDS.contains(&w.as_str()))
}

fn asked_for_person(caller_text: &str) -> bool {
    let said = format!(" {} ", words(caller_text).join(" "));
    PERSON_PHRASES
        .iter()
        .any(|p| said.contains(&format!(" {p} ")))
}

/// Why a finished call needs someone; empty when it does not.
pub fn call_reasons(s: &CallSignals<'_>) -> Vec<Reason> {
    let ended = s.ended_reason.unwrap_or("").to_lowercase();
    let mut out = Vec::new();
    if ended.contains("transfer-failed") || ended.contains("transfer-refused") {
        out.push(Reason::TransferFailed);
    }
    if sounds_urgent(s.caller_text) {
        out.push(Reason::Urgent);
    }
    if asked_for_person(s.caller_text) {
        out.push(Reason::AskedForPerson);
    }
    if s.booking_intent && !s.booked {
        out.push(Reason::WantedToBook);
    }
    if ended.contains("voicemail") {
        out.push(Reason::Voicemail);
    } else if s.inbound && !s.booked && s.duration_secs.is_some_and(|d| d < SHORT_CALL_SECS) {
        out.push(Reason::ShortCall);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(caller_text: &str, f: impl FnOnce(&mut CallSignals<'_>)) -> Vec<Reason> {
        let mut s = CallSignals {
            inbound: true,
            ended_reason: Some("customer-ended-call"),
            duration_secs: Some(120),
            caller_text,
            ..CallSignals::default()
        };
        f(&mut s);
        call_reasons(&s)
    }

    #[test]
    fn urgent_words_are_whole_words_in_any_case() {
        for said in [
            "I broke a tooth, I need someone now",
            "There's a lot of BLEEDING",
            "my jaw is swollen",
            "Is this an emergency line?",
            "the pain is terrible",
        ] {
            assert!(sounds_urgent(said), "{said}");
        }
        for said in [
            "I'd like a painting of",
            "no rush at all",
            "Spain trip next week",
        ] {
            assert!(!sounds_urgent(said), "{said}");
        }
    }

    #[test]
    fn a_failed_transfer_for_an_emergency_is_both() {
        let r = reasons("I broke a tooth, I need someone now", |s| {
            s.ended_reason = Some("call.in-progress.error-transfer-failed")
        });
        assert_eq!(r, vec![Reason::TransferFailed, Reason::Urgent]);
        assert!(r.iter().any(|x| x.is_urgent()));
    }

    #[test]
    fn asking_for_a_person_wanting_to_book_and_short_calls() {
        assert_eq!(
            reasons("Can I speak to a person please?", |_| {}),
            vec![Reason::AskedForPerson]
        );
        assert_eq!(
            reasons("I want to book a cleaning", |s| s.booking_intent = true),
            vec![Reason::WantedToBook]
        );
        assert!(reasons("I want to book a cleaning", |s| {
            s.booking_intent = true;
            s.booked = true;
        })
        .is_empty());
        assert_eq!(
            reasons("", |s| s.duration_secs = Some(6)),
            vec![Reason::ShortCall]
        );
        assert!(reasons("", |s| {
            s.duration_secs = Some(6);
            s.inbound = false;
        })
        .is_empty());
        assert_eq!(
            reasons("", |s| s.ended_reason = Some("voicemail")),
            vec![Reason::Voicemail]
        );
        assert!(reasons("What are your hours?", |_| {}).is_empty());
    }

    #[test]
    fn reasons_have_slugs_and_plain_words() {
        for r in ALL {
            assert_eq!(Reason::parse(r.slug()), Some(r));
            assert!(!r.label().contains('_') && !r.label().contains('-'));
        }
    }
}
