//! Remembers the last request that reached the Vapi endpoints (when, which, and what it was
//! answered), for Diagnostics: "Vapi last reached us at 10:02 and was refused with 401" is
//! what tells an installer whether the tunnel and the secret work. Recorded in the database,
//! so `voxanne check --online` sees it too, but at most once a minute (or when the answer
//! turns from accepted to refused or back), so the hot path pays one write a minute at most.

use crate::app::AppState;
use crate::store::appliance;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Mutex;

const EVERY_SECS: i64 = 60;

/// What was last written, to decide whether the next request needs writing.
#[derive(Debug, Default)]
pub struct Throttle {
    last: Mutex<Option<(i64, bool)>>,
}

impl Throttle {
    /// True when a request at `now` with outcome `ok` should be recorded; notes it if so.
    pub fn admit(&self, now: i64, ok: bool) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let due = match *last {
            None => true,
            Some((at, was_ok)) => was_ok != ok || now - at >= EVERY_SECS,
        };
        if due {
            *last = Some((now, ok));
        }
        due
    }
}

/// Middleware on the webhook routes: answers first, then records Vapi requests.
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_vapi = req.uri().path().starts_with("/api/vapi/");
    let what = format!("{} {}", req.method(), req.uri().path());
    let response = next.run(req).await;
    if is_vapi {
        let status = response.status();
        let ok = status.is_success();
        let now = state.clock.now().timestamp();
        if state.webhook_activity.admit(now, ok) {
            let detail = format!("{what} → {}", status.as_u16());
            let written = state
                .db
                .write(move |tx| {
                    appliance::record_status(tx, appliance::VAPI_WEBHOOK, now, ok, &detail)
                })
                .await;
            if let Err(e) = written {
                tracing::warn!(error = %e, "could not record the last webhook");
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_a_minute_or_on_a_change() {
        let t = Throttle::default();
        assert!(t.admit(100, true));
        assert!(!t.admit(130, true));
        assert!(t.admit(131, false), "refusals show at once");
        assert!(!t.admit(150, false));
        assert!(t.admit(191, false));
        assert!(t.admit(192, true));
    }
}
