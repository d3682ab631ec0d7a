//! Cross-cutting HTTP concerns, each in one place: request ids and the request's span,
//! security headers, and the rendering of every error (ours and the framework's) as HTML or
//! JSON with the request id.

use crate::app::AppState;
use crate::error::ErrorInfo;
use crate::web::pages;
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
media-src 'self' https:; connect-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'";

/// Wraps every route of a listener: a request id (ours, echoed as `X-Request-Id`), a `request`
/// span carrying it with the method, the matched route and, once authentication knows it, the
/// org ([`crate::store::OrgScope::name_in_span`]); the security headers; and error rendering ([`frame`]).
pub fn around(router: Router<AppState>) -> Router<AppState> {
    let header = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    router
        .layer(axum::middleware::from_fn(frame))
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("referrer-policy", "same-origin"))
        .layer(header("x-frame-options", "DENY"))
        .layer(header("content-security-policy", CSP))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::DEBUG))
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, OurRequestId))
        .layer(axum::middleware::map_request(drop_client_request_id))
}

/// A request id sent by the client is dropped before ours is set.
async fn drop_client_request_id(mut req: Request) -> Request {
    req.headers_mut().remove(&REQUEST_ID);
    req
}

/// Request ids are ours (one sent by the client is dropped first), so a log line's id always
/// names one request of this appliance.
#[derive(Clone, Copy)]
struct OurRequestId;

impl MakeRequestId for OurRequestId {
    fn make_request_id<B>(
        &mut self,
        _: &axum::http::Request<B>,
    ) -> Option<tower_http::request_id::RequestId> {
        HeaderValue::from_str(&crate::crypto::random_token(9))
            .ok()
            .map(tower_http::request_id::RequestId::new)
    }
}

fn request_span<B>(req: &axum::http::Request<B>) -> Span {
    let id = request_id(req.headers());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str())
        .unwrap_or("(no route)");
    tracing::info_span!("request", request_id = %id, method = %req.method(), route, org = tracing::field::Empty)
}

fn request_id(headers: &axum::http::HeaderMap) -> &str {
    headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
}

/// Renders error responses in the format the caller asked for, and keeps pages (which may show
/// patient data) out of every cache.
pub async fn frame(req: Request, next: Next) -> Response {
    let id = request_id(req.headers()).to_string();
    let wants_json = wants_json(&req);
    let is_static = req.uri().path().starts_with("/static/");

    let mut res = next.run(req).await;
    let status = res.status();
    let info = res.extensions().get::<ErrorInfo>().cloned();
    if (status.is_client_error() || status.is_server_error())
        && (info.is_some() || !has_rendered_body(&res))
    {
        res = render_error(res, info, status, &id, wants_json).await;
    }
    let h = res.headers_mut();
    if !is_static && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Handlers that answer an error status with their own page (a login form with its message)
/// or JSON body keep it; framework rejections (plain text) are rendered here.
fn has_rendered_body(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"))
}

fn wants_json(req: &Request) -> bool {
    let path = req.uri().path();
    if path.starts_with("/api/") || path == "/healthz" || path == "/readyz" {
        return true;
    }
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

async fn render_error(
    res: Response,
    info: Option<ErrorInfo>,
    status: StatusCode,
    request_id: &str,
    wants_json: bool,
) -> Response {
    let (parts, body) = res.into_parts();
    let message = match info {
        Some(info) => info.message,
        None => {
            // A framework rejection (bad JSON, wrong method, unknown route): keep its short
            // text for 4xx, never a 5xx detail.
            let bytes = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes).trim().to_string();
            if status.is_client_error() && !text.is_empty() && text.len() < 300 {
                text
            } else {
                status.canonical_reason().unwrap_or("Error").to_string()
            }
        }
    };
    let mut out = if wants_json {
        axum::Json(serde_json::json!({ "error": message, "requestId": request_id })).into_response()
    } else {
        pages::error_page(status, &message, request_id)
    };
    *out.status_mut() = status;
    for (name, value) in parts.headers.iter() {
        if name == header::LOCATION
            || name == "retry-after"
            || name == header::SET_COOKIE
            || name == header::WWW_AUTHENTICATE
        {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}
