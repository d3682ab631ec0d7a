//! Fair sign-in throttling through the real HTTP stack. Clients choose their address by
//! connecting from another loopback address (127.0.0.N), which is what the server sees.

use crate::support;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use support::{extract_csrf, TestApp, PASSWORD};

const WRONG: &str = "wrong-password-123";

fn loopback(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A cookie-keeping client that connects from 127.0.0.`n`, with `jar` when given.
fn client_from(n: u8, jar: Option<Arc<reqwest::cookie::Jar>>) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .local_address(loopback(n))
        .redirect(reqwest::redirect::Policy::none());
    match jar {
        Some(jar) => builder.cookie_provider(jar),
        None => builder.cookie_store(true),
    }
    .build()
    .expect("client")
}

/// The remembered-browser cookie a successful sign-in set, as `name=value`.
fn device_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("voxanne_device_"))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("a remembered-browser cookie")
}

#[tokio::test]
async fn five_wrong_passwords_for_one_account_leave_another_account_signing_in_from_that_address() {
    let app = TestApp::spawn().await;
    let front_desk = app.client();
    for _ in 0..5 {
        let res = app.login(&front_desk, app.a.owner_email, WRONG).await;
        assert_eq!(res.status(), 401);
    }
    // That account is locked from that address…
    let res = app.login(&front_desk, app.a.owner_email, PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // …but a colleague at the same address signs in, in the same browser or another.
    let res = app.login(&front_desk, app.a.staff_email, PASSWORD).await;
    assert_eq!(res.status(), 303);
    let res = app.login(&app.client(), app.b.owner_email, PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'login.locked' AND org_id = ?1",
            &[&app.a.org_id]
        ),
        1
    );
}

#[tokio::test]
async fn failures_from_five_addresses_do_not_refuse_a_browser_that_signed_in_before() {
    let app = TestApp::spawn().await;
    let email = app.a.owner_email;
    // The owner's own browser, at 127.0.0.2, signed in last week.
    let first = app.login(&client_from(2, None), email, PASSWORD).await;
    assert_eq!(first.status(), 303);
    let remembered = device_cookie(&first);

    // Guessing from five addresses, 127.0.0.2 among them; after ten wrong passwords the
    // guesses are refused without being checked.
    let mut refused = 0;
    for n in 2..=6 {
        let attacker = client_from(n, None);
        for _ in 0..5 {
            match app.login(&attacker, email, WRONG).await.status().as_u16() {
                401 => {}
                429 => refused += 1,
                other => panic!("a guess got {other}"),
            }
        }
    }
    assert_eq!(refused, 15);

    // A browser the account never signed in on is refused even with the right password…
    let stranger = app.login(&client_from(7, None), email, PASSWORD).await;
    assert_eq!(stranger.status(), 429);
    let told = stranger.text().await.unwrap();
    assert!(told.contains("a browser you have used before"), "{told}");
    // …while the owner's browser signs in, from an address the guesses also came from.
    let jar = Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(
        &format!("{remembered}; Path=/"),
        &app.url("/").parse().expect("url"),
    );
    let owner = client_from(2, Some(jar));
    let res = app.login(&owner, email, PASSWORD).await;
    assert_eq!(res.status(), 303);
    // A forged cookie is not a remembered browser.
    let forged = Arc::new(reqwest::cookie::Jar::default());
    let (name, value) = remembered.split_once('=').unwrap();
    forged.add_cookie_str(
        &format!("{name}={}x; Path=/", &value[..value.len() - 1]),
        &app.url("/").parse().expect("url"),
    );
    let res = app
        .login(&client_from(2, Some(forged)), email, PASSWORD)
        .await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn owners_see_and_clear_a_lock_in_settings_staff() {
    let app = TestApp::spawn().await;
    let desk = client_from(3, None);
    for _ in 0..5 {
        app.login(&desk, app.a.staff_email, WRONG).await;
    }
    assert_eq!(
        app.login(&desk, app.a.staff_email, PASSWORD).await.status(),
        429
    );
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let page = owner
        .get(app.url("/settings/staff"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("from 127.0.0.3"), "{page}");
    let staff_id = app.query_i64(
        "SELECT id FROM staff WHERE email = ?1",
        &[&app.a.staff_email],
    );
    // Another clinic's owner cannot clear it.
    let (other, other_csrf) = app.signed_in(app.b.owner_email).await;
    let res = other
        .post(app.url(&format!("/settings/staff/{staff_id}/unlock")))
        .form(&[("csrf_token", other_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        app.login(&desk, app.a.staff_email, PASSWORD).await.status(),
        429
    );

    let res = owner
        .post(app.url(&format!("/settings/staff/{staff_id}/unlock")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = owner
        .get(app.url("/settings/staff"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("from 127.0.0.3"));
    assert!(extract_csrf(&page).is_some());
    assert_eq!(
        app.login(&desk, app.a.staff_email, PASSWORD).await.status(),
        303
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'login.lock_cleared' AND org_id = ?1 AND detail LIKE '%from 127.0.0.3%'",
            &[&app.a.org_id]
        ),
        1
    );
}

#[tokio::test]
async fn owners_see_and_clear_an_address_lock_that_touched_their_staff() {
    let app = TestApp::spawn().await;
    let sprayer = client_from(9, None);
    // Five failures each (a sixth would be refused, not counted): twenty from one address.
    let accounts = ["x1@nowhere.test", "x2@nowhere.test", "x3@nowhere.test"];
    for account in accounts.into_iter().chain([app.a.staff_email]) {
        for _ in 0..5 {
            app.login(&sprayer, account, WRONG).await;
        }
    }
    // Every account without a remembered browser is refused from that address.
    let fresh = client_from(9, None);
    assert_eq!(
        app.login(&fresh, app.a.owner_email, PASSWORD)
            .await
            .status(),
        429
    );
    let staff_page = |client: reqwest::Client| {
        let url = app.url("/settings/staff");
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let page = staff_page(owner.clone()).await;
    assert!(page.contains("Locked addresses"), "{page}");
    assert!(page.contains("every account from 127.0.0.9"), "{page}");
    // A clinic none of whose staff failed there neither sees nor clears it.
    let (other, other_csrf) = app.signed_in(app.b.owner_email).await;
    assert!(!staff_page(other.clone()).await.contains("127.0.0.9"));
    let res = other
        .post(app.url("/settings/staff/address-locks/clear"))
        .form(&[("csrf_token", other_csrf.as_str()), ("ip", "127.0.0.9")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        app.login(&fresh, app.a.owner_email, PASSWORD)
            .await
            .status(),
        429
    );

    let res = owner
        .post(app.url("/settings/staff/address-locks/clear"))
        .form(&[("csrf_token", csrf.as_str()), ("ip", "127.0.0.9")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(!staff_page(owner).await.contains("Locked addresses"));
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'login.address_lock_cleared' \
             AND org_id = ?1 AND object = 'address:127.0.0.9'",
            &[&app.a.org_id]
        ),
        1
    );
    assert_eq!(
        app.login(&fresh, app.a.owner_email, PASSWORD)
            .await
            .status(),
        303
    );
}
