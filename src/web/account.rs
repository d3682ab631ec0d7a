//! The signed-in person's own account: name, role and a password change (which ends every
//! other session of the account).

use crate::app::AppState;
use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, Actor, Event};
use crate::store::sessions::SessionInfo;
use crate::store::{orgs, staff};
use crate::web::pages::{form_error, render_form, Chrome, Notice};
use crate::web::session::CurrentStaff;
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    email: String,
    role: &'static str,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    info: &SessionInfo,
    error: Option<String>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let scope = info.scope;
    let org = state.db.read(move |c| orgs::get(c, &scope)).await?;
    let page = AccountPage {
        chrome: Chrome::new(info, &org.name, "Account").with_notice(notice),
        email: info.staff.email.clone(),
        role: info.staff.role.as_str(),
        error,
    };
    render_form(&page, &page.error)
}

pub async fn show(
    State(state): State<AppState>,
    CurrentStaff(info): CurrentStaff,
    Query(q): Query<Notice>,
) -> AppResult<Response> {
    let notice = q.saved.map(|_| "Your password was changed.");
    page(&state, &info, None, notice).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    CurrentStaff(info): CurrentStaff,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let email = info.staff.email.clone();
    let lookup = email.clone();
    let found = state
        .db
        .read(move |c| staff::find_for_login(c, &lookup))
        .await?;
    let checked = tokio::task::spawn_blocking(move || -> AppResult<String> {
        let hash = found.map(|(_, _, h)| h).unwrap_or_default();
        if !crypto::verify_password(&form.current, &hash) {
            return Err(AppError::Validation(
                "Your current password is not correct.".into(),
            ));
        }
        staff::validate_password(&form.new_password)?;
        Ok(crypto::hash_password(&form.new_password))
    })
    .await?;
    let new_hash = match checked {
        Ok(h) => h,
        Err(e) => return page(&state, &info, Some(form_error(e)?), None).await,
    };
    let now = state.clock.now().timestamp();
    let (scope, id, ip) = (info.scope, info.staff.id, ip.ip().to_string());
    state
        .db
        .write(move |tx| {
            // Ends every session of the account, including this one; the person signs in again.
            staff::set_password(tx, &scope, id, &new_hash)?;
            audit::record(
                tx,
                &scope,
                &Event {
                    actor: &Actor::Staff {
                        id,
                        email: email.clone(),
                    },
                    action: "staff.password_changed",
                    object: &format!("staff:{id}"),
                    detail: "",
                    ip: Some(&ip),
                    at: now,
                },
            )
        })
        .await?;
    Ok(Redirect::to("/login").into_response())
}
