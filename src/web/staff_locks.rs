//! Sign-in locks on staff accounts, and address locks that touched the clinic's staff, as
//! owners see them in Settings → Staff, and clearing them (audited).

use crate::app::AppState;
use crate::error::AppResult;
use crate::store::audit::{self, Event};
use crate::store::staff;
use crate::web::session::Owner;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use std::net::SocketAddr;

/// The locks on `email`'s sign-in now, in words ("from 10.0.0.7, 4 more minutes").
pub fn describe(state: &AppState, email: &str, now: DateTime<Utc>) -> Vec<String> {
    state
        .throttle
        .locks_on(email, now)
        .iter()
        .map(|lock| {
            format!(
                "{}, {} more minute(s)",
                lock.key.describe(),
                lock.seconds_left(now).div_ceil(60)
            )
        })
        .collect()
}

/// Clears every sign-in lock on one of the clinic's staff accounts.
pub async fn unlock(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = info.scope;
    let member = state.db.read(move |c| staff::get(c, &scope, id)).await?;
    let now = state.clock.now();
    let cleared = state.throttle.clear(&member.email, now);
    let detail = if cleared.is_empty() {
        format!("{} (no lock in force)", member.email)
    } else {
        let what: Vec<String> = cleared.iter().map(|l| l.key.describe()).collect();
        format!("{}: {}", member.email, what.join("; "))
    };
    let (who, ip) = (super::staff::actor(&info), ip.ip().to_string());
    state
        .db
        .write(move |tx| {
            audit::record(
                tx,
                &scope,
                &Event {
                    actor: &who,
                    action: "login.lock_cleared",
                    object: &format!("staff:{}", member.id),
                    detail: &detail,
                    ip: Some(&ip),
                    at: now.timestamp(),
                },
            )
        })
        .await?;
    Ok(Redirect::to("/settings/staff").into_response())
}

/// Address locks (many accounts failing from one address) that include one of `emails`: the
/// address and the lock in words.
pub fn describe_addresses(
    state: &AppState,
    emails: &[String],
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    state
        .throttle
        .address_locks_touching(emails, now)
        .into_iter()
        .filter_map(|lock| match &lock.key {
            crate::web::throttle::Key::Address(ip) => Some((
                ip.clone(),
                format!(
                    "{}, {} more minute(s)",
                    lock.key.describe(),
                    lock.seconds_left(now).div_ceil(60)
                ),
            )),
            _ => None,
        })
        .collect()
}

#[derive(serde::Deserialize)]
pub struct AddressForm {
    #[serde(default)]
    ip: String,
}

/// Clears an address lock whose failures include one of the clinic's staff accounts.
pub async fn unlock_address(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<AddressForm>,
) -> AppResult<Response> {
    let scope = info.scope;
    let members = state.db.read(move |c| staff::list(c, &scope)).await?;
    let emails: Vec<String> = members.into_iter().map(|m| m.email).collect();
    let now = state.clock.now();
    let ip = form.ip.trim().to_string();
    let Some(cleared) = state.throttle.clear_address(&ip, &emails, now) else {
        return Err(crate::error::AppError::NotFound);
    };
    let detail = cleared.key.describe();
    let (who, from) = (super::staff::actor(&info), peer.ip().to_string());
    state
        .db
        .write(move |tx| {
            audit::record(
                tx,
                &scope,
                &Event {
                    actor: &who,
                    action: "login.address_lock_cleared",
                    object: &format!("address:{ip}"),
                    detail: &detail,
                    ip: Some(&from),
                    at: now.timestamp(),
                },
            )
        })
        .await?;
    Ok(Redirect::to("/settings/staff").into_response())
}
