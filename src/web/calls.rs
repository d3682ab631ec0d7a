//! Calls: the list (newest first; period, direction, booked, sentiment and lead-tier filters
//! and full-text search, all kept in the query string; 50 a page) and one call's page (the
//! conversation as a chat, summary, recording, sentiment, score breakdown, linked contact and
//! appointment) with its actions: export the transcript, share the recording, text the caller.

use crate::app::AppState;
use crate::domain::calls::{day_start, CallType};
use crate::domain::conversation::turns;
use crate::domain::format::{format_cents, format_duration_secs, short_datetime};
use crate::domain::lead::{Sentiment, Tier};
use crate::domain::sms::FOLLOW_UP_MAX_CHARS;
use crate::error::{AppError, AppResult};
use crate::service::call_actions::{self, ShareLink};
use crate::service::mailing::Emailed;
use crate::store::appointments::{self, AppointmentView};
use crate::store::audit::Who;
use crate::store::call_list::{self, CallFilter, ListedCall};
use crate::store::calls::{self as call_store, CallRow};
use crate::store::leads::{self, Lead};
use crate::store::orgs;
use crate::store::sessions::SessionInfo;
use crate::web::pages::{form_error, render_form, Chrome, Notice};
use crate::web::session::CurrentStaff;
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

const PAGE_SIZE: i64 = 50;

/// The list's filters as they travel in the query string; unknown values are ignored.
/// Empty filters stay out of page links.
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct CallsQuery {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub q: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub to: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub direction: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub booked: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sentiment: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tier: String,
    #[serde(skip_serializing)]
    pub page: String,
}

impl CallsQuery {
    fn date(v: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok()
    }

    /// The store's filter for page `page` (from 1).
    fn filter(&self, tz: Tz, page: i64) -> CallFilter {
        CallFilter {
            from: Self::date(&self.from).map(|d| day_start(tz, d).timestamp()),
            // `to` is a whole day: up to the next midnight.
            to: Self::date(&self.to)
                .and_then(|d| d.succ_opt())
                .map(|d| day_start(tz, d).timestamp()),
            call_type: CallType::parse(&self.direction),
            booked: match self.booked.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            sentiment: Sentiment::from_label(&self.sentiment),
            tier: Tier::parse(&self.tier),
            search: Some(self.q.trim().to_string()).filter(|q| !q.is_empty()),
            phone: None,
            contact_id: None,
            limit: PAGE_SIZE,
            offset: (page - 1) * PAGE_SIZE,
        }
    }

    fn page(&self) -> i64 {
        self.page
            .trim()
            .parse::<i64>()
            .unwrap_or(1)
            .clamp(1, 100_000)
    }

    /// The filters as a query string, for page links.
    fn query_string(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }
}

/// A call as a row of a list (this page and a lead's history).
pub struct CallLine {
    pub id: i64,
    pub when: String,
    pub direction: &'static str,
    pub who: String,
    /// E.164, for `tel:` links.
    pub number: String,
    /// The number as people in the clinic's country write it.
    pub shown: String,
    pub duration: String,
    pub booked: bool,
    pub sentiment: &'static str,
    pub tier: &'static str,
    pub score: String,
    pub value: String,
    pub summary: String,
}

fn when(ts: i64, tz: Tz) -> String {
    DateTime::from_timestamp(ts, 0)
        .map(|t| short_datetime(t, tz))
        .unwrap_or_default()
}

fn duration(ms: Option<i64>) -> String {
    ms.map(|ms| format_duration_secs(u64::try_from(ms / 1000).unwrap_or(0)))
        .unwrap_or_default()
}

/// The first `n` characters of `s`, with an ellipsis when cut.
fn clip(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

pub fn line(call: &CallRow, contact_name: Option<&str>, tz: Tz, country: &str) -> CallLine {
    let f = &call.facts;
    let number = f.customer_number.clone().unwrap_or_default();
    let shown = crate::domain::phone::national(&number, country);
    CallLine {
        id: call.id,
        when: when(f.started_at.unwrap_or(call.created_at), tz),
        direction: f.call_type.map_or("unknown", CallType::as_str),
        who: contact_name
            .map(str::to_string)
            .unwrap_or_else(|| shown.clone()),
        number,
        shown,
        duration: duration(f.duration_ms),
        booked: call.outcome.booked,
        sentiment: f.sentiment.map_or("", Sentiment::as_str),
        tier: call.outcome.lead_tier.map_or("", Tier::as_str),
        score: call
            .outcome
            .lead_score
            .map(|s| s.to_string())
            .unwrap_or_default(),
        value: if call.outcome.value_cents > 0 {
            format_cents(call.outcome.value_cents)
        } else {
            String::new()
        },
        summary: clip(f.summary.as_deref().unwrap_or(""), 140),
    }
}

#[derive(Template)]
#[template(path = "calls/index.html")]
struct CallsPage {
    chrome: Chrome,
    q: CallsQuery,
    rows: Vec<CallLine>,
    /// "12 calls", or "1,050+ calls" when a search stopped counting.
    heading: String,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentStaff(info): CurrentStaff,
    Query(q): Query<CallsQuery>,
) -> AppResult<Response> {
    let scope = info.scope;
    let page = q.page();
    let query = q.clone();
    let country = state.config.default_country.clone();
    let (org, (rows, total), floor) = state
        .db
        .read(move |c| {
            let org = orgs::get(c, &scope)?;
            let f = query.filter(org.timezone, page).phone_aware(&country);
            let listed = call_list::list_with_names(c, &scope, &f)?;
            let floor = call_list::total_is_floor(&f, listed.1);
            Ok((org, listed, floor))
        })
        .await?;
    let tz = org.timezone;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let link = |p: i64| format!("/calls?{}&page={p}", q.query_string());
    let page_view = CallsPage {
        chrome: Chrome::new(&info, &org.name, "Calls"),
        rows: rows
            .iter()
            .map(|l: &ListedCall| {
                line(
                    &l.call,
                    l.contact_name.as_deref(),
                    tz,
                    &state.config.default_country,
                )
            })
            .collect(),
        heading: format!(
            "{}{} call{}",
            total,
            if floor { "+" } else { "" },
            if total == 1 && !floor { "" } else { "s" }
        ),
        page,
        pages,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        q,
    };
    render_form(&page_view, &None)
}

pub struct TurnView {
    pub css: &'static str,
    pub label: &'static str,
    pub text: String,
    pub at: String,
}

pub struct FactorView {
    pub label: String,
    pub points: i64,
}

#[derive(Template)]
#[template(path = "calls/detail.html")]
struct CallPage {
    chrome: Chrome,
    call: CallLine,
    vapi_call_id: String,
    ended_reason: String,
    summary: String,
    recording_url: Option<String>,
    recording_status: String,
    sentiment_score: String,
    turns: Vec<TurnView>,
    factors: Vec<FactorView>,
    lead: Option<Lead>,
    appointment: Option<(AppointmentView, String)>,
    /// What the assistant did during the call, in order.
    actions: Vec<ActionLine>,
    /// How the call ended, in plain words.
    outcome: &'static str,
    shared: Option<(String, String)>,
    max_chars: usize,
    message: String,
    error: Option<String>,
}

/// The score's factors as stored by ingest (`{total, tier, factors: [{label, points}]}`).
fn factors(score_json: Option<&str>) -> Vec<FactorView> {
    let parsed = score_json.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok());
    parsed
        .as_ref()
        .and_then(|v| v.get("factors"))
        .and_then(|f| f.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|f| {
                    Some(FactorView {
                        label: f.get("label")?.as_str()?.to_string(),
                        points: f.get("points")?.as_i64()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What the call page shows besides the forms.
struct Loaded {
    org: orgs::Org,
    call: CallRow,
    lead: Option<Lead>,
    appointment: Option<AppointmentView>,
    actions: Vec<crate::store::tool_results::Action>,
}

/// One thing the assistant did during the call, for its page.
pub struct ActionLine {
    pub at: String,
    pub what: &'static str,
    pub failed: bool,
    pub said: String,
    /// Where what it made is shown: the day's appointments, the texts.
    pub links: Vec<(&'static str, String)>,
}

fn action_line(a: &crate::store::tool_results::Action, tz: Tz) -> ActionLine {
    let data: serde_json::Value = serde_json::from_str(&a.data_json).unwrap_or_default();
    let mut links = Vec::new();
    if let Some(day) = data
        .get("start")
        .and_then(|s| s.as_str())
        .and_then(|s| s.get(..10))
        .filter(|_| data.get("appointmentId").is_some() || data.get("holdId").is_some())
    {
        links.push((
            "the appointment",
            format!("/appointments?from={day}&days=1"),
        ));
    }
    if data.get("smsStatus").is_some() {
        links.push(("the text", "/messages".to_string()));
    }
    ActionLine {
        at: when(a.at, tz),
        what: crate::domain::plain::tool_action(&a.name),
        failed: a.is_error || data.get("ok") == Some(&serde_json::Value::Bool(false)),
        said: a.sentence.clone(),
        links,
    }
}

async fn load(state: &AppState, info: &SessionInfo, id: i64) -> AppResult<Loaded> {
    let scope = info.scope;
    state
        .db
        .read(move |c| {
            let call = call_store::get(c, &scope, id)?;
            let lead = call
                .contact_id
                .map(|cid| leads::get(c, &scope, cid))
                .transpose()?;
            let appointment = call
                .outcome
                .appointment_id
                .map(|aid| appointments::view(c, &scope, aid))
                .transpose()?;
            let actions = match call.vapi_call_id.as_deref() {
                Some(v) => crate::store::tool_results::for_call(c, &scope, v)?,
                None => Vec::new(),
            };
            Ok(Loaded {
                org: orgs::get(c, &scope)?,
                call,
                lead,
                appointment,
                actions,
            })
        })
        .await
}

/// Renders one call's page, with a just-made share link or a form's message when given.
async fn call_page(
    state: &AppState,
    info: &SessionInfo,
    id: i64,
    notice: Option<String>,
    shared: Option<ShareLink>,
    message: String,
    error: Option<String>,
) -> AppResult<Response> {
    let l = load(state, info, id).await?;
    let tz = l.org.timezone;
    let f = &l.call.facts;
    let view = CallPage {
        chrome: Chrome::new(info, &l.org.name, "Calls").with_notice(notice.as_deref()),
        call: line(
            &l.call,
            l.lead.as_ref().and_then(|x| x.name.as_deref()),
            tz,
            &state.config.default_country,
        ),
        vapi_call_id: l.call.vapi_call_id.clone().unwrap_or_default(),
        ended_reason: f.ended_reason.clone().unwrap_or_default(),
        summary: f.summary.clone().unwrap_or_default(),
        recording_url: f
            .recording_url
            .clone()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        recording_status: f
            .recording_status
            .map(|s| s.as_str())
            .unwrap_or("")
            .to_string(),
        sentiment_score: f
            .sentiment_score
            .map(|s| format!("{s:.2}"))
            .unwrap_or_default(),
        turns: turns(f.messages_json.as_deref(), f.transcript.as_deref())
            .into_iter()
            .map(|t| TurnView {
                css: t.speaker.css(),
                label: t.speaker.label(),
                text: t.text,
                at: t
                    .at_secs
                    .map(|s| format_duration_secs(s.max(0.0) as u64))
                    .unwrap_or_default(),
            })
            .collect(),
        factors: factors(l.call.outcome.score_json.as_deref()),
        actions: l.actions.iter().map(|a| action_line(a, tz)).collect(),
        outcome: crate::domain::plain::call_outcome(
            f.ended_reason.as_deref(),
            l.call.outcome.booked,
        ),
        appointment: l.appointment.map(|a| {
            let at = when(a.appointment.start_at, tz);
            (a, at)
        }),
        lead: l.lead,
        shared: shared.map(|s| (s.url, short_datetime(s.expires_at, tz))),
        max_chars: FOLLOW_UP_MAX_CHARS,
        message,
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
    let notice = n.saved.map(|s| match s.as_str() {
        "sent" => "Follow-up text sent.".to_string(),
        "skipped" => "Follow-up not sent: texts are off or Twilio is not set up.".to_string(),
        "failed_but_booked" => "Twilio refused the follow-up text; see Messages.".to_string(),
        _ => "Follow-up text queued; it goes out shortly.".to_string(),
    });
    call_page(&state, &info, id, notice, None, String::new(), None).await
}

fn by_staff(info: &SessionInfo, ip: SocketAddr) -> Who {
    Who::staff(&info.staff, "dashboard", ip)
}

/// The base of links the appliance hands out: the public URL when configured, else the address
/// the staff member reached the dashboard on.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// `Content-Disposition: attachment` with the transcript as plain text.
pub fn transcript_download(file: call_actions::TranscriptFile) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.filename),
            ),
        ],
        file.body,
    )
        .into_response()
}

pub async fn export(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let file = call_actions::export_transcript(&state, info.scope, id, by_staff(&info, ip)).await?;
    Ok(transcript_download(file))
}

#[derive(Deserialize, Default)]
pub struct ShareForm {
    #[serde(default)]
    email: String,
}

pub async fn share(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    CurrentStaff(info): CurrentStaff,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<ShareForm>,
) -> AppResult<Response> {
    let base = base_url(&state, &headers);
    let by = by_staff(&info, ip);
    match call_actions::share_recording(&state, info.scope, id, Some(&form.email), &base, by).await
    {
        Ok(link) => {
            let shared = "Recording shared: the link works for 24 hours";
            let notice = Some(match &link.emailed {
                Some((to, Emailed::Sent)) => format!("{shared} and was e-mailed to {to}."),
                Some((_, Emailed::NotSetUp)) => format!(
                    "{shared}. E-mail is not set up for this clinic, so copy the link and send it yourself."
                ),
                Some((to, Emailed::Failed(why))) => format!(
                    "{shared}, but the e-mail to {to} did not go: {why} Copy the link and send it yourself."
                ),
                None => format!("{shared}."),
            });
            call_page(&state, &info, id, notice, Some(link), String::new(), None).await
        }
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => {
            call_page(
                &state,
                &info,
                id,
                None,
                None,
                String::new(),
                Some(form_error(e)?),
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct FollowUpForm {
    #[serde(default)]
    message: String,
}

pub async fn follow_up(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
    Form(form): Form<FollowUpForm>,
) -> AppResult<Response> {
    let by = by_staff(&info, ip);
    match call_actions::send_follow_up(&state, info.scope, id, &form.message, by).await {
        Ok(sent) => Ok(
            Redirect::to(&format!("/calls/{id}?saved={}", sent.status.as_str())).into_response(),
        ),
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => {
            call_page(
                &state,
                &info,
                id,
                None,
                None,
                form.message,
                Some(form_error(e)?),
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_come_from_the_query_string_and_go_back_to_it() {
        let q: CallsQuery = serde_urlencoded::from_str(
            "q=botox+%22lip%22&from=2026-06-01&to=2026-06-15&direction=inbound&booked=no\
             &sentiment=positive&tier=hot&page=3",
        )
        .unwrap();
        let f = q.filter(chrono_tz::UTC, q.page());
        assert_eq!(f.from, Some(1_780_272_000));
        assert_eq!(f.to, Some(1_781_568_000));
        assert_eq!(f.call_type, Some(CallType::Inbound));
        assert_eq!(f.booked, Some(false));
        assert_eq!(f.sentiment, Some(Sentiment::Positive));
        assert_eq!(f.tier, Some(Tier::Hot));
        assert_eq!(f.search.as_deref(), Some("botox \"lip\""));
        assert_eq!(f.offset, 100);
        let back = q.query_string();
        assert!(
            back.contains("q=botox+%22lip%22") && !back.contains("page"),
            "{back}"
        );
        let junk: CallsQuery =
            serde_urlencoded::from_str("direction=sideways&booked=maybe&page=-4&from=soon")
                .unwrap();
        let f = junk.filter(chrono_tz::UTC, junk.page());
        assert_eq!(
            (f.call_type, f.booked, f.from, f.offset),
            (None, None, None, 0)
        );
    }
}
