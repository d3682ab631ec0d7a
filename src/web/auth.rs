//! Signing in and out. Unknown accounts and wrong passwords get the same answer in the same
//! time; repeated failures are throttled as [`crate::web::throttle`] describes, a successful
//! sign-in remembers the browser for that account; every attempt and lock is audited.

use crate::app::AppState;
use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, Actor, Event};
use crate::store::{sessions, staff};
use crate::web::device_cookie;
use crate::web::pages::{css_url, render};
use crate::web::session::{self, CurrentStaff, MaybeStaff, PRE_CSRF_COOKIE, SESSION_COOKIE};
use crate::web::throttle::{Attempt, Key};
use crate::web::transport::Transport;
use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    css: &'static str,
    csrf: String,
    email: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    password: String,
}

/// The pre-session CSRF token: the existing cookie, or a new one to set.
pub fn pre_session_csrf(headers: &axum::http::HeaderMap, transport: Transport) -> (String, bool) {
    let name = transport.cookie_name(PRE_CSRF_COOKIE);
    match session::cookie(headers, &name).filter(|v| v.len() >= 20) {
        Some(v) => (v, false),
        None => (crypto::random_token(24), true),
    }
}

pub fn with_pre_csrf_cookie(
    mut res: Response,
    token: &str,
    is_new: bool,
    transport: Transport,
) -> Response {
    if is_new {
        let name = transport.cookie_name(PRE_CSRF_COOKIE);
        let c = session::set_cookie(&name, token, transport.https, None);
        if let Ok(v) = c.parse() {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

pub async fn login_form(
    MaybeStaff(current): MaybeStaff,
    transport: Transport,
    headers: axum::http::HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> AppResult<Response> {
    if let Some(info) = current {
        return Ok(Redirect::to(crate::web::home_for(&info)).into_response());
    }
    let (csrf, is_new) = pre_session_csrf(&headers, transport);
    let page = LoginPage {
        css: css_url(),
        csrf: csrf.clone(),
        email: String::new(),
        error: None,
        notice: (q.password == "set").then_some("Your new password is set. Sign in with it."),
    };
    Ok(with_pre_csrf_cookie(
        render(&page)?,
        &csrf,
        is_new,
        transport,
    ))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

const BAD_CREDENTIALS: &str = "That email and password do not match an active account.";

pub async fn login(
    State(state): State<AppState>,
    transport: Transport,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let ip = transport.client.to_string();
    let email = form.email.trim().to_lowercase();
    let now = state.clock.now();
    let https = transport.https;
    let browser = device_cookie::recognise(&state.vault, &headers, &email, now.timestamp(), https);
    let attempt = Attempt {
        account: &email,
        ip: &ip,
        browser: browser.as_deref(),
    };
    let (csrf, _) = pre_session_csrf(&headers, transport);
    let again = |status: StatusCode, message: String| -> AppResult<Response> {
        let page = LoginPage {
            css: css_url(),
            csrf: csrf.clone(),
            email: email.clone(),
            error: Some(message),
            notice: None,
        };
        Ok((status, render(&page)?).into_response())
    };

    if let Some(lock) = state.throttle.refusal(&attempt, now) {
        let wait = lock.seconds_left(now);
        audit_anonymous(&state, &email, "login.throttled", &lock.key.describe(), &ip).await?;
        let mut res = again(
            StatusCode::TOO_MANY_REQUESTS,
            refusal_message(&lock.key, wait.div_ceil(60)),
        )?;
        if let Ok(v) = wait.to_string().parse() {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(res);
    }

    let lookup_email = email.clone();
    let found = state
        .db
        .read(move |c| staff::find_for_login(c, &lookup_email))
        .await?;
    let password = form.password.clone();
    let verified = tokio::task::spawn_blocking(move || match found {
        Some((scope, member, hash)) => {
            let ok = crypto::verify_password(&password, &hash) && !member.disabled;
            Some((scope, member, ok))
        }
        None => {
            crypto::burn_password_check(&password);
            None
        }
    })
    .await?;

    match verified {
        Some((scope, member, true)) => {
            state.throttle.record_success(&attempt);
            let mut res = sign_in(&state, scope, member, transport, &headers).await?;
            let remember = device_cookie::set_cookie(&state.vault, &email, now.timestamp(), https);
            res.headers_mut().append(
                header::SET_COOKIE,
                remember.parse().map_err(AppError::internal)?,
            );
            Ok(res)
        }
        other => {
            let started = state.throttle.record_failure(&attempt, now);
            let scope = other.map(|(scope, _, _)| scope);
            let (e, ip2) = (email.clone(), ip.clone());
            state
                .db
                .write(move |tx| {
                    let record = |action: &str, detail: &str| {
                        let event = Event {
                            actor: &Actor::Anonymous(e.clone()),
                            action,
                            object: "",
                            detail,
                            ip: Some(&ip2),
                            at: now.timestamp(),
                        };
                        match &scope {
                            Some(scope) => audit::record(tx, scope, &event),
                            None => audit::record_unscoped(tx, &event),
                        }
                    };
                    record("login.failed", "")?;
                    for lock in &started {
                        let minutes = (lock.until - now).num_minutes();
                        record(
                            "login.locked",
                            &format!("{} for {minutes} minute(s)", lock.key.describe()),
                        )?;
                    }
                    Ok(())
                })
                .await?;
            again(StatusCode::UNAUTHORIZED, BAD_CREDENTIALS.into())
        }
    }
}

/// What a refused sign-in is told: how long, and what else gets the person in.
fn refusal_message(key: &Key, minutes: u64) -> String {
    let owner = "an owner can clear the lock in Settings → Staff";
    match key {
        Key::AccountFromAddress { .. } => format!(
            "Too many failed sign-ins for this account from this computer's address. Try again in {minutes} minute(s), or {owner}."
        ),
        Key::Account(_) => format!(
            "Too many failed sign-ins for this account. Try again in {minutes} minute(s), sign in from a browser you have used before, or {owner}."
        ),
        Key::Address(_) => format!(
            "Too many failed sign-ins from this address. Try again in {minutes} minute(s), or sign in from a browser you have used before."
        ),
        Key::Browser(_) => format!(
            "Too many failed sign-ins in this browser. Try again in {minutes} minute(s)."
        ),
    }
}

async fn audit_anonymous(
    state: &AppState,
    email: &str,
    action: &'static str,
    detail: &str,
    ip: &str,
) -> AppResult<()> {
    let (e, d, ip) = (email.to_string(), detail.to_string(), ip.to_string());
    let at = state.clock.now().timestamp();
    state
        .db
        .write(move |tx| {
            audit::record_unscoped(
                tx,
                &Event {
                    actor: &Actor::Anonymous(e),
                    action,
                    object: "",
                    detail: &d,
                    ip: Some(&ip),
                    at,
                },
            )
        })
        .await
}

/// Starts a new session for `member` (a fresh token, so a cookie planted before sign-in never
/// becomes a session), audits the login and redirects to the member's home page.
pub async fn sign_in(
    state: &AppState,
    scope: crate::store::OrgScope,
    member: staff::Staff,
    transport: Transport,
    headers: &axum::http::HeaderMap,
) -> AppResult<Response> {
    let now = state.clock.now().timestamp();
    let token = crypto::random_token(32);
    let token_hash = crypto::token_hash(&token);
    let name = transport.cookie_name(SESSION_COOKIE);
    let old = session::cookie(headers, &name).map(|t| crypto::token_hash(&t));
    let csrf = crypto::random_token(24);
    let home = crate::web::home_for_role(member.role);
    let ip = transport.client.to_string();
    state
        .db
        .write(move |tx| {
            if let Some(old) = old {
                sessions::delete_by_token_hash(tx, &old)?;
            }
            sessions::create(tx, &scope, member.id, &token_hash, &csrf, now, Some(&ip))?;
            audit::record(
                tx,
                &scope,
                &Event {
                    actor: &Actor::Staff {
                        id: member.id,
                        email: member.email.clone(),
                    },
                    action: "login",
                    object: &format!("staff:{}", member.id),
                    detail: "",
                    ip: Some(&ip),
                    at: now,
                },
            )
        })
        .await?;
    let cookie = session::set_cookie(&name, &token, transport.https, None);
    let mut res = Redirect::to(home).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie.parse().map_err(AppError::internal)?,
    );
    Ok(res)
}

pub async fn logout(
    State(state): State<AppState>,
    transport: Transport,
    CurrentStaff(info): CurrentStaff,
) -> AppResult<Response> {
    let now = state.clock.now().timestamp();
    let ip = transport.client.to_string();
    state
        .db
        .write(move |tx| {
            sessions::delete(tx, &info.scope, info.session_id)?;
            audit::record(
                tx,
                &info.scope,
                &Event {
                    actor: &Actor::Staff {
                        id: info.staff.id,
                        email: info.staff.email.clone(),
                    },
                    action: "logout",
                    object: &format!("staff:{}", info.staff.id),
                    detail: "",
                    ip: Some(&ip),
                    at: now,
                },
            )
        })
        .await?;
    let name = transport.cookie_name(SESSION_COOKIE);
    let cookie = session::set_cookie(&name, "", transport.https, Some(0));
    let mut res = Redirect::to("/login").into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie.parse().map_err(AppError::internal)?,
    );
    Ok(res)
}
