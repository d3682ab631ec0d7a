//! A real SMTP server for the e-mail tests: `tests/smtp/server.py` (aiosmtpd) on loopback with
//! a test CA and a leaf certificate for 127.0.0.1 made here, reached through the clinic's
//! mailbox settings exactly as a clinic's server would be. It records every message and every
//! chunk of bytes it received (encrypted or not, carrying the password or not).

use super::TestApp;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use voxanne::store::email_settings::Input;

pub const USER: &str = "front@alpha.test";
pub const PASSWORD: &str = "app-pw-7c1e9b2d4f";
pub const FROM_A: &str = "front@alpha.test";
pub const FROM_B: &str = "desk@beta.test";

/// How the server answers, for failure tests.
#[derive(Default)]
pub struct Replies {
    /// The answer to every MAIL FROM.
    pub mail: Option<&'static str>,
    /// The answer to the first `times` messages, after which they are accepted.
    pub data: Option<(&'static str, u32)>,
}

pub struct SmtpServer {
    child: Child,
    dir: tempfile::TempDir,
    pub starttls_port: u16,
    pub tls_port: u16,
    pub plain_port: u16,
    /// The test CA the server's certificate is signed by.
    pub ca_pem: String,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/server.py")
}

/// A CA and a leaf for 127.0.0.1 signed by it: (CA PEM, leaf PEM, leaf key PEM).
fn certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Voxanne test mail CA");
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("leaf params")
        .signed_by(&leaf_key, &issuer)
        .expect("leaf");
    (ca.pem(), leaf.pem(), leaf_key.serialize_pem())
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        Self::start_with(Replies::default())
    }

    pub fn start_with(replies: Replies) -> SmtpServer {
        let dir = tempfile::tempdir().expect("smtp dir");
        let (ca_pem, leaf, key) = certificates();
        let (cert_path, key_path) = (dir.path().join("leaf.pem"), dir.path().join("leaf.key"));
        std::fs::write(&cert_path, leaf).expect("leaf");
        std::fs::write(&key_path, key).expect("key");
        let out = dir.path().join("out");
        let mut cmd = Command::new("python3");
        cmd.arg(script())
            .arg("--cert")
            .arg(&cert_path)
            .arg("--key")
            .arg(&key_path)
            .arg("--out")
            .arg(&out)
            .args(["--user", USER, "--password", PASSWORD]);
        if let Some(reply) = replies.mail {
            cmd.args(["--mail-reply", reply]);
        }
        if let Some((reply, times)) = replies.data {
            cmd.args([
                "--data-reply",
                reply,
                "--data-reply-times",
                &times.to_string(),
            ]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 tests/smtp/server.py (needs aiosmtpd==1.4.6, see .ci/run)");
        let ready = out.join("ready.json");
        for _ in 0..300 {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                let ports: Value = serde_json::from_str(&text).expect("ports");
                let port = |k: &str| ports[k].as_u64().expect("port") as u16;
                return SmtpServer {
                    starttls_port: port("starttls"),
                    tls_port: port("tls"),
                    plain_port: port("plain"),
                    child,
                    dir,
                    ca_pem,
                };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the SMTP test server did not start within 6 s");
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Every message received, raw, in order.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.out().join("messages"))
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("message"))
            .collect()
    }

    /// What the server recorded: `bytes`, `auth`, `message` and `refused` events.
    pub fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.out().join("events.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("event"))
            .collect()
    }

    pub fn events_of(&self, kind: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["kind"] == kind)
            .collect()
    }

    /// The mailbox settings that reach this server on `port` with `tls`.
    pub fn input<'a>(&'a self, port: &'a str, tls: &'a str, from: &'a str) -> Input<'a> {
        Input {
            host: "127.0.0.1",
            port,
            tls,
            username: USER,
            password: PASSWORD,
            from_address: from,
            from_name: None,
            ca_pem: Some(&self.ca_pem),
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestApp {
    /// Gives the org this server as its mailbox (STARTTLS) through `voxanne email set`'s code.
    pub fn set_email(&self, org_id: i64, server: &SmtpServer) {
        let from = if org_id == self.a.org_id {
            FROM_A
        } else {
            FROM_B
        };
        let port = server.starttls_port.to_string();
        voxanne::cli::email_set(
            &self.config,
            Some(org_id),
            &server.input(&port, "starttls", from),
        )
        .expect("email set");
    }

    /// Runs the mail sender at the current (manual) time.
    pub async fn drain_mail(&self) {
        voxanne::service::mailing::run_due(&self.state)
            .await
            .expect("mail run");
        for _ in 0..400 {
            if self.query_i64(
                "SELECT COUNT(*) FROM email_outbox WHERE status = 'sending'",
                &[],
            ) == 0
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("an e-mail stayed mid-send");
    }
}

/// The `text/calendar` part of a raw message, decoded, and its Content-Type header line.
pub fn calendar_part(raw: &str) -> Option<(String, String)> {
    part(raw, "text/calendar")
}

/// The plain-text part of a raw message, decoded.
pub fn text_part(raw: &str) -> Option<String> {
    part(raw, "text/plain").map(|(_, body)| body)
}

/// The first part of type `mime` in a raw message: its Content-Type line and decoded body.
pub fn part(raw: &str, mime: &str) -> Option<(String, String)> {
    let wanted = format!("content-type: {mime}");
    let unfolded = raw.replace("\r\n", "\n");
    for part in unfolded.split("\n--") {
        let Some((head, body)) = part.split_once("\n\n") else {
            continue;
        };
        let head = head.replace("\n ", " ").replace("\n\t", " ");
        let head_lower = head.to_ascii_lowercase();
        let Some(ct) = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&wanted))
        else {
            continue;
        };
        let body = body.trim_end_matches(['\n', '-']);
        let decoded = if head_lower.contains("content-transfer-encoding: base64") {
            use base64::Engine;
            let joined: String = body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .expect("base64 part"),
            )
            .expect("utf-8")
        } else if head_lower.contains("content-transfer-encoding: quoted-printable") {
            decode_qp(body)
        } else {
            body.to_string()
        };
        return Some((ct.to_string(), decoded));
    }
    None
}

fn decode_qp(s: &str) -> String {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if i + 1 < bytes.len() && bytes[i + 1] == b'\n' => i += 2,
            b'=' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("3F");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'\n' => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A header's value in a raw message (the first occurrence, unfolded).
pub fn header(raw: &str, name: &str) -> Option<String> {
    let unfolded = raw.replace("\r\n ", " ").replace("\r\n\t", " ");
    let prefix = format!("{}:", name.to_ascii_lowercase());
    unfolded
        .lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_string())
}
