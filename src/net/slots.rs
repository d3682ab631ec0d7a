//! The cap on open connections of one listener. When it is full, a new connection takes the
//! place of the one that has waited longest without a request in progress (a client that
//! opened a connection and sent nothing, or a kept-alive connection left unused); a connection
//! with a request in progress is never displaced, and when every slot has one the new
//! connection is closed at once. So a flood of idle connections can neither exhaust the
//! process's files nor keep a real request waiting.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct Slots {
    inner: Arc<Mutex<Inner>>,
    epoch: Instant,
}

struct Inner {
    cap: usize,
    next_id: u64,
    open: HashMap<u64, Arc<Conn>>,
}

/// What the cap knows of one open connection.
pub struct Conn {
    in_flight: AtomicUsize,
    /// Milliseconds after the epoch at which the connection last became free of requests.
    free_since: AtomicU64,
    displaced: Notify,
    epoch: Instant,
}

/// A connection's place under the cap, given back when dropped.
pub struct Slot {
    id: u64,
    conn: Arc<Conn>,
    slots: Slots,
}

/// Held while a request is in progress on a connection (until its reply has been sent).
pub struct InFlight(Arc<Conn>);

impl Slots {
    pub fn new(cap: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                cap: cap.max(1),
                next_id: 0,
                open: HashMap::new(),
            })),
            epoch: Instant::now(),
        }
    }

    /// A place for a new connection, displacing the longest-free one if the cap is reached;
    /// `None` when every open connection has a request in progress.
    pub fn admit(&self) -> Option<Slot> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.open.len() >= inner.cap {
            let (&id, _) = inner
                .open
                .iter()
                .filter(|(_, c)| c.in_flight.load(Ordering::Acquire) == 0)
                .min_by_key(|(_, c)| c.free_since.load(Ordering::Acquire))?;
            if let Some(conn) = inner.open.remove(&id) {
                conn.displaced.notify_one();
            }
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let conn = Arc::new(Conn {
            in_flight: AtomicUsize::new(0),
            free_since: AtomicU64::new(0),
            displaced: Notify::new(),
            epoch: self.epoch,
        });
        conn.mark_free();
        inner.open.insert(id, conn.clone());
        Some(Slot {
            id,
            conn,
            slots: self.clone(),
        })
    }

    #[cfg(test)]
    pub fn open(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .open
            .len()
    }
}

impl Conn {
    fn mark_free(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.free_since.store(ms, Ordering::Release);
    }

    pub fn has_request(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    /// Marks a request as started; the connection is not displaced until the guard drops.
    pub fn begin_request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.mark_free();
        }
    }
}

impl Slot {
    pub fn conn(&self) -> &Arc<Conn> {
        &self.conn
    }

    /// Completes when a newer connection has taken this one's place.
    pub async fn displaced(&self) {
        self.conn.displaced.notified().await
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut inner = self.slots.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner
            .open
            .get(&self.id)
            .is_some_and(|c| Arc::ptr_eq(c, &self.conn))
        {
            inner.open.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_listener_displaces_the_longest_free_connection_only() {
        let slots = Slots::new(2);
        let first = slots.admit().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let busy = slots.admit().unwrap();
        let _request = busy.conn().begin_request();
        let third = slots.admit().expect("the idle one makes way");
        tokio::time::timeout(std::time::Duration::from_secs(1), first.displaced())
            .await
            .expect("the idle connection is told to go");
        assert_eq!(slots.open(), 2);
        let _also_busy = third.conn().begin_request();
        assert!(slots.admit().is_none(), "every slot has a request");
        drop(first);
        assert_eq!(slots.open(), 2, "a displaced slot was already given back");
        drop(third);
        assert_eq!(slots.open(), 1);
    }
}
