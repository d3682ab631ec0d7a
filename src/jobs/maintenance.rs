//! Housekeeping across orgs: expired sessions, tool replies past their 7 days.

use crate::app::AppState;
use crate::error::AppResult;
use crate::store::{sessions, tool_results};

/// What one pass removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: usize,
    pub tool_results: usize,
}

pub async fn run_due(state: &AppState) -> AppResult<Purged> {
    let now = state.clock.now().timestamp();
    let lifetimes = state.session_lifetimes();
    state
        .db
        .write(move |tx| {
            Ok(Purged {
                sessions: sessions::purge_expired_system(tx, now, lifetimes)?,
                tool_results: tool_results::purge_old_system(tx, now)?,
            })
        })
        .await
}
