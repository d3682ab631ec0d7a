//! Twilio's webhooks on both listeners: signed delivery reports move a text forward (never
//! back) and record asynchronous errors; signed inbound texts handle STOP/START and are kept
//! on the contact; missing, forged and other-clinic signatures are refused with nothing
//! changed.

use crate::support;

use chrono::{TimeZone, Utc};
use serde_json::json;
use support::messaging::{ACCOUNT_SID, AUTH_TOKEN, FROM};
use support::vapi::{data, CALLER};
use support::{Options, TestApp};
use voxanne::cli;
use voxanne::integrations::twilio_signature;
use voxanne::store::twilio_credentials::Input;

const PUBLIC: &str = "https://clinic.example.test";
const STATUS: &str = "/api/twilio/status";
const SMS: &str = "/api/twilio/sms";
const MESSAGES: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

const B_ACCOUNT: &str = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const B_TOKEN: &str = "tok_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const B_FROM: &str = "+15005550011";

async fn spawn() -> TestApp {
    TestApp::spawn_with(Options {
        now: Utc.with_ymd_and_hms(2026, 8, 10, 14, 0, 0).unwrap(),
        extra: vec![("VOXANNE_PUBLIC_URL", PUBLIC.to_string())],
        ..Options::default()
    })
    .await
}

fn set_twilio_b(app: &TestApp) {
    cli::twilio_set(
        &app.config,
        Some(app.b.org_id),
        &Input {
            account_sid: B_ACCOUNT,
            key_sid: None,
            secret: B_TOKEN,
            from_number: Some(B_FROM),
            messaging_service_sid: None,
        },
    )
    .unwrap();
}

type Params = Vec<(String, String)>;

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn report(
    account: &str,
    from: &str,
    sid: &str,
    status: &str,
    error: &str,
) -> Vec<(String, String)> {
    params(&[
        ("AccountSid", account),
        ("ApiVersion", "2010-04-01"),
        ("ErrorCode", error),
        ("From", from),
        ("MessageSid", sid),
        ("MessageStatus", status),
        ("SmsSid", sid),
        ("SmsStatus", status),
        ("To", CALLER),
    ])
}

fn text(account: &str, to: &str, sid: &str, body: &str) -> Vec<(String, String)> {
    params(&[
        ("AccountSid", account),
        ("ApiVersion", "2010-04-01"),
        ("Body", body),
        ("From", CALLER),
        ("FromCity", "SAN FRANCISCO"),
        ("MessageSid", sid),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsMessageSid", sid),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("To", to),
    ])
}

/// Twilio's signature for `params` posted to the public address of `path`.
fn sign(token: &str, path: &str, params: &[(String, String)]) -> String {
    twilio_signature::compute(token, &format!("{PUBLIC}{path}"), params)
}

/// Posts a webhook to `base` (either listener); returns status, content type and body.
async fn hook(
    base: &str,
    path: &str,
    params: &[(String, String)],
    signature: Option<&str>,
) -> (u16, String, String) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .form(params);
    if let Some(sig) = signature {
        req = req.header("X-Twilio-Signature", sig);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, kind, res.text().await.unwrap())
}

fn webhook_base(app: &TestApp) -> String {
    app.webhook_url("")
}

/// Books Thursday 2026-08-20 at `time` for the caller; returns the tool reply's data.
async fn book(app: &TestApp, id: &str, time: &str) -> serde_json::Value {
    let s = app.vapi_secret(app.a.org_id);
    data(
        &app.tool(
            &s,
            id,
            "book_appointment",
            json!({"date": "2026-08-20", "time": time, "service": "Botox", "patientName": "Dana Lee", "patientPhone": CALLER}),
        )
        .await
        .unwrap(),
    )
}

fn latest_sent_sid(app: &TestApp) -> String {
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    conn.query_row(
        "SELECT provider_sid FROM messages WHERE provider_sid IS NOT NULL AND direction = 'outbound' ORDER BY id DESC LIMIT 1",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn message_state(app: &TestApp, sid: &str) -> (String, Option<i64>) {
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    conn.query_row(
        "SELECT status, error_code FROM messages WHERE provider_sid = ?1 AND direction = 'outbound' ORDER BY id DESC LIMIT 1",
        [sid],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

fn opted_out(app: &TestApp, org_id: i64) -> i64 {
    app.query_i64(
        "SELECT COUNT(*) FROM sms_opt_outs WHERE org_id = ?1 AND phone = ?2",
        &[&org_id, &CALLER],
    )
}

/// Everything a webhook could change.
fn snapshot(app: &TestApp) -> Vec<String> {
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    [
        "SELECT group_concat(id || ':' || org_id || ':' || status || ':' || ifnull(error_code, '') || ':' || ifnull(contact_id, ''), ',') FROM messages",
        "SELECT group_concat(org_id || ':' || phone, ',') FROM sms_opt_outs",
        "SELECT group_concat(org_id || ':' || phone || ':' || updated_at, ',') FROM contacts",
        "SELECT COUNT(*) FROM audit_log",
    ]
    .iter()
    .map(|q| {
        conn.query_row(q, [], |r| r.get::<_, Option<String>>(0).or_else(|_| r.get::<_, i64>(0).map(|n| Some(n.to_string()))))
            .unwrap()
            .unwrap_or_default()
    })
    .collect()
}

#[tokio::test]
async fn delivery_reports_move_a_text_forward_and_never_back() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    assert_eq!(book(&app, "b1", "15:00").await["smsStatus"], "sent");
    // The text asked Twilio to report to the public address.
    let sent = app.twilio.requests_to(MESSAGES);
    let callback = sent[0]
        .form()
        .into_iter()
        .find(|(k, _)| k == "StatusCallback")
        .map(|(_, v)| v);
    assert_eq!(
        callback.as_deref(),
        Some("https://clinic.example.test/api/twilio/status")
    );
    let sid = latest_sent_sid(&app);

    let on = |status: &str| report(ACCOUNT_SID, FROM, &sid, status, "");
    let p = on("sent");
    let (code, _, _) = hook(
        &webhook_base(&app),
        STATUS,
        &p,
        Some(&sign(AUTH_TOKEN, STATUS, &p)),
    )
    .await;
    assert_eq!(code, 204);
    assert_eq!(message_state(&app, &sid).0, "sent");
    // The main listener serves the same route.
    let p = on("delivered");
    let (code, _, _) = hook(
        &app.url(""),
        STATUS,
        &p,
        Some(&sign(AUTH_TOKEN, STATUS, &p)),
    )
    .await;
    assert_eq!(code, 204);
    assert_eq!(message_state(&app, &sid).0, "delivered");
    // A late `sent` (and a repeat) never downgrades it.
    for status in ["sent", "delivered", "queued"] {
        let p = on(status);
        let (code, _, _) = hook(
            &webhook_base(&app),
            STATUS,
            &p,
            Some(&sign(AUTH_TOKEN, STATUS, &p)),
        )
        .await;
        assert_eq!(code, 204);
        assert_eq!(message_state(&app, &sid).0, "delivered");
    }
}

#[tokio::test]
async fn asynchronous_errors_are_recorded_and_21610_opts_the_number_out() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    book(&app, "b1", "15:00").await;
    let sid = latest_sent_sid(&app);
    let p = report(ACCOUNT_SID, FROM, &sid, "undelivered", "30007");
    let (code, _, _) = hook(
        &webhook_base(&app),
        STATUS,
        &p,
        Some(&sign(AUTH_TOKEN, STATUS, &p)),
    )
    .await;
    assert_eq!(code, 204);
    assert_eq!(
        message_state(&app, &sid),
        ("undelivered".into(), Some(30007))
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM messages WHERE provider_sid = ?1 AND error_message LIKE '%filtered by the carrier%'",
            &[&sid]
        ),
        1
    );
    assert_eq!(opted_out(&app, app.a.org_id), 0);

    let second = "SM21610000000000000000000000000000";
    app.twilio.respond(
        MESSAGES,
        201,
        &json!({"sid": second, "status": "queued", "num_segments": "1"}).to_string(),
    );
    book(&app, "b2", "16:00").await;
    let p = report(ACCOUNT_SID, FROM, second, "failed", "21610");
    let (code, _, _) = hook(
        &webhook_base(&app),
        STATUS,
        &p,
        Some(&sign(AUTH_TOKEN, STATUS, &p)),
    )
    .await;
    assert_eq!(code, 204);
    assert_eq!(message_state(&app, second), ("failed".into(), Some(21610)));
    assert_eq!(opted_out(&app, app.a.org_id), 1);
    assert_eq!(book(&app, "b3", "11:00").await["smsStatus"], "skipped");
}

#[tokio::test]
async fn missing_forged_and_other_clinic_signatures_change_nothing() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    set_twilio_b(&app);
    book(&app, "b1", "15:00").await;
    let sid = latest_sent_sid(&app);
    let before = snapshot(&app);
    let base = webhook_base(&app);

    let delivered = report(ACCOUNT_SID, FROM, &sid, "delivered", "");
    let signed_sent = sign(
        AUTH_TOKEN,
        STATUS,
        &report(ACCOUNT_SID, FROM, &sid, "sent", ""),
    );
    let stop = text(
        ACCOUNT_SID,
        FROM,
        "SMstop0000000000000000000000000000",
        "STOP",
    );
    let b_stop = text(
        B_ACCOUNT,
        B_FROM,
        "SMstopb000000000000000000000000000",
        "STOP",
    );
    let refused: Vec<(&str, &Params, Option<String>)> = vec![
        (STATUS, &delivered, None),
        (STATUS, &delivered, Some(String::new())),
        (STATUS, &delivered, Some("bm90IGEgc2lnbmF0dXJl".into())),
        // Signed for other values: tampered in transit.
        (STATUS, &delivered, Some(signed_sent)),
        // Another clinic's token for this clinic's account.
        (STATUS, &delivered, Some(sign(B_TOKEN, STATUS, &delivered))),
        // Signed for another address.
        (STATUS, &delivered, Some(sign(AUTH_TOKEN, SMS, &delivered))),
        (SMS, &stop, None),
        (SMS, &stop, Some(sign(B_TOKEN, SMS, &stop))),
        (SMS, &b_stop, Some(sign(AUTH_TOKEN, SMS, &b_stop))),
    ];
    for (path, p, signature) in &refused {
        let (code, _, _) = hook(&base, path, p, signature.as_deref()).await;
        assert_eq!(code, 403, "{path} with {signature:?}");
    }
    // Clinic B, correctly signed, cannot touch clinic A's text.
    let b_report = report(B_ACCOUNT, B_FROM, &sid, "delivered", "");
    let (code, _, _) = hook(
        &base,
        STATUS,
        &b_report,
        Some(&sign(B_TOKEN, STATUS, &b_report)),
    )
    .await;
    assert_eq!(code, 204);
    assert_eq!(snapshot(&app), before, "nothing changed");
    assert_eq!(message_state(&app, &sid).0, "queued");

    // The genuine report, signed with the default port as Twilio sometimes does, is accepted.
    let with_port = twilio_signature::compute(
        AUTH_TOKEN,
        &format!("https://clinic.example.test:443{STATUS}"),
        &delivered,
    );
    let (code, _, _) = hook(&base, STATUS, &delivered, Some(&with_port)).await;
    assert_eq!(code, 204);
    assert_eq!(message_state(&app, &sid).0, "delivered");
}

#[tokio::test]
async fn stop_from_a_patient_stops_later_texts_and_start_reenables_them() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    let base = webhook_base(&app);
    let stop = text(
        ACCOUNT_SID,
        FROM,
        "SMstop0000000000000000000000000001",
        "Stop",
    );
    let (code, kind, body) = hook(&base, SMS, &stop, Some(&sign(AUTH_TOKEN, SMS, &stop))).await;
    assert_eq!(code, 200);
    assert!(kind.starts_with("text/xml"), "{kind}");
    assert!(body.contains("<Response/>"), "{body}");
    assert_eq!(opted_out(&app, app.a.org_id), 1);
    assert_eq!(opted_out(&app, app.b.org_id), 0);

    // Booking still works; the confirmation is skipped and Twilio is not asked.
    let booked = book(&app, "b1", "15:00").await;
    assert_eq!(
        (booked["ok"].as_bool(), booked["smsStatus"].as_str()),
        (Some(true), Some("skipped"))
    );
    assert!(app.twilio.requests_to(MESSAGES).is_empty());

    let start = text(
        ACCOUNT_SID,
        FROM,
        "SMstart000000000000000000000000001",
        "START",
    );
    let (code, _, _) = hook(&base, SMS, &start, Some(&sign(AUTH_TOKEN, SMS, &start))).await;
    assert_eq!(code, 200);
    assert_eq!(opted_out(&app, app.a.org_id), 0);
    // Twilio delivering the earlier STOP again does not undo the START.
    let (code, _, _) = hook(&base, SMS, &stop, Some(&sign(AUTH_TOKEN, SMS, &stop))).await;
    assert_eq!(code, 200);
    assert_eq!(opted_out(&app, app.a.org_id), 0);

    assert_eq!(book(&app, "b2", "16:00").await["smsStatus"], "sent");
    assert_eq!(app.twilio.requests_to(MESSAGES).len(), 1);
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM attention_items", &[]),
        0,
        "STOP and START need nobody"
    );
    for action in ["sms.opted_out", "sms.opted_in"] {
        assert_eq!(
            app.query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE org_id = ?1 AND action = ?2",
                &[&app.a.org_id, &action]
            ),
            1,
            "{action}"
        );
    }
}

#[tokio::test]
async fn other_texts_are_kept_once_on_the_contact_of_their_clinic() {
    let app = spawn().await;
    app.set_twilio(app.a.org_id);
    set_twilio_b(&app);
    let base = webhook_base(&app);
    let question = text(
        ACCOUNT_SID,
        FROM,
        "SMq000000000000000000000000000000a",
        "Can I come at 4 instead?",
    );
    for _ in 0..2 {
        let (code, _, _) = hook(
            &base,
            SMS,
            &question,
            Some(&sign(AUTH_TOKEN, SMS, &question)),
        )
        .await;
        assert_eq!(code, 200);
    }
    let b_question = text(
        B_ACCOUNT,
        B_FROM,
        "SMq000000000000000000000000000000b",
        "Hello B",
    );
    let (code, _, _) = hook(
        &base,
        SMS,
        &b_question,
        Some(&sign(B_TOKEN, SMS, &b_question)),
    )
    .await;
    assert_eq!(code, 200);

    // Each clinic's patient text is on its own front desk's worklist, once.
    for org_id in [app.a.org_id, app.b.org_id] {
        assert_eq!(
            app.query_i64(
                "SELECT COUNT(*) FROM attention_items i JOIN messages m ON m.id = i.message_id
                 WHERE i.org_id = ?1 AND m.org_id = ?1 AND i.reasons = 'text_received' AND i.done_at IS NULL",
                &[&org_id]
            ),
            1,
            "org {org_id}"
        );
    }
    for (org_id, body, ours) in [
        (app.a.org_id, "Can I come at 4 instead?", FROM),
        (app.b.org_id, "Hello B", B_FROM),
    ] {
        assert_eq!(
            app.query_i64(
                "SELECT COUNT(*) FROM messages m JOIN contacts c ON c.id = m.contact_id AND c.org_id = m.org_id
                 WHERE m.org_id = ?1 AND m.direction = 'inbound' AND m.status = 'received'
                   AND m.body = ?2 AND m.sender = ?3 AND m.recipient = ?4 AND c.phone = ?3 AND m.purpose IS NULL",
                &[&org_id, &body, &CALLER, &ours]
            ),
            1,
            "org {org_id}"
        );
        assert_eq!(
            app.query_i64(
                "SELECT COUNT(*) FROM messages WHERE org_id = ?1",
                &[&org_id]
            ),
            1
        );
    }
    assert_eq!(opted_out(&app, app.a.org_id), 0);
}

#[tokio::test]
async fn without_a_public_url_no_signature_can_be_checked() {
    let app = TestApp::spawn().await;
    app.set_twilio(app.a.org_id);
    let stop = text(
        ACCOUNT_SID,
        FROM,
        "SMstop0000000000000000000000000002",
        "STOP",
    );
    let (code, _, _) = hook(
        &webhook_base(&app),
        SMS,
        &stop,
        Some(&sign(AUTH_TOKEN, SMS, &stop)),
    )
    .await;
    assert_eq!(code, 403);
    assert_eq!(opted_out(&app, app.a.org_id), 0);
}
