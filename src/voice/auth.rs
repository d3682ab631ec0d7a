//! Authenticating a Vapi request over HTTP: the secret that verifies (X-Vapi-Secret, a bearer
//! token, or an HMAC signature over the raw body) names the org. Nothing else can.

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::store::{vapi_secrets, OrgScope};
use crate::voice::verify;
use axum::http::HeaderMap;

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
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

/// The org whose secret verifies this request, or `Unauthorized`.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> AppResult<OrgScope> {
    let pairs = header_pairs(headers);
    let now = state.clock.now().timestamp();
    if let Some(presented) = verify::presented_secret(&pairs).map(str::to_string) {
        let vault = state.vault.clone();
        let found = state
            .db
            .read(move |c| vapi_secrets::authenticate_presented(c, &vault, &presented, now))
            .await?;
        if let Some((scope, secret)) = found {
            if verify::verify(&pairs, body, &[secret.as_str()], now).is_ok() {
                return Ok(scope);
            }
        }
    }
    if verify::has_signature(&pairs) {
        let vault = state.vault.clone();
        let candidates = state
            .db
            .read(move |c| vapi_secrets::hmac_candidates_all_orgs(c, &vault, now))
            .await?;
        let secrets: Vec<&str> = candidates.iter().map(|(_, s)| s.as_str()).collect();
        if let Ok(i) = verify::verify(&pairs, body, &secrets, now) {
            if let Some((scope, _)) = candidates.get(i) {
                return Ok(*scope);
            }
        }
    }
    Err(AppError::Unauthorized)
}
