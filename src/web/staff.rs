//! Staff management (owners only): list, add, disable and re-enable accounts, and see sign-in
//! locks (cleared in [`super::staff_locks`]). Disabling ends the account's sessions at once.
//! Every change is audited.

use crate::app::AppState;
use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, Actor, Event};
use crate::store::orgs;
use crate::store::sessions::SessionInfo;
use crate::store::staff::{self, NewStaff, Role, Staff};
use crate::web::pages::{form_error, render_form, Chrome};
use crate::web::session::Owner;
use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "settings/staff.html")]
struct StaffPage {
    chrome: Chrome,
    rows: Vec<Row>,
    /// Address locks that touched this clinic's staff: (address, lock in words).
    address_locks: Vec<(String, String)>,
    me: i64,
    error: Option<String>,
}

/// A member of staff and the sign-in locks on their account, described.
struct Row {
    member: Staff,
    locks: Vec<String>,
}

async fn page(state: &AppState, info: &SessionInfo, error: Option<String>) -> AppResult<Response> {
    page_with_notice(state, info, error, None).await
}

async fn page_with_notice(
    state: &AppState,
    info: &SessionInfo,
    error: Option<String>,
    notice: Option<String>,
) -> AppResult<Response> {
    let scope = info.scope;
    let (org, members) = state
        .db
        .read(move |c| Ok((orgs::get(c, &scope)?, staff::list(c, &scope)?)))
        .await?;
    let now = state.clock.now();
    let emails: Vec<String> = members.iter().map(|m| m.email.clone()).collect();
    let address_locks = crate::web::staff_locks::describe_addresses(state, &emails, now);
    let rows = members
        .into_iter()
        .map(|member| Row {
            locks: crate::web::staff_locks::describe(state, &member.email, now),
            member,
        })
        .collect();
    let page = StaffPage {
        chrome: Chrome::new(info, &org.name, "Settings").with_notice(notice.as_deref()),
        rows,
        address_locks,
        me: info.staff.id,
        error,
    };
    render_form(&page, &page.error)
}

pub async fn list(State(state): State<AppState>, Owner(info): Owner) -> AppResult<Response> {
    page(&state, &info, None).await
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

pub(super) fn actor(info: &SessionInfo) -> Actor {
    Actor::Staff {
        id: info.staff.id,
        email: info.staff.email.clone(),
    }
}

pub async fn add(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<AddForm>,
) -> AppResult<Response> {
    let prepared = async {
        let role = Role::parse(&form.role)?;
        staff::validate_password(&form.password)?;
        let password = form.password.clone();
        let hash = tokio::task::spawn_blocking(move || crypto::hash_password(&password)).await?;
        Ok::<_, AppError>((role, hash))
    }
    .await;
    let (role, hash) = match prepared {
        Ok(v) => v,
        Err(e) => return page(&state, &info, Some(form_error(e)?)).await,
    };
    let now = state.clock.now().timestamp();
    let (scope, who, ip) = (info.scope, actor(&info), ip.ip().to_string());
    let result = state
        .db
        .write(move |tx| {
            let member = staff::create(
                tx,
                &scope,
                &NewStaff {
                    email: &form.email,
                    name: &form.name,
                    role,
                    password_hash: &hash,
                },
                now,
            )?;
            audit::record(
                tx,
                &scope,
                &Event {
                    actor: &who,
                    action: "staff.added",
                    object: &format!("staff:{}", member.id),
                    detail: &format!("{} ({})", member.email, role.as_str()),
                    ip: Some(&ip),
                    at: now,
                },
            )
        })
        .await;
    match result {
        Ok(()) => Ok(Redirect::to("/settings/staff").into_response()),
        Err(e) => page(&state, &info, Some(form_error(e)?)).await,
    }
}

async fn set_disabled(
    state: AppState,
    ip: SocketAddr,
    info: SessionInfo,
    id: i64,
    disabled: bool,
) -> AppResult<Response> {
    if disabled && id == info.staff.id {
        return page(
            &state,
            &info,
            Some("You cannot disable your own account.".into()),
        )
        .await;
    }
    let now = state.clock.now().timestamp();
    let (scope, who, ip) = (info.scope, actor(&info), ip.ip().to_string());
    let result = state
        .db
        .write(move |tx| {
            let member = staff::set_disabled(tx, &scope, id, disabled)?;
            audit::record(
                tx,
                &scope,
                &Event {
                    actor: &who,
                    action: if disabled {
                        "staff.disabled"
                    } else {
                        "staff.enabled"
                    },
                    object: &format!("staff:{}", member.id),
                    detail: &member.email,
                    ip: Some(&ip),
                    at: now,
                },
            )
        })
        .await;
    match result {
        Ok(()) => Ok(Redirect::to("/settings/staff").into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => page(&state, &info, Some(form_error(e)?)).await,
    }
}

pub async fn disable(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    set_disabled(state, ip, info, id, true).await
}

pub async fn enable(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    set_disabled(state, ip, info, id, false).await
}

/// Runs an owner's change to another account with its audit entry, then shows the list (with
/// `notice` when given), or the list with the reason it was refused.
async fn member_change<F, T>(
    state: &AppState,
    info: &SessionInfo,
    ip: SocketAddr,
    action: &'static str,
    change: F,
) -> AppResult<Result<(Staff, T), String>>
where
    F: FnOnce(&rusqlite::Transaction<'_>, &crate::store::OrgScope, i64) -> AppResult<(Staff, T)>
        + Send
        + 'static,
    T: Send + 'static,
{
    let now = state.clock.now().timestamp();
    let (scope, who, ip) = (info.scope, actor(info), ip.ip().to_string());
    let result = state
        .db
        .write(move |tx| {
            let (member, out) = change(tx, &scope, now)?;
            audit::record(
                tx,
                &scope,
                &Event {
                    actor: &who,
                    action,
                    object: &format!("staff:{}", member.id),
                    detail: &format!("{} ({})", member.email, member.role.as_str()),
                    ip: Some(&ip),
                    at: now,
                },
            )?;
            Ok((member, out))
        })
        .await;
    match result {
        Ok(m) => Ok(Ok(m)),
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => Ok(Err(form_error(e)?)),
    }
}

/// A one-time link for the member to choose a new password; their old one stops working and
/// their sessions end. The link is shown to the owner once.
pub async fn reset(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    transport: crate::web::transport::Transport,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let unusable =
        tokio::task::spawn_blocking(|| crypto::hash_password(&crypto::random_token(32))).await?;
    let done = member_change(
        &state,
        &info,
        ip,
        "staff.password_reset",
        move |tx, scope, now| {
            let token = crate::store::password_resets::create(tx, scope, id, &unusable, now)?;
            Ok((staff::get(tx, scope, id)?, token))
        },
    )
    .await?;
    match done {
        Ok((member, token)) => {
            let host = headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            let scheme = if transport.https { "https" } else { "http" };
            let link = format!("{scheme}://{host}/password/{token}");
            let notice = format!(
                "Give {} this link to choose a new password; it works once, for 24 hours, and is not shown again: {link}",
                member.name
            );
            page_with_notice(&state, &info, None, Some(notice)).await
        }
        Err(why) => page(&state, &info, Some(why)).await,
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    let role = match Role::parse(&form.role) {
        Ok(r) => r,
        Err(e) => return page(&state, &info, Some(form_error(e)?)).await,
    };
    match member_change(
        &state,
        &info,
        ip,
        "staff.role_changed",
        move |tx, scope, _| Ok((staff::set_role(tx, scope, id, role)?, ())),
    )
    .await?
    {
        Ok(_) => Ok(Redirect::to("/settings/staff").into_response()),
        Err(why) => page(&state, &info, Some(why)).await,
    }
}

pub async fn remove(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    if id == info.staff.id {
        return page(
            &state,
            &info,
            Some("You cannot remove your own account.".into()),
        )
        .await;
    }
    match member_change(&state, &info, ip, "staff.removed", move |tx, scope, now| {
        Ok((staff::remove(tx, scope, id, now)?, ()))
    })
    .await?
    {
        Ok(_) => Ok(Redirect::to("/settings/staff").into_response()),
        Err(why) => page(&state, &info, Some(why)).await,
    }
}
