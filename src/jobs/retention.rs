//! Retention: when `VOXANNE_RETENTION_DAYS` is set, clears call transcripts and recording
//! links older than that many days in every clinic, audited per clinic (the rule and its
//! targets live in [`crate::store::retention`]). Each pass is idempotent, so running it
//! hourly only ever clears what newly crossed the line.

use crate::app::AppState;
use crate::error::AppResult;
use crate::store::retention::{self, OrgPurge, Target};

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Retention is not configured: nothing is ever purged.
    Off,
    /// None of the tables retention clears exists in this database yet.
    NotAvailable,
    /// The clinics that lost content in this pass (none when nothing was old enough).
    Purged(Vec<OrgPurge>),
}

pub async fn run_due(state: &AppState) -> AppResult<Outcome> {
    match state.config.retention_days {
        None => Ok(Outcome::Off),
        Some(days) => purge(state, days, retention::CALL_CONTENT).await,
    }
}

/// One pass over `targets` with a cut-off `days` before the clock's now.
pub async fn purge(state: &AppState, days: u32, targets: &'static [Target]) -> AppResult<Outcome> {
    let now = state.clock.now().timestamp();
    let cutoff = now - i64::from(days) * 86_400;
    let purged = state
        .db
        .write(move |tx| retention::purge_system(tx, targets, cutoff, days, now))
        .await?;
    Ok(match purged {
        None => Outcome::NotAvailable,
        Some(orgs) => Outcome::Purged(orgs),
    })
}
