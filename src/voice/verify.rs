//! Authenticating a request from Vapi, on its raw bytes, against an org's webhook secrets.
//!
//! Owns the three wire forms of `docs/vapi.md` §3: the legacy `X-Vapi-Secret: <secret>` header, a bearer
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
    crate::crypto::token_hash(secret)
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
mod tests;
