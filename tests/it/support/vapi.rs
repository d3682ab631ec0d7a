//! Building Vapi requests the way Vapi sends them (docs/vapi.md §1.3) and posting them.

use super::TestApp;
use serde_json::{json, Value};

pub const CALLER: &str = "+14155550123";

impl TestApp {
    /// The org's current Vapi webhook secret.
    pub fn vapi_secret(&self, org_id: i64) -> String {
        let conn = rusqlite::Connection::open(self.config.db_path()).expect("db");
        let scope = voxanne::store::scope::operator_scope(&conn, org_id).expect("scope");
        voxanne::store::vapi_secrets::current(&conn, &self.state.vault, &scope).expect("secret")
    }

    /// Posts `body` to `path` with the org's secret as `X-Vapi-Secret`.
    pub async fn vapi_post(&self, path: &str, secret: &str, body: &Value) -> (u16, Value) {
        let res = reqwest::Client::new()
            .post(self.url(path))
            .header("x-vapi-secret", secret)
            .json(body)
            .send()
            .await
            .expect("post");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// One tool call on `/api/vapi/tools`; returns the single result (or error) string.
    pub async fn tool(
        &self,
        secret: &str,
        id: &str,
        name: &str,
        args: Value,
    ) -> Result<String, String> {
        let (status, body) = self
            .vapi_post("/api/vapi/tools", secret, &tool_calls(&[(id, name, args)]))
            .await;
        assert_eq!(status, 200, "{body}");
        let r = &body["results"][0];
        assert_eq!(r["toolCallId"], id);
        match (r["result"].as_str(), r["error"].as_str()) {
            (Some(s), None) => Ok(s.to_string()),
            (None, Some(e)) => Err(e.to_string()),
            _ => panic!("neither result nor error: {body}"),
        }
    }
}

/// A `tool-calls` message with nested items and object arguments, from the caller [`CALLER`].
pub fn tool_calls(calls: &[(&str, &str, Value)]) -> Value {
    let list: Vec<Value> = calls
        .iter()
        .map(|(id, name, args)| json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}}))
        .collect();
    json!({"message": {
        "type": "tool-calls",
        "timestamp": 1763676000123u64,
        "call": {"id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11", "type": "inboundPhoneCall", "status": "in-progress",
                 "customer": {"number": CALLER}},
        "customer": {"number": CALLER},
        "phoneNumber": {"provider": "twilio", "number": "+14155550100"},
        "toolCallList": list,
        "toolWithToolCallList": [],
        "artifact": {"messages": []}
    }})
}

/// The JSON data at the end of a result string ("sentence {json}").
pub fn data(result: &str) -> Value {
    let i = result
        .find('{')
        .unwrap_or_else(|| panic!("no data in {result}"));
    serde_json::from_str(&result[i..]).unwrap_or_else(|e| panic!("bad data in {result}: {e}"))
}
