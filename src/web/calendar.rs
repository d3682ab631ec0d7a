//! The week calendar of one provider (`/appointments/calendar?provider=…&week=YYYY-MM-DD`, a day
//! list at phone width) and its private, revocable subscription feed: owners create and revoke
//! a feed URL per calendar (audited; the token is stored hashed and shown once), and calendar
//! apps fetch `GET /calendars/{token}.ics` without a session. A revoked or unknown token is 404.

use crate::app::AppState;
use crate::crypto;
use crate::domain::format::{local_datetime, short_datetime, spoken_date, spoken_time};
use crate::domain::ics;
use crate::error::{AppError, AppResult};
use crate::store::appointments::{self, AppointmentStatus, AppointmentView};
use crate::store::calendar_feeds::{self, Feed};
use crate::store::orgs::{self, Org};
use crate::store::services::{self, Provider};
use crate::store::sessions::SessionInfo;
use crate::web::appointments::CalendarEntry;
use crate::web::pages::{render, Chrome};
use crate::web::session::{audited_change, CurrentStaff, Owner};
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{Datelike, Days, NaiveDate};
use serde::Deserialize;
use std::net::SocketAddr;

/// Feed tokens start with this, so one found in a log or a paste is recognisable.
const TOKEN_PREFIX: &str = "vxc_";
/// What a feed holds: the recent past and the year ahead.
const FEED_PAST_DAYS: i64 = 30;
const FEED_FUTURE_DAYS: i64 = 366;
const FEED_MAX_EVENTS: i64 = 5000;
const WEEK_MAX_APPOINTMENTS: i64 = 1000;

pub struct Item {
    pub id: i64,
    pub time: String,
    pub end: String,
    pub patient: String,
    pub service: String,
    pub status: String,
}

pub struct Day {
    pub label: String,
    pub today: bool,
    pub items: Vec<Item>,
    /// What a day without appointments is: "Free", "Closed", "Holiday", "Day off" or "Past".
    pub empty: &'static str,
}

/// What an empty day is for this practitioner: past days first, then the clinic's closures and
/// closed weekdays, then their own days off and days they do not work.
fn empty_day(
    date: NaiveDate,
    today: NaiveDate,
    org: &Org,
    practitioner: Option<&crate::domain::practitioner::Practitioner>,
) -> &'static str {
    use chrono::Datelike;
    if date < today {
        "Past"
    } else if org.closures.contains(&date) {
        "Holiday"
    } else if org.hours.on(date.weekday()).is_empty() {
        "Closed"
    } else if practitioner.is_some_and(|p| p.off_on(date)) {
        "Day off"
    } else if practitioner
        .is_some_and(|p| p.working_hours(&org.hours).on(date.weekday()).is_empty())
    {
        "Not working"
    } else {
        "Free"
    }
}

pub struct FeedRow {
    pub f: Feed,
    pub created: String,
    pub revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "appointments/calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    providers: Vec<Provider>,
    provider_id: i64,
    provider_name: String,
    week: String,
    week_label: String,
    prev: String,
    next: String,
    days: Vec<Day>,
    feeds: Vec<FeedRow>,
    new_url: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CalendarQuery {
    provider: Option<String>,
    week: Option<String>,
    saved: Option<String>,
}

/// The Monday of the week holding `day`.
fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

fn item(v: &AppointmentView, tz: chrono_tz::Tz) -> Item {
    let a = &v.appointment;
    let end = chrono::DateTime::from_timestamp(a.end_at, 0).unwrap_or(a.start());
    Item {
        id: a.id,
        time: spoken_time(local_datetime(a.start(), tz).time()),
        end: spoken_time(local_datetime(end, tz).time()),
        patient: v
            .contact_name
            .clone()
            .unwrap_or_else(|| v.contact_phone.clone()),
        service: v.service_name.clone(),
        status: a.status.to_string(),
    }
}

async fn page(
    state: &AppState,
    info: &SessionInfo,
    q: &CalendarQuery,
    new_url: Option<String>,
) -> AppResult<Response> {
    let scope = info.scope;
    let (org, providers, feeds): (Org, Vec<Provider>, Vec<Feed>) = state
        .db
        .read(move |c| {
            Ok((
                orgs::get(c, &scope)?,
                services::list_providers(c, &scope)?,
                calendar_feeds::list(c, &scope)?,
            ))
        })
        .await?;
    let tz = org.timezone;
    let today = local_datetime(state.clock.now(), tz).date();
    let day = match q.week.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        None => today,
        Some(w) => NaiveDate::parse_from_str(w, "%Y-%m-%d")
            .map_err(|_| AppError::Validation("week must be a date like 2026-06-15".into()))?,
    };
    let monday = monday_of(day);
    let provider = match q
        .provider
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => providers.first().ok_or(AppError::NotFound)?,
        Some(p) => {
            let id: i64 = p
                .parse()
                .map_err(|_| AppError::Validation("provider must be a calendar's number".into()))?;
            providers
                .iter()
                .find(|x| x.id == id)
                .ok_or(AppError::NotFound)?
        }
    };
    let from = crate::domain::calls::day_start(tz, monday).timestamp();
    let to = crate::domain::calls::day_start(tz, monday + Days::new(7)).timestamp();
    let provider_id = provider.id;
    let (list, practitioner) = state
        .db
        .read(move |c| {
            Ok((
                appointments::list_for_provider(
                    c,
                    &scope,
                    provider_id,
                    from,
                    to,
                    WEEK_MAX_APPOINTMENTS,
                )?,
                crate::store::practitioners::get(c, &scope, provider_id).ok(),
            ))
        })
        .await?;
    let mut days: Vec<Day> = (0..7)
        .map(|i| {
            let date = monday + Days::new(i);
            Day {
                label: spoken_date(date),
                today: date == today,
                items: Vec::new(),
                empty: empty_day(date, today, &org, practitioner.as_ref()),
            }
        })
        .collect();
    for v in &list {
        let date = local_datetime(v.appointment.start(), tz).date();
        if let Some(d) = usize::try_from((date - monday).num_days())
            .ok()
            .and_then(|i| days.get_mut(i))
        {
            d.items.push(item(v, tz));
        }
    }
    let notice = match q.saved.as_deref() {
        Some("revoked") => {
            Some("Subscription URL revoked: calendar apps using it get nothing more.")
        }
        _ => None,
    };
    let fmt = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|t| short_datetime(t, tz))
            .unwrap_or_default()
    };
    let page = CalendarPage {
        chrome: Chrome::new(info, &org.name, "Appointments").with_notice(notice),
        provider_id,
        provider_name: provider.name.clone(),
        week: monday.format("%Y-%m-%d").to_string(),
        week_label: format!("Week of {}", spoken_date(monday)),
        prev: (monday - Days::new(7)).format("%Y-%m-%d").to_string(),
        next: (monday + Days::new(7)).format("%Y-%m-%d").to_string(),
        days,
        feeds: feeds
            .into_iter()
            .map(|f| FeedRow {
                created: fmt(f.created_at),
                revoked: f.revoked_at.map(fmt),
                f,
            })
            .collect(),
        new_url,
        providers,
    };
    render(&page)
}

pub async fn show(
    State(state): State<AppState>,
    CurrentStaff(info): CurrentStaff,
    Query(q): Query<CalendarQuery>,
) -> AppResult<Response> {
    page(&state, &info, &q, None).await
}

#[derive(Deserialize)]
pub struct FeedForm {
    #[serde(default)]
    provider_id: i64,
}

/// Where calendar apps reach the appliance: the public (tunnel) address when configured, else
/// the address this page was opened at.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

pub async fn create_feed(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    headers: HeaderMap,
    Form(form): Form<FeedForm>,
) -> AppResult<Response> {
    let token = format!("{TOKEN_PREFIX}{}", crypto::random_token(32));
    let hash = crypto::token_hash(&token);
    let (staff_id, now, provider) = (
        info.staff.id,
        state.clock.now().timestamp(),
        form.provider_id,
    );
    audited_change(
        &state,
        &info,
        ip,
        "calendar_feed.created",
        format!("provider={provider}"),
        move |tx, scope| calendar_feeds::create(tx, scope, provider, &hash, staff_id, now),
    )
    .await?;
    let url = format!("{}/calendars/{token}.ics", base_url(&state, &headers));
    let q = CalendarQuery {
        provider: Some(provider.to_string()),
        ..CalendarQuery::default()
    };
    page(&state, &info, &q, Some(url)).await
}

pub async fn revoke_feed(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let now = state.clock.now().timestamp();
    audited_change(
        &state,
        &info,
        ip,
        "calendar_feed.revoked",
        format!("feed={id}"),
        move |tx, scope| calendar_feeds::revoke(tx, scope, id, now),
    )
    .await?;
    Ok(Redirect::to("/appointments/calendar?saved=revoked").into_response())
}

/// `GET /calendars/{token}.ics`: the subscribed calendar, for calendar apps (no session).
pub async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> AppResult<Response> {
    let token = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    if !token.starts_with(TOKEN_PREFIX) {
        return Err(AppError::NotFound);
    }
    let hash = crypto::token_hash(token);
    let now = state.clock.now();
    let from = now.timestamp() - FEED_PAST_DAYS * 86_400;
    let to = now.timestamp() + FEED_FUTURE_DAYS * 86_400;
    let (org, provider, list) = state
        .db
        .read(move |c| {
            let (scope, provider_id) =
                calendar_feeds::authenticate(c, &hash)?.ok_or(AppError::NotFound)?;
            let provider = services::list_providers(c, &scope)?
                .into_iter()
                .find(|p| p.id == provider_id)
                .ok_or(AppError::NotFound)?;
            let list =
                appointments::list_for_provider(c, &scope, provider_id, from, to, FEED_MAX_EVENTS)?;
            Ok((orgs::get(c, &scope)?, provider, list))
        })
        .await?;
    // Holds last minutes and may never become bookings: a calendar app should not show them.
    let entries: Vec<CalendarEntry> = list
        .iter()
        .filter(|v| v.appointment.status != AppointmentStatus::Held)
        .map(|v| CalendarEntry::new(org.id, v))
        .collect();
    let events: Vec<ics::Event<'_>> = entries.iter().map(|e| e.event(now)).collect();
    let body = ics::calendar(&format!("{} — {}", org.name, provider.name), &events);
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response())
}
