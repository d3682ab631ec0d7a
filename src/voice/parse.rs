//! Turning the bodies Vapi POSTs to us into typed requests, and building the JSON replies it expects.
//!
//! Owns the wire shapes of `reference/vapi.md` §1.3 (`tool-calls`), §1.9 (legacy `function-call`), §2 (reply
//! contract) and the original product's `{toolCallId, message, tool:{arguments}}` body. Pure: no I/O, no clock.
//!
//! Everything in a body is peer-controlled and Vapi's own docs disagree about shapes, so parsing is lenient
//! per item and strict only about the envelope: a body that is not a JSON object with a `message` object is a
//! [`ParseError`] (HTTP 400); anything wrong inside one tool call becomes that call's error sentence, answered
//! with HTTP 200 so the assistant can tell the caller. No item is silently dropped: an item without a usable
//! id or name is kept, in order, with an error (its reply cannot be matched by Vapi, but it is logged and
//! never executed).

use serde_json::{json, Map, Value};

/// One tool call out of a `tool-calls` message.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The LLM's tool-call id (`call_...`, `toolu_...`), echoed verbatim as `toolCallId`; "" when absent.
    pub id: String,
    /// Function name, trimmed; "" when absent.
    pub name: String,
    /// `Err` holds a sentence for the reply's `error`; such a call must not be executed.
    pub args: Result<Map<String, Value>, String>,
}

impl ToolCall {
    /// A reply to this call carrying `outcome`.
    pub fn reply(&self, outcome: Result<String, String>) -> ToolReply {
        ToolReply {
            tool_call_id: self.id.clone(),
            name: self.name.clone(),
            outcome,
        }
    }
}

/// Who is on the call, as far as the (possibly stale) embedded objects say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallInfo {
    /// Vapi's call id (`message.call.id`), not the tool-call id.
    pub call_id: Option<String>,
    /// The caller: `message.customer.number` ‖ `message.call.customer.number`.
    pub customer_number: Option<String>,
    /// Our number: `message.phoneNumber.number` ‖ `message.call.phoneNumber.number`.
    pub phone_number: Option<String>,
    /// `message.call.phoneNumberId` ‖ `message.phoneNumber.id`: the reference says to look our number up by
    /// this when `phoneNumber` is absent.
    pub phone_number_id: Option<String>,
    /// `message.call.type`: `inboundPhoneCall`, `outboundPhoneCall`, `webCall`, ...
    pub call_type: Option<String>,
}

/// What a Vapi request asks of us.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// `tool-calls`: answer with [`tool_calls_response`], one result per call, same order.
    ToolCalls {
        call: CallInfo,
        calls: Vec<ToolCall>,
    },
    /// Legacy `function-call`: answer with [`function_call_response`].
    FunctionCall {
        call: CallInfo,
        name: String,
        args: Result<Map<String, Value>, String>,
    },
    /// Any other server message (`status-update`, `end-of-call-report`, ...); `kind` is `message.type` or "".
    /// `message` is the whole `message` object, untouched.
    Event {
        kind: String,
        call: CallInfo,
        message: Value,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("request body is not valid JSON")]
    NotJson,
    #[error("request body is not a JSON object")]
    NotAnObject,
    #[error("request body has no `message` object")]
    MissingMessage,
    /// Legacy booking route only: nothing in the body looks like a tool call.
    #[error("request body carries no tool call")]
    NoToolCall,
    /// Legacy booking route only: the id is known, so upstream answers 200 with `reason` as the call's
    /// `error` rather than 400.
    #[error("{reason}")]
    BadArguments {
        tool_call_id: String,
        reason: String,
    },
}

/// One answer to one tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolReply {
    pub tool_call_id: String,
    pub name: String,
    /// `Ok` → `result`, `Err` → `error`; both are spoken from, so write sentences.
    pub outcome: Result<String, String>,
}

/// The original product only ever sent its `{toolCallId, tool:{arguments}}` body for this tool, and that body
/// carries no name, so a nameless one is taken to be a booking.
const LEGACY_TOOL_NAME: &str = "book_appointment";
const LEGACY_TOOL_ALIASES: [&str; 2] = ["bookClinicAppointment", "book_appointment"];
const TOOL_LIST_KEYS: [&str; 3] = ["toolCallList", "toolCalls", "toolWithToolCallList"];

/// `POST /api/vapi/webhook`: `{"message": {...}}`.
pub fn parse_webhook(body: &[u8]) -> Result<Inbound, ParseError> {
    let mut root = parse_object(body)?;
    match root.remove("message") {
        Some(message @ Value::Object(_)) => Ok(classify(message)),
        _ => Err(ParseError::MissingMessage),
    }
}

/// `POST /api/vapi/tools`: the webhook envelope, a bare message (no `message` wrapper), or the original
/// product's `{toolCallId, message:{call}, tool:{arguments}}` (returned as a one-call `ToolCalls`).
/// A body that is an object but none of these comes back as an `Event` with whatever `type` it had.
pub fn parse_tool_request(body: &[u8]) -> Result<Inbound, ParseError> {
    let mut root = parse_object(body)?;
    let message = match root.remove("message") {
        Some(message @ Value::Object(_)) => message,
        Some(_) | None => {
            if is_legacy_shape(&root) {
                Value::Null
            } else {
                return Ok(classify(Value::Object(root)));
            }
        }
    };
    let standard = carries_tool_calls(&message) || message.get("functionCall").is_some();
    if !standard && is_legacy_shape(&root) {
        let call = call_info(&message);
        let name = legacy_name(&root);
        return Ok(Inbound::ToolCalls {
            call,
            calls: vec![legacy_call(&root, name)],
        });
    }
    Ok(classify(message))
}

/// `POST /api/vapi/tools/bookClinicAppointment` (the original product's route). Accepts its own
/// `{toolCallId, message:{call}, tool:{arguments}}` body and, since Vapi itself posts the standard envelope to
/// whatever URL a tool names, a `tool-calls` message too (the booking call, else the first call).
pub fn parse_legacy_booking(
    body: &[u8],
) -> Result<(String, CallInfo, Map<String, Value>), ParseError> {
    let mut root = parse_object(body)?;
    let message = match root.remove("message") {
        Some(message @ Value::Object(_)) => message,
        _ => Value::Null,
    };
    let call = call_info(&message);
    let mut calls = extract_tool_calls(&message);
    let tool_call = if !calls.is_empty() {
        let chosen = calls
            .iter()
            .position(|c| LEGACY_TOOL_ALIASES.contains(&c.name.as_str()))
            .unwrap_or(0);
        calls.swap_remove(chosen)
    } else if is_legacy_shape(&root) {
        legacy_call(&root, legacy_name(&root))
    } else {
        return Err(ParseError::NoToolCall);
    };
    match tool_call.args {
        Ok(args) => Ok((tool_call.id, call, args)),
        Err(reason) => Err(ParseError::BadArguments {
            tool_call_id: tool_call.id,
            reason,
        }),
    }
}

/// `{"results":[{"toolCallId","name","result"|"error"}]}`, strings forced onto one line (§2: multi-line
/// results break Vapi's parsing). Ids and names are echoed verbatim because Vapi matches on them.
pub fn tool_calls_response(replies: &[ToolReply]) -> Value {
    let results: Vec<Value> = replies
        .iter()
        .map(|r| {
            let mut item = Map::new();
            item.insert("toolCallId".into(), Value::String(r.tool_call_id.clone()));
            item.insert("name".into(), Value::String(r.name.clone()));
            match &r.outcome {
                Ok(text) => item.insert("result".into(), Value::String(single_line(text))),
                Err(text) => item.insert("error".into(), Value::String(error_line(text))),
            };
            Value::Object(item)
        })
        .collect();
    json!({ "results": results })
}

/// `{"result": "..."}`: the legacy contract has no error field, so a failure is also said as the result.
pub fn function_call_response(outcome: &Result<String, String>) -> Value {
    let text = match outcome {
        Ok(text) => single_line(text),
        Err(text) => error_line(text),
    };
    json!({ "result": text })
}

/// Every run of whitespace/control characters that contains anything but a plain space (CR, LF, tab,
/// U+2028, NUL, ...) becomes one space; runs of plain spaces are kept so compact JSON inside the text keeps its
/// values. Leading and trailing whitespace is dropped.
pub fn single_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let mut run_breaks = false;
    for ch in s.chars() {
        if ch.is_whitespace() || ch.is_control() {
            run_breaks |= ch != ' ';
            run.push(ch);
            continue;
        }
        flush_run(&mut out, &mut run, &mut run_breaks);
        out.push(ch);
    }
    out.trim().to_string()
}

fn flush_run(out: &mut String, run: &mut String, run_breaks: &mut bool) {
    if *run_breaks {
        out.push(' ');
    } else {
        out.push_str(run);
    }
    run.clear();
    *run_breaks = false;
}

fn error_line(text: &str) -> String {
    let line = single_line(text);
    if line.is_empty() {
        // Vapi treats an empty error as no answer at all; the model needs something to say.
        "The tool failed.".to_string()
    } else {
        line
    }
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ParseError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ParseError::NotAnObject),
        Err(_) => Err(ParseError::NotJson),
    }
}

fn classify(message: Value) -> Inbound {
    let kind = text(message.get("type")).unwrap_or_default();
    let call = call_info(&message);
    // A type-less message is accepted on the tools route, so infer the kind from its content.
    if kind == "tool-calls" || (kind.is_empty() && carries_tool_calls(&message)) {
        return Inbound::ToolCalls {
            calls: extract_tool_calls(&message),
            call,
        };
    }
    if kind == "function-call" || (kind.is_empty() && message.get("functionCall").is_some()) {
        let function = message.get("functionCall");
        let name = text(function.and_then(|f| f.get("name"))).unwrap_or_default();
        let raw = first_present([
            function.and_then(|f| f.get("parameters")),
            function.and_then(|f| f.get("arguments")),
        ]);
        let args = if name.is_empty() {
            Err("The function call had no name, so it was not run.".to_string())
        } else {
            normalize_args(raw, &name)
        };
        return Inbound::FunctionCall { call, name, args };
    }
    Inbound::Event {
        kind,
        call,
        message,
    }
}

fn carries_tool_calls(message: &Value) -> bool {
    TOOL_LIST_KEYS.iter().any(|k| message.get(k).is_some())
}

/// §1.3: the first non-empty of `toolCallList`, `toolCalls`, `toolWithToolCallList[].toolCall`. The lists
/// normally duplicate each other, so they are never merged.
fn extract_tool_calls(message: &Value) -> Vec<ToolCall> {
    let direct = items(message.get("toolCallList"));
    if !direct.is_empty() {
        return direct.into_iter().map(parse_item).collect();
    }
    let alias = items(message.get("toolCalls"));
    if !alias.is_empty() {
        return alias.into_iter().map(parse_item).collect();
    }
    items(message.get("toolWithToolCallList"))
        .into_iter()
        // An entry without `toolCall` is parsed as itself: it has a name but no id, so it yields an error
        // entry instead of vanishing.
        .map(|tool| parse_item(tool.get("toolCall").unwrap_or(tool)))
        .collect()
}

/// An array's elements; a lone object is taken as a one-element list.
fn items(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(object @ Value::Object(_)) => vec![object],
        _ => Vec::new(),
    }
}

fn parse_item(item: &Value) -> ToolCall {
    let function = item.get("function").filter(|f| f.is_object());
    let name = text(function.and_then(|f| f.get("name")))
        .or_else(|| text(item.get("name")))
        .unwrap_or_default();
    let id = echo_id(first_present([item.get("id"), item.get("toolCallId")]));
    let raw = first_present([
        function.and_then(|f| f.get("arguments")),
        function.and_then(|f| f.get("parameters")),
        item.get("arguments"),
        item.get("parameters"),
    ]);
    let args = if id.is_empty() {
        Err("This tool call had no id, so it was not run.".to_string())
    } else if name.is_empty() {
        Err("This tool call had no function name, so it was not run.".to_string())
    } else {
        normalize_args(raw, &name)
    };
    ToolCall { id, name, args }
}

fn is_legacy_shape(root: &Map<String, Value>) -> bool {
    root.get("tool").is_some_and(Value::is_object) || root.contains_key("toolCallId")
}

fn legacy_name(root: &Map<String, Value>) -> String {
    let tool = root.get("tool");
    text(
        tool.and_then(|t| t.get("function"))
            .and_then(|f| f.get("name")),
    )
    .or_else(|| text(tool.and_then(|t| t.get("name"))))
    .unwrap_or_else(|| LEGACY_TOOL_NAME.to_string())
}

fn legacy_call(root: &Map<String, Value>, name: String) -> ToolCall {
    let tool = root.get("tool").filter(|t| t.is_object());
    let function = tool
        .and_then(|t| t.get("function"))
        .filter(|f| f.is_object());
    let id = echo_id(root.get("toolCallId"));
    let raw = first_present([
        tool.and_then(|t| t.get("arguments")),
        tool.and_then(|t| t.get("parameters")),
        function.and_then(|f| f.get("arguments")),
        function.and_then(|f| f.get("parameters")),
    ]);
    let args = if id.is_empty() {
        Err("This tool call had no id, so it was not run.".to_string())
    } else {
        normalize_args(raw, &name)
    };
    ToolCall { id, name, args }
}

/// §1.3 step 3: an object is used as is; a string is parsed ("" → {}); anything else is the call's error.
fn normalize_args(raw: Option<&Value>, name: &str) -> Result<Map<String, Value>, String> {
    match raw {
        None => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(Value::String(s)) => parse_args_string(s, name, true),
        Some(_) => Err(not_an_object(name)),
    }
}

fn parse_args_string(s: &str, name: &str, may_unwrap: bool) -> Result<Map<String, Value>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(map)) => Ok(map),
        // "null" is what some models emit for "no arguments".
        Ok(Value::Null) => Ok(Map::new()),
        // Models occasionally JSON-encode the argument string twice; one level is unwrapped.
        Ok(Value::String(inner)) if may_unwrap => parse_args_string(&inner, name, false),
        Ok(_) => Err(not_an_object(name)),
        Err(_) => Err(format!("The arguments for {name} were not valid JSON.")),
    }
}

fn not_an_object(name: &str) -> String {
    format!("The arguments for {name} were not a JSON object.")
}

fn call_info(message: &Value) -> CallInfo {
    let at = |path: &[&str]| text(walk(message, path));
    CallInfo {
        call_id: at(&["call", "id"]),
        customer_number: at(&["customer", "number"])
            .or_else(|| at(&["call", "customer", "number"])),
        phone_number: at(&["phoneNumber", "number"])
            .or_else(|| at(&["call", "phoneNumber", "number"])),
        phone_number_id: at(&["call", "phoneNumberId"]).or_else(|| at(&["phoneNumber", "id"])),
        call_type: at(&["call", "type"]),
    }
}

fn walk<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn first_present<const N: usize>(candidates: [Option<&Value>; N]) -> Option<&Value> {
    candidates.into_iter().flatten().find(|v| !v.is_null())
}

/// A trimmed, non-empty string; integers are accepted because phone numbers and ids sometimes arrive as them.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// Ids are echoed byte for byte, so they are not trimmed; blank counts as missing.
fn echo_id(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Example payloads E1–E6 of reference/vapi.md, verbatim.
    const E1: &str = r##"{
      "message": {
        "type": "tool-calls",
        "timestamp": 1763676000123,
        "call": {
          "id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11",
          "orgId": "0f4b1d2e-aaaa-4bbb-8ccc-123456789abc",
          "type": "inboundPhoneCall",
          "status": "in-progress",
          "phoneNumberId": "8e2d4f60-1111-4222-8333-444455556666",
          "assistantId": "a7c9e1f3-2222-4333-8444-555566667777",
          "customer": { "number": "+14155550123" },
          "phoneCallProvider": "twilio",
          "phoneCallProviderId": "CA9f2c0d1e2b3a4f5e6d7c8b9a0f1e2d3c",
          "createdAt": "2025-11-20T21:59:40.511Z",
          "updatedAt": "2025-11-20T22:00:00.002Z"
        },
        "customer": { "number": "+14155550123" },
        "phoneNumber": { "provider": "twilio", "number": "+14155550100", "name": "Front desk" },
        "toolCallList": [
          { "id": "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff", "type": "function",
            "function": { "name": "check_availability",
                          "arguments": { "date": "2025-11-24", "service": "cleaning" } } },
          { "id": "call_Rn4y9UaM1bZc2Dd3Ee4Ff5Gg", "type": "function",
            "function": { "name": "lookup_customer",
                          "arguments": { "phone": "+14155550123" } } }
        ],
        "toolWithToolCallList": [
          { "type": "function", "async": false,
            "function": { "name": "check_availability", "description": "List free slots for a day.",
                          "parameters": { "type": "object", "properties": { "date": {"type": "string"}, "service": {"type": "string"} }, "required": ["date"] } },
            "server": { "url": "https://api.example.com/vapi/tools" },
            "messages": [],
            "toolCall": { "id": "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff", "type": "function",
                          "function": { "name": "check_availability", "arguments": { "date": "2025-11-24", "service": "cleaning" } } } },
          { "type": "function", "async": false,
            "function": { "name": "lookup_customer", "description": "Find a customer by phone.",
                          "parameters": { "type": "object", "properties": { "phone": {"type": "string"} }, "required": ["phone"] } },
            "server": { "url": "https://api.example.com/vapi/tools" },
            "messages": [],
            "toolCall": { "id": "call_Rn4y9UaM1bZc2Dd3Ee4Ff5Gg", "type": "function",
                          "function": { "name": "lookup_customer", "arguments": { "phone": "+14155550123" } } } }
        ],
        "artifact": { "messages": [] }
      }
    }"##;

    const E1_REPLY: &str = r##"{ "results": [
      { "toolCallId": "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff", "name": "check_availability",
        "result": "{\"date\":\"2025-11-24\",\"slots\":[\"09:00\",\"11:30\",\"15:00\"]}" },
      { "toolCallId": "call_Rn4y9UaM1bZc2Dd3Ee4Ff5Gg", "name": "lookup_customer",
        "error": "No customer found for +14155550123" }
    ] }"##;

    const E2: &str = r##"{
      "message": {
        "type": "tool-calls",
        "timestamp": 1763676100456,
        "call": { "id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11", "type": "inboundPhoneCall" },
        "toolCalls": [
          { "id": "call_Ss5z0VbN2cAd3Ee4Ff5Gg6Hh", "type": "function",
            "function": { "name": "book_appointment",
                          "arguments": "{\"start\":\"2025-11-24T11:30:00-08:00\",\"name\":\"Dana Lee\",\"service\":\"cleaning\"}" } }
        ],
        "toolCallList": [
          { "id": "call_Ss5z0VbN2cAd3Ee4Ff5Gg6Hh", "type": "function",
            "function": { "name": "book_appointment",
                          "arguments": "{\"start\":\"2025-11-24T11:30:00-08:00\",\"name\":\"Dana Lee\",\"service\":\"cleaning\"}" } },
          { "id": "call_Tt6a1WcO3dBe4Ff5Gg6Hh7Ii", "name": "send_sms_confirmation",
            "parameters": { "to": "+14155550123" } }
        ],
        "toolWithToolCallList": []
      }
    }"##;

    const E3: &str = r##"{ "message": { "type": "status-update", "status": "in-progress", "timestamp": 1763675981200,
      "call": { "id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11", "type": "inboundPhoneCall", "status": "in-progress",
                "phoneNumberId": "8e2d4f60-1111-4222-8333-444455556666", "customer": { "number": "+14155550123" } },
      "customer": { "number": "+14155550123" },
      "phoneNumber": { "provider": "twilio", "number": "+14155550100" } } }"##;

    const E3_2: &str = r##"{ "message": { "type": "status-update", "status": "ended", "endedReason": "customer-ended-call",
      "timestamp": 1763676212345,
      "call": { "id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11", "type": "inboundPhoneCall", "status": "ended" } } }"##;

    const E4: &str = r##"{
      "message": {
        "type": "end-of-call-report",
        "timestamp": 1763676219870,
        "endedReason": "customer-ended-call",
        "startedAt": "2025-11-20T21:59:41.020Z",
        "endedAt": "2025-11-20T22:03:32.310Z",
        "cost": 0.2841,
        "costs": [ { "type": "transport", "provider": "twilio", "minutes": 3.86, "cost": 0.0309 } ],
        "artifact": {
          "transcript": "AI: Thanks for calling Bright Smile Dental, how can I help?\nUser: I'd like to book a cleaning next Monday.\nAI: I have 9, 11:30 or 3. Which works?\nUser: 11:30 please.",
          "messages": [
            { "role": "system", "message": "You are the front desk of Bright Smile Dental.", "time": 1763675981020, "secondsFromStart": 0 },
            { "role": "bot", "message": "Thanks for calling Bright Smile Dental, how can I help?", "time": 1763675982100, "endTime": 1763675984900, "secondsFromStart": 1.08, "duration": 2800 },
            { "role": "user", "message": "I'd like to book a cleaning next Monday.", "time": 1763675986000, "endTime": 1763675988400, "secondsFromStart": 4.98, "duration": 2400 },
            { "role": "tool_calls", "message": "", "time": 1763675989000, "secondsFromStart": 7.98,
              "toolCalls": [ { "id": "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff", "type": "function",
                               "function": { "name": "check_availability", "arguments": "{\"date\":\"2025-11-24\",\"service\":\"cleaning\"}" } } ] },
            { "role": "tool_call_result", "toolCallId": "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff", "name": "check_availability",
              "result": "{\"date\":\"2025-11-24\",\"slots\":[\"09:00\",\"11:30\",\"15:00\"]}", "time": 1763675989700, "secondsFromStart": 8.68 }
          ],
          "recordingUrl": "https://storage.vapi.ai/5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11-mono.wav",
          "stereoRecordingUrl": "https://storage.vapi.ai/5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11-stereo.wav",
          "recording": { "stereoUrl": "https://storage.vapi.ai/5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11-stereo.wav",
                         "mono": { "combinedUrl": "https://storage.vapi.ai/5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11-mono.wav" } }
        },
        "analysis": {
          "summary": "Caller Dana Lee booked a cleaning for Monday 24 Nov at 11:30.",
          "structuredData": { "intent": "book", "appointmentStart": "2025-11-24T11:30:00-08:00" },
          "successEvaluation": "true"
        },
        "call": { "id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11", "orgId": "0f4b1d2e-aaaa-4bbb-8ccc-123456789abc",
                  "type": "inboundPhoneCall", "status": "in-progress",
                  "phoneNumberId": "8e2d4f60-1111-4222-8333-444455556666",
                  "customer": { "number": "+14155550123" }, "phoneCallProviderId": "CA9f2c0d1e2b3a4f5e6d7c8b9a0f1e2d3c" },
        "customer": { "number": "+14155550123" },
        "phoneNumber": { "provider": "twilio", "number": "+14155550100" },
        "transcript": "AI: Thanks for calling Bright Smile Dental, how can I help?\nUser: I'd like to book a cleaning next Monday.",
        "summary": "Caller Dana Lee booked a cleaning for Monday 24 Nov at 11:30.",
        "recordingUrl": "https://storage.vapi.ai/5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11-mono.wav",
        "stereoRecordingUrl": "https://storage.vapi.ai/5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11-stereo.wav",
        "durationMs": 231290,
        "durationSeconds": 231.29,
        "durationMinutes": 3.8548
      }
    }"##;

    const E5: &str = r##"{ "message": { "type": "function-call", "timestamp": 1763676300000,
      "call": { "id": "9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", "type": "outboundPhoneCall" },
      "functionCall": { "name": "confirmAppointment", "parameters": { "appointmentId": "A-1042", "confirmed": true } } } }"##;

    const E5_REPLY: &str =
        r##"{ "result": "Appointment A-1042 is confirmed for Monday 24 Nov at 11:30." }"##;

    const E6: &str = r##"{ "message": { "type": "transfer-destination-request", "timestamp": 1763676400000,
      "call": { "id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11", "type": "inboundPhoneCall" },
      "customer": { "number": "+14155550123" } } }"##;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("test fixture is not an object: {other}"),
        }
    }

    fn tool_calls(body: &str) -> (CallInfo, Vec<ToolCall>) {
        match parse_webhook(body.as_bytes()) {
            Ok(Inbound::ToolCalls { call, calls }) => (call, calls),
            other => panic!("expected tool calls, got {other:?}"),
        }
    }

    fn with_message(message: Value) -> String {
        json!({ "message": message }).to_string()
    }

    /// E1 with its message edited by `edit`.
    fn e1_edited(edit: impl FnOnce(&mut Map<String, Value>)) -> String {
        let mut root = obj(serde_json::from_str(E1).expect("E1 parses"));
        let mut message = obj(root.remove("message").expect("E1 has message"));
        edit(&mut message);
        with_message(Value::Object(message))
    }

    fn single_call(list: Value) -> ToolCall {
        let (_, mut calls) = tool_calls(&with_message(json!({
            "type": "tool-calls",
            "toolCallList": list,
        })));
        assert_eq!(calls.len(), 1, "{calls:?}");
        calls.remove(0)
    }

    #[test]
    fn e1_nested_object_arguments_and_call_info() {
        let (call, calls) = tool_calls(E1);
        assert_eq!(
            call,
            CallInfo {
                call_id: Some("5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11".into()),
                customer_number: Some("+14155550123".into()),
                phone_number: Some("+14155550100".into()),
                phone_number_id: Some("8e2d4f60-1111-4222-8333-444455556666".into()),
                call_type: Some("inboundPhoneCall".into()),
            }
        );
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].id, "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff");
        assert_eq!(calls[0].name, "check_availability");
        assert_eq!(
            calls[0].args,
            Ok(obj(json!({"date": "2025-11-24", "service": "cleaning"})))
        );
        assert_eq!(calls[1].id, "call_Rn4y9UaM1bZc2Dd3Ee4Ff5Gg");
        assert_eq!(calls[1].name, "lookup_customer");
        assert_eq!(calls[1].args, Ok(obj(json!({"phone": "+14155550123"}))));
    }

    #[test]
    fn e1_expected_reply_is_reproduced() {
        let (_, calls) = tool_calls(E1);
        let replies = [
            calls[0].reply(Ok(
                r#"{"date":"2025-11-24","slots":["09:00","11:30","15:00"]}"#.into(),
            )),
            calls[1].reply(Err("No customer found for +14155550123".into())),
        ];
        let expected: Value = serde_json::from_str(E1_REPLY).expect("E1 reply parses");
        assert_eq!(tool_calls_response(&replies), expected);
    }

    #[test]
    fn e2_prefers_tool_call_list_and_reads_string_and_flat_items() {
        let (call, calls) = tool_calls(E2);
        assert_eq!(
            call.call_id.as_deref(),
            Some("5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11")
        );
        assert_eq!(call.customer_number, None);
        assert_eq!(call.phone_number, None);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].id, "call_Ss5z0VbN2cAd3Ee4Ff5Gg6Hh");
        assert_eq!(calls[0].name, "book_appointment");
        assert_eq!(
            calls[0].args,
            Ok(obj(json!({
                "start": "2025-11-24T11:30:00-08:00",
                "name": "Dana Lee",
                "service": "cleaning"
            })))
        );
        assert_eq!(calls[1].id, "call_Tt6a1WcO3dBe4Ff5Gg6Hh7Ii");
        assert_eq!(calls[1].name, "send_sms_confirmation");
        assert_eq!(calls[1].args, Ok(obj(json!({"to": "+14155550123"}))));
    }

    #[test]
    fn falls_back_to_tool_calls_alias() {
        let mut root = obj(serde_json::from_str(E2).expect("E2 parses"));
        if let Some(Value::Object(m)) = root.get_mut("message") {
            m.insert("toolCallList".into(), json!([]));
        }
        let (_, calls) = tool_calls(&Value::Object(root).to_string());
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].id, "call_Ss5z0VbN2cAd3Ee4Ff5Gg6Hh");
        assert!(calls[0].args.is_ok());
    }

    #[test]
    fn falls_back_to_tool_with_tool_call_list() {
        let body = e1_edited(|m| {
            m.remove("toolCallList");
        });
        let (_, calls) = tool_calls(&body);
        let ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff",
                "call_Rn4y9UaM1bZc2Dd3Ee4Ff5Gg"
            ]
        );
        // The tool config's `function.parameters` is a schema, not arguments; the toolCall's are used.
        assert_eq!(
            calls[0].args,
            Ok(obj(json!({"date": "2025-11-24", "service": "cleaning"})))
        );
    }

    #[test]
    fn tool_config_without_tool_call_is_kept_as_an_error() {
        let body = with_message(json!({
            "type": "tool-calls",
            "toolWithToolCallList": [
                { "type": "function", "function": { "name": "get_service_price", "parameters": {"type": "object"} } }
            ]
        }));
        let (_, calls) = tool_calls(&body);
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].id, "");
        assert_eq!(calls[0].name, "get_service_price");
        assert!(calls[0].args.is_err());
    }

    #[test]
    fn argument_spellings_and_precedence() {
        let cases = [
            json!({"id": "a", "function": {"name": "t", "arguments": {"x": 1}}}),
            json!({"id": "a", "function": {"name": "t", "parameters": {"x": 1}}}),
            json!({"id": "a", "name": "t", "arguments": {"x": 1}}),
            json!({"id": "a", "name": "t", "parameters": "{\"x\":1}"}),
            json!({"id": "a", "function": {"name": "t", "arguments": null, "parameters": {"x": 1}}}),
            json!({"id": "a", "function": {"name": "t", "arguments": {"x": 1}}, "arguments": {"x": 2}}),
            json!({"id": "a", "function": {"name": "t"}, "name": "ignored", "parameters": {"x": 1}}),
        ];
        for case in cases {
            let call = single_call(json!([case.clone()]));
            assert_eq!(call.name, "t", "{case}");
            assert_eq!(call.args, Ok(obj(json!({"x": 1}))), "{case}");
        }
    }

    #[test]
    fn string_argument_variants() {
        let args = |raw: Value| {
            single_call(
                json!([{"id": "c1", "function": {"name": "check_availability", "arguments": raw}}]),
            )
            .args
        };
        assert_eq!(args(json!("")), Ok(Map::new()));
        assert_eq!(args(json!("   \n")), Ok(Map::new()));
        assert_eq!(args(json!("null")), Ok(Map::new()));
        assert_eq!(args(json!("{}")), Ok(Map::new()));
        assert_eq!(
            args(json!(" {\"date\":\"tomorrow\"} ")),
            Ok(obj(json!({"date": "tomorrow"})))
        );
        assert_eq!(
            args(json!("\"{\\\"date\\\":\\\"tomorrow\\\"}\"")),
            Ok(obj(json!({"date": "tomorrow"}))),
            "double-encoded arguments are unwrapped once"
        );
        assert_eq!(
            args(json!("{\"date\":")),
            Err("The arguments for check_availability were not valid JSON.".into())
        );
        assert_eq!(
            args(json!("not json at all")),
            Err("The arguments for check_availability were not valid JSON.".into())
        );
        assert_eq!(
            args(json!("[1,2]")),
            Err("The arguments for check_availability were not a JSON object.".into())
        );
        assert_eq!(
            args(json!("\"\\\"still a string\\\"\"")),
            Err("The arguments for check_availability were not a JSON object.".into())
        );
    }

    #[test]
    fn non_object_arguments_are_a_per_call_error() {
        for raw in [
            json!([1, 2]),
            json!(42),
            json!(true),
            json!([{"date": "x"}]),
        ] {
            let call = single_call(
                json!([{"id": "c1", "function": {"name": "book_appointment", "arguments": raw}}]),
            );
            assert_eq!(call.id, "c1");
            assert_eq!(
                call.args,
                Err("The arguments for book_appointment were not a JSON object.".into())
            );
        }
    }

    #[test]
    fn missing_arguments_mean_no_arguments() {
        let call = single_call(
            json!([{"id": "c1", "type": "function", "function": {"name": "get_clinic_context"}}]),
        );
        assert_eq!(call.args, Ok(Map::new()));
    }

    #[test]
    fn items_without_id_or_name_are_kept_in_order_with_errors() {
        let (_, calls) = tool_calls(&with_message(json!({
            "type": "tool-calls",
            "toolCallList": [
                {"id": "first", "function": {"name": "a", "arguments": {}}},
                {"function": {"name": "b", "arguments": {}}},
                {"id": "   ", "function": {"name": "c", "arguments": {}}},
                {"id": "fourth", "function": {"arguments": {}}},
                "junk",
                [1, 2, 3],
                null,
                {"id": "last", "function": {"name": "d", "arguments": {}}}
            ]
        })));
        let ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["first", "", "", "fourth", "", "", "", "last"]);
        assert_eq!(calls[1].name, "b");
        assert_eq!(
            calls[1].args,
            Err("This tool call had no id, so it was not run.".into())
        );
        assert_eq!(
            calls[3].args,
            Err("This tool call had no function name, so it was not run.".into())
        );
        for (i, call) in calls.iter().enumerate() {
            assert_eq!(call.args.is_ok(), i == 0 || i == 7, "{call:?}");
        }
    }

    #[test]
    fn ids_are_echoed_verbatim_and_numbers_accepted() {
        let call = single_call(json!([{"id": " call_x ", "name": "t"}]));
        assert_eq!(call.id, " call_x ");
        let call = single_call(json!([{"id": 7, "name": "t"}]));
        assert_eq!(call.id, "7");
        let call = single_call(json!([{"toolCallId": "tc_1", "name": " t "}]));
        assert_eq!((call.id.as_str(), call.name.as_str()), ("tc_1", "t"));
    }

    #[test]
    fn odd_list_shapes() {
        // A lone object where an array belongs.
        let call = single_call(json!({"id": "solo", "function": {"name": "t", "arguments": {}}}));
        assert_eq!(call.id, "solo");
        // Junk in the first list falls through to the next one.
        let (_, calls) = tool_calls(&with_message(json!({
            "type": "tool-calls",
            "toolCallList": "oops",
            "toolCalls": [{"id": "b", "function": {"name": "t", "arguments": {}}}]
        })));
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].id, "b");
        // `function` as an array is ignored, the flat fields still work.
        let call = single_call(
            json!([{"id": "c", "function": [1], "name": "t", "arguments": {"k": "v"}}]),
        );
        assert_eq!(call.args, Ok(obj(json!({"k": "v"}))));
        // No list at all.
        let (_, calls) = tool_calls(&with_message(json!({"type": "tool-calls"})));
        assert!(calls.is_empty());
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let body = e1_edited(|m| {
            m.insert("brandNewField".into(), json!({"deep": [1, {"x": null}]}));
            if let Some(Value::Array(list)) = m.get_mut("toolCallList") {
                if let Some(Value::Object(item)) = list.get_mut(0) {
                    item.insert("extra".into(), json!("whatever"));
                    item.insert("type".into(), json!("not-a-function"));
                }
            }
        });
        let (_, calls) = tool_calls(&body);
        assert_eq!(calls.len(), 2);
        assert!(calls.iter().all(|c| c.args.is_ok()));
    }

    #[test]
    fn call_info_fallbacks_and_junk() {
        let info = |message: Value| match parse_webhook(with_message(message).as_bytes()) {
            Ok(Inbound::Event { call, .. }) => call,
            other => panic!("{other:?}"),
        };
        let body: Value = serde_json::from_str(E3).expect("E3 parses");
        let mut message = body["message"].clone();
        if let Value::Object(m) = &mut message {
            m.remove("customer");
        }
        assert_eq!(
            info(message).customer_number.as_deref(),
            Some("+14155550123")
        );
        let junk = info(json!({
            "type": "status-update",
            "call": [1, 2],
            "customer": {"number": {"nested": true}},
            "phoneNumber": "+14155550100"
        }));
        assert_eq!(junk, CallInfo::default());
        let numeric = info(
            json!({"type": "x", "customer": {"number": 14155550123u64}, "call": {"id": "  "}}),
        );
        assert_eq!(numeric.customer_number.as_deref(), Some("14155550123"));
        assert_eq!(numeric.call_id, None);
    }

    #[test]
    fn e3_e4_e6_are_events() {
        for (body, kind) in [
            (E3, "status-update"),
            (E3_2, "status-update"),
            (E4, "end-of-call-report"),
            (E6, "transfer-destination-request"),
        ] {
            match parse_webhook(body.as_bytes()) {
                Ok(Inbound::Event {
                    kind: k,
                    call,
                    message,
                }) => {
                    assert_eq!(k, kind);
                    assert!(call.call_id.is_some());
                    assert_eq!(message["type"], kind);
                }
                other => panic!("{other:?}"),
            }
        }
        let Ok(Inbound::Event { call, message, .. }) = parse_webhook(E4.as_bytes()) else {
            panic!("E4 is an event");
        };
        assert_eq!(call.customer_number.as_deref(), Some("+14155550123"));
        assert_eq!(call.phone_number.as_deref(), Some("+14155550100"));
        assert_eq!(message["analysis"]["successEvaluation"], "true");
        let Ok(Inbound::Event { call, .. }) = parse_webhook(E6.as_bytes()) else {
            panic!("E6 is an event");
        };
        assert_eq!(call.customer_number.as_deref(), Some("+14155550123"));
        assert_eq!(call.phone_number, None);
    }

    #[test]
    fn e5_function_call_object_and_string_parameters() {
        let expected = Ok(obj(json!({"appointmentId": "A-1042", "confirmed": true})));
        let string_form = E5.replace(
            r#""parameters": { "appointmentId": "A-1042", "confirmed": true }"#,
            r#""parameters": "{\"appointmentId\":\"A-1042\",\"confirmed\":true}""#,
        );
        assert_ne!(string_form, E5, "fixture edit applied");
        for body in [E5.to_string(), string_form] {
            match parse_webhook(body.as_bytes()) {
                Ok(Inbound::FunctionCall { call, name, args }) => {
                    assert_eq!(name, "confirmAppointment");
                    assert_eq!(args, expected);
                    assert_eq!(call.call_type.as_deref(), Some("outboundPhoneCall"));
                }
                other => panic!("{other:?}"),
            }
        }
        let reply = function_call_response(&Ok(
            "Appointment A-1042 is confirmed for Monday 24 Nov at 11:30.".into(),
        ));
        assert_eq!(
            reply,
            serde_json::from_str::<Value>(E5_REPLY).expect("E5 reply parses")
        );
    }

    #[test]
    fn function_call_junk() {
        let fc = |function: Value| match parse_webhook(
            with_message(json!({"type": "function-call", "functionCall": function})).as_bytes(),
        ) {
            Ok(Inbound::FunctionCall { name, args, .. }) => (name, args),
            other => panic!("{other:?}"),
        };
        assert!(fc(json!(null)).1.is_err());
        assert!(fc(json!([1])).1.is_err());
        assert_eq!(fc(json!({"name": "f"})).1, Ok(Map::new()));
        assert_eq!(
            fc(json!({"name": "f", "arguments": "{\"a\":1}"})).1,
            Ok(obj(json!({"a": 1})))
        );
        assert_eq!(
            fc(json!({"name": "f", "parameters": "{bad"})).1,
            Err("The arguments for f were not valid JSON.".into())
        );
    }

    #[test]
    fn envelope_errors() {
        assert_eq!(parse_webhook(b""), Err(ParseError::NotJson));
        assert_eq!(parse_webhook(b"{\"message\":"), Err(ParseError::NotJson));
        assert_eq!(parse_webhook(b"\xff\xfe{}"), Err(ParseError::NotJson));
        assert_eq!(parse_webhook(b"[]"), Err(ParseError::NotAnObject));
        assert_eq!(parse_webhook(b"\"message\""), Err(ParseError::NotAnObject));
        assert_eq!(parse_webhook(b"{}"), Err(ParseError::MissingMessage));
        assert_eq!(
            parse_webhook(b"{\"message\":[]}"),
            Err(ParseError::MissingMessage)
        );
        assert_eq!(
            parse_webhook(b"{\"message\":\"tool-calls\"}"),
            Err(ParseError::MissingMessage)
        );
        // A UTF-8 byte-order mark is tolerated.
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), E1.as_bytes()].concat();
        assert!(matches!(
            parse_webhook(&with_bom),
            Ok(Inbound::ToolCalls { .. })
        ));
        // A message without `type` and without tool calls is an event with an empty kind.
        assert!(matches!(
            parse_webhook(b"{\"message\":{}}"),
            Ok(Inbound::Event { ref kind, .. }) if kind.is_empty()
        ));
    }

    #[test]
    fn deeply_nested_junk_is_rejected_without_overflow() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(
            parse_webhook(deep(100_000).as_bytes()),
            Err(ParseError::NotJson)
        );
        let unclosed = format!("{{\"message\":{}", "{\"a\":".repeat(50_000));
        assert_eq!(parse_webhook(unclosed.as_bytes()), Err(ParseError::NotJson));
        // Within serde_json's depth limit it parses and is simply ignored.
        let body = format!(
            "{{\"message\":{{\"type\":\"tool-calls\",\"junk\":{},\"toolCallList\":[]}}}}",
            deep(100)
        );
        assert!(matches!(
            parse_webhook(body.as_bytes()),
            Ok(Inbound::ToolCalls { .. })
        ));
        // Deep nesting hidden inside a string argument is that call's error.
        let call = single_call(json!([{"id": "c", "name": "t", "arguments": deep(100_000)}]));
        assert_eq!(
            call.args,
            Err("The arguments for t were not valid JSON.".into())
        );
    }

    #[test]
    fn tool_request_accepts_envelope_bare_message_and_legacy_shape() {
        let wrapped = parse_tool_request(E1.as_bytes());
        assert_eq!(wrapped, parse_webhook(E1.as_bytes()));
        let inner = serde_json::from_str::<Value>(E1).expect("E1 parses")["message"].to_string();
        assert_eq!(parse_tool_request(inner.as_bytes()), wrapped);

        let mut untyped = obj(serde_json::from_str(&inner).expect("inner parses"));
        untyped.remove("type");
        let Ok(Inbound::ToolCalls { calls, .. }) =
            parse_tool_request(Value::Object(untyped).to_string().as_bytes())
        else {
            panic!("type-less message with a tool list is tool calls");
        };
        assert_eq!(calls.len(), 2);

        let legacy =
            legacy_body(json!({"patientName": "Dana Lee", "appointmentDate": "2025-11-24"}));
        match parse_tool_request(legacy.as_bytes()) {
            Ok(Inbound::ToolCalls { call, calls }) => {
                assert_eq!(call.call_id.as_deref(), Some("call-uuid"));
                assert_eq!(call.customer_number.as_deref(), Some("+14155550123"));
                assert_eq!(calls.len(), 1);
                assert_eq!(calls[0].id, "toolu_01");
                assert_eq!(calls[0].name, "book_appointment");
                assert_eq!(
                    calls[0].args,
                    Ok(obj(
                        json!({"patientName": "Dana Lee", "appointmentDate": "2025-11-24"})
                    ))
                );
            }
            other => panic!("{other:?}"),
        }

        let named = json!({"toolCallId": "x", "tool": {"function": {"name": "cancel_appointment"}, "arguments": "{}"}});
        let Ok(Inbound::ToolCalls { calls, .. }) = parse_tool_request(named.to_string().as_bytes())
        else {
            panic!("legacy shape without message");
        };
        assert_eq!(
            (calls[0].name.as_str(), calls[0].args.clone()),
            ("cancel_appointment", Ok(Map::new()))
        );

        let no_id = json!({"message": {"call": {"id": "c"}}, "tool": {"arguments": {}}});
        let Ok(Inbound::ToolCalls { calls, .. }) = parse_tool_request(no_id.to_string().as_bytes())
        else {
            panic!("legacy shape without id");
        };
        assert!(calls[0].args.is_err());

        assert_eq!(parse_tool_request(b"[1]"), Err(ParseError::NotAnObject));
        assert_eq!(parse_tool_request(b"nope"), Err(ParseError::NotJson));
        assert!(matches!(
            parse_tool_request(b"{\"hello\":1}"),
            Ok(Inbound::Event { ref kind, .. }) if kind.is_empty()
        ));
    }

    fn legacy_body(arguments: Value) -> String {
        json!({
            "toolCallId": "toolu_01",
            "message": {"call": {"id": "call-uuid", "type": "inboundPhoneCall", "customer": {"number": "+14155550123"}}},
            "tool": {"arguments": arguments}
        })
        .to_string()
    }

    #[test]
    fn legacy_booking_original_shape() {
        let args = json!({
            "organizationId": "org-1",
            "patientName": "Dana Lee",
            "patientPhone": "+14155550123",
            "appointmentDate": "2025-11-24",
            "appointmentTime": "11:30",
            "serviceType": "cleaning"
        });
        let (id, call, parsed) =
            parse_legacy_booking(legacy_body(args.clone()).as_bytes()).expect("parses");
        assert_eq!(id, "toolu_01");
        assert_eq!(call.call_id.as_deref(), Some("call-uuid"));
        assert_eq!(call.customer_number.as_deref(), Some("+14155550123"));
        assert_eq!(parsed, obj(args.clone()));

        let (_, _, parsed) =
            parse_legacy_booking(legacy_body(Value::String(args.to_string())).as_bytes())
                .expect("string args");
        assert_eq!(parsed, obj(args));

        assert_eq!(
            parse_legacy_booking(legacy_body(json!("{oops")).as_bytes()),
            Err(ParseError::BadArguments {
                tool_call_id: "toolu_01".into(),
                reason: "The arguments for book_appointment were not valid JSON.".into()
            })
        );
        // Without an id the reply cannot be matched and there is no idempotency key, so nothing is booked.
        let no_id = json!({"message": {"call": {"id": "c"}}, "tool": {"arguments": {"patientName": "Dana"}}});
        assert_eq!(
            parse_legacy_booking(no_id.to_string().as_bytes()),
            Err(ParseError::BadArguments {
                tool_call_id: String::new(),
                reason: "This tool call had no id, so it was not run.".into()
            })
        );
        assert_eq!(parse_legacy_booking(b"{}"), Err(ParseError::NoToolCall));
        assert_eq!(
            parse_legacy_booking(b"{\"message\":{}}"),
            Err(ParseError::NoToolCall)
        );
        assert_eq!(parse_legacy_booking(b"{"), Err(ParseError::NotJson));
        assert_eq!(parse_legacy_booking(b"7"), Err(ParseError::NotAnObject));
    }

    #[test]
    fn legacy_booking_accepts_the_standard_envelope() {
        let body = with_message(json!({
            "type": "tool-calls",
            "call": {"id": "c-1"},
            "toolCallList": [
                {"id": "other", "function": {"name": "get_clinic_context", "arguments": {}}},
                {"id": "book", "function": {"name": "bookClinicAppointment", "arguments": "{\"patientName\":\"Dana\"}"}}
            ]
        }));
        let (id, call, args) = parse_legacy_booking(body.as_bytes()).expect("parses");
        assert_eq!(id, "book");
        assert_eq!(call.call_id.as_deref(), Some("c-1"));
        assert_eq!(args, obj(json!({"patientName": "Dana"})));
        let (id, _, _) = parse_legacy_booking(E2.as_bytes()).expect("E2 parses");
        assert_eq!(id, "call_Ss5z0VbN2cAd3Ee4Ff5Gg6Hh");
    }

    #[test]
    fn reply_builders_are_single_line() {
        let replies = [
            ToolReply {
                tool_call_id: "a".into(),
                name: "t".into(),
                outcome: Ok("Line one.\r\nLine two.\tTabbed.\n".into()),
            },
            ToolReply {
                tool_call_id: "b".into(),
                name: "t".into(),
                outcome: Err("Failed:\n\n  details".into()),
            },
            ToolReply {
                tool_call_id: "c".into(),
                name: "t".into(),
                outcome: Err(" \n ".into()),
            },
        ];
        assert_eq!(
            tool_calls_response(&replies),
            json!({"results": [
                {"toolCallId": "a", "name": "t", "result": "Line one. Line two. Tabbed."},
                {"toolCallId": "b", "name": "t", "error": "Failed: details"},
                {"toolCallId": "c", "name": "t", "error": "The tool failed."}
            ]})
        );
        assert_eq!(tool_calls_response(&[]), json!({"results": []}));
        assert_eq!(
            function_call_response(&Err("No\nslot".into())),
            json!({"result": "No slot"})
        );
    }

    #[test]
    fn single_line_rules() {
        assert_eq!(single_line("a\r\nb"), "a b");
        assert_eq!(single_line("a \n\t b"), "a b");
        assert_eq!(single_line("a\u{2028}b\u{0}c"), "a b c");
        assert_eq!(single_line("keep  two spaces"), "keep  two spaces");
        assert_eq!(single_line("\n  padded \r\n"), "padded");
        assert_eq!(single_line(r#"{"note":"a  b"}"#), r#"{"note":"a  b"}"#);
        assert_eq!(single_line(""), "");
        assert!(!single_line("x\u{85}y\u{b}z\u{c}").contains(|c: char| c.is_control()));
    }

    /// Deterministic mutation run: every example truncated at every byte, plus byte flips, insertions and
    /// splices. Nothing may panic.
    #[test]
    fn mutated_bodies_never_panic() {
        let legacy = legacy_body(json!({"patientName": "Dana"}));
        let seeds = [E1, E2, E3, E3_2, E4, E5, E6, legacy.as_str()];
        let junk: &[&[u8]] = &[
            b"\"", b"{", b"}", b"[", b"]", b",", b":", b"\\", b"null", b"\xff", b"\"\"", b"[]",
            b"{}", b"1e999", b"-",
        ];
        let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let run = |body: &[u8]| {
            let _ = parse_webhook(body);
            let _ = parse_tool_request(body);
            let _ = parse_legacy_booking(body);
            if let Ok(Inbound::ToolCalls { calls, .. }) = parse_tool_request(body) {
                let replies: Vec<ToolReply> = calls
                    .iter()
                    .map(|c| c.reply(c.args.clone().map(|a| Value::Object(a).to_string())))
                    .collect();
                let _ = tool_calls_response(&replies);
            }
        };
        let mut count = 0usize;
        for seed in seeds {
            let bytes = seed.as_bytes();
            for cut in 0..=bytes.len() {
                run(&bytes[..cut]);
                run(&bytes[cut..]);
                count += 2;
            }
            for _ in 0..1_000 {
                let mut body = bytes.to_vec();
                for _ in 0..(1 + next() % 4) {
                    let at = (next() as usize) % (body.len() + 1);
                    match next() % 4 {
                        0 if at < body.len() => body[at] = next() as u8,
                        1 if at < body.len() => {
                            body.remove(at);
                        }
                        2 => {
                            let piece = junk[(next() as usize) % junk.len()];
                            body.splice(at..at, piece.iter().copied());
                        }
                        _ => {
                            let other = seeds[(next() as usize) % seeds.len()].as_bytes();
                            let from = (next() as usize) % other.len();
                            let to = (from + (next() as usize) % 64).min(other.len());
                            body.splice(at..at, other[from..to].iter().copied());
                        }
                    }
                }
                run(&body);
                count += 1;
            }
        }
        assert!(count > 8_000);
    }
}
