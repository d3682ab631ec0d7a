//! Plain words for the codes receptionists would otherwise read: how a call ended, where a
//! booking came from. One table each, so every page says the same thing.

/// How a call ended, as the front desk says it. `booked` wins: a call that booked "Booked".
pub fn call_outcome(ended_reason: Option<&str>, booked: bool) -> &'static str {
    if booked {
        return "Booked";
    }
    let Some(reason) = ended_reason.map(str::to_lowercase) else {
        return "In progress";
    };
    let r = reason.as_str();
    match r {
        "customer-ended-call" => "Caller hung up",
        "assistant-ended-call" | "assistant-said-end-call-phrase" => "Assistant ended the call",
        "assistant-forwarded-call" => "Transferred to the desk",
        "voicemail" => "Reached voicemail",
        "silence-timed-out" => "Nobody spoke",
        "customer-did-not-answer" | "customer-did-not-give-microphone-permission" => "No answer",
        "customer-busy" => "Line busy",
        "exceeded-max-duration" => "Cut off at the time limit",
        "manually-canceled" => "Cancelled",
        _ if r.contains("transfer-failed") || r.contains("transfer-refused") => {
            "Transfer to the desk failed"
        }
        _ if r.contains("error") || r.contains("fault") || r.contains("failed") => "Call failed",
        _ => "Call ended",
    }
}

/// What a tool call did, as the call's page lists it.
pub fn tool_action(name: &str) -> &'static str {
    match name {
        "get_clinic_context" => "Looked up the clinic's hours and services",
        "check_availability" => "Checked free times",
        "reserve_slot" => "Held a time",
        "book_appointment" => "Booked",
        "find_appointment" => "Looked up the caller's appointment",
        "reschedule_appointment" => "Moved an appointment",
        "cancel_appointment" => "Cancelled an appointment",
        "get_service_price" => "Gave a price",
        "send_verification_code" => "Texted a code",
        "verify_code" => "Checked the code",
        "send_confirmation_sms" => "Texted the confirmation",
        _ => "Used a tool",
    }
}

/// A message's status as the front desk reads it.
pub fn message_status(status: &str) -> &'static str {
    match status {
        "queued" | "pending" => "Waiting to send",
        "sending" => "Sending",
        "sent" => "Sent",
        "delivered" => "Delivered",
        "undelivered" => "Not delivered",
        "failed" => "Failed",
        "retrying" => "Will retry",
        "skipped" => "Not sent (patient opted out or texts are off)",
        "refused" => "Refused by the provider",
        "received" => "Received",
        _ => "Other",
    }
}

/// Which way a message went.
pub fn direction(direction: &str) -> &'static str {
    match direction {
        "outbound" => "To the patient",
        "inbound" => "From the patient",
        _ => "Other",
    }
}

/// Which way a call went.
pub fn call_direction(direction: &str) -> &'static str {
    match direction {
        "inbound" => "Caller rang the clinic",
        "outbound" => "Assistant called out",
        "web" => "Web call",
        _ => "Unknown",
    }
}

/// Where an appointment came from.
pub fn booking_source(source: &str) -> &'static str {
    match source {
        "phone_ai" => "Phone (AI)",
        "staff" => "Front desk",
        _ => "Other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ending_has_plain_words() {
        let table = [
            (Some("customer-ended-call"), false, "Caller hung up"),
            (
                Some("assistant-forwarded-call"),
                false,
                "Transferred to the desk",
            ),
            (
                Some("call.in-progress.error-transfer-failed"),
                false,
                "Transfer to the desk failed",
            ),
            (Some("voicemail"), false, "Reached voicemail"),
            (Some("silence-timed-out"), false, "Nobody spoke"),
            (
                Some("pipeline-error-openai-llm-failed"),
                false,
                "Call failed",
            ),
            (Some("customer-ended-call"), true, "Booked"),
            (None, false, "In progress"),
            (Some("something-new"), false, "Call ended"),
        ];
        for (reason, booked, words) in table {
            assert_eq!(call_outcome(reason, booked), words, "{reason:?}");
        }
        assert_eq!(booking_source("phone_ai"), "Phone (AI)");
        for status in [
            "queued",
            "sent",
            "delivered",
            "undelivered",
            "failed",
            "retrying",
            "skipped",
            "refused",
            "received",
        ] {
            assert_ne!(message_status(status), "Other", "{status}");
        }
        assert_eq!(direction("inbound"), "From the patient");
        assert_eq!(call_direction("outbound"), "Assistant called out");
        for tool in crate::voice::tools::Tool::ALL {
            assert_ne!(tool_action(tool.name()), "Used a tool", "{}", tool.name());
        }
        assert_eq!(booking_source("staff"), "Front desk");
    }
}
