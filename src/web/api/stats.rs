//! `GET /api/dashboard/stats`: pipeline value (the value of every call, from the services
//! catalogue), success rate (booked inbound calls / inbound calls, %), average call length,
//! calls today and this week (the clinic's local day; weeks start on Monday), and the ten latest
//! call events.

use super::auth::ApiCaller;
use super::iso;
use crate::app::AppState;
use crate::domain::calls;
use crate::error::AppResult;
use crate::store::{call_events, calls as call_store, orgs};
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

const LATEST_EVENTS: i64 = 10;

pub async fn dashboard(State(state): State<AppState>, caller: ApiCaller) -> AppResult<Json<Value>> {
    let scope = caller.scope;
    let now = state.clock.now();
    let (s, events) = state
        .db
        .read(move |c| {
            let tz = orgs::get(c, &scope)?.timezone;
            let (today, week) = calls::today_and_week_start(tz, now);
            Ok((
                call_store::stats(c, &scope, today.timestamp(), week.timestamp())?,
                call_events::recent(c, &scope, LATEST_EVENTS)?,
            ))
        })
        .await?;
    let events: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "call_id": e.call_id, "type": e.kind, "status": e.status,
                "received_at": iso(Some(e.received_at)), "processed": e.processed,
            })
        })
        .collect();
    Ok(Json(json!({
        "pipeline_value_cents": s.pipeline_value_cents,
        "success_rate_pct": calls::success_rate_pct(s.booked_inbound_calls, s.inbound_calls),
        "inbound_calls": s.inbound_calls,
        "booked_inbound_calls": s.booked_inbound_calls,
        "average_duration_secs": s.average_duration_secs.map(|d| (d * 10.0).round() / 10.0),
        "calls_today": s.calls_today,
        "calls_this_week": s.calls_this_week,
        "latest_events": events,
    })))
}
