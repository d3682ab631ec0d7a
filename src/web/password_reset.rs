//! The one-time link a member of staff opens to choose a new password (`/password/{token}`),
//! made by an owner in Settings → Staff. No sign-in: the token is the authentication. A link
//! that is spent, expired or unknown answers 410 Gone and says so.

use crate::app::AppState;
use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, Actor, Event};
use crate::store::{password_resets, staff};
use crate::web::auth::{pre_session_csrf, with_pre_csrf_cookie};
use crate::web::pages::{css_url, form_error, render};
use crate::web::session::MaybeStaff;
use crate::web::transport::Transport;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetPage {
    css: &'static str,
    csrf: String,
    token: String,
    name: String,
    error: Option<String>,
}

/// The form's CSRF token: the session's when someone is signed in on this browser, else the
/// pre-session one (the middleware checks whichever applies).
fn csrf_for(
    current: &Option<crate::store::sessions::SessionInfo>,
    headers: &HeaderMap,
    transport: Transport,
) -> (String, bool) {
    match current {
        Some(info) => (info.csrf_token.clone(), false),
        None => pre_session_csrf(headers, transport),
    }
}

fn spent() -> AppError {
    AppError::Gone("This link has been used or has expired. Ask an owner for a new one.".into())
}

pub async fn form(
    State(state): State<AppState>,
    MaybeStaff(current): MaybeStaff,
    Path(token): Path<String>,
    transport: Transport,
    headers: HeaderMap,
) -> AppResult<Response> {
    let now = state.clock.now().timestamp();
    let t = token.clone();
    let member = state
        .db
        .read(move |c| match password_resets::find(c, &t, now)? {
            Some((scope, id)) => Ok(Some(staff::get(c, &scope, id)?)),
            None => Ok(None),
        })
        .await?
        .ok_or_else(spent)?;
    let (csrf, is_new) = csrf_for(&current, &headers, transport);
    let page = ResetPage {
        css: css_url(),
        csrf: csrf.clone(),
        token,
        name: member.name,
        error: None,
    };
    Ok(with_pre_csrf_cookie(
        render(&page)?,
        &csrf,
        is_new,
        transport,
    ))
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    again: String,
}

pub async fn set(
    State(state): State<AppState>,
    MaybeStaff(current): MaybeStaff,
    Path(token): Path<String>,
    transport: Transport,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> AppResult<Response> {
    let now = state.clock.now().timestamp();
    let checked = (|| {
        staff::validate_password(&form.password)?;
        if form.password != form.again {
            return Err(AppError::Validation(
                "The two passwords are not the same".into(),
            ));
        }
        Ok(())
    })();
    let result = match checked {
        Ok(()) => {
            let password = form.password.clone();
            let hash =
                tokio::task::spawn_blocking(move || crypto::hash_password(&password)).await?;
            let (t, ip) = (token.clone(), transport.client.to_string());
            state
                .db
                .write(move |tx| {
                    let (scope, id) =
                        password_resets::use_link(tx, &t, &hash, now).map_err(|e| match e {
                            AppError::NotFound => spent(),
                            other => other,
                        })?;
                    let member = staff::get(tx, &scope, id)?;
                    audit::record(
                        tx,
                        &scope,
                        &Event {
                            actor: &Actor::Staff {
                                id,
                                email: member.email.clone(),
                            },
                            action: "staff.password_chosen",
                            object: &format!("staff:{id}"),
                            detail: "through a one-time link",
                            ip: Some(&ip),
                            at: now,
                        },
                    )
                })
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/login?password=set").into_response()),
        Err(e @ AppError::Gone(_)) => Err(e),
        Err(e) => {
            let message = form_error(e)?;
            let t = token.clone();
            let name = state
                .db
                .read(move |c| match password_resets::find(c, &t, now)? {
                    Some((scope, id)) => Ok(staff::get(c, &scope, id)?.name),
                    None => Ok(String::new()),
                })
                .await?;
            let (csrf, _) = csrf_for(&current, &headers, transport);
            let page = ResetPage {
                css: css_url(),
                csrf,
                token,
                name,
                error: Some(message),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}
