//! The telephony JSON API of the original product, under `/api/telephony/`: caller-ID
//! verification (`verify-caller-id/initiate`, `verify-caller-id/confirm`), the verified numbers
//! (`verified-numbers`, `DELETE verified-numbers/:id`) and forwarding set-ups
//! (`forwarding-config` GET `?verifiedCallerId=` and POST, `forwarding-config/confirm`,
//! `DELETE forwarding-config/:id`). Callers are an owner's session (state changes carry
//! `x-csrf-token`) or an API token. Bodies are JSON with camelCase names; a body that cannot be
//! read is a 400.

use crate::app::AppState;
use crate::domain::telephony::CallerIdStatus;
use crate::error::{AppError, AppResult};
use crate::service::telephony::{self as service, Initiated};
use crate::store::audit::Who;
use crate::store::caller_ids::{self, CallerId};
use crate::store::forwarding_configs::{self, ForwardingConfig};
use crate::store::staff::Role;
use crate::web::api::auth::{ApiCaller, Credential};
use crate::web::api::{iso, Params};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;

/// Telephony changes what the clinic's phone does: owners and API tokens only.
fn owner_change(caller: &ApiCaller, ip: SocketAddr) -> AppResult<Who> {
    if let Credential::Staff(info) = &caller.credential {
        if info.staff.role != Role::Owner {
            return Err(AppError::Forbidden);
        }
    }
    Ok(caller.who("", ip))
}

fn body<T: DeserializeOwned>(bytes: &Bytes) -> AppResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| AppError::BadRequest(format!("The request body must be a JSON object: {e}")))
}

/// An id given as a number or a string of digits.
fn id_of(v: &Value, name: &str) -> AppResult<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|id| *id > 0)
    .ok_or_else(|| AppError::BadRequest(format!("{name} must be a positive whole number")))
}

fn caller_view(c: &CallerId, now: i64) -> Value {
    let status = c.status_at(now);
    json!({
        "id": c.id,
        "phoneNumber": c.phone_number,
        "friendlyName": c.friendly_name,
        "status": status.as_str(),
        "verified": status == CallerIdStatus::Verified,
        "attempts": c.attempts,
        "createdAt": iso(Some(c.created_at)),
        "expiresAt": (status == CallerIdStatus::Pending).then(|| iso(Some(c.expires_at))).flatten(),
        "verifiedAt": iso(c.verified_at),
    })
}

fn config_view(c: &ForwardingConfig) -> AppResult<Value> {
    let codes = service::codes_of(c)?;
    Ok(json!({
        "id": c.id,
        "verifiedCallerId": c.caller_id,
        "phoneNumber": c.phone_number,
        "carrier": c.carrier.slug(),
        "carrierName": c.carrier.label(),
        "mode": c.mode.slug(),
        "modeName": c.mode.label(),
        "ringSeconds": c.ring_seconds,
        "forwardTo": c.forward_to,
        "status": c.status.as_str(),
        "activationCode": codes.activation,
        "deactivationCode": codes.deactivation,
        "activationCodes": codes.activation_codes,
        "deactivationCodes": codes.deactivation_codes,
        "steps": codes.steps,
        "notes": codes.notes,
        "createdAt": iso(Some(c.created_at)),
        "activatedAt": iso(c.activated_at),
        "disabledAt": iso(c.disabled_at),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitiateBody {
    #[serde(alias = "phone_number", alias = "phone")]
    phone_number: Option<String>,
    country: Option<String>,
    #[serde(alias = "friendly_name")]
    friendly_name: Option<String>,
}

/// `POST /api/telephony/verify-caller-id/initiate`: 201 with the code to show while Twilio
/// calls; 200 when Twilio already had the number verified.
pub async fn initiate(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    caller: ApiCaller,
    bytes: Bytes,
) -> AppResult<Response> {
    let change = owner_change(&caller, ip)?;
    let b: InitiateBody = body(&bytes)?;
    let input = b
        .phone_number
        .ok_or_else(|| AppError::BadRequest("phoneNumber is required".into()))?;
    let phone = service::parse_number(&state, &input, b.country.as_deref())?;
    let now = state.clock.now().timestamp();
    match service::initiate(
        &state,
        caller.scope,
        &change,
        phone,
        b.friendly_name.as_deref(),
    )
    .await?
    {
        Initiated::Started { caller, code } => {
            let mut v = caller_view(&caller, now);
            v["validationCode"] = json!(code);
            Ok((StatusCode::CREATED, Json(v)).into_response())
        }
        Initiated::AlreadyOnAccount(caller) => Ok(Json(caller_view(&caller, now)).into_response()),
    }
}

/// `POST /api/telephony/verify-caller-id/confirm` with `verifiedCallerId` (or `phoneNumber`):
/// 200 with the status Twilio gives (`verified: false` while the call is still going), 410
/// when the verification expired or failed.
pub async fn confirm(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    caller: ApiCaller,
    bytes: Bytes,
) -> AppResult<Json<Value>> {
    let change = owner_change(&caller, ip)?;
    let b: Value = body(&bytes)?;
    let scope = caller.scope;
    let id = match (
        b.get("verifiedCallerId").or_else(|| b.get("id")),
        b.get("phoneNumber").and_then(Value::as_str),
    ) {
        (Some(id), _) => id_of(id, "verifiedCallerId")?,
        (None, Some(number)) => {
            let phone = service::parse_number(&state, number, None)?;
            state
                .db
                .read(move |c| caller_ids::find_by_number(c, &scope, &phone))
                .await?
                .ok_or(AppError::NotFound)?
                .id
        }
        (None, None) => {
            return Err(AppError::BadRequest(
                "verifiedCallerId (or phoneNumber) is required".into(),
            ))
        }
    };
    let c = service::confirm(&state, scope, &change, id).await?;
    Ok(Json(caller_view(&c, state.clock.now().timestamp())))
}

/// `GET /api/telephony/verified-numbers`: the clinic's numbers, every status.
pub async fn list_numbers(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> AppResult<Json<Value>> {
    let scope = caller.scope;
    let all = state.db.read(move |c| caller_ids::list(c, &scope)).await?;
    let now = state.clock.now().timestamp();
    Ok(Json(json!({
        "numbers": all.iter().map(|c| caller_view(c, now)).collect::<Vec<_>>()
    })))
}

/// `DELETE /api/telephony/verified-numbers/:id`: removes the number and its set-ups; set-ups
/// that were on come back with their deactivation codes.
pub async fn remove_number(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> AppResult<Json<Value>> {
    let change = owner_change(&caller, ip)?;
    let removed = service::remove_number(&state, caller.scope, &change, id).await?;
    let configs = removed
        .live_configs
        .iter()
        .map(config_view)
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Json(json!({
        "success": true,
        "id": id,
        "phoneNumber": removed.caller.phone_number,
        "removedFromTwilio": removed.twilio_removed,
        "removedConfigurations": configs,
    })))
}

/// `GET /api/telephony/forwarding-config[?verifiedCallerId=ID]`.
pub async fn list_configs(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(q): Query<Params>,
) -> AppResult<Json<Value>> {
    let scope = caller.scope;
    let filter = match q.get("verifiedCallerId").map(|v| v.trim()) {
        None | Some("") => None,
        Some(v) => Some(id_of(&json!(v), "verifiedCallerId")?),
    };
    let configs = state
        .db
        .read(move |c| {
            if let Some(id) = filter {
                // An unknown or foreign number is a 404, not an empty list.
                caller_ids::get(c, &scope, id)?;
            }
            forwarding_configs::list(c, &scope, filter)
        })
        .await?;
    let items = configs
        .iter()
        .map(config_view)
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Json(json!({ "configs": items })))
}

/// `POST /api/telephony/forwarding-config` with `verifiedCallerId`, `carrier`, `mode` and
/// (GSM safety net only) `ringSeconds`: 201 with the codes to dial.
pub async fn create_config(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    caller: ApiCaller,
    bytes: Bytes,
) -> AppResult<Response> {
    let change = owner_change(&caller, ip)?;
    let b: Value = body(&bytes)?;
    let id = id_of(
        b.get("verifiedCallerId")
            .ok_or_else(|| AppError::BadRequest("verifiedCallerId is required".into()))?,
        "verifiedCallerId",
    )?;
    let text = |name: &str| -> AppResult<Option<String>> {
        match b.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(AppError::BadRequest(format!(
                "{name} must be a string or number"
            ))),
        }
    };
    let carrier =
        text("carrier")?.ok_or_else(|| AppError::BadRequest("carrier is required".into()))?;
    let mode = text("mode")?.ok_or_else(|| AppError::BadRequest("mode is required".into()))?;
    let ring = text("ringSeconds")?;
    let config = service::create_config(
        &state,
        caller.scope,
        &change,
        id,
        &carrier,
        &mode,
        ring.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(config_view(&config)?)).into_response())
}

/// `POST /api/telephony/forwarding-config/confirm` with `id`: the code was dialled; active.
pub async fn confirm_config(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    caller: ApiCaller,
    bytes: Bytes,
) -> AppResult<Json<Value>> {
    let change = owner_change(&caller, ip)?;
    let b: Value = body(&bytes)?;
    let id = id_of(
        b.get("id")
            .or_else(|| b.get("configId"))
            .ok_or_else(|| AppError::BadRequest("id is required".into()))?,
        "id",
    )?;
    let config = service::confirm_config(&state, caller.scope, &change, id).await?;
    Ok(Json(config_view(&config)?))
}

/// `DELETE /api/telephony/forwarding-config/:id`: disabled; the answer has the code to dial.
pub async fn disable_config(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> AppResult<Json<Value>> {
    let change = owner_change(&caller, ip)?;
    let config = service::disable_config(&state, caller.scope, &change, id).await?;
    Ok(Json(config_view(&config)?))
}
