//! Everything SQL. One SQLite file in WAL mode: a pool of read connections and one write
//! connection (`synchronous=FULL`, every write transaction `BEGIN IMMEDIATE`), all used off the
//! async threads. Tenant queries take an [`OrgScope`] first; only authentication code mints one.
//!
//! SQL is written here and nowhere else: clippy's `disallowed-methods` (clippy.toml) refuses
//! rusqlite's query methods outside this module.
#![allow(clippy::disallowed_methods)]

pub mod alert_mails;
pub mod api_tokens;
pub mod appliance;
pub mod appointments;
pub mod attention;
pub mod audit;
pub mod booking_mails;
pub mod booking_texts;
pub mod calendar_feeds;
pub mod call_events;
pub mod call_list;
pub mod caller_ids;
pub mod calls;
pub mod checkpointer;
pub mod contacts;
pub mod digest;
pub mod email_outbox;
pub mod email_settings;
pub mod email_unsubscribes;
pub mod forwarding_configs;
pub mod go_live;
pub mod leads;
pub mod messages;
pub mod migrate;
pub mod opt_outs;
pub mod orgs;
pub mod outbox;
pub mod outbox_reconcile;
pub mod overview;
pub mod password_resets;
pub mod practitioners;
pub mod recording_shares;
pub mod rekey;
pub mod retention;
pub mod scope;
pub mod search_index;
pub mod services;
pub mod sessions;
pub mod staff;
pub mod states;
pub mod tool_results;
pub mod twilio_credentials;
pub mod vapi_hmac_plans;
pub mod vapi_secrets;
pub mod vapi_tools;
pub mod vapi_twilio_sync;
pub mod verification;
pub mod voice_agent;
pub mod writer;

pub use scope::OrgScope;

use crate::error::{AppError, AppResult};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags, Transaction};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub type ReadPool = r2d2::Pool<SqliteConnectionManager>;

/// Creates an org with everything a new clinic starts with. Creating an org is authentication
/// by other means (the setup token, the operator's command line), so it yields the scope.
pub fn provision_org(
    tx: &Transaction<'_>,
    vault: &crate::crypto::Vault,
    name: &str,
    timezone: chrono_tz::Tz,
    clinic_type: crate::domain::clinic_type::ClinicType,
    now: i64,
) -> AppResult<OrgScope> {
    let scope = orgs::create_of_type(tx, name, timezone, Some(clinic_type), now)?;
    services::seed_starting_catalogue(tx, &scope, clinic_type, now)?;
    vapi_secrets::create(tx, vault, &scope, now)?;
    Ok(scope)
}

/// Handle to the database. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    read: ReadPool,
    writer: writer::Writer,
    /// Tests wait on it; the writer holds its own handle.
    #[cfg(test)]
    checkpointer: checkpointer::Checkpointer,
    path: PathBuf,
}

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepared statements kept per connection. The hot paths (a Vapi request's authentication
/// and context, a booking's writes) use `prepare_cached`; room for them and the dashboard's.
const STATEMENT_CACHE: usize = 64;

fn apply_pragmas(conn: &Connection, synchronous: &str) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA foreign_keys = ON;
         PRAGMA synchronous = {synchronous};
         PRAGMA temp_store = MEMORY;"
    ))
}

impl Db {
    /// Opens (creating if needed) the database and applies pending migrations.
    pub fn open(path: &Path) -> AppResult<Self> {
        let open = || {
            Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
        };
        let write = open()?;
        // FULL: an acknowledged write survives a power cut, not just a process crash.
        apply_pragmas(&write, "FULL")?;
        migrate::apply(&write)?;
        // SQLite gives a new -wal or -shm the database file's mode, so the file's mode is what counts.
        crate::private_files::restrict_database(path).map_err(|e| {
            AppError::caused(format!("cannot make {} owner-only", path.display()), e)
        })?;
        // Checkpoints run in the background (see `checkpointer`); the writer's own is a backstop.
        write.pragma_update(
            None,
            "wal_autocheckpoint",
            checkpointer::WRITER_BACKSTOP_PAGES,
        )?;
        let checkpoints = open()?;
        apply_pragmas(&checkpoints, "FULL")?;
        let checkpointer = checkpointer::Checkpointer::start(checkpoints)?;
        let manager = SqliteConnectionManager::file(path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(|c| apply_pragmas(c, "NORMAL"));
        let read = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .build(manager)?;
        Ok(Self {
            read,
            writer: writer::Writer::start(write, checkpointer.clone())?,
            #[cfg(test)]
            checkpointer,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a read on a pooled connection, off the async threads.
    pub async fn read<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        let pool = self.read.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            f(&conn)
        })
        .await?
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction on the write connection and answers after
    /// the commit: committed when `f` returns Ok, rolled back (nothing half-written) when it
    /// returns Err. Concurrent writes share one commit (see [`writer`]).
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> AppResult<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.writer.submit(f, move |r| {
            let _ = reply.send(r);
        })?;
        answer
            .await
            .map_err(|_| AppError::internal("the write was abandoned"))?
    }

    /// The blocking form of [`Db::write`], for the command line (never on async threads).
    pub fn write_blocking<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> AppResult<T> + Send + 'static,
    {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.writer.submit(f, move |r| {
            let _ = reply.send(r);
        })?;
        answer
            .recv()
            .map_err(|_| AppError::internal("the write was abandoned"))?
    }

    /// The blocking form of [`Db::read`].
    pub fn read_blocking<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&Connection) -> AppResult<T>,
    {
        let conn = self.read.get()?;
        f(&conn)
    }

    /// Copies the live database into `dest` with `VACUUM INTO` (consistent while serving) and
    /// checks the copy with `integrity_check`.
    pub fn backup_to(&self, dest: &Path) -> AppResult<()> {
        if dest.exists() {
            return Err(AppError::Validation(format!(
                "{} already exists; choose a new file name",
                dest.display()
            )));
        }
        let dest_str = dest
            .to_str()
            .ok_or_else(|| AppError::Validation("the backup path is not valid UTF-8".into()))?;
        {
            let conn = self.read.get()?;
            conn.execute("VACUUM INTO ?1", [dest_str])?;
        }
        check_integrity(dest)
    }

    /// Flushes the WAL into the main file; called at shutdown.
    pub async fn checkpoint(&self) -> AppResult<()> {
        self.writer
            .submit_raw(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);"))?
            .await
            .map_err(|_| AppError::internal("the writer has stopped"))??;
        Ok(())
    }
}

/// Runs `f` in a savepoint of `tx`: kept when it succeeds, rolled back (and its error given
/// back, the transaction still usable) when it fails.
pub fn in_savepoint<T>(
    tx: &Transaction<'_>,
    f: impl FnOnce(&Transaction<'_>) -> AppResult<T>,
) -> AppResult<Result<T, AppError>> {
    in_savepoint_kept_if(tx, |tx| Ok(f(tx)), |r| r.is_ok())
}

/// Runs `f` in a savepoint of `tx`, keeping its writes only when `keep` says so of its result;
/// an error never keeps them. The rest of the transaction is untouched either way.
pub fn in_savepoint_kept_if<T>(
    tx: &Transaction<'_>,
    f: impl FnOnce(&Transaction<'_>) -> AppResult<T>,
    keep: impl FnOnce(&T) -> bool,
) -> AppResult<T> {
    tx.execute_batch("SAVEPOINT work")?;
    let result = f(tx);
    if result.as_ref().is_ok_and(keep) {
        tx.execute_batch("RELEASE work")?;
    } else {
        tx.execute_batch("ROLLBACK TO work; RELEASE work")?;
    }
    result
}

/// Whether the database file at `path` is one of ours (it has our migrations table).
pub fn is_voxanne_database(path: &Path) -> AppResult<bool> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    Ok(conn
        .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| {
            r.get::<_, i64>(0)
        })
        .is_ok())
}

/// Folds the WAL of the (closed) database at `path` into the file, so the file is complete on
/// its own.
pub fn fold_wal(path: &Path) -> AppResult<()> {
    let conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

/// Opens `path` read-only and runs `PRAGMA integrity_check`.
pub fn check_integrity(path: &Path) -> AppResult<()> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let result: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if result == "ok" {
        Ok(())
    } else {
        Err(AppError::internal(format!(
            "integrity check of {} failed: {result}",
            path.display()
        )))
    }
}
