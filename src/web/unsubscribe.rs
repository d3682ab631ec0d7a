//! `/unsubscribe/{token}`: the link in every reminder e-mail, without signing in. The token is
//! the authentication (`store::email_unsubscribes`). Opening the link asks first, since mail
//! scanners open links on their own; the button, or a mail program's one-click POST
//! (RFC 8058, `List-Unsubscribe=One-Click`), records it. Unknown links are 404.

use super::pages::{css_url, render};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, Actor, Event};
use crate::store::email_unsubscribes;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    css: &'static str,
    clinic: String,
    address: String,
    done: bool,
}

fn plausible(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 512
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

pub async fn confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    if !plausible(&token) {
        return Err(AppError::NotFound);
    }
    let vault = state.vault.clone();
    let (clinic, address) = state
        .db
        .read(move |c| email_unsubscribes::peek(c, &vault, &token))
        .await?
        .ok_or(AppError::NotFound)?;
    render(&UnsubscribePage {
        css: css_url(),
        clinic,
        address,
        done: false,
    })
}

pub async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    if !plausible(&token) {
        return Err(AppError::NotFound);
    }
    let (vault, now) = (state.vault.clone(), state.clock.now().timestamp());
    let (clinic, address) = state
        .db
        .write(move |tx| {
            let Some((scope, clinic, address)) =
                email_unsubscribes::unsubscribe(tx, &vault, &token, now)?
            else {
                return Err(AppError::NotFound);
            };
            audit::record(
                tx,
                &scope,
                &Event {
                    actor: &Actor::System("unsubscribe-link"),
                    action: "email.unsubscribed",
                    object: &format!("email:{address}"),
                    detail: "",
                    ip: None,
                    at: now,
                },
            )?;
            Ok((clinic, address))
        })
        .await?;
    render(&UnsubscribePage {
        css: css_url(),
        clinic,
        address,
        done: true,
    })
}
