//! Page plumbing shared by every dashboard area: the chrome (navigation, signed-in user,
//! CSRF token) that `base.html` renders, the render helper, embedded static files, and the
//! error page.

use crate::error::{AppError, AppResult};
use crate::store::sessions::SessionInfo;
use crate::store::staff::Role;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// The product's areas in navigation order. Only areas that exist are linked.
/// Every time zone a clinic can choose, for the searchable list on the setup and Settings
/// pages (the canonical names; old aliases such as US/Eastern are still accepted when typed).
pub static ZONES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let mut zones: Vec<&'static str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| z.name())
        .filter(|n| n.contains('/') && !n.starts_with("Etc/") && !n.starts_with("US/"))
        .collect();
    zones.sort_unstable();
    zones
});

/// The areas of the dashboard: (label, address, owners only).
const AREAS: &[(&str, &str, bool)] = &[
    ("Overview", "/", false),
    ("Calls", "/calls", false),
    ("Leads", "/leads", false),
    ("Appointments", "/appointments", false),
    ("Services", "/services", false),
    ("Messages", "/messages", false),
    ("Telephony", "/telephony", true),
    ("Settings", "/settings", true),
];

pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub active: bool,
}

/// What `base.html` needs on every signed-in page.
pub struct Chrome {
    pub org_name: String,
    pub staff_name: String,
    pub is_owner: bool,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub css: &'static str,
    /// The page behaviours (copy buttons, counters) and htmx, both embedded.
    pub js: &'static str,
    pub htmx: &'static str,
    pub notice: Option<String>,
}

impl Chrome {
    pub fn new(session: &SessionInfo, org_name: &str, active: &str) -> Self {
        let is_owner = session.staff.role == Role::Owner;
        Self {
            org_name: org_name.to_string(),
            staff_name: session.staff.name.clone(),
            is_owner,
            csrf: session.csrf_token.clone(),
            nav: AREAS
                .iter()
                .filter(|(_, _, owners_only)| is_owner || !*owners_only)
                .map(|(label, href, _)| NavItem {
                    label,
                    href,
                    active: *label == active,
                })
                .collect(),
            css: css_url(),
            js: crate::web::assets::url("app.js"),
            htmx: crate::web::assets::url("vendor/htmx.min.js"),
            notice: None,
        }
    }

    pub fn with_notice(mut self, notice: Option<&str>) -> Self {
        self.notice = notice.map(str::to_string);
        self
    }
}

#[derive(Template)]
#[template(path = "refused.html")]
struct RefusedPage {
    chrome: Chrome,
    why: String,
}

/// 403 as a dashboard page: the navigation stays, and it says why and what to do instead.
pub fn refused(session: &SessionInfo, org_name: &str, why: &str) -> Response {
    let page = RefusedPage {
        chrome: Chrome::new(session, org_name, ""),
        why: why.to_string(),
    };
    match render(&page) {
        Ok(html) => (StatusCode::FORBIDDEN, html).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The first area everyone may open: where a fresh login goes.
pub fn home_path() -> &'static str {
    AREAS
        .iter()
        .find(|(_, _, owners_only)| !*owners_only)
        .map(|(_, href, _)| *href)
        .unwrap_or("/")
}

pub fn render<T: Template>(page: &T) -> AppResult<Response> {
    Ok(Html(page.render()?).into_response())
}

/// Renders a page that carries a form: 422 when it shows a validation message, else 200.
pub fn render_form<T: Template>(page: &T, error: &Option<String>) -> AppResult<Response> {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, render(page)?).into_response())
}

/// `?saved=…` after a redirect, so the page can say what was saved.
#[derive(serde::Deserialize)]
pub struct Notice {
    pub saved: Option<String>,
}

/// Cache-busting URL of the stylesheet.
pub fn css_url() -> &'static str {
    crate::web::assets::url("app.css")
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    request_id: &'a str,
    css: &'a str,
}

pub fn error_page(status: StatusCode, message: &str, request_id: &str) -> Response {
    let page = ErrorPage {
        title: status.canonical_reason().unwrap_or("Error"),
        message,
        request_id,
        css: css_url(),
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(_) => format!("{message} (request {request_id})").into_response(),
    }
}

/// Turns a validation error into a message shown on the re-rendered form; other errors pass.
pub fn form_error(e: AppError) -> Result<String, AppError> {
    match e {
        AppError::Validation(m) | AppError::Conflict(m) => Ok(m),
        other => Err(other),
    }
}
