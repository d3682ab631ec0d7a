//! The vault (AES-256-GCM, each ciphertext bound by associated data to its org and row),
//! password hashing (argon2id) and random tokens. Nothing here does I/O except loading or
//! creating the master key file.

use crate::config::{Config, ConfigError};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

pub const MASTER_KEY_FILE: &str = "master.key";
/// A rotation's new key, waiting beside the old one until the database is re-sealed.
pub const NEXT_MASTER_KEY_FILE: &str = "master.key.next";
const VAULT_VERSION: u8 = 1;

/// Encrypts and decrypts secrets at rest. The associated data names what a ciphertext belongs
/// to (org, table, row, field), so a ciphertext copied into another row fails to decrypt.
#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
    file_key: FileKey,
    signing_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the stored secret could not be decrypted (wrong master key, or it belongs to another record)")]
    Decrypt,
    #[error("the stored secret is malformed")]
    Malformed,
}

/// Where a secret lives; the vault binds the ciphertext to exactly this.
pub struct SecretSlot<'a> {
    pub org_id: i64,
    pub table: &'a str,
    pub row: &'a str,
    pub field: &'a str,
}

impl SecretSlot<'_> {
    fn aad(&self) -> Vec<u8> {
        format!(
            "voxanne/v1/{}/{}/{}/{}",
            self.org_id, self.table, self.row, self.field
        )
        .into_bytes()
    }
}

impl Vault {
    pub fn from_key(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
            file_key: FileKey::from_master(key),
            signing_key: derive(key, b"voxanne/signing-key/v1"),
        }
    }

    /// An HMAC-SHA256 of `message` under a key derived from the master key, for values the
    /// appliance hands out and must recognise later (remembered browsers).
    pub fn sign(&self, message: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.signing_key)
            .expect("HMAC accepts a key of any length");
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// The key that seals whole files (encrypted backups) under this master key.
    pub fn file_key(&self) -> &FileKey {
        &self.file_key
    }

    /// Loads the master key from configuration, else from `DATA_DIR/master.key`, creating that
    /// file (mode 0600) on first start. Returns the vault and whether a key was just generated.
    pub fn load_or_create(config: &Config) -> Result<(Self, bool), ConfigError> {
        if let Some(key) = configured_master_key(config)? {
            return Ok((Self::from_key(&key), false));
        }
        let path = config.data_dir.join(MASTER_KEY_FILE);
        let key = generate_key();
        write_key_file(&path, &key).map_err(|e| {
            ConfigError::new(
                "VOXANNE_DATA_DIR",
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
        Ok((Self::from_key(&key), true))
    }

    pub fn encrypt(&self, slot: &SecretSlot<'_>, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = slot.aad();
        // Encryption with a valid key and a 12-byte nonce cannot fail for inputs this size.
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + 12 + sealed.len());
        out.push(VAULT_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn decrypt(&self, slot: &SecretSlot<'_>, stored: &[u8]) -> Result<Vec<u8>, VaultError> {
        if stored.len() < 1 + 12 + 16 || stored[0] != VAULT_VERSION {
            return Err(VaultError::Malformed);
        }
        let aad = slot.aad();
        self.cipher
            .decrypt(
                Nonce::from_slice(&stored[1..13]),
                Payload {
                    msg: &stored[13..],
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Decrypt)
    }

    pub fn encrypt_str(&self, slot: &SecretSlot<'_>, plaintext: &str) -> Vec<u8> {
        self.encrypt(slot, plaintext.as_bytes())
    }

    pub fn decrypt_str(&self, slot: &SecretSlot<'_>, stored: &[u8]) -> Result<String, VaultError> {
        String::from_utf8(self.decrypt(slot, stored)?).map_err(|_| VaultError::Malformed)
    }
}

/// The key for whole files (backups), derived from the master key with HMAC-SHA256 under a
/// fixed label, so file ciphertexts and vault ciphertexts never share a key. Its id (a second
/// derivation, not the key) is written in a file's header so that a restore can say "wrong
/// key" rather than "corrupt file".
#[derive(Clone)]
pub struct FileKey {
    cipher: Aes256Gcm,
    id: [u8; 8],
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileKey(id {})", hex::encode(self.id))
    }
}

impl FileKey {
    pub fn from_master(master: &[u8; 32]) -> Self {
        let key = derive(master, b"voxanne/file-key/v1");
        let id = derive(master, b"voxanne/file-key-id/v1");
        let mut short = [0u8; 8];
        short.copy_from_slice(&id[..8]);
        Self {
            cipher: Aes256Gcm::new((&key).into()),
            id: short,
        }
    }

    pub fn id(&self) -> [u8; 8] {
        self.id
    }

    pub fn cipher(&self) -> &Aes256Gcm {
        &self.cipher
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    // HMAC takes keys of any length, so this cannot fail for a 32-byte key.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(master).expect("HMAC accepts a key of any length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// The master key from configuration, else from `DATA_DIR/master.key`; `None` when neither
/// exists yet (nothing is created here).
pub fn configured_master_key(config: &Config) -> Result<Option<[u8; 32]>, ConfigError> {
    if let Some(secret) = &config.master_key {
        return decode_key(secret.expose())
            .map(Some)
            .map_err(|m| ConfigError::new("VOXANNE_MASTER_KEY", m));
    }
    let path = config.data_dir.join(MASTER_KEY_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ConfigError::new(
            "VOXANNE_MASTER_KEY_FILE",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    decode_key(text.trim()).map(Some).map_err(|m| {
        ConfigError::new(
            "VOXANNE_MASTER_KEY_FILE",
            format!("{}: {m}", path.display()),
        )
    })
}

/// Accepts 64 hex characters or base64 of exactly 32 bytes.
pub fn decode_key(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|_| "not valid hex".to_string())?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| {
                "the master key must be 64 hex characters or base64 of 32 bytes".to_string()
            })?
    };
    bytes.try_into().map_err(|b: Vec<u8>| {
        format!(
            "the master key must be 32 bytes (64 hex characters), got {} bytes",
            b.len()
        )
    })
}

/// A fresh random 32-byte key.
pub fn generate_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

/// Writes `key` as hex to a new file readable by its owner only (0600), flushed to disk.
/// Refuses to overwrite an existing file.
pub fn write_key_file(path: &Path, key: &[u8; 32]) -> std::io::Result<()> {
    write_private(path, &hex::encode(key))
}

/// Reads a key file written by [`write_key_file`] (or by hand: 64 hex or base64).
pub fn read_key_file(path: &Path) -> Result<[u8; 32], String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    decode_key(text.trim()).map_err(|m| format!("{}: {m}", path.display()))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

fn argon2() -> Argon2<'static> {
    // OWASP minimum for argon2id: m=19456 KiB, t=2, p=1.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// An argon2id PHC string for a password (or a verification code).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as a real verification, so an unknown account answers like a wrong password.
pub fn burn_password_check(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password("voxanne-dummy-password"));
    let _ = verify_password(password, phc);
}

/// A URL-safe random token with `bytes` of entropy.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// A uniformly random code of `digits` decimal digits (leading zeros kept), from the OS RNG.
pub fn random_digits(digits: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    (0..digits)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// SHA-256 of a token, hex: what we store instead of session ids and API tokens.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(org_id: i64, row: &str) -> SecretSlot<'_> {
        SecretSlot {
            org_id,
            table: "twilio_credentials",
            row,
            field: "auth_token",
        }
    }

    #[test]
    fn round_trip_and_binding() {
        let vault = Vault::from_key(&[7u8; 32]);
        let sealed = vault.encrypt_str(&slot(1, "1"), "tok_secret");
        assert_eq!(
            vault.decrypt_str(&slot(1, "1"), &sealed).unwrap(),
            "tok_secret"
        );
        assert!(vault.decrypt_str(&slot(2, "1"), &sealed).is_err());
        assert!(vault.decrypt_str(&slot(1, "2"), &sealed).is_err());
        let other = Vault::from_key(&[8u8; 32]);
        assert!(other.decrypt_str(&slot(1, "1"), &sealed).is_err());
        assert!(vault.decrypt_str(&slot(1, "1"), &sealed[..10]).is_err());
    }

    #[test]
    fn file_key_is_derived_not_the_master_key() {
        let master = [7u8; 32];
        let a = FileKey::from_master(&master);
        assert_eq!(a.id(), FileKey::from_master(&master).id());
        assert_ne!(a.id(), FileKey::from_master(&[8u8; 32]).id());
        // The vault's key cannot open what the file key sealed.
        let nonce = Nonce::from_slice(&[0u8; 12]);
        let sealed = a.cipher().encrypt(nonce, &b"backup"[..]).unwrap();
        assert!(Aes256Gcm::new((&master).into())
            .decrypt(nonce, sealed.as_slice())
            .is_err());
    }

    #[test]
    fn key_decoding() {
        assert!(decode_key(&"ab".repeat(32)).is_ok());
        let b64 = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        assert!(decode_key(&b64).is_ok());
        assert!(decode_key("abcd").unwrap_err().contains("32 bytes"));
    }

    #[test]
    fn passwords() {
        let phc = hash_password("correct horse");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("wrong", &phc));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = random_token(32);
        assert!(a.len() >= 43);
        assert_ne!(a, random_token(32));
        assert_eq!(token_hash("x").len(), 64);
    }
}
