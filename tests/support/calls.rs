//! Vapi call events for the call-intelligence tests: the reference payloads
//! (`tests/fixtures/vapi/`, copied from reference/vapi.md) and builders for their variants.

use super::TestApp;
use serde_json::{json, Value};

/// The call id used by the reference payloads.
pub const REF_CALL: &str = "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11";

/// A reference payload by file name (without `.json`).
pub fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/vapi/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
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
