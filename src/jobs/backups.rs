//! Scheduled backups: daily at `VOXANNE_BACKUP_TIME`, into the backup set, keeping the newest
//! `VOXANNE_BACKUP_KEEP`, encrypted when `VOXANNE_BACKUP_ENCRYPT` is on. Whether one is due is
//! decided from the clock and the newest existing backup (see [`crate::backup::schedule`]), so
//! the job can run as often as it likes and after any downtime. Each attempt's outcome is
//! recorded for the Backups and Diagnostics pages.

use crate::app::AppState;
use crate::backup::{schedule, BackupSet, Taken};
use crate::error::{AppError, AppResult};
use crate::store::appliance;

/// Takes a backup when one is due; `None` when not due or scheduled backups are off.
pub async fn run_due(state: &AppState) -> AppResult<Option<Taken>> {
    let Some(time) = state.config.backup.schedule else {
        return Ok(None);
    };
    let tz = match time.zone {
        Some(tz) => tz,
        None => state.db.read(appliance::home_timezone).await?,
    };
    let now = state.clock.now();
    let result = take(state, now, move |newest| {
        schedule::is_due(now, newest, time.at, tz)
    })
    .await;
    if let Ok(None) = result {
        return Ok(None);
    }
    record(state, now.timestamp(), &result).await;
    result
}

/// Takes a backup now ("Back up now"), recorded like a scheduled one.
pub async fn run_now(state: &AppState) -> AppResult<Taken> {
    let now = state.clock.now();
    let result = take(state, now, |_| true).await;
    record(state, now.timestamp(), &result).await;
    result?.ok_or_else(|| AppError::internal("the backup was not taken"))
}

async fn take(
    state: &AppState,
    now: chrono::DateTime<chrono::Utc>,
    due: impl FnOnce(Option<chrono::DateTime<chrono::Utc>>) -> bool + Send + 'static,
) -> AppResult<Option<Taken>> {
    let (db, config, vault) = (state.db.clone(), state.config.clone(), state.vault.clone());
    // VACUUM INTO, sealing and fsync are blocking file work.
    tokio::task::spawn_blocking(move || {
        let set = BackupSet::new(&config.backup.dir);
        let key = config.backup.encrypt.then(|| vault.file_key());
        let keep = config.backup.keep as usize;
        set.take_if_due(&db, key, &config.data_dir, now, keep, due)
    })
    .await?
}

async fn record(state: &AppState, at: i64, result: &AppResult<Option<Taken>>) {
    let (ok, detail) = match result {
        Ok(Some(taken)) => {
            tracing::info!(file = %taken.path.display(), bytes = taken.file.bytes, rotated_out = taken.removed.len(), "backup written");
            (true, taken.file.name.clone())
        }
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e, "backup failed");
            // Shown to the appliance's owner on the Backups page: the cause, in words.
            let detail = match e {
                AppError::Internal(detail) => detail.to_string(),
                other => other.public_message(),
            };
            (false, detail)
        }
    };
    let written = state
        .db
        .write(move |tx| appliance::record_status(tx, appliance::BACKUP_ATTEMPT, at, ok, &detail))
        .await;
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not record the backup outcome");
    }
}
