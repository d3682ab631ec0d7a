//! Background loops. Each job is an async `run_due(&AppState)` that does whatever is due at
//! `state.clock.now()` and is safe to run twice at once (its claims are made in the database);
//! [`spawn_all`] runs every job on its period until shutdown. Tests call the `run_due`
//! functions directly after moving the manual clock, so nothing waits on wall time.

pub mod calls;
pub mod maintenance;

use crate::app::AppState;
use crate::error::AppResult;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// Starts every background job; they stop when `stop` turns true.
pub fn spawn_all(state: &AppState, stop: watch::Receiver<bool>) {
    every(
        state,
        stop.clone(),
        "calls",
        Duration::from_secs(30),
        |s| async move { calls::run_due(&s).await.map(|_| ()) },
    );
    every(
        state,
        stop,
        "maintenance",
        Duration::from_secs(60),
        |s| async move { maintenance::run_due(&s).await.map(|_| ()) },
    );
}

/// Runs `job` now and then every `period` (or sooner when `wake` is notified), logging
/// failures, until `stop` turns true.
fn every<F, Fut>(
    state: &AppState,
    mut stop: watch::Receiver<bool>,
    name: &'static str,
    period: Duration,
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
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
        }
    });
}
