//! The dashboard in headless Chromium: an owner signs in, changes the booking rules, and the
//! pages are photographed at laptop and phone widths; staff search calls, open one, export its
//! transcript and text the caller; staff book, reschedule and cancel an appointment.

use crate::support;

use support::browser::Browser;
use support::{TestApp, PASSWORD};

fn artifact(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/artifacts")
        .join(name)
}

#[tokio::test]
async fn owner_signs_in_and_saves_booking_rules_in_a_real_browser() {
    let Some(browser) = Browser::launch().await.expect("browser launch") else {
        return;
    };
    let app = TestApp::spawn().await;
    browser.goto(&app.url("/login")).await.unwrap();
    browser
        .screenshot(&artifact("login-1280.png"))
        .await
        .unwrap();
    browser.fill("#email", app.a.owner_email).await.unwrap();
    browser.fill("#password", PASSWORD).await.unwrap();
    browser.click("button[type=submit]").await.unwrap();
    // Owners land on the first area of the dashboard.
    browser.wait_for_text("h1", "Overview").await.unwrap();
    browser.goto(&app.url("/settings")).await.unwrap();
    browser.wait_for_text("h1", "Settings").await.unwrap();
    assert!(browser.source().await.unwrap().contains("Alpha Clinic"));

    browser.fill("#buffer_minutes", "15").await.unwrap();
    browser
        .click("form[action='/settings/rules'] button")
        .await
        .unwrap();
    browser
        .wait_for_text(".notice", "Saved rules")
        .await
        .unwrap();
    assert_eq!(
        app.query_i64(
            "SELECT buffer_minutes FROM orgs WHERE id = ?1",
            &[&app.a.org_id]
        ),
        15
    );

    for (path, name) in [
        ("/settings", "settings"),
        ("/settings/staff", "staff"),
        ("/account", "account"),
    ] {
        browser.goto(&app.url(path)).await.unwrap();
        for width in [1280, 390] {
            browser.set_window_width(width, 900).await.unwrap();
            browser
                .screenshot(&artifact(&format!("{name}-{width}.png")))
                .await
                .unwrap();
        }
        browser.set_window_width(1280, 900).await.unwrap();
    }
    assert!(!browser.alert_present().await.unwrap());
    browser.quit().await.unwrap();
}

#[tokio::test]
async fn owner_adds_and_archives_a_service_and_reads_messages_in_a_real_browser() {
    let Some(browser) = Browser::launch().await.expect("browser launch") else {
        return;
    };
    let app = TestApp::spawn().await;
    app.set_twilio(app.a.org_id);
    let s = app.vapi_secret(app.a.org_id);
    app.tool(
        &s,
        "b1",
        "book_appointment",
        serde_json::json!({"date": "2026-06-17", "time": "10:00", "service": "Botox",
                           "patientName": "\"><img src=x onerror=alert(1)>", "patientPhone": "+14155550123"}),
    )
    .await
    .unwrap();
    browser.goto(&app.url("/login")).await.unwrap();
    browser.fill("#email", app.a.owner_email).await.unwrap();
    browser.fill("#password", PASSWORD).await.unwrap();
    browser.click("button[type=submit]").await.unwrap();
    browser.wait_for_text("h1", "Overview").await.unwrap();
    browser.goto(&app.url("/services")).await.unwrap();
    browser.fill("#name", "Chemical Peel").await.unwrap();
    browser.fill("#price", "180").await.unwrap();
    browser.fill("#keywords", "peel, peels").await.unwrap();
    browser
        .click("form[action='/services'] button")
        .await
        .unwrap();
    browser
        .wait_for_text(".notice", "Service added")
        .await
        .unwrap();
    let id = app.query_i64(
        "SELECT id FROM services WHERE name = 'Chemical Peel' AND price_cents = 18000",
        &[],
    );
    browser
        .click(&format!("form[action='/services/{id}/archive'] button"))
        .await
        .unwrap();
    browser
        .wait_for_text(".notice", "Service archived")
        .await
        .unwrap();
    assert_eq!(
        app.query_i64("SELECT active FROM services WHERE id = ?1", &[&id]),
        0
    );
    for (path, name) in [("/services", "services"), ("/messages", "messages")] {
        browser.goto(&app.url(path)).await.unwrap();
        for width in [1280, 390] {
            browser.set_window_width(width, 900).await.unwrap();
            browser
                .screenshot(&artifact(&format!("{name}-{width}.png")))
                .await
                .unwrap();
        }
        browser.set_window_width(1280, 900).await.unwrap();
    }
    assert!(browser
        .source()
        .await
        .unwrap()
        .contains("confirmed for Wednesday, June 17 at 10:00 AM"));
    assert!(!browser.alert_present().await.unwrap());
    browser.quit().await.unwrap();
}

#[tokio::test]
async fn staff_search_a_call_export_it_and_text_the_caller_in_a_real_browser() {
    let Some(browser) = Browser::launch().await.expect("browser launch") else {
        return;
    };
    let app = TestApp::spawn().await;
    app.set_twilio(app.a.org_id);
    let s = app.vapi_secret(app.a.org_id);
    let hostile = "\"><img src=x onerror=alert(1)>";
    let mut evil = support::calls::report(
        "browser-evil",
        "+14155550123",
        &[
            (
                "User",
                "Hi, <script>alert('x')</script> I want botox {{ 7*7 }}.",
            ),
            ("AI", "Happy to help with botox."),
        ],
        95.0,
    );
    evil["message"]["customer"]["name"] = serde_json::json!(hostile);
    let plain = support::calls::report(
        "browser-plain",
        "+14155550111",
        &[("User", "What are your opening hours?")],
        20.0,
    );
    for body in [evil, plain] {
        assert_eq!(app.webhook(&s, &body).await.0, 200);
    }
    browser.goto(&app.url("/login")).await.unwrap();
    browser.fill("#email", app.a.staff_email).await.unwrap();
    browser.fill("#password", PASSWORD).await.unwrap();
    browser.click("button[type=submit]").await.unwrap();
    browser.wait_for_text("h1", "Overview").await.unwrap();

    // Search and filter.
    browser.goto(&app.url("/calls")).await.unwrap();
    browser.wait_for_text("#calls-h", "2 calls").await.unwrap();
    // With JavaScript, htmx swaps only the results in: the page itself is never reloaded.
    browser
        .execute("window.stillThisPage = true; return true;", vec![])
        .await
        .unwrap();
    browser.fill("#q", "botox").await.unwrap();
    browser.select("#direction", "inbound").await.unwrap();
    browser
        .click("form.call-filters button[type=submit]")
        .await
        .unwrap();
    browser.wait_for_text("#calls-h", "1 call").await.unwrap();
    assert!(browser.current_url().await.unwrap().contains("q=botox"));
    assert_eq!(
        browser
            .execute("return window.stillThisPage === true;", vec![])
            .await
            .unwrap(),
        serde_json::json!(true),
        "the results were swapped in place"
    );
    // The hostile name is text on the page, and nothing ran.
    browser
        .wait_for_text("table.calls td", hostile)
        .await
        .unwrap();
    assert!(!browser.alert_present().await.unwrap());
    for width in [1280, 390] {
        browser.set_window_width(width, 900).await.unwrap();
        browser
            .screenshot(&artifact(&format!("calls-{width}.png")))
            .await
            .unwrap();
    }
    browser.set_window_width(1280, 900).await.unwrap();

    // Open it: the conversation is a chat, the hostile text shown as typed.
    browser.click("table.calls td a").await.unwrap();
    browser.wait_for_text("h1", "Call with").await.unwrap();
    browser
        .wait_for_text(
            ".chat .caller",
            "<script>alert('x')</script> I want botox {{ 7*7 }}.",
        )
        .await
        .unwrap();
    browser
        .wait_for_text(".chat .assistant", "Happy to help with botox.")
        .await
        .unwrap();
    assert!(!browser.alert_present().await.unwrap());

    // Export the transcript: the same form the button submits, read back as the download.
    let exported = browser
        .execute(
            "const form = document.querySelector(\"form[action$='/transcript']\");
             return fetch(form.action, {method: 'POST', body: new URLSearchParams(new FormData(form))})
               .then(r => r.text().then(t => [r.headers.get('content-disposition'), t]));",
            vec![],
        )
        .await
        .unwrap();
    assert!(exported[0]
        .as_str()
        .unwrap()
        .starts_with("attachment; filename=\"call-"));
    assert!(exported[1]
        .as_str()
        .unwrap()
        .contains("Caller: Hi, <script>alert('x')</script> I want botox {{ 7*7 }}."));
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'call.transcript_exported'",
            &[]
        ),
        1
    );

    // Text the caller, with the live counter.
    browser
        .fill("#message", "Thanks for calling!")
        .await
        .unwrap();
    browser
        .wait_for_text("#message-count", "19 / 160 characters · sent as 1 text")
        .await
        .unwrap();
    browser
        .screenshot(&artifact("call-1280.png"))
        .await
        .unwrap();
    browser.click("#send-follow-up").await.unwrap();
    browser
        .wait_for_text(".notice", "Follow-up text sent")
        .await
        .unwrap();
    assert!(app.texts().contains(&(
        "+14155550123".to_string(),
        "Thanks for calling!".to_string()
    )));

    // The caller is a lead, listed with the name as text.
    browser.goto(&app.url("/leads")).await.unwrap();
    browser
        .wait_for_text("table.leads td", hostile)
        .await
        .unwrap();
    assert!(!browser.alert_present().await.unwrap());
    browser.quit().await.unwrap();
}

/// Sets a date or time input the way a picker would (typing into them depends on the locale).
async fn set_value(browser: &Browser, css: &str, value: &str) {
    browser
        .execute(
            "const el = document.querySelector(arguments[0]); el.value = arguments[1]; \
             el.dispatchEvent(new Event('change', {bubbles: true})); return el.value;",
            vec![css.into(), value.into()],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn staff_book_reschedule_and_cancel_an_appointment_in_a_real_browser() {
    let Some(browser) = Browser::launch().await.expect("browser launch") else {
        return;
    };
    let app = TestApp::spawn().await;
    app.set_twilio(app.a.org_id);
    browser.goto(&app.url("/login")).await.unwrap();
    browser.fill("#email", app.a.staff_email).await.unwrap();
    browser.fill("#password", PASSWORD).await.unwrap();
    browser.click("button[type=submit]").await.unwrap();
    browser.wait_for_text("h1", "Overview").await.unwrap();

    // Book at the desk: the same engine as the phone.
    browser
        .goto(&app.url("/appointments?from=2026-06-15&days=7"))
        .await
        .unwrap();
    browser.fill("#name", "Robin Vale").await.unwrap();
    browser.fill("#phone", "(415) 555-0177").await.unwrap();
    set_value(&browser, "#date", "2026-06-17").await;
    set_value(&browser, "#time", "10:00").await;
    // "Book" (the form's other buttons show and pick free times).
    browser
        .click("form[method=post][action='/appointments'] button[type=submit]:not([name])")
        .await
        .unwrap();
    if browser.wait_for_text("td", "Robin Vale").await.is_err() {
        let src = browser.source().await.unwrap();
        let at = src.find("<main").unwrap_or(0);
        panic!("{}", &src[at..(at + 3000).min(src.len())]);
    }
    let id = app.query_i64(
        "SELECT id FROM appointments WHERE org_id = ?1 AND source = 'staff' AND status = 'confirmed'",
        &[&app.a.org_id],
    );
    let start =
        |app: &TestApp| app.query_i64("SELECT start_at FROM appointments WHERE id = ?1", &[&id]);
    let booked_at = start(&app);

    // Reschedule to the next day at 2 PM.
    browser.click("details summary").await.unwrap();
    set_value(&browser, &format!("#date-{id}"), "2026-06-18").await;
    set_value(&browser, &format!("#time-{id}"), "14:00").await;
    browser
        .click(&format!(
            "form[action='/appointments/{id}/reschedule'] button[type=submit]:not([name])"
        ))
        .await
        .unwrap();
    browser.wait_for_text("td", "Robin Vale").await.unwrap();
    assert_eq!(
        start(&app) - booked_at,
        28 * 3600,
        "moved by a day and four hours"
    );

    // Cancel it.
    browser.click("details summary").await.unwrap();
    browser
        .click(&format!("form[action='/appointments/{id}/cancel'] button"))
        .await
        .unwrap();
    browser
        .wait_for_text("span.badge", "cancelled")
        .await
        .unwrap();
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments WHERE id = ?1 AND status = 'cancelled'",
            &[&id]
        ),
        1
    );
    // Each change was audited.
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE org_id = ?1 AND action LIKE 'appointment.%'",
            &[&app.a.org_id]
        ),
        3
    );
}

#[tokio::test]
async fn the_front_desk_books_a_free_time_and_clears_a_failed_transfer_in_a_real_browser() {
    let Some(browser) = Browser::launch().await.expect("browser launch") else {
        return;
    };
    let app = TestApp::spawn().await;
    // A caller whose transfer to the desk failed, as Vapi reports it.
    let mut report = support::calls::report(
        "call-transfer-failed",
        "+14155550188",
        &[("User", "I broke a tooth, I need someone now.")],
        40.0,
    );
    report["message"]["endedReason"] = serde_json::json!("call.in-progress.error-transfer-failed");
    let (status, _) = app.webhook(&app.vapi_secret(app.a.org_id), &report).await;
    assert_eq!(status, 200);

    browser.goto(&app.url("/login")).await.unwrap();
    browser.fill("#email", app.a.staff_email).await.unwrap();
    browser.fill("#password", PASSWORD).await.unwrap();
    browser.click("button[type=submit]").await.unwrap();
    browser
        .wait_for_text("h2", "Needs attention")
        .await
        .unwrap();
    browser
        .wait_for_text(".attention-item", "Transfer to the desk failed")
        .await
        .unwrap();
    browser
        .fill(
            ".attention-item input[name=note]",
            "Called back; seen at 11",
        )
        .await
        .unwrap();
    browser
        .click(".attention-item button[type=submit]")
        .await
        .unwrap();
    browser
        .wait_for_text("#attention-h + p", "Nothing needs anyone right now.")
        .await
        .unwrap();
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM attention_items WHERE note = 'Called back; seen at 11' AND done_by = 'Sam Staff'",
            &[]
        ),
        1
    );

    // Desk booking by clicking a free time.
    browser.goto(&app.url("/appointments")).await.unwrap();
    browser.fill("#name", "Robin Vale").await.unwrap();
    browser.fill("#phone", "(415) 555-0177").await.unwrap();
    set_value(&browser, "#date", "2026-06-17").await;
    browser
        .click("button[name=action][value=times]")
        .await
        .unwrap();
    browser
        .wait_for_text(".free-times legend", "Free on Wednesday, June 17")
        .await
        .unwrap();
    browser
        .click(".free-times button[name=pick]")
        .await
        .unwrap();
    browser.wait_for_text("td", "Robin Vale").await.unwrap();
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments a JOIN contacts c ON c.id = a.contact_id
             WHERE c.name = 'Robin Vale' AND a.status = 'confirmed' AND a.source = 'staff'",
            &[]
        ),
        1
    );
}
