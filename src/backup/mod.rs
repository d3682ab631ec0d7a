//! Backups: the backup set (the dated copies in the backup directory that scheduled runs,
//! "Back up now" and `voxanne backup` write), taking a copy, rotating the set, the encrypted
//! file format ([`sealed`]), when a scheduled run is due ([`schedule`]) and restoring
//! ([`restore`]).
//!
//! Every copy is made with `VACUUM INTO` on a read connection (a consistent snapshot that does
//! not hold up the writer), checked with `integrity_check`, and only then given its final name,
//! so every listed file is a good backup. File names carry the instant they were taken, from
//! the injected clock: `voxanne-20260615T140000Z.db`, or `….db.enc` when encrypted, with `-2`,
//! `-3` … before the extension for a second copy within the same second.

pub mod restore;
pub mod schedule;
pub mod sealed;

use crate::crypto::FileKey;
use crate::error::{AppError, AppResult};
use crate::store::{check_integrity, Db};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use std::path::{Path, PathBuf};

const PREFIX: &str = "voxanne-";
const PLAIN_EXT: &str = ".db";
const SEALED_EXT: &str = ".db.enc";
const STAMP: &str = "%Y%m%dT%H%M%SZ";

/// One kept backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupFile {
    pub name: String,
    pub taken_at: DateTime<Utc>,
    pub bytes: u64,
    pub encrypted: bool,
    #[serde(skip)]
    seq: u32,
}

/// Reads a backup file name back into (taken at, sequence, encrypted); `None` for anything
/// that is not a finished backup (other files, `.partial` leftovers, the lock file).
fn parse_name(name: &str) -> Option<(DateTime<Utc>, u32, bool)> {
    let rest = name.strip_prefix(PREFIX)?;
    let (rest, encrypted) = match rest.strip_suffix(SEALED_EXT) {
        Some(r) => (r, true),
        None => (rest.strip_suffix(PLAIN_EXT)?, false),
    };
    let (stamp, seq) = match rest.split_once('-') {
        Some((stamp, seq)) => (stamp, seq.parse::<u32>().ok().filter(|n| *n >= 2)?),
        None => (rest, 1),
    };
    let at = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?.and_utc();
    Some((at, seq, encrypted))
}

fn file_name(at: DateTime<Utc>, seq: u32, encrypted: bool) -> String {
    let stamp = at.format(STAMP);
    let ext = if encrypted { SEALED_EXT } else { PLAIN_EXT };
    match seq {
        1 => format!("{PREFIX}{stamp}{ext}"),
        n => format!("{PREFIX}{stamp}-{n}{ext}"),
    }
}

/// A backup just written, and what rotation removed.
#[derive(Debug, Serialize)]
pub struct Taken {
    pub file: BackupFile,
    pub path: PathBuf,
    pub removed: Vec<String>,
}

/// The backup directory.
#[derive(Debug, Clone)]
pub struct BackupSet {
    dir: PathBuf,
}

impl BackupSet {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The kept backups, newest first. A directory that does not exist yet holds none.
    pub fn list(&self) -> std::io::Result<Vec<BackupFile>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let Some((taken_at, seq, encrypted)) = parse_name(&name) else {
                continue;
            };
            let meta = entry.metadata()?;
            if !meta.is_file() {
                continue;
            }
            files.push(BackupFile {
                name,
                taken_at,
                bytes: meta.len(),
                encrypted,
                seq,
            });
        }
        files.sort_by_key(|f| std::cmp::Reverse((f.taken_at, f.seq)));
        Ok(files)
    }

    pub fn newest(&self) -> std::io::Result<Option<BackupFile>> {
        Ok(self.list()?.into_iter().next())
    }

    /// The kept backup called exactly `name`, with its path. Only names from the listing
    /// match, so no other file (and no path like `../voxanne.db`) can be reached by name.
    pub fn find(&self, name: &str) -> std::io::Result<Option<(BackupFile, PathBuf)>> {
        Ok(self.list()?.into_iter().find(|f| f.name == name).map(|f| {
            let path = self.dir.join(&f.name);
            (f, path)
        }))
    }

    /// Takes a backup now and rotates the set to `keep` copies.
    pub fn take_now(
        &self,
        db: &Db,
        key: Option<&FileKey>,
        staging_dir: &Path,
        now: DateTime<Utc>,
        keep: usize,
    ) -> AppResult<Taken> {
        let _lock = self.lock()?;
        self.take_locked(db, key, staging_dir, now, keep)
    }

    /// Takes a backup when `due(newest backup's time)` says so. The check and the copy happen
    /// under the set's lock, so two runs at once write one backup.
    pub fn take_if_due(
        &self,
        db: &Db,
        key: Option<&FileKey>,
        staging_dir: &Path,
        now: DateTime<Utc>,
        keep: usize,
        due: impl FnOnce(Option<DateTime<Utc>>) -> bool,
    ) -> AppResult<Option<Taken>> {
        let _lock = self.lock()?;
        let newest = self.newest().map_err(io_error)?;
        if !due(newest.map(|f| f.taken_at)) {
            return Ok(None);
        }
        self.take_locked(db, key, staging_dir, now, keep).map(Some)
    }

    /// Creates the directory (mode 0700: a backup holds everything) and takes its lock file.
    fn lock(&self) -> AppResult<std::fs::File> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&self.dir).map_err(|e| {
            AppError::internal(format!(
                "VOXANNE_BACKUP_DIR: cannot create {}: {e}",
                self.dir.display()
            ))
        })?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(".lock"))
            .map_err(io_error)?;
        crate::private_files::restrict(&self.dir.join(".lock")).map_err(io_error)?;
        file.lock().map_err(io_error)?;
        Ok(file)
    }

    fn take_locked(
        &self,
        db: &Db,
        key: Option<&FileKey>,
        staging_dir: &Path,
        now: DateTime<Utc>,
        keep: usize,
    ) -> AppResult<Taken> {
        self.remove_partials();
        let encrypted = key.is_some();
        // A second copy within the same second (plain or encrypted) gets the next number.
        let free = |seq: u32| {
            [false, true]
                .iter()
                .all(|enc| !self.dir.join(file_name(now, seq, *enc)).exists())
        };
        let seq = (1..=u32::MAX)
            .find(|seq| free(*seq))
            .ok_or_else(|| AppError::internal("no free backup file name"))?;
        let name = file_name(now, seq, encrypted);
        let partial = self.dir.join(format!(".{name}.partial"));
        copy_to(db, key, staging_dir, &partial)?;
        let path = self.dir.join(&name);
        std::fs::rename(&partial, &path).map_err(io_error)?;
        sync_dir(&self.dir);
        let removed = self.rotate(keep, &name)?;
        let file = self
            .find(&name)
            .map_err(io_error)?
            .map(|(f, _)| f)
            .ok_or_else(|| AppError::internal(format!("{name} vanished after writing")))?;
        Ok(Taken {
            file,
            path,
            removed,
        })
    }

    /// Keeps `just_written` and the newest `keep - 1` others; deletes the rest. The new copy
    /// is kept even when its name sorts older (the system clock was set back), so a backup
    /// that was just taken is never the one rotated out.
    fn rotate(&self, keep: usize, just_written: &str) -> AppResult<Vec<String>> {
        let others = self
            .list()
            .map_err(io_error)?
            .into_iter()
            .filter(|f| f.name != just_written);
        let mut removed = Vec::new();
        for old in others.skip(keep.saturating_sub(1)) {
            std::fs::remove_file(self.dir.join(&old.name)).map_err(io_error)?;
            removed.push(old.name);
        }
        Ok(removed)
    }

    /// Leftovers of a run that was interrupted (power cut, kill) are never valid backups.
    fn remove_partials(&self) {
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with('.') && name.ends_with(".partial") {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
}

/// Writes a checked copy of the database to `dest` (which must not exist): plain, or sealed
/// with `key`; readable by its owner only and on disk when this returns. Nothing is left at
/// `dest` when it fails.
pub fn copy_to(db: &Db, key: Option<&FileKey>, staging_dir: &Path, dest: &Path) -> AppResult<()> {
    if dest.exists() {
        return Err(AppError::Validation(format!(
            "{} already exists; choose a new file name",
            dest.display()
        )));
    }
    let written = match key {
        None => db.backup_to(dest),
        Some(key) => seal_copy(db, key, staging_dir, dest),
    };
    let result = written.and_then(|_| finish(dest));
    if result.is_err() {
        let _ = std::fs::remove_file(dest);
    }
    result
}

/// Copies the database to a plaintext staging file beside the live database (never in the
/// backup directory, which may be a network share), checks it, seals it into `dest`, then
/// opens the sealed file again and compares digests, so the encrypted copy is known to
/// decrypt to a database that passed `integrity_check`.
fn seal_copy(db: &Db, key: &FileKey, staging_dir: &Path, dest: &Path) -> AppResult<()> {
    let staging = staging_dir.join(format!(
        ".backup-staging-{}.db",
        crate::crypto::random_token(6)
    ));
    let result = (|| {
        db.backup_to(&staging)?;
        let input = std::fs::File::open(&staging).map_err(io_error)?;
        let output = std::fs::File::create(dest).map_err(io_error)?;
        let sealed_digest = sealed::seal(key, std::io::BufReader::new(input), output)
            .map_err(|e| AppError::caused("sealing the backup", e))?;
        let check = std::fs::File::open(dest).map_err(io_error)?;
        let opened_digest = sealed::open(key, std::io::BufReader::new(check), std::io::sink())
            .map_err(|e| AppError::caused("the sealed backup does not open", e))?;
        if sealed_digest != opened_digest {
            return Err(AppError::internal(
                "the sealed backup does not match its source",
            ));
        }
        Ok(())
    })();
    let _ = std::fs::remove_file(&staging);
    result
}

/// Owner-only permissions and the data on disk before the file gets its final name.
fn finish(path: &Path) -> AppResult<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io_error)?;
    }
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io_error)
}

fn sync_dir(dir: &Path) {
    // Makes the rename durable; not every file system supports it, and the copy is already
    // complete either way.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn io_error(e: std::io::Error) -> AppError {
    AppError::caused("backup directory", e)
}

/// Checks a plaintext database file: `integrity_check`, and that it is a Voxanne database.
pub fn check_database_file(path: &Path) -> AppResult<()> {
    check_integrity(path)?;
    if !crate::store::is_voxanne_database(path)? {
        return Err(AppError::Validation(
            "this file is not a Voxanne database".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_round_trip_and_strangers_are_ignored() {
        let at = Utc
            .with_ymd_and_hms(2026, 6, 15, 14, 0, 5)
            .single()
            .unwrap();
        assert_eq!(file_name(at, 1, false), "voxanne-20260615T140005Z.db");
        assert_eq!(file_name(at, 3, true), "voxanne-20260615T140005Z-3.db.enc");
        assert_eq!(
            parse_name("voxanne-20260615T140005Z.db"),
            Some((at, 1, false))
        );
        assert_eq!(
            parse_name("voxanne-20260615T140005Z-3.db.enc"),
            Some((at, 3, true))
        );
        for stranger in [
            "voxanne.db",
            ".voxanne-20260615T140005Z.db.partial",
            "voxanne-20260615T140005Z.db-wal",
            "voxanne-20260615T140005Z-1.db",
            "voxanne-2026.db",
            ".lock",
        ] {
            assert_eq!(parse_name(stranger), None, "{stranger}");
        }
    }
}
