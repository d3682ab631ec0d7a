//! The dashboard listener's own HTTPS, so staff on other computers of the clinic's network
//! sign in over an encrypted connection (docs/front-desk.md). The certificate comes from
//! `VOXANNE_TLS_CERT_FILE`/`VOXANNE_TLS_KEY_FILE` (re-read when the files change, as after a
//! renewal), or with `VOXANNE_TLS=self-signed` is made by the appliance into
//! `DATA_DIR/tls/` ([`self_signed`]) and renewed before it expires, always with the same key
//! so a browser or test that trusts the public key keeps trusting it.
//!
//! The certificate in use is swapped in place ([`Current`]); connections already open keep
//! theirs, new handshakes get the new one.

mod info;
pub mod names;
pub mod self_signed;

pub use info::CertInfo;

use crate::config::TlsSetting;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{crypto::ring, ServerConfig};

/// A self-signed certificate is renewed when fewer days than this are left.
pub const RENEW_DAYS_BEFORE: i64 = 30;

/// The HTTPS side of the dashboard listener.
pub struct Tls {
    current: Arc<Current>,
    config: Arc<ServerConfig>,
    source: Source,
}

enum Source {
    SelfSigned {
        dir: PathBuf,
        names: Vec<String>,
    },
    Files {
        cert: PathBuf,
        key: PathBuf,
        /// The files' modification times when last loaded.
        loaded: Mutex<(Option<SystemTime>, Option<SystemTime>)>,
    },
}

impl Tls {
    /// Loads (or, self-signed, makes) the certificate the setting names; `None` when TLS is off.
    pub fn load(
        setting: &TlsSetting,
        data_dir: &Path,
        now: DateTime<Utc>,
    ) -> Result<Option<Arc<Tls>>, String> {
        let (source, loaded) = match setting {
            TlsSetting::Off => return Ok(None),
            TlsSetting::SelfSigned { names } => {
                let dir = data_dir.join("tls");
                let names = names::fixed(names);
                let pair = self_signed::ensure(&dir, &names::with_current_addresses(&names), now)?;
                (Source::SelfSigned { dir, names }, pair)
            }
            TlsSetting::Files { cert, key } => {
                let pair = read_pem_files(cert, key)?;
                let stamps = (modified(cert), modified(key));
                (
                    Source::Files {
                        cert: cert.clone(),
                        key: key.clone(),
                        loaded: Mutex::new(stamps),
                    },
                    pair,
                )
            }
        };
        let current = Arc::new(Current(RwLock::new(Arc::new(loaded.certified()?))));
        let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(Arc::new(Tls {
            current,
            config: Arc::new(config),
            source,
        })))
    }

    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config.clone())
    }

    /// What the certificate in use says of itself.
    pub fn info(&self) -> CertInfo {
        let key = self.current.get();
        CertInfo::of(key.cert.first().map(|c| c.as_ref()).unwrap_or_default())
    }

    /// Renews a self-signed certificate that is close to expiry or no longer names this
    /// machine's addresses; re-reads certificate files that changed. True when the
    /// certificate in use changed. A failure leaves the current certificate in place.
    pub fn refresh(&self, now: DateTime<Utc>) -> Result<bool, String> {
        let fresh = match &self.source {
            Source::SelfSigned { dir, names } => {
                let wanted = names::with_current_addresses(names);
                if !self.info().needs_renewal(&wanted, now) {
                    return Ok(false);
                }
                self_signed::reissue(dir, &wanted, now)?
            }
            Source::Files { cert, key, loaded } => {
                let stamps = (modified(cert), modified(key));
                let mut last = loaded
                    .lock()
                    .map_err(|_| "TLS: state poisoned".to_string())?;
                if *last == stamps {
                    return Ok(false);
                }
                let pair = read_pem_files(cert, key)?;
                *last = stamps;
                pair
            }
        };
        self.current.set(Arc::new(fresh.certified()?));
        Ok(true)
    }
}

/// A certificate chain and its private key, as DER.
pub struct KeyPair {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl KeyPair {
    fn certified(&self) -> Result<CertifiedKey, String> {
        let signing = ring::sign::any_supported_type(&self.key)
            .map_err(|e| format!("TLS: the private key cannot be used: {e}"))?;
        let certified = CertifiedKey::new(self.chain.clone(), signing);
        certified
            .keys_match()
            .map_err(|_| "TLS: the private key does not belong to the certificate".to_string())?;
        Ok(certified)
    }
}

fn read_pem_files(cert: &Path, key: &Path) -> Result<KeyPair, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            format!(
                "VOXANNE_TLS_CERT_FILE: cannot read a PEM certificate from {}: {e}",
                cert.display()
            )
        })?;
    if chain.is_empty() {
        return Err(format!(
            "VOXANNE_TLS_CERT_FILE: {} holds no certificate",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        format!(
            "VOXANNE_TLS_KEY_FILE: cannot read a PEM private key from {}: {e}",
            key.display()
        )
    })?;
    Ok(KeyPair { chain, key })
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The certificate handed to new handshakes, swapped when it is renewed.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl Current {
    fn get(&self) -> Arc<CertifiedKey> {
        match self.0.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set(&self, key: Arc<CertifiedKey>) {
        match self.0.write() {
            Ok(mut k) => *k = key,
            Err(poisoned) => *poisoned.into_inner() = key,
        }
    }
}

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
    }

    #[test]
    fn self_signed_is_made_once_and_renewed_with_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let setting = TlsSetting::SelfSigned {
            names: vec!["front-desk.clinic.test".into()],
        };
        let tls = Tls::load(&setting, dir.path(), now()).unwrap().unwrap();
        let first = tls.info();
        assert!(first.names.iter().any(|n| n == "front-desk.clinic.test"));
        assert!(first.names.iter().any(|n| n == "localhost"));
        assert!(first.names.iter().any(|n| n == "127.0.0.1"));
        // A restart reuses the files: same certificate.
        let again = Tls::load(&setting, dir.path(), now()).unwrap().unwrap();
        assert_eq!(again.info().sha256, first.sha256);
        // Nothing to do while far from expiry.
        assert!(!tls.refresh(now()).unwrap());
        // Close to expiry: a new certificate with the same public key.
        let late = first.not_after - chrono::Duration::days(RENEW_DAYS_BEFORE - 1);
        assert!(tls.refresh(late).unwrap());
        let renewed = tls.info();
        assert_ne!(renewed.sha256, first.sha256);
        assert_eq!(renewed.public_key_sha256, first.public_key_sha256);
        assert!(renewed.not_after > first.not_after);
        // And the renewal is what the next start loads.
        let restarted = Tls::load(&setting, dir.path(), late).unwrap().unwrap();
        assert_eq!(restarted.info().sha256, renewed.sha256);
    }

    #[test]
    fn certificate_files_are_checked_and_reloaded_when_they_change() {
        let dir = tempfile::tempdir().unwrap();
        let make = |name: &str| {
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(vec![name.to_string()])
                .unwrap()
                .self_signed(&key)
                .unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let (cert_pem, key_pem) = make("one.clinic.test");
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, &cert_pem).unwrap();
        std::fs::write(&key, &key_pem).unwrap();
        let setting = TlsSetting::Files {
            cert: cert.clone(),
            key: key.clone(),
        };
        let tls = Tls::load(&setting, dir.path(), now()).unwrap().unwrap();
        assert_eq!(tls.info().names, vec!["one.clinic.test".to_string()]);
        assert!(!tls.refresh(now()).unwrap());

        // A key of another certificate is refused, and the one in use stays.
        let (other_cert, other_key) = make("two.clinic.test");
        std::fs::write(&key, &other_key).unwrap();
        let err = Tls::load(&setting, dir.path(), now()).err().unwrap();
        assert!(err.contains("does not belong"), "{err}");
        bump_mtime(&key);
        assert!(tls.refresh(now()).is_err());
        assert_eq!(tls.info().names, vec!["one.clinic.test".to_string()]);

        // Both files renewed: picked up.
        std::fs::write(&cert, &other_cert).unwrap();
        bump_mtime(&cert);
        assert!(tls.refresh(now()).unwrap());
        assert_eq!(tls.info().names, vec!["two.clinic.test".to_string()]);

        // Not PEM at all: a clear error naming the setting.
        std::fs::write(&cert, "not a certificate").unwrap();
        let err = Tls::load(&setting, dir.path(), now()).err().unwrap();
        assert!(err.starts_with("VOXANNE_TLS_CERT_FILE:"), "{err}");
    }

    /// Moves a file's modification time forward, as a rewrite a few seconds later would.
    fn bump_mtime(path: &Path) {
        let later = modified(path).unwrap() + std::time::Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(later)
            .unwrap();
    }
}
