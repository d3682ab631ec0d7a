//! A whole phone conversation as tool calls, DST days in New York, and isolation between
//! clinics on the voice side.

use crate::support;

use chrono::{TimeZone, Utc};
use serde_json::json;
use support::vapi::data;
use support::{Options, TestApp};

#[tokio::test]
async fn a_full_phone_conversation_leaves_the_right_rows_and_audit_trail() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let ctx = data(
        &app.tool(&s, "t1", "get_clinic_context", json!({}))
            .await
            .unwrap(),
    );
    assert_eq!(ctx["today"], "2026-06-15");
    let avail = data(
        &app.tool(
            &s,
            "t2",
            "check_availability",
            json!({"date": "tomorrow", "service": "Botox", "partOfDay": "afternoon"}),
        )
        .await
        .unwrap(),
    );
    let first = avail["days"][0]["times"][0].as_str().unwrap().to_string();
    assert_eq!(first, "12:00");
    let hold = data(&app.tool(&s, "t3", "reserve_slot", json!({"date": "2026-06-16", "time": first, "service": "botox", "patientName": "Dana Lee"})).await.unwrap());
    let hold_id = hold["holdId"].as_i64().unwrap();
    // The held time is no longer offered.
    let again = data(
        &app.tool(
            &s,
            "t3b",
            "check_availability",
            json!({"date": "2026-06-16", "service": "botox"}),
        )
        .await
        .unwrap(),
    );
    assert!(!again["days"][0]["times"]
        .as_array()
        .unwrap()
        .contains(&json!("12:00")));
    let booked = app
        .tool(&s, "t4", "book_appointment", json!({"holdId": hold_id}))
        .await
        .unwrap();
    assert!(
        booked.starts_with("You're booked for Botox on Tuesday, June 16 at 12:00 PM."),
        "{booked}"
    );
    let found = app
        .tool(&s, "t5", "find_appointment", json!({}))
        .await
        .unwrap();
    assert!(found.contains("Tuesday, June 16 at 12:00 PM"), "{found}");
    let moved = app
        .tool(
            &s,
            "t6",
            "reschedule_appointment",
            json!({"newDate": "2026-06-17", "newTime": "2:30 pm"}),
        )
        .await
        .unwrap();
    assert!(
        moved.contains("to Wednesday, June 17 at 2:30 PM"),
        "{moved}"
    );
    let cancelled = app
        .tool(
            &s,
            "t7",
            "cancel_appointment",
            json!({"reason": "feeling better"}),
        )
        .await
        .unwrap();
    assert!(cancelled.contains("is cancelled"), "{cancelled}");

    assert_eq!(app.query_i64("SELECT COUNT(*) FROM appointments", &[]), 1);
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM appointments WHERE status = 'cancelled' AND cancel_reason = 'feeling better'", &[]), 1);
    let start = Utc
        .with_ymd_and_hms(2026, 6, 17, 18, 30, 0)
        .unwrap()
        .timestamp();
    assert_eq!(
        app.query_i64("SELECT start_at FROM appointments", &[]),
        start
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE phone = '+14155550123' AND name = 'Dana Lee'",
            &[]
        ),
        1
    );
    for (action, tool_call) in [
        ("appointment.held", "t3"),
        ("appointment.confirmed", "t4"),
        ("appointment.rescheduled", "t6"),
        ("appointment.cancelled", "t7"),
    ] {
        let pattern = format!("call=5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11 tool_call={tool_call}");
        assert_eq!(
            app.query_i64("SELECT COUNT(*) FROM audit_log WHERE action = ?1 AND (detail = ?2 OR detail LIKE ?2 || ' %') AND org_id = ?3", &[&action, &pattern, &app.a.org_id]),
            1,
            "{action}"
        );
    }
}

async fn open_sundays(app: &TestApp, open: &str, close: &str, slot: u32) {
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    let hours =
        format!(r#"{{"days":[[],[],[],[],[],[],[{{"open":"{open}:00","close":"{close}:00"}}]]}}"#);
    conn.execute(
        "UPDATE orgs SET hours_json = ?1, slot_minutes = ?2, min_notice_minutes = 0 WHERE id = ?3",
        rusqlite::params![hours, slot, app.a.org_id],
    )
    .unwrap();
}

#[tokio::test]
async fn spring_forward_day_in_new_york() {
    let app = TestApp::spawn_with(Options {
        now: Utc.with_ymd_and_hms(2026, 3, 1, 15, 0, 0).unwrap(),
        ..Default::default()
    })
    .await;
    let s = app.vapi_secret(app.a.org_id);
    open_sundays(&app, "01:00", "05:00", 60).await;
    let avail = data(
        &app.tool(
            &s,
            "d1",
            "check_availability",
            json!({"date": "2026-03-08", "service": "botox"}),
        )
        .await
        .unwrap(),
    );
    // 2:00 AM does not exist that night.
    assert_eq!(
        avail["days"][0]["times"],
        json!(["01:00", "03:00", "04:00"])
    );
    let gap = app.tool(&s, "d2", "reserve_slot", json!({"date": "2026-03-08", "time": "2:30 AM", "service": "botox", "patientName": "Gap"})).await;
    let gap = gap.unwrap_err();
    assert!(
        gap.contains("doesn't exist") && gap.contains("3:00 AM"),
        "{gap}"
    );
    let booked = app.tool(&s, "d3", "book_appointment", json!({"patientName": "Ann", "appointmentDate": "2026-03-08", "appointmentTime": "03:00", "serviceType": "botox"})).await.unwrap();
    assert!(booked.contains("Sunday, March 8 at 3:00 AM"), "{booked}");
    // 3:00 AM EDT is 07:00 UTC.
    assert_eq!(
        app.query_i64("SELECT start_at FROM appointments", &[]),
        Utc.with_ymd_and_hms(2026, 3, 8, 7, 0, 0)
            .unwrap()
            .timestamp()
    );

    open_sundays(&app, "09:00", "17:00", 60).await;
    let booked = app.tool(&s, "d4", "book_appointment", json!({"patientName": "Bo", "patientPhone": "+14155550111", "start": "2026-03-08T10:00:00", "serviceType": "botox"})).await.unwrap();
    assert!(booked.contains("Sunday, March 8 at 10:00 AM"), "{booked}");
    assert_eq!(
        app.query_i64("SELECT MAX(start_at) FROM appointments", &[]),
        Utc.with_ymd_and_hms(2026, 3, 8, 14, 0, 0)
            .unwrap()
            .timestamp()
    );
}

#[tokio::test]
async fn fall_back_day_in_new_york() {
    let app = TestApp::spawn_with(Options {
        now: Utc.with_ymd_and_hms(2026, 10, 25, 15, 0, 0).unwrap(),
        ..Default::default()
    })
    .await;
    let s = app.vapi_secret(app.a.org_id);
    open_sundays(&app, "00:00", "04:00", 60).await;
    let avail = data(
        &app.tool(
            &s,
            "f1",
            "check_availability",
            json!({"date": "2026-11-01", "service": "botox"}),
        )
        .await
        .unwrap(),
    );
    // 1:00 AM happens twice; it is offered once, and the day still has four hours of slots.
    assert_eq!(
        avail["days"][0]["times"],
        json!(["00:00", "01:00", "02:00", "03:00"])
    );
    let booked = app.tool(&s, "f2", "book_appointment", json!({"patientName": "Cy", "appointmentDate": "2026-11-01", "appointmentTime": "1:30 AM", "serviceType": "botox"})).await.unwrap();
    assert!(booked.contains("Sunday, November 1 at 1:30 AM"), "{booked}");
    // The first 1:30 AM, still on daylight time: 05:30 UTC.
    assert_eq!(
        app.query_i64("SELECT start_at FROM appointments", &[]),
        Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0)
            .unwrap()
            .timestamp()
    );

    open_sundays(&app, "09:00", "17:00", 60).await;
    let booked = app.tool(&s, "f3", "book_appointment", json!({"patientName": "Di", "patientPhone": "+14155550112", "appointmentDate": "November 1", "appointmentTime": "10am", "serviceType": "botox"})).await.unwrap();
    assert!(
        booked.contains("Sunday, November 1 at 10:00 AM"),
        "{booked}"
    );
    // Standard time again: 10:00 AM EST is 15:00 UTC.
    assert_eq!(
        app.query_i64("SELECT MAX(start_at) FROM appointments", &[]),
        Utc.with_ymd_and_hms(2026, 11, 1, 15, 0, 0)
            .unwrap()
            .timestamp()
    );
}

#[tokio::test]
async fn another_clinics_secret_never_reaches_these_bookings() {
    let app = TestApp::spawn().await;
    let a = app.vapi_secret(app.a.org_id);
    let b = app.vapi_secret(app.b.org_id);
    let booked = data(&app.tool(&a, "a1", "book_appointment", json!({"patientName": "Ann", "appointmentDate": "2026-06-16", "appointmentTime": "10:00", "serviceType": "botox"})).await.unwrap());
    let id = booked["appointmentId"].as_i64().unwrap();

    // Same caller, org B's line: nothing to find, move or cancel.
    let found = data(
        &app.tool(&b, "b1", "find_appointment", json!({}))
            .await
            .unwrap(),
    );
    assert_eq!(found["appointments"], json!([]));
    for (tid, tool, args) in [
        ("b2", "cancel_appointment", json!({"appointmentId": id})),
        (
            "b3",
            "reschedule_appointment",
            json!({"appointmentId": id, "newDate": "2026-06-17", "newTime": "11:00"}),
        ),
        ("b4", "book_appointment", json!({"holdId": id})),
    ] {
        let reply = app.tool(&b, tid, tool, args).await;
        let text = reply.clone().unwrap_or_else(|e| e);
        assert!(
            text.contains("couldn't find") || text.contains("no hold"),
            "{tool}: {text}"
        );
    }
    // Org A's tool-call ids are org A's: org B reusing one does not get A's stored reply.
    let reused = app
        .tool(&b, "a1", "get_service_price", json!({"service": "botox"}))
        .await
        .unwrap();
    assert!(reused.starts_with("Botox is"), "{reused}");
    assert_eq!(
        app.query_i64(
            "SELECT status = 'confirmed' FROM appointments WHERE id = ?1",
            &[&id]
        ),
        1
    );
    assert_eq!(
        app.query_i64("SELECT start_at FROM appointments WHERE id = ?1", &[&id]),
        Utc.with_ymd_and_hms(2026, 6, 16, 14, 0, 0)
            .unwrap()
            .timestamp()
    );
    // Org B's calendar is its own: the same local time is free there (London hours, 10:00 BST).
    let b_hold = data(&app.tool(&b, "b5", "reserve_slot", json!({"date": "2026-06-16", "time": "10:00", "service": "botox", "patientName": "Ben"})).await.unwrap());
    assert_eq!(b_hold["ok"], true);
}
