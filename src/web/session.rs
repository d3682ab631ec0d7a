//! Staff sessions over HTTP: the session cookie, the `session` middleware that authenticates it
//! once per request and enforces CSRF on every state change, and the extractors handlers use
//! (`CurrentStaff`, `Owner`).

use crate::app::AppState;
use crate::crypto;
use crate::error::AppError;
use crate::store::sessions::{self, SessionInfo};
use crate::store::staff::Role;
use crate::web::transport::Transport;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// Form field and header that carry the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Double-submit cookie for forms shown before sign-in (login, setup); `__Host-` prefixed
/// over https, like every cookie ([`Transport::cookie_name`]).
pub const PRE_CSRF_COOKIE: &str = "voxanne_csrf";
pub const SESSION_COOKIE: &str = "voxanne_session";

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, and Secure under https.
pub fn set_cookie(name: &str, value: &str, https: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if https {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// Authenticates the session cookie (if any) and puts the `SessionInfo` into the request;
/// refuses cross-site state changes and state changes without the session's CSRF token.
pub async fn session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let transport = Transport::of(req.extensions(), req.headers());
    let token = cookie(req.headers(), &transport.cookie_name(SESSION_COOKIE));
    let info = match token {
        Some(token) => match state.authenticate_session(&token).await {
            Ok(info) => info,
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state {
        if is_cross_site(req.headers()) {
            return AppError::Forbidden.into_response();
        }
        let bearer = req.headers().contains_key(header::AUTHORIZATION);
        let pre_session_form = matches!(req.uri().path(), "/login" | "/setup");
        if let (Some(info), false) = (&info, pre_session_form) {
            req = match check_csrf(req, &info.csrf_token).await {
                Ok(r) => r,
                Err(resp) => return resp,
            };
        } else if !bearer {
            // Pre-session forms (login, setup) use a double-submit cookie.
            let expected =
                cookie(req.headers(), &transport.cookie_name(PRE_CSRF_COOKIE)).unwrap_or_default();
            req = match check_csrf(req, &expected).await {
                Ok(r) => r,
                Err(resp) => return resp,
            };
        }
    }
    if let Some(info) = &info {
        info.scope.name_in_span();
    }
    req.extensions_mut().insert(SessionSlot(info));
    next.run(req).await
}

#[derive(Clone)]
struct SessionSlot(Option<SessionInfo>);

fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return true;
        }
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        host,
    ) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => {
            let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
            !origin_host.eq_ignore_ascii_case(host)
        }
        _ => false,
    }
}

const FORM_LIMIT: usize = 2 * 1024 * 1024;

/// Checks the CSRF token from the `x-csrf-token` header or the form body, giving the request
/// back with its body intact.
async fn check_csrf(req: Request, expected: &str) -> Result<Request, Response> {
    let refused = || {
        AppError::BadRequest(
            "This form has expired or did not come from this site. Reload the page and try again."
                .into(),
        )
        .into_response()
    };
    if expected.is_empty() {
        return Err(refused());
    }
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if crypto::constant_time_eq(v.as_bytes(), expected.as_bytes()) {
            Ok(req)
        } else {
            Err(refused())
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(refused());
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| AppError::BadRequest("the form is too large".into()).into_response())?;
    let presented = form_urlencoded_value(&bytes, CSRF_FIELD).unwrap_or_default();
    if !crypto::constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        return Err(refused());
    }
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

fn form_urlencoded_value(body: &[u8], key: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// The signed-in staff member. Pages without one redirect to the login page; API routes get 401.
pub struct CurrentStaff(pub SessionInfo);

impl FromRequestParts<AppState> for CurrentStaff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Response> {
        match parts.extensions.get::<SessionSlot>() {
            Some(SessionSlot(Some(info))) => Ok(CurrentStaff(info.clone())),
            _ if parts.uri.path().starts_with("/api/") => {
                Err(AppError::Unauthorized.into_response())
            }
            _ => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// A signed-in owner; staff get 403.
pub struct Owner(pub SessionInfo);

impl FromRequestParts<AppState> for Owner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let CurrentStaff(info) = CurrentStaff::from_request_parts(parts, state).await?;
        if info.staff.role == Role::Owner {
            Ok(Owner(info))
        } else {
            Err(refusal(
                state,
                &info,
                "This page is for the clinic's owners. Ask an owner if something here needs changing.",
            )
            .await)
        }
    }
}

/// An owner of the clinic that administers the appliance (the first one, which claimed it at
/// setup). Whole-appliance pages (backups hold every clinic's data) are for them only; other
/// signed-in people get 403.
pub struct ApplianceOwner(pub SessionInfo);

impl FromRequestParts<AppState> for ApplianceOwner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Owner(info) = Owner::from_request_parts(parts, state).await?;
        let scope = info.scope;
        let administering = state
            .db
            .read(move |c| crate::store::appliance::is_administering(c, &scope))
            .await
            .map_err(IntoResponse::into_response)?;
        if administering {
            Ok(ApplianceOwner(info))
        } else {
            Err(refusal(
                state,
                &info,
                "Backups and diagnostics cover every clinic on this appliance, so only the owners of the clinic that set it up see them.",
            )
            .await)
        }
    }
}

/// The 403 page for a signed-in person, in the dashboard's frame.
async fn refusal(state: &AppState, info: &SessionInfo, why: &str) -> Response {
    let scope = info.scope;
    match state
        .db
        .read(move |c| crate::store::orgs::get(c, &scope))
        .await
    {
        Ok(org) => crate::web::pages::refused(info, &org.name, why),
        Err(e) => e.into_response(),
    }
}

/// The session, if any, without requiring one (login page, setup page).
pub struct MaybeStaff(pub Option<SessionInfo>);

impl FromRequestParts<AppState> for MaybeStaff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Response> {
        Ok(MaybeStaff(
            parts
                .extensions
                .get::<SessionSlot>()
                .and_then(|s| s.0.clone()),
        ))
    }
}

impl AppState {
    /// Looks the token up, drops it when expired, and refreshes its idle timer at most once a
    /// minute (so reads do not turn into a write per request).
    pub async fn authenticate_session(&self, token: &str) -> Result<Option<SessionInfo>, AppError> {
        let hash = crypto::token_hash(token);
        let now = self.clock.now().timestamp();
        let lifetimes = self.session_lifetimes();
        let found = {
            let hash = hash.clone();
            self.db
                .read(move |c| sessions::authenticate(c, &hash, now, lifetimes))
                .await?
        };
        match found {
            None => {
                self.db
                    .write(move |tx| sessions::delete_by_token_hash(tx, &hash))
                    .await?;
                Ok(None)
            }
            Some(info) if now - info.last_seen_at >= 60 => {
                let (scope, id) = (info.scope, info.session_id);
                self.db
                    .write(move |tx| sessions::touch(tx, &scope, id, now))
                    .await?;
                Ok(Some(info))
            }
            Some(info) => Ok(Some(info)),
        }
    }

    pub fn session_lifetimes(&self) -> sessions::Lifetimes {
        sessions::Lifetimes {
            idle: self.config.session_idle_minutes * 60,
            absolute: self.config.session_max_hours * 3600,
        }
    }
}

/// Runs `change` for the signed-in staff member and writes its audit row (action, the org as
/// object, `detail`, IP) in the same transaction: both happen or neither does.
pub async fn audited_change<T, F>(
    state: &AppState,
    info: &SessionInfo,
    ip: std::net::SocketAddr,
    action: &'static str,
    detail: String,
    change: F,
) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&rusqlite::Transaction<'_>, &crate::store::OrgScope) -> Result<T, AppError>
        + Send
        + 'static,
{
    use crate::store::audit::{self, Actor, Event};
    let (scope, staff) = (info.scope, info.staff.clone());
    let (ip, now) = (ip.ip().to_string(), state.clock.now().timestamp());
    state
        .db
        .write(move |tx| {
            let out = change(tx, &scope)?;
            audit::record(
                tx,
                &scope,
                &Event {
                    actor: &Actor::Staff {
                        id: staff.id,
                        email: staff.email.clone(),
                    },
                    action,
                    object: &format!("org:{}", scope.org_id()),
                    detail: &detail,
                    ip: Some(&ip),
                    at: now,
                },
            )?;
            Ok(out)
        })
        .await
}
