//! The rules of putting a clinic's own number in front of the AI ("hybrid telephony"):
//! how long a caller-ID verification stays open, how often one may start, how long failed
//! ones are kept, the statuses a number and a forwarding set-up move through, reading the
//! wizard's carrier/mode/ring-time choice, and the `tel:` link that pre-fills a dial code.
//! The dial codes themselves are [`super::forwarding`]'s.

use super::forwarding::{Carrier, Mode};

/// A started verification waits this long for the code to be typed (Twilio calls within
/// seconds; ten minutes covers a missed first ring and a second try).
pub const VERIFICATION_TTL_SECS: i64 = 10 * 60;
/// Failed and expired verifications are deleted this long after they last changed, unless a
/// forwarding set-up still refers to them.
pub const FAILED_KEPT_SECS: i64 = 24 * 3600;
/// At most this many verification calls per number per org in [`START_WINDOW_SECS`]: each
/// start makes Twilio ring someone's phone.
pub const MAX_STARTS: usize = 3;
pub const START_WINDOW_SECS: i64 = 3600;
/// Twilio's friendly names are at most 64 characters.
pub const FRIENDLY_NAME_MAX: usize = 64;

/// Where a number's ownership check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerIdStatus {
    Pending,
    Verified,
    Failed,
    Expired,
}

impl CallerIdStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CallerIdStatus::Pending => "pending",
            CallerIdStatus::Verified => "verified",
            CallerIdStatus::Failed => "failed",
            CallerIdStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            CallerIdStatus::Pending,
            CallerIdStatus::Verified,
            CallerIdStatus::Failed,
            CallerIdStatus::Expired,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// Where a forwarding set-up stands: shown (pending), dialled and confirmed (active), turned
/// off (disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigStatus {
    Pending,
    Active,
    Disabled,
}

impl ConfigStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigStatus::Pending => "pending",
            ConfigStatus::Active => "active",
            ConfigStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ConfigStatus::Pending,
            ConfigStatus::Active,
            ConfigStatus::Disabled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// The status as of `now`: a pending verification past its expiry is expired even before the
/// clean-up job has written that down.
pub fn status_at(stored: CallerIdStatus, expires_at: i64, now: i64) -> CallerIdStatus {
    if stored == CallerIdStatus::Pending && now >= expires_at {
        CallerIdStatus::Expired
    } else {
        stored
    }
}

/// Whether another verification may start, given the earlier starts for the same number.
/// `Err` carries the seconds until the oldest start in the window leaves it.
pub fn start_allowed(earlier_starts: &[i64], now: i64) -> Result<(), u64> {
    let mut recent: Vec<i64> = earlier_starts
        .iter()
        .copied()
        .filter(|t| now - t < START_WINDOW_SECS)
        .collect();
    if recent.len() < MAX_STARTS {
        return Ok(());
    }
    recent.sort_unstable();
    // The start that must age out for the count to drop below the limit.
    let oldest = recent[recent.len() - MAX_STARTS];
    Err(u64::try_from(oldest + START_WINDOW_SECS - now)
        .unwrap_or(1)
        .max(1))
}

/// Twilio's validation code is six digits; anything else is not one.
pub fn is_validation_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// The friendly name for Twilio: trimmed, control characters dropped, at most 64 characters;
/// the number itself when nothing is given.
pub fn friendly_name(given: Option<&str>, number: &str) -> String {
    let cleaned: String = given
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(FRIENDLY_NAME_MAX)
        .collect();
    if cleaned.is_empty() {
        number.to_string()
    } else {
        cleaned
    }
}

/// A forwarding choice as a form or JSON body gives it, read strictly: an unknown carrier or
/// mode, or a ring time that is not a whole number, is refused with a message naming it.
/// Whether the combination is possible is [`super::forwarding::codes`]' call.
pub fn read_choice(
    carrier: &str,
    mode: &str,
    ring_seconds: Option<&str>,
) -> Result<(Carrier, Mode, Option<u32>), String> {
    let carrier = Carrier::from_slug(carrier).ok_or_else(|| {
        let known: Vec<&str> = Carrier::ALL.iter().map(|c| c.slug()).collect();
        format!("carrier must be one of {}", known.join(", "))
    })?;
    let mode =
        Mode::from_slug(mode).ok_or_else(|| "mode must be total_ai or safety_net".to_string())?;
    let ring = match ring_seconds.map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => Some(r.parse::<u32>().map_err(|_| {
            format!(
                "ring time must be a whole number of seconds, not “{}”",
                echo(r)
            )
        })?),
    };
    Ok((carrier, mode, ring))
}

fn echo(s: &str) -> String {
    s.chars().take(20).collect()
}

/// A `tel:` link that puts `code` in the phone's dialler. `#` would start a URL fragment and
/// `*` is not safe everywhere, so both are percent-encoded (`%23`, `%2A`); anything that is not
/// a dial character is dropped.
pub fn tel_href(code: &str) -> String {
    let mut href = String::from("tel:");
    for c in code.chars() {
        match c {
            '0'..='9' | '+' => href.push(c),
            '*' => href.push_str("%2A"),
            '#' => href.push_str("%23"),
            _ => {}
        }
    }
    href
}

/// Countries offered for reading a number typed without its country code, as
/// (ISO code, label). Each is one the phone normaliser knows.
pub const COUNTRIES: &[(&str, &str)] = &[
    ("US", "United States (+1)"),
    ("CA", "Canada (+1)"),
    ("PR", "Puerto Rico (+1)"),
    ("GB", "United Kingdom (+44)"),
    ("IE", "Ireland (+353)"),
    ("AU", "Australia (+61)"),
    ("NZ", "New Zealand (+64)"),
    ("DE", "Germany (+49)"),
    ("FR", "France (+33)"),
    ("ES", "Spain (+34)"),
    ("IT", "Italy (+39)"),
    ("NL", "Netherlands (+31)"),
    ("MX", "Mexico (+52)"),
    ("ZA", "South Africa (+27)"),
    ("IN", "India (+91)"),
    ("AE", "United Arab Emirates (+971)"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::phone::{PhoneError, PhoneNumber};

    #[test]
    fn three_starts_an_hour_per_number() {
        let now = 10_000;
        assert_eq!(start_allowed(&[], now), Ok(()));
        assert_eq!(start_allowed(&[now - 100, now - 50], now), Ok(()));
        // The third start in the hour is allowed, the fourth is not until the first ages out.
        assert_eq!(
            start_allowed(&[now - 600, now - 100, now - 50], now),
            Err(3000)
        );
        assert_eq!(
            start_allowed(&[now - 600, now - 100, now - 50], now + 3000),
            Ok(())
        );
        // Starts older than the hour do not count.
        assert_eq!(
            start_allowed(&[now - 7200, now - 3600, now - 10], now),
            Ok(())
        );
        assert!(start_allowed(&[now, now, now, now], now).is_err());
    }

    #[test]
    fn pending_reads_as_expired_after_ten_minutes() {
        let started = 1_000;
        let expires = started + VERIFICATION_TTL_SECS;
        assert_eq!(
            status_at(CallerIdStatus::Pending, expires, expires - 1),
            CallerIdStatus::Pending
        );
        assert_eq!(
            status_at(CallerIdStatus::Pending, expires, expires),
            CallerIdStatus::Expired
        );
        assert_eq!(
            status_at(CallerIdStatus::Verified, expires, expires + 99),
            CallerIdStatus::Verified
        );
        for s in ["pending", "verified", "failed", "expired"] {
            assert_eq!(CallerIdStatus::parse(s).map(|v| v.as_str()), Some(s));
        }
        for s in ["pending", "active", "disabled"] {
            assert_eq!(ConfigStatus::parse(s).map(|v| v.as_str()), Some(s));
        }
        assert_eq!(CallerIdStatus::parse("Verified"), None);
    }

    #[test]
    fn tel_links_encode_star_and_hash() {
        assert_eq!(
            tel_href("**21*14155550123#"),
            "tel:%2A%2A21%2A14155550123%23"
        );
        assert_eq!(tel_href("*72 4155550123"), "tel:%2A724155550123");
        assert_eq!(tel_href("##004#"), "tel:%23%23004%23");
        assert_eq!(
            tel_href("**21*+447911123456#"),
            "tel:%2A%2A21%2A+447911123456%23"
        );
        assert!(!tel_href("*73\"><script>").contains('<'));
    }

    #[test]
    fn choices_are_read_strictly() {
        assert_eq!(
            read_choice("T-Mobile", "safety_net", Some("20")),
            Ok((Carrier::TMobile, Mode::SafetyNet, Some(20)))
        );
        assert_eq!(
            read_choice("verizon", "total_ai", Some(" ")),
            Ok((Carrier::Verizon, Mode::TotalAi, None))
        );
        assert!(read_choice("vodafone-ish", "total_ai", None)
            .unwrap_err()
            .contains("carrier must be one of tmobile"));
        assert!(read_choice("att", "sometimes", None).is_err());
        assert!(read_choice("att", "safety_net", Some("twenty"))
            .unwrap_err()
            .contains("whole number"));
        assert!(read_choice("att", "safety_net", Some("-5")).is_err());
    }

    #[test]
    fn names_and_codes() {
        assert_eq!(friendly_name(None, "+14155550123"), "+14155550123");
        assert_eq!(friendly_name(Some("  "), "+1"), "+1");
        assert_eq!(friendly_name(Some(" Front\u{7} desk "), "+1"), "Front desk");
        assert_eq!(friendly_name(Some(&"x".repeat(99)), "+1").len(), 64);
        assert!(is_validation_code("012345"));
        assert!(!is_validation_code("12345"));
        assert!(!is_validation_code("12345a"));
    }

    #[test]
    fn every_offered_country_is_one_the_normaliser_reads() {
        for (iso, _) in COUNTRIES {
            let err = PhoneNumber::parse("1", iso).unwrap_err();
            assert!(
                !matches!(err, PhoneError::UnknownCountry { .. }),
                "{iso} is offered but unknown"
            );
        }
    }
}
