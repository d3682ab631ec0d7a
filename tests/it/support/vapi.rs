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
        let reply = serde_json::from_str(&text).unwrap_or(Value::String(text));
        super::conformance::record_reply(&self.test, path, body, status, &reply);
        (status, reply)
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

/// A `tool-calls` message from the caller [`CALLER`] as Vapi's SDK shapes it: nested items
/// whose `arguments` are a JSON string (an argument value that is not an object is sent as
/// given, for tests of malformed arguments) and a full `call`.
pub fn tool_calls(calls: &[(&str, &str, Value)]) -> Value {
    let list = calls
        .iter()
        .map(|(id, name, args)| {
            let arguments = match args {
                Value::Object(_) => Value::String(args.to_string()),
                other => other.clone(),
            };
            json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
        })
        .collect();
    message_with(list)
}

/// The same message with object `arguments`, as older payloads carried them.
pub fn legacy_tool_calls(calls: &[(&str, &str, Value)]) -> Value {
    let list = calls
        .iter()
        .map(|(id, name, args)| json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}}))
        .collect();
    message_with(list)
}

fn message_with(list: Vec<Value>) -> Value {
    json!({"message": {
        "type": "tool-calls",
        "timestamp": 1763676000123u64,
        "call": {
            "id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11",
            "orgId": "0f4b1d2e-aaaa-4bbb-8ccc-123456789abc",
            "createdAt": "2026-06-15T13:59:40.511Z", "updatedAt": "2026-06-15T14:00:00.002Z",
            "type": "inboundPhoneCall", "status": "in-progress",
            "phoneNumberId": "8e2d4f60-1111-4222-8333-444455556666",
            "customer": {"number": CALLER}
        },
        "customer": {"number": CALLER},
        "phoneNumber": {"provider": "twilio", "number": "+14155550100",
                        "twilioAccountSid": "AC0123456789abcdef0123456789abcdef"},
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
