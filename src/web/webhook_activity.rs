//! Remembers the last request that reached the Vapi endpoints, and the last that reached the
//! Twilio ones (when, which, and what it was answered), for Diagnostics: "Vapi last reached us
//! at 10:02 and was refused with 401" is what tells an installer whether the tunnel and the
//! secret work. Recorded in the database, so `voxanne check --online` sees it too, but at most
//! once a minute per provider (or when the answer turns from accepted to refused or back), so
//! the hot path pays one write a minute at most.

use crate::app::AppState;
use crate::store::appliance;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Mutex;

const EVERY_SECS: i64 = 60;

/// The status row a webhook path is recorded under, if it is a provider's.
fn source(path: &str) -> Option<&'static str> {
    if path.starts_with("/api/vapi/") {
        Some(appliance::VAPI_WEBHOOK)
    } else if path.starts_with("/api/twilio/") {
        Some(appliance::TWILIO_WEBHOOK)
    } else {
        None
    }
}

/// What was last written per source, to decide whether the next request needs writing.
#[derive(Debug, Default)]
pub struct Throttle {
    last: Mutex<Vec<(&'static str, i64, bool)>>,
}

impl Throttle {
    /// True when a request from `source` at `now` with outcome `ok` should be recorded;
    /// notes it if so.
    pub fn admit(&self, source: &'static str, now: i64, ok: bool) -> bool {
        let mut all = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let i = match all.iter().position(|(s, _, _)| *s == source) {
            Some(i) => i,
            None => {
                all.push((source, now, ok));
                return true;
            }
        };
        let last = &mut all[i];
        let due = last.2 != ok || now - last.1 >= EVERY_SECS;
        if due {
            *last = (source, now, ok);
        }
        due
    }
}

/// Middleware on the webhook routes: answers first, then records provider requests.
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let source = source(req.uri().path());
    let what = format!("{} {}", req.method(), req.uri().path());
    let response = next.run(req).await;
    if let Some(source) = source {
        let status = response.status();
        let ok = status.is_success();
        let now = state.clock.now().timestamp();
        if state.webhook_activity.admit(source, now, ok) {
            let detail = format!("{what} → {}", status.as_u16());
            let written = state
                .db
                .write(move |tx| appliance::record_status(tx, source, now, ok, &detail))
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

    const V: &str = appliance::VAPI_WEBHOOK;
    const T: &str = appliance::TWILIO_WEBHOOK;

    #[test]
    fn once_a_minute_or_on_a_change_per_provider() {
        let t = Throttle::default();
        assert!(t.admit(V, 100, true));
        assert!(!t.admit(V, 130, true));
        assert!(t.admit(T, 130, true), "each provider on its own");
        assert!(t.admit(V, 131, false), "refusals show at once");
        assert!(!t.admit(V, 150, false));
        assert!(t.admit(V, 191, false));
        assert!(t.admit(V, 192, true));
        assert!(!t.admit(T, 140, true));
    }

    #[test]
    fn only_provider_paths_are_recorded() {
        assert_eq!(source("/api/vapi/tools"), Some(V));
        assert_eq!(source("/api/twilio/sms"), Some(T));
        assert_eq!(source("/healthz"), None);
    }
}
