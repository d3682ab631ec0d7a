//! The Overview as the front desk's home: today's appointments by practitioner with arrivals
//! and no-shows, the Needs-attention worklist from calls (a failed transfer for an emergency,
//! here), marked done by staff with a note, and recent calls in plain words.

use crate::support;

use serde_json::json;
use support::calls::report;
use support::vapi::tool_calls;
use support::TestApp;

async fn overview(client: &reqwest::Client, app: &TestApp) -> String {
    let res = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test]
async fn a_failed_transfer_for_an_emergency_needs_attention_until_staff_mark_it_done() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let mut body = report(
        "call-broken-tooth",
        "+14155550188",
        &[
            ("AI", "Thanks for calling Alpha Clinic, how can I help?"),
            ("User", "I broke a tooth, I need someone now."),
            ("AI", "Let me transfer you to the front desk."),
        ],
        48.0,
    );
    body["message"]["endedReason"] = json!("call.in-progress.error-transfer-failed");
    let (status, _) = app.webhook(&secret, &body).await;
    assert_eq!(status, 200);
    // A quiet hours question needs nobody.
    let quiet = report(
        "call-hours",
        "+14155550177",
        &[
            ("User", "What time do you open on Saturday?"),
            ("AI", "We're closed on Saturdays."),
        ],
        40.0,
    );
    app.webhook(&secret, &quiet).await;

    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let page = overview(&staff, &app).await;
    let attention = page
        .split(r#"id="attention-h""#)
        .nth(1)
        .and_then(|rest| rest.split(r#"id="recent-h""#).next())
        .unwrap();
    assert!(
        attention.contains("Transfer to the desk failed"),
        "{attention}"
    );
    assert!(attention.contains("Said something urgent"));
    assert!(
        attention.contains(r#"<a href="tel:+14155550188">(415) 555-0188</a>"#),
        "{attention}"
    );
    assert!(attention.contains("attention-item urgent"));
    assert!(
        !attention.contains("555-0177"),
        "the hours question is not on the worklist"
    );
    // Recent calls say how each ended in plain words.
    let recent = page.split(r#"id="recent-h""#).nth(1).unwrap();
    assert!(recent.contains("Transfer to the desk failed") && recent.contains("Caller hung up"));
    assert!(!recent.contains("customer-ended-call"));

    let item = app.query_i64(
        "SELECT id FROM attention_items WHERE org_id = ?1",
        &[&app.a.org_id],
    );
    // Another clinic's staff cannot close it; without the form's token nobody can.
    let (beta, beta_csrf) = app.signed_in(app.b.staff_email).await;
    let res = beta
        .post(app.url(&format!("/attention/{item}/done")))
        .form(&[("csrf_token", beta_csrf.as_str()), ("note", "not mine")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = staff
        .post(app.url(&format!("/attention/{item}/done")))
        .form(&[("note", "no token")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM attention_items WHERE done_at IS NULL",
            &[]
        ),
        1
    );

    let res = staff
        .post(app.url(&format!("/attention/{item}/done")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("note", "Called back, seen at 11:30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM attention_items WHERE id = ?1 AND done_at IS NOT NULL
             AND done_by = 'Sam Staff' AND note = 'Called back, seen at 11:30'",
            &[&item]
        ),
        1
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'attention.done' AND org_id = ?1",
            &[&app.a.org_id]
        ),
        1
    );
    let page = overview(&staff, &app).await;
    assert!(
        page.contains("Nothing needs anyone right now."),
        "the item is gone from the list"
    );

    // The same report arriving again does not reopen it.
    app.webhook(&secret, &body).await;
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM attention_items WHERE done_at IS NULL",
            &[]
        ),
        0
    );
}

#[tokio::test]
async fn todays_appointments_show_by_practitioner_with_the_next_one_marked() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let book = |id: &'static str,
                date: &'static str,
                time: &'static str,
                name: &'static str,
                phone: &'static str| {
        let mut body = tool_calls(&[(
            id,
            "book_appointment",
            json!({"service": "botox", "date": date, "time": time, "patientName": name}),
        )]);
        body["message"]["call"]["customer"]["number"] = json!(phone);
        body["message"]["customer"]["number"] = json!(phone);
        let (app, secret) = (&app, secret.clone());
        async move {
            let (status, reply) = app.vapi_post("/api/vapi/tools", &secret, &body).await;
            assert_eq!(status, 200);
            let text = reply["results"][0]["result"].as_str().unwrap().to_string();
            assert!(text.starts_with("You're booked"), "{text}");
        }
    };
    book("t1", "2026-06-15", "13:00", "Ann Early", "+14155550123").await;
    book("t2", "2026-06-15", "15:30", "Bo Later", "+14155550124").await;
    // Tomorrow's is not today's.
    book("t3", "2026-06-16", "10:00", "Cy Tomorrow", "+14155550125").await;
    let (staff, csrf) = app.signed_in(app.a.staff_email).await;
    let page = overview(&staff, &app).await;
    let today = page
        .split(r#"id="today-h""#)
        .nth(1)
        .and_then(|rest| rest.split(r#"id="attention-h""#).next())
        .unwrap();
    assert!(
        today.contains("<h3>Provider") || today.contains("<h3>Main calendar</h3>"),
        "{today}"
    );
    assert!(
        today.contains("Ann Early") && today.contains("Bo Later") && !today.contains("Cy Tomorrow")
    );
    let next = today.split(r#"class="visit next""#).nth(1).unwrap();
    assert!(
        next.trim_start()
            .starts_with(">\n          <strong>1:00 PM</strong>"),
        "{next}"
    );
    assert!(today.contains(r#"<a href="tel:+14155550123">(415) 555-0123</a>"#));

    // Ann arrives: recorded from the Overview.
    let ann = app.query_i64(
        "SELECT a.id FROM appointments a JOIN contacts c ON c.id = a.contact_id WHERE c.name = 'Ann Early'",
        &[],
    );
    let res = staff
        .post(app.url(&format!("/appointments/{ann}/outcome")))
        .form(&[("csrf_token", csrf.as_str()), ("outcome", "completed")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = overview(&staff, &app).await;
    assert!(page.contains(r#"<span class="badge off">completed</span>"#));
    let next = page.split(r#"class="visit next""#).nth(1).unwrap();
    assert!(next.contains("3:30 PM"), "the next is now Bo's");
}

#[tokio::test]
async fn owners_see_the_go_live_checklist_until_it_is_done_and_staff_never() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let page = overview(&owner, &app).await;
    // The test clinic's catalogue is reviewed; the rest is to do.
    assert!(page.contains("Go-live checklist: 1 of 8 done"), "{page}");
    assert!(page.contains(r#"<a href="/settings/practitioners">rename &#34;Main calendar&#34; or add the clinic&#39;s practitioners</a>"#), "{page}");
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    assert!(!overview(&staff, &app).await.contains("Go-live checklist"));
    // Saving the opening hours ticks its item at once.
    let mut form = vec![("csrf_token".to_string(), csrf.clone())];
    form.push(("mon_open".into(), "09:00".into()));
    form.push(("mon_close".into(), "17:00".into()));
    let res = owner
        .post(app.url("/settings/hours"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(overview(&owner, &app)
        .await
        .contains("Go-live checklist: 2 of 8 done"));
}

#[tokio::test]
async fn staff_see_no_owner_only_areas_and_a_refused_page_says_why() {
    let app = TestApp::spawn().await;
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    let home = overview(&staff, &app).await;
    assert!(home.contains(r#"<a href="/calls""#));
    assert!(!home.contains(r#"<a href="/settings""#) && !home.contains(r#"<a href="/telephony""#));
    for path in ["/settings", "/settings/practitioners", "/telephony"] {
        let res = staff.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 403, "{path}");
        let page = res.text().await.unwrap();
        assert!(
            page.contains("This page is for the clinic&#39;s owners."),
            "{path}: {page}"
        );
        assert!(
            page.contains(r#"<a href="/calls""#),
            "{path}: the navigation stays"
        );
    }
    // Beta's owner is an owner, but backups cover every clinic: refused with the reason.
    let (beta, _) = app.signed_in(app.b.owner_email).await;
    let res = beta.get(app.url("/settings/backups")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("only the owners of the clinic that set it up"));
    // Owners see everything, and the time zone is a searchable list.
    let (owner, _) = app.signed_in(app.a.owner_email).await;
    let settings = owner
        .get(app.url("/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        settings.contains(r#"list="zones""#)
            && settings.contains(r#"<option value="America/New_York">"#)
    );
    assert!(!settings.contains("IANA"));
}
