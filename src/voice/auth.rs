//! Authenticating a Vapi request over HTTP: the secret that verifies (X-Vapi-Secret, a bearer
//! token, or an HMAC signature over the raw body, made as the org's HMAC plan says) names the
//! org. Nothing else can.

use crate::crypto::Vault;
use crate::error::AppResult;
use crate::store::{vapi_secrets, OrgScope};
use crate::voice::verify::{self, Candidate};
use axum::http::HeaderMap;
use rusqlite::Connection;

/// Header names (lowercase) and values, as the verifier reads them.
pub fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str().to_ascii_lowercase(),
                v.to_str().ok()?.to_string(),
            ))
        })
        .collect()
}

/// The org whose secret verifies this request, if any. Runs on a database connection so the
/// caller can load what it needs in the same read.
pub fn authenticate_on(
    conn: &Connection,
    vault: &Vault,
    pairs: &[(String, String)],
    body: &[u8],
    now: i64,
) -> AppResult<Option<OrgScope>> {
    if let Some(presented) = verify::presented_secret(pairs) {
        if let Some(found) = vapi_secrets::authenticate_presented(conn, vault, presented, now)? {
            let candidate = Candidate {
                secret: &found.secret,
                plan: &found.plan,
            };
            if verify::verify(pairs, body, &[candidate], now).is_ok() {
                return Ok(Some(found.scope));
            }
        }
    }
    let signed = vapi_secrets::hmac_candidates_all_orgs(conn, vault, now, |plan| {
        verify::carries_signature(pairs, plan)
    })?;
    let candidates: Vec<Candidate<'_>> = signed
        .iter()
        .map(|c| Candidate {
            secret: &c.secret,
            plan: &c.plan,
        })
        .collect();
    if candidates.is_empty() {
        return Ok(None);
    }
    Ok(verify::verify(pairs, body, &candidates, now)
        .ok()
        .and_then(|i| signed.get(i).map(|c| c.scope)))
}
