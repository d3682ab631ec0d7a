//! The audit log records each event and cannot be changed.

use crate::support;

use support::{TestApp, PASSWORD};

#[tokio::test]
async fn events_are_audited_and_the_log_is_append_only() {
    let app = TestApp::spawn().await;
    let c = app.client();
    app.login(&c, app.a.owner_email, "wrong-password-123").await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    owner
        .post(app.url("/settings/staff"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "New Person"),
            ("email", "new@alpha.test"),
            ("role", "staff"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let new_id = app.query_i64("SELECT id FROM staff WHERE email = 'new@alpha.test'", &[]);
    owner
        .post(app.url(&format!("/settings/staff/{new_id}/disable")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let mut hours = vec![
        ("csrf_token".to_string(), csrf.clone()),
        ("closures".to_string(), "2026-12-25".to_string()),
    ];
    for d in ["mon", "tue", "wed", "thu", "fri"] {
        hours.push((format!("{d}_open"), "08:00".into()));
        hours.push((format!("{d}_close"), "18:00".into()));
    }
    assert_eq!(
        owner
            .post(app.url("/settings/hours"))
            .form(&hours)
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    owner
        .post(app.url("/logout"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();

    for action in [
        "login.failed",
        "login",
        "staff.added",
        "staff.disabled",
        "settings.hours",
        "logout",
    ] {
        assert!(
            app.query_i64("SELECT COUNT(*) FROM audit_log WHERE action = ?1 AND org_id = ?2 AND ip IS NOT NULL", &[&action, &app.a.org_id]) >= 1,
            "no audit row for {action}"
        );
    }
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    let update = conn.execute("UPDATE audit_log SET action = 'x'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = conn.execute("DELETE FROM audit_log", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}
