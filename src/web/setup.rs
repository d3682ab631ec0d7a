//! First run: while no clinic exists, `/setup?token=…` (the token is printed at start-up)
//! creates the clinic and its owner and signs the owner in. Without the token it is a 404.

use crate::app::AppState;
use crate::crypto;
use crate::domain::clinic_type::ClinicType;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, Actor, Event};
use crate::store::{orgs, staff};
use crate::web::auth::{pre_session_csrf, sign_in, with_pre_csrf_cookie};
use crate::web::pages::{css_url, form_error, render};
use crate::web::transport::Transport;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    css: &'static str,
    csrf: String,
    token: String,
    form: SetupForm,
    error: Option<String>,
    /// The clinic types to choose from: (slug, label).
    kinds: Vec<(&'static str, &'static str)>,
    /// The dashboard's own certificate, when it serves HTTPS, for staff to check it by.
    tls: Option<crate::tls::CertInfo>,
}

#[derive(Deserialize, Default, Clone)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    clinic: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    clinic_type: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn kinds() -> Vec<(&'static str, &'static str)> {
    ClinicType::ALL
        .iter()
        .map(|k| (k.slug(), k.label()))
        .collect()
}

async fn token_ok(state: &AppState, presented: &str) -> AppResult<bool> {
    let expected = state.setup_token.lock().map(|t| t.clone()).unwrap_or(None);
    let Some(expected) = expected else {
        return Ok(false);
    };
    if !crypto::constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        return Ok(false);
    }
    Ok(!state.db.read(orgs::any_exists).await?)
}

pub async fn setup_form(
    State(state): State<AppState>,
    Query(q): Query<TokenQuery>,
    transport: Transport,
    headers: HeaderMap,
) -> AppResult<Response> {
    if !token_ok(&state, &q.token).await? {
        return Err(AppError::NotFound);
    }
    let (csrf, is_new) = pre_session_csrf(&headers, transport);
    let page = SetupPage {
        css: css_url(),
        csrf: csrf.clone(),
        token: q.token,
        form: SetupForm {
            timezone: "America/New_York".into(),
            ..Default::default()
        },
        error: None,
        kinds: kinds(),
        tls: state.tls.as_ref().map(|t| t.info()),
    };
    Ok(with_pre_csrf_cookie(
        render(&page)?,
        &csrf,
        is_new,
        transport,
    ))
}

pub async fn setup(
    State(state): State<AppState>,
    transport: Transport,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> AppResult<Response> {
    if !token_ok(&state, &form.token).await? {
        return Err(AppError::NotFound);
    }
    let ip = transport.client.to_string();
    let now = state.clock.now().timestamp();
    let f = form.clone();
    let created = tokio::task::spawn_blocking(move || -> AppResult<_> {
        let tz = orgs::parse_timezone(&f.timezone)?;
        let kind = if f.clinic_type.trim().is_empty() {
            Err("Choose what kind of clinic this is".to_string())
        } else {
            ClinicType::parse(&f.clinic_type)
        }
        .map_err(AppError::Validation)?;
        staff::validate_password(&f.password)?;
        Ok((tz, kind, crypto::hash_password(&f.password)))
    })
    .await?;
    let result = match created {
        Ok((tz, kind, hash)) => {
            let f = form.clone();
            let ip2 = ip.clone();
            let vault = state.vault.clone();
            state
                .db
                .write(move |tx| {
                    if orgs::any_exists(tx)? {
                        return Err(AppError::NotFound);
                    }
                    let scope = crate::store::provision_org(tx, &vault, &f.clinic, tz, kind, now)?;
                    let owner = staff::create(
                        tx,
                        &scope,
                        &staff::NewStaff {
                            email: &f.email,
                            name: &f.name,
                            role: staff::Role::Owner,
                            password_hash: &hash,
                        },
                        now,
                    )?;
                    audit::record(
                        tx,
                        &scope,
                        &Event {
                            actor: &Actor::System("setup"),
                            action: "org.created",
                            object: &format!("org:{}", scope.org_id()),
                            detail: &format!("owner {} type {}", owner.email, kind.slug()),
                            ip: Some(&ip2),
                            at: now,
                        },
                    )?;
                    Ok((scope, owner))
                })
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((scope, owner)) => {
            if let Ok(mut t) = state.setup_token.lock() {
                *t = None;
            }
            tracing::info!(
                org_id = scope.org_id(),
                "clinic created through the setup page"
            );
            sign_in(&state, scope, owner, transport, &headers).await
        }
        Err(e) => {
            let message = form_error(e)?;
            let (csrf, _) = pre_session_csrf(&headers, transport);
            let page = SetupPage {
                css: css_url(),
                csrf,
                token: form.token.clone(),
                form: SetupForm {
                    password: String::new(),
                    ..form
                },
                error: Some(message),
                kinds: kinds(),
                tls: state.tls.as_ref().map(|t| t.info()),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}
