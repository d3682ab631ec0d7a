//! Authenticating a request from Vapi, on its raw bytes, against an org's webhook secrets.
//!
//! Owns the three wire forms of `reference/vapi.md` §3: the legacy `X-Vapi-Secret: <secret>` header, a bearer
//! credential (`Authorization: Bearer <secret>`), and an HMAC-SHA256 credential (`x-signature` over
//! `"{x-timestamp}.{raw body}"`). Pure: the caller passes the headers, the body exactly as received, the
//! candidate secrets and "now".
//!
//! The verified secret is what names the org, so the caller's flow is:
//! 1. [`presented_secret`] is `Some(s)` → look the org up by [`secret_lookup_key`]`(s)` (an indexed column, so
//!    no scan and no secret in the index), then [`verify`] against that org's secrets (current and previous,
//!    during rotation). No org found → 401.
//! 2. Otherwise, if [`has_signature`] → the request carries no secret to look up, so [`verify`] against the
//!    small set of candidate HMAC secrets the deployment has (an appliance serves one or a few clinics); the
//!    returned index says whose secret it was.
//! 3. Otherwise → 401 ([`VerifyError::Missing`]).
//!
//! Every [`VerifyError`] maps to 401. Comparisons are constant-time and every candidate secret is checked
//! (no early exit on the first match), so response timing says nothing about which secret, or how much of
//! one, matched.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

/// Allowed distance between `x-timestamp` and now, either direction.
pub const MAX_SKEW_SECS: i64 = 300;

/// `x-timestamp` at or above this magnitude is milliseconds: as seconds it would be the year 5138, as
/// milliseconds it is 1973, so no plausible timestamp is ambiguous.
const MILLIS_THRESHOLD: u64 = 100_000_000_000;

const SECRET_HEADER: &str = "x-vapi-secret";
const SIGNATURE_HEADER: &str = "x-signature";
const TIMESTAMP_HEADER: &str = "x-timestamp";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no Vapi credentials on the request")]
    Missing,
    #[error("the presented credentials match no secret")]
    Mismatch,
    #[error("the signature timestamp is missing, unreadable or outside the allowed window")]
    StaleTimestamp,
    #[error("the signature is not hex or base64 of a SHA-256 MAC")]
    BadSignatureEncoding,
}

/// Which of `secrets` authenticates this request. `headers` are `(name, value)` with lowercase names (other
/// cases are tolerated). Empty secrets never match, so an unset secret cannot open the door.
///
/// A presented secret (`x-vapi-secret` or bearer) is tried first; if it does not match and the request also
/// carries `x-signature`, the HMAC decides (its error is the one returned).
pub fn verify(
    headers: &[(String, String)],
    body: &[u8],
    secrets: &[&str],
    now_unix_secs: i64,
) -> Result<usize, VerifyError> {
    let mut outcome = Err(VerifyError::Missing);
    // Both headers are checked: Vapi may send a static `X-Vapi-Secret` next to an unrelated bearer token.
    for presented in [header(headers, SECRET_HEADER), bearer_token(headers)]
        .into_iter()
        .flatten()
    {
        // Comparing digests keeps the comparison constant-time even when lengths differ.
        let presented = Sha256::digest(presented.as_bytes());
        let found = match_index(secrets, |secret| {
            Sha256::digest(secret)
                .as_slice()
                .ct_eq(presented.as_slice())
        });
        if let Some(index) = found {
            return Ok(index);
        }
        outcome = Err(VerifyError::Mismatch);
    }
    if let Some(signature) = header(headers, SIGNATURE_HEADER) {
        return verify_hmac(headers, signature, body, secrets, now_unix_secs);
    }
    outcome
}

/// The plain secret the request presents, if any: `x-vapi-secret`, else the token of `Authorization: Bearer`.
/// Use it only to find the org ([`secret_lookup_key`]); it is not verified.
pub fn presented_secret(headers: &[(String, String)]) -> Option<&str> {
    header(headers, SECRET_HEADER).or_else(|| bearer_token(headers))
}

/// Whether the request carries an HMAC signature (flow step 2 in the module doc).
pub fn has_signature(headers: &[(String, String)]) -> bool {
    header(headers, SIGNATURE_HEADER).is_some()
}

/// Hex SHA-256 of a secret: the indexed column that finds an org from a presented secret. Secrets are long
/// random strings, so an unsalted hash is safe to store next to the encrypted secret.
pub fn secret_lookup_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn verify_hmac(
    headers: &[(String, String)],
    signature: &str,
    body: &[u8],
    secrets: &[&str],
    now_unix_secs: i64,
) -> Result<usize, VerifyError> {
    let signature = decode_signature(signature).ok_or(VerifyError::BadSignatureEncoding)?;
    // A signature without a timestamp could be replayed forever, so it is refused.
    let timestamp = header(headers, TIMESTAMP_HEADER).ok_or(VerifyError::StaleTimestamp)?;
    let signed_at = timestamp_secs(timestamp).ok_or(VerifyError::StaleTimestamp)?;
    let skew = i128::from(now_unix_secs) - i128::from(signed_at);
    if skew.abs() > i128::from(MAX_SKEW_SECS) {
        return Err(VerifyError::StaleTimestamp);
    }
    // The timestamp is signed as sent (seconds or milliseconds), not as normalised here.
    match_index(secrets, |secret| {
        match hmac_sha256(secret, timestamp, body) {
            Some(tag) => tag.ct_eq(&signature),
            None => Choice::from(0),
        }
    })
    .ok_or(VerifyError::Mismatch)
}

/// Index of the first non-empty secret for which `is_match` holds, visiting all of them alike.
fn match_index(secrets: &[&str], mut is_match: impl FnMut(&[u8]) -> Choice) -> Option<usize> {
    let mut found = Choice::from(0);
    let mut index = 0u64;
    for (i, secret) in secrets.iter().enumerate() {
        let usable = Choice::from(u8::from(!secret.is_empty()));
        let hit = is_match(secret.as_bytes()) & usable & !found;
        index.conditional_assign(&(i as u64), hit);
        found |= hit;
    }
    if bool::from(found) {
        usize::try_from(index).ok()
    } else {
        None
    }
}

fn hmac_sha256(key: &[u8], timestamp: &str, body: &[u8]) -> Option<[u8; 32]> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac.finalize().into_bytes().into())
}

/// Hex (either case) or base64 (standard or URL-safe, padded or not), with an optional `sha256=` prefix; it
/// must decode to exactly 32 bytes.
fn decode_signature(raw: &str) -> Option<[u8; 32]> {
    let raw = raw.trim();
    let raw = match raw.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("sha256=") => raw.get(7..)?,
        _ => raw,
    };
    // 64 hex digits are also valid base64 (of 48 bytes), so hex is tried first and the length check settles it.
    let bytes = if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(raw).ok()?
    } else {
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(raw).ok())?
    };
    bytes.try_into().ok()
}

fn timestamp_secs(raw: &str) -> Option<i64> {
    let value: i64 = raw.parse().ok()?;
    Some(if value.unsigned_abs() >= MILLIS_THRESHOLD {
        value / 1000
    } else {
        value
    })
}

/// First header of that name, trimmed; blank counts as absent.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

fn bearer_token(headers: &[(String, String)]) -> Option<&str> {
    let value = header(headers, "authorization")?;
    let (scheme, token) = value.split_once(|c: char| c.is_ascii_whitespace())?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_763_676_000;
    const BODY: &str = r#"{"message":{"type":"tool-calls"}}"#;
    /// HMAC-SHA256("s3cr3t", "1763676000." + BODY), computed independently with `openssl dgst -hmac`.
    const SIG_HEX: &str = "b0213ed7f1cb3c2f6c0c7af4742c5d47469d88dbdc34f3bf298496fb7d17778e";
    const SIG_B64: &str = "sCE+1/HLPC9sDHr0dCxdR0adiNvcNPO/KYSW+30Xd44=";

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
        hex::encode(hmac_sha256(secret.as_bytes(), timestamp, body).expect("hmac accepts any key"))
    }

    fn check(headers: &[(&str, &str)], secrets: &[&str]) -> Result<usize, VerifyError> {
        verify(&h(headers), BODY.as_bytes(), secrets, NOW)
    }

    #[test]
    fn x_vapi_secret() {
        assert_eq!(check(&[("x-vapi-secret", "s3cr3t")], &["s3cr3t"]), Ok(0));
        assert_eq!(
            check(&[("x-vapi-secret", "s3cr3t")], &["old", "s3cr3t"]),
            Ok(1)
        );
        assert_eq!(check(&[("X-Vapi-Secret", " s3cr3t ")], &["s3cr3t"]), Ok(0));
        assert_eq!(
            check(&[("x-vapi-secret", "s3cr3")], &["s3cr3t"]),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&[("x-vapi-secret", "s3cr3tt")], &["s3cr3t"]),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&[("x-vapi-secret", "S3CR3T")], &["s3cr3t"]),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&[("x-vapi-secret", "s3cr3t")], &[]),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn duplicate_secrets_report_the_first() {
        assert_eq!(check(&[("x-vapi-secret", "s")], &["a", "s", "s"]), Ok(1));
    }

    #[test]
    fn bearer() {
        for value in [
            "Bearer s3cr3t",
            "bearer s3cr3t",
            "BEARER   s3cr3t  ",
            "Bearer\ts3cr3t",
        ] {
            assert_eq!(
                check(&[("authorization", value)], &["s3cr3t"]),
                Ok(0),
                "{value}"
            );
        }
        for value in [
            "Basic s3cr3t",
            "s3cr3t",
            "Bearer",
            "Bearer   ",
            "Bearers3cr3t",
        ] {
            assert_eq!(
                check(&[("authorization", value)], &["s3cr3t"]),
                Err(VerifyError::Missing),
                "{value}"
            );
        }
        assert_eq!(
            check(&[("authorization", "Bearer nope")], &["s3cr3t"]),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn either_presented_header_may_carry_the_secret() {
        let headers = [
            ("authorization", "Bearer unrelated"),
            ("x-vapi-secret", "s3cr3t"),
        ];
        assert_eq!(check(&headers, &["s3cr3t"]), Ok(0));
        let headers = [
            ("authorization", "Bearer s3cr3t"),
            ("x-vapi-secret", "unrelated"),
        ];
        assert_eq!(check(&headers, &["s3cr3t"]), Ok(0));
    }

    #[test]
    fn empty_secrets_never_match() {
        assert_eq!(
            check(&[("x-vapi-secret", "")], &[""]),
            Err(VerifyError::Missing)
        );
        assert_eq!(
            check(&[("x-vapi-secret", "   ")], &["", " "]),
            Err(VerifyError::Missing)
        );
        assert_eq!(check(&[("x-vapi-secret", "x")], &["", "x"]), Ok(1));
        let empty_key_sig = sign("", "1763676000", BODY.as_bytes());
        assert_eq!(
            check(
                &[
                    ("x-signature", &empty_key_sig),
                    ("x-timestamp", "1763676000")
                ],
                &[""]
            ),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(check(&[], &["s3cr3t"]), Err(VerifyError::Missing));
    }

    #[test]
    fn hmac_known_vector_in_every_encoding() {
        assert_eq!(sign("s3cr3t", "1763676000", BODY.as_bytes()), SIG_HEX);
        let upper = SIG_HEX.to_ascii_uppercase();
        let prefixed = format!("sha256={SIG_HEX}");
        let prefixed_upper = format!("SHA256={SIG_B64}");
        let url_safe = SIG_B64.replace('+', "-").replace('/', "_");
        let unpadded = SIG_B64.trim_end_matches('=').to_string();
        for signature in [
            SIG_HEX,
            SIG_B64,
            &upper,
            &prefixed,
            &prefixed_upper,
            &url_safe,
            &unpadded,
        ] {
            assert_eq!(
                check(
                    &[("x-signature", signature), ("x-timestamp", "1763676000")],
                    &["other", "s3cr3t"]
                ),
                Ok(1),
                "{signature}"
            );
        }
    }

    #[test]
    fn hmac_timestamp_units_and_window() {
        let body = BODY.as_bytes();
        let at = |ts: &str, now: i64| {
            verify(
                &h(&[("x-signature", &sign("k", ts, body)), ("x-timestamp", ts)]),
                body,
                &["k"],
                now,
            )
        };
        assert_eq!(at("1763676000", NOW), Ok(0));
        assert_eq!(at("1763676000123", NOW), Ok(0), "milliseconds");
        assert_eq!(at("1763676000", NOW + MAX_SKEW_SECS), Ok(0));
        assert_eq!(at("1763676000", NOW - MAX_SKEW_SECS), Ok(0));
        assert_eq!(
            at("1763676000", NOW + MAX_SKEW_SECS + 1),
            Err(VerifyError::StaleTimestamp)
        );
        assert_eq!(
            at("1763676000", NOW - MAX_SKEW_SECS - 1),
            Err(VerifyError::StaleTimestamp)
        );
        assert_eq!(at("1763676301999", NOW), Err(VerifyError::StaleTimestamp));
        for ts in [
            "",
            "abc",
            "1763676000.5",
            "9223372036854775808",
            "-9223372036854775808",
            "9223372036854775807",
        ] {
            assert_eq!(at(ts, NOW), Err(VerifyError::StaleTimestamp), "{ts:?}");
        }
        assert_eq!(at("0", i64::MIN), Err(VerifyError::StaleTimestamp));
        assert_eq!(
            at("-9223372036854775808", i64::MAX),
            Err(VerifyError::StaleTimestamp)
        );
        let missing = [("x-signature", SIG_HEX)];
        assert_eq!(
            check(&missing, &["s3cr3t"]),
            Err(VerifyError::StaleTimestamp)
        );
    }

    #[test]
    fn hmac_rejects_tampering_and_wrong_keys() {
        let headers = [("x-signature", SIG_HEX), ("x-timestamp", "1763676000")];
        assert_eq!(check(&headers, &["wrong"]), Err(VerifyError::Mismatch));
        let tampered = BODY.replace("tool-calls", "tool-callz");
        assert_eq!(
            verify(&h(&headers), tampered.as_bytes(), &["s3cr3t"], NOW),
            Err(VerifyError::Mismatch)
        );
        // The timestamp is part of what is signed.
        let shifted = [("x-signature", SIG_HEX), ("x-timestamp", "1763676001")];
        assert_eq!(check(&shifted, &["s3cr3t"]), Err(VerifyError::Mismatch));
        let as_millis = [("x-signature", SIG_HEX), ("x-timestamp", "1763676000000")];
        assert_eq!(check(&as_millis, &["s3cr3t"]), Err(VerifyError::Mismatch));
    }

    #[test]
    fn hmac_over_raw_non_utf8_bytes() {
        let body = b"\xff\x00{\"message\":\xfe}";
        let headers = h(&[
            ("x-signature", &sign("k", "1763676000", body)),
            ("x-timestamp", "1763676000"),
        ]);
        assert_eq!(verify(&headers, body, &["k"], NOW), Ok(0));
    }

    #[test]
    fn bad_signature_encodings() {
        for signature in [
            "zz",
            "not base64 at all!",
            "sha256=",
            &SIG_HEX[..62],
            &format!("{SIG_HEX}00"),
            "c2hvcnQ=",
            "sha25",
            "é€漢字",
        ] {
            assert_eq!(
                check(
                    &[("x-signature", signature), ("x-timestamp", "1763676000")],
                    &["s3cr3t"]
                ),
                Err(VerifyError::BadSignatureEncoding),
                "{signature}"
            );
        }
    }

    #[test]
    fn failed_secret_falls_through_to_hmac() {
        let headers = [
            ("x-vapi-secret", "wrong"),
            ("x-signature", SIG_HEX),
            ("x-timestamp", "1763676000"),
        ];
        assert_eq!(check(&headers, &["s3cr3t"]), Ok(0));
        let headers = [
            ("x-vapi-secret", "wrong"),
            ("x-signature", SIG_HEX),
            ("x-timestamp", "1"),
        ];
        assert_eq!(
            check(&headers, &["s3cr3t"]),
            Err(VerifyError::StaleTimestamp)
        );
    }

    #[test]
    fn presented_secret_and_signature_presence() {
        assert_eq!(presented_secret(&h(&[("x-vapi-secret", " a ")])), Some("a"));
        assert_eq!(
            presented_secret(&h(&[("authorization", "Bearer b")])),
            Some("b")
        );
        assert_eq!(
            presented_secret(&h(&[("authorization", "Bearer b"), ("x-vapi-secret", "a")])),
            Some("a")
        );
        assert_eq!(presented_secret(&h(&[("authorization", "Basic b")])), None);
        assert_eq!(presented_secret(&h(&[("x-vapi-secret", "")])), None);
        assert!(has_signature(&h(&[("X-Signature", "x")])));
        assert!(!has_signature(&h(&[("x-signature", " ")])));
    }

    #[test]
    fn lookup_key_is_hex_sha256() {
        assert_eq!(
            secret_lookup_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(secret_lookup_key("abc "), secret_lookup_key("abc"));
    }

    #[test]
    fn hostile_header_values_never_panic() {
        let values = [
            "",
            " ",
            "sha256=",
            "SHA256=é",
            "é",
            "Bearer é",
            "\u{0}",
            "=",
            "====",
            "-1",
            "99999999999999999999",
        ];
        for a in values {
            for b in values {
                let headers = h(&[
                    ("x-signature", a),
                    ("x-timestamp", b),
                    ("authorization", a),
                    ("x-vapi-secret", b),
                ]);
                let _ = verify(&headers, b"", &["k", ""], NOW);
                let _ = verify(&headers, b"", &[], i64::MIN);
            }
        }
    }
}
