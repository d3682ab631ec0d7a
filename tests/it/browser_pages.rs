//! Every dashboard page in headless Chromium with hostile text in every field a person can
//! type or a caller can say: the text renders as text (no element from data in the DOM, no
//! alert), no page is wider than a 390 px phone (a 90-character name included) and its header
//! takes at most two rows there, and each page
//! is photographed at 1280 px and 390 px into `target/screenshots/` (or
//! `$CARGO_TARGET_DIR/screenshots/`). Also: the Overview shows its charts after sign-in.
//! Pages in the table that answer 404 (an area not built yet) are skipped with a note.

use crate::support;

use support::browser::Browser;
use support::dashboard::NewCall;
use support::{TestApp, PASSWORD};

const HOSTILE: &str = r#"<script>alert(1)</script> "><img src=x onerror=alert(1)> {{ 7*7 }}"#;

fn screenshots() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("screenshots")
}

fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

/// Puts `HOSTILE` into every user-controlled field the pages show; returns (call, contact) ids.
fn seed_hostile(app: &TestApp) -> (i64, i64) {
    let a = app.a.org_id;
    let text = |label: &str| format!("{label} {HOSTILE}");
    app.exec(
        "UPDATE orgs SET name = ?2 WHERE id = ?1",
        &[&a, &text("Clinic")],
    );
    app.exec(
        "UPDATE staff SET name = ?2 WHERE org_id = ?1",
        &[&a, &text("Staff")],
    );
    app.exec(
        "UPDATE providers SET name = ?2 WHERE org_id = ?1",
        &[&a, &text("Provider")],
    );
    app.exec(
        "INSERT INTO services (org_id, name, duration_minutes, price_cents, keywords_json, created_at)
         VALUES (?1, ?2, 30, 15000, '[]', 0)",
        &[&a, &text("Service")],
    );
    // A patient's name of 90 characters, no spaces to break it at, then the hostile text.
    let long_name = format!(
        "{} {HOSTILE}",
        &"Maximiliana-Featherstonehaugh".repeat(4)[..90]
    );
    let contact = app.insert_contact(a, "+14155550101", &long_name, Some("hot"));
    app.exec(
        "UPDATE contacts SET staff_notes = ?2 WHERE id = ?1",
        &[&contact, &text("Notes")],
    );
    let service = text("Service");
    let services = [service.as_str()];
    let summary = text("Summary");
    let transcript = format!("AI: Hello\nUser: {}", text("Transcript"));
    let call = app.insert_call(
        a,
        &NewCall {
            started_at: at("2026-06-15T13:00:00Z"),
            booked: true,
            value_cents: 15000,
            services: &services,
            duration_secs: 90,
            summary: &summary,
            transcript: &transcript,
            tier: Some("hot"),
            contact_id: Some(contact),
            ..Default::default()
        },
    );
    let appt = app.insert_appointment(a, contact, at("2026-06-16T14:00:00Z"), 30, "confirmed");
    app.exec(
        "UPDATE appointments SET notes = ?2 WHERE id = ?1",
        &[&appt, &text("Appointment notes")],
    );
    app.exec(
        "INSERT INTO messages (org_id, contact_id, direction, purpose, recipient, body, status, created_at, updated_at)
         VALUES (?1, ?2, 'inbound', NULL, '+14155550100', ?3, 'received', ?4, ?4)",
        &[&a, &contact, &text("Message"), &at("2026-06-15T13:05:00Z")],
    );
    app.exec(
        "INSERT INTO call_events (org_id, call_id, type, status, dedupe, received_at, processed_at)
         VALUES (?1, ?2, 'end-of-call-report', 'ended', '', ?3, ?3)",
        &[&a, &text("Event"), &at("2026-06-15T13:02:00Z")],
    );
    // A practitioner with a hostile name and title, a lunch break and days off.
    app.exec(
        "INSERT INTO providers (org_id, name, title, hours_json, time_off_json, created_at)
         VALUES (?1, ?2, ?3, ?4, '[{\"first\":\"2026-12-24\",\"last\":\"2026-12-31\"}]', 0)",
        &[
            &a,
            &text("Dr"),
            &text("Hygienist"),
            &r#"{"days":[[{"open":"09:00:00","close":"12:30:00"},{"open":"13:30:00","close":"17:00:00"}],[],[],[],[],[],[]]}"#,
        ],
    );
    // Telephony: a verified number with a hostile name and an active forwarding.
    app.exec(
        "INSERT INTO caller_ids (org_id, phone_number, friendly_name, status, created_at,
                                 expires_at, verified_at, updated_at)
         VALUES (?1, '+14155550123', ?2, 'verified', 0, 600, 10, 10)",
        &[&a, &text("Front desk")],
    );
    app.exec(
        "INSERT INTO forwarding_configs (org_id, caller_id, carrier, mode, ring_seconds,
                                         forward_to, status, created_at, activated_at, updated_at)
         SELECT org_id, id, 'tmobile', 'safety_net', 20, '+14155550100', 'active', 0, 10, 10
         FROM caller_ids WHERE org_id = ?1",
        &[&a],
    );
    (call, contact)
}

/// True when the page holds an element that came from the data rather than the template.
const INJECTED: &str = r#"
    const fromData = [...document.querySelectorAll('img')].some(i => i.getAttribute('src') === 'x')
        || [...document.scripts].some(s => s.textContent.includes('alert(1)'))
        || [...document.querySelectorAll('[onerror]')].length > 0;
    return { injected: fromData, text: document.body.innerText };
"#;

/// The page's width against the window's, and the innermost elements sticking out past it.
const FITS: &str = r#"
    const w = document.documentElement.clientWidth;
    const out = e => e.getBoundingClientRect().right > w + 1;
    const culprits = [...document.querySelectorAll('body *')]
        .filter(e => out(e) && ![...e.children].some(out))
        .slice(0, 6)
        .map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').trim().slice(0, 30));
    const header = document.querySelector('header.top');
    const rows = header
        ? new Set([...header.children].map(c => Math.round(c.getBoundingClientRect().top))).size
        : 0;
    return { scroll: document.documentElement.scrollWidth, client: w, culprits, header_rows: rows };
"#;

#[tokio::test]
async fn every_page_renders_hostile_text_as_text_at_laptop_and_phone_width() {
    let Some(browser) = Browser::launch().await.expect("browser launch") else {
        return;
    };
    let app = TestApp::spawn().await;
    let (call, contact) = seed_hostile(&app);

    // The sign-in page, before anyone is signed in.
    let dir = screenshots();
    std::fs::create_dir_all(&dir).unwrap();
    // The pages people open without signing in: sign-in, and a one-time password link.
    let token = "a-one-time-link-token-for-the-page-walk";
    app.exec(
        "INSERT INTO password_resets (org_id, staff_id, token_hash, created_at, expires_at)
         SELECT org_id, id, ?2, 0, 4102444800 FROM staff WHERE email = ?1",
        &[&app.a.staff_email, &voxanne::crypto::token_hash(token)],
    );
    for (name, path) in [
        ("login", "/login".to_string()),
        ("password", format!("/password/{token}")),
    ] {
        browser.goto(&app.url(&path)).await.unwrap();
        for (width, height) in [(1280, 900), (390, 844)] {
            browser.set_window_width(width, height).await.unwrap();
            browser
                .screenshot(&dir.join(format!("{name}-{width}.png")))
                .await
                .unwrap();
        }
        let fit = browser.execute(FITS, vec![]).await.unwrap();
        assert!(
            fit["scroll"].as_i64() <= fit["client"].as_i64(),
            "{path} is {} px wide at 390 px: {}",
            fit["scroll"],
            fit["culprits"]
        );
    }
    browser.goto(&app.url("/login")).await.unwrap();
    browser.set_window_width(1280, 900).await.unwrap();
    browser.fill("#email", app.a.owner_email).await.unwrap();
    browser.fill("#password", PASSWORD).await.unwrap();
    browser.click("button[type=submit]").await.unwrap();
    browser.wait_for_text("h1", "Overview").await.unwrap();
    // The Overview's three charts are drawn, each an image with a title.
    let charts = browser.find_all("svg.chart[role=img] title").await.unwrap();
    assert!(charts.len() >= 3, "charts: {}", charts.len());
    assert!(browser.find_all("svg.chart rect").await.unwrap().len() > 60);

    let caller_id: i64 = app.query_i64(
        "SELECT id FROM caller_ids WHERE org_id = ?1",
        &[&app.a.org_id],
    );
    let forwarding: i64 = app.query_i64(
        "SELECT id FROM forwarding_configs WHERE org_id = ?1",
        &[&app.a.org_id],
    );
    let (probe, _) = app.signed_in(app.a.owner_email).await;
    let pages: Vec<(&str, String)> = vec![
        ("overview", "/".into()),
        ("appointments", "/appointments".into()),
        ("calendar", "/appointments/calendar?week=2026-06-15".into()),
        ("services", "/services".into()),
        ("practitioners", "/settings/practitioners".into()),
        ("messages", "/messages".into()),
        ("calls", "/calls".into()),
        ("call", format!("/calls/{call}")),
        ("calls-search", "/calls?q=Transcript".into()),
        ("leads", "/leads".into()),
        ("lead", format!("/leads/{contact}")),
        ("settings", "/settings".into()),
        ("staff", "/settings/staff".into()),
        ("voice", "/settings/voice".into()),
        ("api-tokens", "/settings/api-tokens".into()),
        ("voice-tools", "/settings/voice/tools".into()),
        ("twilio", "/settings/twilio".into()),
        ("backups", "/settings/backups".into()),
        ("diagnostics", "/settings/diagnostics".into()),
        ("telephony", "/telephony".into()),
        (
            "telephony-carrier",
            format!("/telephony/numbers/{caller_id}/forwarding"),
        ),
        (
            "telephony-forwarding",
            format!("/telephony/forwarding/{forwarding}"),
        ),
        ("account", "/account".into()),
    ];
    let mut visited = 0;
    for (name, path) in &pages {
        let status = probe.get(app.url(path)).send().await.unwrap().status();
        if status == 404 {
            println!("note: {path} answers 404 (not built on this branch); skipped");
            continue;
        }
        assert_eq!(status, 200, "{path}");
        browser.set_window_width(1280, 900).await.unwrap();
        browser.goto(&app.url(path)).await.unwrap();
        assert!(
            !browser.alert_present().await.unwrap(),
            "{path}: an alert fired"
        );
        let seen = browser.execute(INJECTED, vec![]).await.unwrap();
        assert_eq!(
            seen["injected"], false,
            "{path}: markup from data reached the DOM"
        );
        let text = seen["text"].as_str().unwrap_or_default();
        assert!(
            text.contains("<script>alert(1)</script>") && text.contains("{{ 7*7 }}"),
            "{path}: the hostile text is not shown as text"
        );
        browser
            .screenshot(&dir.join(format!("{name}-1280.png")))
            .await
            .unwrap();
        browser.set_window_width(390, 844).await.unwrap();
        browser
            .screenshot(&dir.join(format!("{name}-390.png")))
            .await
            .unwrap();
        // Nothing wider than the phone: the page never scrolls sideways.
        let fit = browser.execute(FITS, vec![]).await.unwrap();
        assert!(
            fit["scroll"].as_i64() <= fit["client"].as_i64(),
            "{path} is {} px wide at 390 px; too wide: {}",
            fit["scroll"],
            fit["culprits"]
        );
        assert!(
            fit["header_rows"].as_i64() <= Some(2),
            "{path}: the header takes {} rows at 390 px",
            fit["header_rows"]
        );
        assert!(
            !browser.alert_present().await.unwrap(),
            "{path}: an alert fired"
        );
        visited += 1;
    }
    assert!(visited >= 10, "only {visited} pages exist");
    for width in [1280, 390] {
        assert!(dir.join(format!("overview-{width}.png")).is_file());
    }
    browser.quit().await.unwrap();
}

#[tokio::test]
async fn the_setup_page_fits_a_phone() {
    let Some(browser) = Browser::launch().await.expect("browser launch") else {
        return;
    };
    let app = TestApp::spawn_empty().await;
    let url = app
        .setup_url
        .clone()
        .expect("a setup link while no clinic exists");
    browser.goto(&url).await.unwrap();
    browser.set_window_width(390, 844).await.unwrap();
    browser
        .screenshot(&screenshots().join("setup-390.png"))
        .await
        .unwrap();
    let fit = browser.execute(FITS, vec![]).await.unwrap();
    assert!(
        fit["scroll"].as_i64() <= fit["client"].as_i64(),
        "the setup page is {} px wide at 390 px: {}",
        fit["scroll"],
        fit["culprits"]
    );
    // Its kind-of-clinic question lists every kind.
    assert_eq!(
        browser.find_all("#clinic_type option").await.unwrap().len(),
        8
    );
}
