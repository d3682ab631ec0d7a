//! The Calls and Leads pages and the call-dashboard JSON endpoints: search and filters, a
//! call's page, transcript export, 24-hour recording links, follow-up texts through the
//! outbox, leads figures, filters and actions, CSRF, roles, two clinics, and hostile text.

use crate::support;

use serde_json::{json, Value};
use support::calls::{call_id, contact_id, report, seed, REF_CALL};
use support::TestApp;

fn audits(app: &TestApp, action: &str) -> i64 {
    app.query_i64(
        "SELECT COUNT(*) FROM audit_log WHERE action = ?1",
        &[&action],
    )
}

async fn page(client: &reqwest::Client, url: String) -> (u16, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post_form(
    client: &reqwest::Client,
    url: String,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client.post(url).form(fields).send().await.unwrap()
}

/// `raw` as the templates escape it.
fn escaped(raw: &str) -> String {
    raw.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// The calls listed on a Calls page, by their detail links.
fn listed(html: &str) -> Vec<i64> {
    html.split("<a href=\"/calls/")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn calls_are_searched_and_filtered_within_the_clinic() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    let (hot, warm, cold, out) = (
        call_id(&app, REF_CALL),
        call_id(&app, "a-warm"),
        call_id(&app, "a-cold"),
        call_id(&app, "a-out"),
    );
    app.query_i64(
        "UPDATE calls SET sentiment = 'negative' WHERE vapi_call_id = 'a-warm' RETURNING 0",
        &[],
    );
    let calls = |q: &str| {
        let staff = staff.clone();
        let url = app.url(&format!("/calls{q}"));
        let q = q.to_string();
        async move {
            let (status, html) = page(&staff, url).await;
            assert_eq!(status, 200, "{q}");
            html
        }
    };
    let all = calls("").await;
    let mut ids = listed(&all);
    ids.sort();
    assert_eq!(ids, vec![hot, warm, cold, out]);
    assert!(all.contains("4 calls"));
    // Numbers read as the clinic's country writes them, and are tap-to-call.
    assert!(
        all.contains(r#"<a class="muted" href="tel:+14155550111">(415) 555-0111</a>"#),
        "{all}"
    );
    assert!(!all.contains("+447700900123"), "no foreign rows");
    // Search: what was said, this clinic only; newest first.
    let found = calls("?q=botox").await;
    assert_eq!(listed(&found), vec![hot]);
    assert!(found.contains("1 call<"));
    assert_eq!(
        listed(&calls("?q=consultations").await),
        vec![warm],
        "stemmed"
    );
    assert_eq!(
        listed(&calls("?q=%22your+hours%22").await),
        vec![cold],
        "phrase"
    );
    // A phone number in any format finds that caller's calls.
    for typed in [
        "%28415%29+555-0111",
        "4155550111",
        "%2B14155550111",
        "415.555.0111",
    ] {
        let found = calls(&format!("?q={typed}")).await;
        assert_eq!(listed(&found), vec![warm], "{typed}");
    }
    // Hostile syntax is only words.
    assert!(listed(&calls("?q=NEAR(+%22+OR+*").await).is_empty());
    // Filters, kept in the form.
    assert_eq!(listed(&calls("?direction=outbound").await), vec![out]);
    let booked = calls("?booked=yes").await;
    assert_eq!(listed(&booked), vec![hot]);
    assert!(booked.contains("<option value=\"yes\" selected>"));
    assert_eq!(listed(&calls("?sentiment=negative").await), vec![warm]);
    let tier = app.query_i64(
        "SELECT COUNT(*) FROM calls WHERE lead_tier = 'hot' AND org_id = ?1",
        &[&app.a.org_id],
    );
    assert_eq!(listed(&calls("?tier=hot").await).len() as i64, tier);
    let range = calls("?from=2026-06-01&to=2026-06-12").await;
    assert_eq!(listed(&range), vec![cold]);
    assert!(range.contains("value=\"2026-06-12\""));
    // Unknown filter values are ignored, not errors.
    assert_eq!(
        listed(&calls("?direction=sideways&booked=maybe&page=-3").await).len(),
        4
    );
}

#[tokio::test]
async fn the_list_pages_through_many_calls_keeping_its_filters() {
    let app = TestApp::spawn().await;
    let a = app.vapi_secret(app.a.org_id);
    for i in 0..55 {
        let mut r = report(
            &format!("bulk-{i}"),
            "+14155550150",
            &[("User", "Botox price please")],
            30.0,
        );
        r["message"]["startedAt"] =
            json!(format!("2026-06-{:02}T{:02}:00:00Z", 1 + i / 20, i % 20));
        assert_eq!(app.webhook(&a, &r).await.0, 200);
    }
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    let (_, first) = page(&staff, app.url("/calls?q=botox&direction=inbound")).await;
    assert_eq!(listed(&first).len(), 50);
    assert!(first.contains("55 calls"));
    assert!(first.contains("Page 1 of 2"));
    let next = first
        .split("rel=\"next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .map(|s| s.trim_end_matches("\" ").replace("&#38;", "&"))
        .unwrap();
    assert!(
        next.contains("q=botox") && next.contains("direction=inbound") && next.contains("page=2"),
        "{next}"
    );
    let (_, second) = page(&staff, app.url(&next)).await;
    let (mut seen, rest) = (listed(&first), listed(&second));
    assert_eq!(rest.len(), 5);
    seen.extend(rest);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 55, "no call twice, none left out");
}

#[tokio::test]
async fn a_call_page_shows_the_conversation_and_what_it_came_to() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    let id = call_id(&app, REF_CALL);
    let (status, html) = page(&staff, app.url(&format!("/calls/{id}"))).await;
    assert_eq!(status, 200);
    assert!(html.contains("Call with Dana Lee"), "the contact's name");
    assert!(html.contains("class=\"turn caller\""));
    assert!(html.contains(&escaped("I'd like to book botox tomorrow.")));
    assert!(html.contains("class=\"turn assistant\""));
    assert!(html.contains("Booked for noon."));
    assert!(html.contains("Caller called the clinic."), "summary");
    assert!(html.contains(&format!(
        "<audio controls preload=\"none\" src=\"https://storage.vapi.ai/{REF_CALL}-mono.wav\""
    )));
    assert!(html.contains("tier-hot"), "score tier");
    assert!(html.contains("<table class=\"score\">"), "score breakdown");
    let contact = contact_id(&app, "+14155550123");
    assert!(
        html.contains(&format!("href=\"/leads/{contact}\"")),
        "linked contact"
    );
    assert!(html.contains("Botox with"), "linked appointment");
    assert!(
        html.contains("data-segments=\"message-count\""),
        "live counter"
    );
    assert_eq!(page(&staff, app.url("/calls/999999")).await.0, 404);
}

#[tokio::test]
async fn transcripts_export_as_text_files_and_the_export_is_audited() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let id = call_id(&app, REF_CALL);
    let res = post_form(
        &staff,
        app.url(&format!("/calls/{id}/transcript")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        res.headers()["content-disposition"],
        format!("attachment; filename=\"call-{id}-transcript.txt\"").as_str()
    );
    let text = res.text().await.unwrap();
    assert!(text.contains("Caller: Dana Lee (+14155550123)"), "{text}");
    assert!(
        text.contains("Caller: I'd like to book botox tomorrow.\n\nAssistant: Booked for noon."),
        "{text}"
    );
    assert_eq!(audits(&app, "call.transcript_exported"), 1);
    // Without the CSRF token: refused, nothing audited.
    let res = post_form(&staff, app.url(&format!("/calls/{id}/transcript")), &[]).await;
    assert_eq!(res.status(), 400);
    assert_eq!(audits(&app, "call.transcript_exported"), 1);
    // The JSON endpoint: same file; other formats are a 400.
    let api = app.url(&format!("/api/calls-dashboard/{id}/transcript/export"));
    let res = staff
        .post(&api)
        .header("x-csrf-token", &csrf)
        .json(&json!({"format": "txt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), text);
    let res = staff
        .post(&api)
        .header("x-csrf-token", &csrf)
        .json(&json!({"format": "pdf"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("txt"));
    let res = staff
        .post(&api)
        .header("x-csrf-token", &csrf)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(audits(&app, "call.transcript_exported"), 2);
}

#[tokio::test]
async fn a_shared_recording_works_for_24_hours_then_is_gone() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let id = call_id(&app, REF_CALL);
    let res = post_form(
        &staff,
        app.url(&format!("/calls/{id}/share")),
        &[("csrf_token", &csrf), ("email", "")],
    )
    .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("data-copy=\"share-url\""));
    let url = html
        .split("<code id=\"share-url\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    let token = url.rsplit('/').next().unwrap().to_string();
    assert!(
        url.starts_with(&format!("http://{}/shared/recordings/", app.addr)),
        "{url}"
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM recording_shares WHERE token_hash = ?1",
            &[&token]
        ),
        0,
        "only the hash is stored"
    );
    let anonymous = app.client();
    for base in [app.url(""), app.webhook_url("")] {
        let res = anonymous
            .get(format!("{base}/shared/recordings/{token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 307, "{base}");
        assert_eq!(
            res.headers()["location"],
            format!("https://storage.vapi.ai/{REF_CALL}-mono.wav").as_str()
        );
    }
    let res = anonymous
        .get(app.url("/shared/recordings/not-a-real-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // The JSON endpoint, as the original product answered.
    let res = staff
        .post(app.url(&format!("/api/calls-dashboard/{id}/share")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"email": "dr.lee@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let shared: Value = res.json().await.unwrap();
    assert_eq!(shared["success"], true);
    assert_eq!(shared["email"], "dr.lee@example.com");
    assert_eq!(shared["expiresAt"], "2026-06-16T14:00:00Z");
    let api_url = shared["url"].as_str().unwrap().to_string();
    for bad in [json!({}), json!({"email": "not an email"})] {
        let res = staff
            .post(app.url(&format!("/api/calls-dashboard/{id}/share")))
            .header("x-csrf-token", &csrf)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
    }
    assert_eq!(audits(&app, "call.recording_shared"), 2);
    // A call without a recording has nothing to share.
    let out = call_id(&app, "a-out");
    let res = post_form(
        &staff,
        app.url(&format!("/calls/{out}/share")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("no recording to share"));
    // A minute before the day is up it still works; at 24 hours it is gone.
    app.clock
        .advance(chrono::Duration::hours(24) - chrono::Duration::minutes(1));
    assert_eq!(anonymous.get(&api_url).send().await.unwrap().status(), 307);
    app.clock.advance(chrono::Duration::minutes(1));
    for link in [&url, &api_url] {
        let res = anonymous.get(link.as_str()).send().await.unwrap();
        assert_eq!(res.status(), 410, "{link}");
    }
}

#[tokio::test]
async fn follow_up_texts_go_through_the_outbox_to_twilio() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    app.set_twilio(app.a.org_id);
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let id = call_id(&app, "a-warm");
    let texts_before = app.texts().len();
    let res = post_form(
        &staff,
        app.url(&format!("/calls/{id}/follow-up")),
        &[
            ("csrf_token", &csrf),
            ("message", "Hi! Your facelift consultation quote is ready."),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/calls/{id}?saved=sent").as_str()
    );
    let texts = app.texts();
    assert_eq!(texts.len(), texts_before + 1);
    assert_eq!(
        texts.last().unwrap(),
        &(
            "+14155550111".to_string(),
            "Hi! Your facelift consultation quote is ready.".to_string()
        )
    );
    app.texts_recorded().await;
    let (_, messages) = page(&staff, app.url("/messages?purpose=follow_up")).await;
    assert!(messages.contains("Your facelift consultation quote is ready."));
    assert_eq!(audits(&app, "call.follow_up_sent"), 1);
    // Too long: a clear message, nothing queued.
    let outbox = || {
        app.query_i64(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'follow_up'",
            &[],
        )
    };
    let long = "x".repeat(161);
    let res = post_form(
        &staff,
        app.url(&format!("/calls/{id}/follow-up")),
        &[("csrf_token", &csrf), ("message", &long)],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("at most 160 characters"));
    assert_eq!(outbox(), 1);
    // The JSON endpoint answers like the original; its validation errors are 400s.
    let api = app.url(&format!("/api/calls-dashboard/{id}/followup"));
    let res = staff
        .post(&api)
        .header("x-csrf-token", &csrf)
        .json(&json!({"message": "See you soon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let sent: Value = res.json().await.unwrap();
    assert_eq!(sent["success"], true);
    assert_eq!(sent["phone"], "+14155550111");
    assert!(
        sent["messageId"]
            .as_str()
            .is_some_and(|s| s.starts_with("SM")),
        "{sent}"
    );
    for bad in [
        json!({}),
        json!({"message": "  "}),
        json!({"message": long}),
    ] {
        let res = staff
            .post(&api)
            .header("x-csrf-token", &csrf)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
        assert!(res.json::<Value>().await.unwrap()["error"].is_string());
    }
    assert_eq!(outbox(), 2);
    // An opted-out number is not texted.
    app.query_i64(
        "INSERT INTO sms_opt_outs (org_id, phone, source, created_at) VALUES (?1, '+14155550111', 'stop', 0) RETURNING 0",
        &[&app.a.org_id],
    );
    let res = staff
        .post(&api)
        .header("x-csrf-token", &csrf)
        .json(&json!({"message": "Hello?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("opted out"));
    assert_eq!(outbox(), 2);
    assert_eq!(app.texts().len(), texts_before + 2);
    // Without the CSRF token: refused.
    let res = staff
        .post(&api)
        .json(&json!({"message": "Hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(outbox(), 2);
}

#[tokio::test]
async fn leads_show_their_figures_filter_and_take_actions() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let (status, html) = page(&staff, app.url("/leads")).await;
    assert_eq!(status, 200);
    let count = |tier: &str| {
        app.query_i64(
            &format!("SELECT COUNT(*) FROM contacts WHERE org_id = ?1 AND {tier}"),
            &[&app.a.org_id],
        )
    };
    let figure = |html: &str, id: &str| -> i64 {
        html.split(&format!("id=\"{id}\">"))
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(figure(&html, "stat-total"), count("1"));
    assert_eq!(figure(&html, "stat-hot"), count("lead_tier = 'hot'"));
    assert_eq!(figure(&html, "stat-warm"), count("lead_tier = 'warm'"));
    assert_eq!(
        figure(&html, "stat-cold"),
        count("COALESCE(lead_tier, 'cold') = 'cold'")
    );
    assert!(figure(&html, "stat-hot") >= 1);
    assert!(html.contains("+14155550111") && !html.contains("+447700900123"));
    assert!(
        html.contains(r#"<a href="tel:+14155550111">(415) 555-0111</a>"#),
        "{html}"
    );
    let dana = contact_id(&app, "+14155550123");
    let (_, hot) = page(&staff, app.url("/leads?tier=hot")).await;
    assert!(hot.contains(&format!("/leads/{dana}\"")));
    assert!(!hot.contains("+14155550122"), "cold lead filtered out");
    let (_, booked) = page(&staff, app.url("/leads?status=booked")).await;
    assert!(booked.contains("+14155550123") && !booked.contains("+14155550111"));
    // Search by name (any case, part of it) or by phone number in any format.
    for q in ["dana", "Lee", "%28415%29+555-0123", "4155550123"] {
        let (_, found) = page(&staff, app.url(&format!("/leads?q={q}"))).await;
        assert!(found.contains(&format!("/leads/{dana}\"")), "{q}");
        assert!(found.contains("1 lead<"), "{q}: only Dana");
        assert!(found.contains(r#"name="q" type="search" value=""#), "{q}");
    }
    let (_, none) = page(&staff, app.url("/leads?q=100%25+_")).await;
    assert!(none.contains("0 leads"), "LIKE wildcards are literal");
    // A lead's page: calls, appointments, texts, notes.
    let (status, html) = page(&staff, app.url(&format!("/leads/{dana}"))).await;
    assert_eq!(status, 200);
    assert!(html.contains("Dana Lee"));
    assert!(html.contains(&format!("href=\"/calls/{}\"", call_id(&app, REF_CALL))));
    assert!(html.contains("Botox with"), "the appointment");
    // Notes, then lost, each audited.
    let warm = contact_id(&app, "+14155550111");
    let res = post_form(
        &staff,
        app.url(&format!("/leads/{warm}/notes")),
        &[("csrf_token", &csrf), ("notes", "Wants a quote by email")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = post_form(
        &staff,
        app.url(&format!("/leads/{warm}/status")),
        &[("csrf_token", &csrf), ("status", "lost")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, html) = page(&staff, app.url(&format!("/leads/{warm}"))).await;
    assert!(html.contains("Wants a quote by email"));
    assert!(html.contains("<span class=\"badge\" id=\"lead-status\">lost</span>"));
    let res = post_form(
        &staff,
        app.url(&format!("/leads/{warm}/status")),
        &[("csrf_token", &csrf), ("status", "booked")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE id = ?1 AND lead_status = 'booked'",
            &[&warm]
        ),
        1
    );
    assert_eq!(audits(&app, "contact.updated"), 3);
    // Only booked or lost; too-long notes; no CSRF: nothing changes.
    let res = post_form(
        &staff,
        app.url(&format!("/leads/{warm}/status")),
        &[("csrf_token", &csrf), ("status", "new")],
    )
    .await;
    assert_eq!(res.status(), 422);
    let long = "n".repeat(4001);
    let res = post_form(
        &staff,
        app.url(&format!("/leads/{warm}/notes")),
        &[("csrf_token", &csrf), ("notes", &long)],
    )
    .await;
    assert_eq!(res.status(), 422);
    let res = post_form(
        &staff,
        app.url(&format!("/leads/{warm}/status")),
        &[("status", "lost")],
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE id = ?1 AND lead_status = 'booked'",
            &[&warm]
        ),
        1
    );
    assert_eq!(audits(&app, "contact.updated"), 3);
    // Call back: a clear message until Settings has the call-back assistant, then Vapi rings.
    let res = post_form(
        &staff,
        app.url(&format!("/leads/{warm}/call-back")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Settings"));
    assert!(app.vapi.requests_to("/call").is_empty());
    let (owner, owner_csrf) = app.signed_in(app.a.owner_email).await;
    let res = post_form(
        &owner,
        app.url("/settings/voice/calls"),
        &[
            ("csrf_token", &owner_csrf),
            ("outbound_assistant_id", "out-asst"),
            ("phone_number_id", "pn-1"),
            ("hot_lead_threshold", "70"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = post_form(
        &staff,
        app.url(&format!("/leads/{warm}/call-back")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(res.status(), 303);
    let asked = app.vapi.requests_to("/call");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].json()["customer"]["number"], "+14155550111");
    assert_eq!(audits(&app, "call.call_back_requested"), 1);
}

#[tokio::test]
async fn only_signed_in_people_see_calls_and_leads_and_staff_see_them_like_owners() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let id = call_id(&app, REF_CALL);
    let anonymous = app.client();
    for path in [
        "/calls".to_string(),
        format!("/calls/{id}"),
        "/leads".to_string(),
    ] {
        let res = anonymous.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(res.headers()["location"], "/login");
    }
    let res = anonymous
        .post(app.url(&format!("/api/calls-dashboard/{id}/followup")))
        .header("authorization", "Bearer vxa_not-a-token")
        .json(&json!({"message": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    for email in [app.a.staff_email, app.a.owner_email] {
        let (client, _) = app.signed_in(email).await;
        for path in [
            "/calls".to_string(),
            format!("/calls/{id}"),
            "/leads".to_string(),
        ] {
            let (status, html) = page(&client, app.url(&path)).await;
            assert_eq!(status, 200, "{email} {path}");
            assert!(
                html.contains("<a href=\"/calls\" aria-current=\"page\">Calls</a>")
                    || html.contains("<a href=\"/leads\" aria-current=\"page\">Leads</a>")
            );
        }
    }
}

#[tokio::test]
async fn another_clinics_calls_and_leads_are_not_found_nor_listed() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    app.set_twilio(app.a.org_id);
    app.set_twilio(app.b.org_id);
    let (b, csrf) = app.signed_in(app.b.owner_email).await;
    let theirs = call_id(&app, REF_CALL);
    let their_lead = contact_id(&app, "+14155550123");
    let texts = app.texts().len();
    assert_eq!(page(&b, app.url(&format!("/calls/{theirs}"))).await.0, 404);
    assert_eq!(
        page(&b, app.url(&format!("/leads/{their_lead}"))).await.0,
        404
    );
    for (path, fields) in [
        (format!("/calls/{theirs}/transcript"), vec![]),
        (
            format!("/calls/{theirs}/share"),
            vec![("email", "x@example.com")],
        ),
        (
            format!("/calls/{theirs}/follow-up"),
            vec![("message", "hi")],
        ),
        (
            format!("/leads/{their_lead}/notes"),
            vec![("notes", "mine now")],
        ),
        (
            format!("/leads/{their_lead}/status"),
            vec![("status", "lost")],
        ),
        (format!("/leads/{their_lead}/call-back"), vec![]),
    ] {
        let mut form = vec![("csrf_token", csrf.as_str())];
        form.extend(fields);
        let res = post_form(&b, app.url(&path), &form).await;
        assert_eq!(res.status(), 404, "{path}");
    }
    for (path, body) in [
        ("followup", json!({"message": "hi"})),
        ("share", json!({"email": "x@example.com"})),
        ("transcript/export", json!({"format": "txt"})),
    ] {
        let res = b
            .post(app.url(&format!("/api/calls-dashboard/{theirs}/{path}")))
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    assert_eq!(app.texts().len(), texts, "nothing texted");
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM recording_shares", &[]),
        0
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE staff_notes IS NOT NULL",
            &[]
        ),
        0
    );
    // Lists, counts and search hold only their own rows.
    let (_, calls) = page(&b, app.url("/calls")).await;
    assert_eq!(listed(&calls), vec![call_id(&app, "b-1")]);
    assert!(calls.contains("1 call<"));
    let (_, search) = page(&b, app.url("/calls?q=botox")).await;
    assert_eq!(listed(&search), vec![call_id(&app, "b-1")]);
    let (_, search) = page(&b, app.url("/calls?q=facelift")).await;
    assert!(listed(&search).is_empty());
    let (_, leads) = page(&b, app.url("/leads")).await;
    assert!(leads.contains("id=\"stat-total\">1<"));
    assert!(!leads.contains("+14155550123"));
}

#[tokio::test]
async fn hostile_names_and_transcripts_render_as_text() {
    let app = TestApp::spawn().await;
    let a = app.vapi_secret(app.a.org_id);
    let name = "\"><img src=x onerror=alert(1)>";
    let mut r = report(
        "evil",
        "+14155550177",
        &[(
            "User",
            "<script>alert('x')</script> {{ 7*7 }} {% if true %}yes{% endif %}",
        )],
        40.0,
    );
    r["message"]["customer"]["name"] = json!(name);
    r["message"]["analysis"]["summary"] = json!("<b>bold</b> {{ summary }}");
    assert_eq!(app.webhook(&a, &r).await.0, 200);
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    let id = call_id(&app, "evil");
    let lead = contact_id(&app, "+14155550177");
    for path in [
        "/calls".to_string(),
        format!("/calls/{id}"),
        "/leads".to_string(),
        format!("/leads/{lead}"),
        "/calls?q=script".to_string(),
    ] {
        let (status, html) = page(&staff, app.url(&path)).await;
        assert_eq!(status, 200, "{path}");
        assert!(!html.contains("<img src=x"), "{path}");
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<b>bold"), "{path}");
        assert!(
            html.contains(&escaped(name)),
            "{path}: the name shown as text"
        );
        if path.starts_with("/calls/") {
            assert!(
                html.contains(&escaped("<script>alert('x')</script>")),
                "{path}"
            );
            assert!(html.contains("{{ 7*7 }}") && !html.contains("49"), "{path}");
            assert!(html.contains("{% if true %}yes{% endif %}"), "{path}");
        }
    }
}

/// A call's page lists what the assistant did during it, in order, in plain words, with
/// links to what it made; and says how the call ended in plain words.
#[tokio::test]
async fn a_call_page_shows_each_tool_action_of_the_call() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let call = "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11"; // the id the tool-call payloads carry
    app.tool(
        &secret,
        "a1",
        "check_availability",
        json!({"service": "botox", "date": "2026-06-16"}),
    )
    .await
    .unwrap();
    app.tool(&secret, "a2", "book_appointment", json!({"service": "botox", "date": "2026-06-16", "time": "10:00", "patientName": "Dana Lee", "notes": "Nervous about needles"}))
        .await
        .unwrap();
    app.tool(&secret, "a3", "book_appointment", json!({"service": "botox", "date": "2026-06-16", "time": "10:00", "patientName": "Dana Lee"}))
        .await
        .unwrap();
    let body = report(
        call,
        support::vapi::CALLER,
        &[("User", "I'd like botox on Tuesday")],
        95.0,
    );
    let (status, _) = app.webhook(&secret, &body).await;
    assert_eq!(status, 200);
    let id = call_id(&app, call);
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    let (status, html) = page(&staff, app.url(&format!("/calls/{id}"))).await;
    assert_eq!(status, 200);
    let did = html
        .split(r#"id="did-h""#)
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    let checked = did
        .find("Checked free times")
        .expect("the availability check");
    let booked = did.find("<strong>Booked</strong>").expect("the booking");
    assert!(checked < booked, "in order: {did}");
    assert!(
        did.contains(
            r#"<a href="/appointments?from=2026-06-16&#38;days=1">See the appointment</a>"#
        ),
        "{did}"
    );
    assert_eq!(
        did.matches("not done").count(),
        1,
        "the second booking found the time taken: {did}"
    );
    assert!(html.contains("How it ended</dt><dd>Booked"), "{html}");
    // What the assistant noted is on the call's page and the lead's.
    assert!(
        html.contains("Noted by the assistant: Nervous about needles"),
        "{html}"
    );
    let lead = contact_id(&app, support::vapi::CALLER);
    let (_, lead_page) = page(&staff, app.url(&format!("/leads/{lead}"))).await;
    assert!(
        lead_page.contains("Noted: Nervous about needles"),
        "{lead_page}"
    );
    // Another clinic's call page is not found.
    let (beta, _) = app.signed_in(app.b.staff_email).await;
    assert_eq!(page(&beta, app.url(&format!("/calls/{id}"))).await.0, 404);
}

/// A contact nothing refers to can be removed; one with a call stays, and says why.
#[tokio::test]
async fn a_contact_with_no_records_can_be_removed_and_one_with_records_cannot() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let stray = app.insert_contact(app.a.org_id, "+14155550999", "Wrong Number", None);
    let (_, stray_page) = page(&staff, app.url(&format!("/leads/{stray}"))).await;
    assert!(stray_page.contains("Remove contact"));
    let dana = contact_id(&app, "+14155550123");
    let (_, dana_page) = page(&staff, app.url(&format!("/leads/{dana}"))).await;
    assert!(!dana_page.contains("Remove contact"), "Dana has calls");
    // Forced anyway: refused with the reason, nothing removed.
    let res = post_form(
        &staff,
        app.url(&format!("/leads/{dana}/remove")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("has calls, appointments or texts, so the record stays"));
    // Another clinic's staff cannot reach it; without the token nobody can.
    let (beta, beta_csrf) = app.signed_in(app.b.staff_email).await;
    let res = post_form(
        &beta,
        app.url(&format!("/leads/{stray}/remove")),
        &[("csrf_token", &beta_csrf)],
    )
    .await;
    assert_eq!(res.status(), 404);
    let res = post_form(&staff, app.url(&format!("/leads/{stray}/remove")), &[]).await;
    assert_eq!(res.status(), 400);
    let res = post_form(
        &staff,
        app.url(&format!("/leads/{stray}/remove")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM contacts WHERE id = ?1", &[&stray]),
        0
    );
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM contacts WHERE id = ?1", &[&dana]),
        1
    );
    assert_eq!(audits(&app, "contact.removed"), 1);
}
