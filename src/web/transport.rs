//! How a browser reached the dashboard: over HTTPS or not, from this machine or another, and
//! from which address. Cookie flags, HSTS, the redirect to https and the refusal of plain-http
//! sign-ins from other computers all follow from it (docs/front-desk.md).
//!
//! A reverse proxy on this machine (Caddy, nginx, `tailscale serve`, a tunnel) is trusted for
//! `X-Forwarded-Proto` and `X-Forwarded-For`; those headers from any other peer are ignored.

use crate::net::Encryption;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transport {
    /// The browser used https (to this listener, or to a proxy on this machine).
    pub https: bool,
    /// The browser runs on this machine.
    pub local: bool,
    /// The browser's address, as far as this machine can tell.
    pub client: IpAddr,
}

impl Transport {
    pub fn of(extensions: &Extensions, headers: &HeaderMap) -> Transport {
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let tls = extensions.get::<Encryption>() == Some(&Encryption::Tls);
        let peer_local = is_loopback(peer);
        if tls || !peer_local {
            return Transport {
                https: tls,
                local: peer_local,
                client: peer,
            };
        }
        // A peer on this machine: a browser, or a proxy that says whom it forwards for.
        let forwarded_proto = header(headers, "x-forwarded-proto")
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().eq_ignore_ascii_case("https"));
        let client = header(headers, "x-forwarded-for")
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
            .unwrap_or(peer);
        Transport {
            https: forwarded_proto.unwrap_or(false),
            local: is_loopback(client),
            client,
        }
    }

    /// A cookie's name for this transport: `__Host-` prefixed over https, where the prefix's
    /// rules (Secure, Path=/, no Domain) hold.
    pub fn cookie_name(self, base: &str) -> String {
        if self.https {
            format!("__Host-{base}")
        } else {
            base.to_string()
        }
    }

    /// Passwords may be typed here: over https, or in a browser on this machine.
    pub fn may_carry_passwords(self) -> bool {
        self.https || self.local
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Transport {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Transport::of(&parts.extensions, &parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(peer: &str, tls: bool, headers: &[(&'static str, &str)]) -> Transport {
        let mut ext = Extensions::new();
        ext.insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        ext.insert(if tls {
            Encryption::Tls
        } else {
            Encryption::Plain
        });
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, v.parse().unwrap());
        }
        Transport::of(&ext, &h)
    }

    #[test]
    fn the_connection_decides_unless_a_local_proxy_forwards() {
        let lan = transport("192.168.1.20:5000", false, &[]);
        assert!(!lan.https && !lan.local && !lan.may_carry_passwords());
        let lan_tls = transport("192.168.1.20:5000", true, &[]);
        assert!(lan_tls.https && !lan_tls.local && lan_tls.may_carry_passwords());
        assert_eq!(
            lan_tls.cookie_name("voxanne_session"),
            "__Host-voxanne_session"
        );
        let here = transport("127.0.0.1:5000", false, &[]);
        assert!(!here.https && here.local && here.may_carry_passwords());
        assert_eq!(here.cookie_name("voxanne_session"), "voxanne_session");
        let mapped = transport("[::ffff:127.0.0.1]:5000", false, &[]);
        assert!(mapped.local);
    }

    #[test]
    fn forwarded_headers_count_only_from_this_machine() {
        let proxied = transport(
            "127.0.0.1:5000",
            false,
            &[
                ("x-forwarded-proto", "https"),
                ("x-forwarded-for", "203.0.113.9, 192.168.1.20"),
            ],
        );
        assert!(proxied.https && !proxied.local);
        assert_eq!(proxied.client.to_string(), "192.168.1.20");
        let plain_proxy = transport(
            "127.0.0.1:5000",
            false,
            &[
                ("x-forwarded-proto", "http"),
                ("x-forwarded-for", "192.168.1.20"),
            ],
        );
        assert!(!plain_proxy.may_carry_passwords());
        let spoofed = transport(
            "192.168.1.20:5000",
            false,
            &[
                ("x-forwarded-proto", "https"),
                ("x-forwarded-for", "127.0.0.1"),
            ],
        );
        assert!(!spoofed.https && !spoofed.local);
        assert_eq!(spoofed.client.to_string(), "192.168.1.20");
    }
}
