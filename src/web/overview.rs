//! The Overview at `/`, the front desk's home: today's appointments by practitioner (the next
//! one marked, arrivals and no-shows recorded here), the Needs-attention worklist built from
//! calls and texts, and the latest calls in plain words; then figure cards and charts of the
//! last 30 local days and of leads by tier. The card figures are the same store queries
//! `/api/dashboard/stats` answers with.

use crate::app::AppState;
use crate::domain::charts::{self, Bar, Series};
use crate::domain::format::{format_cents, format_duration_secs, short_datetime};
use crate::domain::overview::{last_days, per_local_day, sum_last, DayCount};
use crate::domain::phone;
use crate::domain::plain;
use crate::domain::{calls, format};
use crate::error::AppResult;
use crate::store::appointments::{self, AppointmentStatus, AppointmentView};
use crate::store::attention::{self, Item};
use crate::store::call_list::{self, CallFilter, ListedCall};
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
const RECENT_CALLS: i64 = 10;
const ATTENTION_SHOWN: i64 = 30;

pub struct Card {
    pub label: &'static str,
    pub value: String,
    pub note: &'static str,
}

/// One practitioner's day.
pub struct Column {
    pub practitioner: String,
    pub rows: Vec<Visit>,
}

pub struct Visit {
    pub id: i64,
    pub time: String,
    pub patient: String,
    pub phone: String,
    pub tel: String,
    pub service: String,
    pub status: &'static str,
    /// Still to come and confirmed: arrivals and no-shows can be recorded.
    pub open: bool,
    /// The next confirmed appointment of the day.
    pub next: bool,
}

pub struct Attention {
    pub id: i64,
    pub urgent: bool,
    pub who: String,
    pub phone: String,
    pub tel: String,
    pub reasons: Vec<&'static str>,
    pub when: String,
    pub what: String,
    pub link: Option<String>,
}

pub struct RecentCall {
    pub id: i64,
    pub when: String,
    pub who: String,
    pub outcome: &'static str,
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
    today: Vec<Column>,
    attention: Vec<Attention>,
    attention_open: i64,
    recent: Vec<RecentCall>,
    /// Owners, while anything is left to do: the go-live checklist.
    checklist: Vec<crate::domain::go_live::Item>,
    checklist_done: (usize, usize),
}

struct Figures {
    org: orgs::Org,
    stats: CallStats,
    leads: LeadStats,
    days: Vec<DayCount>,
    services: Vec<ServiceValue>,
    today: Vec<AppointmentView>,
    attention: Vec<Item>,
    attention_open: i64,
    recent: Vec<ListedCall>,
    go_live: crate::domain::go_live::Facts,
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
                today: appointments::list_between(
                    c,
                    &scope,
                    today.timestamp(),
                    calls::day_start(
                        tz,
                        format::local_datetime(now, tz).date() + chrono::Days::new(1),
                    )
                    .timestamp(),
                    None,
                    500,
                )?,
                attention: attention::open(c, &scope, ATTENTION_SHOWN)?,
                attention_open: attention::open_count(c, &scope)?,
                go_live: crate::store::go_live::facts(c, &scope)?,
                recent: call_list::list_with_names(
                    c,
                    &scope,
                    &CallFilter {
                        limit: RECENT_CALLS,
                        ..CallFilter::default()
                    },
                )?
                .0,
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

/// Today's appointments, one column per practitioner in the order they first appear.
fn columns(
    list: &[AppointmentView],
    tz: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
    country: &str,
) -> Vec<Column> {
    let next = list
        .iter()
        .find(|v| {
            v.appointment.status == AppointmentStatus::Confirmed && v.appointment.start() >= now
        })
        .map(|v| v.appointment.id);
    let mut out: Vec<Column> = Vec::new();
    for v in list.iter().filter(|v| {
        v.appointment.status.is_live()
            || !matches!(v.appointment.status, AppointmentStatus::Cancelled)
    }) {
        let a = &v.appointment;
        let visit = Visit {
            id: a.id,
            time: format::spoken_time(format::local_datetime(a.start(), tz).time()),
            patient: v
                .contact_name
                .clone()
                .unwrap_or_else(|| "Unnamed patient".into()),
            phone: phone::national(&v.contact_phone, country),
            tel: v.contact_phone.clone(),
            service: v.service_name.clone(),
            status: a.status.as_str(),
            open: a.status == AppointmentStatus::Confirmed,
            next: Some(a.id) == next,
        };
        match out.iter_mut().find(|c| c.practitioner == v.provider_name) {
            Some(c) => c.rows.push(visit),
            None => out.push(Column {
                practitioner: v.provider_name.clone(),
                rows: vec![visit],
            }),
        }
    }
    out
}

fn attention_line(i: &Item, tz: chrono_tz::Tz, country: &str) -> Attention {
    let phone = i
        .phone
        .as_deref()
        .map(|n| phone::national(n, country))
        .unwrap_or_default();
    Attention {
        id: i.id,
        urgent: i.urgent(),
        who: i.contact_name.clone().unwrap_or_else(|| {
            if phone.is_empty() {
                "Unknown caller".into()
            } else {
                phone.clone()
            }
        }),
        tel: i.phone.clone().unwrap_or_default(),
        phone,
        reasons: i.reasons.iter().map(|r| r.label()).collect(),
        when: chrono::DateTime::from_timestamp(i.at, 0)
            .map(|t| short_datetime(t, tz))
            .unwrap_or_default(),
        what: i.what.clone().unwrap_or_default(),
        link: i
            .call_id
            .map(|c| format!("/calls/{c}"))
            .or_else(|| i.contact_id.map(|c| format!("/leads/{c}"))),
    }
}

pub async fn show(state: &AppState, info: &SessionInfo) -> AppResult<Response> {
    let f = figures(state, info).await?;
    let tz = f.org.timezone;
    let now = state.clock.now();
    let country = state.config.default_country.as_str();
    // Here the public address counts as answering once it is set and Vapi has reached the
    // appliance; Diagnostics asks it live.
    let checklist = crate::domain::go_live::checklist(&crate::domain::go_live::Facts {
        public_url_answers: Some(state.config.public_url.is_some() && f.go_live.vapi_heard),
        ..f.go_live
    });
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
        today: columns(&f.today, tz, now, country),
        attention: f
            .attention
            .iter()
            .map(|i| attention_line(i, tz, country))
            .collect(),
        attention_open: f.attention_open,
        checklist_done: crate::domain::go_live::progress(&checklist),
        checklist: if info.staff.role == crate::store::staff::Role::Owner
            && checklist.iter().any(|i| !i.done)
        {
            checklist
        } else {
            Vec::new()
        },
        recent: f
            .recent
            .iter()
            .map(|l| RecentCall {
                id: l.call.id,
                when: chrono::DateTime::from_timestamp(
                    l.call.facts.started_at.unwrap_or(l.call.created_at),
                    0,
                )
                .map(|t| short_datetime(t, tz))
                .unwrap_or_default(),
                who: l.contact_name.clone().unwrap_or_else(|| {
                    l.call
                        .facts
                        .customer_number
                        .as_deref()
                        .map(|n| phone::national(n, country))
                        .unwrap_or_else(|| "Unknown caller".into())
                }),
                outcome: plain::call_outcome(
                    l.call.facts.ended_reason.as_deref(),
                    l.call.outcome.booked,
                ),
            })
            .collect(),
    };
    render(&page)
}
