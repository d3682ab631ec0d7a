//! WAL checkpoints off the writer's path.
//!
//! SQLite's automatic checkpoint runs in the committing connection right after a commit: every
//! ~1000 pages the single writer would stop to copy the WAL into the database file and fsync
//! it, and every write queued behind it would wait (that stall was the tail of the booking
//! latency). Instead a thread with its own connection runs PASSIVE checkpoints, which copy
//! committed pages while the writer keeps committing. Durability does not depend on them: a
//! commit is already on disk in the WAL.
//!
//! The writer keeps its own automatic checkpoint as a backstop at [`WRITER_BACKSTOP_PAGES`]:
//! a background checkpoint cannot let the WAL start over from its beginning while commits
//! keep arriving, the writer's can. By then the background has copied nearly everything,
//! so the writer's checkpoint is short.

use crate::error::{AppError, AppResult};
use rusqlite::Connection;
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::Duration;

/// WAL size (pages) at which the writer checkpoints itself: about 40 MB of 4 KiB pages.
pub const WRITER_BACKSTOP_PAGES: u32 = 10_000;

/// The least time between two background checkpoints. Each one ends with an fsync of the
/// database file; under a stream of commits this keeps those to a few per second.
const PAUSE: Duration = Duration::from_millis(100);

/// Handle the writer uses to say "there is something new in the WAL".
#[derive(Clone)]
pub struct Checkpointer {
    poke: mpsc::SyncSender<()>,
    completed: Arc<(Mutex<u64>, Condvar)>,
}

impl Checkpointer {
    /// Starts the checkpoint thread on `conn` (its own connection to the database).
    pub fn start(conn: Connection) -> AppResult<Checkpointer> {
        // One pending poke is enough: a checkpoint copies everything committed before it.
        let (poke, pokes) = mpsc::sync_channel(1);
        let completed = Arc::new((Mutex::new(0), Condvar::new()));
        let counter = completed.clone();
        std::thread::Builder::new()
            .name("voxanne-checkpoint".into())
            .spawn(move || run(conn, pokes, &counter))
            .map_err(|e| AppError::caused("cannot start the checkpoint thread", e))?;
        Ok(Checkpointer { poke, completed })
    }

    /// Called after each commit; never blocks.
    pub fn committed(&self) {
        let _ = self.poke.try_send(());
    }

    /// Waits until at least `n` background checkpoints have finished, or `limit` has passed;
    /// answers how many have.
    pub fn wait_for(&self, n: u64, limit: Duration) -> u64 {
        let (count, changed) = &*self.completed;
        let count = count.lock().unwrap_or_else(|e| e.into_inner());
        let (count, _) = changed
            .wait_timeout_while(count, limit, |c| *c < n)
            .unwrap_or_else(|e| e.into_inner());
        *count
    }
}

fn run(conn: Connection, pokes: mpsc::Receiver<()>, completed: &(Mutex<u64>, Condvar)) {
    // Ends when the writer (the only holder of the sender) stops.
    while pokes.recv().is_ok() {
        // (busy, pages in the WAL, pages copied); nothing to act on, SQLite retries next time.
        let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
        if let Err(e) = done {
            tracing::warn!(error = %e, "background checkpoint failed");
        }
        let (count, changed) = completed;
        *count.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        changed.notify_all();
        std::thread::sleep(PAUSE);
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Db;
    use std::time::Duration;

    #[tokio::test]
    async fn commits_reach_the_database_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = Db::open(&path).unwrap();
        // One commit, so exactly one poke and one background checkpoint after it.
        db.write(|tx| {
            tx.execute_batch("CREATE TABLE t (x INTEGER)")?;
            for i in 0..200 {
                tx.execute("INSERT INTO t (x) VALUES (?1)", [i])?;
            }
            Ok(())
        })
        .await
        .unwrap();
        let done = db.checkpointer.wait_for(1, Duration::from_secs(60));
        assert_eq!(done, 1, "the background checkpoint did not run");
        // The database file alone, without its WAL, now holds the rows.
        let copy = dir.path().join("copy.db");
        std::fs::copy(&path, &copy).unwrap();
        let conn = rusqlite::Connection::open(&copy).unwrap();
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 200);
    }
}
