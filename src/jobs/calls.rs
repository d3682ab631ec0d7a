//! Retries call events that were kept but not processed (processing failed, or the server
//! stopped between the two): each is read back from its redacted body and processed as if it had
//! just arrived. Runs at start-up and then periodically; an event is given up after
//! `call_events::MAX_ATTEMPTS` failures and stays for a person to look at.

use crate::app::AppState;
use crate::error::AppResult;
use crate::store::{call_events, services};
use crate::voice::ingest::{self, Kept};

/// Events handled per pass, so one pass never holds the writer for long.
const BATCH: i64 = 100;

/// How many events this pass processed.
pub async fn run_due(state: &AppState) -> AppResult<usize> {
    let pending = state
        .db
        .read(|c| call_events::pending_system(c, BATCH))
        .await?;
    let mut processed = 0;
    for (scope, event) in pending {
        let catalogue = state
            .db
            .read(move |c| services::list_active(c, &scope))
            .await?;
        let country = state.config.default_country.clone();
        let body = event.body.clone();
        let (kind, received_at) = (event.kind.clone(), event.received_at);
        let prepared = tokio::task::spawn_blocking(move || {
            serde_json::from_str(&body).ok().and_then(|message| {
                ingest::prepare(&kind, message, &catalogue, &country, received_at)
            })
        })
        .await?;
        let now = state.clock.now().timestamp();
        let kept = state
            .db
            .write(move |tx| {
                if !call_events::is_pending(tx, &scope, event.id)? {
                    return Ok(Kept::Duplicate);
                }
                match prepared {
                    Some(p) => ingest::process_kept(tx, &scope, event.id, &p, now),
                    None => {
                        call_events::mark_failed(
                            tx,
                            &scope,
                            event.id,
                            "the stored body is not a call event",
                            None,
                        )?;
                        Ok(Kept::Deferred)
                    }
                }
            })
            .await?;
        if let Kept::Processed { alert_queued } = kept {
            processed += 1;
            if alert_queued {
                crate::service::messaging::wake(state);
            }
        }
    }
    Ok(processed)
}
