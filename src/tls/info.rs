//! What a certificate says of itself, for `voxanne check`, the setup page and renewal: its
//! fingerprints, expiry and the names it covers.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertInfo {
    /// SHA-256 of the certificate, as browsers show it ("AB:CD:…").
    pub sha256: String,
    /// SHA-256 of the public key (SubjectPublicKeyInfo), base64: the pin that survives renewal.
    pub public_key_sha256: String,
    pub not_after: DateTime<Utc>,
    /// DNS names and addresses the certificate is valid for.
    pub names: Vec<String>,
}

impl CertInfo {
    pub fn of(der: &[u8]) -> CertInfo {
        let sha256 = Sha256::digest(der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        let (public_key_sha256, not_after, names) = match X509Certificate::from_der(der) {
            Ok((_, cert)) => {
                use base64::Engine as _;
                let spki = Sha256::digest(cert.public_key().raw);
                let not_after = DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
                    .unwrap_or_default();
                (
                    base64::engine::general_purpose::STANDARD.encode(spki),
                    not_after,
                    subject_names(&cert),
                )
            }
            Err(_) => (String::new(), DateTime::default(), Vec::new()),
        };
        CertInfo {
            sha256,
            public_key_sha256,
            not_after,
            names,
        }
    }

    pub fn days_left(&self, now: DateTime<Utc>) -> i64 {
        (self.not_after - now).num_days()
    }

    /// True when the certificate expires within [`super::RENEW_DAYS_BEFORE`] days or leaves
    /// out one of `wanted` (names compared without case).
    pub fn needs_renewal(&self, wanted: &[String], now: DateTime<Utc>) -> bool {
        self.days_left(now) < super::RENEW_DAYS_BEFORE
            || wanted
                .iter()
                .any(|w| !self.names.iter().any(|n| n.eq_ignore_ascii_case(w)))
    }
}

fn subject_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(d.to_string()),
            GeneralName::IPAddress(bytes) => ip_of(bytes).map(|ip| ip.to_string()),
            _ => None,
        })
        .collect()
}

fn ip_of(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}
