//! Log lines: an internal error is logged inside its request's span, so the line names the
//! request id the caller saw (in `X-Request-Id` and on the error page), the route, the org once
//! authentication knew it, and the error's cause.

use crate::support;

use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use support::vapi::tool_calls;
use support::TestApp;

/// Every log line the appliance writes while this test binary runs (JSON, one per line).
fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter("info")
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        logs
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log lines whose request span has `request_id`.
fn lines_of(request_id: &str) -> Vec<Value> {
    let logs = captured().lock().unwrap().clone();
    String::from_utf8_lossy(&logs)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| {
            v["spans"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["request_id"] == request_id))
        })
        .collect()
}

fn fail_inserts(app: &TestApp, table: &str, why: &str) {
    let db = rusqlite::Connection::open(app.config.db_path()).unwrap();
    db.execute_batch(&format!(
        "CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, '{why}'); END;"
    ))
    .unwrap();
}

#[tokio::test]
async fn an_internal_error_on_a_page_logs_its_request_id_and_cause() {
    captured();
    let app = TestApp::spawn().await;
    fail_inserts(&app, "sessions", "the session store is on fire");
    let res = app
        .login(&app.client(), app.a.owner_email, support::PASSWORD)
        .await;
    assert_eq!(res.status(), 500);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let page = res.text().await.unwrap();
    assert!(page.contains(&id), "the error page names the request id");
    assert!(!page.contains("on fire"), "the cause is never shown");

    let lines = lines_of(&id);
    let error = lines
        .iter()
        .find(|l| l["level"] == "ERROR")
        .unwrap_or_else(|| panic!("no error line for request {id}: {lines:?}"));
    let cause = error["fields"]["error"].as_str().unwrap_or_default();
    assert!(cause.contains("the session store is on fire"), "{error}");
    let span = &error["span"];
    assert_eq!(span["name"], "request");
    assert_eq!(span["method"], "POST");
    assert_eq!(span["route"], "/login");
}

#[tokio::test]
async fn a_failing_tool_logs_its_request_id_org_tool_and_cause() {
    captured();
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    fail_inserts(&app, "appointments", "no room in the book");
    let res = reqwest::Client::new()
        .post(app.url("/api/vapi/tools"))
        .header("x-vapi-secret", &secret)
        .header("x-request-id", "chosen-by-the-caller")
        .json(&tool_calls(&[(
            "t1",
            "reserve_slot",
            json!({"date": "2026-06-16", "time": "10:00", "service": "botox", "patientName": "Dana Lee"}),
        )]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(
        id, "chosen-by-the-caller",
        "request ids are the appliance's own"
    );
    let body: Value = res.json().await.unwrap();
    assert!(body["results"][0]["error"].is_string(), "{body}");

    let lines = lines_of(&id);
    let failed = lines
        .iter()
        .find(|l| l["fields"]["message"] == "tool failed")
        .unwrap_or_else(|| panic!("no tool failure line for request {id}: {lines:?}"));
    assert!(
        failed["fields"]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no room in the book"),
        "{failed}"
    );
    let spans = failed["spans"].as_array().unwrap();
    assert_eq!(spans[0]["route"], "/api/vapi/tools");
    assert_eq!(spans[0]["org"], app.a.org_id);
    assert_eq!(failed["span"]["name"], "tool");
    assert_eq!(failed["span"]["tool"], "reserve_slot");
    assert_eq!(failed["span"]["tool_call_id"], "t1");
}
