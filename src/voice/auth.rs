//! Authenticating a Vapi request over HTTP: the secret that verifies (X-Vapi-Secret, a bearer
//! token, or an HMAC signature over the raw body) names the org. Nothing else can.

use crate::crypto::Vault;
use crate::error::AppResult;
use crate::store::{vapi_secrets, OrgScope};
use crate::voice::verify;
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
        if let Some((scope, secret)) =
            vapi_secrets::authenticate_presented(conn, vault, presented, now)?
        {
            if verify::verify(pairs, body, &[secret.as_str()], now).is_ok() {
                return Ok(Some(scope));
            }
        }
    }
    if verify::has_signature(pairs) {
        let candidates = vapi_secrets::hmac_candidates_all_orgs(conn, vault, now)?;
        let secrets: Vec<&str> = candidates.iter().map(|(_, s)| s.as_str()).collect();
        if let Ok(i) = verify::verify(pairs, body, &secrets, now) {
            return Ok(candidates.get(i).map(|(scope, _)| *scope));
        }
    }
    Ok(None)
}
