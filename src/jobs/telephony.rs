//! Caller-ID verification clean-up, for every clinic: pending verifications expire after ten
//! minutes, failed and expired ones are deleted after a day unless a forwarding set-up still
//! refers to them, and starts older than the hourly limit's window are forgotten.

use crate::app::AppState;
use crate::error::AppResult;
use crate::store::caller_ids::{self, CleanUp};

pub async fn run_due(state: &AppState) -> AppResult<CleanUp> {
    let now = state.clock.now().timestamp();
    state
        .db
        .write(move |tx| caller_ids::clean_up_system(tx, now))
        .await
}
