//! The names a self-signed certificate covers: this machine's loopback names, its host name
//! (and `NAME.local`, as other computers find it by mDNS), every address its network
//! interfaces have now, and any names the installer adds with `VOXANNE_TLS_NAMES`.

use std::net::IpAddr;

/// The names that do not depend on the network: loopback, the host name, the installer's.
pub fn fixed(extra: &[String]) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    if let Some(host) = host_name() {
        if !host.contains('.') {
            names.push(format!("{host}.local"));
        }
        names.push(host);
    }
    names.extend(extra.iter().cloned());
    dedup(names)
}

/// `fixed` plus every address the machine's interfaces have now (link-local ones left out:
/// a browser cannot use them without an interface name).
pub fn with_current_addresses(fixed: &[String]) -> Vec<String> {
    let mut names = fixed.to_vec();
    if let Ok(interfaces) = if_addrs::get_if_addrs() {
        names.extend(
            interfaces
                .iter()
                .map(|i| i.ip())
                .filter(|ip| !ip.is_loopback() && !is_link_local(ip))
                .map(|ip| ip.to_string()),
        );
    }
    dedup(names)
}

/// The name another computer of the network most likely reaches this one by: an IPv4
/// address of one of its interfaces, else a name that is not loopback.
pub fn for_other_computers(names: &[String]) -> Option<String> {
    let v4 = names.iter().find(|n| {
        n.parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| !ip.is_loopback() && !ip.is_link_local())
    });
    v4.or_else(|| {
        names
            .iter()
            .find(|n| n.parse::<IpAddr>().is_err() && *n != "localhost")
    })
    .cloned()
}

fn host_name() -> Option<String> {
    let uname = rustix::system::uname();
    let host = uname.nodename().to_str().ok()?.trim().to_ascii_lowercase();
    (!host.is_empty() && host != "localhost").then_some(host)
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

fn dedup(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let n = n.trim().to_string();
        if !n.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(&n)) {
            out.push(n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_extra_names_once_each() {
        let names = fixed(&["desk.clinic.test".into(), "LOCALHOST".into()]);
        assert_eq!(&names[..3], &["localhost", "127.0.0.1", "::1"]);
        assert_eq!(names.iter().filter(|n| *n == "desk.clinic.test").count(), 1);
        assert!(!names.iter().any(|n| n == "LOCALHOST"));
        let all = with_current_addresses(&names);
        assert!(all.starts_with(&names));
        assert!(!all.iter().any(|n| n.starts_with("fe80")));
    }
}
