//! Mobile-carrier call-forwarding dial codes that put the clinic's existing
//! number in front of the AI.
//!
//! Source: `docs/twilio.md` §7 (7a GSM MMI codes per 3GPP TS 22.030, 7b US vertical
//! service codes).
//!
//! | carrier | Total AI (all calls) | Safety net (AI answers what staff miss) | ring time |
//! |---|---|---|---|
//! | T-Mobile, AT&T, other GSM | `**21*1NXXNXXXXXX#`, off `##21#` | `**004*1NXXNXXXXXX[*11*T]#` (busy + no reply + not reachable), off `##004#` | T = 5, 10, …, 30 s, or unset for the network default |
//! | International GSM | same codes, number as `+E164` | same | same |
//! | Verizon | `*72NXXNXXXXXX`, off `*73` | `*71NXXNXXXXXX` (no answer/busy transfer), off `*73` | not settable by code |
//! | Sprint (legacy CDMA) | `*72NXXNXXXXXX`, off `*720` | refused: no documented code | — |
//! | Other US (`*72`-style) | `*72NXXNXXXXXX`, off `*73` | `*90…` busy then `*92…` no answer; off `*91` then `*93` | not settable by code |
//!
//! Decisions:
//! * Cancel uses erase (`##`), not deactivate (`#`), so no stale number is left.
//! * The GSM no-reply timer is 5–30 s in 5 s steps (MAP `NoReplyConditionTime`);
//!   anything else is refused rather than rounded.
//! * US GSM carriers get the number with a leading `1` instead of `+` (some US
//!   operators refuse `+`); international GSM keeps `+E164`. `*7x`/`*9x` codes
//!   take the bare 10-digit number. US carriers need a +1 (NANP) forward-to number.
//! * Ring time only exists for a GSM safety net; asking for it elsewhere is an error.
//! * When more than one code must be dialled, each is its own call:
//!   `activation_codes`/`deactivation_codes` hold them in order and
//!   `activation`/`deactivation` join them with " then " for display.

use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Carrier {
    #[serde(rename = "tmobile")]
    TMobile,
    #[serde(rename = "att")]
    Att,
    #[serde(rename = "verizon")]
    Verizon,
    #[serde(rename = "sprint")]
    Sprint,
    #[serde(rename = "other_gsm")]
    OtherGsm,
    #[serde(rename = "other_cdma")]
    OtherCdma,
    #[serde(rename = "international_gsm")]
    InternationalGsm,
}

impl Carrier {
    pub const ALL: [Carrier; 7] = [
        Carrier::TMobile,
        Carrier::Att,
        Carrier::Verizon,
        Carrier::Sprint,
        Carrier::OtherGsm,
        Carrier::OtherCdma,
        Carrier::InternationalGsm,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Carrier::TMobile => "tmobile",
            Carrier::Att => "att",
            Carrier::Verizon => "verizon",
            Carrier::Sprint => "sprint",
            Carrier::OtherGsm => "other_gsm",
            Carrier::OtherCdma => "other_cdma",
            Carrier::InternationalGsm => "international_gsm",
        }
    }

    /// Accepts the slug and loose spellings ("T-Mobile", "AT&T", "other-gsm").
    pub fn from_slug(s: &str) -> Option<Carrier> {
        let key: String = s
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        Carrier::ALL
            .into_iter()
            .find(|c| c.slug().replace('_', "") == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Carrier::TMobile => "T-Mobile",
            Carrier::Att => "AT&T",
            Carrier::Verizon => "Verizon",
            Carrier::Sprint => "Sprint (legacy)",
            Carrier::OtherGsm => "Other US GSM carrier",
            Carrier::OtherCdma => "Other US carrier using *72 codes",
            Carrier::InternationalGsm => "Outside the US (GSM)",
        }
    }

    pub fn is_gsm(self) -> bool {
        matches!(
            self,
            Carrier::TMobile | Carrier::Att | Carrier::OtherGsm | Carrier::InternationalGsm
        )
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Every call goes straight to the AI.
    TotalAi,
    /// The clinic's phone rings first; the AI takes busy/unanswered/unreachable calls.
    SafetyNet,
}

impl Mode {
    pub fn slug(self) -> &'static str {
        match self {
            Mode::TotalAi => "total_ai",
            Mode::SafetyNet => "safety_net",
        }
    }

    pub fn from_slug(s: &str) -> Option<Mode> {
        [Mode::TotalAi, Mode::SafetyNet]
            .into_iter()
            .find(|m| m.slug() == s.trim().to_ascii_lowercase())
    }

    pub fn label(self) -> &'static str {
        match self {
            Mode::TotalAi => "Total AI",
            Mode::SafetyNet => "Safety net",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The ring times a GSM network accepts before a no-reply forward (MAP `NoReplyConditionTime`,
/// 5–30 s in 5 s steps): what a form may offer.
pub const GSM_RING_SECONDS: [u32; 6] = [5, 10, 15, 20, 25, 30];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardingCodes {
    /// What to dial to turn forwarding on (codes joined by " then " if several).
    pub activation: String,
    /// What to dial to turn it off (codes joined by " then " if several).
    pub deactivation: String,
    /// Each activation code, one call each, in order.
    pub activation_codes: Vec<String>,
    /// Each deactivation code, one call each, in order.
    pub deactivation_codes: Vec<String>,
    pub steps: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ForwardingError {
    #[error("forward-to number {0:?} is not in E.164 form (like +15551234567)")]
    InvalidNumber(String),
    #[error("{0} forwarding codes need a US/Canada (+1) number with a valid 10-digit form")]
    NotNanp(Carrier),
    #[error(
        "{0} s is not possible: the GSM network's no-reply timer only accepts 5, 10, 15, 20, 25 or 30 seconds \
         (3GPP NoReplyConditionTime is 5-30 s in 5 s steps), so longer waits such as 60 s cannot be set"
    )]
    RingTimeInvalid(u32),
    #[error("{0} has no dial code to choose how long the phone rings before forwarding; leave ring time unset")]
    RingTimeNotConfigurable(Carrier),
    #[error("ring time does not apply to Total AI: every call is forwarded at once; leave ring time unset")]
    RingTimeNotApplicable,
    #[error("{mode} forwarding is not available for {carrier}: {reason}")]
    ModeNotSupported {
        carrier: Carrier,
        mode: Mode,
        reason: &'static str,
    },
}

/// The dial codes, steps and caveats for one carrier and mode.
pub fn codes(
    carrier: Carrier,
    mode: Mode,
    ring_seconds: Option<u32>,
    forward_to: &str,
) -> Result<ForwardingCodes, ForwardingError> {
    let digits = e164_digits(forward_to)?;
    if carrier != Carrier::InternationalGsm && !is_nanp(&digits) {
        return Err(ForwardingError::NotNanp(carrier));
    }
    if mode == Mode::TotalAi && ring_seconds.is_some() {
        return Err(ForwardingError::RingTimeNotApplicable);
    }
    if carrier.is_gsm() {
        if let Some(t) = ring_seconds {
            if !GSM_RING_SECONDS.contains(&t) {
                return Err(ForwardingError::RingTimeInvalid(t));
            }
        }
        Ok(gsm(carrier, mode, ring_seconds, &digits))
    } else {
        cdma(carrier, mode, ring_seconds, &digits)
    }
}

/// Digits of a strict E.164 number (`+` then 8–15 digits, no leading 0).
fn e164_digits(input: &str) -> Result<String, ForwardingError> {
    let invalid = || ForwardingError::InvalidNumber(input.chars().take(40).collect());
    let digits = input.trim().strip_prefix('+').ok_or_else(invalid)?;
    let ok = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(digits.to_string())
    } else {
        Err(invalid())
    }
}

fn is_nanp(digits: &str) -> bool {
    let b = digits.as_bytes();
    b.len() == 11 && b[0] == b'1' && (b'2'..=b'9').contains(&b[1]) && (b'2'..=b'9').contains(&b[4])
}

fn joined(codes: &[String]) -> String {
    codes.join(" then ")
}

fn build(
    activation: Vec<String>,
    deactivation: Vec<String>,
    steps: Vec<String>,
    notes: Vec<String>,
) -> ForwardingCodes {
    ForwardingCodes {
        activation: joined(&activation),
        deactivation: joined(&deactivation),
        activation_codes: activation,
        deactivation_codes: deactivation,
        steps,
        notes,
    }
}

fn gsm(carrier: Carrier, mode: Mode, ring_seconds: Option<u32>, digits: &str) -> ForwardingCodes {
    let (number, format_note) = if carrier == Carrier::InternationalGsm {
        (
            format!("+{digits}"),
            "If the network rejects the code, try the number in your country's national format; some operators \
             also block forwarding to international numbers.",
        )
    } else {
        (
            digits.to_string(),
            "The number is written with a leading 1 rather than +, which US operators accept; if yours rejects \
             it, try the 10-digit number.",
        )
    };
    let phone = format!("your {} phone", carrier.label());
    let mut notes = vec![
        format_note.to_string(),
        "Phones may not dial * and # from a link; type the code on the keypad (in a tel: link # must be %23)."
            .to_string(),
    ];
    match mode {
        Mode::TotalAi => {
            let on = format!("**21*{number}#");
            notes.push(
                "Forwarding all calls overrides any conditional forwarding. To clear every forward at once \
                 (this also removes the carrier voicemail forward), dial ##002#."
                    .to_string(),
            );
            let steps = vec![
                format!("On {phone}, open the keypad, dial {on} and press Call."),
                "Wait for the confirmation message. Dial *#21# to check: it should show the AI number.".to_string(),
                "Call the clinic number from another phone: the AI should answer straight away.".to_string(),
                "To stop forwarding, dial ##21#.".to_string(),
            ];
            build(vec![on], vec!["##21#".to_string()], steps, notes)
        }
        Mode::SafetyNet => {
            let on = match ring_seconds {
                Some(t) => format!("**004*{number}*11*{t}#"),
                None => format!("**004*{number}#"),
            };
            let wait = match ring_seconds {
                Some(t) => format!("after about {t} seconds"),
                None => "after the network's default ring time (often 20 seconds)".to_string(),
            };
            notes.push(
                "This replaces the carrier voicemail forward; after turning the AI off you may need to set \
                 voicemail up again with your carrier."
                    .to_string(),
            );
            let timer = ring_seconds.map(|t| format!("*11*{t}")).unwrap_or_default();
            notes.push(format!(
                "If *#004# shows only some conditions set, dial each one: **61*{number}{timer}# (no answer), \
                 **67*{number}# (busy), **62*{number}# (unreachable)."
            ));
            let steps = vec![
                format!("On {phone}, open the keypad, dial {on} and press Call."),
                "Wait for the confirmation message. Dial *#004# to check busy, no reply and not reachable all \
                 show the AI number."
                    .to_string(),
                format!("Call the clinic number from another phone and let it ring: the AI should answer {wait}."),
                "To stop forwarding, dial ##004#.".to_string(),
            ];
            build(vec![on], vec!["##004#".to_string()], steps, notes)
        }
    }
}

fn cdma(
    carrier: Carrier,
    mode: Mode,
    ring_seconds: Option<u32>,
    digits: &str,
) -> Result<ForwardingCodes, ForwardingError> {
    // NANP was checked by the caller: the 10-digit national number follows the 1.
    let ten = digits.get(1..).unwrap_or(digits);
    if ring_seconds.is_some() {
        return Err(ForwardingError::RingTimeNotConfigurable(carrier));
    }
    let phone = format!("your {} phone", carrier.label());
    let off_all = if carrier == Carrier::Sprint {
        "*720"
    } else {
        "*73"
    };
    let mut notes = vec!["These carriers do not use the GSM ** codes.".to_string()];
    if carrier == Carrier::Sprint {
        notes.push(
            "Sprint's own network has closed and its lines moved to T-Mobile; if your phone now runs on \
             T-Mobile, choose T-Mobile instead."
                .to_string(),
        );
    }
    if carrier == Carrier::OtherCdma {
        notes.push(
            "These are common North American codes but details vary by carrier; some place a test call to the \
             AI number to confirm, and some (like legacy Sprint) cancel with *720 instead of *73."
                .to_string(),
        );
    }
    let (on, off, check): (Vec<String>, Vec<String>, &str) = match (carrier, mode) {
        (_, Mode::TotalAi) => (
            vec![format!("*72{ten}")],
            vec![off_all.to_string()],
            "the AI should answer straight away",
        ),
        (Carrier::Verizon, Mode::SafetyNet) => {
            notes.push("*73 turns off both *72 and *71 forwarding.".to_string());
            (
                vec![format!("*71{ten}")],
                vec!["*73".to_string()],
                "when nobody answers (or the line is busy), the AI should pick up after Verizon's set ring time",
            )
        }
        (Carrier::OtherCdma, Mode::SafetyNet) => (
            vec![format!("*90{ten}"), format!("*92{ten}")],
            vec!["*91".to_string(), "*93".to_string()],
            "when nobody answers (or the line is busy), the AI should pick up after the carrier's set ring time",
        ),
        (_, Mode::SafetyNet) => {
            return Err(ForwardingError::ModeNotSupported {
                carrier,
                mode,
                reason: "there is no documented busy/no-answer forwarding code; use Total AI, or choose T-Mobile \
                         if your line now runs on T-Mobile's network",
            })
        }
    };
    let mut steps: Vec<String> = on
        .iter()
        .map(|code| format!("On {phone}, dial {code} and press Call; wait for the confirmation tone, then hang up."))
        .collect();
    steps.push(format!(
        "Call the clinic number from another phone: {check}."
    ));
    steps.push(format!("To stop forwarding, dial {}.", joined(&off)));
    Ok(build(on, off, steps, notes))
}

#[cfg(test)]
mod tests {
    use super::Carrier::*;
    use super::Mode::*;
    use super::*;

    const AI: &str = "+14155550123";
    const UK: &str = "+447911123456";
    const GSM: [Carrier; 4] = [TMobile, Att, OtherGsm, InternationalGsm];

    fn ok(c: Carrier, m: Mode, r: Option<u32>, to: &str) -> ForwardingCodes {
        codes(c, m, r, to).unwrap_or_else(|e| panic!("{c:?} {m:?} {r:?}: {e}"))
    }

    #[test]
    fn slugs_round_trip() {
        for c in Carrier::ALL {
            assert_eq!(Carrier::from_slug(c.slug()), Some(c));
            assert_eq!(serde_json::to_value(c).ok(), Some(c.slug().into()));
            assert!(!c.label().is_empty());
            assert_eq!(c.is_gsm(), GSM.contains(&c));
        }
        for (raw, want) in [
            ("T-Mobile", Some(TMobile)),
            ("AT&T", Some(Att)),
            (" Other-GSM ", Some(OtherGsm)),
            ("vodafone", None),
            ("", None),
        ] {
            assert_eq!(Carrier::from_slug(raw), want, "{raw}");
        }
        assert_eq!(Mode::from_slug("safety_net"), Some(SafetyNet));
        assert_eq!(Mode::from_slug("TOTAL_AI"), Some(TotalAi));
        assert_eq!(Mode::from_slug("x"), None);
    }

    #[test]
    fn code_table() {
        for (c, m, r, to, on, off) in [
            (TMobile, TotalAi, None, AI, "**21*14155550123#", "##21#"),
            (Att, SafetyNet, None, AI, "**004*14155550123#", "##004#"),
            (
                OtherGsm,
                SafetyNet,
                Some(20),
                AI,
                "**004*14155550123*11*20#",
                "##004#",
            ),
            (
                InternationalGsm,
                TotalAi,
                None,
                UK,
                "**21*+447911123456#",
                "##21#",
            ),
            (
                InternationalGsm,
                SafetyNet,
                Some(20),
                UK,
                "**004*+447911123456*11*20#",
                "##004#",
            ),
            (
                InternationalGsm,
                SafetyNet,
                None,
                AI,
                "**004*+14155550123#",
                "##004#",
            ),
            (Verizon, TotalAi, None, AI, "*724155550123", "*73"),
            (Verizon, SafetyNet, None, AI, "*714155550123", "*73"),
            (Sprint, TotalAi, None, AI, "*724155550123", "*720"),
            (OtherCdma, TotalAi, None, AI, "*724155550123", "*73"),
            (
                OtherCdma,
                SafetyNet,
                None,
                AI,
                "*904155550123 then *924155550123",
                "*91 then *93",
            ),
        ] {
            let f = ok(c, m, r, to);
            assert_eq!(
                (f.activation.as_str(), f.deactivation.as_str()),
                (on, off),
                "{c:?} {m:?}"
            );
        }
        let f = ok(OtherCdma, SafetyNet, None, AI);
        assert_eq!(f.activation_codes, ["*904155550123", "*924155550123"]);
        assert_eq!(f.deactivation_codes, ["*91", "*93"]);
        assert!(ok(Sprint, TotalAi, None, AI)
            .notes
            .iter()
            .any(|n| n.contains("T-Mobile")));
    }

    #[test]
    fn gsm_every_allowed_ring_time() {
        for c in GSM {
            let num = if c == InternationalGsm {
                "+14155550123"
            } else {
                "14155550123"
            };
            for t in [5, 10, 15, 20, 25, 30] {
                let f = ok(c, SafetyNet, Some(t), AI);
                assert_eq!(f.activation_codes, [format!("**004*{num}*11*{t}#")]);
                assert_eq!(f.deactivation_codes, ["##004#"]);
                assert!(f
                    .steps
                    .iter()
                    .any(|x| x.contains(&format!("about {t} seconds"))));
                let single = format!("**61*{num}*11*{t}#");
                assert!(f.notes.iter().any(|x| x.contains(&single)), "{c:?} {t}");
            }
        }
    }

    #[test]
    fn refused_ring_times() {
        for c in GSM {
            for t in [0, 1, 4, 12, 29, 31, 35, 45, 60, 120, u32::MAX] {
                let got = codes(c, SafetyNet, Some(t), AI);
                assert_eq!(got, Err(ForwardingError::RingTimeInvalid(t)), "{c:?} {t}");
            }
        }
        let msg = ForwardingError::RingTimeInvalid(60).to_string();
        assert!(
            msg.contains("60 s is not possible") && msg.contains("30 seconds"),
            "{msg}"
        );
        for c in [Verizon, OtherCdma, Sprint] {
            for t in [5, 20, 30, 60] {
                let got = codes(c, SafetyNet, Some(t), AI);
                assert_eq!(got, Err(ForwardingError::RingTimeNotConfigurable(c)));
            }
        }
        for c in Carrier::ALL {
            for t in [5, 20, 60] {
                let got = codes(c, TotalAi, Some(t), AI);
                assert_eq!(got, Err(ForwardingError::RingTimeNotApplicable));
            }
        }
    }

    #[test]
    fn sprint_safety_net_refused() {
        let e = codes(Sprint, SafetyNet, None, AI);
        assert!(matches!(
            e,
            Err(ForwardingError::ModeNotSupported {
                carrier: Sprint,
                ..
            })
        ));
        let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.starts_with("Safety net forwarding is not available for Sprint"),
            "{msg}"
        );
    }

    #[test]
    fn every_carrier_mode_ring_combination() {
        let rings = [
            None,
            Some(0),
            Some(5),
            Some(10),
            Some(15),
            Some(20),
            Some(25),
            Some(30),
            Some(60),
        ];
        for c in Carrier::ALL {
            for m in [TotalAi, SafetyNet] {
                for r in rings {
                    let got = codes(c, m, r, AI);
                    let valid_timer = r.is_none_or(|t| (5..=30).contains(&t) && t % 5 == 0);
                    let expect_ok = match (m, r) {
                        (TotalAi, r) => r.is_none(),
                        (SafetyNet, _) if c.is_gsm() => valid_timer,
                        (SafetyNet, r) => r.is_none() && c != Sprint,
                    };
                    assert_eq!(got.is_ok(), expect_ok, "{c:?} {m:?} {r:?} {got:?}");
                    if let Ok(f) = got {
                        assert!(!f.activation_codes.is_empty() && !f.deactivation_codes.is_empty());
                        assert!(f.steps.len() >= 3 && !f.notes.is_empty());
                        assert!(f.activation_codes.iter().all(|a| a.contains("4155550123")));
                        assert_eq!(f.activation, f.activation_codes.join(" then "));
                    }
                }
            }
        }
    }

    #[test]
    fn forward_to_validation() {
        for bad in [
            "",
            "4155550123",
            "+",
            "+0123456789",
            "+1415555O123",
            "+1234567",
            "++14155550123",
        ] {
            let got = codes(TMobile, TotalAi, None, bad);
            assert_eq!(
                got,
                Err(ForwardingError::InvalidNumber(bad.to_string())),
                "{bad}"
            );
        }
        assert!(codes(Att, TotalAi, None, "+1234567890123456").is_err());
        assert!(codes(Att, TotalAi, None, " +14155550123 ").is_ok());
        for c in Carrier::ALL.into_iter().filter(|c| *c != InternationalGsm) {
            // Not +1, or a NANP area code / exchange starting with 0 or 1.
            for bad in [UK, "+11155550123", "+14151550123"] {
                assert_eq!(
                    codes(c, TotalAi, None, bad),
                    Err(ForwardingError::NotNanp(c))
                );
            }
        }
        let long = "x".repeat(1000);
        let got = codes(Att, TotalAi, None, &long);
        assert!(matches!(got, Err(ForwardingError::InvalidNumber(s)) if s.len() == 40));
    }
}
