//! Services & pricing: every signed-in staff member sees the catalogue; owners create, edit,
//! archive and restore services. Every change is audited.

use crate::app::AppState;
use crate::domain::catalog::ServiceDraft;
use crate::domain::format::format_cents;
use crate::error::{AppError, AppResult};
use crate::store::orgs;
use crate::store::services::{self, Service};
use crate::store::sessions::SessionInfo;
use crate::store::staff::Role;
use crate::web::pages::{form_error, render_form, Chrome, Notice};
use crate::web::session::{audited_change, CurrentStaff, Owner};
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;

pub struct ServiceRow {
    pub service: Service,
    pub price: String,
    pub price_input: String,
    pub keywords: String,
}

impl ServiceRow {
    fn new(service: Service) -> Self {
        let cents = service.price_cents;
        Self {
            price: format_cents(cents),
            price_input: format!("{}.{:02}", cents / 100, cents % 100),
            keywords: service.keywords.join(", "),
            service,
        }
    }
}

#[derive(Template)]
#[template(path = "services/index.html")]
struct ServicesPage {
    chrome: Chrome,
    rows: Vec<ServiceRow>,
    can_edit: bool,
    /// The catalogue still holds its starting sample prices: nothing is quoted to callers.
    to_review: bool,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    info: &SessionInfo,
    error: Option<String>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let scope = info.scope;
    let (org, list) = state
        .db
        .read(move |c| Ok((orgs::get(c, &scope)?, services::list_all(c, &scope)?)))
        .await?;
    let page = ServicesPage {
        chrome: Chrome::new(info, &org.name, "Services").with_notice(notice),
        rows: list.into_iter().map(ServiceRow::new).collect(),
        can_edit: info.staff.role == Role::Owner,
        to_review: !org.quotes_prices(),
        error,
    };
    render_form(&page, &page.error)
}

pub async fn show(
    State(state): State<AppState>,
    CurrentStaff(info): CurrentStaff,
    Query(q): Query<Notice>,
) -> AppResult<Response> {
    let notice = q.saved.map(|what| match what.as_str() {
        "reviewed" => "Catalogue reviewed: the assistant now quotes these prices.".to_string(),
        _ => format!("Service {what}."),
    });
    page(&state, &info, None, notice.as_deref()).await
}

#[derive(Deserialize)]
pub struct ServiceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    duration_minutes: String,
    #[serde(default)]
    keywords: String,
}

impl ServiceForm {
    fn draft(&self) -> AppResult<ServiceDraft> {
        ServiceDraft::parse(
            &self.name,
            &self.price,
            &self.duration_minutes,
            &self.keywords,
        )
        .map_err(AppError::Validation)
    }
}

/// Runs an audited change and goes back to the list, or shows the list with the message.
async fn apply<F>(
    state: &AppState,
    info: &SessionInfo,
    ip: SocketAddr,
    action: &'static str,
    detail: String,
    done: &str,
    change: F,
) -> AppResult<Response>
where
    F: FnOnce(&rusqlite::Transaction<'_>, &crate::store::OrgScope) -> AppResult<()>
        + Send
        + 'static,
{
    match audited_change(state, info, ip, action, detail, change).await {
        Ok(()) => Ok(Redirect::to(&format!("/services?saved={done}")).into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => page(state, info, Some(form_error(e)?), None).await,
    }
}

pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<ServiceForm>,
) -> AppResult<Response> {
    let draft = match form.draft() {
        Ok(d) => d,
        Err(e) => return page(&state, &info, Some(form_error(e)?), None).await,
    };
    let now = state.clock.now().timestamp();
    let detail = format!("name={} price_cents={}", draft.name, draft.price_cents);
    apply(
        &state,
        &info,
        ip,
        "service.created",
        detail,
        "added",
        move |tx, scope| services::create(tx, scope, &draft, now).map(|_| ()),
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
    Form(form): Form<ServiceForm>,
) -> AppResult<Response> {
    let draft = match form.draft() {
        Ok(d) => d,
        Err(e) => return page(&state, &info, Some(form_error(e)?), None).await,
    };
    let detail = format!(
        "service={id} name={} price_cents={}",
        draft.name, draft.price_cents
    );
    apply(
        &state,
        &info,
        ip,
        "service.updated",
        detail,
        "saved",
        move |tx, scope| services::update(tx, scope, id, &draft).map(|_| ()),
    )
    .await
}

pub async fn archive(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    apply(
        &state,
        &info,
        ip,
        "service.archived",
        format!("service={id}"),
        "archived",
        move |tx, scope| services::set_active(tx, scope, id, false).map(|_| ()),
    )
    .await
}

pub async fn restore(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    apply(
        &state,
        &info,
        ip,
        "service.restored",
        format!("service={id}"),
        "restored",
        move |tx, scope| services::set_active(tx, scope, id, true).map(|_| ()),
    )
    .await
}

/// An owner says the catalogue is right: from now on the assistant quotes its prices.
pub async fn reviewed(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
) -> AppResult<Response> {
    let now = state.clock.now().timestamp();
    apply(
        &state,
        &info,
        ip,
        "services.catalogue_reviewed",
        String::new(),
        "reviewed",
        move |tx, scope| orgs::mark_catalogue_reviewed(tx, scope, now),
    )
    .await
}
