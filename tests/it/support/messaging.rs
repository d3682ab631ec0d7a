//! Messaging helpers: Twilio credentials for a seeded clinic, running the outbox sender, and
//! scanning the database files for text that must never be stored.

use super::TestApp;
use voxanne::cli;
use voxanne::store::twilio_credentials::Input;

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
pub const FROM: &str = "+15005550006";
/// Clinic B's own texting number (each clinic needs its own).
pub const FROM_B: &str = "+15005550009";

impl TestApp {
    /// Gives the org Twilio credentials through `voxanne twilio set`.
    pub fn set_twilio(&self, org_id: i64) {
        cli::twilio_set(
            &self.config,
            Some(org_id),
            &Input {
                account_sid: ACCOUNT_SID,
                key_sid: None,
                secret: AUTH_TOKEN,
                from_number: Some(if org_id == self.a.org_id {
                    FROM
                } else {
                    FROM_B
                }),
                messaging_service_sid: None,
            },
        )
        .expect("twilio set");
    }

    /// Runs the outbox job (texts left mid-send looked up, then the sender) at the current
    /// (manual) time and waits until no text is mid-send, whether this pass or the background
    /// job took it.
    pub async fn drain_outbox(&self) {
        voxanne::service::outbox_reconcile::run_due(&self.state)
            .await
            .expect("outbox reconciliation");
        voxanne::service::messaging::run_due(&self.state)
            .await
            .expect("outbox run");
        for _ in 0..200 {
            if self.query_i64("SELECT COUNT(*) FROM outbox WHERE status = 'sending'", &[]) == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("a text stayed mid-send");
    }

    /// Texts the fake Twilio was asked to send (and accepted or refused), as (To, Body).
    pub fn texts(&self) -> Vec<(String, String)> {
        self.twilio
            .requests_to(&format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"))
            .iter()
            .filter(|r| r.method == "POST")
            .map(|r| {
                let form = r.form();
                let get = |k: &str| {
                    form.iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                (get("To"), get("Body"))
            })
            .collect()
    }

    /// Whether `needle` occurs in the database file or its WAL.
    pub fn db_files_contain(&self, needle: &[u8]) -> bool {
        let db = self.config.db_path();
        let mut wal = db.clone().into_os_string();
        wal.push("-wal");
        [db, wal.into()].iter().any(|p| {
            std::fs::read(p)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
    }
}

/// The six-digit code in a verification text.
pub fn code_in(body: &str) -> String {
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {body}"))
        .to_string()
}
