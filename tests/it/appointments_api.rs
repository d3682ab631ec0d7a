//! `GET /api/appointments` and `POST /api/appointments/{id}/send-reminder`: behind a session or
//! an API token, scoped to the caller's clinic, with clear errors that change nothing.

use crate::support;

use serde_json::{json, Value};
use support::TestApp;

fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

async fn token(app: &TestApp, owner: &reqwest::Client, csrf: &str) -> String {
    token_with(app, owner, csrf, "read_write").await
}

async fn token_with(app: &TestApp, owner: &reqwest::Client, csrf: &str, access: &str) -> String {
    let page = owner
        .post(app.url("/settings/api-tokens"))
        .form(&[
            ("csrf_token", csrf),
            ("name", "reports"),
            ("access", access),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find("vxa_").expect("token shown");
    page[start..]
        .split(|c: char| c == '<' || c.is_whitespace())
        .next()
        .unwrap()
        .to_string()
}

fn reminders(app: &TestApp, appointment: i64) -> i64 {
    app.query_i64(
        "SELECT COUNT(*) FROM outbox WHERE appointment_id = ?1 AND purpose = 'reminder'",
        &[&appointment],
    )
}

#[tokio::test]
async fn appointments_list_with_filters_only_the_callers_clinic() {
    let app = TestApp::spawn().await;
    let a = app.a.org_id;
    let dana = app.insert_contact(a, "+14155550101", "Dana", None);
    let first = app.insert_appointment(a, dana, at("2026-06-16T14:00:00Z"), 45, "confirmed");
    let second = app.insert_appointment(a, dana, at("2026-06-20T14:00:00Z"), 30, "cancelled");
    app.insert_appointment(a, dana, at("2026-06-21T14:00:00Z"), 30, "expired");
    let b = app.b.org_id;
    let other = app.insert_contact(b, "+442079460000", "Beta Patient", None);
    app.insert_appointment(b, other, at("2026-06-16T10:00:00Z"), 30, "confirmed");

    let (staff, _) = app.signed_in(app.a.staff_email).await;
    let all: Value = staff
        .get(app.url("/api/appointments"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 2);
    let item = &all["items"][0];
    assert_eq!(item["id"], first);
    assert_eq!(item["scheduled_time"], "2026-06-16T14:00:00Z");
    assert_eq!(item["scheduled_time_local"], "2026-06-16T10:00:00-04:00");
    assert_eq!(item["duration_minutes"], 45);
    assert_eq!(item["patient_name"], "Dana");
    assert_eq!(item["patient_phone"], "+14155550101");
    assert_eq!(item["status"], "confirmed");
    assert!(item["service_type"].is_string() && item["provider_name"].is_string());

    let only: Value = staff
        .get(app.url("/api/appointments?status=cancelled"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(only["total"], 1);
    assert_eq!(only["items"][0]["id"], second);
    let range: Value = staff
        .get(app.url("/api/appointments?from=2026-06-17&to=2026-06-20"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(range["total"], 1);
    assert_eq!(range["items"][0]["id"], second);
    let paged: Value = staff
        .get(app.url("/api/appointments?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paged["items"].as_array().unwrap().len(), 1);
    assert_eq!(paged["next_offset"], 1);
    for bad in ["status=lost", "from=yesterday", "limit=0"] {
        let res = staff
            .get(app.url(&format!("/api/appointments?{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{bad}");
    }
    assert_eq!(
        reqwest::get(app.url("/api/appointments"))
            .await
            .unwrap()
            .status(),
        401
    );

    // Beta's token sees only Beta's appointment.
    let (beta, beta_csrf) = app.signed_in(app.b.owner_email).await;
    let t = token(&app, &beta, &beta_csrf).await;
    let theirs: Value = app
        .client()
        .get(app.url("/api/appointments"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["total"], 1);
    assert_eq!(theirs["items"][0]["patient_name"], "Beta Patient");
}

#[tokio::test]
async fn send_reminder_queues_one_text_through_the_outbox() {
    let app = TestApp::spawn().await;
    let a = app.a.org_id;
    let dana = app.insert_contact(a, "+14155550101", "Dana", None);
    let upcoming = app.insert_appointment(a, dana, at("2026-06-16T14:00:00Z"), 45, "confirmed");
    let past = app.insert_appointment(a, dana, at("2026-06-10T14:00:00Z"), 45, "confirmed");
    let b = app.b.org_id;
    let other = app.insert_contact(b, "+442079460000", "Beta Patient", None);
    let foreign = app.insert_appointment(b, other, at("2026-06-16T10:00:00Z"), 30, "confirmed");

    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let post = |id: i64, body: Value, csrf: Option<&str>| {
        let mut req = staff
            .post(app.url(&format!("/api/appointments/{id}/send-reminder")))
            .json(&body);
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.send()
    };
    // Without the CSRF header a session cannot act.
    assert_eq!(
        post(upcoming, json!({"method": "sms"}), None)
            .await
            .unwrap()
            .status(),
        400
    );
    let res = post(upcoming, json!({"method": "fax"}), Some(&csrf))
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    // E-mail is a method, but this clinic has no mailbox.
    let res = post(upcoming, json!({"method": "email"}), Some(&csrf))
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert_eq!(
        post(foreign, json!({"method": "sms"}), Some(&csrf))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        post(past, json!({"method": "sms"}), Some(&csrf))
            .await
            .unwrap()
            .status(),
        409
    );
    assert_eq!(
        post(999_999, json!({"method": "sms"}), Some(&csrf))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        reminders(&app, upcoming) + reminders(&app, past) + reminders(&app, foreign),
        0
    );

    let res = post(upcoming, json!({"method": "sms"}), Some(&csrf))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"success": true, "recipient": "+14155550101", "method": "sms"})
    );
    assert_eq!(reminders(&app, upcoming), 1);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE org_id = ?1 AND action = 'appointment.reminder_sent'",
            &[&a]
        ),
        1
    );

    // An API token needs no CSRF header.
    let (owner, owner_csrf) = app.signed_in(app.a.owner_email).await;
    let t = token(&app, &owner, &owner_csrf).await;
    let res = app
        .client()
        .post(app.url(&format!("/api/appointments/{upcoming}/send-reminder")))
        .bearer_auth(&t)
        .json(&json!({"method": "sms"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(reminders(&app, upcoming), 2);
}

#[tokio::test]
async fn a_read_only_token_reads_but_changes_nothing() {
    let app = TestApp::spawn().await;
    let a = app.a.org_id;
    let dana = app.insert_contact(a, "+14155550101", "Dana", None);
    let upcoming = app.insert_appointment(a, dana, at("2026-06-16T14:00:00Z"), 45, "confirmed");
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let read_only = token_with(&app, &owner, &csrf, "read").await;
    let read_write = token_with(&app, &owner, &csrf, "read_write").await;
    let page = owner
        .get(app.url("/settings/api-tokens"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("read only") && page.contains("read and write"),
        "{page}"
    );

    let client = reqwest::Client::new();
    let listed = client
        .get(app.url("/api/appointments"))
        .bearer_auth(&read_only)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let remind = |token: String| {
        client
            .post(app.url(&format!("/api/appointments/{upcoming}/send-reminder")))
            .bearer_auth(token)
            .json(&json!({"method": "sms"}))
            .send()
    };
    let refused = remind(read_only.clone()).await.unwrap();
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("read only"),
        "{body}"
    );
    assert_eq!(reminders(&app, upcoming), 0);
    assert_eq!(remind(read_write).await.unwrap().status(), 200);
    assert_eq!(reminders(&app, upcoming), 1);

    // An unknown access is refused and makes no token.
    let before = app.query_i64("SELECT COUNT(*) FROM api_tokens", &[]);
    let res = owner
        .post(app.url("/settings/api-tokens"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "odd"),
            ("access", "admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM api_tokens", &[]),
        before
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'settings.api_token_created' AND detail LIKE '%access=read'",
            &[]
        ),
        1
    );
}
