//! Tool calls that die between their commit and their reply, as in a crash: every tool that
//! acts is made to die there once (a failpoint only tests can arm), then the same tool call is
//! retried. The retry must answer the outcome that committed (never "just taken" for the
//! caller's own booking), and no text may go out twice.

use crate::support;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use support::messaging::code_in;
use support::vapi::{data, tool_calls, CALLER};
use support::{Options, TestApp};
use voxanne::failpoints::Failpoint;
use voxanne::store::orgs;
use voxanne::store::scope::operator_scope;

/// Monday 2026-08-10, 10:00 in New York.
async fn spawn() -> TestApp {
    let app = TestApp::spawn_with(Options {
        now: Utc.with_ymd_and_hms(2026, 8, 10, 14, 0, 0).unwrap(),
        ..Options::default()
    })
    .await;
    app.set_twilio(app.a.org_id);
    app.set_twilio(app.b.org_id);
    let org = app.a.org_id;
    let scope = app
        .state
        .db
        .read_blocking(move |c| operator_scope(c, org))
        .unwrap();
    app.state
        .db
        .write_blocking(move |tx| orgs::update_phone_booking(tx, &scope, 10, true))
        .unwrap();
    app
}

/// Posts one tool call with the failpoint armed: the request must die with no reply.
async fn dies(app: &TestApp, secret: &str, id: &str, name: &str, args: &Value) {
    app.state.failpoints.arm(Failpoint::ToolActed);
    let sent = reqwest::Client::new()
        .post(app.url("/api/vapi/tools"))
        .header("x-vapi-secret", secret)
        .json(&tool_calls(&[(id, name, args.clone())]))
        .send()
        .await;
    let reply = match sent {
        Ok(res) => res.text().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    assert!(reply.is_err(), "{name} answered {reply:?} despite dying");
}

/// The tool call `id` dies once after acting, then is retried (twice, the second after the
/// texts have gone out); returns the first retry's reply. Both retries report the same
/// outcome.
async fn dies_then_retried(
    app: &TestApp,
    secret: &str,
    id: &str,
    name: &str,
    args: Value,
) -> String {
    dies(app, secret, id, name, &args).await;
    let first = app.tool(secret, id, name, args.clone()).await.unwrap();
    app.drain_outbox().await;
    let again = app.tool(secret, id, name, args).await.unwrap();
    let (a, b) = (data(&first), data(&again));
    for key in ["ok", "holdId", "appointmentId", "start", "reason"] {
        assert_eq!(a.get(key), b.get(key), "{name}: {first} then {again}");
    }
    first
}

#[tokio::test]
async fn every_acting_tool_retried_after_dying_answers_what_committed() {
    let app = spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let count = |sql: &str| app.query_i64(sql, &[]);

    let held = dies_then_retried(
        &app,
        &s,
        "r1",
        "reserve_slot",
        json!({"date": "2026-08-20", "time": "3pm", "service": "botox", "patientName": "Dana Lee"}),
    )
    .await;
    assert!(
        held.starts_with("I'm holding Thursday, August 20 at 3:00 PM"),
        "{held}"
    );
    let hold_id = data(&held)["holdId"].as_i64().unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM appointments"), 1);

    let sent = dies_then_retried(
        &app,
        &s,
        "v1",
        "send_verification_code",
        json!({"holdId": hold_id}),
    )
    .await;
    assert!(sent.contains("ending in 0123"), "{sent}");
    let texts = app.texts();
    assert_eq!(texts.len(), 1, "{texts:?}");
    let code = code_in(&texts[0].1);

    let booked = dies_then_retried(
        &app,
        &s,
        "v2",
        "verify_code",
        json!({"holdId": hold_id, "code": code}),
    )
    .await;
    assert!(
        booked.starts_with(&format!("You're booked for Botox on Thursday, August 20 at 3:00 PM. Your confirmation number is {hold_id}.")),
        "{booked}"
    );
    assert_eq!(app.texts().len(), 2);

    let moved = dies_then_retried(
        &app,
        &s,
        "m1",
        "reschedule_appointment",
        json!({"appointmentId": hold_id, "newDate": "2026-08-21", "newTime": "11am"}),
    )
    .await;
    assert!(
        moved.contains("to Friday, August 21 at 11:00 AM"),
        "{moved}"
    );
    assert_eq!(app.texts().len(), 3);

    let again = dies_then_retried(
        &app,
        &s,
        "s1",
        "send_confirmation_sms",
        json!({"appointmentId": hold_id}),
    )
    .await;
    assert_eq!(data(&again)["ok"], true, "{again}");
    assert_eq!(app.texts().len(), 4);

    let cancelled = dies_then_retried(
        &app,
        &s,
        "c1",
        "cancel_appointment",
        json!({"appointmentId": hold_id, "reason": "travel"}),
    )
    .await;
    assert!(cancelled.contains("is cancelled"), "{cancelled}");
    assert_eq!(app.texts().len(), 5);

    // A one-shot booking (clinic B does not verify callers).
    let s_b = app.vapi_secret(app.b.org_id);
    let one_shot = json!({"date": "2026-08-20", "time": "3pm", "service": "botox", "patientName": "Sam Roe", "patientPhone": CALLER});
    let booked = dies_then_retried(&app, &s_b, "b1", "book_appointment", one_shot).await;
    assert!(booked.starts_with("You're booked for Botox"), "{booked}");
    assert!(!booked.contains("taken"), "{booked}");
    assert_eq!(app.texts().len(), 6);

    assert_eq!(count("SELECT COUNT(*) FROM appointments"), 2);
    assert_eq!(
        count("SELECT COUNT(*) FROM appointments WHERE status = 'confirmed'"),
        1
    );
    for action in [
        "appointment.held",
        "appointment.confirmed",
        "appointment.rescheduled",
        "appointment.cancelled",
        "appointment.booked",
    ] {
        assert_eq!(
            app.query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action = ?1",
                &[&action]
            ),
            1,
            "{action}"
        );
    }
    // Each text went out once: one outbox row per text, and Twilio saw each row once.
    let texts = app.texts();
    let mut bodies: Vec<&String> = texts.iter().map(|(_, b)| b).collect();
    bodies.sort();
    let confirmations = bodies
        .iter()
        .filter(|b| b.contains("is confirmed for"))
        .count();
    assert_eq!(confirmations, 3, "{bodies:?}");
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox WHERE purpose != 'reminder'"),
        6
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM tool_results WHERE tool_call_id IN ('r1','v1','v2','m1','s1','c1','b1')"),
        7
    );
}

/// The real binary on `dir`, listening on `port`, texting through `twilio`.
fn start_binary(dir: &std::path::Path, port: u16, twilio: &str) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_voxanne"))
        .env_clear()
        .env("VOXANNE_DATA_DIR", dir)
        .env("VOXANNE_CONFIG", "/dev/null")
        .env("VOXANNE_MASTER_KEY", support::MASTER_KEY)
        .env("VOXANNE_LISTEN", format!("127.0.0.1:{port}"))
        .env("VOXANNE_LOG", "error")
        .env("TWILIO_API_BASE", twilio)
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start voxanne")
}

async fn wait_healthy(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the server did not come up");
}

/// One one-shot booking: its own slot (half-hour steps, the treatment's length) and its own
/// patient, so each books and texts once.
fn booking(k: usize) -> Value {
    // The binary runs on the system clock: a week from today, onwards.
    let day = Utc::now().date_naive() + chrono::Duration::days(7 + (k / 40) as i64);
    let minutes = (k % 40) * 30;
    json!({"date": day.to_string(), "time": format!("{:02}:{:02}", 2 + minutes / 60, minutes % 60),
           "service": "botox", "patientName": "Sam Roe", "patientPhone": format!("+14155{:06}", 100_000 + k)})
}

async fn post_tool(
    client: &reqwest::Client,
    base: &str,
    secret: &str,
    id: &str,
    args: &Value,
) -> Option<String> {
    let res = client
        .post(format!("{base}/api/vapi/tools"))
        .header("x-vapi-secret", secret)
        .json(&tool_calls(&[(id, "book_appointment", args.clone())]))
        .send()
        .await
        .ok()?;
    let body: Value = res.json().await.ok()?;
    body["results"][0]["result"].as_str().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_kill_9_under_16_clients_then_every_retry_answers_what_committed() {
    // A clinic that books in one go at any hour, on the real binary's data directory.
    let app = spawn().await;
    let org = app.b.org_id;
    let secret = app.vapi_secret(org);
    let db = rusqlite::Connection::open(app.config.db_path()).unwrap();
    let day = r#"[{"open":"00:00:00","close":"23:55:00"}]"#;
    db.execute(
        "UPDATE orgs SET hours_json = ?1, slot_minutes = 5, min_notice_minutes = 0, horizon_days = 730,
                         buffer_minutes = 0, require_verification = 0 WHERE id = ?2",
        rusqlite::params![format!(r#"{{"days":[{day},{day},{day},{day},{day},{day},{day}]}}"#), org],
    )
    .unwrap();
    drop(db);
    let dir = app.stop().await;
    let twilio = support::fake::FakeServer::start(support::fake::twilio_default).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();

    // Five rounds: 16 clients book while the server is killed with SIGKILL mid-flight.
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut sent: Vec<(usize, Option<String>)> = Vec::new();
    for round in 0..5 {
        let mut server = start_binary(dir.path(), port, &twilio.url());
        wait_healthy(&client, &base).await;
        let mut clients = Vec::new();
        for _ in 0..16 {
            let (client, base, secret, next) =
                (client.clone(), base.clone(), secret.clone(), next.clone());
            clients.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let reply =
                        post_tool(&client, &base, &secret, &format!("k{k}"), &booking(k)).await;
                    let died = reply.is_none();
                    mine.push((k, reply));
                    if died {
                        return mine;
                    }
                }
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(300 + 100 * round)).await;
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        for c in clients {
            sent.extend(c.await.unwrap());
        }
    }

    // After a last restart, every tool call is retried with its own id.
    let mut server = start_binary(dir.path(), port, &twilio.url());
    wait_healthy(&client, &base).await;
    let mut own_taken = 0;
    let mut acknowledged = 0;
    for (k, first) in &sent {
        let retry = post_tool(&client, &base, &secret, &format!("k{k}"), &booking(*k))
            .await
            .expect("the retry is answered");
        assert!(retry.starts_with("You're booked"), "k{k}: {retry}");
        if retry.contains("taken") {
            own_taken += 1;
        }
        if let Some(first) = first {
            acknowledged += 1;
            assert_eq!(
                data(first)["appointmentId"],
                data(&retry)["appointmentId"],
                "k{k}: {first} then {retry}"
            );
        }
    }
    // The outbox drains: texts left mid-send by the kills are looked up on Twilio, then sent
    // or recorded; none stays waiting.
    let db = rusqlite::Connection::open(dir.path().join("voxanne.db")).unwrap();
    let waiting = || -> i64 {
        db.query_row(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'confirmation' AND status IN ('pending', 'sending')",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    for _ in 0..600 {
        if waiting() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(waiting(), 0, "confirmations still waiting after 30 s");
    server.kill().unwrap();
    server.wait().unwrap();

    let booked: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM appointments WHERE status = 'confirmed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(booked as usize, sent.len(), "one booking per tool call");
    let mut bodies: Vec<String> = twilio
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/Messages.json"))
        .map(|r| {
            let form = r.form();
            format!(
                "{:?}",
                form.iter()
                    .filter(|(k, _)| k == "To" || k == "Body")
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    let texts = bodies.len();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), texts, "a text went out twice");
    // Every booking's patient got exactly one confirmation text, recorded with Twilio's SID.
    assert_eq!(texts as i64, booked, "one confirmation text per booking");
    let mut patients: Vec<String> = twilio
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/Messages.json"))
        .filter_map(|r| {
            r.form()
                .into_iter()
                .find(|(k, _)| k == "To")
                .map(|(_, v)| v)
        })
        .collect();
    patients.sort();
    patients.dedup();
    assert_eq!(
        patients.len() as i64,
        booked,
        "a patient got two texts or none"
    );
    let accepted: Vec<String> = twilio
        .messages
        .lock()
        .unwrap()
        .accepted
        .iter()
        .map(|m| m.sid.clone())
        .collect();
    let recorded: Vec<String> = db
        .prepare(
            "SELECT provider_sid FROM outbox WHERE purpose = 'confirmation' AND status = 'sent'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        recorded.len() as i64,
        booked,
        "a confirmation is not recorded as sent"
    );
    assert!(
        recorded.iter().all(|sid| accepted.contains(sid)),
        "a recorded SID is not Twilio's"
    );
    let lookups = twilio
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/Messages.json"))
        .count();
    assert_eq!(own_taken, 0);
    eprintln!(
        "kill -9 x5 under 16 clients: {} tool calls, {acknowledged} answered before a kill, {} retried after it, \
         {booked} bookings, {texts} texts (one per booking), {lookups} texts looked up after a kill, \
         0 own bookings answered \"taken\"",
        sent.len(),
        sent.len() - acknowledged
    );
}
