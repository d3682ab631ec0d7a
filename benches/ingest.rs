//! `cargo bench --bench ingest`: end-of-call reports with 20 KB transcripts through the real HTTP
//! stack (authenticate, redact, read, match the catalogue, keep the event, process it into the
//! call, contact and score), against a raw-SQLite baseline measured in the same run.
//!
//! (a) baseline: per report, one transaction inserting the same rows the appliance ends up with
//!     (the kept event and the call with its transcript, messages and summary) on one
//!     connection with the appliance's pragmas (WAL, synchronous=FULL), in a tight loop.
//! (b) reports over HTTP to /api/vapi/webhook, 1 / 16 / 64 concurrent clients, distinct calls.
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
const TRANSCRIPT_BYTES: usize = 20 * 1024;
/// Stands for each report's call id in the prebuilt bodies.
const PLACEHOLDER: &str = "bench-XXXXXXXXXXXX";

/// A plausible two-sided conversation of about 20 KB, caller and assistant taking turns.
fn conversation(k: usize) -> Vec<(&'static str, String)> {
    const ASSISTANT: [&str; 4] = [
        "Thanks for calling, how can I help you today?",
        "We have openings on Tuesday at 10:00 or Thursday at 3:30; which suits you better?",
        "Botox starts at $400 and takes about 30 minutes.",
        "Could you spell your last name for me, and confirm the best number to reach you?",
    ];
    const CALLER: [&str; 4] = [
        "Hi, I was hoping to book botox, maybe with a consultation first if that's needed.",
        "Thursday works, ideally after 3 because of school pickup at 2:45.",
        "It's Lee, L E E, and this number is fine. Do you take card over the phone?",
        "Great, and is there parking near the clinic, I've never been before.",
    ];
    let mut lines = Vec::new();
    let mut size = 0;
    while size < TRANSCRIPT_BYTES {
        let turn = k + lines.len() / 2;
        let (who, said) = if lines.len() % 2 == 0 {
            ("AI", ASSISTANT[turn % 4])
        } else {
            ("User", CALLER[(turn + 1) % 4])
        };
        size += who.len() + said.len() + 3;
        lines.push((who, said.to_string()));
    }
    lines
}

fn report(call_id: &str, k: usize) -> Value {
    let lines = conversation(k);
    let transcript: Vec<String> = lines.iter().map(|(w, s)| format!("{w}: {s}")).collect();
    let messages: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (w, s))| {
            json!({"role": if *w == "User" { "user" } else { "bot" }, "message": s,
                   "time": 1_798_761_600_000u64 + i as u64 * 4000, "secondsFromStart": i * 4})
        })
        .collect();
    json!({"message": {
        "type": "end-of-call-report",
        "timestamp": 1_798_762_000_000u64,
        "endedReason": "customer-ended-call",
        "startedAt": "2027-01-01T00:00:00Z",
        "endedAt": "2027-01-01T00:06:40Z",
        "cost": 0.31,
        "call": {"id": call_id, "type": "inboundPhoneCall", "status": "in-progress",
                 "customer": {"number": format!("+1415555{:04}", k % 10_000)}},
        "customer": {"number": format!("+1415555{:04}", k % 10_000)},
        "phoneNumber": {"provider": "twilio", "number": "+14155550100"},
        "artifact": {
            "transcript": transcript.join("\n"),
            "messages": messages,
            "recordingUrl": format!("https://storage.vapi.ai/{call_id}-mono.wav"),
        },
        "analysis": {"summary": "Caller asked about botox and booked a consultation for Thursday.",
                     "successEvaluation": "true"}
    }})
}

struct Stats {
    label: String,
    requests: usize,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU time of the whole bench process (server and client) per report, and of the
    /// database writer thread alone: what a report costs whatever else the machine runs.
    cpu_ms: Option<f64>,
    writer_cpu_ms: Option<f64>,
}

/// CPU milliseconds (user + system) from a `/proc/.../stat` line.
fn stat_cpu_ms(stat: &str) -> Option<f64> {
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(ticks * 10.0)
}

/// (whole process, writer thread) CPU milliseconds so far; `None` off Linux.
fn cpu_now() -> (Option<f64>, Option<f64>) {
    let process = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| stat_cpu_ms(&s));
    let writer = std::fs::read_dir("/proc/self/task").ok().and_then(|tasks| {
        tasks.flatten().find_map(|t| {
            let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
            if comm.trim() != "voxanne-writer" {
                return None;
            }
            stat_cpu_ms(&std::fs::read_to_string(t.path().join("stat")).ok()?)
        })
    });
    (process, writer)
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
        cpu_ms: None,
        writer_cpu_ms: None,
    }
}

/// (a) The same rows inserted with raw SQLite, one transaction per report.
fn baseline(dir: &std::path::Path) -> Stats {
    let mut conn = Connection::open(dir.join("baseline.db")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
    )
    .unwrap();
    voxanne::store::migrate::apply(&conn).unwrap();
    conn.execute_batch(
        "INSERT INTO orgs (id, name, timezone, hours_json, created_at) VALUES (1, 'Bench', 'UTC', '{}', 0);
         INSERT INTO contacts (id, org_id, phone, created_at, updated_at) VALUES (1, 1, '+14155550123', 0, 0);",
    )
    .unwrap();
    // Precomputed outside the timed loop: only the inserts are measured.
    let rows: Vec<(String, String, String)> = (0..64)
        .map(|k| {
            let body = report("x", k);
            let m = &body["message"];
            (
                m["artifact"]["transcript"].as_str().unwrap().to_string(),
                m["artifact"]["messages"].to_string(),
                m["analysis"]["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut latencies = Vec::new();
    let (cpu_start, _) = cpu_now();
    let started = Instant::now();
    let mut k = 0usize;
    while started.elapsed() < RUN_FOR {
        let t = Instant::now();
        let (transcript, messages, summary) = &rows[k % rows.len()];
        let call_id = format!("baseline-{k}");
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        tx.execute(
            "INSERT INTO call_events (org_id, call_id, type, dedupe, received_at, processed_at)
             VALUES (1, ?1, 'end-of-call-report', '', 0, 0)",
            params![call_id],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO calls (org_id, vapi_call_id, type, status, customer_number, contact_id,
                 started_at, ended_at, duration_ms, ended_reason, summary, transcript, messages_json,
                 recording_url, recording_status, value_cents, lead_score, lead_tier, score_json,
                 report_received_at, created_at, updated_at)
             VALUES (1, ?1, 'inbound', 'ended', '+14155550123', 1, 0, 400, 400000,
                 'customer-ended-call', ?2, ?3, ?4, 'https://storage.vapi.ai/x.wav', 'completed',
                 55000, 75, 'hot', '{}', 0, 0, 0)",
            params![call_id, summary, transcript, messages],
        )
        .unwrap();
        tx.commit().unwrap();
        latencies.push(t.elapsed());
        k += 1;
    }
    let mut s = stats(
        "(a) raw SQLite insert of the same rows",
        latencies,
        started.elapsed(),
    );
    s.cpu_ms = cpu_now()
        .0
        .zip(cpu_start)
        .map(|(e, b)| (e - b) / k.max(1) as f64);
    s
}

async fn fire(
    url: &str,
    secret: &str,
    clients: usize,
    next: Arc<AtomicUsize>,
    label: &str,
) -> Stats {
    // Bodies are built before the clock starts, so the figures are the server's.
    let per_client = 4000usize;
    let mut tasks = Vec::new();
    let (cpu_start, writer_start) = cpu_now();
    let started = Instant::now();
    for _ in 0..clients {
        let (url, secret, next) = (url.to_string(), secret.to_string(), next.clone());
        let bodies: Vec<String> = (0..8).map(|k| report(PLACEHOLDER, k).to_string()).collect();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut latencies = Vec::new();
            while started.elapsed() < RUN_FOR && latencies.len() < per_client {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let body = bodies[k % bodies.len()].replace(PLACEHOLDER, &format!("bench-{k:012}"));
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .header("x-vapi-secret", &secret)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
                let _ = res.bytes().await.unwrap();
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let (cpu_end, writer_end) = cpu_now();
    let mut s = stats(label, all, started.elapsed());
    let n = s.requests.max(1) as f64;
    let per = |a: Option<f64>, b: Option<f64>| Some((b? - a?) / n);
    s.cpu_ms = per(cpu_start, cpu_end);
    s.writer_cpu_ms = per(writer_start, writer_end);
    s
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let base = baseline(dir.path());

    let data = dir.path().join("app");
    let config = common::init_appliance(&data, "UTC", &[]);
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2027, 1, 1, 0, 10, 0).unwrap());
    let app = App::open(config.clone(), clock).unwrap();
    let secret = {
        let conn = Connection::open(config.db_path()).unwrap();
        let scope = voxanne::store::scope::operator_scope(&conn, 1).unwrap();
        voxanne::store::vapi_secrets::current(&conn, &app.state().vault, &scope).unwrap()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/vapi/webhook", listener.local_addr().unwrap());
    tokio::spawn(app.serve(listener, None, std::future::pending()));

    let body_kb = report("bench-000000000000", 0).to_string().len() as f64 / 1024.0;
    let next = Arc::new(AtomicUsize::new(0));
    let mut rows = Vec::new();
    for clients in [1, 16, 64] {
        let s = fire(
            &url,
            &secret,
            clients,
            next.clone(),
            &format!("(b) end-of-call reports over HTTP, {clients} clients"),
        )
        .await;
        rows.push(s);
    }
    // Every report was kept once and processed into its own scored call.
    let conn = Connection::open(config.db_path()).unwrap();
    let (calls, scored, pending): (i64, i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), COUNT(lead_score), (SELECT COUNT(*) FROM call_events WHERE processed_at IS NULL) FROM calls",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let sent: usize = rows.iter().map(|s| s.requests).sum();
    assert_eq!((calls as usize, scored as usize, pending), (sent, sent, 0));

    println!();
    println!(
        "{:<52} {:>8} {:>10} {:>8} {:>8} {:>11} {:>11} {:>14}",
        "scenario",
        "reports",
        "per second",
        "p50 ms",
        "p99 ms",
        "vs baseline",
        "CPU ms/rep",
        "writer ms/rep"
    );
    let ms = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.2}"));
    let line = |s: &Stats, ratio: Option<f64>| {
        println!(
            "{:<52} {:>8} {:>10.0} {:>8.2} {:>8.2} {:>11} {:>11} {:>14}",
            s.label,
            s.requests,
            s.per_sec,
            s.p50_ms,
            s.p99_ms,
            ratio
                .map(|r| format!("{:.0}%", r * 100.0))
                .unwrap_or_else(|| "-".into()),
            ms(s.cpu_ms),
            ms(s.writer_cpu_ms),
        )
    };
    line(&base, None);
    for s in &rows {
        line(s, Some(s.per_sec / base.per_sec));
    }
    println!(
        "report body {body_kb:.0} KB (transcript {} KB plus the same turns as messages); every report kept, redacted, processed and scored: {calls} calls",
        TRANSCRIPT_BYTES / 1024
    );
    println!("durability: synchronous=FULL on every commit (batched commits share one fsync)");
    println!(
        "CPU ms/rep: the whole bench process (HTTP client included) per report; with n free cores the ceiling is about n × 1000 / CPU ms/rep reports/s ({} cores here)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
}
