//! What Twilio's delivery reports mean for a sent text: the order statuses move in (so a late
//! or repeated report never moves a text back, and `delivered` is never downgraded by a late
//! `sent`), and a plain description of the asynchronous error codes.

/// How far along a text is. Unknown statuses rank 0: they never replace a known one.
fn rank(status: &str) -> u8 {
    match status {
        "accepted" | "scheduled" | "queued" => 1,
        "sending" => 2,
        "sent" => 3,
        "delivered" | "undelivered" | "failed" | "canceled" | "partially_delivered" => 4,
        "read" => 5,
        _ => 0,
    }
}

/// Whether a report of `reported` should replace the recorded `current` status. Reports can
/// arrive out of order or twice; only a step forward is taken, and a final outcome stays.
pub fn moves_forward(current: &str, reported: &str) -> bool {
    let new = rank(reported);
    new > 0 && new > rank(current)
}

/// Whether Twilio's status means the text did not reach the phone.
pub fn is_failure(status: &str) -> bool {
    matches!(status, "undelivered" | "failed")
}

/// A short description of a Twilio error code for the Messages record.
pub fn describe_error(code: i64) -> String {
    let what = match code {
        21610 => "the recipient has replied STOP",
        21612 => "the number cannot be reached by text",
        21614 => "the number is not a mobile number",
        30003 => "the phone is switched off or unreachable",
        30004 => "the recipient's carrier blocked the text",
        30005 => "the number is unknown or no longer in service",
        30006 => "a landline or a carrier that cannot take texts",
        30007 => "filtered by the carrier",
        30008 => "the carrier reported an unknown error",
        _ => "see Twilio's error reference",
    };
    format!("Twilio error {code}: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_only_move_forward() {
        assert!(moves_forward("queued", "sent"));
        assert!(moves_forward("sent", "delivered"));
        assert!(moves_forward("queued", "undelivered"));
        assert!(moves_forward("delivered", "read"));
        // A late `sent` never downgrades `delivered`; a repeat changes nothing.
        assert!(!moves_forward("delivered", "sent"));
        assert!(!moves_forward("delivered", "delivered"));
        assert!(!moves_forward("undelivered", "delivered"));
        assert!(!moves_forward("sent", "queued"));
        // Unknown reports are ignored; an unknown record is overtaken by any known status.
        assert!(!moves_forward("queued", "exploded"));
        assert!(moves_forward("", "queued"));
    }

    #[test]
    fn failures_and_descriptions() {
        assert!(is_failure("undelivered") && is_failure("failed"));
        assert!(!is_failure("delivered"));
        assert_eq!(
            describe_error(30007),
            "Twilio error 30007: filtered by the carrier"
        );
        assert!(describe_error(12345).starts_with("Twilio error 12345"));
    }
}
