//! Tool registration with the fake Vapi: each tool registered once and updated only when its
//! definition or server part changes (PATCH with `type`, which Vapi's update union needs),
//! linked to the assistant with its whole model sent back (the prompt is never lost) and the
//! server messages it had kept, 429 retried with backoff, failures shown, native calendar tools
//! reported; owners only, and each clinic's tools carry its own secret.

use crate::support;

use serde_json::Value;
use support::fake::{ASSISTANT_PROMPT, DEFAULTS_ASSISTANT, THEIR_CALENDAR_TOOL, THEIR_FAQ_TOOL};
use support::{Options, TestApp};
use voxanne::jobs::vapi_tools::{self, Deps};
use voxanne::store::scope::operator_scope;

const PUBLIC: &str = "https://clinic.example.test";
const TOOLS: usize = 11;

async fn spawn() -> TestApp {
    TestApp::spawn_with(Options {
        extra: vec![("VOXANNE_PUBLIC_URL", PUBLIC.to_string())],
        ..Options::default()
    })
    .await
}

fn status(app: &TestApp, org_id: i64) -> (String, String) {
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    conn.query_row(
        "SELECT status, ifnull(detail, '') FROM vapi_tool_sync WHERE org_id = ?1",
        [org_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap_or_else(|_| ("none".into(), String::new()))
}

/// Waits for the background sync started from the page to finish.
async fn settled(app: &TestApp, org_id: i64) -> (String, String) {
    for _ in 0..600 {
        let s = status(app, org_id);
        if s.0 != "running" {
            return s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the tool sync never finished");
}

fn registered(app: &TestApp, org_id: i64) -> i64 {
    app.query_i64(
        "SELECT COUNT(*) FROM vapi_tools WHERE org_id = ?1",
        &[&org_id],
    )
}

async fn save(
    app: &TestApp,
    client: &reqwest::Client,
    csrf: &str,
    assistant: &str,
) -> (u16, String) {
    let res = client
        .post(app.url("/settings/voice/tools"))
        .form(&[("csrf_token", csrf), ("assistant_id", assistant)])
        .send()
        .await
        .unwrap();
    let code = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (code, location)
}

fn by_method(app: &TestApp, prefix: &str, method: &str) -> Vec<support::fake::Recorded> {
    app.vapi
        .requests_to(prefix)
        .into_iter()
        .filter(|r| r.method == method)
        .collect()
}

async fn run_sync(app: &TestApp, org_id: i64) -> voxanne::store::vapi_tools::ToolSyncState {
    let scope = app
        .state
        .db
        .read_blocking(|c| operator_scope(c, org_id))
        .unwrap();
    vapi_tools::sync_tools(&Deps::from(&app.state), scope)
        .await
        .unwrap()
}

#[tokio::test]
async fn tools_are_registered_once_and_linked_without_losing_the_prompt() {
    let app = spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let (code, location) = save(&app, &owner, &csrf, "asst-1").await;
    assert_eq!(
        (code, location.as_str()),
        (303, "/settings/voice/tools?saved=started")
    );
    let (state, detail) = settled(&app, app.a.org_id).await;
    assert_eq!(state, "synced", "{detail}");

    let created = by_method(&app, "/tool", "POST");
    assert_eq!(created.len(), TOOLS);
    for r in &created {
        let body = r.json();
        assert_eq!(
            r.header("authorization"),
            Some("Bearer vapi-test-private-key")
        );
        assert_eq!(body["type"], "function");
        assert_eq!(body["server"]["url"], format!("{PUBLIC}/api/vapi/tools"));
        assert_eq!(body["server"]["headers"]["X-Vapi-Secret"], secret.as_str());
    }
    assert_eq!(registered(&app, app.a.org_id), TOOLS as i64);

    // The assistant was read, then patched with its whole model.
    assert_eq!(by_method(&app, "/assistant/asst-1", "GET").len(), 1);
    let patches = by_method(&app, "/assistant/asst-1", "PATCH");
    assert_eq!(patches.len(), 1);
    let patch = patches[0].json();
    let model = &patch["model"];
    assert_eq!(model["messages"][0]["content"], ASSISTANT_PROMPT);
    assert_eq!(
        (model["provider"].as_str(), model["model"].as_str()),
        (Some("openai"), Some("gpt-4o"))
    );
    assert_eq!(model["tools"][0]["type"], "endCall");
    let ids: Vec<&str> = model["toolIds"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(&ids[..2], &[THEIR_FAQ_TOOL, THEIR_CALENDAR_TOOL]);
    assert_eq!(ids.len(), 2 + TOOLS);
    assert!(ids.contains(&"tool-book_appointment"));
    assert_eq!(patch["server"]["url"], format!("{PUBLIC}/api/vapi/webhook"));
    assert_eq!(patch["server"]["headers"]["X-Vapi-Secret"], secret.as_str());
    // The assistant's own list, with what the appliance answers or records added.
    assert_eq!(
        patch["serverMessages"],
        serde_json::json!([
            "end-of-call-report",
            "tool-calls",
            "status-update",
            "transfer-destination-request",
            "transfer-update"
        ])
    );

    // The calendar tool on the assistant is reported.
    let page = owner
        .get(app.url("/settings/voice/tools"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Synced"), "{page}");
    assert!(
        page.contains("google.calendar.availability.check"),
        "{page}"
    );
    assert!(page.contains("asst-1"));

    // A second sync sends no tool again.
    save(&app, &owner, &csrf, "asst-1").await;
    let (state, detail) = settled(&app, app.a.org_id).await;
    assert_eq!(state, "synced");
    assert!(
        detail.contains("0 new, 0 updated, 11 unchanged"),
        "{detail}"
    );
    assert_eq!(by_method(&app, "/tool", "POST").len(), TOOLS);
    assert!(by_method(&app, "/tool/", "PATCH").is_empty());
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE org_id = ?1 AND action = 'settings.vapi_tools_synced'",
            &[&app.a.org_id]
        ),
        2
    );
}

#[tokio::test]
async fn a_changed_definition_or_a_rotated_secret_is_updated_with_its_type() {
    let app = spawn().await;
    assert_eq!(run_sync(&app, app.a.org_id).await.status, "synced");
    // As after a release that changed one tool's definition.
    app.state
        .db
        .write_blocking(|tx| {
            tx.execute(
                "UPDATE vapi_tools SET definition_sha256 = 'old' WHERE name = 'check_availability'",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    run_sync(&app, app.a.org_id).await;
    let patched = by_method(&app, "/tool/", "PATCH");
    assert_eq!(patched.len(), 1);
    assert_eq!(patched[0].path, "/tool/tool-check_availability");
    let body = patched[0].json();
    assert_eq!(
        body["type"], "function",
        "Vapi's update body names the tool type"
    );
    assert!(body.get("id").is_none() && body.get("orgId").is_none());
    assert_eq!(body["function"]["name"], "check_availability");
    assert_eq!(status(&app, app.a.org_id).0, "synced");
    assert_eq!(by_method(&app, "/tool", "POST").len(), TOOLS);

    // Rotating the webhook secret re-syncs every tool in the background job.
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    owner
        .post(app.url("/settings/voice/rotate"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let rotated = app.vapi_secret(app.a.org_id);
    assert_eq!(vapi_tools::run_due(&app.state).await.unwrap(), 1);
    assert_eq!(status(&app, app.a.org_id).0, "synced");
    let patched = by_method(&app, "/tool/", "PATCH");
    assert_eq!(patched.len(), 1 + TOOLS);
    assert!(patched[1..]
        .iter()
        .all(|r| r.json()["server"]["headers"]["X-Vapi-Secret"] == rotated.as_str()));
    assert_eq!(
        vapi_tools::run_due(&app.state).await.unwrap(),
        0,
        "nothing left to send"
    );
}

#[tokio::test]
async fn throttling_is_retried_with_backoff() {
    let app = spawn().await;
    app.vapi.respond(
        "/tool",
        429,
        r#"{"message":"Too Many Requests","statusCode":429}"#,
    );
    let state = run_sync(&app, app.a.org_id).await;
    assert_eq!(state.status, "synced", "{:?}", state.detail);
    assert_eq!(by_method(&app, "/tool", "POST").len(), TOOLS + 1);
    assert_eq!(registered(&app, app.a.org_id), TOOLS as i64);
}

#[tokio::test]
async fn failures_are_shown_and_what_was_registered_is_kept() {
    let app = spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    app.vapi.respond(
        "/assistant/asst-gone",
        404,
        r#"{"message":"Couldn't Get Assistant. `assistantId` not found","error":"Not Found","statusCode":404}"#,
    );
    save(&app, &owner, &csrf, "asst-gone").await;
    let (state, detail) = settled(&app, app.a.org_id).await;
    assert_eq!(state, "failed");
    assert!(
        detail.contains("no assistant with ID asst-gone"),
        "{detail}"
    );
    assert_eq!(registered(&app, app.a.org_id), TOOLS as i64);
    let page = owner
        .get(app.url("/settings/voice/tools"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Failed") && page.contains("asst-gone"),
        "{page}"
    );

    // A malformed assistant id is refused and nothing is saved or started.
    let before = app.vapi.requests().len();
    let (code, _) = save(&app, &owner, &csrf, "not an id/../x").await;
    assert_eq!(code, 422);
    assert_eq!(app.vapi.requests().len(), before);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM orgs WHERE id = ?1 AND vapi_assistant_id = 'asst-gone'",
            &[&app.a.org_id]
        ),
        1,
        "the saved assistant ID is unchanged"
    );
}

#[tokio::test]
async fn without_a_public_url_nothing_is_sent() {
    let app = TestApp::spawn().await;
    let state = run_sync(&app, app.a.org_id).await;
    assert_eq!(state.status, "failed");
    assert!(state.detail.unwrap().contains("VOXANNE_PUBLIC_URL"));
    assert!(app.vapi.requests().is_empty());
}

#[tokio::test]
async fn an_assistant_on_vapis_default_messages_keeps_them() {
    let app = spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    save(&app, &owner, &csrf, DEFAULTS_ASSISTANT).await;
    assert_eq!(settled(&app, app.a.org_id).await.0, "synced");
    let patches = by_method(&app, &format!("/assistant/{DEFAULTS_ASSISTANT}"), "PATCH");
    let messages = patches[0].json()["serverMessages"].clone();
    // Sending a list replaces Vapi's defaults, so they are all sent, with transfer-update.
    for kept in [
        "function-call",
        "conversation-update",
        "speech-update",
        "hang",
        "handoff-destination-request",
        "user-interrupted",
        "assistant.started",
        "tool-calls",
        "end-of-call-report",
        "transfer-update",
    ] {
        assert!(
            messages.as_array().unwrap().contains(&Value::from(kept)),
            "{kept}: {messages}"
        );
    }
}

#[tokio::test]
async fn owners_only_with_csrf_and_each_clinic_registers_its_own() {
    let app = spawn().await;
    let (staff, staff_csrf) = app.signed_in(app.a.staff_email).await;
    assert_eq!(
        staff
            .get(app.url("/settings/voice/tools"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(save(&app, &staff, &staff_csrf, "asst-1").await.0, 403);
    let (owner, _) = app.signed_in(app.a.owner_email).await;
    assert_eq!(save(&app, &owner, "forged", "asst-1").await.0, 400);
    assert_eq!(status(&app, app.a.org_id).0, "none");
    assert!(app.vapi.requests().is_empty());

    let (b_owner, b_csrf) = app.signed_in(app.b.owner_email).await;
    save(&app, &b_owner, &b_csrf, "asst-b").await;
    assert_eq!(settled(&app, app.b.org_id).await.0, "synced");
    let b_secret = app.vapi_secret(app.b.org_id);
    assert!(by_method(&app, "/tool", "POST")
        .iter()
        .all(|r| r.json()["server"]["headers"]["X-Vapi-Secret"] == b_secret.as_str()));
    assert_eq!(registered(&app, app.b.org_id), TOOLS as i64);
    assert_eq!(registered(&app, app.a.org_id), 0);
    let a_page = owner
        .get(app.url("/settings/voice/tools"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!a_page.contains("asst-b"));
}

#[tokio::test]
async fn the_command_line_syncs_one_clinic() {
    let app = spawn().await;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_voxanne"));
    cmd.env_clear()
        .env("VOXANNE_CONFIG", "/dev/null")
        .env("VOXANNE_DATA_DIR", app.dir.path())
        .env("VOXANNE_MASTER_KEY", support::MASTER_KEY)
        .env("VOXANNE_PUBLIC_URL", PUBLIC)
        .env("VAPI_API_BASE", app.vapi.url())
        .env("VAPI_PRIVATE_KEY", "vapi-test-private-key")
        .args([
            "vapi",
            "sync-tools",
            "--org",
            &app.b.org_id.to_string(),
            "--assistant",
            "asst-cli",
            "--json",
        ]);
    // Off the runtime's thread, so the fake Vapi on it keeps answering.
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "synced");
    assert_eq!(v["tools"].as_array().unwrap().len(), TOOLS);
    assert_eq!(
        v["native_calendar_tools"],
        "google.calendar.availability.check"
    );
    assert_eq!(by_method(&app, "/assistant/asst-cli", "PATCH").len(), 1);
    assert_eq!(registered(&app, app.b.org_id), TOOLS as i64);
    assert_eq!(registered(&app, app.a.org_id), 0);
}

#[tokio::test]
async fn the_tools_screen_and_the_voice_agent_screen_share_one_assistant_id() {
    let app = spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let (code, _) = save(&app, &owner, &csrf, "asst-1").await;
    assert_eq!(code, 303);
    let voice = owner
        .get(app.url("/settings/voice"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        voice.contains("value=\"asst-1\""),
        "the voice agent screen shows the assistant the tools were linked to"
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM orgs WHERE id = ?1 AND vapi_assistant_id = 'asst-1'",
            &[&app.a.org_id]
        ),
        1
    );
    // The other clinic's settings are untouched.
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM orgs WHERE id = ?1 AND vapi_assistant_id IS NULL",
            &[&app.b.org_id]
        ),
        1
    );
}
