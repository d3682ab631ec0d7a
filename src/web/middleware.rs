//! Cross-cutting HTTP concerns, each in one place: request ids, security headers, and the
//! rendering of every error (ours and the framework's) as HTML or JSON with the request id.

use crate::error::ErrorInfo;
use crate::web::pages;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
media-src 'self' https:; connect-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'";

/// Gives every request an id (echoed as `X-Request-Id`), sets the security headers on every
/// response, and renders error responses in the format the caller asked for.
pub async fn frame(mut req: Request, next: Next) -> Response {
    let id = crate::crypto::random_token(9);
    req.extensions_mut().insert(RequestId(id.clone()));
    let wants_json = wants_json(&req);
    let is_static = req.uri().path().starts_with("/static/");
    let method = req.method().clone();
    let path = req.uri().path().to_string();

    let mut res = next.run(req).await;
    let status = res.status();
    let info = res.extensions().get::<ErrorInfo>().cloned();
    if (status.is_client_error() || status.is_server_error())
        && (info.is_some() || !has_rendered_body(&res))
    {
        if status.is_server_error() {
            tracing::warn!(request_id = %id, %method, %path, status = status.as_u16(), "request failed");
        }
        res = render_error(res, info, status, &id, wants_json).await;
    }
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("x-request-id", v);
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    if !is_static && !h.contains_key(header::CACHE_CONTROL) {
        // Pages may show patient data: never store them in a shared or browser cache.
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
