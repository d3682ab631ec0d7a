//! Settings (owners only): clinic profile, opening hours and closures, booking rules, texts.
//! Every change is audited.

use crate::app::AppState;
use crate::domain::phone::PhoneNumber;
use crate::domain::practitioner;
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

/// One day of the hours form, as shown or as typed: a first period and an optional second
/// one after a break.
#[derive(Debug, Clone, Default)]
pub struct DayRow {
    pub key: &'static str,
    pub name: &'static str,
    pub open: String,
    pub close: String,
    pub open2: String,
    pub close2: String,
}

/// The hours form as shown or as typed (kept when it comes back with a mistake).
#[derive(Debug, Clone, Default)]
pub struct HoursForm {
    pub days: Vec<DayRow>,
    /// One date a field; a few empty ones to add more.
    pub closures: Vec<String>,
}

/// Empty date fields offered after the clinic's closures, to add more.
const SPARE_CLOSURE_FIELDS: usize = 3;

#[derive(Template)]
#[template(path = "settings/index.html")]
struct SettingsPage {
    chrome: Chrome,
    hours: HoursForm,
    /// The profile, rules and texts forms, as stored or as typed.
    f: Fields,
    error: Option<String>,
}

/// The values of the profile, rules and texts forms as text: the stored ones, or what was
/// typed when a form comes back with a mistake.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    pub name: String,
    pub timezone: String,
    pub alert_phone: String,
    pub buffer_minutes: String,
    pub slot_minutes: String,
    pub min_notice_minutes: String,
    pub horizon_days: String,
    pub sms_enabled: bool,
    pub reminder_hours: String,
}

impl Fields {
    fn of(org: &Org) -> Fields {
        Fields {
            name: org.name.clone(),
            timezone: org.timezone.name().to_string(),
            alert_phone: org.hot_lead_alert_phone.clone().unwrap_or_default(),
            buffer_minutes: org.rules.buffer_minutes.to_string(),
            slot_minutes: org.rules.slot_minutes.to_string(),
            min_notice_minutes: org.rules.min_notice_minutes.to_string(),
            horizon_days: org.rules.horizon_days.to_string(),
            sms_enabled: org.sms_enabled,
            reminder_hours: org.reminder_hours.to_string(),
        }
    }
}

/// What a refused form typed, to show again over the stored values.
enum Typed {
    Nothing,
    Hours(HoursForm),
    Profile(ProfileForm),
    Rules(RulesForm),
    Texts(TextsForm),
}

fn clock(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

impl HoursForm {
    fn of(org: &Org) -> HoursForm {
        let days = (0..7)
            .map(|i| {
                let periods = &org.hours.days[i];
                let at = |n: usize| periods.get(n);
                DayRow {
                    key: DAY_KEYS[i],
                    name: DAY_NAMES[i],
                    open: at(0).map(|iv| clock(iv.open)).unwrap_or_default(),
                    close: at(0).map(|iv| clock(iv.close)).unwrap_or_default(),
                    open2: at(1).map(|iv| clock(iv.open)).unwrap_or_default(),
                    close2: at(1).map(|iv| clock(iv.close)).unwrap_or_default(),
                }
            })
            .collect();
        let mut closures: Vec<String> = org.closures.iter().map(|d| d.to_string()).collect();
        closures.extend(std::iter::repeat_n(String::new(), SPARE_CLOSURE_FIELDS));
        HoursForm { days, closures }
    }

    /// The form as posted: `mon_open`, `mon_close`, `mon_open2`, `mon_close2` …, and each
    /// `closure` field (a `closures` box with one date a line is read too).
    fn posted(pairs: &[(String, String)]) -> HoursForm {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let days = (0..7)
            .map(|i| {
                let key = DAY_KEYS[i];
                DayRow {
                    key,
                    name: DAY_NAMES[i],
                    open: get(&format!("{key}_open")),
                    close: get(&format!("{key}_close")),
                    open2: get(&format!("{key}_open2")),
                    close2: get(&format!("{key}_close2")),
                }
            })
            .collect();
        let mut closures: Vec<String> = Vec::new();
        for (k, v) in pairs {
            match k.as_str() {
                "closure" => closures.push(v.trim().to_string()),
                "closures" => closures.extend(
                    v.split(['\n', ','])
                        .map(|d| d.trim().to_string())
                        .filter(|d| !d.is_empty()),
                ),
                _ => {}
            }
        }
        closures.retain(|d| !d.is_empty());
        closures.extend(std::iter::repeat_n(String::new(), SPARE_CLOSURE_FIELDS));
        HoursForm { days, closures }
    }
}

async fn page(
    state: &AppState,
    info: &SessionInfo,
    error: Option<String>,
    notice: Option<&str>,
) -> AppResult<Response> {
    page_with(state, info, error, notice, Typed::Nothing).await
}

/// The page; `typed` is the form as it was posted, shown again with its mistake.
async fn page_with(
    state: &AppState,
    info: &SessionInfo,
    error: Option<String>,
    notice: Option<&str>,
    typed: Typed,
) -> AppResult<Response> {
    let scope = info.scope;
    let org = state.db.read(move |c| orgs::get(c, &scope)).await?;
    let mut f = Fields::of(&org);
    let mut hours = HoursForm::of(&org);
    match typed {
        Typed::Nothing => {}
        Typed::Hours(h) => hours = h,
        Typed::Profile(p) => {
            (f.name, f.timezone, f.alert_phone) = (p.name, p.timezone, p.alert_phone);
        }
        Typed::Rules(r) => {
            f.buffer_minutes = r.buffer_minutes;
            f.slot_minutes = r.slot_minutes;
            f.min_notice_minutes = r.min_notice_minutes;
            f.horizon_days = r.horizon_days;
        }
        Typed::Texts(t) => {
            f.sms_enabled = t.sms_enabled.is_some();
            f.reminder_hours = t.reminder_hours;
        }
    }
    let page = SettingsPage {
        chrome: Chrome::new(info, &org.name, "Settings").with_notice(notice),
        hours,
        f,
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
        Err(e) => {
            return page_with(
                &state,
                &info,
                Some(form_error(e)?),
                None,
                Typed::Profile(form),
            )
            .await
        }
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

/// Reads the hours form: up to two periods a day (a break between them) and the closed dates.
pub fn parse_hours_form(form: &HoursForm) -> AppResult<(WeeklyHours, Vec<NaiveDate>)> {
    let mut hours = WeeklyHours {
        days: Default::default(),
    };
    for (i, day) in form.days.iter().enumerate() {
        let name = DAY_NAMES[i];
        let first = period(name, "", &day.open, &day.close)?;
        let second = period(name, " after the break", &day.open2, &day.close2)?;
        if let (None, Some(_)) = (first, second) {
            return Err(AppError::Validation(format!(
                "{name}: fill in the first opening hours before the ones after a break"
            )));
        }
        hours.days[i] = first.into_iter().chain(second).collect();
    }
    hours
        .validate()
        .map_err(|e| AppError::Validation(e.to_string()))?;
    let mut closures = Vec::new();
    for raw in form.closures.iter().filter(|d| !d.is_empty()) {
        let date = practitioner::parse_day(raw)
            .map_err(|e| AppError::Validation(format!("Closed dates: {e}")))?;
        closures.push(date);
    }
    closures.sort();
    closures.dedup();
    Ok((hours, closures))
}

/// One opening period of a day from its two fields; both empty is none.
fn period(day: &str, which: &str, open: &str, close: &str) -> AppResult<Option<Interval>> {
    let open = parse_clock(day, &format!("opening{which}"), open)?;
    let close = parse_clock(day, &format!("closing{which}"), close)?;
    match (open, close) {
        (None, None) => Ok(None),
        (Some(open), Some(close)) if open < close => Ok(Some(Interval { open, close })),
        (Some(_), Some(_)) => Err(AppError::Validation(format!(
            "{day}: the closing time{which} must be after the opening time"
        ))),
        _ => Err(AppError::Validation(format!(
            "{day}: give both an opening and a closing time{which}, or leave both empty"
        ))),
    }
}

pub async fn save_hours(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let typed = HoursForm::posted(&pairs);
    let (hours, closures) = match parse_hours_form(&typed) {
        Ok(v) => v,
        Err(e) => {
            return page_with(
                &state,
                &info,
                Some(form_error(e)?),
                None,
                Typed::Hours(typed),
            )
            .await
        }
    };
    let detail = serde_json::to_string(&hours).unwrap_or_default();
    match audited_change(
        &state,
        &info,
        ip,
        "settings.hours",
        detail,
        move |tx, scope| orgs::update_hours(tx, scope, &hours, &closures),
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/settings?saved=hours").into_response()),
        Err(e) => {
            page_with(
                &state,
                &info,
                Some(form_error(e)?),
                None,
                Typed::Hours(typed),
            )
            .await
        }
    }
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
        Err(e) => {
            return page_with(
                &state,
                &info,
                Some(form_error(e)?),
                None,
                Typed::Rules(form),
            )
            .await
        }
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
        Err(e) => {
            return page_with(
                &state,
                &info,
                Some(form_error(e)?),
                None,
                Typed::Texts(form),
            )
            .await
        }
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
