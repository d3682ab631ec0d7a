//! `POST /api/twilio/caller-id`: Twilio's report at the end of a caller-ID verification call
//! (`docs/twilio.md` §4b). Accepted only with a valid `X-Twilio-Signature` made with the
//! auth token of a clinic using the posted `AccountSid`; the verification is found by its call
//! SID within those clinics. Anything else is refused with 403 and changes nothing.

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::integrations::twilio_caller_ids::is_caller_id_sid;
use crate::integrations::twilio_signature;
use crate::store::audit::{self, Actor, Event};
use crate::store::{caller_ids, twilio_credentials};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

pub async fn caller_id_status(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AppError::BadRequest("expected a form-encoded body".into()))?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let presented = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or(AppError::Forbidden)?;
    let Some(public_url) = state.config.public_url.clone() else {
        tracing::warn!("a Twilio caller-ID report arrived but VOXANNE_PUBLIC_URL is not set, so its signature cannot be checked");
        return Err(AppError::Forbidden);
    };
    let url = format!(
        "{public_url}{}",
        uri.path_and_query().map_or(uri.path(), |pq| pq.as_str())
    );
    let account_sid = get("AccountSid").ok_or(AppError::Forbidden)?;
    let vault = state.vault.clone();
    let checked = params.clone();
    let scopes = state
        .db
        .read(move |c| {
            twilio_credentials::authenticate_account_webhook(c, &vault, &account_sid, |token| {
                twilio_signature::is_valid(token, &url, &checked, &presented)
            })
        })
        .await?;
    if scopes.is_empty() {
        tracing::info!("refused a caller-ID report: unknown account or bad signature");
        return Err(AppError::Forbidden);
    }
    let call_sid =
        get("CallSid").ok_or_else(|| AppError::BadRequest("CallSid is required".into()))?;
    let success = match get("VerificationStatus").as_deref() {
        Some("success") => true,
        Some("failed") => false,
        _ => {
            return Err(AppError::BadRequest(
                "VerificationStatus must be success or failed".into(),
            ))
        }
    };
    // Only a well-formed PN… SID is kept; it is later put into a Twilio URL.
    let pn_sid = get("OutgoingCallerIdSid").filter(|s| is_caller_id_sid(s));
    let now = state.clock.now().timestamp();
    let applied = state
        .db
        .write(move |tx| {
            for scope in &scopes {
                let Some(caller) = caller_ids::find_by_call(tx, scope, &call_sid)? else {
                    continue;
                };
                // A number another clinic verified meanwhile stays that clinic's alone.
                let success = success
                    && !caller_ids::verified_by_another_org(tx, scope, &caller.phone_number)?;
                let (changed, action) = if success {
                    let changed =
                        caller_ids::mark_verified(tx, scope, caller.id, pn_sid.as_deref(), now)?;
                    (changed, "telephony.number_verified")
                } else {
                    (
                        caller_ids::mark_failed(tx, scope, caller.id, now)?,
                        "telephony.verification_failed",
                    )
                };
                if changed {
                    audit::record(
                        tx,
                        scope,
                        &Event {
                            actor: &Actor::System("twilio"),
                            action,
                            object: &format!("caller_id:{}", caller.id),
                            detail: &format!("number={} call={call_sid}", caller.phone_number),
                            ip: None,
                            at: now,
                        },
                    )?;
                }
                return Ok(true);
            }
            Ok(false)
        })
        .await?;
    if !applied {
        tracing::info!("a signed caller-ID report named a call no verification is waiting for");
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
