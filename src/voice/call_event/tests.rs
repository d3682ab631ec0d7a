use super::*;
use crate::domain::calls::RecordingStatus;
use serde_json::json;

const E3_LIVE: &str = include_str!("../../../tests/fixtures/vapi/e3_status_in_progress.json");
const E3_ENDED: &str = include_str!("../../../tests/fixtures/vapi/e3_status_ended.json");
/// The report as the SDK shapes it.
const E4: &str = include_str!("../../../tests/fixtures/vapi/e4_end_of_call_report.json");
/// The report with both the current fields and the legacy top-level copies.
const E4_BOTH: &str =
    include_str!("../../../tests/fixtures/vapi/legacy/e4_end_of_call_report.json");
const E6: &str = include_str!("../../../tests/fixtures/vapi/e6_transfer_destination_request.json");
const CALL: &str = "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11";

fn message(raw: &str) -> Value {
    let v: Value = serde_json::from_str(raw).unwrap();
    v["message"].clone()
}

fn event(m: &Value) -> CallEvent {
    let kind = m["type"].as_str().unwrap_or_default().to_string();
    read(&kind, m, "US", 1_763_700_000).expect("a call event")
}

#[test]
fn the_sdk_report_reads_as_the_one_with_legacy_copies() {
    let (sdk, both) = (event(&message(E4)), event(&message(E4_BOTH)));
    let (f, b) = (&sdk.facts, &both.facts);
    assert_eq!(
        (sdk.kind, sdk.dedupe, sdk.authority),
        (both.kind, both.dedupe, both.authority)
    );
    assert_eq!(
        (f.status, f.call_type, &f.customer_number, &f.clinic_number),
        (b.status, b.call_type, &b.customer_number, &b.clinic_number)
    );
    // Without durationMs the duration is endedAt − startedAt, to the millisecond.
    assert_eq!(
        (f.duration_ms, f.started_at, f.ended_at, f.cost_micros),
        (b.duration_ms, b.started_at, b.ended_at, b.cost_micros)
    );
    assert_eq!(
        (
            &f.transcript,
            &f.summary,
            &f.recording_url,
            &f.stereo_recording_url
        ),
        (
            &b.transcript,
            &b.summary,
            &b.recording_url,
            &b.stereo_recording_url
        )
    );
    assert_eq!(f.success_evaluation, b.success_evaluation);
    assert_eq!(f.structured_data_json, b.structured_data_json);
    assert_eq!(
        sdk.caller_text,
        "I'd like to book a cleaning next Monday.\n11:30 please."
    );
    let messages: Value = serde_json::from_str(f.messages_json.as_deref().unwrap()).unwrap();
    assert_eq!(
        messages.as_array().unwrap().len(),
        6,
        "system prompt dropped"
    );
}

#[test]
fn the_reference_report_reads_current_fields_first() {
    let e = event(&message(E4_BOTH));
    assert_eq!(e.kind, EventKind::Report);
    assert_eq!(e.call_id, CALL);
    assert_eq!(e.dedupe, Dedupe::Once);
    assert_eq!(e.authority, Authority::Report);
    let f = &e.facts;
    // The embedded call says in-progress; the report means ended.
    assert_eq!(f.status, Some(CallStatus::Ended));
    assert_eq!(f.call_type, Some(CallType::Inbound));
    assert_eq!(f.customer_number.as_deref(), Some("+14155550123"));
    assert_eq!(f.clinic_number.as_deref(), Some("+14155550100"));
    assert_eq!(f.duration_ms, Some(231_290));
    assert_eq!(f.started_at, Some(1_763_675_981));
    assert_eq!(f.ended_at, Some(1_763_676_212));
    assert_eq!(f.ended_reason.as_deref(), Some("customer-ended-call"));
    assert_eq!(f.cost_micros, Some(284_100));
    // artifact.transcript (four lines), not the shorter legacy copy.
    assert!(f
        .transcript
        .as_deref()
        .unwrap()
        .ends_with("User: 11:30 please."));
    assert_eq!(
        f.summary.as_deref(),
        Some("Caller Dana Lee booked a cleaning for Monday 24 Nov at 11:30.")
    );
    let messages: Value = serde_json::from_str(f.messages_json.as_deref().unwrap()).unwrap();
    assert_eq!(
        messages.as_array().unwrap().len(),
        4,
        "system prompt dropped"
    );
    assert_eq!(
        f.recording_url.as_deref(),
        Some("https://storage.vapi.ai/5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11-mono.wav")
    );
    assert!(f
        .stereo_recording_url
        .as_deref()
        .unwrap()
        .ends_with("-stereo.wav"));
    assert_eq!(f.success_evaluation.as_deref(), Some("true"));
    assert_eq!(
        serde_json::from_str::<Value>(f.structured_data_json.as_deref().unwrap()).unwrap()
            ["intent"],
        "book"
    );
    assert_eq!(e.caller_text, "I'd like to book a cleaning next Monday.");
    assert!(f.report_received);
}

#[test]
fn legacy_only_and_artifact_only_reports_read_the_same() {
    let full = message(E4_BOTH);
    let mut legacy = full.clone();
    let obj = legacy.as_object_mut().unwrap();
    obj.remove("artifact");
    obj.remove("analysis");
    obj.remove("startedAt");
    obj.remove("endedAt");
    let l = event(&legacy).facts;
    assert_eq!(l.summary, event(&full).facts.summary);
    assert!(l.transcript.as_deref().unwrap().starts_with("AI: Thanks"));
    assert_eq!(l.duration_ms, Some(231_290));
    assert!(l.recording_url.is_some() && l.stereo_recording_url.is_some());
    assert_eq!(l.started_at, None);

    let mut artifact_only = full.clone();
    let obj = artifact_only.as_object_mut().unwrap();
    for k in [
        "transcript",
        "summary",
        "recordingUrl",
        "stereoRecordingUrl",
        "durationMs",
        "durationSeconds",
        "durationMinutes",
    ] {
        obj.remove(k);
    }
    obj["artifact"]
        .as_object_mut()
        .unwrap()
        .remove("recordingUrl");
    let a = event(&artifact_only).facts;
    // Duration from startedAt/endedAt at millisecond precision; recording from recording.mono.
    assert_eq!(a.duration_ms, Some(231_290));
    assert!(a.recording_url.as_deref().unwrap().ends_with("-mono.wav"));
    assert_eq!(a.summary, event(&full).facts.summary);
}

#[test]
fn status_updates_use_their_own_status_and_timestamp() {
    let live = event(&message(E3_LIVE));
    assert_eq!(live.kind, EventKind::StatusUpdate);
    assert_eq!(live.dedupe, Dedupe::Status("in-progress".into()));
    assert_eq!(live.facts.status, Some(CallStatus::InProgress));
    assert_eq!(live.facts.started_at, Some(1_763_675_981));
    assert_eq!(live.authority, Authority::Live);
    let ended = event(&message(E3_ENDED));
    assert_eq!(ended.facts.status, Some(CallStatus::Ended));
    assert_eq!(ended.facts.ended_at, Some(1_763_676_212));
    assert_eq!(
        ended.facts.ended_reason.as_deref(),
        Some("customer-ended-call")
    );
    assert_eq!(ended.facts.customer_number.as_deref(), Some("+14155550123"));
    // An unknown status is kept as sent but moves nothing.
    let odd = json!({"type": "status-update", "status": "not-found", "call": {"id": CALL}});
    let e = event(&odd);
    assert_eq!(e.status.as_deref(), Some("not-found"));
    assert_eq!(e.facts.status, None);
}

#[test]
fn forwarding_status_carries_the_transfer() {
    let m = json!({"type": "status-update", "status": "forwarding", "timestamp": "2025-11-20T22:01:00Z",
        "destination": {"type": "number", "number": "+14155550199", "description": "office manager"},
        "call": {"id": CALL}});
    let t = event(&m).facts.transfer.unwrap();
    assert_eq!(t.to, "+14155550199");
    assert_eq!(t.at, Some(1_763_676_060));
    assert_eq!(t.reason.as_deref(), Some("office manager"));
}

#[test]
fn other_messages_and_nameless_calls_are_not_call_events() {
    let m = message(E6);
    assert_eq!(event(&m).kind, EventKind::TransferRequest);
    for kind in [
        "hang",
        "speech-update",
        "conversation-update",
        "transcript",
        "whatever",
    ] {
        assert!(read(kind, &json!({"call": {"id": CALL}}), "US", 0).is_none());
    }
    for call in [
        json!({}),
        json!({"id": ""}),
        json!({"id": "x".repeat(200)}),
        json!({"id": ["a"]}),
    ] {
        let m = json!({"type": "status-update", "status": "ended", "call": call});
        assert!(read("status-update", &m, "US", 0).is_none(), "{m}");
    }
}

#[test]
fn junk_in_fields_is_ignored_not_trusted() {
    let m = json!({"type": "end-of-call-report", "call": {"id": CALL, "type": 7},
        "customer": {"number": "not a phone"}, "cost": "NaN", "durationSeconds": -5,
        "artifact": {"recordingUrl": "javascript:alert(1)", "messages": "nope", "transcript": 12},
        "analysis": {"structuredData": [1, 2], "successEvaluation": {"a": 1}, "summary": null},
        "timestamp": "yesterday"});
    let f = event(&m).facts;
    assert_eq!(f.customer_number, None);
    assert_eq!(f.cost_micros, None);
    assert_eq!(f.duration_ms, None);
    assert_eq!(f.recording_url, None);
    assert_eq!(f.messages_json, None);
    assert_eq!(f.transcript.as_deref(), Some("12"));
    assert_eq!(f.structured_data_json, None);
    assert_eq!(f.success_evaluation, None);
    assert_eq!(f.call_type, None);
    assert_eq!(f.recording_status, None::<RecordingStatus>);
}

#[test]
fn sentiment_from_structured_data_else_the_summary() {
    let m = json!({"type": "end-of-call-report", "call": {"id": CALL},
        "analysis": {"summary": "The caller was frustrated.", "structuredData": {"sentiment": "Positive", "sentimentScore": 0.4}}});
    let f = event(&m).facts;
    assert_eq!(
        (f.sentiment, f.sentiment_score),
        (Some(Sentiment::Positive), Some(0.4))
    );
    let m = json!({"type": "end-of-call-report", "call": {"id": CALL},
        "analysis": {"summary": "The caller was frustrated."}});
    let f = event(&m).facts;
    assert_eq!(
        (f.sentiment, f.sentiment_score),
        (Some(Sentiment::Negative), Some(-1.0))
    );
}

#[test]
fn timestamps_in_ms_seconds_or_iso() {
    assert_eq!(
        instant_ms(Some(&json!(1763676219870u64))),
        Some(1_763_676_219_870)
    );
    assert_eq!(
        instant_ms(Some(&json!(1763676219))),
        Some(1_763_676_219_000)
    );
    assert_eq!(
        instant_ms(Some(&json!("2025-11-20T21:59:41.020Z"))),
        Some(1_763_675_981_020)
    );
    assert_eq!(instant_ms(Some(&json!(-1))), None);
    assert_eq!(instant_ms(Some(&json!(1e300))), None);
}
