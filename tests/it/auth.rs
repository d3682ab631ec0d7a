//! Sign-in, sessions, throttling, CSRF and roles through the real HTTP stack.

use crate::support;

use chrono::Duration;
use support::{extract_csrf, TestApp, PASSWORD};

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let c1 = app.client();
    let unknown = app.login(&c1, "nobody@alpha.test", PASSWORD).await;
    let (s1, b1) = (unknown.status(), unknown.text().await.unwrap());
    let c2 = app.client();
    let wrong = app
        .login(&c2, app.a.owner_email, "wrong-password-123")
        .await;
    let (s2, b2) = (wrong.status(), wrong.text().await.unwrap());
    assert_eq!(s1, 401);
    assert_eq!(s1, s2);
    let message = |b: &str| {
        b.split("role=\"alert\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(message(&b1), message(&b2));
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'login.failed'",
            &[]
        ),
        2
    );
}

#[tokio::test]
async fn sixth_failed_login_is_throttled_even_with_the_right_password() {
    let app = TestApp::spawn().await;
    let c = app.client();
    for _ in 0..5 {
        assert_eq!(
            app.login(&c, app.a.owner_email, "wrong-password-123")
                .await
                .status(),
            401
        );
    }
    let sixth = app.login(&c, app.a.owner_email, PASSWORD).await;
    assert_eq!(sixth.status(), 429);
    assert!(sixth
        .text()
        .await
        .unwrap()
        .contains("Too many failed sign-ins"));
    // The backoff passes with time.
    app.clock.advance(Duration::minutes(2));
    assert_eq!(
        app.login(&c, app.a.owner_email, PASSWORD).await.status(),
        303
    );
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("voxanne_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// Logs in with a raw client that sends exactly the cookies given.
async fn raw_login(app: &TestApp, cookies: &str) -> reqwest::Response {
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = raw.get(app.url("/login")).send().await.unwrap();
    let csrf_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("voxanne_csrf="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .unwrap();
    let csrf = extract_csrf(&page.text().await.unwrap()).unwrap();
    raw.post(app.url("/login"))
        .header("cookie", format!("{cookies}; {csrf_cookie}"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", app.a.owner_email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
}

async fn status_with_cookie(app: &TestApp, cookie: &str) -> u16 {
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    raw.get(app.url("/settings"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn session_id_changes_at_login_and_the_cookie_is_hardened() {
    let app = TestApp::spawn().await;
    // A session id planted before sign-in never becomes the session.
    let res = raw_login(&app, "voxanne_session=planted-by-attacker").await;
    assert_eq!(res.status(), 303);
    let set = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    let first = session_cookie(&res).unwrap();
    assert_ne!(first, "voxanne_session=planted-by-attacker");
    assert_eq!(
        status_with_cookie(&app, "voxanne_session=planted-by-attacker").await,
        303
    );
    assert_eq!(status_with_cookie(&app, &first).await, 200);
    // Signing in again from the same browser replaces the session rather than keeping both.
    let second = session_cookie(&raw_login(&app, &first).await).unwrap();
    assert_ne!(first, second);
    assert_eq!(status_with_cookie(&app, &first).await, 303);
    assert_eq!(status_with_cookie(&app, &second).await, 200);
    // Tokens are stored hashed.
    let token = second.split('=').nth(1).unwrap().to_string();
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM sessions WHERE token_hash = ?1",
            &[&token]
        ),
        0
    );
}

/// An https public URL (the tunnel Vapi needs) says nothing about how staff reach the
/// dashboard: a browser on plain http keeps cookies it can send back, so sign-in works.
#[tokio::test]
async fn cookie_flags_follow_the_browsers_scheme_not_the_public_url() {
    let app = TestApp::spawn_with(support::Options {
        extra: vec![("VOXANNE_PUBLIC_URL", "https://clinic.example.com".into())],
        ..Default::default()
    })
    .await;
    let c = app.client();
    let res = app.login(&c, app.a.owner_email, PASSWORD).await;
    assert_eq!(res.status(), 303);
    let set: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        set.iter()
            .any(|c| c.starts_with("voxanne_session=") && !c.contains("Secure")),
        "{set:?}"
    );
    assert_eq!(
        status_with_cookie(&app, &session_cookie(&res).unwrap()).await,
        200
    );
}

#[tokio::test]
async fn logout_disable_and_idle_timeout_end_sessions() {
    let app = TestApp::spawn().await;
    // Logout
    let (c, csrf) = app.signed_in(app.a.owner_email).await;
    let res = c
        .post(app.url("/logout"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        c.get(app.url("/settings")).send().await.unwrap().status(),
        303
    );

    // Disable by an owner ends the staff member's session.
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    assert_eq!(
        staff
            .get(app.url("/account"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let staff_id = app.query_i64(
        "SELECT id FROM staff WHERE email = ?1",
        &[&app.a.staff_email],
    );
    let res = owner
        .post(app.url(&format!("/settings/staff/{staff_id}/disable")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        staff
            .get(app.url("/account"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    assert_eq!(
        app.login(&app.client(), app.a.staff_email, PASSWORD)
            .await
            .status(),
        401
    );

    // Idle timeout (30 minutes by default), on the injected clock.
    app.clock.advance(Duration::minutes(29));
    assert_eq!(
        owner
            .get(app.url("/settings"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.clock.advance(Duration::minutes(31));
    assert_eq!(
        owner
            .get(app.url("/settings"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
}

#[tokio::test]
async fn absolute_lifetime_ends_an_active_session() {
    let app = TestApp::spawn().await;
    let (c, _) = app.signed_in(app.a.owner_email).await;
    for _ in 0..25 {
        app.clock.advance(Duration::minutes(29));
        if c.get(app.url("/settings")).send().await.unwrap().status() != 200 {
            break;
        }
    }
    // 25 × 29 min > 12 h: the session must have ended although it never idled out.
    assert_eq!(
        c.get(app.url("/settings")).send().await.unwrap().status(),
        303
    );
}

#[tokio::test]
async fn state_changes_need_the_csrf_token_and_same_site() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.signed_in(app.a.owner_email).await;
    let form = |token: &str| {
        vec![
            ("csrf_token".to_string(), token.to_string()),
            ("name".to_string(), "Hacked".to_string()),
            ("timezone".to_string(), "UTC".to_string()),
            ("alert_phone".to_string(), String::new()),
        ]
    };
    let missing = c
        .post(app.url("/settings/profile"))
        .form(&form("")[1..])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    let wrong = c
        .post(app.url("/settings/profile"))
        .form(&form("not-the-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    let cross = c
        .post(app.url("/settings/profile"))
        .header("origin", "https://evil.example")
        .form(&form(&csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let org_name = |app: &TestApp| {
        let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
        conn.query_row("SELECT name FROM orgs WHERE id = ?1", [app.a.org_id], |r| {
            r.get::<_, String>(0)
        })
        .unwrap()
    };
    assert_eq!(org_name(&app), "Alpha Clinic");
    let ok = c
        .post(app.url("/settings/profile"))
        .form(&form(&csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(org_name(&app), "Hacked");
}

#[tokio::test]
async fn login_form_needs_its_csrf_cookie() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let res = c
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", "forged"),
            ("email", app.a.owner_email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let page = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(extract_csrf(&page).is_some());
}

#[tokio::test]
async fn staff_cannot_reach_owner_pages() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.signed_in(app.a.staff_email).await;
    for path in ["/settings", "/settings/staff"] {
        assert_eq!(
            c.get(app.url(path)).send().await.unwrap().status(),
            403,
            "{path}"
        );
    }
    let res = c
        .post(app.url("/settings/staff"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "X"),
            ("email", "x@alpha.test"),
            ("role", "owner"),
            ("password", "long-enough-pass"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM staff WHERE email = 'x@alpha.test'",
            &[]
        ),
        0
    );
    assert_eq!(
        c.get(app.url("/account")).send().await.unwrap().status(),
        200
    );
}
