//! HTTPS wherever a password crosses the network: HSTS on every reply sent over https, a
//! redirect to https for another computer's plain-http page loads when the listener serves
//! TLS itself, and, for the pages where a password is typed before there is a session
//! (sign-in, first-run setup), a page that tells a browser on another computer why it cannot
//! use them over plain http and how HTTPS is turned on (docs/front-desk.md). The refusal comes
//! before the CSRF check, so such a browser never sees "This form has expired".

use crate::app::AppState;
use crate::error::AppResult;
use crate::web::pages::{css_url, render};
use crate::web::transport::Transport;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// A year; sent only over https (browsers ignore it on a connection with certificate errors).
const HSTS: &str = "max-age=31536000";

/// Wraps the dashboard listener's routes.
pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let transport = Transport::of(req.extensions(), req.headers());
    if state.tls.is_some() && !transport.https && !transport.local {
        if let Some(to) = https_location(&req) {
            return Redirect::permanent(&to).into_response();
        }
    }
    if !transport.may_carry_passwords() && takes_passwords(req.uri().path()) {
        return refusal(&state, req.headers(), req.uri().path())
            .unwrap_or_else(|e| e.into_response());
    }
    let mut res = next.run(req).await;
    if transport.https {
        res.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    res
}

/// The pages where a password is typed without a session (with one, the browser already
/// signed in over https or on this machine).
fn takes_passwords(path: &str) -> bool {
    matches!(path, "/login" | "/setup") || path.starts_with("/password/")
}

/// Where a page load over plain http goes on this listener's https side; probes and state
/// changes are left alone (a probe may be plain by design; a form post is refused instead).
fn https_location(req: &Request) -> Option<String> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return None;
    }
    let path = req.uri().path();
    if path == "/healthz" || path == "/readyz" || path.starts_with("/api/") {
        return None;
    }
    let host = req.headers().get(header::HOST)?.to_str().ok()?;
    let rest = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    Some(format!("https://{host}{rest}"))
}

/// The listener's port, as the browser named it (the configured one may be 0 = any).
fn port_of(host: Option<&str>, state: &AppState) -> u16 {
    host.and_then(|h| h.rsplit_once(':'))
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(state.config.listen.port())
}

#[derive(Template)]
#[template(path = "plain_http.html")]
struct PlainHttpPage {
    css: &'static str,
    /// The same page over https, when this listener serves it.
    https_url: Option<String>,
    /// The address that keeps working on the appliance itself.
    local_url: String,
}

/// The answer to a sign-in (or first-run) page or form reached over plain http from another
/// computer: refused, with why and what to do.
fn refusal(state: &AppState, headers: &axum::http::HeaderMap, path: &str) -> AppResult<Response> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()));
    let page = PlainHttpPage {
        css: css_url(),
        https_url: state
            .tls
            .as_ref()
            .and(host)
            .map(|h| format!("https://{h}{path}")),
        local_url: format!("http://127.0.0.1:{}{path}", port_of(host, state)),
    };
    Ok((StatusCode::FORBIDDEN, render(&page)?).into_response())
}
