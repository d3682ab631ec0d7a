//! Diagnostics: `voxanne check --online` reports versions, sizes, integrity, backups, the
//! outbox, the last webhook, Twilio and Vapi reachability and the public URL, says when
//! Twilio or Vapi fails, and never shows a secret.

mod support;

use serde_json::{json, Value};
use std::process::Command;
use support::TestApp;
use voxanne::jobs;

/// A loopback address where nothing listens.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// Every secret the test appliance knows.
fn secrets(app: &TestApp) -> Vec<String> {
    vec![
        support::MASTER_KEY.to_string(),
        "vapi-test-private-key".to_string(),
        app.vapi_secret(app.a.org_id),
        app.vapi_secret(app.b.org_id),
    ]
}

fn voxanne(app: &TestApp) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voxanne"));
    cmd.env_clear()
        .env("VOXANNE_CONFIG", "/dev/null")
        .env("VOXANNE_DATA_DIR", app.dir.path())
        .env("VOXANNE_MASTER_KEY", support::MASTER_KEY)
        .env("VAPI_PRIVATE_KEY", "vapi-test-private-key");
    cmd
}

#[tokio::test]
async fn check_online_reports_a_failing_twilio_without_secrets() {
    let app = TestApp::spawn().await;
    jobs::backups::run_due(&app.state).await.unwrap();
    let secret = app.vapi_secret(app.a.org_id);
    app.tool(&secret, "call-diag-3", "get_clinic_context", json!({}))
        .await
        .unwrap();
    let closed = closed_port().await;
    let mut cmd = voxanne(&app);
    cmd.env("TWILIO_API_BASE", &closed)
        .env("VAPI_API_BASE", app.vapi.url())
        .env("VOXANNE_PUBLIC_URL", "https://clinic.example.com")
        .args(["check", "--online", "--json"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !out.status.success(),
        "a failing Twilio makes the check fail"
    );
    for s in secrets(&app) {
        assert!(!stdout.contains(&s), "a secret in the output");
    }
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    let d = &v["diagnostics"];
    assert_eq!(d["versions"]["app"], env!("CARGO_PKG_VERSION"));
    assert_eq!(d["versions"]["tzdb"], chrono_tz::IANA_TZDB_VERSION);
    assert!(d["versions"]["sqlite"].as_str().unwrap().starts_with("3."));
    assert_eq!(d["data_dir"], app.dir.path().display().to_string());
    assert!(d["database"]["bytes"].as_u64().unwrap() > 0);
    assert!(d["database"]["wal_bytes"].is_u64());
    assert_eq!(d["database"]["quick_check"], "ok");
    assert_eq!(d["backups"]["last"]["name"], "voxanne-20260615T140000Z.db");
    assert_eq!(d["outbox_backlog"], Value::Null);
    assert_eq!(d["last_webhook"]["detail"], "POST /api/vapi/tools → 200");
    assert_eq!(d["public_url"], "https://clinic.example.com");
    assert_eq!(d["twilio"]["ok"], false);
    assert_eq!(d["twilio"]["status"], Value::Null);
    assert!(d["twilio"]["detail"]
        .as_str()
        .unwrap()
        .contains("could not connect"));
    assert_eq!(d["vapi"]["ok"], true);
    assert_eq!(d["vapi"]["status"], 200);
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].as_str().unwrap().starts_with("Twilio ("));

    // Both reachable: the check passes, and text output is readable lines.
    let mut cmd = voxanne(&app);
    cmd.env("TWILIO_API_BASE", app.twilio.url())
        .env("VAPI_API_BASE", app.vapi.url())
        .env("VOXANNE_PUBLIC_URL", "https://clinic.example.com")
        .args(["check", "--online"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("diagnostics.twilio.detail: reachable (HTTP 200)"),
        "{text}"
    );
}
