//! Diagnostics: Settings → Diagnostics and `voxanne check --online` report versions, sizes,
//! integrity, backups, the outbox, the last webhook, Twilio and Vapi reachability and the
//! public URL, say when Twilio or Vapi fails, and never show a secret.

use crate::support;

use serde_json::{json, Value};
use std::process::Command;
use support::{Options, TestApp};
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

async fn diagnostics_page(app: &TestApp) -> String {
    let (owner, _) = app.signed_in(app.a.owner_email).await;
    let res = owner
        .get(app.url("/settings/diagnostics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test]
async fn the_page_reports_every_item_and_a_failing_vapi() {
    // The public address points where nothing answers (a tunnel that is down).
    let down = closed_port().await;
    let app = TestApp::spawn_with(Options {
        extra: vec![("VOXANNE_PUBLIC_URL", down.clone())],
        ..Options::default()
    })
    .await;
    jobs::backups::run_due(&app.state).await.unwrap();
    // A tool call reaches us: the last webhook is recorded.
    let secret = app.vapi_secret(app.a.org_id);
    app.tool(&secret, "call-diag-1", "get_clinic_context", json!({}))
        .await
        .unwrap();
    app.vapi.respond("/", 503, r#"{"message":"upstream down"}"#);
    // One text stuck mid-send (backlog) and one reminder for tomorrow (not backlog yet).
    let now = app.state.clock.now().timestamp();
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    for (status, due) in [("sending", now - 60), ("pending", now + 86_400)] {
        conn.execute(
            "INSERT INTO outbox (org_id, purpose, recipient, body, status, send_after,
                 next_attempt_at, created_at, updated_at)
             VALUES (?1, 'reminder', '+14155550123', 'See you', ?2, ?3, ?3, ?4, ?4)",
            rusqlite::params![app.a.org_id, status, due, now],
        )
        .unwrap();
    }
    drop(conn);

    let page = diagnostics_page(&app).await;
    for item in [
        env!("CARGO_PKG_VERSION"),
        chrono_tz::IANA_TZDB_VERSION,
        "SQLite",
        &app.dir.path().display().to_string(),
        "write-ahead log",
        "Quick integrity check</dt><dd>ok",
        "voxanne-20260615T140000Z.db",
        "Outbox backlog</dt><dd>1 text due and not yet sent",
        "POST /api/vapi/tools → 200",
        &down,
    ] {
        assert!(page.contains(item), "missing {item}");
    }
    // The go-live checklist comes first, read live; nothing is all clear while it is open.
    let checklist = page.split(r#"id="golive-h""#).nth(1).unwrap();
    assert!(checklist.find("Go-live checklist") < checklist.find("Details"));
    assert!(
        checklist.contains(
            r#"<span class="badge on">done</span>
    <strong>A Vapi webhook received</strong>"#
        ),
        "{checklist}"
    );
    assert!(checklist.contains(
        r#"<span class="badge off">to do</span>
    <strong>Twilio connected</strong>"#
    ));
    assert!(page.contains("Go-live: Public URL answering"));
    assert!(page.contains("does not reach the appliance: could not connect"));
    assert!(page.contains("Go-live: Twilio connected — enter the clinic"));
    assert!(!page.contains("Everything checked is working."));
    assert!(
        !page.contains("Beta Clinic"),
        "only this clinic's checklist"
    );
    assert!(page.contains(&format!(
        "<code>{}/</code>: reachable (HTTP 200)",
        app.twilio.url()
    )));
    assert!(
        page.contains("server error (HTTP 503)"),
        "a failing Vapi is reported: {page}"
    );
    assert!(page.contains("Vapi (http://"), "and listed as a problem");
    for s in secrets(&app) {
        assert!(!page.contains(&s), "a secret on the page");
    }
    // The probes carried no credentials.
    for probe in app
        .vapi
        .requests_to("/")
        .iter()
        .chain(app.twilio.requests().iter())
    {
        if probe.method == "GET" {
            assert_eq!(probe.header("authorization"), None);
            assert_eq!(probe.header("x-vapi-secret"), None);
        }
    }
}

#[tokio::test]
async fn a_refused_webhook_shows_at_once() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    app.tool(&secret, "call-diag-2", "get_clinic_context", json!({}))
        .await
        .unwrap();
    // Then one with a wrong secret, within the same minute: a change of outcome is recorded.
    let (status, _) = app
        .vapi_post(
            "/api/vapi/webhook",
            "wrong-secret",
            &json!({"message": {"type": "status-update"}}),
        )
        .await;
    assert_eq!(status, 401);
    // An unsigned Twilio delivery report: recorded under Twilio, with its refusal.
    let res = reqwest::Client::new()
        .post(app.webhook_url("/api/twilio/status"))
        .form(&[("MessageSid", "SM1"), ("MessageStatus", "delivered")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());
    let page = diagnostics_page(&app).await;
    assert!(page.contains("Vapi: "), "{page}");
    assert!(page.contains("POST /api/vapi/webhook → 401"), "{page}");
    assert!(
        page.contains(&format!(
            "Twilio: Jun 15, 2026 10:00 AM — POST /api/twilio/status → {}",
            res.status().as_u16()
        )),
        "{page}"
    );
    assert!(!page.contains("wrong-secret"));
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
    // The public address is the running appliance itself, which answers.
    let public = app.url("");
    cmd.env("TWILIO_API_BASE", &closed)
        .env("VAPI_API_BASE", app.vapi.url())
        .env("VOXANNE_PUBLIC_URL", &public)
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
    assert_eq!(d["outbox_backlog"], 0);
    assert_eq!(d["last_webhook"]["detail"], "POST /api/vapi/tools → 200");
    assert_eq!(d["last_webhook"]["at"], "2026-06-15T14:00:00Z");
    assert_eq!(d["public_url"], public.trim_end_matches('/'));
    assert_eq!(d["public_reach"]["ok"], true, "{}", d["public_reach"]);
    assert_eq!(d["twilio"]["ok"], false);
    assert_eq!(d["twilio"]["status"], Value::Null);
    assert!(d["twilio"]["detail"]
        .as_str()
        .unwrap()
        .contains("could not connect"));
    assert_eq!(d["vapi"]["ok"], true);
    assert_eq!(d["vapi"]["status"], 200);
    let problems: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    let (go_live, others): (Vec<&str>, Vec<&str>) = problems
        .iter()
        .partition(|p| p.starts_with("Alpha Clinic: ") || p.starts_with("Beta Clinic: "));
    assert_eq!(others.len(), 1, "{others:?}");
    assert!(others[0].starts_with("Twilio ("));
    assert!(go_live.contains(
        &"Alpha Clinic: Twilio connected — to do: enter the clinic's Twilio account for texts"
    ));
    let lines: Vec<&str> = v["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines.contains(&"[x] Alpha Clinic: A Vapi webhook received"),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"[x] Alpha Clinic: Public URL answering"),
        "{lines:?}"
    );
    assert!(lines.contains(&"[ ] Beta Clinic: A Vapi webhook received — to do: set the assistant's server URL to the appliance and make a test call"));

    // Both reachable: the check passes, and text output is readable lines.
    let mut cmd = voxanne(&app);
    cmd.env("TWILIO_API_BASE", app.twilio.url())
        .env("VAPI_API_BASE", app.vapi.url())
        .env("VOXANNE_PUBLIC_URL", &public)
        .args(["check", "--online"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("diagnostics.twilio.detail: reachable (HTTP 200)"),
        "{text}"
    );
    // The checklist is printed first, one item a line; open items keep the check failing.
    assert!(
        text.starts_with("Go-live checklist:\n  [x] Alpha Clinic: Services and prices reviewed\n"),
        "{text}"
    );
    assert!(text.contains("\n  [ ] Alpha Clinic: Twilio connected — to do: "));
    assert!(!out.status.success(), "open go-live items: {text}");
}
