//! Rows written straight into the database for the dashboard's tests: calls, contacts and
//! appointments with chosen times, tiers and texts, so figures and pages can be checked exactly.

use super::TestApp;
use rusqlite::{params, Connection};

/// A call to insert; `Default` is an unbooked inbound call with no services.
#[derive(Clone, Default)]
pub struct NewCall<'a> {
    pub started_at: i64,
    pub booked: bool,
    pub outbound: bool,
    pub value_cents: i64,
    pub services: &'a [&'a str],
    pub duration_secs: i64,
    pub caller: &'a str,
    pub summary: &'a str,
    pub transcript: &'a str,
    pub tier: Option<&'a str>,
    pub contact_id: Option<i64>,
}

impl TestApp {
    pub fn db(&self) -> Connection {
        let conn = Connection::open(self.config.db_path()).expect("db");
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .expect("busy timeout");
        conn
    }

    pub fn exec(&self, sql: &str, p: &[&dyn rusqlite::ToSql]) {
        self.db().execute(sql, p).expect(sql);
    }

    /// Inserts a call; returns its id.
    pub fn insert_call(&self, org_id: i64, c: &NewCall<'_>) -> i64 {
        let conn = self.db();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM calls", [], |r| r.get(0))
            .expect("count");
        conn.execute(
            "INSERT INTO calls (org_id, vapi_call_id, type, status, customer_number, contact_id,
                 started_at, ended_at, duration_ms, summary, transcript, booked, value_cents,
                 services_json, lead_tier, lead_score, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'ended', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?6, ?6)",
            params![
                org_id,
                format!("call-{org_id}-{n}"),
                if c.outbound { "outbound" } else { "inbound" },
                if c.caller.is_empty() { "+14155550199" } else { c.caller },
                c.contact_id,
                c.started_at,
                c.started_at + c.duration_secs,
                c.duration_secs * 1000,
                (!c.summary.is_empty()).then_some(c.summary),
                (!c.transcript.is_empty()).then_some(c.transcript),
                c.booked,
                c.value_cents,
                serde_json::to_string(c.services).expect("json"),
                c.tier,
                c.tier.map(|t| match t {
                    "hot" => 80,
                    "warm" => 50,
                    _ => 10,
                }),
            ],
        )
        .expect("insert call");
        conn.last_insert_rowid()
    }

    /// Inserts a contact with an optional lead tier; returns its id.
    pub fn insert_contact(&self, org_id: i64, phone: &str, name: &str, tier: Option<&str>) -> i64 {
        let conn = self.db();
        conn.execute(
            "INSERT INTO contacts (org_id, phone, name, lead_tier, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 0, 0)",
            params![org_id, phone, name, tier],
        )
        .expect("insert contact");
        conn.last_insert_rowid()
    }

    /// The org's first calendar and service: (provider id, service id).
    pub fn first_provider_and_service(&self, org_id: i64) -> (i64, i64) {
        (
            self.query_i64(
                "SELECT MIN(id) FROM providers WHERE org_id = ?1",
                &[&org_id],
            ),
            self.query_i64("SELECT MIN(id) FROM services WHERE org_id = ?1", &[&org_id]),
        )
    }

    /// Inserts an appointment of `minutes` at `start` (unix seconds); returns its id.
    pub fn insert_appointment(
        &self,
        org_id: i64,
        contact_id: i64,
        start: i64,
        minutes: i64,
        status: &str,
    ) -> i64 {
        let (provider, service) = self.first_provider_and_service(org_id);
        let conn = self.db();
        conn.execute(
            "INSERT INTO appointments (org_id, provider_id, service_id, contact_id, start_at, end_at,
                 status, hold_expires_at, source, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'staff', 0, 0)",
            params![
                org_id,
                provider,
                service,
                contact_id,
                start,
                start + minutes * 60,
                status,
                (status == "held").then_some(start),
            ],
        )
        .expect("insert appointment");
        conn.last_insert_rowid()
    }
}
