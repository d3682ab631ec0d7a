//! Texts through the clinic's own Twilio (a fake on loopback): verification codes, booking
//! confirmations with `smsStatus`, retries, opt-out, reminders across reschedule, cancel and
//! restart, secrets at rest, and isolation between clinics.

use crate::support;

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use support::messaging::code_in;
use support::messaging::{ACCOUNT_SID, AUTH_TOKEN};
use support::vapi::{data, CALLER};
use support::{Options, TestApp};
use voxanne::store::scope::operator_scope;
use voxanne::store::{orgs, twilio_credentials};

const MESSAGES: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

/// Monday 2026-08-10, 10:00 in New York.
async fn spawn() -> TestApp {
    spawn_with(vec![]).await
}

async fn spawn_with(extra: Vec<(&'static str, String)>) -> TestApp {
    TestApp::spawn_with(Options {
        now: Utc.with_ymd_and_hms(2026, 8, 10, 14, 0, 0).unwrap(),
        extra,
        ..Options::default()
    })
    .await
}

fn set_phone_booking(app: &TestApp, org_id: i64, hold_minutes: u32, verify: bool) {
    let scope = app
        .state
        .db
        .read_blocking(|c| operator_scope(c, org_id))
        .unwrap();
    app.state
        .db
        .write_blocking(move |tx| orgs::update_phone_booking(tx, &scope, hold_minutes, verify))
        .unwrap();
}

/// Books Thursday 2026-08-20 at 3:00 PM (New York) in one go; returns the reply's data.
async fn book(app: &TestApp, secret: &str, id: &str, time: &str) -> serde_json::Value {
    data(
        &app.tool(
            secret,
            id,
            "book_appointment",
            json!({"date": "2026-08-20", "time": time, "service": "Botox", "patientName": "Dana Lee", "patientPhone": CALLER}),
        )
        .await
        .unwrap(),
    )
}

#[tokio::test]
async fn reserve_send_code_verify_books_and_texts_the_confirmation() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    set_phone_booking(&app, app.a.org_id, 10, true);
    let s = app.vapi_secret(app.a.org_id);
    let hold = data(&app.tool(&s, "r1", "reserve_slot", json!({"date": "2026-08-20", "time": "3pm", "service": "botox", "patientName": "Dana Lee"})).await.unwrap());
    assert_eq!(hold["verificationRequired"], true);
    let hold_id = hold["holdId"].as_i64().unwrap();
    // Verification is required: a hold alone cannot be booked.
    let refused = data(
        &app.tool(&s, "b0", "book_appointment", json!({"holdId": hold_id}))
            .await
            .unwrap(),
    );
    assert_eq!(refused["reason"], "verification_required");

    let sent = app
        .tool(
            &s,
            "v1",
            "send_verification_code",
            json!({"holdId": hold_id}),
        )
        .await
        .unwrap();
    assert!(sent.contains("ending in 0123"), "{sent}");
    assert_eq!(data(&sent)["smsStatus"], "sent");
    let texts = app.texts();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].0, CALLER);
    let code = code_in(&texts[0].1);
    assert!(texts[0].1.contains("Alpha Clinic"), "{}", texts[0].1);

    let booked = app
        .tool(
            &s,
            "v2",
            "verify_code",
            json!({"holdId": hold_id, "code": code}),
        )
        .await
        .unwrap();
    assert!(
        booked.starts_with("You're booked for Botox on Thursday, August 20 at 3:00 PM."),
        "{booked}"
    );
    assert_eq!(data(&booked)["smsStatus"], "sent");
    let texts = app.texts();
    assert_eq!(texts.len(), 2);
    assert_eq!(
        texts[1].1,
        "Alpha Clinic: your Botox appointment is confirmed for Thursday, August 20 at 3:00 PM. Reply STOP to opt out."
    );
    app.texts_recorded().await;
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM messages WHERE org_id = ?1 AND purpose = 'confirmation'
             AND provider_sid LIKE 'SM%' AND status = 'queued' AND appointment_id = ?2",
            &[&app.a.org_id, &hold_id]
        ),
        1
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments WHERE id = ?1 AND status = 'confirmed' AND verified_at IS NOT NULL",
            &[&hold_id]
        ),
        1
    );
    // The Basic credentials are the clinic's own.
    let auth = app.twilio.requests_to(MESSAGES)[0]
        .header("authorization")
        .unwrap()
        .to_string();
    use base64::Engine;
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"));
    assert_eq!(auth, format!("Basic {expected}"));
    // Neither the code nor the token is readable at rest.
    assert!(!app.db_files_contain(code.as_bytes()));
    assert!(!app.db_files_contain(AUTH_TOKEN.as_bytes()));
    assert!(!app.db_files_contain(&AUTH_TOKEN.as_bytes()[..20]));
}

#[tokio::test]
async fn three_wrong_codes_lock_the_hold_and_an_expired_code_is_refused() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    set_phone_booking(&app, app.a.org_id, 30, true);
    let s = app.vapi_secret(app.a.org_id);
    let hold = data(&app.tool(&s, "r1", "reserve_slot", json!({"date": "2026-08-20", "time": "15:00", "service": "botox", "patientName": "Dana Lee"})).await.unwrap());
    let hold_id = hold["holdId"].as_i64().unwrap();

    // An expired code is refused, even when right.
    app.tool(
        &s,
        "v1",
        "send_verification_code",
        json!({"holdId": hold_id}),
    )
    .await
    .unwrap();
    let first = code_in(&app.texts()[0].1);
    app.clock.advance(Duration::minutes(11));
    let expired = data(
        &app.tool(
            &s,
            "v2",
            "verify_code",
            json!({"holdId": hold_id, "code": first}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(expired["reason"], "code_expired");

    app.tool(
        &s,
        "v3",
        "send_verification_code",
        json!({"holdId": hold_id}),
    )
    .await
    .unwrap();
    let right = code_in(&app.texts()[1].1);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for (i, tries_left) in [(1, 2), (2, 1)] {
        let reply = data(
            &app.tool(
                &s,
                &format!("w{i}"),
                "verify_code",
                json!({"holdId": hold_id, "code": wrong}),
            )
            .await
            .unwrap(),
        );
        assert_eq!(reply["triesLeft"], tries_left, "{reply}");
    }
    let locked = data(
        &app.tool(
            &s,
            "w3",
            "verify_code",
            json!({"holdId": hold_id, "code": wrong}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(locked["reason"], "verification_locked");
    // Locked: the right code, a new code and a direct booking are all refused.
    for (id, name, args) in [
        (
            "w4",
            "verify_code",
            json!({"holdId": hold_id, "code": right}),
        ),
        ("w5", "send_verification_code", json!({"holdId": hold_id})),
        ("w6", "book_appointment", json!({"holdId": hold_id})),
    ] {
        let reply = data(&app.tool(&s, id, name, args).await.unwrap());
        assert_eq!(reply["reason"], "verification_locked", "{name}: {reply}");
    }
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments WHERE status = 'confirmed'",
            &[]
        ),
        0
    );
    assert_eq!(app.texts().len(), 2);
}

#[tokio::test]
async fn at_most_three_codes_per_number_per_hour() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    set_phone_booking(&app, app.a.org_id, 30, true);
    let s = app.vapi_secret(app.a.org_id);
    let hold = data(&app.tool(&s, "r1", "reserve_slot", json!({"date": "2026-08-20", "time": "15:00", "service": "botox", "patientName": "Dana Lee"})).await.unwrap());
    for i in 0..3 {
        let reply = data(
            &app.tool(
                &s,
                &format!("c{i}"),
                "send_verification_code",
                json!({"holdId": hold["holdId"]}),
            )
            .await
            .unwrap(),
        );
        assert_eq!(reply["ok"], true);
    }
    let fourth = data(
        &app.tool(
            &s,
            "c3",
            "send_verification_code",
            json!({"holdId": hold["holdId"]}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(fourth["reason"], "too_many_codes");
    assert_eq!(app.texts().len(), 3);
}

#[tokio::test]
async fn a_transient_failure_is_retried_and_the_text_sent_once() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    app.twilio.respond(
        MESSAGES,
        500,
        r#"{"code":20500,"message":"Internal Server Error","status":500}"#,
    );
    let s = app.vapi_secret(app.a.org_id);
    let booked = book(&app, &s, "b1", "15:00").await;
    assert_eq!(booked["smsStatus"], "queued");
    // Not due yet: nothing more is sent.
    app.drain_outbox().await;
    assert_eq!(app.twilio.requests_to(MESSAGES).len(), 1);
    app.clock.advance(Duration::seconds(31));
    app.drain_outbox().await;
    app.drain_outbox().await;
    assert_eq!(app.twilio.requests_to(MESSAGES).len(), 2);
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM messages WHERE purpose = 'confirmation' AND status = 'retrying' AND error_code = 20500", &[]),
        1
    );
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM messages WHERE purpose = 'confirmation' AND provider_sid IS NOT NULL", &[]),
        1
    );
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM outbox WHERE purpose = 'confirmation' AND status = 'sent' AND attempts = 2", &[]),
        1
    );
}

#[tokio::test]
async fn an_opted_out_number_keeps_its_booking_and_gets_no_more_texts() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    app.twilio.respond(
        MESSAGES,
        400,
        r#"{"code":21610,"message":"Attempt to send to unsubscribed recipient","more_info":"https://www.twilio.com/docs/errors/21610","status":400}"#,
    );
    let s = app.vapi_secret(app.a.org_id);
    let booked = book(&app, &s, "b1", "15:00").await;
    assert_eq!(booked["smsStatus"], "failed_but_booked");
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments WHERE status = 'confirmed'",
            &[]
        ),
        1
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM sms_opt_outs WHERE org_id = ?1 AND phone = ?2",
            &[&app.a.org_id, &CALLER]
        ),
        1
    );
    let again = book(&app, &s, "b2", "16:00").await;
    assert_eq!(again["smsStatus"], "skipped");
    assert_eq!(app.twilio.requests_to(MESSAGES).len(), 1);
    // Not retried either.
    app.clock.advance(Duration::hours(3));
    app.drain_outbox().await;
    assert_eq!(app.twilio.requests_to(MESSAGES).len(), 1);
}

#[tokio::test]
async fn without_credentials_booking_works_and_texts_are_skipped() {
    let app = spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let booked = book(&app, &s, "b1", "15:00").await;
    assert_eq!(booked["ok"], true);
    assert_eq!(booked["smsStatus"], "skipped");
    assert!(app.twilio.requests().is_empty());
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM messages WHERE status = 'skipped' AND purpose = 'confirmation'",
            &[]
        ),
        1
    );
}

#[tokio::test]
async fn the_hourly_cap_per_number_refuses_and_audits() {
    let app = spawn_with(vec![("VOXANNE_SMS_HOURLY_CAP", "2".into())]).await;
    app.set_twilio(app.a.org_id);
    let s = app.vapi_secret(app.a.org_id);
    let booked = book(&app, &s, "b1", "15:00").await;
    let id = booked["appointmentId"].clone();
    let second = data(
        &app.tool(
            &s,
            "c1",
            "send_confirmation_sms",
            json!({"appointmentId": id}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(second["smsStatus"], "sent");
    let third = data(
        &app.tool(
            &s,
            "c2",
            "send_confirmation_sms",
            json!({"appointmentId": id}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(third["smsStatus"], "failed_but_booked");
    assert_eq!(app.texts().len(), 2);
    app.texts_recorded().await;
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'sms.refused'",
            &[]
        ),
        1
    );
    // An hour later the number may be texted again.
    app.clock.advance(Duration::minutes(61));
    let later = data(
        &app.tool(
            &s,
            "c3",
            "send_confirmation_sms",
            json!({"appointmentId": id}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(later["smsStatus"], "sent");
}

fn reminders(app: &TestApp) -> Vec<String> {
    app.texts()
        .into_iter()
        .filter(|(_, b)| b.starts_with("Reminder"))
        .map(|(_, b)| b)
        .collect()
}

#[tokio::test]
async fn a_reminder_goes_out_once_at_its_moment_and_survives_a_restart() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    let s = app.vapi_secret(app.a.org_id);
    book(&app, &s, "b1", "15:00").await;
    // The visit is 2026-08-20 15:00 EDT = 19:00 UTC; the reminder is due at 19:00 UTC the day before.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 8, 19, 18, 59, 0).unwrap());
    app.drain_outbox().await;
    assert!(reminders(&app).is_empty());
    // A restart before the moment loses nothing.
    let app = app.restart().await;
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 8, 19, 19, 0, 0).unwrap());
    app.drain_outbox().await;
    app.drain_outbox().await;
    assert_eq!(
        reminders(&app),
        vec!["Reminder from Alpha Clinic: your Botox appointment is Thursday, August 20 at 3:00 PM. Reply STOP to opt out.".to_string()]
    );
    // ...and a restart after it sends nothing again.
    let app = app.restart().await;
    app.clock.advance(Duration::hours(1));
    app.drain_outbox().await;
    assert!(app.twilio.requests().is_empty());
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM messages WHERE purpose = 'reminder' AND provider_sid IS NOT NULL",
            &[]
        ),
        1
    );
}

#[tokio::test]
async fn a_reminder_cut_off_mid_send_by_a_crash_is_looked_up_then_sent_once() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    let s = app.vapi_secret(app.a.org_id);
    book(&app, &s, "b1", "15:00").await;
    // As if the process died after claiming the reminder, before it reached Twilio.
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    conn.execute(
        "UPDATE outbox SET status = 'sending' WHERE purpose = 'reminder'",
        [],
    )
    .unwrap();
    drop(conn);
    let app = app.restart().await;
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 8, 19, 19, 0, 0).unwrap());
    app.drain_outbox().await;
    app.drain_outbox().await;
    let texts = app.texts();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'reminder' AND status = 'sent'",
            &[]
        ),
        1
    );
}

#[tokio::test]
async fn a_reschedule_moves_the_reminder_and_a_cancel_drops_it() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    let s = app.vapi_secret(app.a.org_id);
    book(&app, &s, "b1", "15:00").await;
    let moved = app
        .tool(
            &s,
            "m1",
            "reschedule_appointment",
            json!({"newDate": "2026-08-21", "newTime": "10:00"}),
        )
        .await
        .unwrap();
    assert!(moved.starts_with("Done"), "{moved}");
    app.drain_outbox().await;
    assert!(app.texts().iter().any(|(_, b)| b.contains(
        "has moved from Thursday, August 20 at 3:00 PM to Friday, August 21 at 10:00 AM"
    )));
    // The old moment passes without a reminder; the new one brings exactly one.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 8, 19, 19, 0, 0).unwrap());
    app.drain_outbox().await;
    assert!(reminders(&app).is_empty());
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 8, 20, 14, 0, 0).unwrap());
    app.drain_outbox().await;
    app.drain_outbox().await;
    assert_eq!(reminders(&app).len(), 1);
    assert!(reminders(&app)[0].contains("Friday, August 21 at 10:00 AM"));

    // A second booking, cancelled: its reminder never goes.
    let second = book(&app, &s, "b2", "16:00").await;
    app.tool(
        &s,
        "x1",
        "cancel_appointment",
        json!({"appointmentId": second["appointmentId"]}),
    )
    .await
    .unwrap();
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 8, 21, 20, 0, 0).unwrap());
    app.drain_outbox().await;
    assert_eq!(reminders(&app).len(), 1);
    assert!(app
        .texts()
        .iter()
        .any(|(_, b)| b.contains("has been cancelled")));
}

#[tokio::test]
async fn credentials_and_messages_stay_with_their_clinic() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    let (sa, sb) = (app.vapi_secret(app.a.org_id), app.vapi_secret(app.b.org_id));
    let booked_a = book(&app, &sa, "b1", "15:00").await;
    // Org B has no credentials of its own: its texts are skipped, never sent with A's.
    let b_hold = data(&app.tool(&sb, "b1", "book_appointment", json!({"date": "2026-08-20", "time": "15:00", "service": "Botox", "patientName": "Bo", "patientPhone": "+447700900123"})).await.unwrap());
    assert_eq!(b_hold["smsStatus"], "skipped");
    assert_eq!(app.texts().len(), 1);
    // B cannot re-send A's confirmation.
    let foreign = data(
        &app.tool(
            &sb,
            "c1",
            "send_confirmation_sms",
            json!({"appointmentId": booked_a["appointmentId"]}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(foreign["reason"], "not_found");
    assert_eq!(app.texts().len(), 1);
    // B's view of messages has only its own.
    let (a_scope, b_scope) = app
        .state
        .db
        .read_blocking(|c| Ok((operator_scope(c, 1)?, operator_scope(c, 2)?)))
        .unwrap();
    let b_messages = app
        .state
        .db
        .read_blocking(|c| voxanne::store::messages::list(c, &b_scope, 100))
        .unwrap();
    assert!(b_messages.iter().all(|m| m.recipient != CALLER));
    let b_creds = app
        .state
        .db
        .read_blocking(|c| twilio_credentials::summary(c, &b_scope))
        .unwrap();
    assert!(b_creds.is_none());
    // A's sealed token copied into B's row does not open there.
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    conn.execute(
        "INSERT INTO twilio_credentials (org_id, account_sid, secret_enc, secret_last4, from_number, updated_at)
         SELECT ?1, account_sid, secret_enc, secret_last4, from_number, updated_at FROM twilio_credentials WHERE org_id = ?2",
        [app.b.org_id, app.a.org_id],
    )
    .unwrap();
    let vault = app.state.vault.clone();
    let stolen = app
        .state
        .db
        .read_blocking(|c| twilio_credentials::get(c, &vault, &b_scope));
    assert!(stolen.is_err());
    let own = app
        .state
        .db
        .read_blocking(|c| twilio_credentials::get(c, &vault, &a_scope))
        .unwrap()
        .unwrap();
    assert_eq!(own.secret.expose(), AUTH_TOKEN);
    // B's texts now fail to decrypt rather than go out through A's account.
    let again = data(&app.tool(&sb, "b2", "book_appointment", json!({"date": "2026-08-20", "time": "16:00", "service": "Botox", "patientName": "Bo", "patientPhone": "+447700900123"})).await.unwrap());
    assert_eq!(again["smsStatus"], "queued");
    assert_eq!(app.texts().len(), 1);
    app.texts_recorded().await;
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM outbox WHERE org_id = ?1 AND status = 'sending'",
            &[&app.b.org_id]
        ),
        0
    );
}

#[tokio::test]
async fn twilio_show_prints_the_setup_redacted() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    let shown = voxanne::cli::twilio_show(&app.config, Some(app.a.org_id)).unwrap();
    let text = shown.to_string();
    assert!(!text.contains(AUTH_TOKEN), "{text}");
    assert_eq!(
        shown["secret"],
        format!("***{}", &AUTH_TOKEN[AUTH_TOKEN.len() - 4..])
    );
    assert_eq!(shown["from_number"], "+15005550006");
    let bad = voxanne::cli::twilio_set(
        &app.config,
        Some(app.a.org_id),
        &twilio_credentials::Input {
            account_sid: "AC123",
            key_sid: None,
            secret: AUTH_TOKEN,
            from_number: Some("+15005550006"),
            messaging_service_sid: None,
        },
    );
    assert!(bad.unwrap_err().to_string().contains("Account SID"));
    // Nothing changed.
    assert_eq!(
        voxanne::cli::twilio_show(&app.config, Some(app.a.org_id)).unwrap(),
        shown
    );
}

#[tokio::test]
async fn owners_set_texts_and_reminder_hours_in_settings() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let bad = owner
        .post(app.url("/settings/texts"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("sms_enabled", "1"),
            ("reminder_hours", "500"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let (staff, staff_csrf) = app.signed_in(app.a.staff_email).await;
    let refused = staff
        .post(app.url("/settings/texts"))
        .form(&[("csrf_token", staff_csrf.as_str()), ("reminder_hours", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let no_csrf = owner
        .post(app.url("/settings/texts"))
        .form(&[("reminder_hours", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 400);
    assert_eq!(
        app.query_i64(
            "SELECT reminder_hours FROM orgs WHERE id = ?1",
            &[&app.a.org_id]
        ),
        24
    );
    let ok = owner
        .post(app.url("/settings/texts"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("sms_enabled", "1"),
            ("reminder_hours", "0"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()["location"], "/settings?saved=texts");
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'settings.texts'",
            &[]
        ),
        1
    );
    // Reminders off: a booking schedules none.
    let s = app.vapi_secret(app.a.org_id);
    book(&app, &s, "b1", "15:00").await;
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'reminder'",
            &[]
        ),
        0
    );
    // Texts off: the confirmation is skipped.
    owner
        .post(app.url("/settings/texts"))
        .form(&[("csrf_token", csrf.as_str()), ("reminder_hours", "24")])
        .send()
        .await
        .unwrap();
    let off = book(&app, &s, "b2", "16:00").await;
    assert_eq!(off["smsStatus"], "skipped");
    assert_eq!(app.texts().len(), 1);
}

#[tokio::test]
async fn the_messages_page_lists_the_clinics_texts_with_filters() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    let s = app.vapi_secret(app.a.org_id);
    // A patient name that tries to inject markup is shown as text.
    data(&app.tool(&s, "b1", "book_appointment", json!({"date": "2026-08-20", "time": "15:00", "service": "Botox", "patientName": "<script>x</script>", "patientPhone": CALLER})).await.unwrap());
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    let page = staff.get(app.url("/messages")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("confirmed for Thursday, August 20 at 3:00 PM"),
        "{html}"
    );
    assert!(html.contains(CALLER));
    assert!(html.contains("<code>SM"));
    let none = staff
        .get(app.url("/messages?purpose=reminder"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!none.contains("confirmed for Thursday"));
    // Unknown filter values are ignored rather than failing.
    let odd = staff
        .get(app.url("/messages?status=%27%20OR%201%3D1"))
        .send()
        .await
        .unwrap();
    assert_eq!(odd.status(), 200);
    // Another clinic sees none of it.
    let (b_owner, _) = app.signed_in(app.b.owner_email).await;
    let b_html = b_owner
        .get(app.url("/messages"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!b_html.contains(CALLER) && b_html.contains("No messages yet"));
    // Signed out: to the sign-in page.
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = anon.get(app.url("/messages")).send().await.unwrap();
    assert!(res.status().is_redirection());
}
