//! What the appliance said to Vapi, kept for the SDK check: every JSON body it sent to the fake
//! Vapi and every reply it gave to a Vapi message is written to `<target>/vapi-conformance/` as a
//! TypeScript file that assigns the JSON to the `@vapi-ai/server-sdk` type it must satisfy, and
//! `.ci/vapi-conformance` runs `tsc --strict` over them after the tests. Object literals get
//! tsc's excess-property check, so a field the SDK does not know fails as a missing one does.
//! Which SDK type each request and message maps to is written here and nowhere else.

use serde_json::Value;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The SDK type of a body the appliance sends to Vapi's management API (`docs/vapi.md` §4).
pub fn request_type(method: &str, path: &str) -> Option<&'static str> {
    let mut parts = path.trim_start_matches('/').split('/');
    let (resource, id) = (parts.next()?, parts.next());
    if parts.next().is_some() {
        return None;
    }
    Some(match (method, resource, id.is_some()) {
        ("POST", "tool", false) => "Vapi.CreateToolsRequest.Function",
        ("PATCH", "tool", true) => "Vapi.UpdateToolsRequestBody.Function",
        // The id is the path's; the body is the rest of the update.
        ("PATCH", "assistant", true) => r#"Omit<Vapi.UpdateAssistantDto, "id">"#,
        ("POST", "call", false) => "Vapi.CreateCallDto",
        // The SDK has no credential resource: this is its Twilio credential as the create
        // union carries it (as in `CreateAssistantDtoCredentialsItem.Twilio`).
        ("POST", "credential", false) => {
            r#"Vapi.CreateTwilioCredentialDto & { provider: "twilio" }"#
        }
        ("PATCH", "credential", true) => "Vapi.UpdateTwilioCredentialDto",
        ("POST", "phone-number", false) => "Vapi.CreatePhoneNumbersRequest.Twilio",
        ("PATCH", "phone-number", true) => "Vapi.UpdatePhoneNumbersRequestBody.Twilio",
        _ => return None,
    })
}

/// The SDK type of a server message (`docs/vapi.md` §1), for the recorded fixtures.
pub fn message_type(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "tool-calls" => "Vapi.ServerMessageToolCalls",
        "assistant-request" => "Vapi.ServerMessageAssistantRequest",
        "status-update" => "Vapi.ServerMessageStatusUpdate",
        "end-of-call-report" => "Vapi.ServerMessageEndOfCallReport",
        "transfer-destination-request" => "Vapi.ServerMessageTransferDestinationRequest",
        "transfer-update" => "Vapi.ServerMessageTransferUpdate",
        "handoff-destination-request" => "Vapi.ServerMessageHandoffDestinationRequest",
        "knowledge-base-request" => "Vapi.ServerMessageKnowledgeBaseRequest",
        "voice-request" => "Vapi.ServerMessageVoiceRequest",
        "call.endpointing.request" => "Vapi.ServerMessageCallEndpointingRequest",
        "hang" => "Vapi.ServerMessageHang",
        "conversation-update" => "Vapi.ServerMessageConversationUpdate",
        "speech-update" => "Vapi.ServerMessageSpeechUpdate",
        "transcript" => "Vapi.ServerMessageTranscript",
        "user-interrupted" => "Vapi.ServerMessageUserInterrupted",
        "model-output" => "Vapi.ServerMessageModelOutput",
        _ => return None,
    })
}

/// The SDK type of the reply to a server message, for the messages whose reply Vapi reads
/// (`ServerMessageResponse*`). Others are answered `{}`, which the SDK gives no type, and the
/// legacy `function-call` has none in the SDK either.
pub fn reply_type(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "tool-calls" => "Vapi.ServerMessageResponseToolCalls",
        "assistant-request" => "Vapi.ServerMessageResponseAssistantRequest",
        "transfer-destination-request" => "Vapi.ServerMessageResponseTransferDestinationRequest",
        "handoff-destination-request" => "Vapi.ServerMessageResponseHandoffDestinationRequest",
        "knowledge-base-request" => "Vapi.ServerMessageResponseKnowledgeBaseRequest",
        "voice-request" => "Vapi.ServerMessageResponseVoiceRequest",
        "call.endpointing.request" => "Vapi.ServerMessageResponseCallEndpointingRequest",
        "campaign.predial" => "Vapi.ServerMessageResponseCampaignPredial",
        _ => return None,
    })
}

/// The `message.type` of a body posted to a Vapi route, as the appliance reads it: a message
/// without a type that carries tool calls is `tool-calls` (`docs/vapi.md` §1.3).
pub fn kind_of(body: &Value) -> Option<&str> {
    let message = body.get("message").unwrap_or(body);
    match message.get("type").and_then(Value::as_str) {
        Some(kind) => Some(kind),
        None => ["toolCallList", "toolCalls", "toolWithToolCallList"]
            .iter()
            .any(|k| message.get(*k).is_some())
            .then_some("tool-calls"),
    }
}

/// Records the body of a request the appliance sent to the fake Vapi.
pub fn record_request(test: &str, method: &str, path: &str, body: &str) {
    let Ok(json) = serde_json::from_str::<Value>(body) else {
        if !body.trim().is_empty() {
            write(
                test,
                &format!("{method} {path}"),
                None,
                &Value::String(body.into()),
            );
        }
        return;
    };
    write(
        test,
        &format!("{method} {path}"),
        request_type(method, path),
        &json,
    );
}

/// Records the appliance's `200` reply to a message posted to `route`. The original product's
/// booking route answers in that product's own shape, not Vapi's, so it is not recorded.
pub fn record_reply(test: &str, route: &str, sent: &Value, status: u16, reply: &Value) {
    if status != 200 || route.starts_with("/api/vapi/tools/") {
        return;
    }
    let Some(kind) = kind_of(sent) else {
        return;
    };
    if let Some(ts) = reply_type(kind) {
        write(
            test,
            &format!("reply to {kind} on {route}"),
            Some(ts),
            reply,
        );
    }
}

/// Writes one recorded body as `const body: <type> = <json>;`. A body with no known SDK type
/// is written with type `never`, so the check fails until this file maps it. Identical bodies
/// of one type are written once.
pub fn write(test: &str, what: &str, ts_type: Option<&str>, json: &Value) {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let ts_type = ts_type.unwrap_or(
        "never /* no SDK type is mapped for this: see tests/it/support/conformance.rs */",
    );
    let literal = serde_json::to_string_pretty(json).expect("JSON");
    let key = format!("{ts_type}\n{literal}");
    if !SEEN
        .get_or_init(Mutex::default)
        .lock()
        .expect("seen")
        .insert(key)
    {
        return;
    }
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let name: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let text = format!(
        "// {what}, in {test}\nimport type {{ Vapi }} from \"@vapi-ai/server-sdk\";\nexport const body: {ts_type} = {literal};\n"
    );
    let path = dir().join(format!("{name}-{n}.ts"));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// `<target>/vapi-conformance`, emptied the first time a test process writes to it, so it holds
/// what the last run of the integration tests sent.
pub fn dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("the target directory")
            .to_path_buf();
        let dir = target.join("vapi-conformance");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        dir
    })
    .clone()
}

/// The test this thread runs (libtest names each test's thread after it).
pub fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_string()
}
