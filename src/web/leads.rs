//! Leads: the figures (total, hot, warm, cold), the list filtered by tier and status (50 a
//! page), and one lead's page with their calls, appointments, texts and staff notes. Staff
//! edit notes, mark a lead booked or lost, and ask the assistant to call back; each audited.

use crate::app::AppState;
use crate::domain::calls::LeadStatus;
use crate::domain::format::short_datetime;
use crate::domain::lead::Tier;
use crate::domain::search::phone_query;
use crate::error::{AppError, AppResult};
use crate::store::audit::Actor;
use crate::store::calls::{self as call_store, CallFilter};
use crate::store::leads::{self, Lead, LeadFilter, LeadStats, StaffChange, MAX_NOTES};
use crate::store::messages::{self, Message};
use crate::store::sessions::SessionInfo;
use crate::store::{appointments, orgs};
use crate::voice::call_back;
use crate::web::calls::{line, CallLine};
use crate::web::pages::{form_error, render_form, Chrome, Notice};
use crate::web::session::{audited_change, CurrentStaff};
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::DateTime;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

const PAGE_SIZE: i64 = 50;
/// How much history a lead's page shows of each kind.
const HISTORY: i64 = 50;

const STATUSES: &[&str] = &["new", "contacted", "booked", "lost"];
const TIERS: &[&str] = &["hot", "warm", "cold"];

/// Empty filters stay out of page links.
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct LeadsQuery {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tier: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// A name, or a phone number in any format.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub q: String,
    #[serde(skip_serializing)]
    pub page: String,
}

pub struct LeadLine {
    pub id: i64,
    pub name: String,
    /// E.164, for `tel:` links.
    pub phone: String,
    /// The number as people in the clinic's country write it.
    pub shown: String,
    pub status: &'static str,
    pub tier: &'static str,
    pub score: String,
    pub services: String,
    pub last_contacted: String,
}

fn when(ts: Option<i64>, tz: Tz) -> String {
    ts.and_then(|t| DateTime::from_timestamp(t, 0))
        .map(|t| short_datetime(t, tz))
        .unwrap_or_default()
}

fn lead_line(l: &Lead, tz: Tz, country: &str) -> LeadLine {
    LeadLine {
        id: l.id,
        name: l.name.clone().unwrap_or_default(),
        phone: l.phone.clone(),
        shown: crate::domain::phone::national(&l.phone, country),
        status: l.status.as_str(),
        tier: l.lead_tier.map_or("", Tier::as_str),
        score: l.lead_score.map(|s| s.to_string()).unwrap_or_default(),
        services: l.services.join(", "),
        last_contacted: when(l.last_contacted_at, tz),
    }
}

#[derive(Template)]
#[template(path = "leads/index.html")]
struct LeadsPage {
    chrome: Chrome,
    stats: LeadStats,
    q: LeadsQuery,
    rows: Vec<LeadLine>,
    total: i64,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    tiers: &'static [&'static str],
    statuses: &'static [&'static str],
}

pub async fn list(
    State(state): State<AppState>,
    CurrentStaff(info): CurrentStaff,
    Query(q): Query<LeadsQuery>,
) -> AppResult<Response> {
    let page = q.page.trim().parse::<i64>().unwrap_or(1).clamp(1, 100_000);
    let phone = phone_query(&q.q, &state.config.default_country);
    let f = LeadFilter {
        status: LeadStatus::parse(&q.status),
        tier: Tier::parse(&q.tier),
        name: Some(q.q.trim().to_string()).filter(|n| phone.is_none() && !n.is_empty()),
        phone,
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
    };
    let scope = info.scope;
    let (org, stats, (rows, total)) = state
        .db
        .read(move |c| {
            Ok((
                orgs::get(c, &scope)?,
                leads::stats(c, &scope)?,
                leads::list(c, &scope, &f)?,
            ))
        })
        .await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let qs = serde_urlencoded::to_string(&q).unwrap_or_default();
    let link = |p: i64| format!("/leads?{qs}&page={p}");
    let view = LeadsPage {
        chrome: Chrome::new(&info, &org.name, "Leads"),
        stats,
        rows: rows
            .iter()
            .map(|l| lead_line(l, org.timezone, &state.config.default_country))
            .collect(),
        total,
        page,
        pages,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        q,
        tiers: TIERS,
        statuses: STATUSES,
    };
    render_form(&view, &None)
}

pub struct AppointmentLine {
    pub when: String,
    pub service: String,
    pub provider: String,
    pub status: String,
    /// What the caller or the desk noted when booking.
    pub notes: String,
}

pub struct MessageLine {
    pub when: String,
    pub m: Message,
}

#[derive(Template)]
#[template(path = "leads/detail.html")]
struct LeadPage {
    chrome: Chrome,
    lead: LeadLine,
    notes: String,
    max_notes: usize,
    calls: Vec<CallLine>,
    appointments: Vec<AppointmentLine>,
    messages: Vec<MessageLine>,
    error: Option<String>,
}

impl LeadPage {
    /// Nothing refers to the contact: it may be removed.
    fn removable(&self) -> bool {
        self.calls.is_empty() && self.appointments.is_empty() && self.messages.is_empty()
    }
}

async fn lead_page(
    state: &AppState,
    info: &SessionInfo,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let scope = info.scope;
    let (org, lead, calls, appts, texts) = state
        .db
        .read(move |c| {
            let lead = leads::get(c, &scope, id)?;
            let f = CallFilter {
                contact_id: Some(id),
                limit: HISTORY,
                ..CallFilter::default()
            };
            Ok((
                orgs::get(c, &scope)?,
                lead,
                call_store::list(c, &scope, &f)?.0,
                appointments::list_for_contact(c, &scope, id, HISTORY)?,
                messages::list_for_contact(c, &scope, id, HISTORY)?,
            ))
        })
        .await?;
    let tz = org.timezone;
    let view = LeadPage {
        chrome: Chrome::new(info, &org.name, "Leads").with_notice(notice.as_deref()),
        notes: lead.staff_notes.clone().unwrap_or_default(),
        max_notes: MAX_NOTES,
        calls: calls
            .iter()
            .map(|c| line(c, lead.name.as_deref(), tz, &state.config.default_country))
            .collect(),
        appointments: appts
            .into_iter()
            .map(|a| AppointmentLine {
                when: when(Some(a.appointment.start_at), tz),
                service: a.service_name,
                provider: a.provider_name,
                status: a.appointment.status.to_string(),
                notes: a.appointment.notes.clone().unwrap_or_default(),
            })
            .collect(),
        messages: texts
            .into_iter()
            .map(|m| MessageLine {
                when: when(Some(m.created_at), tz),
                m,
            })
            .collect(),
        lead: lead_line(&lead, tz, &state.config.default_country),
        error,
    };
    render_form(&view, &view.error)
}

pub async fn detail(
    State(state): State<AppState>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> AppResult<Response> {
    let notice = n.saved.map(|s| format!("Lead {s}."));
    lead_page(&state, &info, id, notice, None).await
}

/// Applies a staff change to the lead, audited; back to the lead's page.
async fn change(
    state: &AppState,
    info: &SessionInfo,
    ip: SocketAddr,
    id: i64,
    notes: Option<String>,
    status: Option<LeadStatus>,
    done: &str,
) -> AppResult<Response> {
    let now = state.clock.now().timestamp();
    let detail = format!(
        "contact={id} lead_status={} notes={}",
        status.map_or("unchanged", LeadStatus::as_str),
        if notes.is_some() {
            "changed"
        } else {
            "unchanged"
        }
    );
    let result = audited_change(
        state,
        info,
        ip,
        "contact.updated",
        detail,
        move |tx, scope| {
            let c = StaffChange {
                staff_notes: notes.as_deref(),
                status,
            };
            leads::update_by_staff(tx, scope, id, &c, now)
        },
    )
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/leads/{id}?saved={done}")).into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => lead_page(state, info, id, None, Some(form_error(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct NotesForm {
    #[serde(default)]
    notes: String,
}

pub async fn save_notes(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
    Form(form): Form<NotesForm>,
) -> AppResult<Response> {
    change(&state, &info, ip, id, Some(form.notes), None, "notes saved").await
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> AppResult<Response> {
    let status = match LeadStatus::parse(form.status.trim()) {
        Some(s @ (LeadStatus::Booked | LeadStatus::Lost)) => s,
        _ => {
            return lead_page(
                &state,
                &info,
                id,
                None,
                Some("Mark a lead booked or lost.".into()),
            )
            .await
        }
    };
    let done = format!("marked {}", status.as_str());
    change(&state, &info, ip, id, None, Some(status), &done).await
}

pub async fn call_back(
    State(state): State<AppState>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let actor = Actor::Staff {
        id: info.staff.id,
        email: info.staff.email.clone(),
    };
    match call_back::start(&state, info.scope, id, actor, "dashboard".into()).await {
        Ok(_) => Ok(Redirect::to(&format!("/leads/{id}?saved=call-back+started")).into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(AppError::Validation(m) | AppError::Upstream(m)) => {
            lead_page(&state, &info, id, None, Some(m)).await
        }
        Err(e) => Err(e),
    }
}

/// Removes a contact with no call, appointment or text (say, a wrong number typed at the
/// desk); one with records stays, and the page says why.
pub async fn remove(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let detail = format!("contact={id}");
    match audited_change(
        &state,
        &info,
        ip,
        "contact.removed",
        detail,
        move |tx, scope| crate::store::contacts::remove_unused(tx, scope, id).map(|_| ()),
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/leads").into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => lead_page(&state, &info, id, None, Some(form_error(e)?)).await,
    }
}
