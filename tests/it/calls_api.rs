//! The calls and contacts JSON API, its dashboard figures, API tokens and call-backs, with two
//! clinics on every endpoint: foreign ids are 404 and lists and stats never include foreign rows.

use crate::support;

use serde_json::{json, Value};
use support::calls::{call_id, contact_id, seed, REF_CALL};
use support::TestApp;

async fn get(client: &reqwest::Client, url: String) -> (u16, Value) {
    let res = client.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn vapi_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["vapi_call_id"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn calls_list_filters_pages_and_never_shows_another_clinic() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let (a, _) = app.signed_in(app.a.staff_email).await;
    let (status, page) = get(&a, app.url("/api/calls")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 4);
    // Newest first: the outbound call started at 14:10, the reports at 14:00, the cold one last week.
    let ids = vapi_ids(&page);
    assert_eq!(ids[0], "a-out");
    assert_eq!(ids[3], "a-cold");
    assert!(!ids.contains(&"b-1".to_string()));
    let hot = &page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["vapi_call_id"] == REF_CALL)
        .unwrap()
        .clone();
    assert_eq!(hot["booked"], true);
    assert_eq!(hot["value_cents"], 40_000);
    assert_eq!(hot["lead_tier"], "hot");
    assert_eq!(hot["caller"], "+14155550123");
    assert_eq!(hot["called"], "+14155550100");
    assert_eq!(hot["duration_secs"], 180.0);
    assert!(
        hot.get("transcript").is_none(),
        "lists leave the transcript out"
    );

    let only = |q: &str| app.url(&format!("/api/calls?{q}"));
    let (_, p) = get(&a, only("type=outbound")).await;
    assert_eq!(vapi_ids(&p), ["a-out"]);
    let (_, p) = get(&a, only("booked=true")).await;
    assert_eq!(vapi_ids(&p), [REF_CALL]);
    let (_, p) = get(&a, only("tier=warm")).await;
    assert_eq!(vapi_ids(&p), ["a-warm"]);
    let (_, p) = get(&a, only("from=2026-06-15")).await;
    assert_eq!(p["total"], 3);
    let (_, p) = get(&a, only("to=2026-06-14")).await;
    assert_eq!(vapi_ids(&p), ["a-cold"]);
    let (_, p) = get(&a, only("from=2026-06-15T14:05:00Z")).await;
    assert_eq!(vapi_ids(&p), ["a-out"]);
    let contact = contact_id(&app, "+14155550111");
    let (_, p) = get(&a, only(&format!("contact_id={contact}"))).await;
    assert_eq!(vapi_ids(&p), ["a-warm"]);
    let (_, p1) = get(&a, only("limit=3")).await;
    assert_eq!(
        (p1["items"].as_array().unwrap().len(), &p1["next_offset"]),
        (3, &json!(3))
    );
    let (_, p2) = get(&a, only("limit=3&offset=3")).await;
    assert_eq!(vapi_ids(&p2), ["a-cold"]);
    assert_eq!(p2["next_offset"], Value::Null);
    for bad in [
        "limit=0",
        "limit=abc",
        "offset=-1",
        "type=fax",
        "tier=lukewarm",
        "booked=maybe",
        "from=yesterday",
        "contact_id=x",
    ] {
        let (status, body) = get(&a, only(bad)).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(
            body.to_string().contains(bad.split('=').next().unwrap()),
            "{bad}: {body}"
        );
    }

    // Org B sees only its own call, and A's ids are 404 to it.
    let (b, _) = app.signed_in(app.b.owner_email).await;
    let (_, p) = get(&b, app.url("/api/calls")).await;
    assert_eq!(vapi_ids(&p), ["b-1"]);
    let (status, _) = get(
        &b,
        app.url(&format!("/api/calls/{}", call_id(&app, REF_CALL))),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_call_in_full() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let (a, _) = app.signed_in(app.a.owner_email).await;
    let (status, c) = get(
        &a,
        app.url(&format!("/api/calls/{}", call_id(&app, REF_CALL))),
    )
    .await;
    assert_eq!(status, 200);
    assert!(c["transcript"].as_str().unwrap().contains("book botox"));
    assert_eq!(c["messages"].as_array().unwrap().len(), 2);
    assert_eq!(c["recording"]["status"], "completed");
    assert_eq!(c["score_breakdown"]["tier"], "hot");
    assert_eq!(c["score_breakdown"]["factors"][0]["key"], "booking_intent");
    assert_eq!(c["cost_usd"], 0.12);
    assert_eq!(c["started_at"], "2026-06-15T14:00:00Z");
    let appointment = app.query_i64("SELECT id FROM appointments", &[]);
    assert_eq!(c["appointment_id"], appointment);
    let (status, _) = get(&a, app.url("/api/calls/999999")).await;
    assert_eq!(status, 404);
    let (status, _) = get(&a, app.url(&format!("/api/calls/{}", call_id(&app, "b-1")))).await;
    assert_eq!(status, 404);
    // Without a session or token: 401 in JSON.
    let res = reqwest::get(app.url("/api/calls")).await.unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn contacts_their_stats_and_the_dashboard_stay_in_their_clinic() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let (a, _) = app.signed_in(app.a.staff_email).await;
    let (_, stats) = get(&a, app.url("/api/contacts/stats")).await;
    assert_eq!(
        stats,
        json!({"total_leads": 4, "hot_leads": 1, "warm_leads": 1, "cold_leads": 2})
    );
    let (_, list) = get(&a, app.url("/api/contacts")).await;
    assert_eq!(list["total"], 4);
    assert!(!list.to_string().contains("+447700900123"));
    let (_, hot) = get(&a, app.url("/api/contacts?tier=hot")).await;
    assert_eq!(hot["items"][0]["phone"], "+14155550123");
    assert_eq!(hot["items"][0]["lead_status"], "booked");
    assert_eq!(hot["items"][0]["services_of_interest"], json!(["Botox"]));
    let (_, booked) = get(&a, app.url("/api/contacts?status=booked")).await;
    assert_eq!(booked["total"], 1);
    let (status, _) = get(&a, app.url("/api/contacts?status=vip")).await;
    assert_eq!(status, 422);
    let warm = contact_id(&app, "+14155550111");
    let (status, c) = get(&a, app.url(&format!("/api/contacts/{warm}"))).await;
    assert_eq!(status, 200);
    assert_eq!(c["lead_status"], "lost");
    assert_eq!(c["calls"][0]["vapi_call_id"], "a-warm");
    let theirs = contact_id(&app, "+447700900123");
    let (status, _) = get(&a, app.url(&format!("/api/contacts/{theirs}"))).await;
    assert_eq!(status, 404);

    let (_, d) = get(&a, app.url("/api/dashboard/stats")).await;
    assert_eq!(d["pipeline_value_cents"], 40_000 + 800_000 + 15_000);
    assert_eq!(d["inbound_calls"], 3);
    assert_eq!(d["booked_inbound_calls"], 1);
    assert_eq!(d["success_rate_pct"], 33.3);
    assert_eq!(d["average_duration_secs"], 131.7);
    assert_eq!(d["calls_today"], 3);
    assert_eq!(d["calls_this_week"], 3);
    let events = d["latest_events"].as_array().unwrap();
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| e["call_id"] != "b-1"));

    let (b, _) = app.signed_in(app.b.staff_email).await;
    let (_, stats) = get(&b, app.url("/api/contacts/stats")).await;
    assert_eq!(stats["total_leads"], 1);
    let (_, d) = get(&b, app.url("/api/dashboard/stats")).await;
    assert_eq!(d["inbound_calls"], 1);
    assert_eq!(d["success_rate_pct"], 0.0);
    assert_eq!(d["latest_events"].as_array().unwrap().len(), 1);
}

/// Creates a token through Settings and returns it.
async fn create_token(app: &TestApp, owner: &reqwest::Client, csrf: &str, name: &str) -> String {
    let page = owner
        .post(app.url("/settings/api-tokens"))
        .form(&[
            ("csrf_token", csrf),
            ("name", name),
            ("access", "read_write"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = page.find("vxa_").expect("the new token is shown");
    page[at..]
        .split(|c: char| c == '<' || c.is_whitespace())
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn api_tokens_are_shown_once_scoped_to_their_clinic_and_revocable() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let token = create_token(&app, &owner, &csrf, "Reporting sheet").await;
    let page = owner
        .get(app.url("/settings/api-tokens"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Reporting sheet") && !page.contains(&token),
        "shown once"
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?1",
            &[&token]
        ),
        0,
        "only the hash is stored"
    );
    let bearer = |path: &str| {
        reqwest::Client::new()
            .get(app.url(path))
            .bearer_auth(&token)
    };
    let page: Value = bearer("/api/calls")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 4);
    let theirs = call_id(&app, "b-1");
    assert_eq!(
        bearer(&format!("/api/calls/{theirs}"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert!(
        app.query_i64(
            "SELECT COUNT(*) FROM api_tokens WHERE last_used_at IS NOT NULL",
            &[]
        ) == 1
    );
    // A wrong token is refused even alongside a valid session.
    let res = owner
        .get(app.url("/api/calls"))
        .bearer_auth("vxa_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Staff cannot manage tokens.
    let (staff, staff_csrf) = app.signed_in(app.a.staff_email).await;
    assert_eq!(
        staff
            .get(app.url("/settings/api-tokens"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let res = staff
        .post(app.url("/settings/api-tokens"))
        .form(&[("csrf_token", staff_csrf.as_str()), ("name", "sneaky")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // A bad name changes nothing.
    let res = owner
        .post(app.url("/settings/api-tokens"))
        .form(&[("csrf_token", csrf.as_str()), ("name", "  ")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM api_tokens", &[]), 1);
    // Org B's owner cannot revoke A's token.
    let id = app.query_i64("SELECT id FROM api_tokens", &[]);
    let (b_owner, b_csrf) = app.signed_in(app.b.owner_email).await;
    let res = b_owner
        .post(app.url(&format!("/settings/api-tokens/{id}/revoke")))
        .form(&[("csrf_token", b_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(bearer("/api/calls").send().await.unwrap().status(), 200);
    let res = owner
        .post(app.url(&format!("/settings/api-tokens/{id}/revoke")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(bearer("/api/calls").send().await.unwrap().status(), 401);
    for action in ["settings.api_token_created", "settings.api_token_revoked"] {
        assert_eq!(
            app.query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action = ?1 AND org_id = ?2",
                &[&action, &app.a.org_id]
            ),
            1,
            "{action}"
        );
    }
}

async fn save_call_settings(
    app: &TestApp,
    owner: &reqwest::Client,
    csrf: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("csrf_token", csrf)];
    form.extend_from_slice(fields);
    owner
        .post(app.url("/settings/voice/calls"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn call_settings_validate_and_change_nothing_on_bad_input() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let base = [
        ("assistant_id", "a7c9e1f3-2222-4333-8444-555566667777"),
        (
            "outbound_assistant_id",
            "b7c9e1f3-2222-4333-8444-555566667777",
        ),
        ("phone_number_id", "8e2d4f60-1111-4222-8333-444455556666"),
        ("transfer_number", "(415) 555-0199"),
        ("fallback_transfer_number", "+1 415 555 0188"),
        ("hot_lead_threshold", "80"),
    ];
    for (field, bad) in [
        ("assistant_id", "not an id!"),
        ("transfer_number", "12"),
        ("fallback_transfer_number", "call me"),
        ("hot_lead_threshold", "0"),
        ("hot_lead_threshold", "101"),
    ] {
        let fields: Vec<(&str, &str)> = base
            .iter()
            .map(|(k, v)| if *k == field { (*k, bad) } else { (*k, *v) })
            .collect();
        let res = save_call_settings(&app, &owner, &csrf, &fields).await;
        assert_eq!(res.status(), 422, "{field}={bad}");
    }
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM orgs WHERE transfer_number IS NOT NULL",
            &[]
        ),
        0
    );
    let res = save_call_settings(&app, &owner, &csrf, &base).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM orgs WHERE id = ?1 AND transfer_number = '+14155550199'
             AND fallback_transfer_number = '+14155550188' AND hot_lead_threshold = 80
             AND vapi_phone_number_id = '8e2d4f60-1111-4222-8333-444455556666'",
            &[&app.a.org_id]
        ),
        1
    );
    let page = owner
        .get(app.url("/settings/voice"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("a7c9e1f3-2222-4333-8444-555566667777"));
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM orgs WHERE id = ?1 AND transfer_number IS NOT NULL",
            &[&app.b.org_id]
        ),
        0
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'settings.voice_calls'",
            &[]
        ),
        1
    );
    let (staff, staff_csrf) = app.signed_in(app.a.staff_email).await;
    let res = save_call_settings(&app, &staff, &staff_csrf, &base).await;
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn call_backs_start_through_vapi_with_clear_errors() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let contact = contact_id(&app, "+14155550111");
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let call_back = |client: &reqwest::Client, id: i64, csrf: Option<&str>| {
        let mut req = client.post(app.url(&format!("/api/contacts/{id}/call-back")));
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.send()
    };
    let calls_before = app.query_i64("SELECT COUNT(*) FROM calls", &[]);
    // Nothing configured: a clear 422, no call recorded, Vapi not asked.
    let res = call_back(&owner, contact, Some(&csrf)).await.unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert!(body.to_string().contains("Settings"), "{body}");
    assert!(app.vapi.requests_to("/call").is_empty());
    // A session without the CSRF header is refused.
    let res = call_back(&owner, contact, None).await.unwrap();
    assert_eq!(res.status(), 400);
    save_call_settings(
        &app,
        &owner,
        &csrf,
        &[
            ("outbound_assistant_id", "out-asst"),
            ("phone_number_id", "pn-1"),
            ("hot_lead_threshold", "70"),
        ],
    )
    .await;
    let res = call_back(&owner, contact, Some(&csrf)).await.unwrap();
    assert_eq!(res.status(), 201);
    let started: Value = res.json().await.unwrap();
    assert_eq!(started["status"], "queued");
    assert_eq!(started["type"], "outbound");
    assert_eq!(started["vapi_call_id"], "vapi-call");
    assert_eq!(started["called"], "+14155550111");
    assert_eq!(
        started["caller"],
        Value::Null,
        "our number is not known until Vapi says"
    );
    let sent = app.vapi.requests_to("/call");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].header("authorization"),
        Some("Bearer vapi-test-private-key")
    );
    assert_eq!(
        sent[0].json(),
        json!({"assistantId": "out-asst", "phoneNumberId": "pn-1", "customer": {"number": "+14155550111"}})
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE id = ?1 AND lead_status = 'lost'",
            &[&contact]
        ),
        1,
        "a lost lead stays lost until they book"
    );
    // Vapi's events for the call update the same row.
    let a = app.vapi_secret(app.a.org_id);
    let live = json!({"message": {"type": "status-update", "status": "in-progress",
        "call": {"id": "vapi-call", "type": "outboundPhoneCall"}, "customer": {"number": "+14155550111"},
        "phoneNumber": {"number": "+14155550100"}}});
    assert_eq!(app.webhook(&a, &live).await.0, 200);
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM calls", &[]),
        calls_before + 1
    );
    assert_eq!(
        app.call_text(app.a.org_id, "vapi-call", "status")
            .as_deref(),
        Some("in-progress")
    );
    assert_eq!(
        app.call_i64(app.a.org_id, "vapi-call", "contact_id"),
        Some(contact)
    );

    // Vapi refuses: a 502 that says what to check, and the call is recorded as failed.
    app.vapi.respond(
        "/call",
        400,
        r#"{"message":["assistantId must be a UUID"],"error":"Bad Request","statusCode":400}"#,
    );
    let token = create_token(&app, &owner, &csrf, "CRM").await;
    let res = reqwest::Client::new()
        .post(app.url(&format!("/api/contacts/{contact}/call-back")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("HTTP 400") && !body.contains("UUID"),
        "{body}"
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM calls WHERE status = 'failed' AND vapi_call_id IS NULL AND contact_id = ?1",
            &[&contact]
        ),
        1
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'call.call_back_requested' AND org_id = ?1",
            &[&app.a.org_id]
        ),
        2
    );
    // Another clinic's contact is a 404 and Vapi is not asked.
    let theirs = contact_id(&app, "+447700900123");
    let res = call_back(&owner, theirs, Some(&csrf)).await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(app.vapi.requests_to("/call").len(), 2);
}

#[tokio::test]
async fn staff_notes_and_lead_status_are_changed_by_staff_or_token_and_audited() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let contact = contact_id(&app, "+14155550111");
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let patch = |client: &reqwest::Client, id: i64, body: Value, csrf: Option<&str>| {
        let mut req = client
            .patch(app.url(&format!("/api/contacts/{id}")))
            .json(&body);
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.send()
    };
    let res = patch(
        &staff,
        contact,
        json!({"staff_notes": "Prefers mornings", "lead_status": "contacted"}),
        Some(&csrf),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let c: Value = res.json().await.unwrap();
    assert_eq!(
        (c["staff_notes"].as_str(), c["lead_status"].as_str()),
        (Some("Prefers mornings"), Some("contacted"))
    );
    for (body, want) in [
        (json!({"lead_status": "vip"}), 422),
        (json!({"staff_notes": "x".repeat(4001)}), 422),
        (json!({"colour": "red"}), 422),
    ] {
        let res = patch(&staff, contact, body.clone(), Some(&csrf))
            .await
            .unwrap();
        assert_eq!(res.status(), want, "{body}");
    }
    assert_eq!(
        patch(&staff, contact, json!({}), None)
            .await
            .unwrap()
            .status(),
        400,
        "CSRF"
    );
    let theirs = contact_id(&app, "+447700900123");
    let res = patch(
        &staff,
        theirs,
        json!({"staff_notes": "mine now"}),
        Some(&csrf),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE staff_notes IS NOT NULL",
            &[]
        ),
        1
    );
    // An empty note clears it.
    let res = patch(&staff, contact, json!({"staff_notes": ""}), Some(&csrf))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE staff_notes IS NOT NULL",
            &[]
        ),
        0
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'contact.updated' AND org_id = ?1 AND detail NOT LIKE '%mornings%'",
            &[&app.a.org_id]
        ),
        2,
        "audited, without the note's text"
    );
}
