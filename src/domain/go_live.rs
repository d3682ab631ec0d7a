//! The go-live checklist: what a clinic must have done before its phone is answered for real.
//! Each item is read live from the clinic's own records (and, for the public address, from a
//! request to it); Diagnostics, the Overview and `voxanne check` show the same list.

use serde::Serialize;

/// What the checklist is read from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    pub services_reviewed: bool,
    /// An owner saved the opening hours at least once.
    pub hours_saved: bool,
    /// At least one bookable practitioner besides the starting "Main calendar".
    pub practitioner_named: bool,
    pub twilio_connected: bool,
    /// The tools were registered with Vapi and linked to the clinic's assistant.
    pub tools_linked: bool,
    /// Vapi has posted to the appliance for this clinic (a call event or a tool call).
    pub vapi_heard: bool,
    pub transfer_number_set: bool,
    /// `None`: not checked here (no request was made); `Some(false)`: unset or not answering.
    pub public_url_answers: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub key: &'static str,
    pub label: &'static str,
    pub done: bool,
    /// What to do about it, and where.
    pub fix: &'static str,
    pub link: &'static str,
}

/// The checklist, in the order an installer works through it.
pub fn checklist(f: &Facts) -> Vec<Item> {
    let item = |key, label, done, fix, link| Item {
        key,
        label,
        done,
        fix,
        link,
    };
    vec![
        item(
            "services",
            "Services and prices reviewed",
            f.services_reviewed,
            "check the starting services and prices, then press \"These services and prices are right\"",
            "/services",
        ),
        item(
            "hours",
            "Opening hours saved",
            f.hours_saved,
            "set the clinic's hours, breaks and closed dates in Settings",
            "/settings",
        ),
        item(
            "practitioner",
            "At least one practitioner",
            f.practitioner_named,
            "rename \"Main calendar\" or add the clinic's practitioners",
            "/settings/practitioners",
        ),
        item(
            "twilio",
            "Twilio connected",
            f.twilio_connected,
            "enter the clinic's Twilio account for texts",
            "/settings/twilio",
        ),
        item(
            "tools",
            "Tools registered and linked to the assistant",
            f.tools_linked,
            "register the tools with Vapi and link them to the assistant",
            "/settings/voice/tools",
        ),
        item(
            "vapi",
            "A Vapi webhook received",
            f.vapi_heard,
            "set the assistant's server URL to the appliance and make a test call",
            "/settings/voice",
        ),
        item(
            "transfer",
            "Transfer number set",
            f.transfer_number_set,
            "give the number the assistant transfers callers to",
            "/settings/voice",
        ),
        item(
            "public_url",
            "Public URL answering",
            f.public_url_answers.unwrap_or(false),
            "set VOXANNE_PUBLIC_URL to the tunnel's address and check it reaches the appliance",
            "/settings/diagnostics",
        ),
    ]
}

/// How many items are done, of how many.
pub fn progress(items: &[Item]) -> (usize, usize) {
    (items.iter().filter(|i| i.done).count(), items.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_clinic_has_everything_to_do_and_a_ready_one_nothing() {
        let new = checklist(&Facts::default());
        assert_eq!(progress(&new), (0, 8));
        let ready = checklist(&Facts {
            services_reviewed: true,
            hours_saved: true,
            practitioner_named: true,
            twilio_connected: true,
            tools_linked: true,
            vapi_heard: true,
            transfer_number_set: true,
            public_url_answers: Some(true),
        });
        assert_eq!(progress(&ready), (8, 8));
        let keys: Vec<&str> = ready.iter().map(|i| i.key).collect();
        assert_eq!(
            keys,
            [
                "services",
                "hours",
                "practitioner",
                "twilio",
                "tools",
                "vapi",
                "transfer",
                "public_url"
            ]
        );
    }

    #[test]
    fn an_unchecked_public_url_is_not_done() {
        let items = checklist(&Facts {
            public_url_answers: None,
            ..Facts::default()
        });
        assert!(!items.iter().any(|i| i.done));
    }
}
