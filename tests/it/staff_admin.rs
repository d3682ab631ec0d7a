//! Owners manage accounts: a one-time link to choose a new password (the old one stops
//! working at once), a change of role, and removal; never leaving a clinic without an owner,
//! never another clinic's account, and only by owners with the form's token.

use crate::support;

use support::{extract_csrf, TestApp, PASSWORD};

async fn post(client: &reqwest::Client, url: String, fields: &[(&str, &str)]) -> (u16, String) {
    let res = client.post(url).form(fields).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn staff_id(app: &TestApp, email: &str) -> i64 {
    app.query_i64("SELECT id FROM staff WHERE email = ?1", &[&email])
}

#[tokio::test]
async fn an_owner_resets_a_password_with_a_one_time_link() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let (desk, _) = app.signed_in(app.a.staff_email).await;
    let sam = staff_id(&app, app.a.staff_email);
    let (status, page) = post(
        &owner,
        app.url(&format!("/settings/staff/{sam}/reset")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, 200);
    let link = page
        .split("not shown again: ")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no link in {page}"))
        .to_string();
    assert!(link.contains("/password/"), "{link}");
    let path = &link[link.find("/password/").unwrap()..];
    // The old password and the old session stop working at once.
    assert_eq!(
        desk.get(app.url("/calls")).send().await.unwrap().status(),
        303
    );
    let fresh = app.client();
    assert_eq!(
        app.login(&fresh, app.a.staff_email, PASSWORD)
            .await
            .status(),
        401
    );
    // The link: a form without signing in; a mistake keeps it usable.
    let browser = app.client();
    let form = browser.get(app.url(path)).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let form = form.text().await.unwrap();
    assert!(form.contains("For Sam Staff"));
    let token = extract_csrf(&form).unwrap();
    let (status, body) = post(
        &browser,
        app.url(path),
        &[
            ("csrf_token", &token),
            ("password", "new-password-1"),
            ("again", "new-password-2"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("not the same"));
    let res = browser
        .post(app.url(path))
        .form(&[
            ("csrf_token", token.as_str()),
            ("password", "new-password-1"),
            ("again", "new-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?password=set");
    assert_eq!(
        app.login(&app.client(), app.a.staff_email, "new-password-1")
            .await
            .status(),
        303
    );
    // Spent: the link answers 410 and says why.
    let again = browser.get(app.url(path)).send().await.unwrap();
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("used or has expired"));
    for action in ["staff.password_reset", "staff.password_chosen"] {
        assert_eq!(
            app.query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action = ?1",
                &[&action]
            ),
            1,
            "{action}"
        );
    }
    // Only the token's hash is kept.
    let token_part = path.trim_start_matches("/password/");
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM password_resets WHERE token_hash = ?1",
            &[&token_part]
        ),
        0
    );
}

#[tokio::test]
async fn roles_change_and_accounts_go_without_leaving_a_clinic_ownerless() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let (olivia, sam) = (
        staff_id(&app, app.a.owner_email),
        staff_id(&app, app.a.staff_email),
    );
    let beta_owner = staff_id(&app, app.b.owner_email);
    // Another clinic's account is not found; staff and forged forms are refused.
    for action in ["reset", "remove"] {
        let (status, _) = post(
            &owner,
            app.url(&format!("/settings/staff/{beta_owner}/{action}")),
            &[("csrf_token", &csrf)],
        )
        .await;
        assert_eq!(status, 404, "{action}");
    }
    let (desk, desk_csrf) = app.signed_in(app.a.staff_email).await;
    let (status, _) = post(
        &desk,
        app.url(&format!("/settings/staff/{olivia}/role")),
        &[("csrf_token", &desk_csrf), ("role", "staff")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &owner,
        app.url(&format!("/settings/staff/{sam}/role")),
        &[("csrf_token", "forged"), ("role", "owner")],
    )
    .await;
    assert_eq!(status, 400);

    // Sam becomes an owner; then Olivia can be made staff, but not the last owner.
    let (status, _) = post(
        &owner,
        app.url(&format!("/settings/staff/{sam}/role")),
        &[("csrf_token", &csrf), ("role", "owner")],
    )
    .await;
    assert_eq!(status, 303);
    let (sam_client, sam_csrf) = app.signed_in(app.a.staff_email).await;
    let (status, _) = post(
        &sam_client,
        app.url(&format!("/settings/staff/{olivia}/role")),
        &[("csrf_token", &sam_csrf), ("role", "staff")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, body) = post(
        &sam_client,
        app.url(&format!("/settings/staff/{olivia}/role")),
        &[("csrf_token", &sam_csrf), ("role", "wizard")],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    // Sam is now the only owner: cannot be made staff or removed (nor remove themself).
    let (status, body) = post(
        &sam_client,
        app.url(&format!("/settings/staff/{sam}/remove")),
        &[("csrf_token", &sam_csrf)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("You cannot remove your own account."));
    let (status, body) = post(
        &sam_client,
        app.url(&format!("/settings/staff/{sam}/role")),
        &[("csrf_token", &sam_csrf), ("role", "staff")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("this is the only active owner"), "{body}");

    // Removing Olivia: she leaves the list, cannot sign in, and her address is free again.
    let (status, _) = post(
        &sam_client,
        app.url(&format!("/settings/staff/{olivia}/remove")),
        &[("csrf_token", &sam_csrf)],
    )
    .await;
    assert_eq!(status, 303);
    let list = sam_client
        .get(app.url("/settings/staff"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!list.contains(app.a.owner_email), "{list}");
    assert_eq!(
        app.login(&app.client(), app.a.owner_email, PASSWORD)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM staff WHERE email = ?1",
            &[&app.a.owner_email]
        ),
        0
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'staff.removed'",
            &[]
        ),
        1
    );
}
