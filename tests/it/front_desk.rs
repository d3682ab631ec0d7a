//! Staff on other computers of the clinic's network: the dashboard's built-in HTTPS, cookie
//! flags that follow the scheme the browser used, HSTS, the redirect to https, and the page
//! that refuses a plain-http sign-in from another computer instead of "This form has expired".

use crate::support;

use support::browser::{Browser, Launch};
use support::netns::OtherComputer;
use support::{Options, TestApp, PASSWORD};

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn with_tls(extra: Vec<(&'static str, String)>) -> Options {
    let mut extra = extra;
    extra.push(("VOXANNE_TLS", "self-signed".into()));
    Options {
        extra,
        ..Default::default()
    }
}

#[tokio::test]
async fn over_https_cookies_are_host_prefixed_and_hsts_is_sent() {
    let app = TestApp::spawn_with(with_tls(vec![])).await;
    let c = app.https_client();
    let page = c.get(app.https_url("/login")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let cookies = set_cookies(&page);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("__Host-voxanne_csrf=") && c.contains("; Secure")),
        "{cookies:?}"
    );
    let csrf = support::extract_csrf(&page.text().await.unwrap()).unwrap();
    let res = c
        .post(app.https_url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", app.a.owner_email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let cookies = set_cookies(&res);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("__Host-voxanne_session=") && c.contains("; Secure")),
        "{cookies:?}"
    );
    assert_eq!(
        c.get(app.https_url("/account"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // The same listener still answers plain http on this machine (health checks, the setup
    // link), with plain cookies and no HSTS.
    let plain = app.client().get(app.url("/login")).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("strict-transport-security").is_none());
    assert!(set_cookies(&plain)
        .iter()
        .all(|c| c.starts_with("voxanne_csrf=") && !c.contains("Secure")));
    let health = app.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn a_proxy_on_this_machine_is_believed_about_scheme_and_client() {
    let app = TestApp::spawn().await;
    let c = app.client();
    // A browser on another computer through a proxy that forwards plain http: refused, with
    // the explanation, before any form is shown or any password checked.
    for (method, path) in [("GET", "/login"), ("POST", "/login")] {
        let req = match method {
            "GET" => c.get(app.url(path)),
            _ => c
                .post(app.url(path))
                .form(&[("email", app.a.owner_email), ("password", PASSWORD)]),
        };
        let res = req
            .header("x-forwarded-proto", "http")
            .header("x-forwarded-for", "192.168.1.20")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{method} {path}");
        let body = res.text().await.unwrap();
        assert!(body.contains("Sign in over HTTPS"), "{body}");
        assert!(body.contains("VOXANNE_TLS=self-signed"), "{body}");
        assert!(!body.contains("expired"), "{body}");
    }
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'login%'",
            &[]
        ),
        0
    );
    // The proxy terminated https: Secure, `__Host-` cookies, HSTS.
    let res = c
        .get(app.url("/login"))
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-for", "192.168.1.20")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("strict-transport-security"));
    assert!(set_cookies(&res)
        .iter()
        .any(|c| c.starts_with("__Host-voxanne_csrf=")));
    // (Forwarding headers from other computers are ignored: `web::transport`'s unit tests.)
}

#[tokio::test]
async fn setup_page_shows_the_certificate_fingerprint() {
    let app = TestApp::spawn_with(Options {
        seed: false,
        ..with_tls(vec![])
    })
    .await;
    let url = app.setup_url.clone().expect("setup link");
    let body = app
        .client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sha256 = app.state.tls.as_ref().unwrap().info().sha256;
    assert!(body.contains(&sha256), "{body}");
}

#[tokio::test]
async fn a_front_desk_computer_signs_in_over_the_builtin_tls_and_is_told_why_not_over_http() {
    let Some(pc) = OtherComputer::create() else {
        return;
    };
    let listen = format!("{}:0", pc.host_ip);
    let tls_app = TestApp::spawn_with(with_tls(vec![("VOXANNE_LISTEN", listen.clone())])).await;
    // The same clinic's appliance as it is before HTTPS is turned on.
    let plain_app = TestApp::spawn_with(Options {
        extra: vec![("VOXANNE_LISTEN", listen)],
        ..Default::default()
    })
    .await;
    let info = tls_app.state.tls.as_ref().unwrap().info();
    assert!(
        info.names.contains(&pc.host_ip.to_string()),
        "{:?}",
        info.names
    );
    let launch = Launch {
        netns: Some(pc.netns()),
        chrome_args: vec![format!(
            "--ignore-certificate-errors-spki-list={}",
            info.public_key_sha256
        )],
    };
    let Some(browser) = Browser::launch_with(launch).await.expect("browser launch") else {
        return;
    };

    // Plain http without TLS: the explanation, not a form that can only expire.
    browser.goto(&plain_app.url("/login")).await.unwrap();
    browser
        .wait_for_text("h1", "Sign in over HTTPS")
        .await
        .unwrap();
    let text = browser.find("main").await.unwrap().text().await.unwrap();
    assert!(text.contains("VOXANNE_TLS=self-signed"), "{text}");
    assert!(!text.contains("expired"), "{text}");
    for width in [1280, 390] {
        browser.set_window_width(width, 900).await.unwrap();
        browser
            .screenshot(&artifact(&format!("plain-http-refused-{width}.png")))
            .await
            .unwrap();
    }
    browser.set_window_width(1280, 900).await.unwrap();

    // With TLS on, the plain-http address sends the browser to https, where it signs in.
    browser.goto(&tls_app.url("/login")).await.unwrap();
    browser.wait_for_text("h1", "Sign in").await.unwrap();
    let at = browser.current_url().await.unwrap();
    assert!(at.starts_with(&tls_app.https_url("/login")), "{at}");
    browser.fill("#email", tls_app.a.owner_email).await.unwrap();
    browser.fill("#password", PASSWORD).await.unwrap();
    browser.click("button[type=submit]").await.unwrap();
    browser.wait_for_text("h1", "Overview").await.unwrap();
    browser.goto(&tls_app.https_url("/account")).await.unwrap();
    browser.wait_for_text("h1", "Your account").await.unwrap();
    // The sign-in came from the other computer's address, and is audited as such.
    assert_eq!(
        tls_app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'login' AND ip = ?1",
            &[&pc.own_ip.to_string()]
        ),
        1
    );
    browser.quit().await.unwrap();
}

fn artifact(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/artifacts")
        .join(name)
}
