//! Appointments from the dashboard: staff book, reschedule, cancel, record outcomes and text
//! reminders through the phone's booking engine; `.ics` files parse as iCalendar; another
//! clinic's appointments are not found.

use crate::support;

use support::TestApp;

fn form<'a>(csrf: &'a str, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![("csrf_token", csrf)];
    f.extend_from_slice(fields);
    f
}

async fn book(
    app: &TestApp,
    client: &reqwest::Client,
    csrf: &str,
    date: &str,
    time: &str,
) -> reqwest::Response {
    let botox = app
        .query_i64(
            "SELECT id FROM services WHERE org_id = ?1 AND name = 'Botox'",
            &[&app.a.org_id],
        )
        .to_string();
    let provider = app
        .query_i64(
            "SELECT id FROM providers WHERE org_id = ?1",
            &[&app.a.org_id],
        )
        .to_string();
    client
        .post(app.url("/appointments"))
        .form(&form(
            csrf,
            &[
                ("name", "Dana Lee"),
                ("phone", "(415) 555-0123"),
                ("service_id", &botox),
                ("provider_id", &provider),
                ("date", date),
                ("time", time),
            ],
        ))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn staff_book_move_cancel_and_text_through_the_booking_engine() {
    let app = TestApp::spawn().await;
    app.set_twilio(app.a.org_id);
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let res = book(&app, &staff, &csrf, "2026-06-17", "10:00").await;
    assert_eq!(res.status(), 303);
    let id = app.query_i64(
        "SELECT id FROM appointments WHERE source = 'staff' AND status = 'confirmed'",
        &[],
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE phone = '+14155550123'",
            &[]
        ),
        1
    );
    // The same time again is refused with a message; nothing is added.
    let again = book(&app, &staff, &csrf, "2026-06-17", "10:00").await;
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap().contains("already taken"));
    let closed = book(&app, &staff, &csrf, "2026-06-20", "10:00").await;
    assert_eq!(closed.status(), 422);
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM appointments", &[]), 1);
    app.drain_outbox().await;
    assert!(app
        .texts()
        .iter()
        .any(|(_, b)| b.contains("confirmed for Wednesday, June 17 at 10:00 AM")));

    let page = staff
        .get(app.url("/appointments?from=2026-06-15"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Dana Lee") && page.contains("Botox"));

    let res = staff
        .post(app.url(&format!("/appointments/{id}/reschedule")))
        .form(&form(&csrf, &[("date", "2026-06-18"), ("time", "2:30 pm")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    app.drain_outbox().await;
    assert!(app
        .texts()
        .iter()
        .any(|(_, b)| b.contains("to Thursday, June 18 at 2:30 PM")));
    let res = staff
        .post(app.url(&format!("/appointments/{id}/remind")))
        .form(&form(&csrf, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    app.drain_outbox().await;
    assert!(app
        .texts()
        .iter()
        .any(|(_, b)| b.starts_with("Reminder from Alpha Clinic")
            && b.contains("June 18 at 2:30 PM")));

    // The .ics file is iCalendar a real parser reads, at the right instant.
    let ics = staff
        .get(app.url(&format!("/appointments/{id}/calendar.ics")))
        .send()
        .await
        .unwrap();
    assert!(ics.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let text = ics.text().await.unwrap();
    let cal = ical::IcalParser::new(text.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    let event = &cal.events[0];
    let prop = |name: &str| {
        event
            .properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap()
    };
    assert_eq!(prop("DTSTART"), "20260618T183000Z");
    assert_eq!(prop("DTEND"), "20260618T190000Z");
    assert!(prop("SUMMARY").starts_with("Botox"));

    let res = staff
        .post(app.url(&format!("/appointments/{id}/cancel")))
        .form(&form(&csrf, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments WHERE id = ?1 AND status = 'cancelled'",
            &[&id]
        ),
        1
    );
    // Its reminder is dropped and the slot is free again.
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM outbox WHERE appointment_id = ?1 AND purpose = 'reminder' AND status = 'pending'", &[&id]), 0);
    assert_eq!(
        book(&app, &staff, &csrf, "2026-06-18", "14:30")
            .await
            .status(),
        303
    );
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'appointment.%' AND actor LIKE '%staff@alpha.test%'", &[]),
        5
    );
}

#[tokio::test]
async fn outcomes_are_recorded_and_nonsense_refused() {
    let app = TestApp::spawn().await;
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    book(&app, &staff, &csrf, "2026-06-17", "10:00").await;
    let id = app.query_i64("SELECT id FROM appointments", &[]);
    let bad = staff
        .post(app.url(&format!("/appointments/{id}/outcome")))
        .form(&form(&csrf, &[("outcome", "vanished")]))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let ok = staff
        .post(app.url(&format!("/appointments/{id}/outcome")))
        .form(&form(&csrf, &[("outcome", "no_show")]))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments WHERE status = 'no_show'",
            &[]
        ),
        1
    );
}

#[tokio::test]
async fn another_clinics_appointments_are_not_found() {
    let app = TestApp::spawn().await;
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    book(&app, &staff, &csrf, "2026-06-17", "10:00").await;
    let id = app.query_i64("SELECT id FROM appointments", &[]);
    let (b, b_csrf) = app.signed_in(app.b.owner_email).await;
    for action in ["reschedule", "cancel", "outcome", "remind"] {
        let res = b
            .post(app.url(&format!("/appointments/{id}/{action}")))
            .form(&form(
                &b_csrf,
                &[
                    ("date", "2026-06-18"),
                    ("time", "10:00"),
                    ("outcome", "completed"),
                ],
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{action}");
    }
    let ics = b
        .get(app.url(&format!("/appointments/{id}/calendar.ics")))
        .send()
        .await
        .unwrap();
    assert_eq!(ics.status(), 404);
    let page = b
        .get(app.url("/appointments?from=2026-06-15"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Dana Lee"));
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments WHERE status = 'confirmed'",
            &[]
        ),
        1
    );
}
