//! Authenticating a request from Vapi, on its raw bytes, against an org's webhook secrets.
//!
//! Owns the three wire forms of `docs/vapi.md` §3: the legacy `X-Vapi-Secret: <secret>` header, a bearer
//! credential (`Authorization: Bearer <secret>`), and an HMAC credential, signed as the org's
//! [`HmacPlan`] says (by default SHA-256 in `x-signature` over `"{x-timestamp}.{raw body}"`). Pure: the
//! caller passes the headers, the body exactly as received, the candidate secrets with their plans and
//! "now".
//!
//! The verified secret is what names the org, so the caller's flow is:
//! 1. [`presented_secret`] is `Some(s)` → look the org up by [`secret_lookup_key`]`(s)` (an indexed column, so
//!    no scan and no secret in the index), then [`verify`] against that org's secret and plan. No org found
//!    → step 2.
//! 2. Otherwise, the secrets of the orgs whose plan's signature header the request carries
//!    ([`carries_signature`]) are the candidates (an appliance serves one or a few clinics); [`verify`]
//!    returns whose secret it was.
//! 3. Otherwise → 401 ([`VerifyError::Missing`]).
//!
//! Every [`VerifyError`] maps to 401. Comparisons are constant-time and every candidate secret is checked
//! (no early exit on the first match), so response timing says nothing about which secret, or how much of
//! one, matched.

use crate::domain::hmac_plan::{HmacAlgorithm, HmacPlan, SignatureEncoding};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

/// Allowed distance between the signed timestamp and now, either direction.
pub const MAX_SKEW_SECS: i64 = 300;

/// A timestamp at or above this magnitude is milliseconds: as seconds it would be the year 5138, as
/// milliseconds it is 1973, so no plausible timestamp is ambiguous.
const MILLIS_THRESHOLD: u64 = 100_000_000_000;

const SECRET_HEADER: &str = "x-vapi-secret";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no Vapi credentials on the request")]
    Missing,
    #[error("the presented credentials match no secret")]
    Mismatch,
    #[error("the signature timestamp is missing, unreadable or outside the allowed window")]
    StaleTimestamp,
    #[error("the signature is not in the encoding and length the HMAC plan says")]
    BadSignatureEncoding,
}

/// A secret that may authenticate a request, and how its org's HMAC credential signs.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub secret: &'a str,
    pub plan: &'a HmacPlan,
}

/// Which of `candidates` authenticates this request. `headers` are `(name, value)` with lowercase names
/// (other cases are tolerated). Empty secrets never match, so an unset secret cannot open the door.
///
/// A presented secret (`x-vapi-secret` or bearer) is tried first; if it does not match and the request also
/// carries a candidate's signature header, the HMAC decides (its error is the one returned).
pub fn verify(
    headers: &[(String, String)],
    body: &[u8],
    candidates: &[Candidate<'_>],
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
        let found = match_index(candidates, |c| {
            Sha256::digest(c.secret.as_bytes())
                .as_slice()
                .ct_eq(presented.as_slice())
        });
        if let Some(index) = found {
            return Ok(index);
        }
        outcome = Err(VerifyError::Mismatch);
    }
    if candidates
        .iter()
        .any(|c| carries_signature(headers, c.plan))
    {
        return verify_hmac(headers, body, candidates, now_unix_secs);
    }
    outcome
}

/// The plain secret the request presents, if any: `x-vapi-secret`, else the token of `Authorization: Bearer`.
/// Use it only to find the org ([`secret_lookup_key`]); it is not verified.
pub fn presented_secret(headers: &[(String, String)]) -> Option<&str> {
    header(headers, SECRET_HEADER).or_else(|| bearer_token(headers))
}

/// Whether the request carries a signature where `plan` puts it (flow step 2 in the module doc).
pub fn carries_signature(headers: &[(String, String)], plan: &HmacPlan) -> bool {
    header(headers, &plan.signature_header).is_some()
}

/// Hex SHA-256 of a secret: the indexed column that finds an org from a presented secret. Secrets are long
/// random strings, so an unsalted hash is safe to store next to the encrypted secret.
pub fn secret_lookup_key(secret: &str) -> String {
    crate::crypto::token_hash(secret)
}

fn verify_hmac(
    headers: &[(String, String)],
    body: &[u8],
    candidates: &[Candidate<'_>],
    now_unix_secs: i64,
) -> Result<usize, VerifyError> {
    // Of the candidates that fail before their MAC is compared, the first reason that is not "no
    // signature" is the one reported (all of them are 401).
    let mut failure = VerifyError::Mismatch;
    let mut reported = false;
    let found = match_index(candidates, |c| {
        match signed_as_planned(headers, body, c, now_unix_secs) {
            Ok(hit) => hit,
            Err(e) => {
                if !reported && e != VerifyError::Missing {
                    (failure, reported) = (e, true);
                }
                Choice::from(0)
            }
        }
    });
    found.ok_or(failure)
}

/// Whether the request's signature is the MAC of `candidate`'s secret as its plan computes it.
fn signed_as_planned(
    headers: &[(String, String)],
    body: &[u8],
    candidate: &Candidate<'_>,
    now_unix_secs: i64,
) -> Result<Choice, VerifyError> {
    let plan = candidate.plan;
    let signature = header(headers, &plan.signature_header).ok_or(VerifyError::Missing)?;
    let signature = decode_signature(signature, plan).ok_or(VerifyError::BadSignatureEncoding)?;
    let timestamp = if plan.include_timestamp {
        // A timestamped plan's signature without its timestamp is refused: it could be replayed forever.
        let timestamp =
            header(headers, &plan.timestamp_header).ok_or(VerifyError::StaleTimestamp)?;
        let signed_at = timestamp_secs(timestamp).ok_or(VerifyError::StaleTimestamp)?;
        let skew = i128::from(now_unix_secs) - i128::from(signed_at);
        if skew.abs() > i128::from(MAX_SKEW_SECS) {
            return Err(VerifyError::StaleTimestamp);
        }
        // The timestamp is signed as sent (seconds or milliseconds), not as normalised here.
        Some(timestamp)
    } else {
        None
    };
    Ok(
        match mac(plan.algorithm, candidate.secret.as_bytes(), timestamp, body) {
            Some(tag) => tag.as_slice().ct_eq(&signature),
            None => Choice::from(0),
        },
    )
}

/// Index of the first candidate with a non-empty secret for which `is_match` holds, visiting all of them
/// alike.
fn match_index(
    candidates: &[Candidate<'_>],
    mut is_match: impl FnMut(&Candidate<'_>) -> Choice,
) -> Option<usize> {
    let mut found = Choice::from(0);
    let mut index = 0u64;
    for (i, candidate) in candidates.iter().enumerate() {
        let usable = Choice::from(u8::from(!candidate.secret.is_empty()));
        let hit = is_match(candidate) & usable & !found;
        index.conditional_assign(&(i as u64), hit);
        found |= hit;
    }
    if bool::from(found) {
        usize::try_from(index).ok()
    } else {
        None
    }
}

/// The MAC of `{timestamp}.{body}`, or of the body alone when no timestamp is signed.
fn mac(
    algorithm: HmacAlgorithm,
    key: &[u8],
    timestamp: Option<&str>,
    body: &[u8],
) -> Option<Vec<u8>> {
    fn run<M: Mac + KeyInit>(key: &[u8], timestamp: Option<&str>, body: &[u8]) -> Option<Vec<u8>> {
        let mut mac = <M as KeyInit>::new_from_slice(key).ok()?;
        if let Some(timestamp) = timestamp {
            mac.update(timestamp.as_bytes());
            mac.update(b".");
        }
        mac.update(body);
        Some(mac.finalize().into_bytes().to_vec())
    }
    match algorithm {
        HmacAlgorithm::Sha256 => run::<Hmac<Sha256>>(key, timestamp, body),
        HmacAlgorithm::Sha512 => run::<Hmac<Sha512>>(key, timestamp, body),
        HmacAlgorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, timestamp, body),
    }
}

/// The MAC as the plan writes it: after its prefix (matched without regard to case), hex (either case) or
/// base64 (standard or URL-safe, padded or not), of exactly the algorithm's length.
fn decode_signature(raw: &str, plan: &HmacPlan) -> Option<Vec<u8>> {
    let raw = raw.trim();
    let prefix = plan.prefix.len();
    let raw = match raw.get(..prefix) {
        Some(p) if p.eq_ignore_ascii_case(&plan.prefix) => raw.get(prefix..)?,
        _ => return None,
    };
    let bytes = match plan.encoding {
        SignatureEncoding::Hex => hex::decode(raw).ok()?,
        SignatureEncoding::Base64 => [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(raw).ok())?,
    };
    (bytes.len() == plan.algorithm.mac_len()).then_some(bytes)
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
