//! Per-tool-call locks, so two deliveries of the same tool call never run at once, and the
//! stamps that tell whether a stored reply read earlier is still the whole truth.
//!
//! A request reads the stored replies of its tool calls together with its authentication,
//! before it holds any call's lock. When it then holds the lock, "nothing was stored" is
//! still true unless a run under the same id finished in between. Every finished run bumps
//! the stamp of its id's stripe, so an unchanged stamp proves no such run finished (an
//! unrelated id in the same stripe only costs a second read).

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// (org id, tool-call id)
pub type CallKey = (i64, String);

// Arrays of atomics implement `Default` up to 32.
const STRIPES: usize = 32;

#[derive(Default)]
pub struct KeyedLocks {
    map: Mutex<HashMap<CallKey, Arc<tokio::sync::Mutex<()>>>>,
    finished: [AtomicU64; STRIPES],
}

/// Where the history of runs under one tool-call id stood at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp(u64);

fn stripe(tool_call_id: &str) -> usize {
    let mut h = DefaultHasher::new();
    tool_call_id.hash(&mut h);
    (h.finish() % STRIPES as u64) as usize
}

/// Bumps the stamp when a run ends, however it ends (a dropped request may have committed).
struct Finished<'a>(&'a AtomicU64);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl KeyedLocks {
    /// The current stamp of `tool_call_id`: take it before reading its stored reply.
    pub fn stamp(&self, tool_call_id: &str) -> Stamp {
        Stamp(self.finished[stripe(tool_call_id)].load(Ordering::SeqCst))
    }

    /// Runs `f` holding the lock of `key`; `f` gets the stamp as of taking the lock.
    pub async fn run<T, F>(&self, key: CallKey, f: impl FnOnce(Stamp) -> F) -> T
    where
        F: std::future::Future<Output = T>,
    {
        let lock = {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(key.clone()).or_default().clone()
        };
        let out = {
            let _guard = lock.lock().await;
            let stamp = self.stamp(&key.1);
            // Dropped before the guard: the next holder sees the new stamp.
            let _finished = Finished(&self.finished[stripe(&key.1)]);
            f(stamp).await
        };
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(&key).is_some_and(|l| Arc::strong_count(l) <= 2) {
            map.remove(&key);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_finished_run_changes_the_stamp_its_successor_sees() {
        let locks = KeyedLocks::default();
        let before = locks.stamp("call_1");
        let inside = locks.run((1, "call_1".into()), |s| async move { s }).await;
        assert_eq!(inside, before, "nothing finished before the first run");
        let second = locks.run((1, "call_1".into()), |s| async move { s }).await;
        assert_ne!(second, before, "the first run finished in between");
        assert_eq!(locks.stamp("call_1"), locks.stamp("call_1"));
    }

    #[tokio::test]
    async fn a_dropped_run_changes_the_stamp_too() {
        let locks = KeyedLocks::default();
        let before = locks.stamp("call_2");
        let run = locks.run((1, "call_2".into()), |_| std::future::pending::<()>());
        // Start the run (it takes the lock), then drop it as a disconnect would.
        let mut run = Box::pin(run);
        assert!(futures_poll_once(run.as_mut()).is_none());
        drop(run);
        assert_ne!(locks.stamp("call_2"), before);
    }

    fn futures_poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> Option<F::Output> {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match f.poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }
}
