//! Turning the bodies Vapi POSTs to us into typed requests, and building the JSON replies it expects.
//!
//! Owns the wire shapes of `docs/vapi.md` §1.3 (`tool-calls`), §1.9 (legacy `function-call`), §2 (reply
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
    /// `message.call.phoneNumberId` ‖ `message.phoneNumber.id`: `docs/vapi.md` §1.1 says to look our number up by
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
    // Nearly every reply has no break at all; then only the ends can change.
    if !s
        .chars()
        .any(|ch| ch != ' ' && (ch.is_whitespace() || ch.is_control()))
    {
        return s.trim().to_string();
    }
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
mod tests;
