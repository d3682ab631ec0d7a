//! Remembered browsers: a successful sign-in sets a signed cookie for that account, and a
//! browser that shows one is exempt from the account's sign-in locks (only its own failures
//! count against it). One cookie per account, so a shared front-desk computer remembers every
//! member of staff who signed in on it. Rotating the master key forgets every browser.

use crate::crypto::{self, Vault};
use axum::http::HeaderMap;
use base64::Engine;

const MAX_AGE_DAYS: i64 = 180;

/// The cookie's name for `email`: a short digest, so the name shows no address.
pub fn cookie_name(email: &str, https: bool) -> String {
    let digest = &crypto::token_hash(email)[..12];
    if https {
        format!("__Host-voxanne_device_{digest}")
    } else {
        format!("voxanne_device_{digest}")
    }
}

/// A `Set-Cookie` value remembering this browser for `email`, signed at `now` (unix seconds).
pub fn set_cookie(vault: &Vault, email: &str, now: i64, https: bool) -> String {
    let value = format!("{now}.{}", signature(vault, email, now));
    crate::web::session::set_cookie(
        &cookie_name(email, https),
        &value,
        https,
        Some(MAX_AGE_DAYS * 24 * 3600),
    )
}

/// The remembered browser's id (its signature) when the request carries a valid, unexpired
/// cookie for `email`.
pub fn recognise(
    vault: &Vault,
    headers: &HeaderMap,
    email: &str,
    now: i64,
    https: bool,
) -> Option<String> {
    let value = crate::web::session::cookie(headers, &cookie_name(email, https))?;
    let (issued, given) = value.split_once('.')?;
    let issued: i64 = issued.parse().ok()?;
    if issued > now + 60 || now - issued > MAX_AGE_DAYS * 24 * 3600 {
        return None;
    }
    let expected = signature(vault, email, issued);
    crypto::constant_time_eq(expected.as_bytes(), given.as_bytes()).then_some(expected)
}

fn signature(vault: &Vault, email: &str, issued: i64) -> String {
    let mac = vault.sign(format!("device/v1\n{email}\n{issued}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&mac[..18])
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    fn headers_with(set_cookie: &str) -> HeaderMap {
        let pair = set_cookie.split(';').next().unwrap();
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, pair.parse().unwrap());
        h
    }

    #[test]
    fn a_cookie_is_recognised_for_its_account_only_and_until_it_expires() {
        let vault = Vault::from_key(&[7u8; 32]);
        let now = 1_800_000_000;
        let c = set_cookie(&vault, "a@x.test", now, false);
        let h = headers_with(&c);
        assert!(recognise(&vault, &h, "a@x.test", now + 10, false).is_some());
        assert!(recognise(&vault, &h, "b@x.test", now + 10, false).is_none());
        let late = now + (MAX_AGE_DAYS + 1) * 24 * 3600;
        assert!(recognise(&vault, &h, "a@x.test", late, false).is_none());
        let other = Vault::from_key(&[8u8; 32]);
        assert!(recognise(&other, &h, "a@x.test", now, false).is_none());
        let forged = headers_with(&c.replace(&now.to_string(), &(now + 1).to_string()));
        assert!(recognise(&vault, &forged, "a@x.test", now + 10, false).is_none());
    }
}
