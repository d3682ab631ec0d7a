//! Appointments: the list for a range of days, and staff booking, rescheduling, cancelling,
//! recording the outcome and texting a reminder — through the same booking engine, slot
//! locking and texts as the phone. Each appointment downloads as an `.ics` file.

use crate::app::AppState;
use crate::domain::channel::Channel;
use crate::domain::format::{local_datetime, short_datetime};
use crate::domain::phone::PhoneNumber;
use crate::domain::practitioner::Practitioner;
use crate::domain::{ics, when};
use crate::error::{AppError, AppResult};
use crate::service::availability;
use crate::service::booking::{self, Change, Door, NewBooking};
use crate::service::messaging;
use crate::store::appointments::{self, AppointmentStatus, AppointmentView};
use crate::store::audit::Who;
use crate::store::orgs::{self, Org};
use crate::store::practitioners;
use crate::store::services::{self, Service};
use crate::store::sessions::SessionInfo;
use crate::web::pages::{form_error, render_form, Chrome};
use crate::web::session::CurrentStaff;
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use std::net::SocketAddr;

pub struct Row {
    pub v: AppointmentView,
    pub when: String,
    pub date: String,
    pub time: String,
    pub live: bool,
}

#[derive(Template)]
#[template(path = "appointments/index.html")]
struct AppointmentsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    from: String,
    days: i64,
    prev: String,
    next: String,
    services: Vec<Service>,
    providers: Vec<Practitioner>,
    /// The booking form as typed, with the free times to pick from.
    desk: Desk,
    error: Option<String>,
}

/// The desk's booking form as shown: what was typed, and free times as buttons.
#[derive(Debug, Clone, Default)]
pub struct Desk {
    pub name: String,
    pub phone: String,
    pub email: String,
    /// "text", "email", "both" or empty (both).
    pub channel: String,
    pub service_id: i64,
    /// 0: any practitioner who performs the service.
    pub provider_id: i64,
    pub date: String,
    pub time: String,
    /// What the free times are ("Free on Tuesday, June 16", "Nearest free times").
    pub heading: String,
    /// (button value `practitioner@YYYY-MM-DD@HH:MM`, label)
    pub free: Vec<(String, String)>,
    /// When the free times are for moving an appointment: its id and what it is.
    pub moving: Option<(i64, String)>,
}

impl Desk {
    fn typed(f: &BookForm) -> Desk {
        Desk {
            name: f.name.clone(),
            phone: f.phone.clone(),
            email: f.email.clone(),
            channel: f.channel.clone(),
            service_id: f.service_id,
            provider_id: f.provider_id,
            date: f.date.clone(),
            time: f.time.clone(),
            ..Desk::default()
        }
    }
}

#[derive(Deserialize, Default)]
pub struct RangeQuery {
    from: Option<String>,
    days: Option<i64>,
    saved: Option<String>,
}

struct Loaded {
    org: Org,
    services: Vec<Service>,
    providers: Vec<Practitioner>,
}

impl Loaded {
    /// The start typed at the desk, and which of `candidates` can take it by the clinic's
    /// rules and their own hours.
    fn desk_start(
        &self,
        candidates: &[i64],
        date: &str,
        time: &str,
        minutes: u32,
        now: DateTime<Utc>,
    ) -> AppResult<(DateTime<Utc>, Vec<i64>)> {
        let start = start_from(&self.org, date, time, now)?;
        let working = booking::working(&self.org, &self.providers);
        let able = booking::who_can_take(
            &self.org,
            Door::Desk,
            &working,
            candidates,
            start,
            minutes,
            now,
        )
        .map_err(AppError::Validation)?;
        Ok((start, able))
    }
}

async fn load(state: &AppState, info: &SessionInfo) -> AppResult<Loaded> {
    let scope = info.scope;
    state
        .db
        .read(move |c| {
            Ok(Loaded {
                org: orgs::get(c, &scope)?,
                services: services::list_active(c, &scope)?,
                providers: practitioners::list_active(c, &scope)?,
            })
        })
        .await
}

async fn page(
    state: &AppState,
    info: &SessionInfo,
    q: &RangeQuery,
    error: Option<String>,
) -> AppResult<Response> {
    page_with(state, info, q, error, Desk::default()).await
}

async fn page_with(
    state: &AppState,
    info: &SessionInfo,
    q: &RangeQuery,
    error: Option<String>,
    desk: Desk,
) -> AppResult<Response> {
    let loaded = load(state, info).await?;
    let tz = loaded.org.timezone;
    let now = state.clock.now();
    let today = local_datetime(now, tz).date();
    let from = q
        .from
        .as_deref()
        .and_then(|f| NaiveDate::parse_from_str(f, "%Y-%m-%d").ok())
        .unwrap_or(today);
    let days = q.days.unwrap_or(7).clamp(1, 62);
    let start = day_start(tz, from)?;
    let end = day_start(tz, from + chrono::Days::new(days as u64))?;
    let scope = info.scope;
    let list = state
        .db
        .read(move |c| {
            appointments::list_between(c, &scope, start.timestamp(), end.timestamp(), None, 1000)
        })
        .await?;
    let notice = q.saved.as_deref().map(|w| format!("Appointment {w}."));
    let page = AppointmentsPage {
        chrome: Chrome::new(info, &loaded.org.name, "Appointments").with_notice(notice.as_deref()),
        rows: list
            .into_iter()
            .map(|v| {
                let at = v.appointment.start();
                let local = local_datetime(at, tz);
                Row {
                    when: short_datetime(at, tz),
                    date: local.format("%Y-%m-%d").to_string(),
                    time: local.format("%H:%M").to_string(),
                    live: v.appointment.status.is_live(),
                    v,
                }
            })
            .collect(),
        from: from.format("%Y-%m-%d").to_string(),
        days,
        prev: (from - chrono::Days::new(days as u64))
            .format("%Y-%m-%d")
            .to_string(),
        next: (from + chrono::Days::new(days as u64))
            .format("%Y-%m-%d")
            .to_string(),
        services: loaded.services,
        providers: loaded.providers,
        desk,
        error,
    };
    render_form(&page, &page.error)
}

fn day_start(tz: chrono_tz::Tz, day: NaiveDate) -> AppResult<DateTime<Utc>> {
    let midnight = day
        .and_hms_opt(0, 0, 0)
        .ok_or_else(|| AppError::Validation("that date is out of range".into()))?;
    Ok(when::resolve_local(tz, midnight).unwrap_or_else(|_| midnight.and_utc()))
}

pub async fn show(
    State(state): State<AppState>,
    CurrentStaff(info): CurrentStaff,
    Query(q): Query<RangeQuery>,
) -> AppResult<Response> {
    page(&state, &info, &q, None).await
}

fn start_from(org: &Org, date: &str, time: &str, now: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    when::parse_start(None, Some(date), Some(time), org.timezone, now)
        .map_err(|e| AppError::Validation(e.to_string()))
}

fn taken() -> AppError {
    AppError::Conflict("That time is already taken on that calendar; choose another.".into())
}

/// A booking change made by this member of staff at the desk.
fn desk_change(info: &SessionInfo, org: Org, ip: SocketAddr, now: DateTime<Utc>) -> Change {
    Change {
        scope: info.scope,
        org,
        door: Door::Desk,
        who: Who::staff(&info.staff, "dashboard", ip),
        context: String::new(),
        now: now.timestamp(),
    }
}

/// Runs a booking change in one write; texts it queued are nudged out; back to the list.
async fn apply<F>(
    state: &AppState,
    info: &SessionInfo,
    done: &str,
    change: F,
) -> AppResult<Response>
where
    F: FnOnce(&rusqlite::Transaction<'_>) -> AppResult<()> + Send + 'static,
{
    match state.db.write(change).await {
        Ok(()) => {
            messaging::wake(state);
            Ok(Redirect::to(&format!("/appointments?saved={done}")).into_response())
        }
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => page(state, info, &RangeQuery::default(), Some(form_error(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct BookForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    /// "text", "email" or "both"; empty means both.
    #[serde(default)]
    channel: String,
    #[serde(default)]
    service_id: i64,
    #[serde(default)]
    provider_id: i64,
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
    /// A free-time button: `practitioner@YYYY-MM-DD@HH:MM`.
    #[serde(default)]
    pick: String,
    /// `times`: show the free times instead of booking.
    #[serde(default)]
    action: String,
}

/// A free-time button's value, `practitioner@YYYY-MM-DD@HH:MM`, read back.
fn parse_pick(pick: &str) -> Option<(i64, &str, &str)> {
    let mut parts = pick.splitn(3, '@');
    Some((parts.next()?.parse().ok()?, parts.next()?, parts.next()?))
}

impl BookForm {
    /// A picked free time fills in the practitioner, day and time.
    fn with_pick(mut self) -> BookForm {
        if let Some((p, d, t)) = parse_pick(&self.pick) {
            self.provider_id = p;
            self.date = d.to_string();
            self.time = t.to_string();
        }
        self
    }
}

/// How many free times the desk is shown at once.
const FREE_SHOWN: usize = 24;

/// The free times for the typed service, practitioner (or any) and day, as buttons; or, when
/// `around` is given (a refused time), the nearest ones to it.
async fn free_times(
    state: &AppState,
    info: &SessionInfo,
    loaded: &Loaded,
    desk: &mut Desk,
    around: Option<DateTime<Utc>>,
) -> AppResult<()> {
    let Some(service) = loaded.services.iter().find(|s| s.id == desk.service_id) else {
        return Err(AppError::Validation("Choose a service".into()));
    };
    let org = &loaded.org;
    let tz = org.timezone;
    let now = state.clock.now();
    let day = match NaiveDate::parse_from_str(desk.date.trim(), "%Y-%m-%d") {
        Ok(d) => d,
        Err(_) if around.is_none() => {
            return Err(AppError::Validation(
                "Choose a day to see its free times".into(),
            ))
        }
        Err(_) => local_datetime(now, tz).date(),
    };
    let candidates: Vec<i64> = loaded
        .providers
        .iter()
        .filter(|p| p.performs(service.id) && (desk.provider_id == 0 || p.id == desk.provider_id))
        .map(|p| p.id)
        .collect();
    let working = booking::working(org, &loaded.providers);
    let rules = Door::Desk.rules(org);
    let cal = availability::Calendars {
        tz,
        rules: &rules,
        working: &working,
    };
    let from = day_start(tz, day)? - Duration::days(16);
    let to = day_start(tz, day)? + Duration::days(17);
    let (scope, ids) = (info.scope, candidates.clone());
    let busy = state
        .db
        .read(move |c| {
            availability::busy(
                c,
                &scope,
                &ids,
                from.timestamp(),
                to.timestamp(),
                now.timestamp(),
            )
        })
        .await?;
    let name = |id: i64| {
        loaded
            .providers
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_default()
    };
    let button = |t: DateTime<Utc>, id: i64, with_day: bool| {
        let local = local_datetime(t, tz);
        let when = if with_day {
            short_datetime(t, tz)
        } else {
            crate::domain::format::spoken_time(local.time())
        };
        (
            format!(
                "{id}@{}@{}",
                local.format("%Y-%m-%d"),
                local.format("%H:%M")
            ),
            format!("{when} · {}", name(id)),
        )
    };
    desk.free = match around {
        None => {
            desk.heading = format!("Free on {}", crate::domain::format::spoken_date(day));
            cal.free_on(&busy, day, service.duration_minutes, now)
                .into_iter()
                .flat_map(|(t, ids)| ids.into_iter().map(move |id| (t, id)))
                .take(FREE_SHOWN)
                .map(|(t, id)| button(t, id, false))
                .collect()
        }
        Some(at) => {
            desk.heading = "The nearest free times".into();
            cal.nearest(&busy, at, service.duration_minutes, now, 6)
                .into_iter()
                .map(|(t, id)| button(t, id, true))
                .collect()
        }
    };
    if desk.free.is_empty() && around.is_none() {
        desk.heading = format!(
            "No free times on {} for {}",
            crate::domain::format::spoken_date(day),
            service.name
        );
    }
    Ok(())
}

/// A refused booking or move: the reason, the form kept as typed, and the nearest free times
/// to what was asked for.
async fn refused(
    state: &AppState,
    info: &SessionInfo,
    loaded: &Loaded,
    mut desk: Desk,
    e: AppError,
    around: DateTime<Utc>,
) -> AppResult<Response> {
    let message = form_error(e)?;
    let _ = free_times(state, info, loaded, &mut desk, Some(around)).await;
    page_with(state, info, &RangeQuery::default(), Some(message), desk).await
}

pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    CurrentStaff(info): CurrentStaff,
    Form(form): Form<BookForm>,
) -> AppResult<Response> {
    let form = form.with_pick();
    let loaded = load(&state, &info).await?;
    let now = state.clock.now();
    let mut desk = Desk::typed(&form);
    // "Show free times": the same engine the phone uses, the form kept as typed.
    if form.action == "times" || (form.pick.is_empty() && form.time.trim().is_empty()) {
        return match free_times(&state, &info, &loaded, &mut desk, None).await {
            Ok(()) => page_with(&state, &info, &RangeQuery::default(), None, desk).await,
            Err(e) => {
                page_with(
                    &state,
                    &info,
                    &RangeQuery::default(),
                    Some(form_error(e)?),
                    desk,
                )
                .await
            }
        };
    }
    let prepared = (|| {
        let name = form.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(AppError::Validation(
                "Give the patient's name (up to 120 characters)".into(),
            ));
        }
        let phone = PhoneNumber::parse(&form.phone, &state.config.default_country)
            .map_err(|e| AppError::Validation(format!("The phone number: {e}")))?;
        let email = match form.email.trim() {
            "" => None,
            typed => Some(
                crate::domain::mail::check_address(typed)
                    .map_err(|e| AppError::Validation(format!("The e-mail address: {e}")))?,
            ),
        };
        let channel = match (Channel::parse(&form.channel), &email) {
            (Some(Channel::Email), None) => {
                return Err(AppError::Validation(
                    "Give the patient's e-mail address to send them e-mail".into(),
                ))
            }
            (Some(c), _) => c,
            (None, _) => Channel::Both,
        };
        let service = loaded
            .services
            .iter()
            .find(|s| s.id == form.service_id)
            .ok_or_else(|| AppError::Validation("Choose a service".into()))?
            .clone();
        let candidates: Vec<i64> = match form.provider_id {
            0 => loaded
                .providers
                .iter()
                .filter(|p| p.performs(service.id))
                .map(|p| p.id)
                .collect(),
            id => {
                let practitioner = loaded
                    .providers
                    .iter()
                    .find(|p| p.id == id)
                    .ok_or_else(|| AppError::Validation("Choose a practitioner".into()))?;
                if !practitioner.performs(service.id) {
                    return Err(AppError::Validation(format!(
                        "{} doesn't do {}",
                        practitioner.name, service.name
                    )));
                }
                vec![id]
            }
        };
        let (start, able) = loaded.desk_start(
            &candidates,
            &form.date,
            &form.time,
            service.duration_minutes,
            now,
        )?;
        Ok(NewBooking {
            service,
            providers: able,
            start,
            phone: phone.as_str().to_string(),
            name: Some(name),
            email,
            channel: Some(channel),
            notes: None,
            call_id: None,
        })
    })();
    let req = match prepared {
        Ok(p) => p,
        Err(e) => {
            let around = start_from(&loaded.org, &form.date, &form.time, now).ok();
            return refused(&state, &info, &loaded, desk, e, around.unwrap_or(now)).await;
        }
    };
    let (start, change) = (req.start, desk_change(&info, loaded.org.clone(), ip, now));
    match state
        .db
        .write(move |tx| {
            booking::book(tx, &change, &req)?
                .ok_or_else(taken)
                .map(|_| ())
        })
        .await
    {
        Ok(()) => {
            messaging::wake(&state);
            Ok(Redirect::to("/appointments?saved=booked").into_response())
        }
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => refused(&state, &info, &loaded, desk, e, start).await,
    }
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
    /// A free-time button: `practitioner@YYYY-MM-DD@HH:MM` (the practitioner stays the same).
    #[serde(default)]
    pick: String,
    /// `times`: show the free times for the chosen day instead of moving.
    #[serde(default)]
    action: String,
}

pub async fn reschedule(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
    Form(form): Form<MoveForm>,
) -> AppResult<Response> {
    let loaded = load(&state, &info).await?;
    let scope = info.scope;
    let view = state
        .db
        .read(move |c| appointments::view(c, &scope, id))
        .await?;
    let appt = &view.appointment;
    let now = state.clock.now();
    let (mut date, mut time) = (form.date.clone(), form.time.clone());
    if let Some((_, d, t)) = parse_pick(&form.pick) {
        (date, time) = (d.to_string(), t.to_string());
    }
    // The free times of the same practitioner, for the same service, on the chosen day.
    let mut desk = Desk {
        service_id: appt.service_id,
        provider_id: appt.provider_id,
        date: date.clone(),
        time: time.clone(),
        moving: Some((
            id,
            format!(
                "Moving {}'s {} with {}",
                view.contact_name.as_deref().unwrap_or("the patient"),
                view.service_name,
                view.provider_name
            ),
        )),
        ..Desk::default()
    };
    if form.action == "times" || (form.pick.is_empty() && time.trim().is_empty()) {
        let error = free_times(&state, &info, &loaded, &mut desk, None)
            .await
            .err()
            .map(form_error)
            .transpose()?;
        return page_with(&state, &info, &RangeQuery::default(), error, desk).await;
    }
    let minutes = u32::try_from((appt.end_at - appt.start_at) / 60).unwrap_or(30);
    let start = match loaded.desk_start(&[appt.provider_id], &date, &time, minutes, now) {
        Ok((s, _)) => s,
        Err(e) => {
            let around = start_from(&loaded.org, &date, &time, now).ok();
            return refused(&state, &info, &loaded, desk, e, around.unwrap_or(now)).await;
        }
    };
    let change = desk_change(&info, loaded.org.clone(), ip, now);
    match state
        .db
        .write(move |tx| {
            booking::reschedule(tx, &change, id, &[], start)?
                .ok_or_else(taken)
                .map(|_| ())
        })
        .await
    {
        Ok(()) => {
            messaging::wake(&state);
            Ok(Redirect::to("/appointments?saved=moved").into_response())
        }
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => refused(&state, &info, &loaded, desk, e, start).await,
    }
}

pub async fn cancel(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let loaded = load(&state, &info).await?;
    let change = desk_change(&info, loaded.org, ip, state.clock.now());
    apply(&state, &info, "cancelled", move |tx| {
        booking::cancel(tx, &change, id, Some("cancelled by staff")).map(|_| ())
    })
    .await
}

#[derive(Deserialize)]
pub struct OutcomeForm {
    #[serde(default)]
    outcome: String,
}

pub async fn outcome(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
    Form(form): Form<OutcomeForm>,
) -> AppResult<Response> {
    let loaded = load(&state, &info).await?;
    let change = desk_change(&info, loaded.org, ip, state.clock.now());
    apply(&state, &info, "updated", move |tx| {
        booking::set_outcome(tx, &change, id, &form.outcome).map(|_| ())
    })
    .await
}

pub async fn remind(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let loaded = load(&state, &info).await?;
    let change = desk_change(&info, loaded.org, ip, state.clock.now());
    apply(&state, &info, "reminder queued", move |tx| {
        booking::remind_now(tx, &change, id, booking::ReminderMethod::Sms).map(|_| ())
    })
    .await
}

/// What an appointment looks like in a calendar app: the same in the `.ics` download and in
/// the calendar subscription feed.
pub struct CalendarEntry {
    uid: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    summary: String,
    description: String,
    cancelled: bool,
}

impl CalendarEntry {
    pub fn new(org_id: i64, view: &AppointmentView) -> Self {
        let a = &view.appointment;
        let patient = view.contact_name.as_deref();
        CalendarEntry {
            uid: ics::appointment_uid(org_id, a.id),
            start: a.start(),
            end: DateTime::from_timestamp(a.end_at, 0).unwrap_or(a.start() + Duration::minutes(30)),
            summary: format!(
                "{} — {}",
                view.service_name,
                patient.unwrap_or(&view.contact_phone)
            ),
            description: format!(
                "Patient: {} ({})\nCalendar: {}",
                patient.unwrap_or("unknown"),
                view.contact_phone,
                view.provider_name
            ),
            cancelled: a.status == AppointmentStatus::Cancelled,
        }
    }

    pub fn event(&self, stamp: DateTime<Utc>) -> ics::Event<'_> {
        ics::Event {
            uid: self.uid.clone(),
            start: self.start,
            end: self.end,
            stamp,
            summary: &self.summary,
            description: &self.description,
            cancelled: self.cancelled,
        }
    }
}

pub async fn ics_file(
    State(state): State<AppState>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = info.scope;
    let (org, view) = state
        .db
        .read(move |c| Ok((orgs::get(c, &scope)?, appointments::view(c, &scope, id)?)))
        .await?;
    let entry = CalendarEntry::new(org.id, &view);
    let body = ics::calendar(&org.name, &[entry.event(state.clock.now())]);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"appointment-{id}.ics\""),
            ),
        ],
        body,
    )
        .into_response())
}
