//! `GET /api/appointments` (filters `from`, `to` on the start, `status`; paging `limit`,
//! `offset`) and `POST /api/appointments/{id}/send-reminder {"method":"sms"|"email"}` →
//! `{success, recipient, method}`, which queues the same reminder as the Appointments page's
//! "Text a reminder now" (through the outbox, audited), or the reminder e-mail.

use super::auth::ApiCaller;
use super::{bound, choice, iso, paging, ListPage, Params};
use crate::app::AppState;
use crate::domain::format::local_iso;
use crate::error::{AppError, AppResult};
use crate::service::booking::{self, Change, Door, ReminderMethod};
use crate::service::messaging;
use crate::store::appointments::{self, AppointmentFilter, AppointmentStatus, AppointmentView};
use crate::store::orgs;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::DateTime;
use chrono_tz::Tz;
use serde_json::{json, Value};

/// The states a client may filter on (lapsed holds are never listed).
const STATUSES: &[AppointmentStatus] = &[
    AppointmentStatus::Held,
    AppointmentStatus::Confirmed,
    AppointmentStatus::Cancelled,
    AppointmentStatus::Completed,
    AppointmentStatus::NoShow,
];

/// An appointment as the original product's clients read it, plus the calendar and source.
fn view(v: &AppointmentView, tz: Tz) -> Value {
    let a = &v.appointment;
    json!({
        "id": a.id,
        "contact_id": a.contact_id,
        "patient_name": v.contact_name,
        "patient_phone": v.contact_phone,
        "service_id": a.service_id,
        "service_type": v.service_name,
        "provider_id": a.provider_id,
        "provider_name": v.provider_name,
        "scheduled_time": iso(Some(a.start_at)),
        "scheduled_time_local": DateTime::from_timestamp(a.start_at, 0).map(|t| local_iso(t, tz)),
        "end_time": iso(Some(a.end_at)),
        "duration_minutes": (a.end_at - a.start_at) / 60,
        "status": a.status,
        "source": a.source,
        "call_id": a.call_id,
        "notes": a.notes,
    })
}

pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(p): Query<Params>,
) -> AppResult<Json<ListPage<Value>>> {
    let scope = caller.scope;
    let (limit, offset) = paging(&p)?;
    let names = STATUSES.iter().map(|s| s.as_str()).collect::<Vec<_>>();
    let status = choice(&p, "status", &names.join(", "), |s| {
        STATUSES.iter().find(|x| x.as_str() == s).copied()
    })?;
    let (tz, items, total) = state
        .db
        .read(move |c| {
            let tz = orgs::get(c, &scope)?.timezone;
            let f = AppointmentFilter {
                from: bound(&p, "from", tz, false)?,
                to: bound(&p, "to", tz, true)?,
                status,
                limit,
                offset,
            };
            let (items, total) = appointments::page(c, &scope, &f)?;
            Ok((tz, items, total))
        })
        .await?;
    let items = items.iter().map(|v| view(v, tz)).collect();
    Ok(Json(ListPage::new(items, total, limit, offset)))
}

/// The body's `method`: "sms" (the default) or "email".
fn reminder_method(body: &[u8]) -> AppResult<ReminderMethod> {
    let bad = || {
        AppError::Validation(
            "method must be \"sms\" or \"email\", like {\"method\":\"email\"}".into(),
        )
    };
    // An empty body means the default; anything else must be a JSON object.
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ReminderMethod::Sms);
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| bad())?;
    match v.get("method") {
        None | Some(Value::Null) => Ok(ReminderMethod::Sms),
        Some(Value::String(m)) => ReminderMethod::parse(m).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

pub async fn send_reminder(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(ip): axum::extract::ConnectInfo<std::net::SocketAddr>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    body: Bytes,
) -> AppResult<Json<Value>> {
    let method = reminder_method(&body)?;
    let (scope, who, via) = (caller.scope, caller.who("api", ip), caller.via());
    let now = state.clock.now().timestamp();
    let recipient = state
        .db
        .write(move |tx| {
            let change = Change {
                scope,
                org: orgs::get(tx, &scope)?,
                door: Door::Desk,
                who,
                context: format!("appointment={id} via {via}"),
                now,
            };
            booking::remind_now(tx, &change, id, method)
        })
        .await?;
    messaging::wake(&state);
    Ok(Json(json!({
        "success": true,
        "recipient": recipient,
        "method": method.as_str(),
    })))
}
