//! Owner-only files: the process umask, and the modes of what the appliance creates (the data
//! directory when it makes it, the database with its -wal and -shm, keys, backups, lock files),
//! so that a server or a command started by hand is as private as one under the systemd unit.

use std::io;
use std::path::Path;

/// The mode of every file the appliance creates.
pub const FILE_MODE: u32 = 0o600;
/// The mode of every directory the appliance creates.
pub const DIR_MODE: u32 = 0o700;

/// Makes everything this process creates from now on owner-only (umask 077).
pub fn restrict_umask() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Creates `dir` and any missing parents owner-only. A directory that already exists keeps the
/// mode its administrator gave it (the Debian package makes the data directory 0750).
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DIR_MODE);
    }
    builder.create(dir)
}

/// Gives `path` its owner-only mode (0700 for a directory, 0600 for a file); a path that does
/// not exist is left alone.
pub fn restrict(path: &Path) -> io::Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if meta.is_dir() { DIR_MODE } else { FILE_MODE };
        if meta.permissions().mode() & 0o777 != mode {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(())
}

/// The SQLite database at `db` and the -wal and -shm files beside it, owner-only.
pub fn restrict_database(db: &Path) -> io::Result<()> {
    restrict(db)?;
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        restrict(Path::new(&name))?;
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn restrict_fixes_open_modes_and_ignores_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        create_dir_all(&sub).unwrap();
        assert_eq!(mode(&sub), DIR_MODE);
        let db = sub.join("x.db");
        std::fs::write(&db, b"").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let wal = sub.join("x.db-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o666)).unwrap();
        restrict_database(&db).unwrap();
        assert_eq!(mode(&db), FILE_MODE);
        assert_eq!(mode(&wal), FILE_MODE);
        assert!(!sub.join("x.db-shm").exists());
    }
}
