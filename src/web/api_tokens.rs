//! Settings → API tokens (owners only): create a named token for the JSON API, read only or
//! read and write (shown once, then only its name, access and dates), and revoke one (it stops
//! working at once). Both are audited.

use crate::app::AppState;
use crate::crypto;
use crate::domain::format;
use crate::error::AppResult;
use crate::store::api_tokens::{self, ApiToken, TokenAccess};
use crate::store::orgs;
use crate::store::sessions::SessionInfo;
use crate::web::pages::{form_error, render_form, Chrome, Notice};
use crate::web::session::{audited_change, Owner};
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::DateTime;
use serde::Deserialize;
use std::net::SocketAddr;

/// Prefix of every token, so one is recognisable in a config file or a leak scanner.
const TOKEN_PREFIX: &str = "vxa_";

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub access: &'static str,
    pub created_by: String,
    pub created: String,
    pub last_used: String,
    pub revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "settings/api_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<TokenRow>,
    /// The token just created: the only time it is shown.
    new_token: Option<String>,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    info: &SessionInfo,
    new_token: Option<String>,
    error: Option<String>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let scope = info.scope;
    let (org, tokens) = state
        .db
        .read(move |c| Ok((orgs::get(c, &scope)?, api_tokens::list(c, &scope)?)))
        .await?;
    let when = |t: i64| {
        DateTime::from_timestamp(t, 0)
            .map(|at| format::short_datetime(at, org.timezone))
            .unwrap_or_default()
    };
    let tokens = tokens
        .into_iter()
        .map(|t: ApiToken| TokenRow {
            id: t.id,
            created: when(t.created_at),
            last_used: t.last_used_at.map(when).unwrap_or_else(|| "never".into()),
            revoked: t.revoked_at.map(when),
            access: t.access.label(),
            name: t.name,
            created_by: t.created_by,
        })
        .collect();
    let page = TokensPage {
        chrome: Chrome::new(info, &org.name, "Settings").with_notice(notice),
        tokens,
        new_token,
        error,
    };
    render_form(&page, &page.error)
}

pub async fn show(
    State(state): State<AppState>,
    Owner(info): Owner,
    Query(q): Query<Notice>,
) -> AppResult<Response> {
    let notice = q.saved.as_deref().map(|_| "The token was revoked.");
    page(&state, &info, None, None, notice).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    access: String,
}

pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<CreateForm>,
) -> AppResult<Response> {
    let name = match api_tokens::validate_name(&form.name) {
        Ok(n) => n,
        Err(e) => return page(&state, &info, None, Some(form_error(e)?), None).await,
    };
    // A form that names no access gets the safer kind.
    let access = match form.access.trim() {
        "" => Some(TokenAccess::Read),
        other => TokenAccess::parse(other),
    };
    let Some(access) = access else {
        let why = "Choose what the token may do: read only, or read and write.";
        return page(&state, &info, None, Some(why.into()), None).await;
    };
    let token = format!("{TOKEN_PREFIX}{}", crypto::random_token(32));
    let hash = crypto::token_hash(&token);
    let (staff_id, now) = (info.staff.id, state.clock.now().timestamp());
    audited_change(
        &state,
        &info,
        ip,
        "settings.api_token_created",
        format!("name={name} access={access}"),
        move |tx, scope| api_tokens::create(tx, scope, &name, access, &hash, staff_id, now),
    )
    .await?;
    page(&state, &info, Some(token), None, None).await
}

pub async fn revoke(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let now = state.clock.now().timestamp();
    audited_change(
        &state,
        &info,
        ip,
        "settings.api_token_revoked",
        format!("token={id}"),
        move |tx, scope| api_tokens::revoke(tx, scope, id, now),
    )
    .await?;
    Ok(Redirect::to("/settings/api-tokens?saved=revoked").into_response())
}
