//! `cargo bench --bench booking`: reserve_slot and book_appointment throughput and latency
//! through the real HTTP stack, against a raw-SQLite baseline of the same hold transaction
//! measured in the same run.
//!
//! (a) baseline: BEGIN IMMEDIATE; expire stale holds; buffered overlap check; INSERT; COMMIT
//!     in a tight loop on one connection with the appliance's pragmas (WAL, synchronous=FULL).
//! (b) reserve_slot tool calls over HTTP, 1 / 16 / 64 concurrent clients on distinct slots.
//! (c) 64 clients fighting over 8 slots (every loser gets alternatives).
//! (d) book_appointment in one go over HTTP, 1 / 16 / 64 clients on distinct slots, each
//!     booking texting its own patient through a loopback Twilio; the reply waits for the
//!     confirmation text's first attempt, as on a real call.
#![allow(clippy::disallowed_methods)] // Tests and benches arrange and read the database directly.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use rusqlite::{params, Connection};
use serde_json::{json, Value};
use voxanne::app::App;
use voxanne::clock::ManualClock;

const RUN_FOR: Duration = Duration::from_secs(3);
const SLOTS_PER_DAY: usize = 287; // 00:00 .. 23:50 every 5 minutes, 5-minute service

fn slot(k: usize) -> (String, String) {
    let day = chrono::NaiveDate::from_ymd_opt(2027, 1, 2).unwrap()
        + chrono::Duration::days((k / SLOTS_PER_DAY) as i64);
    let minutes = (k % SLOTS_PER_DAY) * 5;
    (
        day.to_string(),
        format!("{:02}:{:02}", minutes / 60, minutes % 60),
    )
}

fn open_every_day(db: &std::path::Path) {
    let conn = Connection::open(db).unwrap();
    let day = r#"[{"open":"00:00:00","close":"23:55:00"}]"#;
    let hours = format!(r#"{{"days":[{day},{day},{day},{day},{day},{day},{day}]}}"#);
    conn.execute(
        "UPDATE orgs SET hours_json = ?1, slot_minutes = 5, min_notice_minutes = 0, horizon_days = 365,
                         buffer_minutes = 0, hold_minutes = 60",
        params![hours],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO services (org_id, name, duration_minutes, price_cents, keywords_json, created_at)
         VALUES (1, 'Quick check', 5, 5000, '[\"quick check\"]', 0)",
        [],
    )
    .unwrap();
}

struct Stats {
    label: String,
    requests: usize,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn stats(label: &str, mut latencies: Vec<Duration>, elapsed: Duration) -> Stats {
    latencies.sort();
    let pct = |p: f64| common::percentile_ms(&latencies, p);
    Stats {
        label: label.to_string(),
        requests: latencies.len(),
        per_sec: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

/// (a) The same hold transaction on raw SQLite.
fn baseline(dir: &std::path::Path) -> Stats {
    let mut conn = Connection::open(dir.join("baseline.db")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
    )
    .unwrap();
    voxanne::store::migrate::apply(&conn).unwrap();
    conn.execute_batch(
        "INSERT INTO orgs (id, name, timezone, hours_json, created_at) VALUES (1, 'Bench', 'UTC', '{}', 0);
         INSERT INTO providers (id, org_id, name, created_at) VALUES (1, 1, 'Main', 0);
         INSERT INTO services (id, org_id, name, duration_minutes, price_cents, created_at) VALUES (1, 1, 'Quick check', 5, 5000, 0);
         INSERT INTO contacts (id, org_id, phone, created_at, updated_at) VALUES (1, 1, '+14155550123', 0, 0);",
    )
    .unwrap();
    let now = 1_800_000_000i64;
    let mut latencies = Vec::new();
    let started = Instant::now();
    let mut k = 0i64;
    while started.elapsed() < RUN_FOR {
        let t = Instant::now();
        let start = now + 3600 + k * 300;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        tx.execute(
            "UPDATE appointments SET status = 'expired', updated_at = ?2 WHERE org_id = ?1 AND status = 'held' AND hold_expires_at <= ?2",
            params![1, now],
        )
        .unwrap();
        let taken: bool = tx
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM appointments WHERE org_id = 1 AND provider_id = 1 AND status IN ('held','confirmed')
                 AND start_at < ?2 AND end_at > ?1)",
                params![start, start + 300],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!taken);
        tx.execute(
            "INSERT INTO appointments (org_id, provider_id, service_id, contact_id, start_at, end_at, status, hold_expires_at, source, created_at, updated_at)
             VALUES (1, 1, 1, 1, ?1, ?2, 'held', ?3, 'phone_ai', ?4, ?4)",
            params![start, start + 300, now + 600, now],
        )
        .unwrap();
        tx.commit().unwrap();
        latencies.push(t.elapsed());
        k += 1;
    }
    stats(
        "(a) raw SQLite hold transaction",
        latencies,
        started.elapsed(),
    )
}

/// The tool being measured.
#[derive(Clone, Copy, PartialEq)]
enum Tool {
    ReserveSlot,
    BookAppointment,
}

fn body(tool: Tool, id: &str, k: usize, date: &str, time: &str) -> Value {
    let (name, arguments) = match tool {
        Tool::ReserveSlot => (
            "reserve_slot",
            json!({"date": date, "time": time, "service": "quick check", "patientName": "Bench Caller"}),
        ),
        // Each booking texts a patient of its own, so no number reaches the hourly cap.
        Tool::BookAppointment => (
            "book_appointment",
            json!({"date": date, "time": time, "service": "quick check", "patientName": "Bench Caller",
                   "patientPhone": format!("+14155{:06}", k % 1_000_000)}),
        ),
    };
    json!({"message": {"type": "tool-calls", "call": {"id": "bench-call", "customer": {"number": "+14155550123"}},
        "toolCallList": [{"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}]}})
}

/// A loopback Twilio that accepts every text at once; returns its base URL.
async fn fake_twilio() -> String {
    use axum::routing::post;
    let sent = Arc::new(AtomicUsize::new(0));
    let router = axum::Router::new().route(
        "/2010-04-01/Accounts/{account}/Messages.json",
        post(move || {
            let n = sent.fetch_add(1, Ordering::Relaxed);
            async move {
                (
                    axum::http::StatusCode::CREATED,
                    [("content-type", "application/json")],
                    format!(r#"{{"sid":"SM{n:032x}","status":"queued","num_segments":"1","error_code":null}}"#),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

async fn fire(
    tool: Tool,
    url: &str,
    secret: &str,
    clients: usize,
    slots: Arc<dyn Fn(usize) -> (String, String) + Send + Sync>,
    label: &str,
) -> (Stats, usize, usize) {
    let counter = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (url, secret, counter, slots) = (
            url.to_string(),
            secret.to_string(),
            counter.clone(),
            slots.clone(),
        );
        let label = label.to_string();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut latencies = Vec::new();
            let (mut held, mut taken) = (0, 0);
            while started.elapsed() < RUN_FOR {
                let k = counter.fetch_add(1, Ordering::Relaxed);
                let (date, time) = slots(k);
                let b = body(tool, &format!("{label}-{c}-{k}"), k, &date, &time);
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .header("x-vapi-secret", &secret)
                    .json(&b)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
                let v: Value = res.json().await.unwrap();
                latencies.push(t.elapsed());
                let text = v["results"][0]["result"].as_str().unwrap_or_default();
                if text.contains("\"ok\":true") {
                    held += 1;
                } else {
                    taken += 1;
                }
            }
            (latencies, held, taken)
        }));
    }
    let mut all = Vec::new();
    let (mut held, mut taken) = (0, 0);
    for t in tasks {
        let (l, h, x) = t.await.unwrap();
        all.extend(l);
        held += h;
        taken += x;
    }
    (stats(label, all, started.elapsed()), held, taken)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let base = baseline(dir.path());

    let twilio = fake_twilio().await;
    let data = dir.path().join("app");
    let config = common::init_appliance(&data, "UTC", &[("TWILIO_API_BASE", twilio)]);
    open_every_day(&config.db_path());
    voxanne::cli::twilio_set(
        &config,
        Some(1),
        &voxanne::store::twilio_credentials::Input {
            account_sid: "AC0123456789abcdef0123456789abcdef",
            key_sid: None,
            secret: "bench-twilio-auth-token-0123456789",
            from_number: Some("+15005550006"),
            messaging_service_sid: None,
        },
    )
    .unwrap();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
    let app = App::open(config.clone(), clock).unwrap();
    let secret = {
        let conn = Connection::open(config.db_path()).unwrap();
        let scope = voxanne::store::scope::operator_scope(&conn, 1).unwrap();
        voxanne::store::vapi_secrets::current(&conn, &app.state().vault, &scope).unwrap()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/vapi/tools", listener.local_addr().unwrap());
    tokio::spawn(app.serve(listener, None, std::future::pending()));

    let next = Arc::new(AtomicUsize::new(0));
    let mut rows = Vec::new();
    for clients in [1, 16, 64] {
        let next = next.clone();
        let distinct: Arc<dyn Fn(usize) -> (String, String) + Send + Sync> =
            Arc::new(move |_| slot(next.fetch_add(1, Ordering::Relaxed)));
        let (s, held, taken) = fire(
            Tool::ReserveSlot,
            &url,
            &secret,
            clients,
            distinct,
            &format!("(b) reserve_slot HTTP, {clients} clients"),
        )
        .await;
        assert_eq!(taken, 0, "distinct slots must all be held");
        assert_eq!(held, s.requests);
        rows.push((clients, s));
    }
    // (c) 64 clients fighting over 8 slots on one far-away day.
    let fight: Arc<dyn Fn(usize) -> (String, String) + Send + Sync> =
        Arc::new(|k| slot(300 * SLOTS_PER_DAY + (k % 8) * 2));
    let (contended, held, taken) = fire(
        Tool::ReserveSlot,
        &url,
        &secret,
        64,
        fight,
        "(c) 64 clients, 8 contended slots",
    )
    .await;
    assert_eq!(held, 8, "exactly one hold per contended slot");
    let mut booked_rows = Vec::new();
    for clients in [1, 16, 64] {
        let next = next.clone();
        let distinct: Arc<dyn Fn(usize) -> (String, String) + Send + Sync> =
            Arc::new(move |_| slot(next.fetch_add(1, Ordering::Relaxed)));
        let (s, booked, taken) = fire(
            Tool::BookAppointment,
            &url,
            &secret,
            clients,
            distinct,
            &format!("(d) book_appointment HTTP, {clients} clients"),
        )
        .await;
        assert_eq!(taken, 0, "distinct slots must all be booked");
        assert_eq!(booked, s.requests);
        booked_rows.push((clients, s));
    }
    let texted = {
        let conn = Connection::open(config.db_path()).unwrap();
        conn.query_row(
            "SELECT COUNT(*) FROM messages WHERE purpose = 'confirmation' AND provider_sid IS NOT NULL",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
    };

    println!();
    println!(
        "{:<44} {:>9} {:>11} {:>9} {:>9} {:>14}",
        "scenario", "requests", "per second", "p50 ms", "p99 ms", "vs baseline"
    );
    let line = |s: &Stats, ratio: Option<f64>| {
        println!(
            "{:<44} {:>9} {:>11.0} {:>9.2} {:>9.2} {:>14}",
            s.label,
            s.requests,
            s.per_sec,
            s.p50_ms,
            s.p99_ms,
            ratio
                .map(|r| format!("{:.0}%", r * 100.0))
                .unwrap_or_else(|| "-".into())
        )
    };
    line(&base, None);
    for (_, s) in &rows {
        line(s, Some(s.per_sec / base.per_sec));
    }
    line(&contended, Some(contended.per_sec / base.per_sec));
    for (_, s) in &booked_rows {
        line(s, Some(s.per_sec / base.per_sec));
    }
    println!("(c) holds: {held}, \"just taken\" replies with alternatives: {taken}");
    let booked: usize = booked_rows.iter().map(|(_, s)| s.requests).sum();
    println!("(d) bookings: {booked}, confirmation texts accepted by Twilio: {texted}");
    for ((clients, b), (_, r)) in booked_rows.iter().zip(&rows) {
        println!(
            "book_appointment vs reserve_slot at {clients} clients: {:.0}%",
            b.per_sec / r.per_sec * 100.0
        );
    }
    println!("durability: synchronous=FULL on every commit (batched commits share one fsync)");
}
