//! How a patient wants to hear from the clinic: by text, by e-mail, or both. The one rule every
//! booking message follows before it is queued.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Text,
    Email,
    Both,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Text => "text",
            Channel::Email => "email",
            Channel::Both => "both",
        }
    }

    /// Reads a stored or typed preference; "sms" and "e-mail" are accepted spellings.
    pub fn parse(s: &str) -> Option<Channel> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "sms" => Some(Channel::Text),
            "email" | "e-mail" | "mail" => Some(Channel::Email),
            "both" => Some(Channel::Both),
            _ => None,
        }
    }

    /// Whether booking texts go to this patient.
    pub fn texts(self) -> bool {
        matches!(self, Channel::Text | Channel::Both)
    }

    /// Whether booking e-mails go to this patient (when they have an address).
    pub fn emails(self) -> bool {
        matches!(self, Channel::Email | Channel::Both)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_preference_says_which_channels_it_takes() {
        assert!(Channel::Both.texts() && Channel::Both.emails());
        assert!(Channel::Text.texts() && !Channel::Text.emails());
        assert!(!Channel::Email.texts() && Channel::Email.emails());
        assert_eq!(Channel::parse("E-mail"), Some(Channel::Email));
        assert_eq!(Channel::parse("sms"), Some(Channel::Text));
        assert_eq!(Channel::parse("fax"), None);
    }
}
