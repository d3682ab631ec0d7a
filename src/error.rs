//! `AppError`: what went wrong, by meaning. Handlers return it; the response middleware in
//! `web::middleware` renders it as an HTML page or JSON with the request id. The detail of an
//! internal error is logged once and never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in required")]
    Unauthorized,
    #[error("you do not have access to this page")]
    Forbidden,
    /// 403 with the reason said (what the caller may do instead).
    #[error("{0}")]
    NotAllowed(String),
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Gone(String),
    /// An outside service (Vapi, Twilio) refused or failed; the message is ours, never theirs.
    #[error("{0}")]
    Upstream(String),
    #[error("internal error: {0}")]
    Internal(Internal),
}

/// What went wrong on our side: what we were doing and, when another error caused it, that
/// error with its own chain of causes. Displayed whole ("commit: database is locked") in logs;
/// never shown to a person.
#[derive(Debug)]
pub struct Internal {
    context: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.context)?;
        let mut cause: Option<&(dyn std::error::Error + 'static)> = match &self.source {
            Some(s) => Some(s.as_ref()),
            None => None,
        };
        while let Some(c) = cause {
            write!(f, ": {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

impl std::error::Error for Internal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.source {
            Some(s) => Some(s.as_ref()),
            None => None,
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Attached to error responses so the middleware can render them in the caller's format.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub message: String,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::NotAllowed(_) => StatusCode::FORBIDDEN,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::Upstream(_) => StatusCode::BAD_GATEWAY,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a person may see.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) => "Something went wrong on our side. It has been logged.".into(),
            AppError::NotFound => "We could not find that.".into(),
            other => other.to_string(),
        }
    }

    /// An internal error with no cause beyond `detail`.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        AppError::Internal(Internal {
            context: detail.to_string(),
            source: None,
        })
    }

    /// An internal error caused by `source` while doing `context`; the cause and its chain
    /// are kept for the log.
    pub fn caused(
        context: impl std::fmt::Display,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        AppError::Internal(Internal {
            context: context.to_string(),
            source: Some(Box::new(source)),
        })
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => AppError::NotFound,
            other => AppError::caused("database", other),
        }
    }
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        AppError::caused("database pool", e)
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::caused("template", e)
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::caused("blocking task", e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            // Inside the request's span, so the line carries its request id.
            tracing::error!(error = %detail, "internal error");
        }
        let status = self.status();
        let mut response = (status, self.public_message()).into_response();
        if let AppError::TooManyRequests { retry_after_secs } = &self {
            if let Ok(v) = retry_after_secs.to_string().parse() {
                response.headers_mut().insert("retry-after", v);
            }
        }
        response.extensions_mut().insert(ErrorInfo {
            status,
            message: self.public_message(),
        });
        response
    }
}
