//! The Overview at `/`, every signed-in person's home: figure cards, charts of the last 30 local
//! days (calls and bookings per day, pipeline value by service) and of leads by tier, and the
//! latest call events. The figures come from a handful of GROUP BY queries read together; the
//! card figures are the same store queries `/api/dashboard/stats` answers with.

use crate::app::AppState;
use crate::domain::charts::{self, Bar, Series};
use crate::domain::format::{format_cents, format_duration_secs, short_datetime};
use crate::domain::overview::{last_days, per_local_day, sum_last, DayCount};
use crate::domain::{calls, format};
use crate::error::AppResult;
use crate::store::call_events::{self, EventSummary};
use crate::store::calls::{self as call_store, CallStats};
use crate::store::leads::{self, LeadStats};
use crate::store::orgs;
use crate::store::overview::{self, ServiceValue};
use crate::store::sessions::SessionInfo;
use crate::web::pages::{render, Chrome};
use askama::Template;
use axum::response::Response;

/// The chart period, in the clinic's local days.
const CHART_DAYS: u32 = 30;
const SERVICES_SHOWN: i64 = 8;
const LATEST_EVENTS: i64 = 10;

pub struct Card {
    pub label: &'static str,
    pub value: String,
    pub note: &'static str,
}

pub struct EventRow {
    pub e: EventSummary,
    pub when: String,
}

pub struct DayRow {
    pub date: String,
    pub calls: i64,
    pub booked: i64,
}

#[derive(Template)]
#[template(path = "overview/index.html")]
struct OverviewPage {
    chrome: Chrome,
    cards: Vec<Card>,
    calls_chart: String,
    days: Vec<DayRow>,
    value_chart: String,
    services: Vec<(String, i64, String)>,
    tiers_chart: String,
    tiers: Vec<(&'static str, i64)>,
    events: Vec<EventRow>,
}

struct Figures {
    org: orgs::Org,
    stats: CallStats,
    leads: LeadStats,
    days: Vec<DayCount>,
    services: Vec<ServiceValue>,
    events: Vec<EventSummary>,
}

async fn figures(state: &AppState, info: &SessionInfo) -> AppResult<Figures> {
    let scope = info.scope;
    let now = state.clock.now();
    state
        .db
        .read(move |c| {
            let org = orgs::get(c, &scope)?;
            let tz = org.timezone;
            let (today, week) = calls::today_and_week_start(tz, now);
            let (first, from, to) = last_days(tz, now, CHART_DAYS);
            let (from, to) = (from.timestamp(), to.timestamp());
            let buckets: Vec<(i64, i64, i64)> = overview::call_buckets(c, &scope, from, to)?
                .iter()
                .map(|b| (b.start, b.calls, b.booked))
                .collect();
            Ok(Figures {
                stats: call_store::stats(c, &scope, today.timestamp(), week.timestamp())?,
                leads: leads::stats(c, &scope)?,
                days: per_local_day(tz, first, CHART_DAYS, &buckets),
                services: overview::value_by_service(c, &scope, from, to, SERVICES_SHOWN)?,
                events: call_events::recent(c, &scope, LATEST_EVENTS)?,
                org,
            })
        })
        .await
}

fn cards(f: &Figures) -> Vec<Card> {
    let (week_calls, week_booked) = sum_last(&f.days, 7);
    let s = &f.stats;
    vec![
        Card {
            label: "Calls today",
            value: s.calls_today.to_string(),
            note: "since midnight",
        },
        Card {
            label: "Calls, 7 days",
            value: week_calls.to_string(),
            note: "today and the 6 days before",
        },
        Card {
            label: "Bookings, 7 days",
            value: week_booked.to_string(),
            note: "calls that booked",
        },
        Card {
            label: "Success rate",
            value: calls::success_rate_pct(s.booked_inbound_calls, s.inbound_calls)
                .map_or_else(|| "—".into(), |p| format!("{p}%")),
            note: "inbound calls that booked",
        },
        Card {
            label: "Pipeline value",
            value: format_cents(s.pipeline_value_cents),
            note: "services asked about, all calls",
        },
        Card {
            label: "Average call",
            value: s
                .average_duration_secs
                .map_or_else(|| "—".into(), |d| format_duration_secs(d.round() as u64)),
            note: "length",
        },
        Card {
            label: "Hot leads",
            value: f.leads.hot_leads.to_string(),
            note: "contacts scoring hot",
        },
    ]
}

fn short_date(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let month = format::month_name(d.month());
    format!("{} {}", month.get(..3).unwrap_or(month), d.day())
}

pub async fn show(state: &AppState, info: &SessionInfo) -> AppResult<Response> {
    let f = figures(state, info).await?;
    let tz = f.org.timezone;
    let labels: Vec<String> = f.days.iter().map(|d| short_date(d.date)).collect();
    let call_counts: Vec<i64> = f.days.iter().map(|d| d.calls).collect();
    let booked_counts: Vec<i64> = f.days.iter().map(|d| d.booked).collect();
    let calls_chart = charts::columns(
        "calls-chart",
        "Calls and bookings per day, last 30 days",
        &labels,
        &[
            Series {
                name: "Calls",
                values: &call_counts,
            },
            Series {
                name: "Bookings",
                values: &booked_counts,
            },
        ],
        7,
    );
    let value_chart = charts::bars(
        "value-chart",
        "Pipeline value by service, last 30 days",
        &f.services
            .iter()
            .map(|s| Bar {
                label: s.service.clone(),
                value: s.value_cents,
                shown: format_cents(s.value_cents),
            })
            .collect::<Vec<_>>(),
    );
    let tiers = vec![
        ("Hot", f.leads.hot_leads),
        ("Warm", f.leads.warm_leads),
        ("Cold", f.leads.cold_leads),
    ];
    let tiers_chart = charts::bars(
        "tiers-chart",
        "Leads by tier",
        &tiers
            .iter()
            .map(|(label, n)| Bar {
                label: label.to_string(),
                value: *n,
                shown: n.to_string(),
            })
            .collect::<Vec<_>>(),
    );
    let page = OverviewPage {
        chrome: Chrome::new(info, &f.org.name, "Overview"),
        cards: cards(&f),
        calls_chart,
        days: f
            .days
            .iter()
            .zip(&labels)
            .map(|(d, label)| DayRow {
                date: label.clone(),
                calls: d.calls,
                booked: d.booked,
            })
            .collect(),
        value_chart,
        services: f
            .services
            .iter()
            .map(|s| (s.service.clone(), s.calls, format_cents(s.value_cents)))
            .collect(),
        tiers_chart,
        tiers,
        events: f
            .events
            .into_iter()
            .map(|e| EventRow {
                when: chrono::DateTime::from_timestamp(e.received_at, 0)
                    .map(|t| short_datetime(t, tz))
                    .unwrap_or_default(),
                e,
            })
            .collect(),
    };
    render(&page)
}
