//! Phone numbers: turning what a caller, the assistant or a staff member typed into one canonical
//! E.164 string ("+14155550123"), and refusing anything that could not be dialled with a message a
//! person can act on.
//!
//! National forms are read against the clinic's country; international forms ("+44 …", "00 44 …",
//! "tel:+1…") are read on their own. Countries in the table get length (and, for North America,
//! area-code) checks; other country codes get only the E.164 length bounds, so a caller from abroad
//! is never refused just because the table is short.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A phone number in E.164 form: "+" then 8 to 15 digits, the country code first.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("No phone number was given.")]
    Empty,
    #[error("“{input}” contains letters; please give the phone number as digits only.")]
    Letters { input: String },
    #[error("“{input}” is not a phone number (it contains “{found}”).")]
    InvalidCharacter { input: String, found: char },
    #[error("“{input}” is too short to be a phone number.")]
    TooShort { input: String },
    #[error("“{input}” is too long to be a phone number.")]
    TooLong { input: String },
    #[error("“{input}” is not a valid North American number ({reason}).")]
    InvalidNorthAmerican { input: String, reason: &'static str },
    #[error("“{input}” has the wrong number of digits for {country} number.")]
    WrongLength {
        input: String,
        country: &'static str,
    },
    #[error("“{input}” needs a country code; please give it starting with +.")]
    NeedsCountryCode { input: String },
    #[error("“{input}” does not start with a valid country code.")]
    BadCountryCode { input: String },
    #[error("“{country}” is not a country I can read local phone numbers for; please give the number starting with + and the country code.")]
    UnknownCountry { country: String },
}

struct Country {
    iso: &'static str,
    /// With its article, to fit "… for an Irish number".
    name: &'static str,
    code: &'static str,
    /// Dialled before area codes inside the country and dropped in international form.
    trunk: Option<char>,
    /// Prefix for dialling out of the country, besides the near-universal "00".
    exit: &'static str,
    /// Allowed length of the national significant number (after the country code, without trunk).
    nsn: (usize, usize),
}

const fn c(
    iso: &'static str,
    name: &'static str,
    code: &'static str,
    trunk: Option<char>,
    exit: &'static str,
    nsn: (usize, usize),
) -> Country {
    Country {
        iso,
        name,
        code,
        trunk,
        exit,
        nsn,
    }
}

const NANP_CODE: &str = "1";

// Lengths are from the national numbering plans; where a plan is open (DE, AT) the range is wide on
// purpose, since refusing a real number is worse than accepting an odd one.
const COUNTRIES: &[Country] = &[
    c("US", "a North American", NANP_CODE, None, "011", (10, 10)),
    c("CA", "a North American", NANP_CODE, None, "011", (10, 10)),
    c("PR", "a North American", NANP_CODE, None, "011", (10, 10)),
    c("GU", "a North American", NANP_CODE, None, "011", (10, 10)),
    c("VI", "a North American", NANP_CODE, None, "011", (10, 10)),
    c("BS", "a North American", NANP_CODE, None, "011", (10, 10)),
    c("JM", "a North American", NANP_CODE, None, "011", (10, 10)),
    c("TT", "a North American", NANP_CODE, None, "011", (10, 10)),
    c("BB", "a North American", NANP_CODE, None, "011", (10, 10)),
    c("BM", "a North American", NANP_CODE, None, "011", (10, 10)),
    c("GB", "a UK", "44", Some('0'), "00", (9, 10)),
    c("IE", "an Irish", "353", Some('0'), "00", (7, 9)),
    c("AU", "an Australian", "61", Some('0'), "0011", (9, 9)),
    c("NZ", "a New Zealand", "64", Some('0'), "00", (8, 10)),
    c("DE", "a German", "49", Some('0'), "00", (6, 13)),
    c("FR", "a French", "33", Some('0'), "00", (9, 9)),
    c("ES", "a Spanish", "34", None, "00", (9, 9)),
    c("IT", "an Italian", "39", None, "00", (6, 11)),
    c("PT", "a Portuguese", "351", None, "00", (9, 9)),
    c("NL", "a Dutch", "31", Some('0'), "00", (9, 9)),
    c("BE", "a Belgian", "32", Some('0'), "00", (8, 9)),
    c("LU", "a Luxembourg", "352", None, "00", (6, 11)),
    c("CH", "a Swiss", "41", Some('0'), "00", (9, 9)),
    c("AT", "an Austrian", "43", Some('0'), "00", (6, 13)),
    c("DK", "a Danish", "45", None, "00", (8, 8)),
    c("NO", "a Norwegian", "47", None, "00", (8, 8)),
    c("SE", "a Swedish", "46", Some('0'), "00", (7, 9)),
    c("FI", "a Finnish", "358", Some('0'), "00", (6, 11)),
    c("PL", "a Polish", "48", None, "00", (9, 9)),
    c("MX", "a Mexican", "52", None, "00", (10, 10)),
    c("BR", "a Brazilian", "55", Some('0'), "00", (10, 11)),
    c("ZA", "a South African", "27", Some('0'), "00", (9, 9)),
    c("IN", "an Indian", "91", Some('0'), "00", (10, 10)),
    c("SG", "a Singapore", "65", None, "000", (8, 8)),
    c("HK", "a Hong Kong", "852", None, "001", (8, 8)),
    c("JP", "a Japanese", "81", Some('0'), "010", (9, 10)),
    c("AE", "a UAE", "971", Some('0'), "00", (8, 9)),
    c("IL", "an Israeli", "972", Some('0'), "00", (8, 9)),
];

// E.164 allows up to 15 digits; below 8 nothing in use today is a full international number.
const E164_MIN: usize = 8;
const E164_MAX: usize = 15;
// Long enough to recognise in a sentence, short enough to read aloud.
const ECHO_MAX: usize = 40;

impl PhoneNumber {
    /// Reads a number typed or spoken in any common form. `default_country` (ISO 3166 alpha-2, e.g.
    /// "US", "GB") decides how a number without a country code is read; it is only consulted for
    /// such numbers, so an international number parses even if the clinic's country is unknown.
    pub fn parse(input: &str, default_country: &str) -> Result<PhoneNumber, PhoneError> {
        parse_with(input, Some(default_country))
    }

    /// The E.164 string, e.g. "+14155550123".
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits, the only part staff screens and logs may show.
    pub fn last_four(&self) -> &str {
        let start = self.0.len().saturating_sub(4);
        self.0.get(start..).unwrap_or("")
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Parses only numbers that carry their own country code ("+…", "00…", "tel:+…"), because a bare
/// string has no clinic to supply one.
impl FromStr for PhoneNumber {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_with(s, None)
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Deserialising re-validates through `FromStr`, so a stored or received value can never smuggle in
/// a number that `parse` would have refused.
impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

fn parse_with(input: &str, default_country: Option<&str>) -> Result<PhoneNumber, PhoneError> {
    let trimmed = input.trim();
    let echo = || echo_text(trimmed);
    let body = strip_tel_scheme(trimmed);
    if body.is_empty() {
        return Err(PhoneError::Empty);
    }

    let mut digits = String::new();
    let mut plus = false;
    for ch in body.chars() {
        match ch {
            '0'..='9' => digits.push(ch),
            '+' if digits.is_empty() && !plus => plus = true,
            ' ' | '\t' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' | '\u{2010}'..='\u{2015}' => {}
            c if c.is_alphabetic() => return Err(PhoneError::Letters { input: echo() }),
            found => {
                return Err(PhoneError::InvalidCharacter {
                    input: echo(),
                    found,
                })
            }
        }
    }
    if digits.is_empty() {
        return Err(PhoneError::TooShort { input: echo() });
    }

    let country = default_country.and_then(find_country);
    let international = if plus {
        Some(digits.as_str())
    } else {
        // No national number starts with "00" or with the country's own exit code, so either
        // means the caller dialled out to another country.
        country
            .and_then(|c| digits.strip_prefix(c.exit))
            .or_else(|| digits.strip_prefix("00"))
    };
    if let Some(rest) = international {
        return international_number(rest, &echo);
    }

    match (country, default_country) {
        (Some(country), _) => national_number(&digits, country, &echo),
        (None, Some(iso)) => Err(PhoneError::UnknownCountry {
            country: echo_text(iso.trim()),
        }),
        (None, None) => Err(PhoneError::NeedsCountryCode { input: echo() }),
    }
}

fn strip_tel_scheme(s: &str) -> &str {
    let without = match s.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("tel:") => s.get(4..).unwrap_or(""),
        _ => s,
    };
    // RFC 3966 parameters (";ext=", ";phone-context=") are not part of the number.
    without.split(';').next().unwrap_or("").trim()
}

fn find_country(iso: &str) -> Option<&'static Country> {
    let iso = iso.trim();
    COUNTRIES.iter().find(|c| c.iso.eq_ignore_ascii_case(iso))
}

fn international_number(
    digits: &str,
    echo: &dyn Fn() -> String,
) -> Result<PhoneNumber, PhoneError> {
    if digits.starts_with('0') {
        return Err(PhoneError::BadCountryCode { input: echo() });
    }
    // Country codes are prefix-free, so at most one table entry's code can match.
    let known = COUNTRIES.iter().find(|c| digits.starts_with(c.code));
    match known {
        Some(country) => {
            let rest = digits.get(country.code.len()..).unwrap_or("");
            // "+44 (0)20 …" is a common way to write a UK number; the trunk 0 is never dialled from abroad.
            let rest = match country.trunk {
                Some(trunk) => rest.strip_prefix(trunk).unwrap_or(rest),
                None => rest,
            };
            finish(country, rest, echo)
        }
        None => {
            if digits.len() < E164_MIN {
                Err(PhoneError::TooShort { input: echo() })
            } else if digits.len() > E164_MAX {
                Err(PhoneError::TooLong { input: echo() })
            } else {
                Ok(PhoneNumber(format!("+{digits}")))
            }
        }
    }
}

fn national_number(
    digits: &str,
    country: &'static Country,
    echo: &dyn Fn() -> String,
) -> Result<PhoneNumber, PhoneError> {
    let nsn = if country.code == NANP_CODE {
        // "1-415-555-0123": the leading 1 is the long-distance prefix, only when 11 digits are given.
        if digits.len() == 11 {
            digits.strip_prefix('1').unwrap_or(digits)
        } else {
            digits
        }
    } else {
        match country.trunk {
            Some(trunk) => digits.strip_prefix(trunk).unwrap_or(digits),
            None => digits,
        }
    };
    finish(country, nsn, echo)
}

fn finish(
    country: &Country,
    nsn: &str,
    echo: &dyn Fn() -> String,
) -> Result<PhoneNumber, PhoneError> {
    let (min, max) = country.nsn;
    let total = country.code.len() + nsn.len();
    if nsn.len() < min || total < E164_MIN {
        // "Too short" is what a person understands for a number that got cut off; reserve the
        // country-specific wording for numbers that are plausible but do not fit the plan.
        return Err(if nsn.len() + 2 < min || total < E164_MIN {
            PhoneError::TooShort { input: echo() }
        } else {
            PhoneError::WrongLength {
                input: echo(),
                country: country.name,
            }
        });
    }
    if nsn.len() > max || total > E164_MAX {
        return Err(if total > E164_MAX {
            PhoneError::TooLong { input: echo() }
        } else {
            PhoneError::WrongLength {
                input: echo(),
                country: country.name,
            }
        });
    }
    if country.code == NANP_CODE {
        check_nanp(nsn).map_err(|reason| PhoneError::InvalidNorthAmerican {
            input: echo(),
            reason,
        })?;
    }
    Ok(PhoneNumber(format!("+{}{}", country.code, nsn)))
}

/// NANP numbers are NXX-NXX-XXXX; N11 codes are reserved for services like 911 and 411.
fn check_nanp(nsn: &str) -> Result<(), &'static str> {
    let b = nsn.as_bytes();
    let (Some(&a0), Some(&a1), Some(&a2), Some(&e0), Some(&e1), Some(&e2)) =
        (b.first(), b.get(1), b.get(2), b.get(3), b.get(4), b.get(5))
    else {
        return Err("it needs ten digits");
    };
    match (a0, e0) {
        (b'0', _) => Err("area code cannot start with 0"),
        (b'1', _) => Err("area code cannot start with 1"),
        _ if a1 == b'1' && a2 == b'1' => Err("area code cannot end in 11"),
        (_, b'0') => Err("exchange cannot start with 0"),
        (_, b'1') => Err("exchange cannot start with 1"),
        _ if e1 == b'1' && e2 == b'1' => Err("exchange cannot end in 11"),
        _ => Ok(()),
    }
}

fn echo_text(s: &str) -> String {
    if s.chars().count() <= ECHO_MAX {
        s.to_string()
    } else {
        let mut cut: String = s.chars().take(ECHO_MAX).collect();
        cut.push('…');
        cut
    }
}

/// A stored E.164 number as people in the clinic's country write it: `(415) 555-0188` for a
/// North American number in a North American clinic; otherwise the international form,
/// unchanged. Anything that is not E.164 is shown as it is.
pub fn national(e164: &str, default_country: &str) -> String {
    let nanp = matches!(default_country, "US" | "CA");
    match e164.strip_prefix("+1") {
        Some(rest) if nanp && rest.len() == 10 && rest.bytes().all(|b| b.is_ascii_digit()) => {
            format!("({}) {}-{}", &rest[..3], &rest[3..6], &rest[6..])
        }
        _ => e164.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_show_in_the_clinics_national_format() {
        assert_eq!(national("+14155550188", "US"), "(415) 555-0188");
        assert_eq!(national("+14155550188", "CA"), "(415) 555-0188");
        assert_eq!(national("+447700900123", "US"), "+447700900123");
        assert_eq!(national("+14155550188", "GB"), "+14155550188");
        assert_eq!(national("anonymous", "US"), "anonymous");
    }
    use serde::de::value::{Error as ValueError, StrDeserializer};
    use serde::de::IntoDeserializer;

    fn ok(input: &str, country: &str) -> String {
        match PhoneNumber::parse(input, country) {
            Ok(n) => n.as_str().to_string(),
            Err(e) => panic!("{input:?} ({country}) should parse: {e}"),
        }
    }

    fn err(input: &str, country: &str) -> PhoneError {
        match PhoneNumber::parse(input, country) {
            Ok(n) => panic!("{input:?} ({country}) should fail, got {n}"),
            Err(e) => e,
        }
    }

    #[test]
    fn north_american_forms() {
        for input in [
            "(415) 555-0123",
            "415.555.0123",
            "415-555-0123",
            "4155550123",
            "+1 415 555 0123",
            "1-415-555-0123",
            "1 (415) 555-0123",
            "+14155550123",
            "tel:+1-415-555-0123",
            "TEL:+14155550123;ext=12",
            "  415 555 0123  ",
            "011 1 415 555 0123",
            "415\u{a0}555\u{2013}0123",
        ] {
            assert_eq!(ok(input, "US"), "+14155550123", "{input}");
        }
        assert_eq!(ok("(604) 555-0199", "CA"), "+16045550199");
        assert_eq!(ok("(604) 555-0199", "ca"), "+16045550199");
    }

    #[test]
    fn north_american_rules() {
        let e = err("+1 123 555 0100", "US");
        assert_eq!(
            e.to_string(),
            "“+1 123 555 0100” is not a valid North American number (area code cannot start with 1)."
        );
        assert!(err("023 555 0100", "US")
            .to_string()
            .contains("area code cannot start with 0"));
        assert!(err("415 155 0100", "US")
            .to_string()
            .contains("exchange cannot start with 1"));
        assert!(err("415 055 0100", "US")
            .to_string()
            .contains("exchange cannot start with 0"));
        assert!(err("911 555 0100", "US")
            .to_string()
            .contains("area code cannot end in 11"));
        assert!(err("415 411 0100", "US")
            .to_string()
            .contains("exchange cannot end in 11"));
        assert_eq!(
            err("415-555", "US").to_string(),
            "“415-555” is too short to be a phone number."
        );
        assert!(matches!(
            err("415-555-012", "US"),
            PhoneError::WrongLength { .. }
        ));
        assert!(matches!(
            err("415-555-01234", "US"),
            PhoneError::WrongLength { .. }
        ));
        assert!(matches!(
            err("2-415-555-0123", "US"),
            PhoneError::WrongLength { .. }
        ));
    }

    #[test]
    fn international_forms() {
        assert_eq!(ok("00 44 20 7946 0958", "US"), "+442079460958");
        assert_eq!(ok("00 44 20 7946 0958", "GB"), "+442079460958");
        assert_eq!(ok("+442079460958", "US"), "+442079460958");
        assert_eq!(ok("+44 (0)20 7946 0958", "US"), "+442079460958");
        assert_eq!(ok("0011 61 2 9876 5432", "AU"), "+61298765432");
        assert_eq!(ok("+49 30 123456", "US"), "+4930123456");
        // Unknown to the table but plausible: only the E.164 bounds apply.
        assert_eq!(ok("+86 10 1234 5678", "US"), "+861012345678");
        assert_eq!(ok("+7 495 123 45 67", "GB"), "+74951234567");
        assert!(matches!(
            err("+0 123 456 789", "US"),
            PhoneError::BadCountryCode { .. }
        ));
        assert!(matches!(
            err("+86 12345", "US"),
            PhoneError::TooShort { .. }
        ));
        assert!(matches!(
            err("+86 1234 5678 9012 3456", "US"),
            PhoneError::TooLong { .. }
        ));
        assert!(matches!(
            err("+44 20 7946 09581234", "US"),
            PhoneError::TooLong { .. }
        ));
    }

    #[test]
    fn national_forms_strip_trunk_zero() {
        assert_eq!(ok("020 7946 0958", "GB"), "+442079460958");
        assert_eq!(ok("07700 900123", "GB"), "+447700900123");
        assert_eq!(ok("(02) 9876 5432", "AU"), "+61298765432");
        assert_eq!(ok("0412 345 678", "AU"), "+61412345678");
        assert_eq!(ok("01 234 5678", "IE"), "+35312345678");
        assert_eq!(ok("087 123 4567", "IE"), "+353871234567");
        assert_eq!(ok("09 123 4567", "NZ"), "+6491234567");
        assert_eq!(ok("021 123 4567", "NZ"), "+64211234567");
        assert_eq!(ok("030 123456", "DE"), "+4930123456");
        assert_eq!(ok("01 23 45 67 89", "FR"), "+33123456789");
        assert_eq!(ok("06 12 34 56 78", "FR"), "+33612345678");
        // Italy keeps the leading 0 of its area codes.
        assert_eq!(ok("06 1234 5678", "IT"), "+390612345678");
        assert!(matches!(
            err("01 23 45 67", "FR"),
            PhoneError::WrongLength { .. }
        ));
        assert_eq!(
            err("0412 345 6789", "AU").to_string(),
            "“0412 345 6789” has the wrong number of digits for an Australian number."
        );
    }

    #[test]
    fn bad_input_messages() {
        assert_eq!(err("", "US"), PhoneError::Empty);
        assert_eq!(err("   ", "US"), PhoneError::Empty);
        assert_eq!(err("tel:", "US"), PhoneError::Empty);
        assert!(matches!(
            err("1-800-FLOWERS", "US"),
            PhoneError::Letters { .. }
        ));
        assert!(matches!(
            err("415 555 0123 ext 4", "US"),
            PhoneError::Letters { .. }
        ));
        assert_eq!(
            err("415*555*0123", "US"),
            PhoneError::InvalidCharacter {
                input: "415*555*0123".into(),
                found: '*'
            }
        );
        assert!(matches!(
            err("415+555+0123", "US"),
            PhoneError::InvalidCharacter { found: '+', .. }
        ));
        assert!(matches!(
            err("++14155550123", "US"),
            PhoneError::InvalidCharacter { .. }
        ));
        assert!(matches!(err("---", "US"), PhoneError::TooShort { .. }));
        assert_eq!(
            err("415 555 0123", "XX").to_string(),
            "“XX” is not a country I can read local phone numbers for; please give the number starting with + and the country code."
        );
        // The clinic's country is not needed for an international number.
        assert_eq!(ok("+14155550123", "XX"), "+14155550123");
        let long = "1".repeat(200);
        let msg = err(&long, "US").to_string();
        assert!(msg.chars().count() < 100, "{msg}");
        assert!(!msg.contains("Invalid"));
    }

    #[test]
    fn accessors() {
        let n = PhoneNumber::parse("(415) 555-0123", "US").unwrap();
        assert_eq!(n.as_str(), "+14155550123");
        assert_eq!(n.to_string(), "+14155550123");
        assert_eq!(n.last_four(), "0123");
        assert_eq!(n.as_ref(), "+14155550123");
    }

    #[test]
    fn from_str_requires_country_code() {
        assert_eq!(
            "+14155550123".parse::<PhoneNumber>().unwrap().as_str(),
            "+14155550123"
        );
        assert_eq!(
            "0044 20 7946 0958".parse::<PhoneNumber>().unwrap().as_str(),
            "+442079460958"
        );
        assert!(matches!(
            "415 555 0123".parse::<PhoneNumber>(),
            Err(PhoneError::NeedsCountryCode { .. })
        ));
    }

    #[test]
    fn deserialize_validates() {
        let de: StrDeserializer<'_, ValueError> = "+1 415 555 0123".into_deserializer();
        assert_eq!(
            PhoneNumber::deserialize(de).unwrap().as_str(),
            "+14155550123"
        );
        let de: StrDeserializer<'_, ValueError> = "+1 123 555 0100".into_deserializer();
        let e = PhoneNumber::deserialize(de).unwrap_err().to_string();
        assert!(e.contains("area code cannot start with 1"), "{e}");
        let de: StrDeserializer<'_, ValueError> = "hello".into_deserializer();
        assert!(PhoneNumber::deserialize(de).is_err());
    }

    #[test]
    fn serialize_is_the_e164_string() {
        // serde can serialize into a fmt::Formatter, which shows exactly what serialize_str was given.
        struct ViaSerde<'a>(&'a PhoneNumber);
        impl fmt::Display for ViaSerde<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.serialize(f)
            }
        }
        let n = PhoneNumber::parse("+44 20 7946 0958", "GB").unwrap();
        assert_eq!(ViaSerde(&n).to_string(), "+442079460958");
    }

    #[test]
    fn country_codes_are_prefix_free() {
        for a in COUNTRIES {
            for b in COUNTRIES {
                if a.code != b.code {
                    assert!(!a.code.starts_with(b.code), "{} vs {}", a.iso, b.iso);
                }
            }
            assert!(a.nsn.0 <= a.nsn.1);
        }
    }

    #[test]
    fn parse_never_panics() {
        let fragments = [
            "+", "0", "00", "011", "1", "44", "415", "555", "0123", " ", "-", "(", ")", "tel:",
            ";", "é", "٣", "🙂", "x", "\u{a0}", "7", "99999999",
        ];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            usize::try_from(seed >> 33).unwrap_or(0)
        };
        for _ in 0..4000 {
            let len = next() % 8 + 1;
            let text: String = (0..len)
                .map(|_| fragments[next() % fragments.len()])
                .collect();
            for country in ["US", "GB", "AU", "IT", "", "é", "ZZZ"] {
                if let Ok(n) = PhoneNumber::parse(&text, country) {
                    let digits = n.as_str().len() - 1;
                    assert!((E164_MIN..=E164_MAX).contains(&digits), "{text:?} -> {n}");
                    assert_eq!(
                        n.as_str().parse::<PhoneNumber>(),
                        Ok(n.clone()),
                        "round trip"
                    );
                }
            }
            let _ = text.parse::<PhoneNumber>();
        }
    }
}
