//! Reading what a Vapi server message says about its call (`docs/vapi.md` §1.4–§1.8).
//!
//! Pure: the message is already redacted, nothing here does I/O. Every field is optional and
//! read leniently (Vapi adds and moves fields), current places first and the legacy top-level
//! ones as fallback: transcript `artifact.transcript` ‖ `transcript`, messages
//! `artifact.messages` ‖ `messages`, summary `analysis.summary` ‖ `summary`, recording
//! `artifact.recordingUrl` ‖ `artifact.recording.mono.combinedUrl` ‖ `recordingUrl`. The
//! embedded `call` object is a snapshot that may be stale, so its `status` is never used; the
//! message's own `status`, `endedReason`, `startedAt` and `endedAt` are.

use crate::domain::calls::{self, Authority, CallFacts, CallStatus, CallType, Transfer};
use crate::domain::lead::{self, Sentiment};
use crate::domain::phone::PhoneNumber;
use chrono::DateTime;
use serde_json::Value;

/// Server messages that change a call and are therefore kept and processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    StatusUpdate,
    Report,
    TransferUpdate,
    AssistantRequest,
    TransferRequest,
}

impl EventKind {
    pub fn from_type(kind: &str) -> Option<EventKind> {
        match kind {
            "status-update" => Some(EventKind::StatusUpdate),
            "end-of-call-report" => Some(EventKind::Report),
            "transfer-update" => Some(EventKind::TransferUpdate),
            "assistant-request" => Some(EventKind::AssistantRequest),
            "transfer-destination-request" => Some(EventKind::TransferRequest),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::StatusUpdate => "status-update",
            EventKind::Report => "end-of-call-report",
            EventKind::TransferUpdate => "transfer-update",
            EventKind::AssistantRequest => "assistant-request",
            EventKind::TransferRequest => "transfer-destination-request",
        }
    }
}

/// What makes two deliveries the same event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dedupe {
    /// status-update: one per status.
    Status(String),
    /// The end-of-call report: one per call.
    Once,
    /// Anything else: identical bodies.
    BodyHash,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    pub kind: EventKind,
    pub call_id: String,
    /// `message.status` as sent (status-update only).
    pub status: Option<String>,
    pub dedupe: Dedupe,
    pub facts: CallFacts,
    pub authority: Authority,
    pub customer_name: Option<String>,
    /// What the caller said (report only): their messages, else their transcript lines.
    pub caller_text: String,
}

/// Longest call id we accept; Vapi's are UUIDs.
const MAX_CALL_ID: usize = 128;

/// The call event in `message` (received at unix second `received_at`), or `None` when it is
/// not one we keep or names no call.
pub fn read(kind: &str, message: &Value, country: &str, received_at: i64) -> Option<CallEvent> {
    let kind = EventKind::from_type(kind)?;
    let call_id = text(at(message, &["call", "id"]))
        .or_else(|| text(message.get("callId")))
        .filter(|id| id.len() <= MAX_CALL_ID && !id.chars().any(char::is_control))?;
    let report = kind == EventKind::Report;
    let status = (kind == EventKind::StatusUpdate)
        .then(|| text(message.get("status")))
        .flatten();
    let event_status = match kind {
        EventKind::StatusUpdate => status.as_deref().and_then(CallStatus::parse),
        EventKind::Report => Some(CallStatus::Ended),
        EventKind::TransferUpdate => Some(CallStatus::Forwarding),
        EventKind::AssistantRequest => Some(CallStatus::Ringing),
        EventKind::TransferRequest => Some(CallStatus::InProgress),
    };
    let dedupe = match (kind, &status) {
        (EventKind::StatusUpdate, Some(s)) => Dedupe::Status(s.chars().take(40).collect()),
        (EventKind::Report, _) | (EventKind::AssistantRequest, _) => Dedupe::Once,
        _ => Dedupe::BodyHash,
    };
    // When the message has no usable timestamp, it happened about when it arrived.
    let stamp = instant_ms(message.get("timestamp"))
        .map(|ms| ms / 1000)
        .or(Some(received_at));
    let started_ms = instant_ms(message.get("startedAt"))
        .or_else(|| instant_ms(at(message, &["call", "startedAt"])));
    let ended_ms = instant_ms(message.get("endedAt"))
        .or_else(|| instant_ms(at(message, &["call", "endedAt"])));
    let mut facts = CallFacts {
        call_type: text(at(message, &["call", "type"])).and_then(|t| CallType::from_vapi(&t)),
        status: event_status,
        customer_number: phone(
            first_text(
                message,
                &[&["customer", "number"], &["call", "customer", "number"]],
            ),
            country,
        ),
        clinic_number: phone(
            first_text(
                message,
                &[
                    &["phoneNumber", "number"],
                    &["call", "phoneNumber", "number"],
                ],
            ),
            country,
        ),
        started_at: started_ms.map(|ms| ms / 1000),
        ended_at: ended_ms.map(|ms| ms / 1000),
        duration_ms: calls::duration_ms(
            number(message.get("durationSeconds")),
            number(message.get("durationMs")),
            number(message.get("durationMinutes")),
            started_ms,
            ended_ms,
        ),
        ended_reason: text(message.get("endedReason")),
        cost_micros: number(message.get("cost"))
            .filter(|c| c.is_finite() && (0.0..1e9).contains(c))
            .map(|c| (c * 1e6).round() as i64),
        summary: first_text(message, &[&["analysis", "summary"], &["summary"]]),
        transcript: first_text(message, &[&["artifact", "transcript"], &["transcript"]]),
        messages_json: conversation(message),
        recording_url: url(first_text(
            message,
            &[
                &["artifact", "recordingUrl"],
                &["artifact", "recording", "mono", "combinedUrl"],
                &["recordingUrl"],
            ],
        )),
        stereo_recording_url: url(first_text(
            message,
            &[
                &["artifact", "stereoRecordingUrl"],
                &["artifact", "recording", "stereoUrl"],
                &["stereoRecordingUrl"],
            ],
        )),
        recording_status: None,
        transfer: transfer(message, stamp),
        sentiment: None,
        sentiment_score: None,
        structured_data_json: at(message, &["analysis", "structuredData"])
            .filter(|v| v.is_object())
            .map(Value::to_string),
        success_evaluation: match at(message, &["analysis", "successEvaluation"]) {
            Some(Value::String(s)) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Some(v @ (Value::Bool(_) | Value::Number(_))) => Some(v.to_string()),
            _ => None,
        },
        report_received: report,
    };
    match event_status {
        Some(CallStatus::InProgress) if !report && facts.started_at.is_none() => {
            facts.started_at = stamp
        }
        Some(CallStatus::Ended) if !report && facts.ended_at.is_none() => facts.ended_at = stamp,
        _ => {}
    }
    (facts.sentiment, facts.sentiment_score) = sentiment(message, facts.summary.as_deref());
    let structured = at(message, &["analysis", "structuredData"]);
    let customer_name = first_text(
        message,
        &[&["customer", "name"], &["call", "customer", "name"]],
    )
    .or_else(|| {
        [
            "name",
            "customerName",
            "callerName",
            "patientName",
            "fullName",
        ]
        .iter()
        .find_map(|k| text(structured.and_then(|s| s.get(k))))
    })
    .filter(|n| n.chars().count() <= 80);
    let caller_text = if report {
        caller_text(message, facts.transcript.as_deref())
    } else {
        String::new()
    };
    Some(CallEvent {
        kind,
        call_id,
        status,
        dedupe,
        facts,
        authority: if report {
            Authority::Report
        } else {
            Authority::Live
        },
        customer_name,
        caller_text,
    })
}

/// The stored conversation: the messages without the system prompt (ours, and long).
fn conversation(message: &Value) -> Option<String> {
    let list = [
        at(message, &["artifact", "messages"]),
        message.get("messages"),
    ]
    .into_iter()
    .flatten()
    .find_map(Value::as_array)?;
    let kept: Vec<&Value> = list
        .iter()
        .filter(|m| m.is_object() && m.get("role").and_then(Value::as_str) != Some("system"))
        .collect();
    if kept.is_empty() {
        return None;
    }
    serde_json::to_string(&kept).ok()
}

fn caller_text(message: &Value, transcript: Option<&str>) -> String {
    let said: Vec<&str> = [
        at(message, &["artifact", "messages"]),
        message.get("messages"),
    ]
    .into_iter()
    .flatten()
    .find_map(Value::as_array)
    .map(|list| {
        list.iter()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .filter_map(|m| m.get("message").and_then(Value::as_str))
            .collect()
    })
    .unwrap_or_default();
    if !said.is_empty() {
        return said.join("\n");
    }
    transcript.map(calls::caller_lines).unwrap_or_default()
}

/// Label and score: `analysis.structuredData.sentiment` (and `sentimentScore`) when the
/// assistant is set up to produce them, else the keyword heuristic over the summary.
fn sentiment(message: &Value, summary: Option<&str>) -> (Option<Sentiment>, Option<f64>) {
    let structured = at(message, &["analysis", "structuredData"]);
    let label =
        text(structured.and_then(|s| s.get("sentiment"))).and_then(|l| Sentiment::from_label(&l));
    if let Some(label) = label {
        let score = number(structured.and_then(|s| s.get("sentimentScore")))
            .filter(|s| s.is_finite() && (-1.0..=1.0).contains(s))
            .unwrap_or(label.nominal_score());
        return (Some(label), Some(score));
    }
    match summary.and_then(lead::sentiment_with_score) {
        Some((label, score)) => (Some(label), Some(score)),
        None => (None, None),
    }
}

/// A forwarding status-update's `destination`, a transfer-update's, or the report's first
/// `artifact.transfers[]` entry.
fn transfer(message: &Value, stamp: Option<i64>) -> Option<Transfer> {
    let first_transfer = at(message, &["artifact", "transfers"])
        .and_then(Value::as_array)
        .and_then(|l| l.first());
    let dest = message
        .get("destination")
        .or_else(|| first_transfer.and_then(|t| t.get("destination")))
        .or(first_transfer)?;
    let to = text(dest.get("number")).or_else(|| text(dest.get("sipUri")))?;
    if to.chars().count() > 200 {
        return None;
    }
    let at_ms = first_transfer
        .and_then(|t| instant_ms(t.get("timestamp")).or_else(|| instant_ms(t.get("time"))));
    Some(Transfer {
        to,
        at: at_ms.map(|ms| ms / 1000).or(stamp),
        reason: text(dest.get("description"))
            .or_else(|| first_transfer.and_then(|t| text(t.get("reason"))))
            .map(|r| r.chars().take(300).collect()),
    })
}

fn phone(raw: Option<String>, country: &str) -> Option<String> {
    PhoneNumber::parse(&raw?, country)
        .ok()
        .map(|p| p.as_str().to_string())
}

fn url(raw: Option<String>) -> Option<String> {
    raw.filter(|u| {
        (u.starts_with("https://") || u.starts_with("http://"))
            && u.len() <= 2048
            && !u.chars().any(char::is_whitespace)
    })
}

/// An instant in ms since the epoch: a number (ms; seconds when small enough to be seconds)
/// or an RFC 3339 string. Vapi's `timestamp` was an ISO string in 2024 and is ms now.
pub fn instant_ms(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => {
            let x = n
                .as_f64()
                .filter(|x| x.is_finite() && *x > 0.0 && *x < 1e14)?;
            Some(if x < 1e11 { x * 1000.0 } else { x }.round() as i64)
        }
        Value::String(s) => DateTime::parse_from_rfc3339(s.trim())
            .ok()
            .map(|d| d.timestamp_millis()),
        _ => None,
    }
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn first_text(v: &Value, paths: &[&[&str]]) -> Option<String> {
    paths.iter().find_map(|p| text(at(v, p)))
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
