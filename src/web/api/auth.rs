//! Who is calling the JSON API: an API token (`Authorization: Bearer …`) when the header is
//! present, else the signed-in staff member. A bad or revoked token is a 401 even with a
//! session cookie, so a program never acts as whoever's browser it runs in. A read-only token
//! gets 403 for every method but GET and HEAD: the one place that rule is kept.

use crate::app::AppState;
use crate::crypto;
use crate::error::AppError;
use crate::store::api_tokens::TokenAccess;
use crate::store::audit::Actor;
use crate::store::sessions::SessionInfo;
use crate::store::{api_tokens, OrgScope};
use crate::web::session::CurrentStaff;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};

/// What authenticated an API request.
pub enum Credential {
    Staff(SessionInfo),
    Token { id: i64, name: String },
}

pub struct ApiCaller {
    pub scope: OrgScope,
    pub credential: Credential,
}

impl ApiCaller {
    /// The audit log's actor for changes made through the API.
    pub fn actor(&self) -> Actor {
        match &self.credential {
            Credential::Staff(info) => Actor::Staff {
                id: info.staff.id,
                email: info.staff.email.clone(),
            },
            Credential::Token { .. } => Actor::System("api-token"),
        }
    }

    /// Who acts, for the audit row of a change made through the API; `via` names the
    /// session or token, after `prefix` when one is given.
    pub fn who(&self, prefix: &str, ip: std::net::SocketAddr) -> crate::store::audit::Who {
        let via = if prefix.is_empty() {
            self.via()
        } else {
            format!("{prefix} {}", self.via())
        };
        crate::store::audit::Who {
            actor: self.actor(),
            via,
            ip: Some(ip.ip().to_string()),
        }
    }

    /// Names the token behind a change, for the audit detail.
    pub fn via(&self) -> String {
        match &self.credential {
            Credential::Staff(_) => "session".into(),
            Credential::Token { id, name } => format!("token {id} ({name})"),
        }
    }
}

/// How often a token's "last used" time is written at most.
const TOUCH_EVERY_SECS: i64 = 60;

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            let CurrentStaff(info) = CurrentStaff::from_request_parts(parts, state).await?;
            return Ok(ApiCaller {
                scope: info.scope,
                credential: Credential::Staff(info),
            });
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AppError::Unauthorized.into_response())?;
        let hash = crypto::token_hash(&token);
        let found = state
            .db
            .read(move |c| api_tokens::authenticate(c, &hash))
            .await
            .map_err(IntoResponse::into_response)?
            .ok_or_else(|| AppError::Unauthorized.into_response())?;
        found.scope.name_in_span();
        if found.access == TokenAccess::Read && !matches!(parts.method, Method::GET | Method::HEAD)
        {
            return Err(AppError::NotAllowed(
                "This API token is read only. Changes need a read-and-write token (Settings → API tokens)."
                    .into(),
            )
            .into_response());
        }
        let now = state.clock.now().timestamp();
        if found
            .last_used_at
            .is_none_or(|t| now - t >= TOUCH_EVERY_SECS)
        {
            let (scope, id) = (found.scope, found.id);
            state
                .db
                .write(move |tx| api_tokens::touch(tx, &scope, id, now))
                .await
                .map_err(IntoResponse::into_response)?;
        }
        Ok(ApiCaller {
            scope: found.scope,
            credential: Credential::Token {
                id: found.id,
                name: found.name,
            },
        })
    }
}
