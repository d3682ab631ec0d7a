//! Settings → Voice agent and `voxanne vapi show`: the secret is shown on request, rotates
//! with a grace period, and each clinic sees only its own.

use crate::support;

use serde_json::json;
use support::TestApp;

#[tokio::test]
async fn reveal_and_rotate_with_grace_period() {
    let app = TestApp::spawn().await;
    let old = app.vapi_secret(app.a.org_id);
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let page = owner
        .get(app.url("/settings/voice"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains(&old),
        "the secret must be masked until revealed"
    );
    assert!(page.contains(&old[old.len() - 4..]));
    let revealed = owner
        .post(app.url("/settings/voice/reveal"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(revealed.contains(&old));
    let b_secret = app.vapi_secret(app.b.org_id);
    assert!(!revealed.contains(&b_secret));

    let res = owner
        .post(app.url("/settings/voice/rotate"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let new = app.vapi_secret(app.a.org_id);
    assert_ne!(old, new);
    let price = json!({"service": "botox"});
    assert!(app
        .tool(&new, "g1", "get_service_price", price.clone())
        .await
        .is_ok());
    assert!(
        app.tool(&old, "g2", "get_service_price", price.clone())
            .await
            .is_ok(),
        "old secret works during the grace period"
    );
    app.clock.advance(chrono::Duration::hours(25));
    let (status, _) = app
        .vapi_post(
            "/api/vapi/tools",
            &old,
            &support::vapi::tool_calls(&[("g3", "get_service_price", price)]),
        )
        .await;
    assert_eq!(status, 401);
    for action in [
        "settings.vapi_secret_revealed",
        "settings.vapi_secret_rotated",
    ] {
        assert_eq!(
            app.query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action = ?1 AND org_id = ?2",
                &[&action, &app.a.org_id]
            ),
            1
        );
    }
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    assert_eq!(
        staff
            .get(app.url("/settings/voice"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test]
async fn phone_booking_settings_validate_and_apply() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let bad = owner
        .post(app.url("/settings/voice/booking"))
        .form(&[("csrf_token", csrf.as_str()), ("hold_minutes", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let ok = owner
        .post(app.url("/settings/voice/booking"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("hold_minutes", "5"),
            ("require_verification", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    let s = app.vapi_secret(app.a.org_id);
    let reply = app
        .tool(&s, "v1", "book_appointment", json!({"patientName": "A", "appointmentDate": "2026-06-16", "appointmentTime": "10:00", "serviceType": "botox"}))
        .await
        .unwrap();
    assert!(reply.contains("verification_required"), "{reply}");
    let hold = support::vapi::data(
        &app.tool(
            &s,
            "v2",
            "reserve_slot",
            json!({"date": "2026-06-16", "time": "10:00", "service": "botox", "patientName": "A"}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(hold["verificationRequired"], true);
    let refused = app
        .tool(
            &s,
            "v3",
            "book_appointment",
            json!({"holdId": hold["holdId"]}),
        )
        .await
        .unwrap();
    assert!(refused.contains("must be verified"), "{refused}");
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments WHERE status = 'confirmed'",
            &[]
        ),
        0
    );
}

#[test]
fn vapi_show_prints_what_to_paste() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "a-long-password").unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_voxanne"))
            .env_clear()
            .env("VOXANNE_DATA_DIR", dir.path().join("data"))
            .env("VOXANNE_CONFIG", "/dev/null")
            .env("VOXANNE_PUBLIC_URL", "https://clinic.example.com")
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&[
        "init",
        "--clinic",
        "Glow",
        "--timezone",
        "UTC",
        "--clinic-type",
        "dental",
        "--owner-email",
        "o@g.test",
        "--owner-password-file",
        pw.to_str().unwrap()
    ])
    .status
    .success());
    let out = run(&["vapi", "show", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["server_url"],
        "https://clinic.example.com/api/vapi/webhook"
    );
    assert_eq!(v["tool_url"], "https://clinic.example.com/api/vapi/tools");
    assert!(v["secret"].as_str().unwrap().starts_with("vx_"));
}
