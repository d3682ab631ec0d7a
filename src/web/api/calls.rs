//! `GET /api/calls` (filters `from`, `to`, `type`, `booked`, `tier`, `sentiment`, `contact_id`,
//! full-text search `q`; paging
//! `limit`, `offset`) and `GET /api/calls/{id}`.

use super::auth::ApiCaller;
use super::{bound, choice, iso, paging, param, ListPage, Params};
use crate::app::AppState;
use crate::domain::calls::CallType;
use crate::domain::lead::{Sentiment, Tier};
use crate::error::{AppError, AppResult};
use crate::store::calls::{self as call_store, CallFilter, CallRow};
use crate::store::orgs;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};

/// A call in a list.
pub fn summary(row: &CallRow) -> Value {
    let f = &row.facts;
    let (caller, called) = match f.call_type {
        Some(CallType::Outbound) => (&f.clinic_number, &f.customer_number),
        _ => (&f.customer_number, &f.clinic_number),
    };
    json!({
        "id": row.id,
        "vapi_call_id": row.vapi_call_id,
        "type": f.call_type.map_or("unknown", CallType::as_str),
        "status": f.status.map(|s| s.as_str()),
        "caller": caller,
        "called": called,
        "contact_id": row.contact_id,
        "started_at": iso(f.started_at),
        "ended_at": iso(f.ended_at),
        "duration_secs": f.duration_ms.map(|ms| ms as f64 / 1000.0),
        "ended_reason": f.ended_reason,
        "summary": f.summary,
        "booked": row.outcome.booked,
        "appointment_id": row.outcome.appointment_id,
        "value_cents": row.outcome.value_cents,
        "services": row.outcome.services,
        "lead_score": row.outcome.lead_score,
        "lead_tier": row.outcome.lead_tier.map(Tier::as_str),
        "sentiment": f.sentiment.map(|s| s.as_str()),
        "recording_status": f.recording_status.map(|s| s.as_str()),
        "created_at": iso(Some(row.created_at)),
    })
}

/// Everything about one call.
pub fn detail(row: &CallRow) -> Value {
    let f = &row.facts;
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .unwrap_or(Value::Null)
    };
    let mut v = summary(row);
    let extra = json!({
        "transcript": f.transcript,
        "messages": parse(&f.messages_json),
        "cost_usd": f.cost_micros.map(|c| c as f64 / 1e6),
        "recording": {
            "url": f.recording_url,
            "stereo_url": f.stereo_recording_url,
            "status": f.recording_status.map(|s| s.as_str()),
        },
        "transfer": f.transfer.as_ref().map(|t| json!({
            "to": t.to, "at": iso(t.at), "reason": t.reason,
        })),
        "sentiment": f.sentiment.map(|s| json!({"label": s.as_str(), "score": f.sentiment_score})),
        "score_breakdown": parse(&row.outcome.score_json),
        "structured_data": parse(&f.structured_data_json),
        "success_evaluation": f.success_evaluation,
        "updated_at": iso(Some(row.updated_at)),
    });
    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
        obj.extend(more);
    }
    v
}

fn filter(p: &Params, tz: chrono_tz::Tz) -> AppResult<CallFilter> {
    let (limit, offset) = paging(p)?;
    let contact_id = match param(p, "contact_id") {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .map_err(|_| AppError::Validation("contact_id must be a contact's id".into()))?,
        ),
    };
    Ok(CallFilter {
        from: bound(p, "from", tz, false)?,
        to: bound(p, "to", tz, true)?,
        call_type: choice(p, "type", "inbound, outbound or web", CallType::parse)?,
        booked: choice(p, "booked", "true or false", |v| match v {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        })?,
        tier: choice(p, "tier", "hot, warm or cold", Tier::parse)?,
        sentiment: choice(
            p,
            "sentiment",
            "positive, neutral or negative",
            Sentiment::from_label,
        )?,
        search: param(p, "q").map(str::to_string),
        phone: None,
        contact_id,
        limit,
        offset,
    })
}

pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(p): Query<Params>,
) -> AppResult<Json<ListPage<Value>>> {
    let scope = caller.scope;
    let country = state.config.default_country.clone();
    let (rows, total, f) = state
        .db
        .read(move |c| {
            let f = filter(&p, orgs::get(c, &scope)?.timezone)?.phone_aware(&country);
            let (rows, total) = call_store::list(c, &scope, &f)?;
            Ok((rows, total, f))
        })
        .await?;
    let items = rows.iter().map(summary).collect();
    Ok(Json(ListPage::new(items, total, f.limit, f.offset)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> AppResult<Json<Value>> {
    let scope = caller.scope;
    let row = state
        .db
        .read(move |c| call_store::get(c, &scope, id))
        .await?;
    Ok(Json(detail(&row)))
}
