//! Vapi call events for the call-intelligence tests: the reference payloads
//! (`tests/fixtures/vapi/`, in the shapes of Vapi's SDK and checked against it; older shapes
//! still accepted in `legacy/`, see docs/vapi.md) and builders for their variants.

use super::vapi::data;
use super::TestApp;
use serde_json::{json, Value};

/// The call id used by the reference payloads.
pub const REF_CALL: &str = "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11";

/// The folder of the reference payloads.
pub fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vapi")
}

fn read_fixture(path: std::path::PathBuf) -> Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A reference payload in the SDK's shape, by file name (without `.json`).
pub fn fixture(name: &str) -> Value {
    read_fixture(fixtures_dir().join(format!("{name}.json")))
}

/// A payload in an older shape Vapi has sent and the appliance still reads (`legacy/`).
pub fn legacy_fixture(name: &str) -> Value {
    read_fixture(fixtures_dir().join(format!("legacy/{name}.json")))
}

/// `body` with `message.call.id` set to `id`.
pub fn with_call_id(mut body: Value, id: &str) -> Value {
    body["message"]["call"]["id"] = json!(id);
    body
}

/// An end-of-call report in the current shape: caller lines become `user` messages.
pub fn report(call_id: &str, caller: &str, lines: &[(&str, &str)], seconds: f64) -> Value {
    let transcript: Vec<String> = lines
        .iter()
        .map(|(who, said)| format!("{who}: {said}"))
        .collect();
    let messages: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (who, said))| {
            let role = if *who == "User" { "user" } else { "bot" };
            json!({"role": role, "message": said, "time": 1_781_532_000_000u64 + i as u64 * 1000, "secondsFromStart": i})
        })
        .collect();
    json!({"message": {
        "type": "end-of-call-report",
        "timestamp": 1_781_532_300_000u64,
        "endedReason": "customer-ended-call",
        "startedAt": "2026-06-15T14:00:00Z",
        "durationSeconds": seconds,
        "cost": 0.12,
        "call": {"id": call_id, "type": "inboundPhoneCall", "status": "in-progress",
                 "customer": {"number": caller}},
        "customer": {"number": caller},
        "phoneNumber": {"provider": "twilio", "number": "+14155550100"},
        "artifact": {"transcript": transcript.join("\n"), "messages": messages,
                     "recordingUrl": format!("https://storage.vapi.ai/{call_id}-mono.wav")},
        "analysis": {"summary": "Caller called the clinic.", "successEvaluation": "true"}
    }})
}

impl TestApp {
    /// Posts a server message to the webhook with the org's secret.
    pub async fn webhook(&self, secret: &str, body: &Value) -> (u16, Value) {
        self.vapi_post("/api/vapi/webhook", secret, body).await
    }

    /// A text column of the org's call with this Vapi id.
    pub fn call_text(&self, org_id: i64, call_id: &str, column: &str) -> Option<String> {
        let conn = rusqlite::Connection::open(self.config.db_path()).expect("db");
        conn.query_row(
            &format!("SELECT {column} FROM calls WHERE org_id = ?1 AND vapi_call_id = ?2"),
            rusqlite::params![org_id, call_id],
            |r| r.get(0),
        )
        .expect("call row")
    }

    pub fn call_i64(&self, org_id: i64, call_id: &str, column: &str) -> Option<i64> {
        let conn = rusqlite::Connection::open(self.config.db_path()).expect("db");
        conn.query_row(
            &format!("SELECT {column} FROM calls WHERE org_id = ?1 AND vapi_call_id = ?2"),
            rusqlite::params![org_id, call_id],
            |r| r.get(0),
        )
        .expect("call row")
    }
}

/// The calls pages' and API's clinics. Org A: a booked botox call from Dana Lee (hot), a
/// facelift enquiry (warm), an hours question on June 10 (cold), an outbound call in progress.
/// Org B: one botox enquiry.
pub async fn seed(app: &TestApp) {
    let a = app.vapi_secret(app.a.org_id);
    let hold = data(
        &app.tool(
            &a,
            "s1",
            "reserve_slot",
            json!({"date": "2026-06-16", "time": "12:00", "service": "botox", "patientName": "Dana Lee"}),
        )
        .await
        .unwrap(),
    );
    app.tool(
        &a,
        "s2",
        "book_appointment",
        json!({"holdId": hold["holdId"]}),
    )
    .await
    .unwrap();
    let hot = report(
        REF_CALL,
        "+14155550123",
        &[
            ("User", "I'd like to book botox tomorrow."),
            ("AI", "Booked for noon."),
        ],
        180.0,
    );
    let warm = report(
        "a-warm",
        "+14155550111",
        &[(
            "User",
            "How much is a facelift? I want to book a consultation soon.",
        )],
        200.0,
    );
    let mut cold = report(
        "a-cold",
        "+14155550122",
        &[("User", "What are your hours?")],
        15.0,
    );
    cold["message"]["startedAt"] = json!("2026-06-10T15:00:00Z");
    let out = json!({"message": {"type": "status-update", "status": "in-progress",
        "timestamp": 1_781_532_600_000u64,
        "call": {"id": "a-out", "type": "outboundPhoneCall"}, "customer": {"number": "+14155550133"}}});
    for body in [hot, warm, cold, out] {
        assert_eq!(app.webhook(&a, &body).await.0, 200);
    }
    let b = app.vapi_secret(app.b.org_id);
    let theirs = report(
        "b-1",
        "+447700900123",
        &[("User", "Is botox available Friday?")],
        90.0,
    );
    assert_eq!(app.webhook(&b, &theirs).await.0, 200);
}

pub fn call_id(app: &TestApp, vapi: &str) -> i64 {
    app.query_i64("SELECT id FROM calls WHERE vapi_call_id = ?1", &[&vapi])
}

pub fn contact_id(app: &TestApp, phone: &str) -> i64 {
    app.query_i64("SELECT id FROM contacts WHERE phone = ?1", &[&phone])
}
