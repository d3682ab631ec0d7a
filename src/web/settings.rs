//! Settings (owners only): clinic profile, opening hours and closures, booking rules, texts.
//! Every change is audited.

use crate::app::AppState;
use crate::domain::phone::PhoneNumber;
use crate::domain::schedule::{BookingRules, Interval, WeeklyHours};
use crate::error::{AppError, AppResult};
use crate::store::orgs::{self, Org};
use crate::store::sessions::SessionInfo;
use crate::web::pages::{form_error, render_form, Chrome, Notice};
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;

use crate::web::session::{audited_change, Owner};

pub const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

pub struct DayRow {
    pub key: &'static str,
    pub name: &'static str,
    pub open: String,
    pub close: String,
}

#[derive(Template)]
#[template(path = "settings/index.html")]
struct SettingsPage {
    chrome: Chrome,
    org: Org,
    days: Vec<DayRow>,
    closures: String,
    alert_phone: String,
    error: Option<String>,
}

fn day_rows(hours: &WeeklyHours) -> Vec<DayRow> {
    (0..7)
        .map(|i| {
            let first = hours.days[i].first();
            DayRow {
                key: DAY_KEYS[i],
                name: DAY_NAMES[i],
                open: first
                    .map(|iv| iv.open.format("%H:%M").to_string())
                    .unwrap_or_default(),
                close: first
                    .map(|iv| iv.close.format("%H:%M").to_string())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

async fn page(
    state: &AppState,
    info: &SessionInfo,
    error: Option<String>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let scope = info.scope;
    let org = state.db.read(move |c| orgs::get(c, &scope)).await?;
    let page = SettingsPage {
        chrome: Chrome::new(info, &org.name, "Settings").with_notice(notice),
        days: day_rows(&org.hours),
        closures: org
            .closures
            .iter()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        alert_phone: org.hot_lead_alert_phone.clone().unwrap_or_default(),
        org,
        error: error.clone(),
    };
    render_form(&page, &page.error)
}

pub async fn show(
    State(state): State<AppState>,
    Owner(info): Owner,
    Query(q): Query<Notice>,
) -> AppResult<Response> {
    let notice = q.saved.map(|what| format!("Saved {what}."));
    page(&state, &info, None, notice.as_deref()).await
}

/// Runs a settings change with its audit row, then redirects back, or re-renders the page
/// with the validation message (nothing changed).
async fn apply<F>(
    state: &AppState,
    info: &SessionInfo,
    ip: SocketAddr,
    action: &'static str,
    detail: String,
    change: F,
) -> AppResult<Response>
where
    F: FnOnce(&rusqlite::Transaction<'_>, &crate::store::OrgScope) -> AppResult<()>
        + Send
        + 'static,
{
    match audited_change(state, info, ip, action, detail, change).await {
        Ok(()) => {
            let what = action.trim_start_matches("settings.");
            Ok(Redirect::to(&format!("/settings?saved={what}")).into_response())
        }
        Err(e) => page(state, info, Some(form_error(e)?), None).await,
    }
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    alert_phone: String,
}

pub async fn save_profile(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<ProfileForm>,
) -> AppResult<Response> {
    let parsed = (|| {
        let tz = orgs::parse_timezone(&form.timezone)?;
        let name = orgs::validate_name(&form.name)?;
        let phone = match form.alert_phone.trim() {
            "" => None,
            raw => Some(
                PhoneNumber::parse(raw, &state.config.default_country)
                    .map_err(|e| AppError::Validation(format!("Hot-lead alert phone: {e}")))?
                    .as_str()
                    .to_string(),
            ),
        };
        Ok::<_, AppError>((tz, name, phone))
    })();
    let (tz, name, phone) = match parsed {
        Ok(v) => v,
        Err(e) => return page(&state, &info, Some(form_error(e)?), None).await,
    };
    let detail = format!("name={name} timezone={}", tz.name());
    apply(
        &state,
        &info,
        ip,
        "settings.profile",
        detail,
        move |tx, scope| orgs::update_profile(tx, scope, &name, tz, phone.as_deref()),
    )
    .await
}

fn parse_clock(day: &str, which: &str, v: &str) -> AppResult<Option<NaiveTime>> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    NaiveTime::parse_from_str(v, "%H:%M")
        .map(Some)
        .map_err(|_| {
            AppError::Validation(format!("{day} {which} time “{v}” is not a time like 09:00"))
        })
}

/// Reads the hours form: `mon_open`/`mon_close` … and `closures` (one date per line).
pub fn parse_hours_form(
    form: &HashMap<String, String>,
) -> AppResult<(WeeklyHours, Vec<NaiveDate>)> {
    let mut hours = WeeklyHours::default();
    for (i, key) in DAY_KEYS.iter().enumerate() {
        let get = |suffix: &str| {
            form.get(&format!("{key}_{suffix}"))
                .cloned()
                .unwrap_or_default()
        };
        let open = parse_clock(DAY_NAMES[i], "opening", &get("open"))?;
        let close = parse_clock(DAY_NAMES[i], "closing", &get("close"))?;
        hours.days[i] = match (open, close) {
            (None, None) => vec![],
            (Some(open), Some(close)) if open < close => vec![Interval { open, close }],
            (Some(_), Some(_)) => {
                return Err(AppError::Validation(format!(
                    "{}: the closing time must be after the opening time",
                    DAY_NAMES[i]
                )))
            }
            _ => {
                return Err(AppError::Validation(format!(
                    "{}: give both an opening and a closing time, or leave both empty for closed",
                    DAY_NAMES[i]
                )))
            }
        };
    }
    let mut closures = Vec::new();
    for line in form
        .get("closures")
        .map(String::as_str)
        .unwrap_or("")
        .lines()
    {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let date = NaiveDate::parse_from_str(line, "%Y-%m-%d").map_err(|_| {
            AppError::Validation(format!("closure “{line}” is not a date like 2026-12-25"))
        })?;
        closures.push(date);
    }
    closures.sort();
    closures.dedup();
    Ok((hours, closures))
}

pub async fn save_hours(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let (hours, closures) = match parse_hours_form(&form) {
        Ok(v) => v,
        Err(e) => return page(&state, &info, Some(form_error(e)?), None).await,
    };
    let detail = serde_json::to_string(&hours).unwrap_or_default();
    apply(
        &state,
        &info,
        ip,
        "settings.hours",
        detail,
        move |tx, scope| orgs::update_hours(tx, scope, &hours, &closures),
    )
    .await
}

#[derive(Deserialize)]
pub struct RulesForm {
    #[serde(default)]
    buffer_minutes: String,
    #[serde(default)]
    slot_minutes: String,
    #[serde(default)]
    min_notice_minutes: String,
    #[serde(default)]
    horizon_days: String,
}

fn bounded(label: &str, v: &str, min: u32, max: u32) -> AppResult<u32> {
    match v.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(AppError::Validation(format!(
            "{label} must be a whole number from {min} to {max}"
        ))),
    }
}

pub fn parse_rules(form: &RulesForm) -> AppResult<BookingRules> {
    Ok(BookingRules {
        buffer_minutes: bounded("Buffer between appointments", &form.buffer_minutes, 0, 240)?,
        slot_minutes: bounded("Slot granularity", &form.slot_minutes, 5, 240)?,
        min_notice_minutes: bounded("Minimum notice", &form.min_notice_minutes, 0, 10_080)?,
        horizon_days: bounded("Booking horizon", &form.horizon_days, 1, 365)?,
    })
}

pub async fn save_rules(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<RulesForm>,
) -> AppResult<Response> {
    let rules = match parse_rules(&form) {
        Ok(r) => r,
        Err(e) => return page(&state, &info, Some(form_error(e)?), None).await,
    };
    let detail = format!(
        "buffer={} slot={} notice={} horizon={}",
        rules.buffer_minutes, rules.slot_minutes, rules.min_notice_minutes, rules.horizon_days
    );
    apply(
        &state,
        &info,
        ip,
        "settings.rules",
        detail,
        move |tx, scope| orgs::update_rules(tx, scope, &rules),
    )
    .await
}

#[derive(Deserialize)]
pub struct TextsForm {
    sms_enabled: Option<String>,
    #[serde(default)]
    reminder_hours: String,
}

pub async fn save_texts(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<TextsForm>,
) -> AppResult<Response> {
    let hours = match bounded(
        "Reminder hours",
        &form.reminder_hours,
        0,
        orgs::MAX_REMINDER_HOURS,
    ) {
        Ok(h) => h,
        Err(e) => return page(&state, &info, Some(form_error(e)?), None).await,
    };
    let enabled = form.sms_enabled.is_some();
    apply(
        &state,
        &info,
        ip,
        "settings.texts",
        format!("sms_enabled={enabled} reminder_hours={hours}"),
        move |tx, scope| orgs::update_texts(tx, scope, enabled, hours),
    )
    .await
}
