//! Messages: every text sent or received for the clinic, newest first, filterable by
//! direction, purpose and status, with the provider's id and links to the appointment.

use crate::app::AppState;
use crate::domain::format::short_datetime;
use crate::error::AppResult;
use crate::store::messages::{self, Filter, Message};
use crate::store::orgs;
use crate::web::pages::{render, Chrome};
use crate::web::session::CurrentStaff;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::DateTime;
use serde::Deserialize;

pub struct MessageRow {
    pub m: Message,
    pub when: String,
    pub kind: String,
}

#[derive(Template)]
#[template(path = "messages/index.html")]
struct MessagesPage {
    chrome: Chrome,
    rows: Vec<MessageRow>,
    direction: String,
    purpose: String,
    status: String,
    purposes: &'static [&'static str],
    directions: &'static [&'static str],
    statuses: &'static [&'static str],
}

#[derive(Deserialize, Default)]
pub struct MessagesQuery {
    #[serde(default)]
    direction: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    status: String,
}

const PURPOSES: &[&str] = &[
    "confirmation",
    "reminder",
    "reschedule",
    "cancellation",
    "verification",
    "hot_lead_alert",
    "follow_up",
];
const DIRECTIONS: &[&str] = &["outbound", "inbound"];
const STATUSES: &[&str] = &[
    "queued",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "retrying",
    "skipped",
    "refused",
    "received",
];

/// Keeps a filter only when it is one of the known values.
fn known(value: &str, allowed: &[&str]) -> Option<String> {
    allowed.contains(&value).then(|| value.to_string())
}

pub async fn show(
    State(state): State<AppState>,
    CurrentStaff(info): CurrentStaff,
    Query(q): Query<MessagesQuery>,
) -> AppResult<Response> {
    let scope = info.scope;
    let filter = Filter {
        direction: known(&q.direction, DIRECTIONS),
        purpose: known(&q.purpose, PURPOSES),
        status: known(&q.status, STATUSES),
    };
    let (org, list) = state
        .db
        .read(move |c| {
            Ok((
                orgs::get(c, &scope)?,
                messages::list_filtered(c, &scope, &filter, 200)?,
            ))
        })
        .await?;
    let tz = org.timezone;
    let page = MessagesPage {
        chrome: Chrome::new(&info, &org.name, "Messages"),
        rows: list
            .into_iter()
            .map(|m| MessageRow {
                when: DateTime::from_timestamp(m.created_at, 0)
                    .map(|t| short_datetime(t, tz))
                    .unwrap_or_default(),
                kind: m.purpose.as_deref().unwrap_or("").replace('_', " "),
                m,
            })
            .collect(),
        direction: q.direction,
        purpose: q.purpose,
        status: q.status,
        purposes: PURPOSES,
        directions: DIRECTIONS,
        statuses: STATUSES,
    };
    render(&page)
}
