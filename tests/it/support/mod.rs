//! The test harness: the real app on 127.0.0.1:0 with a temp data dir, two seeded clinics
//! with an owner and a staff member each, an injectable clock, cookie-keeping clients, and
//! fake Vapi and Twilio servers on loopback.
#![allow(dead_code)]

pub mod browser;
pub mod caller_ids;
pub mod calls;
pub mod conformance;
pub mod dashboard;
pub mod fake;
pub mod messaging;
pub mod netns;
pub mod smtp;
pub mod twilio_messages;
pub mod vapi;

use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use voxanne::app::{App, AppState};
use voxanne::cli::{self, NewAccount, NewClinic};
use voxanne::clock::{Clock, ManualClock};
use voxanne::config::Config;
use voxanne::store::staff::Role;

pub const PASSWORD: &str = "correct-horse-battery";
pub const MASTER_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";

#[derive(Clone)]
pub struct Seeded {
    pub org_id: i64,
    pub owner_email: &'static str,
    pub staff_email: &'static str,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub webhook_addr: SocketAddr,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
    pub config: Config,
    pub a: Seeded,
    pub b: Seeded,
    pub setup_url: Option<String>,
    pub twilio: fake::FakeServer,
    pub vapi: fake::FakeServer,
    /// The test running this app, which names what it records for the SDK check.
    pub test: String,
    extra: Vec<(&'static str, String)>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// A fixed, ordinary instant: Monday 2026-06-15 10:00 in New York.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 14, 0, 0)
        .single()
        .expect("valid instant")
}

pub struct Options {
    pub seed: bool,
    pub now: DateTime<Utc>,
    pub extra: Vec<(&'static str, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            seed: true,
            now: default_now(),
            extra: vec![],
        }
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Options::default()).await
    }

    /// An appliance with no clinic yet (the setup flow).
    pub async fn spawn_empty() -> TestApp {
        Self::spawn_with(Options {
            seed: false,
            ..Options::default()
        })
        .await
    }

    pub async fn spawn_with(options: Options) -> TestApp {
        Self::spawn_in(
            tempfile::tempdir().expect("temp dir"),
            options,
            None,
            Default::default(),
        )
        .await
    }

    /// Stops the app and starts a new one on the same data directory, as after a restart;
    /// the clock starts where it was.
    pub async fn restart(self) -> TestApp {
        let (a, b, now) = (self.a.clone(), self.b.clone(), self.clock.now());
        let extra = self.extra.clone();
        // Twilio keeps the texts it accepted across the appliance's restarts.
        let texts = self.twilio.messages.clone();
        let dir = self.stop().await;
        Self::spawn_in(
            dir,
            Options {
                seed: false,
                now,
                extra,
            },
            Some((a, b)),
            texts,
        )
        .await
    }

    async fn spawn_in(
        dir: tempfile::TempDir,
        options: Options,
        seeded: Option<(Seeded, Seeded)>,
        texts: std::sync::Arc<std::sync::Mutex<twilio_messages::MessageBook>>,
    ) -> TestApp {
        let twilio = fake::FakeServer::start_with(fake::twilio_default, texts).await;
        let vapi = fake::FakeServer::start_vapi().await;
        let mut values: BTreeMap<String, String> = [
            ("VOXANNE_DATA_DIR", dir.path().display().to_string()),
            ("VOXANNE_LISTEN", "127.0.0.1:0".to_string()),
            ("VOXANNE_MASTER_KEY", MASTER_KEY.to_string()),
            ("TWILIO_API_BASE", twilio.url()),
            ("VAPI_API_BASE", vapi.url()),
            ("VAPI_PRIVATE_KEY", "vapi-test-private-key".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (k, v) in &options.extra {
            values.insert(k.to_string(), v.clone());
        }
        let config = Config::from_values(&values).expect("test config");
        let (a, b) = if let Some(existing) = seeded {
            existing
        } else if options.seed {
            (
                seed(
                    &config,
                    "Alpha Clinic",
                    "America/New_York",
                    "owner@alpha.test",
                    "staff@alpha.test",
                    true,
                ),
                seed(
                    &config,
                    "Beta Clinic",
                    "Europe/London",
                    "owner@beta.test",
                    "staff@beta.test",
                    false,
                ),
            )
        } else {
            (
                Seeded {
                    org_id: 0,
                    owner_email: "",
                    staff_email: "",
                },
                Seeded {
                    org_id: 0,
                    owner_email: "",
                    staff_email: "",
                },
            )
        };
        let clock = ManualClock::new(options.now);
        twilio.messages.lock().expect("messages").clock = clock.clone();
        let app = App::open(config.clone(), clock.clone()).expect("app opens");
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .expect("bind");
        let webhook_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let webhook_addr = webhook_listener.local_addr().expect("addr");
        let state = app.state().clone();
        let setup_url = app
            .setup_url()
            .map(|u| u.replace("127.0.0.1:0", &addr.to_string()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(listener, Some(webhook_listener), async move {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            webhook_addr,
            state,
            clock,
            dir,
            config,
            a,
            b,
            setup_url,
            twilio,
            vapi,
            test: conformance::current_test(),
            extra: options.extra.clone(),
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Waits (up to 5 s) until no text is mid-attempt: a reply about a text comes as soon as
    /// Twilio has answered, and the attempt's record is written just after it.
    pub async fn texts_recorded(&self) {
        for _ in 0..500 {
            if self.query_i64("SELECT COUNT(*) FROM outbox WHERE status = 'sending'", &[]) == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("a text stayed mid-attempt for 5 s");
    }

    /// The dashboard listener's https side (with `VOXANNE_TLS` set).
    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}{}", self.addr, path)
    }

    /// A client like [`TestApp::client`] that trusts the appliance's self-signed certificate.
    pub fn https_client(&self) -> reqwest::Client {
        let pem = std::fs::read(voxanne::tls::self_signed::cert_path(self.dir.path()))
            .expect("the self-signed certificate");
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("PEM"))
            .build()
            .expect("client")
    }

    pub fn webhook_url(&self, path: &str) -> String {
        format!("http://{}{}", self.webhook_addr, path)
    }

    /// A client that keeps cookies and does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// Signs in and returns the client with its session and the page's CSRF token.
    pub async fn signed_in(&self, email: &str) -> (reqwest::Client, String) {
        let client = self.client();
        let res = self.login(&client, email, PASSWORD).await;
        assert_eq!(res.status(), 303, "login as {email} should succeed");
        let page = client
            .get(self.url("/account"))
            .send()
            .await
            .expect("account")
            .text()
            .await
            .expect("body");
        let csrf = extract_csrf(&page).expect("csrf token on the page");
        (client, csrf)
    }

    pub async fn login(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let page = client
            .get(self.url("/login"))
            .send()
            .await
            .expect("login page")
            .text()
            .await
            .expect("body");
        let csrf = extract_csrf(&page).expect("csrf on login page");
        client
            .post(self.url("/login"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("email", email),
                ("password", password),
            ])
            .send()
            .await
            .expect("login post")
    }

    /// Runs a read against the live database.
    pub fn query_i64(&self, sql: &str, params: &[&dyn rusqlite::ToSql]) -> i64 {
        let conn = rusqlite::Connection::open(self.config.db_path()).expect("open db");
        conn.query_row(sql, params, |r| r.get(0)).expect("query")
    }

    /// Stops the server gracefully and hands back the data dir, which outlives the app.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.dir
    }
}

fn seed(
    config: &Config,
    clinic: &str,
    tz: &str,
    owner: &'static str,
    staff: &'static str,
    first: bool,
) -> Seeded {
    let clinic_args = NewClinic {
        clinic,
        timezone: tz,
        clinic_type: "plastic-surgery",
    };
    let owner_account = NewAccount {
        email: owner,
        name: Some("Olivia Owner"),
        role: Role::Owner,
        password: PASSWORD,
    };
    let org_id = if first {
        cli::init(config, &clinic_args, &owner_account).expect("init")["org_id"]
            .as_i64()
            .expect("org id")
    } else {
        let id = cli::org_add(config, &clinic_args).expect("org add")["org_id"]
            .as_i64()
            .expect("org id");
        cli::user_add(config, Some(id), &owner_account).expect("owner");
        id
    };
    cli::user_add(
        config,
        Some(org_id),
        &NewAccount {
            email: staff,
            name: Some("Sam Staff"),
            role: Role::Staff,
            password: PASSWORD,
        },
    )
    .expect("staff");
    // The test clinics are running ones: their owner has reviewed the starting catalogue, so
    // the assistant quotes its prices. Tests of a new, unreviewed catalogue add a clinic.
    rusqlite::Connection::open(config.db_path())
        .and_then(|c| {
            c.execute(
                "UPDATE orgs SET catalogue_reviewed_at = created_at WHERE id = ?1",
                [org_id],
            )
        })
        .expect("catalogue reviewed");
    Seeded {
        org_id,
        owner_email: owner,
        staff_email: staff,
    }
}

/// The value of the first `csrf_token` hidden field in a page.
pub fn extract_csrf(html: &str) -> Option<String> {
    let i = html.find("name=\"csrf_token\" value=\"")?;
    let rest = &html[i + "name=\"csrf_token\" value=\"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}
