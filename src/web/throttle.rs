//! Login throttling: after 5 failures for an account or from an address, further attempts are
//! refused for a period that doubles with every further failure (1 minute up to an hour).

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

const FREE_FAILURES: u32 = 5;
const FORGET_AFTER_MINUTES: i64 = 15;
const MAX_LOCK_MINUTES: i64 = 60;

#[derive(Debug, Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: DateTime<Utc>,
}

impl LoginThrottle {
    /// Seconds to wait if any of `keys` is locked.
    pub fn retry_after(&self, keys: &[String], now: DateTime<Utc>) -> Option<u64> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .filter_map(|k| entries.get(k))
            .filter_map(|e| locked_until(e).map(|until| (until - now).num_seconds()))
            .filter(|secs| *secs > 0)
            .max()
            .map(|s| s as u64)
    }

    pub fn record_failure(&self, keys: &[String], now: DateTime<Utc>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, e| {
            now - e.last < Duration::minutes(FORGET_AFTER_MINUTES)
                || locked_until(e).is_some_and(|u| u > now)
        });
        for key in keys {
            let entry = entries.entry(key.clone()).or_insert(Entry {
                failures: 0,
                last: now,
            });
            entry.failures += 1;
            entry.last = now;
        }
    }

    pub fn record_success(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(key);
    }
}

fn locked_until(e: &Entry) -> Option<DateTime<Utc>> {
    if e.failures < FREE_FAILURES {
        return None;
    }
    let doublings = (e.failures - FREE_FAILURES).min(6);
    let minutes = (1i64 << doublings).min(MAX_LOCK_MINUTES);
    Some(e.last + Duration::minutes(minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixth_attempt_is_throttled_then_released() {
        let t = LoginThrottle::default();
        let now = crate::clock::system_now();
        let keys = vec!["acct:a@b.c".to_string()];
        for _ in 0..4 {
            t.record_failure(&keys, now);
            assert_eq!(t.retry_after(&keys, now), None);
        }
        t.record_failure(&keys, now);
        assert!(t.retry_after(&keys, now).is_some());
        assert_eq!(t.retry_after(&keys, now + Duration::minutes(2)), None);
        t.record_failure(&keys, now + Duration::minutes(2));
        let wait = t.retry_after(&keys, now + Duration::minutes(2)).unwrap();
        assert!(wait > 60 && wait <= 120, "{wait}");
    }
}
