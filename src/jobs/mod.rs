//! Background loops. Each job is an async `run_due(&AppState)` that does whatever is due at
//! `state.clock.now()` and is safe to run twice at once (its claims are made in the database);
//! [`spawn_all`] runs every job on its period until shutdown. Tests call the `run_due`
//! functions directly after moving the manual clock, so nothing waits on wall time.

pub mod backups;
pub mod calls;
pub mod certificates;
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
use tracing::Instrument;

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
        // Texts left mid-send are looked up first; a failed lookup pass never holds up sending.
        |s| async move {
            let looked_up = crate::service::outbox_reconcile::run_due(&s).await;
            let sent = crate::service::messaging::run_due(&s).await;
            looked_up.and(sent).map(|_| ())
        },
    );
    every(
        state,
        stop.clone(),
        "mail",
        Duration::from_secs(5),
        Some(state.mail_wake.clone()),
        // Digests that are due are queued first, then everything due is sent.
        |s| async move {
            let digests = crate::service::digest::run_due(&s).await;
            let sent = crate::service::mailing::run_due(&s).await;
            digests.and(sent).map(|_| ())
        },
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
        stop.clone(),
        "certificates",
        Duration::from_secs(600),
        None,
        |s| async move {
            certificates::run_due(&s);
            Ok(())
        },
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
/// failures, until `stop` turns true. Each pass runs in its own task inside a `job` span: a
/// pass that panics is logged with the job's name and the loop goes on.
fn every<S, F, Fut>(
    state: &S,
    mut stop: watch::Receiver<bool>,
    name: &'static str,
    period: Duration,
    wake: Option<Arc<Notify>>,
    job: F,
) -> tokio::task::JoinHandle<()>
where
    S: Clone + Send + 'static,
    F: Fn(S) -> Fut + Send + 'static,
    Fut: Future<Output = AppResult<()>> + Send + 'static,
{
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            if *stop.borrow() {
                break;
            }
            run_pass(name, job(state.clone())).await;
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
    })
}

/// One pass of the job `name`, in a task of its own so that a panic ends only this pass.
async fn run_pass<Fut>(name: &'static str, pass: Fut)
where
    Fut: Future<Output = AppResult<()>> + Send + 'static,
{
    let span = tracing::info_span!("job", job = name);
    match tokio::spawn(pass.instrument(span.clone())).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => span.in_scope(|| {
            tracing::warn!(job = name, error = %e, "background job failed; will retry")
        }),
        Err(e) if e.is_panic() => span.in_scope(|| {
            tracing::error!(job = name, panic = %panic_message(e.into_panic()), "background job panicked; will run again")
        }),
        Err(_) => {}
    }
}

/// What a panic said, when it said it with a string.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_panicking_pass_leaves_the_loop_running() {
        let passes = Arc::new(AtomicUsize::new(0));
        let wake = Arc::new(Notify::new());
        let (stop_tx, stop) = watch::channel(false);
        let counted = passes.clone();
        let handle = every(
            &(),
            stop,
            "test",
            Duration::from_secs(3600),
            Some(wake.clone()),
            move |()| {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        panic!("first pass fails");
                    }
                    Ok(())
                }
            },
        );
        for _ in 0..200 {
            if passes.load(Ordering::SeqCst) >= 2 {
                break;
            }
            wake.notify_one();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(
            passes.load(Ordering::SeqCst) >= 2,
            "the loop ended with the panic"
        );
        assert!(!handle.is_finished());
        stop_tx.send(true).unwrap();
        wake.notify_one();
        handle.await.unwrap();
    }
}
