//! `GET /shared/recordings/{token}`: a recording shared from the Calls page, for whoever holds
//! the link, without signing in. The token is the authentication: its hash names the share,
//! the share names the org and call. Unknown links are 404; a link past its 24 hours, or whose
//! recording retention has cleared, is 410 Gone. A working link redirects to the recording.

use crate::app::AppState;
use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::store::recording_shares;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};

pub async fn open(State(state): State<AppState>, Path(token): Path<String>) -> AppResult<Response> {
    // Tokens are URL-safe random text; anything else cannot be one of ours.
    if token.is_empty()
        || token.len() > 128
        || !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(AppError::NotFound);
    }
    let hash = crypto::token_hash(&token);
    let share = state
        .db
        .read(move |c| recording_shares::resolve(c, &hash))
        .await?
        .ok_or(AppError::NotFound)?;
    if state.clock.now().timestamp() >= share.expires_at {
        return Err(AppError::Gone(
            "This shared recording link has expired.".into(),
        ));
    }
    let url = share
        .recording_url
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .ok_or_else(|| AppError::Gone("This recording is no longer kept.".into()))?;
    let mut res = Redirect::temporary(&url).into_response();
    // The link must not outlive its 24 hours in a cache.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}
