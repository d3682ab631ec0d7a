//! The Vapi endpoints: `POST /api/vapi/tools`, `POST /api/vapi/webhook` (the assistant's server
//! URL) and the original product's `POST /api/vapi/tools/bookClinicAppointment`. Each request
//! is authenticated on its raw bytes before anything it says is acted on or written. The body
//! is parsed first (parsing is pure) only so that the stored replies of its tool calls can be
//! read together with the authentication; a failed authentication answers 401 whatever the
//! parse found.

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::voice::dispatch::{run_once, ToolCtx};
use crate::voice::events;
use crate::voice::parse::{self, Inbound, ParseError, ToolReply};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

fn bad_body(e: ParseError) -> AppError {
    AppError::BadRequest(format!("The request body is not a Vapi message: {e}"))
}

/// The ids of the tool calls a parsed body would run.
fn call_ids(parsed: &Result<Inbound, ParseError>) -> Vec<String> {
    match parsed {
        Ok(Inbound::ToolCalls { calls, .. }) => calls
            .iter()
            .filter(|c| !c.id.is_empty() && c.args.is_ok())
            .map(|c| c.id.clone())
            .collect(),
        _ => Vec::new(),
    }
}

async fn answer(mut ctx: ToolCtx, inbound: Inbound) -> AppResult<Response> {
    match inbound {
        Inbound::ToolCalls { call, calls } => {
            ctx.call = call;
            let mut replies = Vec::with_capacity(calls.len());
            for tc in calls {
                let outcome = run_once(&mut ctx, &tc.id, &tc.name, tc.args).await;
                replies.push(ToolReply {
                    tool_call_id: tc.id,
                    name: tc.name,
                    outcome: outcome.as_outcome(),
                });
            }
            Ok(Json(parse::tool_calls_response(&replies)).into_response())
        }
        Inbound::FunctionCall { call, name, args } => {
            ctx.call = call;
            let outcome = run_once(&mut ctx, "", &name, args).await;
            Ok(Json(parse::function_call_response(&outcome.as_outcome())).into_response())
        }
        // The tools route refuses events before getting here.
        Inbound::Event { .. } => Ok(Json(json!({})).into_response()),
    }
}

pub async fn tools(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let parsed = parse::parse_tool_request(&body);
    let ctx = ToolCtx::authenticate_calls(&state, &headers, &body, call_ids(&parsed)).await?;
    let inbound = parsed.map_err(bad_body)?;
    if let Inbound::Event { .. } = inbound {
        return Err(AppError::BadRequest(
            "The request carries no tool calls.".into(),
        ));
    }
    answer(ctx, inbound).await
}

pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let parsed = parse::parse_webhook(&body);
    let ctx = ToolCtx::authenticate_calls(&state, &headers, &body, call_ids(&parsed)).await?;
    match parsed.map_err(bad_body)? {
        Inbound::Event { kind, message, .. } => events::answer(&ctx, &kind, message, &body).await,
        inbound => answer(ctx, inbound).await,
    }
}

/// The original product's one-shot booking route.
pub async fn book_clinic_appointment(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let parsed = parse::parse_legacy_booking(&body);
    let ids = match &parsed {
        Ok((id, _, _)) if !id.is_empty() => vec![id.clone()],
        _ => Vec::new(),
    };
    let mut ctx = ToolCtx::authenticate_calls(&state, &headers, &body, ids).await?;
    let scope = ctx.scope;
    let (tool_call_id, call, args) = match parsed {
        Ok(v) => v,
        Err(ParseError::BadArguments {
            tool_call_id,
            reason,
        }) => {
            return Ok(legacy_reply(
                StatusCode::OK,
                &tool_call_id,
                false,
                None,
                "skipped",
                &reason,
            ));
        }
        Err(e) => return Err(bad_body(e)),
    };
    if let Some(org) = args.get("organizationId").filter(|v| !v.is_null()) {
        let claimed = org
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| org.to_string());
        if claimed.trim() != scope.org_id().to_string() {
            return Ok(legacy_reply(
                StatusCode::FORBIDDEN,
                &tool_call_id,
                false,
                None,
                "skipped",
                "This assistant's secret does not belong to that organization.",
            ));
        }
    }
    ctx.call = call;
    let outcome = run_once(&mut ctx, &tool_call_id, "book_appointment", Ok(args)).await;
    let success = !outcome.is_error && outcome.data["ok"] == json!(true);
    let sms = outcome.data["smsStatus"]
        .as_str()
        .unwrap_or("skipped")
        .to_string();
    Ok(legacy_reply(
        StatusCode::OK,
        &tool_call_id,
        success,
        outcome.data["appointmentId"].as_i64(),
        &sms,
        &outcome.sentence,
    ))
}

fn legacy_reply(
    status: StatusCode,
    id: &str,
    success: bool,
    appointment_id: Option<i64>,
    sms: &str,
    message: &str,
) -> Response {
    let body: Value = json!({
        "toolCallId": id,
        "result": {"success": success, "appointmentId": appointment_id, "smsStatus": sms, "message": parse::single_line(message)},
    });
    (status, Json(body)).into_response()
}
