//! Master key rotation (`voxanne keys rotate`). Every sealed secret (see `store::rekey`) is
//! re-sealed under a fresh key in one database transaction, so the database is entirely under
//! the old key or entirely under the new one. The new key reaches disk before that commit and
//! replaces `master.key` by an atomic rename after it; a crash in between is finished at the
//! next start, which learns from the database which key it is under. The old key is kept as
//! `master.key.retired-<time>`: backups taken before the rotation still need it.
//!
//! When the key comes from the configuration (`VOXANNE_MASTER_KEY` or `_FILE`), the
//! appliance cannot edit that: the new key is written to the file the operator names, and the
//! operator points `VOXANNE_MASTER_KEY_FILE` at it before the next start.

use crate::app::{open_store, DataDirLock, StartupError};
use crate::config::Config;
use crate::crypto::{self, Vault, MASTER_KEY_FILE, NEXT_MASTER_KEY_FILE};
use crate::error::{AppError, AppResult};
use crate::store::{rekey, Db};
use std::path::{Path, PathBuf};

/// What a rotation did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rotation {
    /// How many sealed values were re-sealed.
    pub resealed: usize,
    /// Where the new key is.
    pub key_file: PathBuf,
    /// The copy of the old key (data-directory keys only).
    pub retired_key_file: Option<PathBuf>,
}

/// Rotates the master key. The server must be stopped: it holds the key in memory.
pub fn rotate(config: &Config, new_key_file: Option<&Path>) -> AppResult<Rotation> {
    let in_config = config.master_key.is_some();
    let target = match (in_config, new_key_file) {
        (true, None) => return Err(AppError::Validation(
            "VOXANNE_MASTER_KEY comes from the configuration, which this command cannot edit: give --new-key-file PATH for the new key".into(),
        )),
        (false, Some(_)) => return Err(AppError::Validation(
            "the master key is DATA_DIR/master.key and is replaced there; --new-key-file is for a key set with VOXANNE_MASTER_KEY".into(),
        )),
        (true, Some(path)) => path.to_path_buf(),
        (false, None) => config.data_dir.join(NEXT_MASTER_KEY_FILE),
    };
    crate::private_files::create_dir_all(&config.data_dir)
        .map_err(|e| AppError::caused("VOXANNE_DATA_DIR", e))?;
    let _lock = DataDirLock::acquire(&config.data_dir).map_err(|_| {
        AppError::Conflict(
            "a Voxanne server is running on this data directory; stop it first (systemctl stop voxanne)".into(),
        )
    })?;
    let (db, old) = open_store(config).map_err(startup)?;
    let old = finish_interrupted_rotation_locked(config, &db, old).map_err(startup)?;
    if target.exists() {
        return Err(AppError::Validation(format!(
            "{} already exists; choose a new file",
            target.display()
        )));
    }
    let key = crypto::generate_key();
    crypto::write_key_file(&target, &key)
        .map_err(|e| AppError::internal(format!("cannot write {}: {e}", target.display())))?;
    let new = Vault::from_key(&key);
    let resealed = match db.write_blocking(move |tx| rekey::reseal_all_system(tx, &old, &new)) {
        Ok(n) => n,
        Err(e) => {
            // Nothing was re-sealed, so the new key must not survive to confuse a restart.
            let _ = std::fs::remove_file(&target);
            return Err(e);
        }
    };
    if in_config {
        return Ok(Rotation {
            resealed,
            key_file: target,
            retired_key_file: None,
        });
    }
    let retired = install_next_key(&config.data_dir).map_err(|e| {
        AppError::internal(format!(
            "the secrets are re-sealed, but {} could not replace {MASTER_KEY_FILE} ({e}); the next start finishes this",
            NEXT_MASTER_KEY_FILE
        ))
    })?;
    Ok(Rotation {
        resealed,
        key_file: config.data_dir.join(MASTER_KEY_FILE),
        retired_key_file: Some(retired),
    })
}

fn startup(e: StartupError) -> AppError {
    AppError::internal(e)
}

/// Finishes a rotation cut short between its commit and its rename, when no other process
/// holds the data directory (a server or a rotation in progress would). Returns the vault
/// the database is under.
pub fn finish_interrupted_rotation(
    config: &Config,
    db: &Db,
    current: Vault,
) -> Result<Vault, StartupError> {
    if config.master_key.is_some() || !config.data_dir.join(NEXT_MASTER_KEY_FILE).exists() {
        return Ok(current);
    }
    match DataDirLock::acquire(&config.data_dir) {
        Ok(_lock) => finish_interrupted_rotation_locked(config, db, current),
        Err(_) => Ok(current),
    }
}

/// [`finish_interrupted_rotation`] for a caller that holds the data-directory lock.
fn finish_interrupted_rotation_locked(
    config: &Config,
    db: &Db,
    current: Vault,
) -> Result<Vault, StartupError> {
    let next_path = config.data_dir.join(NEXT_MASTER_KEY_FILE);
    if config.master_key.is_some() || !next_path.exists() {
        return Ok(current);
    }
    let fail = |m: String| StartupError::Other(format!("finishing a key rotation: {m}"));
    let next = Vault::from_key(&crypto::read_key_file(&next_path).map_err(fail)?);
    let under_next = db
        .read_blocking(|c| rekey::opens_with(c, &next))
        .map_err(|e| fail(e.to_string()))?;
    if under_next == Some(false) {
        // The rotation stopped before its commit: the database is still under the old key.
        std::fs::remove_file(&next_path).map_err(|e| fail(e.to_string()))?;
        tracing::warn!(
            "a key rotation had stopped before changing anything; its unused key was removed"
        );
        return Ok(current);
    }
    install_next_key(&config.data_dir).map_err(|e| fail(e.to_string()))?;
    tracing::warn!("finished a key rotation that had stopped after re-sealing the secrets");
    Ok(next)
}

/// Keeps a copy of the current key, then renames the next key over it (atomic: at every
/// moment `master.key` is a complete key). Returns the copy's path.
fn install_next_key(data_dir: &Path) -> std::io::Result<PathBuf> {
    let current = data_dir.join(MASTER_KEY_FILE);
    let old = crypto::read_key_file(&current).map_err(std::io::Error::other)?;
    let stamp = crate::clock::system_now().format("%Y%m%dT%H%M%S%.3fZ");
    let retired = data_dir.join(format!("{MASTER_KEY_FILE}.retired-{stamp}"));
    crypto::write_key_file(&retired, &old)?;
    std::fs::rename(data_dir.join(NEXT_MASTER_KEY_FILE), &current)?;
    // The rename is durable once the directory entry is.
    std::fs::File::open(data_dir)?.sync_all()?;
    Ok(retired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clinic_type::ClinicType;
    use crate::store::{provision_org, scope::operator_scope, vapi_secrets};
    use std::collections::BTreeMap;

    fn config(dir: &Path) -> Config {
        let values: BTreeMap<String, String> =
            [("VOXANNE_DATA_DIR".to_string(), dir.display().to_string())].into();
        Config::from_values(&values).unwrap()
    }

    /// A data directory with one clinic, under a generated master.key; returns its secret.
    fn seeded(config: &Config) -> String {
        let (db, vault) = open_store(config).unwrap();
        let v = vault.clone();
        db.write_blocking(move |tx| {
            provision_org(
                tx,
                &v,
                "Glow",
                chrono_tz::UTC,
                ClinicType::PlasticSurgery,
                0,
            )
            .map(|_| ())
        })
        .unwrap();
        db.read_blocking(|c| vapi_secrets::current(c, &vault, &operator_scope(c, 1)?))
            .unwrap()
    }

    fn secret_now(config: &Config) -> AppResult<String> {
        let (db, vault) = open_store(config).map_err(startup)?;
        db.read_blocking(|c| vapi_secrets::current(c, &vault, &operator_scope(c, 1)?))
    }

    #[test]
    fn rotates_and_keeps_the_old_key_aside() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let secret = seeded(&config);
        let before = std::fs::read(dir.path().join(MASTER_KEY_FILE)).unwrap();
        let done = rotate(&config, None).unwrap();
        assert_eq!(done.resealed, 1);
        let after = std::fs::read(dir.path().join(MASTER_KEY_FILE)).unwrap();
        assert_ne!(before, after);
        let retired = done.retired_key_file.unwrap();
        assert_eq!(std::fs::read(&retired).unwrap(), before);
        assert!(!dir.path().join(NEXT_MASTER_KEY_FILE).exists());
        assert_eq!(secret_now(&config).unwrap(), secret);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(MASTER_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key is readable by its owner only");
        }
    }

    #[test]
    fn a_crash_after_the_commit_is_finished_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let secret = seeded(&config);
        // The rotation's first two steps, then a crash before the rename.
        let key = crypto::generate_key();
        {
            let (db, old) = open_store(&config).unwrap();
            crypto::write_key_file(&dir.path().join(NEXT_MASTER_KEY_FILE), &key).unwrap();
            let new = Vault::from_key(&key);
            db.write_blocking(move |tx| rekey::reseal_all_system(tx, &old, &new))
                .unwrap();
        }
        assert_eq!(secret_now(&config).unwrap(), secret);
        assert_eq!(
            crypto::read_key_file(&dir.path().join(MASTER_KEY_FILE)).unwrap(),
            key
        );
        assert!(!dir.path().join(NEXT_MASTER_KEY_FILE).exists());
    }

    #[test]
    fn a_crash_before_the_commit_leaves_the_old_key() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let secret = seeded(&config);
        let before = std::fs::read(dir.path().join(MASTER_KEY_FILE)).unwrap();
        crypto::write_key_file(
            &dir.path().join(NEXT_MASTER_KEY_FILE),
            &crypto::generate_key(),
        )
        .unwrap();
        assert_eq!(secret_now(&config).unwrap(), secret);
        assert_eq!(
            std::fs::read(dir.path().join(MASTER_KEY_FILE)).unwrap(),
            before
        );
        assert!(!dir.path().join(NEXT_MASTER_KEY_FILE).exists());
    }

    #[test]
    fn refuses_while_a_server_holds_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        seeded(&config);
        let _server = DataDirLock::acquire(dir.path()).unwrap();
        let before = std::fs::read(dir.path().join(MASTER_KEY_FILE)).unwrap();
        assert!(matches!(rotate(&config, None), Err(AppError::Conflict(_))));
        assert_eq!(
            std::fs::read(dir.path().join(MASTER_KEY_FILE)).unwrap(),
            before
        );
    }
}
