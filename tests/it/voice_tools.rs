//! The Vapi tool server: payload shapes, authentication, idempotency and the booking flow.

use crate::support;

use serde_json::{json, Value};
use support::calls::fixture;
use support::vapi::{data, legacy_tool_calls, tool_calls};
use support::TestApp;

#[tokio::test]
async fn the_reference_tool_calls_get_one_reply_each_in_order() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let (status, body) = app
        .vapi_post("/api/vapi/tools", &secret, &fixture("e1_tool_calls"))
        .await;
    assert_eq!(status, 200);
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{body}");
    assert_eq!(results[0]["toolCallId"], "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff");
    assert_eq!(results[0]["name"], "check_availability");
    assert_eq!(results[1]["toolCallId"], "call_Rn4y9UaM1bZc2Dd3Ee4Ff5Gg");
    assert!(results[1]["error"]
        .as_str()
        .unwrap()
        .contains("no tool called lookup_customer"));
}

#[tokio::test]
async fn every_payload_shape_gets_one_reply_per_call_in_order() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    // Legacy E1 shape: nested items, object arguments, parallel calls.
    let (status, body) = app
        .vapi_post(
            "/api/vapi/tools",
            &secret,
            &legacy_tool_calls(&[
                (
                    "call_A1",
                    "check_availability",
                    json!({"date": "2026-06-16", "service": "botox"}),
                ),
                (
                    "call_A2",
                    "get_service_price",
                    json!({"service": "fillers"}),
                ),
                ("call_A3", "no_such_tool", json!({})),
            ]),
        )
        .await;
    assert_eq!(status, 200);
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["toolCallId"], "call_A1");
    assert_eq!(results[0]["name"], "check_availability");
    let slots = data(results[0]["result"].as_str().unwrap());
    assert_eq!(slots["days"][0]["date"], "2026-06-16");
    assert_eq!(slots["days"][0]["times"][0], "09:00");
    assert!(results[1]["result"]
        .as_str()
        .unwrap()
        .starts_with("Fillers is $500"));
    assert!(results[2]["error"].is_string());
    for r in results {
        let s = r["result"].as_str().or(r["error"].as_str()).unwrap();
        assert!(!s.contains('\n') && !s.contains("Invalid Date"), "{s}");
    }

    // E2 shape: string arguments under `toolCalls`, a flat item with `parameters`, and a
    // malformed argument string.
    let body = json!({"message": {
        "type": "tool-calls",
        "call": {"id": "c-2", "type": "inboundPhoneCall", "customer": {"number": "+14155550123"}},
        "toolCalls": [
            {"id": "call_B1", "type": "function", "function": {"name": "get_service_price", "arguments": "{\"service\":\"nose job\"}"}},
            {"id": "call_B2", "name": "get_service_price", "parameters": {"service": "lipo"}},
            {"id": "call_B3", "type": "function", "function": {"name": "get_service_price", "arguments": "{not json"}},
            {"id": "call_B4", "type": "function", "function": {"name": "get_clinic_context", "arguments": ""}}
        ],
        "unknownField": {"whatever": [1, 2, 3]}
    }});
    let (status, body) = app.vapi_post("/api/vapi/webhook", &secret, &body).await;
    assert_eq!(status, 200);
    let r = body["results"].as_array().unwrap();
    assert!(r[0]["result"]
        .as_str()
        .unwrap()
        .starts_with("Rhinoplasty is $6,000"));
    assert!(r[1]["result"]
        .as_str()
        .unwrap()
        .starts_with("Liposuction is $5,000"));
    assert!(r[2]["error"].as_str().unwrap().contains("not valid JSON"));
    let ctx = data(r[3]["result"].as_str().unwrap());
    assert_eq!(ctx["clinic"], "Alpha Clinic");
    assert_eq!(ctx["today"], "2026-06-15");
    assert_eq!(ctx["weekday"], "Monday");
    assert_eq!(ctx["services"].as_array().unwrap().len(), 7);

    // The legacy function-call message.
    let body = json!({"message": {"type": "function-call", "call": {"id": "c-3"},
        "functionCall": {"name": "get_service_price", "parameters": "{\"service\":\"botox\"}"}}});
    let (status, body) = app.vapi_post("/api/vapi/webhook", &secret, &body).await;
    assert_eq!(status, 200);
    assert!(body["result"]
        .as_str()
        .unwrap()
        .starts_with("Botox is $400"));

    // Not JSON at all.
    let res = reqwest::Client::new()
        .post(app.url("/api/vapi/tools"))
        .header("x-vapi-secret", &secret)
        .body("{{{")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

fn count_writes(app: &TestApp) -> i64 {
    app.query_i64("SELECT (SELECT COUNT(*) FROM appointments) + (SELECT COUNT(*) FROM contacts) + (SELECT COUNT(*) FROM tool_results)", &[])
}

#[tokio::test]
async fn requests_without_a_valid_credential_get_401_and_change_nothing() {
    use hmac::{Hmac, Mac};
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let body = tool_calls(&[(
        "call_X",
        "reserve_slot",
        json!({"date": "2026-06-16", "time": "10:00", "service": "botox", "patientName": "Eve"}),
    )]);
    let raw = body.to_string();
    let client = reqwest::Client::new();
    let post = |headers: Vec<(&'static str, String)>| {
        let mut req = client
            .post(app.url("/api/vapi/tools"))
            .header("content-type", "application/json")
            .body(raw.clone());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    let now = support::default_now().timestamp();
    let sign = |ts: i64, key: &str| {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(format!("{ts}.{raw}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    };
    let cases: Vec<(&str, Vec<(&'static str, String)>)> = vec![
        ("missing", vec![]),
        ("wrong secret", vec![("x-vapi-secret", "vx_wrong".into())]),
        (
            "wrong bearer",
            vec![("authorization", "Bearer vx_wrong".into())],
        ),
        (
            "bad hmac",
            vec![
                ("x-timestamp", now.to_string()),
                ("x-signature", sign(now, "not-the-secret")),
            ],
        ),
        (
            "stale timestamp",
            vec![
                ("x-timestamp", (now - 600).to_string()),
                ("x-signature", sign(now - 600, &secret)),
            ],
        ),
    ];
    for (what, headers) in cases {
        let res = post(headers).await.unwrap();
        assert_eq!(res.status(), 401, "{what}");
    }
    assert_eq!(count_writes(&app), 0);
    // The same request properly signed (seconds and milliseconds), or with a bearer token, works.
    for headers in [
        vec![
            ("x-timestamp", now.to_string()),
            ("x-signature", sign(now, &secret)),
        ],
        vec![
            ("x-timestamp", (now * 1000).to_string()),
            ("x-signature", sign(now * 1000, &secret)),
        ],
        vec![("authorization", format!("Bearer {secret}"))],
    ] {
        assert_eq!(post(headers).await.unwrap().status(), 200);
    }
}

#[tokio::test]
async fn two_hundred_callers_racing_for_one_slot_get_one_hold_twenty_rounds() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    for round in 0..20 {
        // A distinct slot per round: June 16–19, 9:00–15:30 local.
        let day = 16 + round / 5;
        let time = format!(
            "{:02}:{}",
            9 + (round % 5),
            if round % 2 == 0 { "00" } else { "30" }
        );
        let mut tasks = Vec::new();
        for caller in 0..200 {
            let body = tool_calls(&[(
                &format!("call_r{round}_c{caller}"),
                "reserve_slot",
                json!({"date": format!("2026-06-{day}"), "time": time, "service": "botox", "patientName": format!("Caller {caller}")}),
            )]);
            let (client, url, secret) =
                (client.clone(), app.url("/api/vapi/tools"), secret.clone());
            tasks.push(tokio::spawn(async move {
                let res = client
                    .post(url)
                    .header("x-vapi-secret", secret)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                (res.status().as_u16(), res.json::<Value>().await.unwrap())
            }));
        }
        let mut held = 0;
        let mut taken = 0;
        for t in tasks {
            let (status, body) = t.await.unwrap();
            assert_eq!(status, 200);
            let text = body["results"][0]["result"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"));
            let d = data(text);
            if d["ok"] == true {
                held += 1;
            } else {
                assert_eq!(d["reason"], "taken", "{text}");
                assert!(text.starts_with("That time was just taken."));
                assert!(!d["alternatives"].as_array().unwrap().is_empty());
                taken += 1;
            }
        }
        assert_eq!((held, taken), (1, 199), "round {round}");
    }
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments WHERE status = 'held'",
            &[]
        ),
        20
    );
}

#[tokio::test]
async fn an_expired_hold_cannot_be_booked_and_blocks_nobody() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let args =
        json!({"date": "2026-06-16", "time": "11:00", "service": "botox", "patientName": "Ann"});
    let hold = data(
        &app.tool(&secret, "c1", "reserve_slot", args.clone())
            .await
            .unwrap(),
    );
    let hold_id = hold["holdId"].as_i64().unwrap();
    // Still held: a second caller is refused.
    let second = data(
        &app.tool(&secret, "c2", "reserve_slot", args.clone())
            .await
            .unwrap(),
    );
    assert_eq!(second["reason"], "taken");
    app.clock.advance(chrono::Duration::minutes(11));
    let booked = data(
        &app.tool(
            &secret,
            "c3",
            "book_appointment",
            json!({"holdId": hold_id}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(booked["reason"], "hold_expired");
    let third = data(&app.tool(&secret, "c4", "reserve_slot", args).await.unwrap());
    assert_eq!(third["ok"], true);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments WHERE status = 'confirmed'",
            &[]
        ),
        0
    );
}

#[tokio::test]
async fn the_same_tool_call_ten_times_at_once_acts_once() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let body = tool_calls(&[(
        "call_dup",
        "book_appointment",
        json!({
        "patientName": "Dana Lee", "patientPhone": "(415) 555-0123", "appointmentDate": "2026-06-17",
        "appointmentTime": "3:00 PM", "serviceType": "Botox"}),
    )]);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (url, secret, body) = (app.url("/api/vapi/tools"), secret.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .header("x-vapi-secret", secret)
                .json(&body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }));
    }
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.unwrap());
    }
    assert!(
        replies.iter().all(|r| r == &replies[0]),
        "replies differ: {replies:?}"
    );
    assert!(
        replies[0].contains("Wednesday, June 17 at 3:00 PM"),
        "{}",
        replies[0]
    );
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM appointments", &[]), 1);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'appointment.booked'",
            &[]
        ),
        1
    );
}

#[tokio::test]
async fn the_same_cancel_ten_times_at_once_cancels_once() {
    // Cancelling stores its reply after its write, so duplicates rely on the per-call lock
    // and on rereading the stored reply once they hold it.
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let booked = data(
        &app.tool(
            &secret,
            "call_book",
            "book_appointment",
            json!({"patientName": "Dana Lee", "appointmentDate": "2026-06-17",
                   "appointmentTime": "3:00 PM", "serviceType": "Botox"}),
        )
        .await
        .unwrap(),
    );
    let body = tool_calls(&[(
        "call_cancel",
        "cancel_appointment",
        json!({"appointmentId": booked["appointmentId"]}),
    )]);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (url, secret, body) = (app.url("/api/vapi/tools"), secret.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .header("x-vapi-secret", secret)
                .json(&body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }));
    }
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.unwrap());
    }
    assert!(
        replies.iter().all(|r| r == &replies[0]),
        "replies differ: {replies:?}"
    );
    assert!(replies[0].contains("is cancelled"), "{}", replies[0]);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'appointment.cancelled'",
            &[]
        ),
        1
    );
}

#[tokio::test]
async fn a_hold_and_its_stored_reply_commit_together() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let args = json!({"date": "2026-06-16", "time": "10:00", "service": "botox", "patientName": "Dana Lee"});
    let db = rusqlite::Connection::open(app.config.db_path()).unwrap();
    db.execute_batch(
        "CREATE TRIGGER refuse_replies BEFORE INSERT ON tool_results
         BEGIN SELECT RAISE(ABORT, 'no room for the reply'); END;",
    )
    .unwrap();
    let failed = app
        .tool(&secret, "call_atomic", "reserve_slot", args.clone())
        .await;
    assert!(failed.is_err(), "{failed:?}");
    let count = |sql: &str| app.query_i64(sql, &[]);
    assert_eq!(count("SELECT COUNT(*) FROM appointments"), 0);
    assert_eq!(count("SELECT COUNT(*) FROM contacts"), 0);
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE action = 'appointment.held'"),
        0
    );

    // Once replies can be stored again, the retry acts (once) and every delivery after it
    // gets the reply stored with the hold.
    db.execute_batch("DROP TRIGGER refuse_replies").unwrap();
    let held = app
        .tool(&secret, "call_atomic", "reserve_slot", args.clone())
        .await
        .unwrap();
    assert!(
        held.starts_with("I'm holding Tuesday, June 16 at 10:00 AM for Dana Lee"),
        "{held}"
    );
    let again = app
        .tool(&secret, "call_atomic", "reserve_slot", args)
        .await
        .unwrap();
    assert_eq!(again, held);
    assert_eq!(count("SELECT COUNT(*) FROM appointments"), 1);
    assert_eq!(
        count("SELECT COUNT(*) FROM tool_results WHERE tool_call_id = 'call_atomic'"),
        1
    );
}

#[tokio::test]
async fn a_delivery_that_looked_too_early_still_gets_the_stored_reply() {
    // Two deliveries of one tool call that both looked before either stored anything (say
    // the first was dropped by a disconnect after its write was queued): the booking write
    // itself finds the stored reply, so the second neither acts nor answers differently.
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("x-vapi-secret", secret.parse().unwrap());
    let body = axum::body::Bytes::from_static(b"{}");
    let args: serde_json::Map<String, Value> = serde_json::from_value(json!({
        "date": "2026-06-16", "time": "10:00", "service": "botox",
        "patientName": "Dana Lee", "patientPhone": "+14155550123"}))
    .unwrap();
    let mut replies = Vec::new();
    for _ in 0..2 {
        let mut ctx = voxanne::voice::dispatch::ToolCtx::authenticate(&app.state, &headers, &body)
            .await
            .unwrap();
        ctx.tool_call_id = "call_early".into();
        ctx.tool_name = "reserve_slot".into();
        let outcome = voxanne::voice::booking_tools::reserve_slot(&ctx, &args)
            .await
            .unwrap();
        replies.push(outcome);
    }
    assert_eq!(replies[0], replies[1]);
    assert!(
        replies[0].sentence.starts_with("I'm holding"),
        "{:?}",
        replies[0]
    );
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM appointments", &[]), 1);
}

#[tokio::test]
async fn legacy_book_clinic_appointment_route() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let body = json!({"toolCallId": "call_legacy", "message": {"call": {"id": "c-9", "customer": {"number": "+14155550999"}}},
        "tool": {"arguments": {"organizationId": app.a.org_id.to_string(), "patientName": "Lee", "patientPhone": "+14155550999",
        "appointmentDate": "2026-06-18", "appointmentTime": "10:30", "serviceType": "consultation"}}});
    let (status, reply) = app
        .vapi_post("/api/vapi/tools/bookClinicAppointment", &secret, &body)
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["toolCallId"], "call_legacy");
    assert_eq!(reply["result"]["success"], true);
    assert!(reply["result"]["appointmentId"].is_i64());
    assert_eq!(reply["result"]["smsStatus"], "skipped");
    assert!(reply["result"]["message"]
        .as_str()
        .unwrap()
        .contains("Thursday, June 18 at 10:30 AM"));
    // An organizationId that disagrees with the secret is refused.
    let mut other = body.clone();
    other["toolCallId"] = json!("call_legacy_2");
    other["tool"]["arguments"]["organizationId"] = json!(app.b.org_id.to_string());
    let (status, reply) = app
        .vapi_post("/api/vapi/tools/bookClinicAppointment", &secret, &other)
        .await;
    assert_eq!(status, 403);
    assert_eq!(reply["result"]["success"], false);
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM appointments", &[]), 1);
}

#[tokio::test]
async fn mutated_tool_bodies_never_cause_a_server_error() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let base = tool_calls(&[(
        "call_m",
        "reserve_slot",
        json!({"date": "2026-06-16", "time": "10:00", "service": "botox", "patientName": "M"}),
    )])
    .to_string();
    let client = reqwest::Client::new();
    let mut seed: u64 = 0x9E3779B97F4A7C15;
    for i in 0..300 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut bytes = base.clone().into_bytes();
        match i % 3 {
            0 => bytes.truncate((seed as usize) % bytes.len()),
            1 => {
                let at = (seed as usize) % bytes.len();
                bytes[at] = b"{}[]\":,0a\\"[(seed >> 8) as usize % 10];
            }
            _ => {
                let at = (seed as usize) % bytes.len();
                bytes.insert(at, b'"');
            }
        }
        for path in [
            "/api/vapi/tools",
            "/api/vapi/webhook",
            "/api/vapi/tools/bookClinicAppointment",
        ] {
            let res = client
                .post(app.url(path))
                .header("x-vapi-secret", &secret)
                .body(bytes.clone())
                .send()
                .await
                .unwrap();
            assert!(
                res.status().as_u16() < 500,
                "{path} gave {} for {}",
                res.status(),
                String::from_utf8_lossy(&bytes)
            );
        }
    }
}
