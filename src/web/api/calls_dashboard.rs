//! The original product's call-dashboard endpoints, same names and fields, for integrations
//! built on it: `POST /api/calls-dashboard/{callId}/followup {message}` →
//! `{success, messageId, phone, status}` (`messageId` is Twilio's id once it took the text,
//! null while it waits in the outbox); `POST …/share {email}` → `{success, email, url,
//! expiresAt}`; `POST …/transcript/export {format: "txt"}` → the file. Bad input is a 400 with
//! a JSON error; another org's call is a 404. Same actions and audit rows as the Calls page.

use super::auth::ApiCaller;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::service::call_actions;
use crate::service::mailing::Emailed;
use crate::store::audit::Who;
use crate::web::calls::{base_url, transcript_download};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;

/// The JSON body, or a 400 saying what is wrong with it. An empty body reads as `{}`.
fn body<T: DeserializeOwned>(raw: &Bytes) -> AppResult<T> {
    let raw: &[u8] = if raw.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        raw
    };
    serde_json::from_slice(raw).map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))
}

/// Validation problems are this API's 400s.
fn bad_request(e: AppError) -> AppError {
    match e {
        AppError::Validation(m) => AppError::BadRequest(m),
        other => other,
    }
}

fn by(caller: &ApiCaller, ip: SocketAddr) -> Who {
    caller.who("api", ip)
}

#[derive(Deserialize)]
struct FollowUpBody {
    message: Option<String>,
}

pub async fn follow_up(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    raw: Bytes,
) -> AppResult<Json<Value>> {
    let b: FollowUpBody = body(&raw)?;
    let message = b
        .message
        .ok_or_else(|| AppError::BadRequest("message is required".into()))?;
    let sent = call_actions::send_follow_up(&state, caller.scope, id, &message, by(&caller, ip))
        .await
        .map_err(bad_request)?;
    Ok(Json(json!({
        "success": true,
        "messageId": sent.provider_sid,
        "phone": sent.phone,
        "status": sent.status.as_str(),
    })))
}

#[derive(Deserialize)]
struct ShareBody {
    email: Option<String>,
}

pub async fn share(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    raw: Bytes,
) -> AppResult<Json<Value>> {
    let b: ShareBody = body(&raw)?;
    let email = b
        .email
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| AppError::BadRequest("email is required".into()))?;
    let base = base_url(&state, &headers);
    let link = call_actions::share_recording(
        &state,
        caller.scope,
        id,
        Some(&email),
        &base,
        by(&caller, ip),
    )
    .await
    .map_err(bad_request)?;
    let (emailed, email_error) = match &link.emailed {
        Some((_, Emailed::Sent)) => ("sent", None),
        Some((_, Emailed::Failed(why))) => ("failed", Some(why.clone())),
        Some((_, Emailed::NotSetUp)) | None => ("not_set_up", None),
    };
    Ok(Json(json!({
        "success": true,
        "email": email.trim(),
        "emailed": emailed,
        "emailError": email_error,
        "url": link.url,
        "expiresAt": link.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })))
}

#[derive(Deserialize)]
struct ExportBody {
    format: Option<String>,
}

pub async fn export(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    raw: Bytes,
) -> AppResult<Response> {
    let b: ExportBody = body(&raw)?;
    match b.format.as_deref().map(str::trim) {
        None | Some("txt") => {}
        Some(_) => return Err(AppError::BadRequest("format must be \"txt\"".into())),
    }
    let file = call_actions::export_transcript(&state, caller.scope, id, by(&caller, ip)).await?;
    Ok(transcript_download(file))
}
