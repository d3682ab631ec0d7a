//! Settings → Practitioners (owners): add, edit, archive and restore the clinic's
//! practitioners, with their hours, days off and services. A form with a mistake comes back
//! as typed, open, with the reason. Every change is audited.

use crate::app::AppState;
use crate::domain::practitioner::{self, Draft, Practitioner};
use crate::error::{AppError, AppResult};
use crate::store::services::{self, Service};
use crate::store::sessions::SessionInfo;
use crate::store::{orgs, practitioners};
use crate::web::pages::{form_error, render_form, Chrome, Notice};
use crate::web::session::{audited_change, Owner};
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use std::net::SocketAddr;

/// A practitioner form's fields as text, as shown and as typed.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    pub name: String,
    pub title: String,
    pub hours: String,
    pub time_off: String,
    pub service_ids: Vec<i64>,
}

impl Fields {
    fn of(p: &Practitioner) -> Fields {
        Fields {
            name: p.name.clone(),
            title: p.title.clone().unwrap_or_default(),
            hours: p
                .hours
                .as_ref()
                .map(practitioner::format_hours)
                .unwrap_or_default(),
            time_off: practitioner::format_time_off(&p.time_off),
            service_ids: p.service_ids.clone(),
        }
    }

    /// Reads a posted form; its services arrive as one `service` pair each.
    fn posted(pairs: &[(String, String)]) -> Fields {
        let mut f = Fields::default();
        for (k, v) in pairs {
            match k.as_str() {
                "name" => f.name = v.clone(),
                "title" => f.title = v.clone(),
                "hours" => f.hours = v.clone(),
                "time_off" => f.time_off = v.clone(),
                "service" => f.service_ids.extend(v.parse::<i64>().ok()),
                _ => {}
            }
        }
        f
    }

    fn draft(&self) -> AppResult<Draft> {
        Draft::parse(
            &self.name,
            &self.title,
            &self.hours,
            &self.time_off,
            self.service_ids.clone(),
        )
        .map_err(AppError::Validation)
    }

    pub fn offers(&self, service_id: &i64) -> bool {
        self.service_ids.contains(service_id)
    }
}

pub struct Row {
    pub p: Practitioner,
    pub hours: String,
    pub time_off: String,
    pub services: String,
    /// The edit form: as stored, or as typed when it came back with a mistake.
    pub form: Fields,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "settings/practitioners.html")]
struct PractitionersPage {
    chrome: Chrome,
    rows: Vec<Row>,
    services: Vec<Service>,
    add: Fields,
    add_open: bool,
    error: Option<String>,
}

/// Which form a mistake came from, and what was typed there.
enum Typed {
    Nothing,
    Add(Fields),
    Edit(i64, Fields),
}

async fn page(
    state: &AppState,
    info: &SessionInfo,
    error: Option<String>,
    typed: Typed,
    notice: Option<&str>,
) -> AppResult<Response> {
    let scope = info.scope;
    let (org, list, catalogue) = state
        .db
        .read(move |c| {
            Ok((
                orgs::get(c, &scope)?,
                practitioners::list_all(c, &scope)?,
                services::list_active(c, &scope)?,
            ))
        })
        .await?;
    let rows = list
        .into_iter()
        .map(|p| {
            let names: Vec<&str> = p
                .service_ids
                .iter()
                .filter_map(|id| catalogue.iter().find(|s| s.id == *id))
                .map(|s| s.name.as_str())
                .collect();
            let (form, open) = match &typed {
                Typed::Edit(id, f) if *id == p.id => (f.clone(), true),
                _ => (Fields::of(&p), false),
            };
            Row {
                hours: p
                    .hours
                    .as_ref()
                    .map_or("Clinic hours".into(), practitioner::format_hours),
                time_off: practitioner::format_time_off(&p.time_off),
                services: if names.is_empty() {
                    "All services".into()
                } else {
                    names.join(", ")
                },
                form,
                open,
                p,
            }
        })
        .collect();
    let (add, add_open) = match typed {
        Typed::Add(f) => (f, true),
        _ => (Fields::default(), false),
    };
    let page = PractitionersPage {
        chrome: Chrome::new(info, &org.name, "Settings").with_notice(notice),
        rows,
        services: catalogue,
        add,
        add_open,
        error,
    };
    render_form(&page, &page.error)
}

pub async fn show(
    State(state): State<AppState>,
    Owner(info): Owner,
    Query(q): Query<Notice>,
) -> AppResult<Response> {
    let notice = q.saved.map(|what| format!("Practitioner {what}."));
    page(&state, &info, None, Typed::Nothing, notice.as_deref()).await
}

/// One change from this page: its audit action and detail, the word for the notice, and the
/// form to show again if it is refused.
struct Change {
    action: &'static str,
    detail: String,
    done: &'static str,
    typed: Typed,
}

async fn change<F>(
    state: &AppState,
    info: &SessionInfo,
    ip: SocketAddr,
    c: Change,
    apply: F,
) -> AppResult<Response>
where
    F: FnOnce(&rusqlite::Transaction<'_>, &crate::store::OrgScope) -> AppResult<()>
        + Send
        + 'static,
{
    match audited_change(state, info, ip, c.action, c.detail, apply).await {
        Ok(()) => {
            let to = format!("/settings/practitioners?saved={}", c.done);
            Ok(Redirect::to(&to).into_response())
        }
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => page(state, info, Some(form_error(e)?), c.typed, None).await,
    }
}

pub async fn add(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let typed = Fields::posted(&pairs);
    let draft = match typed.draft() {
        Ok(d) => d,
        Err(e) => return page(&state, &info, Some(form_error(e)?), Typed::Add(typed), None).await,
    };
    let now = state.clock.now().timestamp();
    let detail = format!("name={}", draft.name);
    change(
        &state,
        &info,
        ip,
        Change {
            action: "practitioner.added",
            detail,
            done: "added",
            typed: Typed::Add(typed),
        },
        move |tx, scope| practitioners::create(tx, scope, &draft, now).map(|_| ()),
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let typed = Fields::posted(&pairs);
    let draft = match typed.draft() {
        Ok(d) => d,
        Err(e) => {
            return page(
                &state,
                &info,
                Some(form_error(e)?),
                Typed::Edit(id, typed),
                None,
            )
            .await
        }
    };
    let detail = format!("practitioner={id} name={}", draft.name);
    change(
        &state,
        &info,
        ip,
        Change {
            action: "practitioner.updated",
            detail,
            done: "saved",
            typed: Typed::Edit(id, typed),
        },
        move |tx, scope| practitioners::update(tx, scope, id, &draft).map(|_| ()),
    )
    .await
}

pub async fn archive(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    change(
        &state,
        &info,
        ip,
        Change {
            action: "practitioner.archived",
            detail: format!("practitioner={id}"),
            done: "archived",
            typed: Typed::Nothing,
        },
        move |tx, scope| practitioners::set_active(tx, scope, id, false).map(|_| ()),
    )
    .await
}

pub async fn restore(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    change(
        &state,
        &info,
        ip,
        Change {
            action: "practitioner.restored",
            detail: format!("practitioner={id}"),
            done: "restored",
            typed: Typed::Nothing,
        },
        move |tx, scope| practitioners::set_active(tx, scope, id, true).map(|_| ()),
    )
    .await
}
