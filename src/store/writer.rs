//! The single writer: one thread owns the write connection and runs write jobs in batches.
//! It takes the first queued job, drains whatever else is waiting (up to `MAX_BATCH`), runs
//! them in one `BEGIN IMMEDIATE` transaction with each job in its own SAVEPOINT (a failing
//! job rolls back alone), commits once, and only then answers every job. With
//! `synchronous=FULL` each commit is one fsync, so concurrent writers share it; the slot
//! check stays serialized because the jobs run one after another. After each commit it tells
//! the [`Checkpointer`], which copies the WAL into the database file on its own thread.

use super::checkpointer::Checkpointer;
use crate::error::{AppError, AppResult};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::sync::mpsc;

const MAX_BATCH: usize = 256;

/// Delivers a job's outcome once the batch's fate is known: `None` = committed.
type Deliver = Box<dyn FnOnce(Option<&AppError>) + Send>;
type TxJob = Box<dyn FnOnce(&Transaction<'_>) -> (bool, Deliver) + Send>;
type RawJob = Box<dyn FnOnce(&mut Connection) + Send>;

pub enum Job {
    Tx(TxJob),
    /// Outside any transaction (checkpoints).
    Raw(RawJob),
}

#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    pub fn start(conn: Connection, checkpointer: Checkpointer) -> AppResult<Writer> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("voxanne-writer".into())
            .spawn(move || run(conn, rx, &checkpointer))
            .map_err(|e| AppError::caused("cannot start the writer thread", e))?;
        Ok(Writer { tx })
    }

    /// Queues `f`; `reply` gets its outcome after the commit.
    pub fn submit<T, F, R>(&self, f: F, reply: R) -> AppResult<()>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> AppResult<T> + Send + 'static,
        R: FnOnce(AppResult<T>) + Send + 'static,
    {
        let job: TxJob = Box::new(move |tx| {
            let result = f(tx);
            let ok = result.is_ok();
            let deliver: Deliver = Box::new(move |commit_error| {
                reply(match (result, commit_error) {
                    (Ok(_), Some(e)) => Err(AppError::internal(format!("commit failed: {e}"))),
                    (result, _) => result,
                });
            });
            (ok, deliver)
        });
        self.tx
            .send(Job::Tx(job))
            .map_err(|_| AppError::internal("the writer has stopped"))
    }

    pub fn submit_raw<T, F>(&self, f: F) -> AppResult<tokio::sync::oneshot::Receiver<T>>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> T + Send + 'static,
    {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Job::Raw(Box::new(move |c| {
                let _ = reply.send(f(c));
            })))
            .map_err(|_| AppError::internal("the writer has stopped"))?;
        Ok(rx)
    }
}

fn run(mut conn: Connection, rx: mpsc::Receiver<Job>, checkpointer: &Checkpointer) {
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Raw(f) => {
                    run_batch(&mut conn, std::mem::take(&mut batch));
                    f(&mut conn);
                }
                Job::Tx(f) => batch.push(f),
            }
            if batch.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        run_batch(&mut conn, batch);
        checkpointer.committed();
    }
}

fn run_batch(conn: &mut Connection, batch: Vec<TxJob>) {
    if batch.is_empty() {
        return;
    }
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            // Dropping the jobs drops their reply senders: each waiter gets an error.
            tracing::error!(error = %e, jobs = batch.len(), "cannot begin a write batch");
            return;
        }
    };
    let mut deliveries = Vec::with_capacity(batch.len());
    for job in batch {
        if let Err(e) = savepoint(&tx, "SAVEPOINT job") {
            // Dropping the job drops its reply sender: its waiter gets an error.
            tracing::error!(error = %e, "could not open a job's savepoint");
            continue;
        }
        // A panicking job must not take the writer down with it.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&tx)));
        let (ok, deliver) = match ran {
            Ok((ok, deliver)) => (ok, Some(deliver)),
            Err(_) => {
                tracing::error!("a write job panicked; its changes were rolled back");
                (false, None)
            }
        };
        let end = if ok {
            savepoint(&tx, "RELEASE job")
        } else {
            savepoint(&tx, "ROLLBACK TO job").and_then(|()| savepoint(&tx, "RELEASE job"))
        };
        if let Err(e) = end {
            tracing::error!(error = %e, "could not end a job's savepoint");
        }
        deliveries.extend(deliver);
    }
    index_for_search(&tx);
    let commit_error = tx
        .commit()
        .err()
        .map(|e| AppError::internal(format!("commit: {e}")));
    for deliver in deliveries {
        deliver(commit_error.as_ref());
    }
}

/// Indexes the calls this batch queued for search (see `store::search_index`), in a savepoint of
/// its own: if it fails, the batch still commits and the queue waits for the next batch.
fn index_for_search(tx: &Transaction<'_>) {
    if let Err(e) = savepoint(tx, "SAVEPOINT search") {
        tracing::error!(error = %e, "could not open the search index savepoint");
        return;
    }
    let end = match super::search_index::index_queued(tx) {
        Ok(_) => savepoint(tx, "RELEASE search"),
        Err(e) => {
            tracing::error!(error = %e, "could not index calls for search; will retry");
            savepoint(tx, "ROLLBACK TO search").and_then(|()| savepoint(tx, "RELEASE search"))
        }
    };
    if let Err(e) = end {
        tracing::error!(error = %e, "could not end the search index savepoint");
    }
}

/// Savepoint statements run twice per job: cached, so they are parsed once.
fn savepoint(tx: &Transaction<'_>, sql: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(sql)?.execute([])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::error::AppError;
    use crate::store::Db;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failing_and_panicking_jobs_roll_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        db.write(|tx| Ok(tx.execute_batch("CREATE TABLE t (x INTEGER)")?))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..40i64 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                db.write(move |tx| {
                    tx.execute("INSERT INTO t (x) VALUES (?1)", [i])?;
                    match i % 4 {
                        1 => Err(AppError::Conflict("refused".into())),
                        2 if i == 2 => panic!("a bug in one job"),
                        _ => Ok(i),
                    }
                })
                .await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            if let Ok(Ok(_)) = t.await {
                ok += 1;
            }
        }
        let rows: i64 = db
            .read(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM t WHERE x % 4 != 1 AND x != 2",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        let bad: i64 = db
            .read(|c| {
                Ok(
                    c.query_row("SELECT COUNT(*) FROM t WHERE x % 4 = 1 OR x = 2", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .await
            .unwrap();
        assert_eq!(bad, 0, "a failed job's insert survived");
        assert_eq!(rows, ok);
        assert_eq!(ok, 29);
        // The writer survived the panic.
        db.write(|tx| Ok(tx.execute("INSERT INTO t (x) VALUES (100)", [])?))
            .await
            .unwrap();
    }
}
