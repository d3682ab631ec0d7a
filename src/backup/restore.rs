//! Restoring a backup (plain or encrypted) over the data directory. Refused while a server
//! holds the directory; everything is checked before anything is replaced; the replaced
//! database (and master key, when a different one is installed) is kept beside it.
//!
//! The key: an encrypted backup opens with `--key-file` when given, else with the appliance's
//! own master key (`VOXANNE_MASTER_KEY`, else `DATA_DIR/master.key`). A key given with
//! `--key-file` also becomes the appliance's key (`DATA_DIR/master.key`), because the secrets
//! stored inside the restored database can only be read with the key they were sealed with.

use super::sealed::{self, SealError};
use crate::app::DataDirLock;
use crate::config::Config;
use crate::crypto::{self, FileKey, MASTER_KEY_FILE};
use crate::error::{AppError, AppResult};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize)]
pub struct Restored {
    pub restored_from: String,
    pub encrypted: bool,
    pub previous_database_kept_at: Option<String>,
    /// Set when `--key-file` installed a new master key; the old one is kept here.
    pub previous_master_key_kept_at: Option<String>,
    pub master_key_installed: bool,
}

fn refuse(message: impl Into<String>) -> AppError {
    AppError::Validation(message.into())
}

/// Restores `src` into `config`'s data directory; `key_file` holds a master key (64 hex
/// characters or base64), or is `None` to use the appliance's own.
pub fn run(config: &Config, src: &Path, key_file: Option<&Path>) -> AppResult<Restored> {
    if !src.is_file() {
        return Err(refuse(format!("{} is not a file", src.display())));
    }
    let given = key_file
        .map(|f| crypto::read_key_file(f).map_err(refuse))
        .transpose()?;
    let own = crypto::configured_master_key(config).map_err(|e| refuse(e.to_string()))?;
    let encrypted = sealed::is_sealed(src)
        .map_err(|e| refuse(format!("cannot read {}: {e}", src.display())))?;
    if encrypted {
        check_key(src, given.as_ref(), own.as_ref(), key_file)?;
    }
    // A key to install: the given one, when it is not already the appliance's.
    let install = match (given, own) {
        (Some(g), Some(o)) if g == o => None,
        (Some(_), _) if config.master_key.is_some() => {
            return Err(refuse(
                "VOXANNE_MASTER_KEY is set to a different key than --key-file; set VOXANNE_MASTER_KEY to the backup's key instead",
            ))
        }
        (Some(g), _) => Some(g),
        (None, _) => None,
    };

    crate::private_files::create_dir_all(&config.data_dir)
        .map_err(|e| refuse(format!("VOXANNE_DATA_DIR: {e}")))?;
    let _lock = DataDirLock::acquire(&config.data_dir).map_err(|_| {
        refuse("a Voxanne server is running on this data directory; stop it first (systemctl stop voxanne)")
    })?;
    let staging = config.data_dir.join("voxanne.db.restoring");
    let staged = stage(src, &staging, given.or(own).as_ref(), encrypted).and_then(|_| {
        super::check_database_file(&staging).map_err(|e| {
            refuse(format!(
                "{} is not a usable backup: {}",
                src.display(),
                public(&e)
            ))
        })
    });
    if let Err(e) = staged {
        let _ = std::fs::remove_file(&staging);
        return Err(e);
    }
    let stamp = crate::clock::system_now()
        .format("%Y%m%dT%H%M%SZ")
        .to_string();
    let previous_master_key_kept_at = match install {
        Some(key) => install_key(&config.data_dir, &key, &stamp)?,
        None => None,
    };
    let previous_database_kept_at = swap_in(config, &staging, &stamp)?;
    Ok(Restored {
        restored_from: src.display().to_string(),
        encrypted,
        previous_database_kept_at,
        previous_master_key_kept_at,
        master_key_installed: install.is_some(),
    })
}

fn public(e: &AppError) -> String {
    match e {
        AppError::Internal(detail) => detail.to_string(),
        other => other.public_message(),
    }
}

/// Refuses an encrypted backup without the key that sealed it, before anything is touched.
fn check_key(
    src: &Path,
    given: Option<&[u8; 32]>,
    own: Option<&[u8; 32]>,
    key_file: Option<&Path>,
) -> AppResult<()> {
    let header = std::fs::File::open(src)
        .map_err(SealError::from)
        .and_then(|mut f| sealed::read_header(&mut f))
        .map_err(|e| refuse(format!("{}: {e}", src.display())))?;
    let Some(key) = given.or(own) else {
        return Err(refuse(format!(
            "{} is encrypted; give the master key it was made with: --key-file FILE",
            src.display()
        )));
    };
    if FileKey::from_master(key).id() != header.key_id {
        return Err(refuse(match key_file {
            Some(f) => format!(
                "the key in {} is not the master key that encrypted {}",
                f.display(),
                src.display()
            ),
            None => format!(
                "{} was encrypted with a different master key than this appliance's; give that key with --key-file FILE",
                src.display()
            ),
        }));
    }
    Ok(())
}

/// Puts the plaintext database at `staging` (readable by its owner only): decrypted, or copied.
fn stage(src: &Path, staging: &Path, key: Option<&[u8; 32]>, encrypted: bool) -> AppResult<()> {
    let _ = std::fs::remove_file(staging);
    let staged = copy_or_open(src, staging, key, encrypted);
    #[cfg(unix)]
    if staged.is_ok() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(staging, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| refuse(format!("cannot restrict {}: {e}", staging.display())))?;
    }
    staged
}

fn copy_or_open(
    src: &Path,
    staging: &Path,
    key: Option<&[u8; 32]>,
    encrypted: bool,
) -> AppResult<()> {
    if !encrypted {
        return std::fs::copy(src, staging)
            .map(|_| ())
            .map_err(|e| refuse(format!("cannot copy the backup: {e}")));
    }
    let key = key.ok_or_else(|| refuse("no key for the encrypted backup"))?;
    let input = std::fs::File::open(src)
        .map_err(|e| refuse(format!("cannot read {}: {e}", src.display())))?;
    let output = std::fs::File::create(staging)
        .map_err(|e| refuse(format!("cannot write {}: {e}", staging.display())))?;
    sealed::open(
        &FileKey::from_master(key),
        std::io::BufReader::new(input),
        std::io::BufWriter::new(output),
    )
    .map(|_| ())
    .map_err(|e| refuse(format!("{}: {e}", src.display())))
}

/// Makes `key` the appliance's master key file, keeping the old file beside it.
fn install_key(data_dir: &Path, key: &[u8; 32], stamp: &str) -> AppResult<Option<String>> {
    let path = data_dir.join(MASTER_KEY_FILE);
    let incoming = data_dir.join(format!("{MASTER_KEY_FILE}.restoring"));
    let _ = std::fs::remove_file(&incoming);
    crypto::write_key_file(&incoming, key)
        .map_err(|e| refuse(format!("cannot write {}: {e}", incoming.display())))?;
    let mut kept = None;
    if path.exists() {
        let aside = free_name(data_dir, MASTER_KEY_FILE, stamp);
        std::fs::rename(&path, &aside)
            .map_err(|e| refuse(format!("cannot move the old master key aside: {e}")))?;
        kept = Some(aside.display().to_string());
    }
    std::fs::rename(&incoming, &path)
        .map_err(|e| refuse(format!("cannot put the master key in place: {e}")))?;
    Ok(kept)
}

/// `<file>.before-restore-<stamp>`, numbered when a restore in the same second already
/// used it: a kept file is never overwritten.
fn free_name(dir: &Path, file: &str, stamp: &str) -> PathBuf {
    let base = format!("{file}.before-restore-{stamp}");
    std::iter::once(dir.join(&base))
        .chain((2u32..).map(|n| dir.join(format!("{base}-{n}"))))
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.join(format!("{base}-{}", crypto::random_token(6))))
}

/// Replaces the live database with the staged one; the old one (its WAL folded in) is kept.
fn swap_in(config: &Config, staging: &Path, stamp: &str) -> AppResult<Option<String>> {
    let db_path = config.db_path();
    let mut kept: Option<PathBuf> = None;
    if db_path.exists() {
        let aside = free_name(&config.data_dir, "voxanne.db", stamp);
        {
            // Fold the WAL in first so the kept copy is complete on its own.
            crate::store::fold_wal(&db_path)?;
        }
        std::fs::rename(&db_path, &aside)
            .map_err(|e| refuse(format!("cannot move the old database aside: {e}")))?;
        kept = Some(aside);
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(config.data_dir.join(format!("voxanne.db{suffix}")));
    }
    std::fs::rename(staging, &db_path)
        .map_err(|e| refuse(format!("cannot put the backup in place: {e}")))?;
    Ok(kept.map(|p| p.display().to_string()))
}
