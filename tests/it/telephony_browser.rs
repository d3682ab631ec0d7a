//! The telephony wizard end to end in headless Chromium: the owner types the clinic's number,
//! sees Twilio's code, the fake Twilio "answers" and posts its signed callback, the owner picks
//! carrier and mode, sees the codes with a copy button and a `tel:` link, and confirms: the
//! set-up is active. `VOXANNE_REQUIRE_BROWSER=1` makes a missing browser a failure.

use crate::support;

use support::browser::Browser;
use support::messaging::AUTH_TOKEN;
use support::{Options, TestApp, PASSWORD};

fn artifact(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/artifacts")
        .join(name)
}

#[tokio::test]
async fn owner_puts_the_clinic_number_in_front_of_the_ai_in_a_real_browser() {
    let Some(browser) = Browser::launch().await.expect("browser launch") else {
        return;
    };
    let app = TestApp::spawn_with(Options {
        extra: vec![(
            "VOXANNE_PUBLIC_URL",
            "https://clinic.example.test".to_string(),
        )],
        ..Options::default()
    })
    .await;
    app.set_twilio(app.a.org_id);
    browser.goto(&app.url("/login")).await.unwrap();
    browser.fill("#email", app.a.owner_email).await.unwrap();
    browser.fill("#password", PASSWORD).await.unwrap();
    browser.click("button[type=submit]").await.unwrap();
    browser.wait_for_text("h1", "Overview").await.unwrap();

    // 1. The number, typed the friendly way.
    browser.goto(&app.url("/telephony")).await.unwrap();
    browser.wait_for_text("h1", "Telephony").await.unwrap();
    browser.select("#country", "US").await.unwrap();
    browser
        .fill("#phone_number", "(415) 555-0123")
        .await
        .unwrap();
    browser.fill("#friendly_name", "Front desk").await.unwrap();
    browser
        .click("form[action='/telephony/numbers'] button[type=submit]")
        .await
        .unwrap();

    // 2. Twilio's code on screen; Twilio calls and the person types it.
    // The click returns when the browser has sent the form; the page may still be loading.
    let mut asked = None;
    for _ in 0..100 {
        asked = app.twilio.validation("+14155550123");
        if asked.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let code = asked.expect("Twilio asked").code;
    browser
        .wait_for_text("#validation-code", &code)
        .await
        .unwrap();
    browser
        .screenshot(&artifact("telephony-code-1280.png"))
        .await
        .unwrap();
    let callback = app.twilio.answer_call("+14155550123", true).unwrap();
    let res = callback
        .post(&format!("http://{}", app.webhook_addr), AUTH_TOKEN)
        .await;
    assert_eq!(res.status(), 204);
    browser.click("#check-code").await.unwrap();

    // 3. Carrier, mode and ring time; the ring time is off for Verizon.
    browser.wait_for_text("h2", "How should").await.unwrap();
    browser.select("#carrier", "verizon").await.unwrap();
    let disabled = browser
        .execute(
            "return document.getElementById('ring_seconds').disabled;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(disabled.as_bool(), Some(true), "no ring time on Verizon");
    browser.select("#carrier", "tmobile").await.unwrap();
    browser.click("input[value=safety_net]").await.unwrap();
    browser.select("#ring_seconds", "20").await.unwrap();
    browser
        .screenshot(&artifact("telephony-carrier-1280.png"))
        .await
        .unwrap();
    browser
        .click("#forwarding-form button[type=submit]")
        .await
        .unwrap();

    // 4. The codes, a copy button and a dial link.
    browser
        .wait_for_text("#activation-code", "**004*15005550006*11*20#")
        .await
        .unwrap();
    let link = browser.find("a.dial-link").await.unwrap();
    assert_eq!(
        link.attr("href").await.unwrap().as_deref(),
        Some("tel:%2A%2A004%2A15005550006%2A11%2A20%23")
    );
    assert!(browser
        .find("button[data-copy='activation-code']")
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap());
    for width in [1280, 390] {
        browser.set_window_width(width, 900).await.unwrap();
        browser
            .screenshot(&artifact(&format!("telephony-codes-{width}.png")))
            .await
            .unwrap();
    }
    browser.set_window_width(1280, 900).await.unwrap();

    // 5. Confirmed: active.
    browser.click("#confirm-forwarding").await.unwrap();
    browser
        .wait_for_text("#forwarding-active", "now reach the AI")
        .await
        .unwrap();
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM forwarding_configs WHERE status = 'active' AND ring_seconds = 20",
            &[]
        ),
        1
    );
    browser.goto(&app.url("/telephony")).await.unwrap();
    browser.wait_for_text("main", "+14155550123").await.unwrap();
    browser
        .screenshot(&artifact("telephony-1280.png"))
        .await
        .unwrap();
    assert!(!browser.alert_present().await.unwrap());
    browser.quit().await.unwrap();
}
