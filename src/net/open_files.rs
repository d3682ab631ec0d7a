//! The process's limit on open files, which every connection counts against.

use crate::config::ConnectionLimits;
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Files kept for everything but client connections: the database and its WAL, backups,
/// requests to Vapi and Twilio, logs.
const RESERVED: u64 = 256;

/// What `listeners` listeners may use at most under `limits`.
pub fn files_needed(listeners: usize, limits: &ConnectionLimits) -> u64 {
    (listeners * limits.max_per_listener) as u64 + RESERVED
}

/// Raises the soft limit on open files to what the listeners may use, as far as the hard limit
/// allows, and warns when that is not enough (the systemd unit sets `LimitNOFILE`).
pub fn fit_open_files_limit(listeners: usize, limits: &ConnectionLimits) {
    let needed = files_needed(listeners, limits);
    let now = getrlimit(Resource::Nofile);
    let soft = now.current.unwrap_or(u64::MAX);
    if soft >= needed {
        return;
    }
    let target = now.maximum.map_or(needed, |hard| hard.min(needed));
    let raised = target > soft
        && setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(target),
                maximum: now.maximum,
            },
        )
        .is_ok();
    let have = if raised { target } else { soft };
    if have < needed {
        tracing::warn!(
            open_files = have,
            needed,
            "the open-files limit is below what VOXANNE_MAX_CONNECTIONS allows on every listener; raise it (LimitNOFILE= in the unit, ulimit -n) or lower VOXANNE_MAX_CONNECTIONS"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn two_listeners_need_both_caps_and_the_reserve() {
        let limits = ConnectionLimits {
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(30),
            idle: Duration::from_secs(60),
            max_per_listener: 512,
        };
        assert_eq!(files_needed(2, &limits), 1280);
        assert_eq!(files_needed(1, &limits), 768);
    }
}
