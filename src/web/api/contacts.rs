//! `GET /api/contacts` (filters `status`, `tier`; paging `limit`, `offset`),
//! `GET /api/contacts/stats`, `GET /api/contacts/{id}` (with its latest calls),
//! `PATCH /api/contacts/{id}` (staff notes, lead status; audited) and
//! `POST /api/contacts/{id}/call-back`.

use super::auth::ApiCaller;
use super::{calls, choice, iso, paging, ListPage, Params};
use crate::app::AppState;
use crate::domain::calls::LeadStatus;
use crate::domain::lead::Tier;
use crate::error::AppError;
use crate::error::AppResult;
use crate::store::audit::{self, Event};
use crate::store::calls::{self as call_store, CallFilter};
use crate::store::leads::{self, Lead, LeadFilter, LeadStats};
use crate::voice::call_back;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

fn view(l: &Lead) -> Value {
    json!({
        "id": l.id,
        "phone": l.phone,
        "name": l.name,
        "email": l.email,
        "lead_status": l.status.as_str(),
        "lead_score": l.lead_score,
        "lead_tier": l.lead_tier.map(Tier::as_str),
        "services_of_interest": l.services,
        "last_contacted_at": iso(l.last_contacted_at),
        "staff_notes": l.staff_notes,
        "created_at": iso(Some(l.created_at)),
    })
}

pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(p): Query<Params>,
) -> AppResult<Json<ListPage<Value>>> {
    let (limit, offset) = paging(&p)?;
    let f = LeadFilter {
        status: choice(
            &p,
            "status",
            "new, contacted, booked or lost",
            LeadStatus::parse,
        )?,
        tier: choice(&p, "tier", "hot, warm or cold", Tier::parse)?,
        limit,
        offset,
        ..LeadFilter::default()
    };
    let scope = caller.scope;
    let (rows, total) = state.db.read(move |c| leads::list(c, &scope, &f)).await?;
    Ok(Json(ListPage::new(
        rows.iter().map(view).collect(),
        total,
        limit,
        offset,
    )))
}

pub async fn stats(State(state): State<AppState>, caller: ApiCaller) -> AppResult<Json<LeadStats>> {
    let scope = caller.scope;
    Ok(Json(state.db.read(move |c| leads::stats(c, &scope)).await?))
}

/// How many of the contact's calls its page shows.
const RECENT_CALLS: i64 = 20;

pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> AppResult<Json<Value>> {
    let scope = caller.scope;
    let (lead, recent) = state
        .db
        .read(move |c| {
            let lead = leads::get(c, &scope, id)?;
            let f = CallFilter {
                contact_id: Some(id),
                limit: RECENT_CALLS,
                ..CallFilter::default()
            };
            Ok((lead, call_store::list(c, &scope, &f)?.0))
        })
        .await?;
    let mut v = view(&lead);
    v["calls"] = recent.iter().map(calls::summary).collect();
    Ok(Json(v))
}

pub async fn call_back(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let started = call_back::start(&state, caller.scope, id, caller.actor(), caller.via()).await?;
    let scope = caller.scope;
    let row = state
        .db
        .read(move |c| call_store::get(c, &scope, started.call_row_id))
        .await?;
    Ok((StatusCode::CREATED, Json(calls::summary(&row))))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactChange {
    staff_notes: Option<String>,
    lead_status: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Json(change): Json<ContactChange>,
) -> AppResult<Json<Value>> {
    let status = match change.lead_status.as_deref() {
        None => None,
        Some(s) => Some(LeadStatus::parse(s.trim()).ok_or_else(|| {
            AppError::Validation("lead_status must be one of new, contacted, booked or lost".into())
        })?),
    };
    let (scope, actor, via) = (caller.scope, caller.actor(), caller.via());
    let now = state.clock.now().timestamp();
    let detail = format!(
        "lead_status={} notes={} via {via}",
        status.map_or("unchanged", LeadStatus::as_str),
        if change.staff_notes.is_some() {
            "changed"
        } else {
            "unchanged"
        },
    );
    let lead = state
        .db
        .write(move |tx| {
            let staff_change = leads::StaffChange {
                staff_notes: change.staff_notes.as_deref(),
                status,
            };
            leads::update_by_staff(tx, &scope, id, &staff_change, now)?;
            audit::record(
                tx,
                &scope,
                &Event {
                    actor: &actor,
                    action: "contact.updated",
                    object: &format!("contact:{id}"),
                    detail: &detail,
                    ip: None,
                    at: now,
                },
            )?;
            leads::get(tx, &scope, id)
        })
        .await?;
    Ok(Json(view(&lead)))
}
