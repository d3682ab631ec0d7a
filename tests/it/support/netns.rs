//! Another computer on the clinic's network, made on this machine: a network namespace joined
//! to the host by a veth pair. A program run inside it (`ip netns exec`) reaches the host at
//! `host_ip`, and the appliance sees it arrive from `own_ip`, which is not loopback.
//!
//! Needs root and iproute2; without them the test is skipped with a loud line, unless
//! `VOXANNE_REQUIRE_BROWSER=1` (CI), where it fails.

use super::browser::Netns;
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

pub struct OtherComputer {
    pub name: String,
    pub host_ip: Ipv4Addr,
    pub own_ip: Ipv4Addr,
    host_link: String,
}

impl OtherComputer {
    pub fn create() -> Option<OtherComputer> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let id = std::process::id() % 100_000;
        let subnet = ((std::process::id() + n) % 250) as u8;
        let pc = OtherComputer {
            name: format!("vxpc{id}-{n}"),
            host_ip: Ipv4Addr::new(10, 213, subnet, 1),
            own_ip: Ipv4Addr::new(10, 213, subnet, 2),
            host_link: format!("vxh{id}-{n}"),
        };
        let peer_link = format!("vxp{id}-{n}");
        let steps: Vec<Vec<String>> = vec![
            vec!["netns".into(), "add".into(), pc.name.clone()],
            vec![
                "link".into(),
                "add".into(),
                pc.host_link.clone(),
                "type".into(),
                "veth".into(),
                "peer".into(),
                "name".into(),
                peer_link.clone(),
            ],
            vec![
                "link".into(),
                "set".into(),
                peer_link.clone(),
                "netns".into(),
                pc.name.clone(),
            ],
            vec![
                "addr".into(),
                "add".into(),
                format!("{}/24", pc.host_ip),
                "dev".into(),
                pc.host_link.clone(),
            ],
            vec![
                "link".into(),
                "set".into(),
                pc.host_link.clone(),
                "up".into(),
            ],
        ];
        let inside: Vec<Vec<String>> = vec![
            vec![
                "addr".into(),
                "add".into(),
                format!("{}/24", pc.own_ip),
                "dev".into(),
                peer_link.clone(),
            ],
            vec!["link".into(), "set".into(), peer_link, "up".into()],
            vec!["link".into(), "set".into(), "lo".into(), "up".into()],
        ];
        for step in &steps {
            if let Err(e) = ip(step) {
                return skip_or_fail(&e);
            }
        }
        for step in &inside {
            let mut args = vec![
                "netns".to_string(),
                "exec".into(),
                pc.name.clone(),
                "ip".into(),
            ];
            args.extend(step.iter().cloned());
            if let Err(e) = ip(&args) {
                return skip_or_fail(&e);
            }
        }
        Some(pc)
    }

    /// Where the browser harness runs chromedriver for this computer.
    pub fn netns(&self) -> Netns {
        Netns {
            name: self.name.clone(),
            addr: IpAddr::V4(self.own_ip),
            allowed: IpAddr::V4(self.host_ip),
        }
    }
}

impl Drop for OtherComputer {
    fn drop(&mut self) {
        let _ = ip(&["link".into(), "del".into(), self.host_link.clone()]);
        let _ = ip(&["netns".into(), "del".into(), self.name.clone()]);
    }
}

fn ip(args: &[String]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn skip_or_fail(why: &str) -> Option<OtherComputer> {
    let require = std::env::var("VOXANNE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    assert!(
        !require,
        "cannot make a network namespace: {why} (VOXANNE_REQUIRE_BROWSER=1)"
    );
    eprintln!("\n!!!!!!!!!!\nSKIPPING: cannot make a network namespace: {why}\n!!!!!!!!!!");
    None
}
