//! Every route carries the security headers; signed-in pages are never cached.

use crate::support;

use support::TestApp;

fn assert_headers(res: &reqwest::Response, path: &str) {
    let h = res.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{path}: no CSP"))
        .to_str()
        .unwrap();
    for part in [
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "script-src 'self'",
    ] {
        assert!(csp.contains(part), "{path}: CSP lacks {part}");
    }
    assert!(!csp.contains("unsafe-inline"), "{path}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
    assert!(h.contains_key("referrer-policy"), "{path}");
    assert!(h.contains_key("x-request-id"), "{path}");
}

#[tokio::test]
async fn every_route_sends_security_headers() {
    let app = TestApp::spawn().await;
    let anon = app.client();
    for path in [
        "/",
        "/login",
        "/setup",
        "/healthz",
        "/readyz",
        "/settings",
        "/no-such-page",
        "/static/app.css",
        "/api/unknown",
    ] {
        let res = anon.get(app.url(path)).send().await.unwrap();
        assert_headers(&res, path);
    }
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    for path in [
        "/settings",
        "/settings/staff",
        "/settings/backups",
        "/settings/diagnostics",
        "/account",
        "/no-such-page",
    ] {
        let res = owner.get(app.url(path)).send().await.unwrap();
        assert_headers(&res, path);
        assert_eq!(res.headers()["cache-control"], "no-store", "{path}");
    }
    let res = owner
        .post(app.url("/settings/rules"))
        .form(&[("csrf_token", csrf.as_str()), ("buffer_minutes", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_headers(&res, "POST /settings/rules");
    let res = reqwest::get(app.webhook_url("/healthz")).await.unwrap();
    assert_headers(&res, "webhook /healthz");
}

#[tokio::test]
async fn webhook_listener_never_serves_the_dashboard() {
    let app = TestApp::spawn().await;
    assert_eq!(
        reqwest::get(app.webhook_url("/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    for path in ["/login", "/settings", "/setup", "/", "/settings/backups"] {
        assert_eq!(
            reqwest::get(app.webhook_url(path)).await.unwrap().status(),
            404,
            "{path}"
        );
    }
}

#[tokio::test]
async fn errors_render_as_json_for_api_and_html_for_pages() {
    let app = TestApp::spawn().await;
    let res = reqwest::get(app.url("/api/nothing")).await.unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["requestId"].is_string() && body["error"].is_string());
    let res = reqwest::get(app.url("/nothing")).await.unwrap();
    assert!(res.text().await.unwrap().contains("Request id"));
    let ready: serde_json::Value = reqwest::get(app.url("/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
}

#[tokio::test]
async fn settings_forms_validate_and_change_nothing_on_bad_input() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let res = owner
        .post(app.url("/settings/profile"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Alpha"),
            ("timezone", "Mars/Olympus"),
            ("alert_phone", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("not a known time zone"));
    // The form comes back as typed.
    assert!(page.contains(r#"value="Mars/Olympus""#), "{page}");
    let res = owner
        .post(app.url("/settings/rules"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("buffer_minutes", "5"),
            ("slot_minutes", "3"),
            ("min_notice_minutes", "60"),
            ("horizon_days", "30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("Slot granularity must be a whole number from 5 to 240"));
    assert!(
        page.contains(
            r#"id="slot_minutes" name="slot_minutes" type="number" min="5" max="240" value="3""#
        ),
        "{page}"
    );
    let res = owner
        .post(app.url("/settings/hours"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("mon_open", "18:00"),
            ("mon_close", "09:00"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let hours: String = rusqlite::Connection::open(app.config.db_path())
        .unwrap()
        .query_row(
            "SELECT hours_json FROM orgs WHERE id = ?1",
            [app.a.org_id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        hours.contains("09:00"),
        "hours changed despite the error: {hours}"
    );
}

#[tokio::test]
async fn pages_load_their_embedded_scripts_from_the_appliance() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.signed_in(app.a.owner_email).await;
    let html = owner
        .get(app.url("/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in ["app.js", "vendor/htmx.min.js"] {
        let start = html
            .find(&format!("/static/{name}?v="))
            .unwrap_or_else(|| panic!("{name} not linked"));
        let url: String = html[start..].chars().take_while(|c| *c != '"').collect();
        let res = owner.get(app.url(&url)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{url}");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));
        assert!(res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable"));
        assert!(!res.text().await.unwrap().is_empty());
    }
    let res = owner
        .get(app.url("/static/../Cargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn opening_hours_take_a_lunch_break_and_keep_the_form_on_a_bad_date() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let hours_json = || -> (String, String) {
        rusqlite::Connection::open(app.config.db_path())
            .unwrap()
            .query_row(
                "SELECT hours_json, closures_json FROM orgs WHERE id = ?1",
                [app.a.org_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    let before = hours_json();
    let mut form: Vec<(String, String)> = vec![("csrf_token".into(), csrf.clone())];
    for d in ["mon", "tue", "wed", "thu", "fri"] {
        form.push((format!("{d}_open"), "09:00".into()));
        form.push((format!("{d}_close"), "12:30".into()));
        form.push((format!("{d}_open2"), "13:30".into()));
        form.push((format!("{d}_close2"), "17:00".into()));
    }
    form.push(("closure".into(), "2026-12-25".into()));
    form.push(("closure".into(), "31/12/2026".into()));
    let res = owner
        .post(app.url("/settings/hours"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Closed dates: “31/12/2026” is not a date"),
        "{page}"
    );
    // Everything typed is still there, and nothing was saved.
    assert!(page.contains(r#"name="tue_open2" value="13:30""#), "{page}");
    assert!(page.contains(r#"value="31/12/2026""#) && page.contains(r#"value="2026-12-25""#));
    assert_eq!(hours_json(), before);

    // A US-style date is understood; the break is kept.
    form.pop();
    form.push(("closure".into(), "12/31/2026".into()));
    form.push(("closure".into(), "".into()));
    let res = owner
        .post(app.url("/settings/hours"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (hours, closures) = hours_json();
    assert!(
        hours.contains("12:30:00") && hours.contains("13:30:00"),
        "{hours}"
    );
    assert_eq!(closures, r#"["2026-12-25","2026-12-31"]"#);
    let page = owner
        .get(app.url("/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"name="fri_close2" value="17:00""#));
    assert!(page.contains(r#"name="closure" value="2026-12-31""#));

    // The phone offers nothing over lunch.
    let secret = app.vapi_secret(app.a.org_id);
    let reply = app
        .tool(
            &secret,
            "av",
            "check_availability",
            serde_json::json!({"service": "botox", "date": "2026-06-16"}),
        )
        .await
        .unwrap();
    let times = support::vapi::data(&reply)["days"][0]["times"].clone();
    assert!(times
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("12:00")));
    for lunch in ["12:30", "13:00"] {
        assert!(
            !times
                .as_array()
                .unwrap()
                .contains(&serde_json::json!(lunch)),
            "{lunch}: {times}"
        );
    }

    // A period after a break without the first is refused.
    let res = owner
        .post(app.url("/settings/hours"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("sat_open2", "10:00"),
            ("sat_close2", "12:00"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Saturday: fill in the first opening hours"));
}
