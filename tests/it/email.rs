//! E-mail through the clinic's own mailbox, against a real SMTP server (aiosmtpd) with
//! STARTTLS required, AUTH only after TLS and a test CA: invitations that calendars act on,
//! failures in plain words with the right retry rule, implicit TLS, no password in clear on
//! the wire or at rest, and one clinic's mail invisible to another.

use crate::support;

use chrono::{TimeZone, Utc};
use serde_json::json;
use support::smtp::{self, calendar_part, header, Replies, SmtpServer, FROM_A, FROM_B};
use support::vapi::data;
use support::TestApp;
use voxanne::cli::{self, CliError};

const PATIENT: &str = "dana.lee@example.com";

/// A calendar parsed with the `ical` crate, and one property of its only event.
struct Parsed {
    method: String,
    event: ical::parser::ical::component::IcalEvent,
}

impl Parsed {
    fn of(ics: &str) -> Parsed {
        let cal = ical::IcalParser::new(ics.as_bytes())
            .next()
            .expect("one calendar")
            .expect("valid iCalendar");
        let method = cal
            .properties
            .iter()
            .find(|p| p.name == "METHOD")
            .and_then(|p| p.value.clone())
            .unwrap_or_default();
        assert_eq!(cal.events.len(), 1);
        Parsed {
            method,
            event: cal.events.into_iter().next().expect("event"),
        }
    }

    fn prop(&self, name: &str) -> String {
        self.event
            .properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_else(|| panic!("no {name}"))
    }
}

/// The invitation in a raw message: its Content-Type line and the parsed calendar.
fn invitation(raw: &str) -> (String, Parsed) {
    let (content_type, ics) =
        calendar_part(raw).unwrap_or_else(|| panic!("no text/calendar part in\n{raw}"));
    (content_type, Parsed::of(&ics))
}

/// Books 2026-06-16 12:00 New York by phone for Dana with an e-mail address.
async fn book_by_phone(app: &TestApp, org_id: i64) -> i64 {
    let s = app.vapi_secret(org_id);
    let held = app
        .tool(
            &s,
            "m1",
            "reserve_slot",
            json!({"date": "2026-06-16", "time": "12:00", "service": "botox",
                   "patientName": "Dana Lee", "patientEmail": PATIENT}),
        )
        .await
        .expect("held");
    // The address heard on the phone is read back to the caller.
    assert!(
        held.contains("d, a, n, a, dot, l, e, e, at example dot com"),
        "{held}"
    );
    let hold = data(&held);
    let booked = app
        .tool(
            &s,
            "m2",
            "book_appointment",
            json!({"holdId": hold["holdId"]}),
        )
        .await
        .expect("booked");
    assert!(booked.starts_with("You're booked"), "{booked}");
    data(&booked)["appointmentId"]
        .as_i64()
        .unwrap_or_else(|| hold["holdId"].as_i64().expect("id"))
}

/// `voxanne email test`, which blocks on its own runtime.
async fn email_test(app: &TestApp, org_id: i64, to: &str) -> Result<serde_json::Value, String> {
    let (config, to) = (app.config.clone(), to.to_string());
    tokio::task::spawn_blocking(move || cli::email_test(&config, Some(org_id), &to))
        .await
        .expect("join")
        .map_err(|e| match e {
            CliError::Message(m) => m,
            other => other.to_string(),
        })
}

#[tokio::test]
async fn a_phone_booking_sends_an_invitation_that_moves_and_cancels_with_the_same_uid() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    app.set_email(app.a.org_id, &server);
    let appt = book_by_phone(&app, app.a.org_id).await;
    app.drain_mail().await;

    let sent = server.messages();
    assert_eq!(sent.len(), 1, "one confirmation");
    let first = &sent[0];
    assert!(header(first, "From").unwrap().contains(FROM_A));
    assert!(header(first, "To").unwrap().contains(PATIENT));
    assert!(
        header(first, "Subject").unwrap().contains("Alpha Clinic"),
        "{first}"
    );
    assert!(header(first, "Message-ID")
        .unwrap()
        .ends_with("@alpha.test>"));
    assert!(header(first, "Date").is_some());
    assert!(first.contains("Content-Type: text/plain"), "{first}");
    assert!(first.contains("Content-Type: text/html"), "{first}");
    let (content_type, ics) = invitation(first);
    assert!(content_type.contains("method=REQUEST"), "{content_type}");
    assert_eq!(ics.method, "REQUEST");
    let start = app.query_i64("SELECT start_at FROM appointments WHERE id = ?1", &[&appt]);
    let expected = Utc.timestamp_opt(start, 0).unwrap();
    assert_eq!(
        expected,
        Utc.with_ymd_and_hms(2026, 6, 16, 16, 0, 0).unwrap()
    );
    assert_eq!(ics.prop("DTSTART"), "20260616T160000Z");
    assert_eq!(ics.prop("ORGANIZER"), format!("mailto:{FROM_A}"));
    assert_eq!(ics.prop("ATTENDEE"), format!("mailto:{PATIENT}"));
    assert_eq!(ics.prop("SEQUENCE"), "0");
    let uid = ics.prop("UID");
    // The clinic's zone labels the time people read.
    let text = smtp::text_part(first).expect("a plain-text part");
    assert!(
        text.contains("Your Botox at Alpha Clinic is booked for Tuesday, June 16 at 12:00 PM EDT."),
        "{text}"
    );

    let s = app.vapi_secret(app.a.org_id);
    app.tool(
        &s,
        "m3",
        "reschedule_appointment",
        json!({"newDate": "2026-06-17", "newTime": "2:30 pm"}),
    )
    .await
    .expect("moved");
    app.drain_mail().await;
    let sent = server.messages();
    assert_eq!(sent.len(), 2);
    let (content_type, moved) = invitation(&sent[1]);
    assert!(content_type.contains("method=REQUEST"));
    assert_eq!(moved.method, "REQUEST");
    assert_eq!(moved.prop("UID"), uid);
    assert_eq!(moved.prop("SEQUENCE"), "1");
    assert_eq!(moved.prop("DTSTART"), "20260617T183000Z");

    app.tool(&s, "m4", "cancel_appointment", json!({}))
        .await
        .expect("cancelled");
    app.drain_mail().await;
    let sent = server.messages();
    assert_eq!(sent.len(), 3);
    let (content_type, cancelled) = invitation(&sent[2]);
    assert!(content_type.contains("method=CANCEL"), "{content_type}");
    assert_eq!(cancelled.method, "CANCEL");
    assert_eq!(cancelled.prop("UID"), uid);
    assert_eq!(cancelled.prop("SEQUENCE"), "2");
    assert_eq!(cancelled.prop("STATUS"), "CANCELLED");

    // Every attempt is in `messages` with the server's queue id; the reminder was withdrawn.
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM messages WHERE method = 'email' AND status = 'sent'
             AND provider_sid LIKE 'Q%' AND recipient = ?1 AND org_id = ?2",
            &[&PATIENT, &app.a.org_id]
        ),
        3
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM email_outbox WHERE purpose = 'reminder' AND status = 'pending'",
            &[]
        ),
        0
    );
    // The Messages page lists them as e-mails, by subject.
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    let page = staff
        .get(app.url("/messages"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("E-mail</span> Your appointment at Alpha Clinic is cancelled"),
        "{page}"
    );
}

#[tokio::test]
async fn a_refused_login_is_shown_in_plain_words_and_not_retried() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    let port = server.starttls_port.to_string();
    cli::email_set(
        &app.config,
        Some(app.a.org_id),
        &voxanne::store::email_settings::Input {
            password: "not-the-app-password",
            ..server.input(&port, "starttls", FROM_A)
        },
    )
    .expect("set");
    let why = email_test(&app, app.a.org_id, "owner@alpha.test")
        .await
        .expect_err("refused");
    assert!(
        why.starts_with("The mail server refused the login (535)"),
        "{why}"
    );
    assert!(why.contains("app password"), "{why}");

    book_by_phone(&app, app.a.org_id).await;
    app.drain_mail().await;
    let row = |sql: &str| app.query_i64(sql, &[]);
    assert_eq!(
        row("SELECT COUNT(*) FROM email_outbox WHERE purpose = 'confirmation' AND status = 'failed' AND attempts = 1 AND error_code = 535"),
        1
    );
    app.clock.advance(chrono::Duration::hours(1));
    app.drain_mail().await;
    assert_eq!(
        row("SELECT attempts FROM email_outbox WHERE purpose = 'confirmation'"),
        1
    );
    assert_eq!(
        row("SELECT COUNT(*) FROM messages WHERE method = 'email' AND status = 'failed' AND error_message LIKE 'The mail server refused the login (535)%'"),
        1
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn microsoft_s_550_5_7_30_is_named_and_not_retried() {
    let server = SmtpServer::start_with(Replies {
        mail: Some("550 5.7.30 Basic authentication is not supported for Client Submission."),
        ..Replies::default()
    });
    let app = TestApp::spawn().await;
    app.set_email(app.a.org_id, &server);
    let why = email_test(&app, app.a.org_id, "owner@alpha.test")
        .await
        .expect_err("refused");
    assert!(why.contains("Microsoft 365"), "{why}");
    assert!(why.contains("550 5.7.30"), "{why}");

    book_by_phone(&app, app.a.org_id).await;
    app.drain_mail().await;
    app.clock.advance(chrono::Duration::hours(1));
    app.drain_mail().await;
    assert_eq!(
        app.query_i64(
            "SELECT attempts FROM email_outbox WHERE purpose = 'confirmation' AND status = 'failed' AND error_code = 550",
            &[]
        ),
        1
    );
}

#[tokio::test]
async fn a_temporary_failure_is_retried_and_the_message_arrives_once() {
    let server = SmtpServer::start_with(Replies {
        data: Some(("421 4.3.2 Service not available, try again later", 1)),
        ..Replies::default()
    });
    let app = TestApp::spawn().await;
    app.set_email(app.a.org_id, &server);
    book_by_phone(&app, app.a.org_id).await;
    app.drain_mail().await;
    let status = || {
        let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
        conn.query_row(
            "SELECT status, attempts FROM email_outbox WHERE purpose = 'confirmation'",
            [],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )
        .unwrap()
    };
    assert_eq!(status(), ("pending".to_string(), 1));
    assert!(server.messages().is_empty());
    // Not before its backoff.
    app.clock.advance(chrono::Duration::seconds(10));
    app.drain_mail().await;
    assert_eq!(status(), ("pending".to_string(), 1));
    app.clock.advance(chrono::Duration::seconds(25));
    app.drain_mail().await;
    assert_eq!(status(), ("sent".to_string(), 2));
    // Later passes (before the reminder is due) send nothing more.
    app.clock.advance(chrono::Duration::minutes(30));
    app.drain_mail().await;
    assert_eq!(server.messages().len(), 1, "sent exactly once");
    assert_eq!(server.events_of("refused").len(), 1);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM messages WHERE method = 'email' AND purpose = 'confirmation'
             AND ((status = 'retrying' AND error_code = 421) OR status = 'sent')",
            &[]
        ),
        2
    );
}

#[tokio::test]
async fn implicit_tls_on_a_second_port_works() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    let port = server.tls_port.to_string();
    cli::email_set(
        &app.config,
        Some(app.a.org_id),
        &server.input(&port, "tls", FROM_A),
    )
    .expect("set");
    let sent = email_test(&app, app.a.org_id, "owner@alpha.test")
        .await
        .expect("sent");
    assert_eq!(sent["queue_id"], "Q0001");
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert!(header(&messages[0], "Subject")
        .unwrap()
        .contains("Test e-mail from Alpha Clinic"));
    // Implicit TLS against the STARTTLS port fails in plain words, naming the TLS mode.
    let starttls_port = server.starttls_port.to_string();
    cli::email_set(
        &app.config,
        Some(app.a.org_id),
        &server.input(&starttls_port, "tls", FROM_A),
    )
    .expect("set");
    let why = email_test(&app, app.a.org_id, "owner@alpha.test")
        .await
        .expect_err("wrong mode");
    assert!(why.contains("Check the TLS mode"), "{why}");
}

#[tokio::test]
async fn the_password_is_never_sent_before_tls() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    app.set_email(app.a.org_id, &server);
    email_test(&app, app.a.org_id, "owner@alpha.test")
        .await
        .expect("sent");
    let carrying: Vec<_> = server
        .events_of("bytes")
        .into_iter()
        .filter(|e| e["has_password"] == true)
        .collect();
    assert!(!carrying.is_empty(), "the login was seen");
    assert!(carrying.iter().all(|e| e["tls"] == true), "{carrying:?}");
    let logins = server.events_of("auth");
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0]["tls"], true);
    assert_eq!(logins[0]["ok"], true);

    // A server that offers a login but no STARTTLS gets nothing.
    let plain = SmtpServer::start();
    let port = plain.plain_port.to_string();
    cli::email_set(
        &app.config,
        Some(app.a.org_id),
        &plain.input(&port, "starttls", FROM_A),
    )
    .expect("set");
    let why = email_test(&app, app.a.org_id, "owner@alpha.test")
        .await
        .expect_err("no STARTTLS");
    assert!(why.contains("does not offer STARTTLS"), "{why}");
    assert!(why.contains("password was not sent"), "{why}");
    assert!(plain
        .events_of("bytes")
        .iter()
        .all(|e| e["has_password"] == false));
    assert!(plain.events_of("auth").is_empty());
    assert!(plain.messages().is_empty());
}

#[tokio::test]
async fn a_certificate_from_an_unknown_authority_is_refused_in_plain_words() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    let port = server.starttls_port.to_string();
    cli::email_set(
        &app.config,
        Some(app.a.org_id),
        &voxanne::store::email_settings::Input {
            ca_pem: None,
            ..server.input(&port, "starttls", FROM_A)
        },
    )
    .expect("set");
    let why = email_test(&app, app.a.org_id, "owner@alpha.test")
        .await
        .expect_err("untrusted");
    assert!(
        why.starts_with("The mail server's certificate is not trusted"),
        "{why}"
    );
    assert!(server.events_of("auth").is_empty());
}

#[tokio::test]
async fn settings_that_cannot_work_are_refused_before_anything_is_stored() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    let port = server.starttls_port.to_string();
    for (field, input) in [
        ("TLS mode", server.input(&port, "none", FROM_A)),
        ("port", server.input("0", "starttls", FROM_A)),
        ("sending address", server.input(&port, "starttls", "front")),
        (
            "CA",
            voxanne::store::email_settings::Input {
                ca_pem: Some("not a certificate"),
                ..server.input(&port, "starttls", FROM_A)
            },
        ),
    ] {
        let err = cli::email_set(&app.config, Some(app.a.org_id), &input)
            .expect_err(field)
            .to_string();
        assert!(
            err.to_lowercase().contains(&field.to_lowercase()),
            "{field}: {err}"
        );
    }
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM email_settings", &[]), 0);
}

#[tokio::test]
async fn the_mailbox_password_is_sealed_at_rest_and_never_shown() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    app.set_email(app.a.org_id, &server);
    email_test(&app, app.a.org_id, "owner@alpha.test")
        .await
        .expect("sent");
    book_by_phone(&app, app.a.org_id).await;
    app.drain_mail().await;
    assert_eq!(server.messages().len(), 2);
    assert!(!app.db_files_contain(smtp::PASSWORD.as_bytes()));
    let shown = cli::email_show(&app.config, Some(app.a.org_id)).expect("show");
    assert_eq!(shown["password"], "***");
    assert_eq!(shown["tls"], "starttls");
    assert!(!shown.to_string().contains(smtp::PASSWORD));
}

#[tokio::test]
async fn one_clinic_s_mailbox_and_mail_are_invisible_to_another() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    app.set_email(app.a.org_id, &server);
    let shown_b = cli::email_show(&app.config, Some(app.b.org_id)).expect("show");
    assert_eq!(shown_b["configured"], false);
    // Clinic B has no mailbox: its booking sends nothing, and never through A's.
    book_by_phone(&app, app.b.org_id).await;
    app.drain_mail().await;
    assert!(server.messages().is_empty());
    // With its own, its invitations come from its own address.
    app.set_email(app.b.org_id, &server);
    let s = app.vapi_secret(app.b.org_id);
    app.tool(
        &s,
        "b3",
        "reschedule_appointment",
        json!({"newDate": "2026-06-17", "newTime": "11:00"}),
    )
    .await
    .expect("moved");
    app.drain_mail().await;
    let sent = server.messages();
    assert_eq!(sent.len(), 1);
    let (_, ics) = invitation(&sent[0]);
    assert_eq!(ics.prop("ORGANIZER"), format!("mailto:{FROM_B}"));
    assert!(header(&sent[0], "From").unwrap().contains(FROM_B));
    let count = |org: i64| {
        app.query_i64(
            "SELECT COUNT(*) FROM messages WHERE method = 'email' AND org_id = ?1",
            &[&org],
        )
    };
    assert_eq!((count(app.a.org_id), count(app.b.org_id)), (0, 1));
    // Each clinic's Messages page shows its own e-mails only.
    let messages_page = |email: &'static str| {
        let app = &app;
        async move {
            let (client, _) = app.signed_in(email).await;
            client
                .get(app.url("/messages"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert!(messages_page(app.b.staff_email).await.contains(PATIENT));
    assert!(!messages_page(app.a.staff_email).await.contains(PATIENT));
    // A's view of its settings is its own.
    let shown_a = cli::email_show(&app.config, Some(app.a.org_id)).expect("show");
    assert_eq!(shown_a["from_address"], FROM_A);
}

#[tokio::test]
async fn staff_can_send_a_reminder_by_email_through_the_api() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    app.set_email(app.a.org_id, &server);
    let appt = book_by_phone(&app, app.a.org_id).await;
    app.drain_mail().await;
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let res = staff
        .post(app.url(&format!("/api/appointments/{appt}/send-reminder")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"method": "email"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"success": true, "recipient": PATIENT, "method": "email"})
    );
    app.drain_mail().await;
    let sent = server.messages();
    assert_eq!(sent.len(), 2);
    assert!(header(&sent[1], "Subject")
        .unwrap()
        .starts_with("Reminder: your appointment at Alpha Clinic"));
    assert!(
        calendar_part(&sent[1]).is_none(),
        "a reminder carries no invitation"
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'appointment.reminder_sent' AND detail LIKE '%method=email%'",
            &[]
        ),
        1
    );
    // Another clinic's appointment is not found.
    let (staff_b, csrf_b) = app.signed_in(app.b.staff_email).await;
    let res = staff_b
        .post(app.url(&format!("/api/appointments/{appt}/send-reminder")))
        .header("x-csrf-token", &csrf_b)
        .json(&json!({"method": "email"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn a_misheard_email_address_is_asked_for_again_and_nothing_is_held() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let said = app
        .tool(
            &s,
            "e1",
            "reserve_slot",
            json!({"date": "2026-06-16", "time": "12:00", "service": "botox",
                   "patientName": "Dana Lee", "patientEmail": "dana at example dot com"}),
        )
        .await;
    let why = said.expect_err("refused");
    assert!(why.contains("spell the e-mail address again"), "{why}");
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM appointments", &[]), 0);
}

#[tokio::test]
async fn a_patient_who_asked_for_email_only_gets_no_booking_texts() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    app.set_email(app.a.org_id, &server);
    book_by_phone(&app, app.a.org_id).await;
    let texts = || {
        app.query_i64(
            "SELECT COUNT(*) FROM outbox WHERE purpose IN ('confirmation', 'reschedule', 'reminder')",
            &[],
        )
    };
    // By default a patient with an address hears both ways.
    assert_eq!(texts(), 2, "confirmation and reminder texts");
    rusqlite::Connection::open(app.config.db_path())
        .unwrap()
        .execute("UPDATE contacts SET channel = 'email'", [])
        .unwrap();
    let s = app.vapi_secret(app.a.org_id);
    app.tool(
        &s,
        "m3",
        "reschedule_appointment",
        json!({"newDate": "2026-06-17", "newTime": "2:30 pm"}),
    )
    .await
    .expect("moved");
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'reschedule'",
            &[]
        ),
        0
    );
    app.drain_mail().await;
    assert_eq!(
        server.messages().len(),
        2,
        "confirmation and move by e-mail"
    );
}

#[tokio::test]
async fn sharing_a_recording_emails_the_link_which_is_never_stored() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    support::calls::seed(&app).await;
    let id = support::calls::call_id(&app, support::calls::REF_CALL);
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let share = |to: &'static str| {
        staff
            .post(app.url(&format!("/api/calls-dashboard/{id}/share")))
            .header("x-csrf-token", &csrf)
            .json(&json!({"email": to}))
            .send()
    };
    // Without a mailbox the link is made and the caller is told nothing was e-mailed.
    let shared: serde_json::Value = share("dr.lee@example.com")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shared["emailed"], "not_set_up");

    app.set_email(app.a.org_id, &server);
    let res = share("dr.lee@example.com").await.unwrap();
    assert_eq!(res.status(), 200);
    let shared: serde_json::Value = res.json().await.unwrap();
    assert_eq!(shared["emailed"], "sent", "{shared}");
    let url = shared["url"].as_str().unwrap().to_string();
    let sent = server.messages();
    assert_eq!(sent.len(), 1);
    assert!(header(&sent[0], "To")
        .unwrap()
        .contains("dr.lee@example.com"));
    let text = smtp::text_part(&sent[0]).expect("text part");
    assert!(text.replace("=\r\n", "").contains(&url), "{text}");
    assert!(
        text.contains("EDT"),
        "the expiry in the clinic's zone: {text}"
    );
    // The link opens the recording.
    let token = url.rsplit('/').next().unwrap().to_string();
    let res = app
        .client()
        .get(app.url(&format!("/shared/recordings/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 307);
    // Recorded as an e-mail, without the link.
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM messages WHERE method = 'email' AND purpose = 'recording_share'
             AND status = 'sent' AND recipient = 'dr.lee@example.com' AND org_id = ?1",
            &[&app.a.org_id]
        ),
        1
    );
    assert!(!app.db_files_contain(token.as_bytes()));

    // The page's form says where the link went.
    let res = staff
        .post(app.url(&format!("/calls/{id}/share")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "dr.lee@example.com"),
        ])
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    assert!(
        html.contains("was e-mailed to dr.lee@example.com"),
        "{html}"
    );
    assert_eq!(server.messages().len(), 2);
}

#[tokio::test]
async fn a_desk_booking_takes_an_address_and_a_preference() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    app.set_email(app.a.org_id, &server);
    let (provider, service) = app.first_provider_and_service(app.a.org_id);
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let book = |phone: &'static str, email: &'static str, channel: &'static str| {
        let (provider, service) = (provider.to_string(), service.to_string());
        let csrf = csrf.clone();
        let staff = staff.clone();
        let url = app.url("/appointments");
        async move {
            staff
                .post(url)
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("name", "Robin Desk"),
                    ("phone", phone),
                    ("email", email),
                    ("channel", channel),
                    ("service_id", service.as_str()),
                    ("provider_id", provider.as_str()),
                    ("date", "2026-06-17"),
                    (
                        "time",
                        if phone.ends_with('1') {
                            "09:00"
                        } else {
                            "10:00"
                        },
                    ),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // E-mail only without an address, or an address that is not one: nothing is booked.
    let res = book("(415) 555-0181", "", "email").await;
    assert!(res.text().await.unwrap().contains("e-mail address"));
    let res = book("(415) 555-0181", "robin@", "both").await;
    assert!(res.text().await.unwrap().contains("The e-mail address"));
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM appointments", &[]), 0);

    let res = book("(415) 555-0181", "robin@example.com", "email").await;
    assert_eq!(res.status(), 303);
    app.drain_mail().await;
    assert_eq!(server.messages().len(), 1);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE email = 'robin@example.com' AND channel = 'email'",
            &[]
        ),
        1
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'confirmation'",
            &[]
        ),
        0,
        "no text for an e-mail-only patient"
    );
    // Text only: no e-mail even with an address.
    let res = book("(415) 555-0182", "sam@example.com", "text").await;
    assert_eq!(res.status(), 303);
    app.drain_mail().await;
    assert_eq!(server.messages().len(), 1);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'confirmation'",
            &[]
        ),
        1
    );
}

#[tokio::test]
async fn the_unsubscribe_link_in_a_reminder_stops_reminders_without_signing_in() {
    let server = SmtpServer::start();
    let app = TestApp::spawn_with(support::Options {
        extra: vec![("VOXANNE_PUBLIC_URL", "https://clinic.example".to_string())],
        ..support::Options::default()
    })
    .await;
    app.set_email(app.a.org_id, &server);
    let appt = book_by_phone(&app, app.a.org_id).await;
    app.drain_mail().await;
    let confirmation = &server.messages()[0];
    assert!(header(confirmation, "List-Unsubscribe").is_none());
    // The reminder goes 24 hours ahead: 2026-06-15 12:00 in New York.
    app.clock.advance(chrono::Duration::hours(2));
    app.drain_mail().await;
    let sent = server.messages();
    assert_eq!(sent.len(), 2);
    let reminder = &sent[1];
    assert!(header(reminder, "Subject")
        .unwrap()
        .starts_with("Reminder:"));
    let list = header(reminder, "List-Unsubscribe").expect("List-Unsubscribe");
    assert_eq!(
        header(reminder, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let url = list
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string();
    let path = url
        .strip_prefix("https://clinic.example")
        .unwrap_or_else(|| panic!("{url}"))
        .to_string();
    let text = smtp::text_part(reminder).unwrap().replace("=\r\n", "");
    assert!(text.contains(&url), "{text}");
    assert!(
        !url.contains("dana"),
        "the address is not readable in the link"
    );

    // A forged or another clinic's link finds nothing.
    let anonymous = app.client();
    let token = path.trim_start_matches("/unsubscribe/");
    let (org, sealed) = token.split_once('.').unwrap();
    assert_eq!(org, app.a.org_id.to_string());
    for bad in [
        format!("/unsubscribe/{}.{sealed}", app.b.org_id),
        format!("/unsubscribe/{org}.{}", &sealed[..sealed.len() - 2]),
        "/unsubscribe/nothing".to_string(),
    ] {
        let res = anonymous.post(app.webhook_url(&bad)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{bad}");
    }
    // Opening the link asks; the one-click POST does it (on the public listener).
    let page = anonymous.get(app.webhook_url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(PATIENT));
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM email_unsubscribes", &[]),
        0
    );
    let res = anonymous
        .post(app.webhook_url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("unsubscribed"));
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM email_unsubscribes WHERE org_id = ?1 AND address = ?2",
            &[&app.a.org_id, &PATIENT]
        ),
        1
    );

    // No more reminders, even when staff ask; confirmations of changes still go.
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let res = staff
        .post(app.url(&format!("/api/appointments/{appt}/send-reminder")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"method": "email"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.drain_mail().await;
    assert_eq!(server.messages().len(), 2);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM email_outbox WHERE purpose = 'reminder' AND status = 'skipped'
             AND detail = 'the address unsubscribed from reminders'",
            &[]
        ),
        1
    );
    let s = app.vapi_secret(app.a.org_id);
    app.tool(&s, "m9", "cancel_appointment", json!({}))
        .await
        .expect("cancelled");
    app.drain_mail().await;
    assert_eq!(server.messages().len(), 3, "the cancellation still goes");
}

/// Posts a form and returns (status, body).
async fn post_form(client: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (u16, String) {
    let res = client.post(url).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

#[tokio::test]
async fn settings_email_is_for_owners_with_csrf_tests_the_mailbox_and_never_shows_the_password() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    let port = server.starttls_port.to_string();
    let mailbox = |csrf: &str, password: &str| -> Vec<(String, String)> {
        [
            ("csrf_token", csrf),
            ("host", "127.0.0.1"),
            ("port", port.as_str()),
            ("tls", "starttls"),
            ("username", smtp::USER),
            ("password", password),
            ("from_address", FROM_A),
            ("from_name", "Alpha Front Desk"),
            ("ca_pem", server.ca_pem.as_str()),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };

    let (staff, staff_csrf) = app.signed_in(app.a.staff_email).await;
    let res = staff.get(app.url("/settings/email")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = staff
        .post(app.url("/settings/email"))
        .form(&mailbox(&staff_csrf, smtp::PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let res = owner
        .post(app.url("/settings/email"))
        .form(&mailbox("not-the-token", smtp::PASSWORD))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 303, "no CSRF token, no change");
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM email_settings", &[]), 0);

    // A wrong password is stored, and the test says so in plain words.
    let res = owner
        .post(app.url("/settings/email"))
        .form(&mailbox(&csrf, "wrong-password-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (status, html) = post_form(
        &owner,
        app.url("/settings/email/test"),
        &[("csrf_token", &csrf), ("to", "owner@alpha.test")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("The mail server refused the login (535)"),
        "{html}"
    );
    // The right password; then a save with the password left blank keeps it.
    let res = owner
        .post(app.url("/settings/email"))
        .form(&mailbox(&csrf, smtp::PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = owner
        .post(app.url("/settings/email"))
        .form(&mailbox(&csrf, ""))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (_, html) = post_form(
        &owner,
        app.url("/settings/email/test"),
        &[("csrf_token", &csrf), ("to", "owner@alpha.test")],
    )
    .await;
    assert!(html.contains("was accepted by the mail server"), "{html}");
    assert_eq!(server.messages().len(), 1);
    assert!(header(&server.messages()[0], "From")
        .unwrap()
        .contains("Alpha Front Desk"));
    let page = owner
        .get(app.url("/settings/email"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(FROM_A));
    assert!(!page.contains(smtp::PASSWORD));
    // The owners' digest, at 07:00.
    let (status, _) = post_form(
        &owner,
        app.url("/settings/email/digest"),
        &[("csrf_token", &csrf), ("hour", "7")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        app.query_i64(
            "SELECT digest_hour FROM email_settings WHERE org_id = ?1",
            &[&app.a.org_id]
        ),
        7
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('email.settings_set', 'email.digest_set') AND org_id = ?1",
            &[&app.a.org_id]
        ),
        4
    );
    // The other clinic's owner sees nothing of it.
    let (owner_b, _) = app.signed_in(app.b.owner_email).await;
    let page_b = owner_b
        .get(app.url("/settings/email"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page_b.contains("Not set up yet"));
    assert!(!page_b.contains(FROM_A));
    assert!(!app.db_files_contain(smtp::PASSWORD.as_bytes()));
}

#[tokio::test]
async fn a_hot_lead_is_emailed_to_the_owners_once() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    app.set_email(app.a.org_id, &server);
    // The phone booking's tool calls carry the reference call's id.
    book_by_phone(&app, app.a.org_id).await;
    let s = app.vapi_secret(app.a.org_id);
    let body = support::calls::report(
        support::calls::REF_CALL,
        "+14155550123",
        &[
            ("AI", "Thanks for calling Alpha Clinic, how can I help?"),
            ("User", "Hi, I'd like to book botox for tomorrow."),
            ("AI", "I have noon free. Shall I book it?"),
            ("User", "Yes please, noon is great."),
        ],
        180.0,
    );
    let (status, _) = app.webhook(&s, &body).await;
    assert_eq!(status, 200);
    // Processed again (its kept event gone): still one alert per owner.
    rusqlite::Connection::open(app.config.db_path())
        .unwrap()
        .execute("DELETE FROM call_events", [])
        .unwrap();
    let (status, _) = app.webhook(&s, &body).await;
    assert_eq!(status, 200);
    app.drain_mail().await;
    let alerts: Vec<String> = server
        .messages()
        .into_iter()
        .filter(|m| {
            header(m, "Subject")
                .unwrap()
                .starts_with("Hot lead at Alpha Clinic")
        })
        .collect();
    assert_eq!(alerts.len(), 1);
    assert!(header(&alerts[0], "To")
        .unwrap()
        .contains("owner@alpha.test"));
    let text = smtp::text_part(&alerts[0]).unwrap().replace("=\r\n", "");
    assert!(
        text.contains("Dana Lee (+14155550123) asked about Botox."),
        "{text}"
    );
    assert!(text.contains("They booked an appointment."), "{text}");
    // The other clinic's owner hears nothing.
    assert!(server
        .messages()
        .iter()
        .all(|m| !header(m, "To").unwrap().contains("beta.test")));
}

/// The README's generic-host guide, as the `voxanne` binary runs it: `email set` with a
/// password file and a private CA, `email show`, `email test`, and a refusal in plain words.
#[test]
fn the_readme_commands_work_as_written_against_the_test_server() {
    let server = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let voxanne = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_voxanne"));
        cmd.env_clear()
            .env("VOXANNE_DATA_DIR", &data)
            .env("VOXANNE_CONFIG", "/dev/null")
            .env("VOXANNE_MASTER_KEY", support::MASTER_KEY);
        cmd
    };
    let run = |args: &[&str]| {
        let out = voxanne().args(args).output().expect("run voxanne");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let owner_pw = dir.path().join("owner-pw");
    std::fs::write(&owner_pw, "a-long-password\n").unwrap();
    let (ok, _, err) = run(&[
        "init",
        "--clinic",
        "Glow",
        "--timezone",
        "America/Denver",
        "--clinic-type",
        "dental",
        "--owner-email",
        "o@glow.test",
        "--owner-password-file",
        owner_pw.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let (password, ca) = (dir.path().join("mail-password"), dir.path().join("ca.pem"));
    std::fs::write(&password, format!("{}\n", smtp::PASSWORD)).unwrap();
    std::fs::write(&ca, &server.ca_pem).unwrap();
    let port = server.starttls_port.to_string();
    let (ok, out, err) = run(&[
        "email",
        "set",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--tls",
        "starttls",
        "--username",
        smtp::USER,
        "--password-file",
        password.to_str().unwrap(),
        "--from",
        "frontdesk@glow.test",
        "--from-name",
        "Glow",
        "--ca-file",
        ca.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(!out.contains(smtp::PASSWORD), "{out}");
    let (ok, out, _) = run(&["email", "show", "--json"]);
    assert!(ok);
    let shown: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(shown["host"], "127.0.0.1");
    assert_eq!(shown["tls"], "starttls");
    assert_eq!(shown["password"], "***");
    assert_eq!(shown["private_ca"], true);
    let (ok, out, err) = run(&["email", "test", "--to", "o@glow.test", "--json"]);
    assert!(ok, "{err}");
    let sent: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(sent["sent"], true);
    assert_eq!(server.messages().len(), 1);
    assert!(header(&server.messages()[0], "From")
        .unwrap()
        .contains("frontdesk@glow.test"));

    // Without --ca-file the private CA is not trusted, and the command says so and fails.
    let (ok, _, err) = run(&[
        "email",
        "set",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--tls",
        "starttls",
        "--username",
        smtp::USER,
        "--password-file",
        password.to_str().unwrap(),
        "--from",
        "frontdesk@glow.test",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["email", "test", "--to", "o@glow.test"]);
    assert!(!ok);
    assert!(err.contains("certificate is not trusted"), "{err}");
    // A TLS mode that is not one is refused; nothing is guessed from the port.
    let (ok, _, err) = run(&[
        "email",
        "set",
        "--host",
        "127.0.0.1",
        "--port",
        "465",
        "--tls",
        "auto",
        "--username",
        smtp::USER,
        "--password-file",
        password.to_str().unwrap(),
        "--from",
        "frontdesk@glow.test",
    ]);
    assert!(!ok);
    assert!(err.contains("TLS mode"), "{err}");
}

#[tokio::test]
async fn owners_get_a_daily_digest_at_the_clinic_s_hour_once_a_day() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    app.set_email(app.a.org_id, &server);
    // Clinic B has no mailbox, so no digest either.
    let refused =
        cli::email_digest(&app.config, Some(app.b.org_id), Some(7)).expect_err("no mailbox");
    assert!(refused.to_string().contains("mailbox first"), "{refused}");
    let shown = cli::email_digest(&app.config, Some(app.a.org_id), Some(7)).expect("digest");
    assert_eq!(shown["digest_hour"], 7);
    book_by_phone(&app, app.a.org_id).await;
    let digests = || -> Vec<String> {
        server
            .messages()
            .into_iter()
            .filter(|m| header(m, "Subject").unwrap().contains("your day"))
            .collect()
    };
    let run = || async {
        voxanne::service::digest::run_due(&app.state)
            .await
            .expect("digest run");
        app.drain_mail().await;
    };
    // 10:00 in New York on Monday: past the hour, so today's goes now, and only once.
    run().await;
    run().await;
    let sent = digests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        header(&sent[0], "Subject").unwrap(),
        "Alpha Clinic: your day, Monday, June 15"
    );
    assert!(header(&sent[0], "To").unwrap().contains("owner@alpha.test"));
    let text = smtp::text_part(&sent[0]).unwrap().replace("=\r\n", "");
    assert!(text.contains("Today: no appointments."), "{text}");
    // The next morning: yesterday's booking, today's schedule in the clinic's zone.
    app.clock.advance(chrono::Duration::hours(24));
    run().await;
    let sent = digests();
    assert_eq!(sent.len(), 2);
    let text = smtp::text_part(&sent[1]).unwrap().replace("=\r\n", "");
    assert!(text.contains("Yesterday: 0 calls and 1 booking."), "{text}");
    assert!(text.contains("12:00 PM — Botox"), "{text}");
    // Turned off, nothing more.
    cli::email_digest(&app.config, Some(app.a.org_id), None).expect("off");
    app.clock.advance(chrono::Duration::hours(24));
    run().await;
    assert_eq!(digests().len(), 2);
}

#[tokio::test]
async fn a_call_that_needs_someone_urgently_is_emailed_to_the_owners_once() {
    let server = SmtpServer::start();
    let app = TestApp::spawn().await;
    app.set_email(app.a.org_id, &server);
    let secret = app.vapi_secret(app.a.org_id);
    let mut urgent = support::calls::report(
        "call-broken-tooth",
        "+14155550188",
        &[
            ("AI", "Thanks for calling Alpha Clinic, how can I help?"),
            ("User", "I broke a tooth, I need someone now."),
            ("AI", "Let me transfer you to the front desk."),
        ],
        48.0,
    );
    urgent["message"]["endedReason"] = json!("call.in-progress.error-transfer-failed");
    let quiet = support::calls::report(
        "call-hours",
        "+14155550177",
        &[
            ("User", "What time do you open on Saturday?"),
            ("AI", "We're closed on Saturdays."),
        ],
        40.0,
    );
    for body in [&urgent, &quiet] {
        let (status, _) = app.webhook(&secret, body).await;
        assert_eq!(status, 200);
    }
    // Processed again: still one e-mail per owner.
    rusqlite::Connection::open(app.config.db_path())
        .unwrap()
        .execute("DELETE FROM call_events", [])
        .unwrap();
    app.webhook(&secret, &urgent).await;
    app.drain_mail().await;
    let alerts: Vec<String> = server
        .messages()
        .into_iter()
        .filter(|m| {
            header(m, "Subject")
                .unwrap()
                .starts_with("Needs attention at Alpha Clinic")
        })
        .collect();
    assert_eq!(alerts.len(), 1, "the quiet call alerts nobody");
    assert!(header(&alerts[0], "To")
        .unwrap()
        .contains("owner@alpha.test"));
    let text = smtp::text_part(&alerts[0]).unwrap().replace("=\r\n", "");
    assert!(text.contains("(+14155550188) needs someone"), "{text}");
    assert!(text.contains("Transfer to the desk failed"), "{text}");
}
