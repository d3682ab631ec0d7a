//! Row scoping: one clinic's staff never see or change another clinic's settings or staff.

use crate::support;

use support::TestApp;

#[tokio::test]
async fn org_b_gets_404_for_org_a_staff_and_never_sees_them() {
    let app = TestApp::spawn().await;
    let (b_owner, csrf) = app.signed_in(app.b.owner_email).await;
    let a_staff_id = app.query_i64(
        "SELECT id FROM staff WHERE email = ?1",
        &[&app.a.staff_email],
    );
    for action in ["disable", "enable"] {
        let res = b_owner
            .post(app.url(&format!("/settings/staff/{a_staff_id}/{action}")))
            .form(&[("csrf_token", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{action}");
    }
    assert_eq!(
        app.query_i64("SELECT disabled FROM staff WHERE id = ?1", &[&a_staff_id]),
        0
    );
    let list = b_owner
        .get(app.url("/settings/staff"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains(app.b.staff_email));
    assert!(
        !list.contains("alpha.test"),
        "org B's staff list shows org A's people"
    );
    let settings = b_owner
        .get(app.url("/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(settings.contains("Beta Clinic") && !settings.contains("Alpha Clinic"));
}

#[tokio::test]
async fn settings_changes_stay_in_their_org() {
    let app = TestApp::spawn().await;
    let (b_owner, csrf) = app.signed_in(app.b.owner_email).await;
    let res = b_owner
        .post(app.url("/settings/rules"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("buffer_minutes", "10"),
            ("slot_minutes", "30"),
            ("min_notice_minutes", "120"),
            ("horizon_days", "30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.query_i64(
            "SELECT buffer_minutes FROM orgs WHERE id = ?1",
            &[&app.b.org_id]
        ),
        10
    );
    assert_eq!(
        app.query_i64(
            "SELECT buffer_minutes FROM orgs WHERE id = ?1",
            &[&app.a.org_id]
        ),
        0
    );
}
