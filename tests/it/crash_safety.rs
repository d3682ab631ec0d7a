//! Tool calls that die between their commit and their reply, as in a crash: every tool that
//! acts is made to die there once (a failpoint only tests can arm), then the same tool call is
//! retried. The retry must answer the outcome that committed (never "just taken" for the
//! caller's own booking), and no text may go out twice.

use crate::support;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use support::vapi::{data, tool_calls, CALLER};
use support::{Options, TestApp};
use voxanne::failpoints::Failpoint;
use voxanne::store::orgs;
use voxanne::store::scope::operator_scope;

/// Monday 2026-08-10, 10:00 in New York.
async fn spawn() -> TestApp {
    let app = TestApp::spawn_with(Options {
        now: Utc.with_ymd_and_hms(2026, 8, 10, 14, 0, 0).unwrap(),
        ..Options::default()
    })
    .await;
    app.set_twilio(app.a.org_id);
    app.set_twilio(app.b.org_id);
    let org = app.a.org_id;
    let scope = app
        .state
        .db
        .read_blocking(move |c| operator_scope(c, org))
        .unwrap();
    app.state
        .db
        .write_blocking(move |tx| orgs::update_phone_booking(tx, &scope, 10, true))
        .unwrap();
    app
}

/// Posts one tool call with the failpoint armed: the request must die with no reply.
async fn dies(app: &TestApp, secret: &str, id: &str, name: &str, args: &Value) {
    app.state.failpoints.arm(Failpoint::ToolActed);
    let sent = reqwest::Client::new()
        .post(app.url("/api/vapi/tools"))
        .header("x-vapi-secret", secret)
        .json(&tool_calls(&[(id, name, args.clone())]))
        .send()
        .await;
    let reply = match sent {
        Ok(res) => res.text().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    assert!(reply.is_err(), "{name} answered {reply:?} despite dying");
}

/// The tool call `id` dies once after acting, then is retried (twice, the second after the
/// texts have gone out); returns the first retry's reply. Both retries report the same
/// outcome.
async fn dies_then_retried(
    app: &TestApp,
    secret: &str,
    id: &str,
    name: &str,
    args: Value,
) -> String {
    dies(app, secret, id, name, &args).await;
    let first = app.tool(secret, id, name, args.clone()).await.unwrap();
    app.drain_outbox().await;
    let again = app.tool(secret, id, name, args).await.unwrap();
    let (a, b) = (data(&first), data(&again));
    for key in ["ok", "holdId", "appointmentId", "start", "reason"] {
        assert_eq!(a.get(key), b.get(key), "{name}: {first} then {again}");
    }
    first
}

fn code_in(body: &str) -> String {
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {body}"))
        .to_string()
}

#[tokio::test]
async fn every_acting_tool_retried_after_dying_answers_what_committed() {
    let app = spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let count = |sql: &str| app.query_i64(sql, &[]);

    let held = dies_then_retried(
        &app,
        &s,
        "r1",
        "reserve_slot",
        json!({"date": "2026-08-20", "time": "3pm", "service": "botox", "patientName": "Dana Lee"}),
    )
    .await;
    assert!(
        held.starts_with("I'm holding Thursday, August 20 at 3:00 PM"),
        "{held}"
    );
    let hold_id = data(&held)["holdId"].as_i64().unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM appointments"), 1);

    let sent = dies_then_retried(
        &app,
        &s,
        "v1",
        "send_verification_code",
        json!({"holdId": hold_id}),
    )
    .await;
    assert!(sent.contains("ending in 0123"), "{sent}");
    let texts = app.texts();
    assert_eq!(texts.len(), 1, "{texts:?}");
    let code = code_in(&texts[0].1);

    let booked = dies_then_retried(
        &app,
        &s,
        "v2",
        "verify_code",
        json!({"holdId": hold_id, "code": code}),
    )
    .await;
    assert!(
        booked.starts_with(&format!("You're booked for Botox on Thursday, August 20 at 3:00 PM. Your confirmation number is {hold_id}.")),
        "{booked}"
    );
    assert_eq!(app.texts().len(), 2);

    let moved = dies_then_retried(
        &app,
        &s,
        "m1",
        "reschedule_appointment",
        json!({"appointmentId": hold_id, "newDate": "2026-08-21", "newTime": "11am"}),
    )
    .await;
    assert!(
        moved.contains("to Friday, August 21 at 11:00 AM"),
        "{moved}"
    );
    assert_eq!(app.texts().len(), 3);

    let again = dies_then_retried(
        &app,
        &s,
        "s1",
        "send_confirmation_sms",
        json!({"appointmentId": hold_id}),
    )
    .await;
    assert_eq!(data(&again)["ok"], true, "{again}");
    assert_eq!(app.texts().len(), 4);

    let cancelled = dies_then_retried(
        &app,
        &s,
        "c1",
        "cancel_appointment",
        json!({"appointmentId": hold_id, "reason": "travel"}),
    )
    .await;
    assert!(cancelled.contains("is cancelled"), "{cancelled}");
    assert_eq!(app.texts().len(), 5);

    // A one-shot booking (clinic B does not verify callers).
    let s_b = app.vapi_secret(app.b.org_id);
    let one_shot = json!({"date": "2026-08-20", "time": "3pm", "service": "botox", "patientName": "Sam Roe", "patientPhone": CALLER});
    let booked = dies_then_retried(&app, &s_b, "b1", "book_appointment", one_shot).await;
    assert!(booked.starts_with("You're booked for Botox"), "{booked}");
    assert!(!booked.contains("taken"), "{booked}");
    assert_eq!(app.texts().len(), 6);

    assert_eq!(count("SELECT COUNT(*) FROM appointments"), 2);
    assert_eq!(
        count("SELECT COUNT(*) FROM appointments WHERE status = 'confirmed'"),
        1
    );
    for action in [
        "appointment.held",
        "appointment.confirmed",
        "appointment.rescheduled",
        "appointment.cancelled",
        "appointment.booked",
    ] {
        assert_eq!(
            app.query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action = ?1",
                &[&action]
            ),
            1,
            "{action}"
        );
    }
    // Each text went out once: one outbox row per text, and Twilio saw each row once.
    let texts = app.texts();
    let mut bodies: Vec<&String> = texts.iter().map(|(_, b)| b).collect();
    bodies.sort();
    let confirmations = bodies
        .iter()
        .filter(|b| b.contains("is confirmed for"))
        .count();
    assert_eq!(confirmations, 3, "{bodies:?}");
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox WHERE purpose != 'reminder'"),
        6
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM tool_results WHERE tool_call_id IN ('r1','v1','v2','m1','s1','c1','b1')"),
        7
    );
}
