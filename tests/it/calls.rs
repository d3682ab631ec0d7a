//! Call events on the webhook: the reference payloads and their variants each leave one correct
//! call row; a booked botox call is scored, valued and linked; every server message gets the
//! answer Vapi expects; kept events survive a restart.

use crate::support;

use serde_json::{json, Value};
use support::calls::{fixture, legacy_fixture, report, with_call_id, REF_CALL};
use support::vapi::data;
use support::TestApp;

fn calls_count(app: &TestApp) -> i64 {
    app.query_i64("SELECT COUNT(*) FROM calls", &[])
}

async fn post_all(app: &TestApp, secret: &str, bodies: &[Value]) {
    for b in bodies {
        let (status, reply) = app.webhook(secret, b).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(
            reply,
            json!({}),
            "events are acknowledged with an empty object"
        );
    }
}

/// The reference replay in every order and with repeats ends in the same single row.
#[tokio::test]
async fn reference_payloads_in_any_order_leave_one_correct_call() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let live = fixture("e3_status_in_progress");
    let ended = fixture("e3_status_ended");
    let rep = fixture("e4_end_of_call_report");
    let orders: Vec<(&str, Vec<&Value>)> = vec![
        ("in order", vec![&live, &ended, &rep]),
        ("report first", vec![&rep, &ended, &live]),
        (
            "report before the status updates",
            vec![&rep, &live, &ended],
        ),
        ("the same report twice", vec![&live, &rep, &ended, &rep]),
        ("no ended status", vec![&live, &rep]),
        ("only the report", vec![&rep]),
    ];
    for (i, (label, order)) in orders.iter().enumerate() {
        let id = format!("order-{i}");
        let bodies: Vec<Value> = order
            .iter()
            .map(|b| with_call_id((*b).clone(), &id))
            .collect();
        post_all(&app, &s, &bodies).await;
        let rows = app.query_i64("SELECT COUNT(*) FROM calls WHERE vapi_call_id = ?1", &[&id]);
        assert_eq!(rows, 1, "{label}");
        let text = |c: &str| app.call_text(app.a.org_id, &id, c);
        let num = |c: &str| app.call_i64(app.a.org_id, &id, c);
        assert_eq!(text("status").as_deref(), Some("ended"), "{label}");
        assert_eq!(text("type").as_deref(), Some("inbound"), "{label}");
        assert_eq!(
            text("ended_reason").as_deref(),
            Some("customer-ended-call"),
            "{label}"
        );
        assert_eq!(num("duration_ms"), Some(231_290), "{label}");
        assert_eq!(num("started_at"), Some(1_763_675_981), "{label}");
        assert_eq!(num("ended_at"), Some(1_763_676_212), "{label}");
        assert_eq!(num("cost_micros"), Some(284_100), "{label}");
        assert_eq!(
            text("customer_number").as_deref(),
            Some("+14155550123"),
            "{label}"
        );
        assert_eq!(
            text("clinic_number").as_deref(),
            Some("+14155550100"),
            "{label}"
        );
        assert_eq!(
            text("recording_status").as_deref(),
            Some("completed"),
            "{label}"
        );
        assert!(
            text("transcript").unwrap().ends_with("User: 11:30 please."),
            "{label}"
        );
        assert_eq!(
            text("summary").as_deref(),
            Some("Caller Dana Lee booked a cleaning for Monday 24 Nov at 11:30."),
            "{label}"
        );
        assert_eq!(
            text("success_evaluation").as_deref(),
            Some("true"),
            "{label}"
        );
        assert!(num("lead_score").is_some(), "{label}: scored");
        assert!(num("contact_id").is_some(), "{label}: linked to the caller");
    }
    assert_eq!(calls_count(&app), orders.len() as i64);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE phone = '+14155550123'",
            &[]
        ),
        1,
        "one contact for one number"
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM call_events WHERE processed_at IS NULL OR body IS NOT NULL",
            &[]
        ),
        0,
        "every kept event is processed and its body dropped"
    );
    // A repeated report is kept once.
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM call_events WHERE call_id = 'order-3' AND type = 'end-of-call-report'",
            &[]
        ),
        1
    );
}

#[tokio::test]
async fn legacy_only_and_artifact_only_reports() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let mut legacy = with_call_id(legacy_fixture("e4_end_of_call_report"), "legacy");
    for k in ["artifact", "analysis", "startedAt", "endedAt", "cost"] {
        legacy["message"].as_object_mut().unwrap().remove(k);
    }
    // The SDK's shape has only the current fields.
    let current = with_call_id(fixture("e4_end_of_call_report"), "current");
    post_all(&app, &s, &[legacy, current]).await;
    for id in ["legacy", "current"] {
        assert_eq!(
            app.call_i64(app.a.org_id, id, "duration_ms"),
            Some(231_290),
            "{id}"
        );
        assert_eq!(
            app.call_text(app.a.org_id, id, "summary").as_deref(),
            Some("Caller Dana Lee booked a cleaning for Monday 24 Nov at 11:30."),
            "{id}"
        );
        assert!(app
            .call_text(app.a.org_id, id, "recording_url")
            .unwrap()
            .ends_with("-mono.wav"));
        assert_eq!(
            app.call_text(app.a.org_id, id, "status").as_deref(),
            Some("ended")
        );
    }
    // The legacy copy of the transcript is the two-line one.
    assert!(app
        .call_text(app.a.org_id, "legacy", "transcript")
        .unwrap()
        .ends_with("next Monday."));
    assert_eq!(app.call_i64(app.a.org_id, "legacy", "started_at"), None);
}

#[tokio::test]
async fn a_stale_status_never_moves_an_ended_call_back() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let rep = fixture("e4_end_of_call_report");
    let mut ringing = fixture("e3_status_in_progress");
    ringing["message"]["status"] = json!("ringing");
    let forwarding = json!({"message": {"type": "status-update", "status": "forwarding",
        "destination": {"type": "number", "number": "+14155550199"},
        "call": {"id": REF_CALL, "type": "inboundPhoneCall", "status": "in-progress"}}});
    post_all(
        &app,
        &s,
        &[rep, ringing, forwarding, fixture("e3_status_in_progress")],
    )
    .await;
    assert_eq!(calls_count(&app), 1);
    assert_eq!(
        app.call_text(app.a.org_id, REF_CALL, "status").as_deref(),
        Some("ended")
    );
    // The transfer is still recorded: later events fill what is missing.
    assert_eq!(
        app.call_text(app.a.org_id, REF_CALL, "transfer_to")
            .as_deref(),
        Some("+14155550199")
    );
}

#[tokio::test]
async fn a_three_minute_botox_call_that_books_is_a_hot_booked_lead_and_alerts_once() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    app.set_twilio(app.a.org_id);
    set_agent(&app, app.a.org_id, "hot_lead_alert_phone = '+14155550999'").await;
    // The assistant holds and books during the call (the tool calls carry REF_CALL).
    let hold = data(
        &app.tool(
            &s,
            "b1",
            "reserve_slot",
            json!({"date": "2026-06-16", "time": "12:00", "service": "botox", "patientName": "Dana Lee"}),
        )
        .await
        .unwrap(),
    );
    app.tool(
        &s,
        "b2",
        "book_appointment",
        json!({"holdId": hold["holdId"]}),
    )
    .await
    .unwrap();
    let body = report(
        REF_CALL,
        "+14155550123",
        &[
            ("AI", "Thanks for calling Alpha Clinic, how can I help?"),
            ("User", "Hi, I'd like to book botox for tomorrow."),
            ("AI", "I have noon free. Shall I book it?"),
            ("User", "Yes please, noon is great."),
        ],
        180.0,
    );
    post_all(&app, &s, std::slice::from_ref(&body)).await;
    let org = app.a.org_id;
    assert_eq!(app.call_i64(org, REF_CALL, "booked"), Some(1));
    let appointment = app.query_i64("SELECT id FROM appointments", &[]);
    assert_eq!(
        app.call_i64(org, REF_CALL, "appointment_id"),
        Some(appointment)
    );
    assert_eq!(app.call_i64(org, REF_CALL, "value_cents"), Some(40_000));
    let score = app.call_i64(org, REF_CALL, "lead_score").unwrap();
    assert!(score >= 70, "score {score}");
    assert_eq!(
        app.call_text(org, REF_CALL, "lead_tier").as_deref(),
        Some("hot")
    );
    let breakdown: Value =
        serde_json::from_str(&app.call_text(org, REF_CALL, "score_json").unwrap()).unwrap();
    let keys: Vec<&str> = breakdown["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["booking_intent", "booked", "value", "duration"]);
    assert_eq!(
        app.call_text(org, REF_CALL, "services_json").as_deref(),
        Some(r#"["Botox"]"#)
    );
    let contact = app.call_i64(org, REF_CALL, "contact_id").unwrap();
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE id = ?1 AND lead_status = 'booked' AND lead_tier = 'hot'
             AND name = 'Dana Lee' AND services_json = '[\"Botox\"]' AND last_contacted_at IS NOT NULL",
            &[&contact]
        ),
        1
    );
    // One alert to the owner's phone, saying who, what, how hot and that they booked.
    app.drain_outbox().await;
    let alerts = || -> Vec<String> {
        app.texts()
            .into_iter()
            .filter(|(to, _)| to == "+14155550999")
            .map(|(_, body)| body)
            .collect()
    };
    let sent = alerts();
    assert_eq!(sent.len(), 1, "{sent:?}");
    for part in [
        "Dana Lee",
        "+14155550123",
        "Botox",
        &format!("{score}/100"),
        "Booked",
    ] {
        assert!(sent[0].contains(part), "{part} missing from {}", sent[0]);
    }
    // The same report again changes nothing and sends nothing.
    post_all(&app, &s, std::slice::from_ref(&body)).await;
    app.drain_outbox().await;
    assert_eq!(calls_count(&app), 1);
    assert_eq!(app.call_i64(org, REF_CALL, "lead_score"), Some(score));
    assert_eq!(alerts().len(), 1);
    // Even processed a second time (its kept event gone), the call alerts once.
    rusqlite::Connection::open(app.config.db_path())
        .unwrap()
        .execute("DELETE FROM call_events", [])
        .unwrap();
    post_all(&app, &s, &[body]).await;
    app.drain_outbox().await;
    assert_eq!(alerts().len(), 1);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'hot_lead_alert'",
            &[]
        ),
        1
    );
}

#[tokio::test]
async fn calls_under_the_threshold_and_clinics_without_an_alert_phone_send_no_alert() {
    let app = TestApp::spawn().await;
    app.set_twilio(app.a.org_id);
    app.set_twilio(app.b.org_id);
    let s = app.vapi_secret(app.a.org_id);
    set_agent(
        &app,
        app.a.org_id,
        "hot_lead_alert_phone = '+14155550999', hot_lead_threshold = 90",
    )
    .await;
    // Wants to book (25), botox (10), three minutes (10): 45, under this clinic's 90.
    let under = report(
        "w-1",
        "+14155550123",
        &[("User", "I'd like to book botox, I'm so excited.")],
        180.0,
    );
    post_all(&app, &s, &[under]).await;
    assert_eq!(app.call_i64(app.a.org_id, "w-1", "lead_score"), Some(45));
    // Org B has no alert phone.
    let b = app.vapi_secret(app.b.org_id);
    let hot_b = report(
        "b-hot",
        "+14155550123",
        &[("User", "Book botox please")],
        300.0,
    );
    post_all(&app, &b, &[hot_b]).await;
    app.drain_outbox().await;
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'hot_lead_alert'",
            &[]
        ),
        0
    );
    // A lower threshold applies to the next call.
    set_agent(&app, app.a.org_id, "hot_lead_threshold = 30").await;
    let next = report(
        "w-2",
        "+14155550123",
        &[("User", "Can I book botox?")],
        180.0,
    );
    post_all(&app, &s, &[next]).await;
    app.drain_outbox().await;
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'hot_lead_alert' AND call_id = 'w-2' AND org_id = ?1",
            &[&app.a.org_id]
        ),
        1
    );
}

#[tokio::test]
async fn intent_without_a_booking_is_a_lost_lead_and_menus_read_by_the_assistant_add_no_value() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let body = report(
        "lost-1",
        "+14155550177",
        &[
            (
                "AI",
                "We offer Botox, Facelift, Rhinoplasty and Liposuction.",
            ),
            ("User", "How much are fillers? I might book later."),
        ],
        45.0,
    );
    post_all(&app, &s, &[body]).await;
    let org = app.a.org_id;
    assert_eq!(app.call_i64(org, "lost-1", "value_cents"), Some(50_000));
    assert_eq!(app.call_i64(org, "lost-1", "booked"), Some(0));
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE phone = '+14155550177' AND lead_status = 'lost'",
            &[]
        ),
        1
    );
    // A second call from the same number is a returning caller.
    let again = report(
        "lost-2",
        "+14155550177",
        &[("User", "Just checking your hours.")],
        30.0,
    );
    let mut again = again;
    again["message"]["startedAt"] = json!("2026-06-15T15:00:00Z");
    post_all(&app, &s, &[again]).await;
    let breakdown = app.call_text(org, "lost-2", "score_json").unwrap();
    assert!(breakdown.contains("\"returning\""), "{breakdown}");
}

#[tokio::test]
async fn informational_messages_are_acknowledged_and_not_kept() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    for kind in [
        "hang",
        "conversation-update",
        "speech-update",
        "transcript",
        "user-interrupted",
        "assistant.started",
        "model-output",
        "something-new",
    ] {
        let body = json!({"message": {"type": kind, "call": {"id": REF_CALL}, "timestamp": 1}});
        let (status, reply) = app.webhook(&s, &body).await;
        assert_eq!((status, reply), (200, json!({})), "{kind}");
    }
    assert_eq!(calls_count(&app), 0);
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM call_events", &[]), 0);
    // Requests the appliance has no answer for are declined in the shape Vapi requires.
    for (kind, reply) in [
        ("voice-request", json!({"data": ""})),
        ("call.endpointing.request", json!({"timeoutSeconds": 0.5})),
        (
            "handoff-destination-request",
            json!({"destination": {}, "error": voxanne::voice::events::NO_HANDOFF}),
        ),
    ] {
        let body = json!({"message": {"type": kind, "call": {"id": REF_CALL}, "timestamp": 1}});
        assert_eq!(app.webhook(&s, &body).await, (200, reply), "{kind}");
    }
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM call_events", &[]), 0);
    // The tool calls still work on the webhook (E5, legacy function-call).
    let (status, reply) = app.webhook(&s, &legacy_fixture("e5_function_call")).await;
    assert_eq!(status, 200);
    assert!(reply["result"].is_string(), "{reply}");
}

async fn set_agent(app: &TestApp, org: i64, sql: &str) {
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    conn.execute(&format!("UPDATE orgs SET {sql} WHERE id = ?1"), [org])
        .unwrap();
}

#[tokio::test]
async fn assistant_request_answers_from_the_settings() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let request = json!({"message": {"type": "assistant-request", "timestamp": 1781532000000u64,
        "call": {"id": "ar-1", "type": "inboundPhoneCall", "status": "ringing", "customer": {"number": "+14155550123"}},
        "customer": {"number": "+14155550123"}, "phoneNumber": {"number": "+14155550100"}}});
    let (status, reply) = app.webhook(&s, &request).await;
    assert_eq!(status, 200);
    assert!(reply["error"].is_string(), "{reply}");
    set_agent(
        &app,
        app.a.org_id,
        "fallback_transfer_number = '+14155550188'",
    )
    .await;
    let (_, reply) = app
        .webhook(&s, &with_call_id(request.clone(), "ar-2"))
        .await;
    assert_eq!(reply["destination"]["number"], "+14155550188");
    assert_eq!(reply["destination"]["type"], "number");
    set_agent(&app, app.a.org_id, "vapi_assistant_id = 'asst-alpha'").await;
    let (_, reply) = app
        .webhook(&s, &with_call_id(request.clone(), "ar-3"))
        .await;
    assert_eq!(reply, json!({"assistantId": "asst-alpha"}));
    // Org B's settings are its own.
    let b = app.vapi_secret(app.b.org_id);
    let (_, reply) = app.webhook(&b, &with_call_id(request, "ar-4")).await;
    assert!(reply["error"].is_string(), "{reply}");
    // Each request started its call's record.
    assert_eq!(
        app.call_text(app.a.org_id, "ar-3", "status").as_deref(),
        Some("ringing")
    );
    assert_eq!(
        app.call_text(app.a.org_id, "ar-3", "type").as_deref(),
        Some("inbound")
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM calls WHERE org_id = ?1",
            &[&app.b.org_id]
        ),
        1
    );
}

#[tokio::test]
async fn transfer_requests_follow_opening_hours() {
    // Monday 10:00 in New York: Alpha Clinic is open.
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let request = fixture("e6_transfer_destination_request");
    let (_, reply) = app.webhook(&s, &request).await;
    assert!(reply["error"].is_string(), "nothing configured: {reply}");
    set_agent(
        &app,
        app.a.org_id,
        "transfer_number = '+14155550199', fallback_transfer_number = '+14155550188'",
    )
    .await;
    let (status, reply) = app
        .webhook(&s, &with_call_id(request.clone(), "t-open"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(reply["destination"]["type"], "number");
    assert_eq!(reply["destination"]["number"], "+14155550199");
    assert!(reply["destination"]["message"].as_str().unwrap().len() > 10);
    assert_eq!(
        app.call_text(app.a.org_id, "t-open", "transfer_to")
            .as_deref(),
        Some("+14155550199")
    );
    assert!(app
        .call_text(app.a.org_id, "t-open", "transfer_reason")
        .unwrap()
        .contains("opening hours"));
    // 23:00 in New York: the fallback line.
    app.clock.advance(chrono::Duration::hours(13));
    let (_, reply) = app.webhook(&s, &with_call_id(request, "t-closed")).await;
    assert_eq!(reply["destination"]["number"], "+14155550188");
    assert!(reply["destination"]["message"]
        .as_str()
        .unwrap()
        .contains("closed"));
}

#[tokio::test]
async fn a_transfer_update_records_where_the_call_went() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    post_all(
        &app,
        &s,
        &[
            fixture("e3_status_in_progress"),
            fixture("e7_transfer_update"),
        ],
    )
    .await;
    assert_eq!(
        app.call_text(app.a.org_id, REF_CALL, "transfer_to")
            .as_deref(),
        Some("+14155550199")
    );
    assert_eq!(
        app.call_text(app.a.org_id, REF_CALL, "status").as_deref(),
        Some("forwarding")
    );
}

#[tokio::test]
async fn kept_events_are_processed_after_a_restart() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    post_all(&app, &s, &[fixture("e3_status_in_progress")]).await;
    let config = app.config.clone();
    let org = app.a.org_id;
    let dir = app.stop().await;
    // What a server that stopped between keeping and processing leaves behind.
    let body = with_call_id(fixture("e4_end_of_call_report"), REF_CALL)["message"].to_string();
    {
        let conn = rusqlite::Connection::open(config.db_path()).unwrap();
        conn.execute(
            "INSERT INTO call_events (org_id, call_id, type, dedupe, received_at, body)
             VALUES (?1, ?2, 'end-of-call-report', '', 1781532000, ?3)",
            rusqlite::params![org, REF_CALL, body],
        )
        .unwrap();
    }
    let clock = voxanne::clock::ManualClock::new(support::default_now());
    let app = voxanne::app::App::open(config.clone(), clock).unwrap();
    let done = voxanne::jobs::calls::run_due(app.state()).await.unwrap();
    assert_eq!(done, 1);
    assert_eq!(voxanne::jobs::calls::run_due(app.state()).await.unwrap(), 0);
    let conn = rusqlite::Connection::open(config.db_path()).unwrap();
    let (status, duration, pending): (String, i64, i64) = conn
        .query_row(
            "SELECT status, duration_ms, (SELECT COUNT(*) FROM call_events WHERE processed_at IS NULL)
             FROM calls WHERE vapi_call_id = ?1",
            [REF_CALL],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), duration, pending), ("ended", 231_290, 0));
    drop(dir);
}

#[tokio::test]
async fn an_event_whose_processing_fails_is_kept_redacted_and_retried() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    // Make processing fail for one call, as a bug or a full disk would.
    conn.execute_batch(
        "CREATE TRIGGER fail_boom BEFORE INSERT ON calls WHEN NEW.vapi_call_id = 'boom'
         BEGIN SELECT RAISE(ABORT, 'boom'); END;",
    )
    .unwrap();
    let body = report(
        "boom",
        "+14155550123",
        &[("User", "My SSN is 123-45-6789, can I book botox?")],
        120.0,
    );
    let (status, reply) = app.webhook(&s, &body).await;
    assert_eq!(
        (status, reply),
        (200, json!({})),
        "kept, so Vapi need not retry"
    );
    assert_eq!(calls_count(&app), 0, "nothing half-made");
    let (kept, attempts, error): (String, i64, String) = conn
        .query_row(
            "SELECT body, attempts, last_error FROM call_events WHERE call_id = 'boom' AND processed_at IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(attempts, 1);
    assert!(error.contains("boom"), "{error}");
    assert!(
        kept.contains("[redacted SSN]") && !kept.contains("6789"),
        "{kept}"
    );
    // While it still fails, the job leaves it; once fixed, the job processes it.
    assert_eq!(voxanne::jobs::calls::run_due(&app.state).await.unwrap(), 0);
    conn.execute_batch("DROP TRIGGER fail_boom").unwrap();
    // This run processes it, unless the appliance's own job loop got there first.
    assert!(voxanne::jobs::calls::run_due(&app.state).await.unwrap() <= 1);
    assert_eq!(
        app.call_text(app.a.org_id, "boom", "status").as_deref(),
        Some("ended")
    );
    assert!(app.call_i64(app.a.org_id, "boom", "lead_score").is_some());
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM call_events WHERE call_id = 'boom' AND processed_at IS NOT NULL AND body IS NULL AND attempts = 2",
            &[]
        ),
        1
    );
}

#[tokio::test]
async fn a_long_report_is_taken_and_an_oversized_body_is_refused() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    // About 3 MB (beyond the web framework's 2 MB default): a long call, every message kept.
    let line =
        "I would like to hear about every treatment you offer and what each one costs, please.";
    let lines: Vec<(&str, &str)> = (0..12_000)
        .map(|i| (if i % 2 == 0 { "User" } else { "AI" }, line))
        .collect();
    let long = report("call-long", "+14155550123", &lines, 7200.0);
    let size = long.to_string().len();
    assert!(size > 2 * 1024 * 1024, "{size} bytes");
    let (status, body) = app.webhook(&secret, &long).await;
    assert_eq!(status, 200, "{body}");
    let calls =
        |id: &str| app.query_i64("SELECT COUNT(*) FROM calls WHERE vapi_call_id = ?1", &[&id]);
    assert_eq!(calls("call-long"), 1);

    let padding = "x".repeat(voxanne::web::WEBHOOK_BODY_LIMIT);
    let huge = json!({"message": {"type": "status-update", "status": "ended",
        "call": {"id": "call-huge"}, "padding": padding}});
    let (status, _) = app.webhook(&secret, &huge).await;
    assert_eq!(status, 413);
    assert_eq!(calls("call-huge"), 0);
}

/// A lead's score and tier are its latest call's by call time, whichever report came last.
#[tokio::test]
async fn a_leads_tier_follows_its_latest_call_whatever_order_reports_arrive_in() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let caller = "+14155550142";
    let mut earlier = support::calls::report(
        "call-earlier",
        caller,
        &[
            ("AI", "Thanks for calling Alpha Clinic, how can I help?"),
            (
                "User",
                "I want to book a facelift consultation, how much is a facelift?",
            ),
            ("AI", "A facelift is $8,000. I can book a consultation."),
            ("User", "Yes, I'm ready to book as soon as possible."),
        ],
        420.0,
    );
    earlier["message"]["startedAt"] = json!("2026-06-10T15:00:00Z");
    let mut later = support::calls::report(
        "call-later",
        caller,
        &[
            ("AI", "Thanks for calling Alpha Clinic, how can I help?"),
            ("User", "What time do you close?"),
        ],
        15.0,
    );
    later["message"]["startedAt"] = json!("2026-06-15T13:00:00Z");
    // The later call's report arrives first, the earlier call's after it.
    post_all(&app, &s, &[later, earlier]).await;
    let org = app.a.org_id;
    let tier = |call: &str| app.call_text(org, call, "lead_tier").unwrap();
    assert_ne!(
        tier("call-earlier"),
        tier("call-later"),
        "the two calls score apart"
    );
    let contact = app.call_i64(org, "call-later", "contact_id").unwrap();
    let contact_tier = rusqlite::Connection::open(app.config.db_path())
        .unwrap()
        .query_row(
            "SELECT lead_tier FROM contacts WHERE id = ?1",
            [contact],
            |r| r.get::<_, String>(0),
        )
        .unwrap();
    assert_eq!(contact_tier, tier("call-later"));
    assert_eq!(
        app.query_i64("SELECT lead_score FROM contacts WHERE id = ?1", &[&contact]),
        app.call_i64(org, "call-later", "lead_score").unwrap()
    );
}
