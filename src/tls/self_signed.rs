//! The appliance's own certificate, for `VOXANNE_TLS=self-signed`: an ECDSA P-256 key made
//! once into `DATA_DIR/tls/self-signed.key` (owner-only) and a certificate for it valid for
//! [`VALID_DAYS`], reissued for the same key when it nears expiry or the machine's addresses
//! change. Browsers warn about it until the fingerprint is checked and trusted.

use super::KeyPair;
use chrono::{DateTime, Datelike, Duration, Utc};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Under the 398 days browsers accept for a server certificate.
pub const VALID_DAYS: i64 = 397;

pub const KEY_FILE: &str = "self-signed.key";
pub const CERT_FILE: &str = "self-signed.crt";

/// The certificate in `dir`, made or reissued first when it is missing, expiring, or leaves
/// out one of `names`.
pub fn ensure(dir: &Path, names: &[String], now: DateTime<Utc>) -> Result<KeyPair, String> {
    if let Some(pair) = read(dir) {
        let info = super::CertInfo::of(pair.chain[0].as_ref());
        if !info.needs_renewal(names, now) {
            return Ok(pair);
        }
    }
    reissue(dir, names, now)
}

/// A new certificate for `names`, signed with the key in `dir` (made first if there is none).
pub fn reissue(dir: &Path, names: &[String], now: DateTime<Utc>) -> Result<KeyPair, String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!("VOXANNE_TLS: cannot {what} in {}: {e}", dir.display())
    };
    crate::private_files::create_dir_all(dir).map_err(|e| fail("create the directory", &e))?;
    let key_path = dir.join(KEY_FILE);
    let key = match std::fs::read_to_string(&key_path) {
        Ok(pem) => rcgen::KeyPair::from_pem(&pem).map_err(|e| fail("read the key", &e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = rcgen::KeyPair::generate().map_err(|e| fail("make a key", &e))?;
            write_private(&key_path, &key.serialize_pem()).map_err(|e| fail("save the key", &e))?;
            key
        }
        Err(e) => return Err(fail("read the key", &e)),
    };
    let mut params =
        CertificateParams::new(names.to_vec()).map_err(|e| fail("name the certificate", &e))?;
    let mut subject = DistinguishedName::new();
    subject.push(DnType::OrganizationName, "Voxanne appliance");
    subject.push(
        DnType::CommonName,
        names
            .iter()
            .find(|n| n.contains('.') && n.parse::<std::net::IpAddr>().is_err())
            .or(names.first())
            .cloned()
            .unwrap_or_else(|| "localhost".into()),
    );
    params.distinguished_name = subject;
    let start = now - Duration::days(1);
    let end = now + Duration::days(VALID_DAYS);
    params.not_before = rcgen::date_time_ymd(start.year(), start.month() as u8, start.day() as u8);
    params.not_after = rcgen::date_time_ymd(end.year(), end.month() as u8, end.day() as u8);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params
        .self_signed(&key)
        .map_err(|e| fail("sign the certificate", &e))?;
    write_private(&dir.join(CERT_FILE), &cert.pem())
        .map_err(|e| fail("save the certificate", &e))?;
    read(dir).ok_or_else(|| fail("read back the certificate", &"unreadable"))
}

/// The certificate file's path, for `voxanne check` and the docs.
pub fn cert_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tls").join(CERT_FILE)
}

fn read(dir: &Path) -> Option<KeyPair> {
    let chain = vec![CertificateDer::from_pem_file(dir.join(CERT_FILE)).ok()?];
    let key = PrivateKeyDer::from_pem_file(dir.join(KEY_FILE)).ok()?;
    Some(KeyPair { chain, key })
}

/// Writes through a temporary file and a rename, so a crash never leaves half a file.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    crate::private_files::restrict(&tmp)?;
    std::fs::rename(&tmp, path)
}
