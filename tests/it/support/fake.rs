//! A tiny in-process HTTP server standing in for Vapi or Twilio: it records every request and
//! answers from a script (queued responses per path prefix, else the service's default).

use super::twilio_messages::MessageBook;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn form(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_str(&self.body).unwrap_or_default()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

pub type Default = fn(&Recorded) -> (u16, String);
type Script = Vec<(String, VecDeque<(u16, String)>)>;

#[derive(Clone)]
struct Shared {
    recorded: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<Script>>,
    default: Default,
    caller_ids: Arc<Mutex<super::caller_ids::CallerIdBook>>,
    messages: Arc<Mutex<MessageBook>>,
    /// The test whose bodies are kept for the SDK check (`support::conformance`); the fake
    /// Vapi's only.
    conformance: Option<String>,
}

pub struct FakeServer {
    pub addr: SocketAddr,
    shared: Shared,
    /// Twilio's caller-ID verifications and verified caller IDs (see `support::caller_ids`).
    pub caller_ids: Arc<Mutex<super::caller_ids::CallerIdBook>>,
    /// Twilio's texts: those it accepted, and the Messages list (see `support::twilio_messages`).
    pub messages: Arc<Mutex<MessageBook>>,
}

impl FakeServer {
    pub async fn start(default: Default) -> FakeServer {
        Self::start_with(default, Arc::default()).await
    }

    /// The fake Vapi: every body the appliance sends it is also kept for the SDK check.
    pub async fn start_vapi() -> FakeServer {
        Self::start_shared(
            vapi_default,
            Arc::default(),
            Some(super::conformance::current_test()),
        )
        .await
    }

    /// A fake that keeps (and lists) texts in `messages`, which may outlive it.
    pub async fn start_with(default: Default, messages: Arc<Mutex<MessageBook>>) -> FakeServer {
        Self::start_shared(default, messages, None).await
    }

    async fn start_shared(
        default: Default,
        messages: Arc<Mutex<MessageBook>>,
        conformance: Option<String>,
    ) -> FakeServer {
        let shared = Shared {
            recorded: Arc::new(Mutex::new(Vec::new())),
            script: Arc::new(Mutex::new(Vec::new())),
            default,
            caller_ids: Arc::default(),
            messages,
            conformance,
        };
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeServer {
            addr,
            caller_ids: shared.caller_ids.clone(),
            messages: shared.messages.clone(),
            shared,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues responses for requests whose path starts with `prefix`, used in order.
    pub fn respond(&self, prefix: &str, status: u16, body: &str) {
        let mut script = self.shared.script.lock().expect("script");
        match script.iter_mut().find(|(p, _)| p == prefix) {
            Some((_, q)) => q.push_back((status, body.to_string())),
            None => script.push((
                prefix.to_string(),
                VecDeque::from([(status, body.to_string())]),
            )),
        }
    }

    /// Drops the responses still queued for `prefix`.
    pub fn clear_responses(&self, prefix: &str) {
        let mut script = self.shared.script.lock().expect("script");
        script.retain(|(p, _)| p != prefix);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().expect("recorded").clone()
    }

    pub fn requests_to(&self, prefix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with(prefix))
            .collect()
    }
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rec = Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    if let Some(test) = &shared.conformance {
        super::conformance::record_request(test, &rec.method, &rec.path, &rec.body);
    }
    shared.recorded.lock().expect("recorded").push(rec.clone());
    let scripted = {
        let mut script = shared.script.lock().expect("script");
        script
            .iter_mut()
            .filter(|(p, q)| rec.path.starts_with(p.as_str()) && !q.is_empty())
            .max_by_key(|(p, _)| p.len())
            .and_then(|(_, q)| q.pop_front())
    };
    if let Some((status, body)) = &scripted {
        let mut book = shared.messages.lock().expect("messages");
        book.accepted_as(&rec, *status, body);
    }
    let (status, body) = scripted
        .or_else(|| shared.caller_ids.lock().expect("caller ids").answer(&rec))
        .or_else(|| shared.messages.lock().expect("messages").answer(&rec))
        .unwrap_or_else(|| (shared.default)(&rec));
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        body,
    )
        .into_response()
}

/// Twilio's answers by default (sends and the Messages list are `support::twilio_messages`'):
/// 200 for reads, 204 for deletes.
pub fn twilio_default(rec: &Recorded) -> (u16, String) {
    if let Some(answer) = twilio_account_reads(rec) {
        return answer;
    }
    if rec.method == "DELETE" {
        return (204, String::new());
    }
    (200, "{}".to_string())
}

/// Vapi's answers by default: echo creates with an id.
pub fn vapi_default(rec: &Recorded) -> (u16, String) {
    if let Some(answer) = vapi_management(rec) {
        return answer;
    }
    if rec.method == "POST" {
        let mut v = rec.json();
        if let Some(obj) = v.as_object_mut() {
            obj.insert(
                "id".into(),
                serde_json::json!(format!("vapi-{}", rec.path.trim_start_matches('/'))),
            );
        }
        return (201, v.to_string());
    }
    (200, "{}".to_string())
}

/// The number every test clinic texts from: on the account and SMS-capable (Twilio's magic
/// "always passes" From).
pub const TWILIO_NUMBER: &str = "+15005550006";

/// A number on the fake account that can take calls but not texts.
pub const VOICE_ONLY_NUMBER: &str = "+15005550010";

/// Twilio's account fetch and IncomingPhoneNumbers list (`docs/twilio.md` §2, §3).
fn twilio_account_reads(rec: &Recorded) -> Option<(u16, String)> {
    if rec.method != "GET" {
        return None;
    }
    let rest = rec.path.strip_prefix("/2010-04-01/Accounts/")?;
    if let Some(sid) = rest.strip_suffix(".json").filter(|s| !s.contains('/')) {
        return Some((
            200,
            serde_json::json!({
                "sid": sid, "owner_account_sid": sid, "friendly_name": "My account",
                "status": "active", "type": "Full", "auth_token": "redacted",
                "uri": format!("/2010-04-01/Accounts/{sid}.json"), "subresource_uris": {}
            })
            .to_string(),
        ));
    }
    let (sid, tail) = rest.split_once('/')?;
    if tail != "IncomingPhoneNumbers.json" {
        return None;
    }
    let query: Vec<(String, String)> = serde_urlencoded::from_str(&rec.query).unwrap_or_default();
    let wanted = query
        .iter()
        .find(|(k, _)| k == "PhoneNumber")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let numbers: Vec<serde_json::Value> = [(TWILIO_NUMBER, true), (VOICE_ONLY_NUMBER, false)]
        .iter()
        // Twilio's filter matches partially.
        .filter(|(n, _)| n.contains(wanted.as_str()))
        .map(|(n, sms)| {
            serde_json::json!({
                "sid": format!("PN{:032x}", n.len()), "account_sid": sid, "phone_number": n,
                "friendly_name": n, "status": "in-use", "sms_url": "", "sms_method": "POST",
                "capabilities": {"voice": true, "sms": sms, "mms": sms, "fax": false}
            })
        })
        .collect();
    Some((
        200,
        serde_json::json!({
            "incoming_phone_numbers": numbers, "page": 0, "page_size": 50, "start": 0, "end": 0,
            "next_page_uri": null, "previous_page_uri": null
        })
        .to_string(),
    ))
}

/// Vapi's credential and phone-number endpoints (`docs/vapi.md` §4.4, §4.5): creates
/// answer 201 with an id and never echo secrets; updates answer 200; lists are arrays.
fn vapi_management(rec: &Recorded) -> Option<(u16, String)> {
    const SECRETS: [&str; 5] = [
        "authToken",
        "apiSecret",
        "twilioAuthToken",
        "twilioApiSecret",
        "token",
    ];
    let redacted = || {
        let mut v = rec.json();
        if let Some(obj) = v.as_object_mut() {
            for k in SECRETS {
                obj.remove(k);
            }
        }
        v
    };
    let path = rec.path.as_str();
    let kind = ["/credential", "/phone-number", "/tool", "/assistant"]
        .into_iter()
        .find(|p| path == *p || path.starts_with(&format!("{p}/")))?;
    let id = path.rsplit('/').next().unwrap_or_default();
    match (rec.method.as_str(), path == kind) {
        ("GET", true) => Some((200, "[]".into())),
        ("POST", true) if kind == "/tool" => {
            let mut v = rec.json();
            let name = v["function"]["name"]
                .as_str()
                .unwrap_or("unnamed")
                .to_string();
            v["id"] = serde_json::json!(format!("tool-{name}"));
            v["orgId"] = serde_json::json!("org-fake");
            Some((201, v.to_string()))
        }
        ("GET", false) if kind == "/assistant" => Some((200, fake_assistant(id).to_string())),
        ("GET", false) if kind == "/tool" => {
            let kind = if id == THEIR_CALENDAR_TOOL {
                "google.calendar.availability.check"
            } else {
                "function"
            };
            Some((200, serde_json::json!({"id": id, "type": kind}).to_string()))
        }
        ("POST", true) => {
            let mut v = redacted();
            v["id"] = serde_json::json!(format!(
                "{}-{:08x}",
                kind.trim_start_matches('/'),
                rec.body.len()
            ));
            v["orgId"] = serde_json::json!("org-fake");
            if kind == "/phone-number" {
                v["status"] = serde_json::json!("active");
            }
            Some((201, v.to_string()))
        }
        // Vapi's tool update body is a union told apart by `type`: without it, the update
        // matches no member and is refused.
        ("PATCH", false) if kind == "/tool" && rec.json()["type"] != "function" => Some((
            400,
            serde_json::json!({
                "message": ["type must be one of the following values: function, apiRequest, ..."],
                "error": "Bad Request", "statusCode": 400
            })
            .to_string(),
        )),
        ("PATCH", false) => {
            let mut v = redacted();
            v["id"] = serde_json::json!(path.rsplit('/').next().unwrap_or_default());
            Some((200, v.to_string()))
        }
        ("GET", false) => Some((
            200,
            serde_json::json!({"id": path.rsplit('/').next().unwrap_or_default()}).to_string(),
        )),
        _ => None,
    }
}

/// The system prompt of the fake Vapi assistant: a tool sync must send it back untouched.
pub const ASSISTANT_PROMPT: &str = "You are the front desk of Alpha Clinic. Be warm and brief.";
/// Tools already on the fake assistant: one of the clinic's own, and a native calendar tool.
pub const THEIR_FAQ_TOOL: &str = "tool-their-faq";
pub const THEIR_CALENDAR_TOOL: &str = "tool-their-calendar";

/// An assistant on Vapi's default server messages: it has no `serverMessages` list.
pub const DEFAULTS_ASSISTANT: &str = "asst-defaults";

/// An assistant as `GET /assistant/:id` returns it (`docs/vapi.md` §4.2).
pub fn fake_assistant(id: &str) -> serde_json::Value {
    let mut assistant = serde_json::json!({
        "id": id, "orgId": "org-fake", "name": "Front desk", "firstMessage": "Thanks for calling!",
        "model": {
            "provider": "openai", "model": "gpt-4o", "temperature": 0.4,
            "messages": [{"role": "system", "content": ASSISTANT_PROMPT}],
            "toolIds": [THEIR_FAQ_TOOL, THEIR_CALENDAR_TOOL],
            "tools": [{"type": "endCall"}]
        },
        "voice": {"provider": "11labs", "voiceId": "sarah"},
        "serverMessages": ["end-of-call-report"]
    });
    if let (DEFAULTS_ASSISTANT, Some(a)) = (id, assistant.as_object_mut()) {
        a.remove("serverMessages");
    }
    assistant
}
