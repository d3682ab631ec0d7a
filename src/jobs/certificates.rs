//! Keeps the dashboard's HTTPS certificate current: a self-signed one is renewed before it
//! expires (or when the machine's addresses change), certificate files are re-read when they
//! change, and one close to expiry is warned about ([`crate::tls`]).

use crate::app::AppState;
use std::sync::atomic::{AtomicI64, Ordering};

/// Days before expiry from which certificate files the appliance cannot renew are warned about.
const WARN_DAYS_BEFORE: i64 = 14;

pub fn run_due(state: &AppState) {
    let Some(tls) = &state.tls else {
        return;
    };
    let now = state.clock.now();
    match tls.refresh(now) {
        Ok(true) => {
            let info = tls.info();
            tracing::info!(sha256 = %info.sha256, not_after = %info.not_after, "the dashboard's HTTPS certificate was replaced");
        }
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(error = %e, "the dashboard's HTTPS certificate could not be replaced; the current one stays in use")
        }
    }
    let info = tls.info();
    let days = info.days_left(now);
    // Once a day, not on every pass.
    static WARNED_ON_DAY: AtomicI64 = AtomicI64::new(i64::MIN);
    let today = now.timestamp().div_euclid(86_400);
    if days < WARN_DAYS_BEFORE && WARNED_ON_DAY.swap(today, Ordering::Relaxed) != today {
        tracing::warn!(days_left = days, not_after = %info.not_after, "the dashboard's HTTPS certificate expires soon: renew the certificate files");
    }
}
