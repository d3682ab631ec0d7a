//! Background loops. Each job is an async `run_due(&AppState)` that does whatever is due at
//! `state.clock.now()` and is safe to run twice at once (its claims are made in the database);
//! [`spawn_all`] runs every job on its period until shutdown. Tests call the `run_due`
//! functions directly after moving the manual clock, so nothing waits on wall time.

pub mod backups;
pub mod calls;
pub mod maintenance;
pub mod retention;
pub mod telephony;
pub mod vapi_sync;
pub mod vapi_tools;

use crate::app::AppState;
use crate::error::AppResult;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::sync::Notify;

/// Starts every background job; they stop when `stop` turns true.
pub fn spawn_all(state: &AppState, stop: watch::Receiver<bool>) {
    every(
        state,
        stop.clone(),
        "calls",
        Duration::from_secs(30),
        None,
        |s| async move { calls::run_due(&s).await.map(|_| ()) },
    );
    every(
        state,
        stop.clone(),
        "maintenance",
        Duration::from_secs(60),
        None,
        |s| async move { maintenance::run_due(&s).await.map(|_| ()) },
    );
    every(
        state,
        stop.clone(),
        "vapi_sync",
        Duration::from_secs(300),
        None,
        |s| async move { vapi_sync::run_due(&s).await.map(|_| ()) },
    );
    every(
        state,
        stop.clone(),
        "vapi_tools",
        Duration::from_secs(600),
        None,
        |s| async move { vapi_tools::run_due(&s).await.map(|_| ()) },
    );
    every(
        state,
        stop.clone(),
        "outbox",
        Duration::from_secs(5),
        Some(state.outbox_wake.clone()),
        |s| async move { crate::service::messaging::run_due(&s).await.map(|_| ()) },
    );
    every(
        state,
        stop.clone(),
        "telephony",
        Duration::from_secs(60),
        None,
        |s| async move { telephony::run_due(&s).await.map(|_| ()) },
    );
    // Backups and retention: due-ness comes from the clock and the data, so the period only
    // bounds how late a run can be.
    every(
        state,
        stop.clone(),
        "backups",
        Duration::from_secs(60),
        None,
        |s| async move { backups::run_due(&s).await.map(|_| ()) },
    );
    every(
        state,
        stop,
        "retention",
        Duration::from_secs(3600),
        None,
        |s| async move { retention::run_due(&s).await.map(|_| ()) },
    );
}

/// Runs `job` now and then every `period` (or sooner when `wake` is notified), logging
/// failures, until `stop` turns true.
fn every<F, Fut>(
    state: &AppState,
    mut stop: watch::Receiver<bool>,
    name: &'static str,
    period: Duration,
    wake: Option<Arc<Notify>>,
    job: F,
) where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: Future<Output = AppResult<()>> + Send + 'static,
{
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            if *stop.borrow() {
                break;
            }
            if let Err(e) = job(state.clone()).await {
                tracing::warn!(job = name, error = %e, "background job failed; will retry");
            }
            let woken = async {
                match &wake {
                    Some(n) => n.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                _ = woken => {}
                _ = stop.wait_for(|s| *s) => break,
            }
        }
    });
}
