//! Retention: off by default; when set, a pass clears call content older than N days by the
//! clock in every clinic and audits it.

use crate::support;

use chrono::Duration;
use support::{Options, TestApp};
use voxanne::jobs::retention::{self, Outcome};
use voxanne::store::retention::{OrgPurge, Target};

/// Stands in for the calls table in this test's database only.
const PROBE: &[Target] = &[Target {
    table: "retention_probe",
    at_column: "ended_at",
    clear: &["transcript", "recording_url"],
}];

#[tokio::test]
async fn off_by_default_and_clears_call_content_when_set() {
    let app = TestApp::spawn().await;
    assert_eq!(retention::run_due(&app.state).await.unwrap(), Outcome::Off);
    let on = TestApp::spawn_with(Options {
        extra: vec![("VOXANNE_RETENTION_DAYS", "30".into())],
        ..Options::default()
    })
    .await;
    assert_eq!(
        retention::run_due(&on.state).await.unwrap(),
        Outcome::Purged(vec![])
    );
    // A real call: after 31 days what was said and the recording go; the outcome stays.
    let secret = on.vapi_secret(on.a.org_id);
    let body = support::calls::report(
        "old-call",
        "+14155550123",
        &[("User", "I'd like to book botox.")],
        120.0,
    );
    assert_eq!(on.webhook(&secret, &body).await.0, 200);
    on.clock.advance(Duration::days(31));
    assert_eq!(
        retention::run_due(&on.state).await.unwrap(),
        Outcome::Purged(vec![OrgPurge {
            org_id: on.a.org_id,
            rows: 1
        }])
    );
    let org = on.a.org_id;
    for column in ["transcript", "messages_json", "summary", "recording_url"] {
        assert_eq!(on.call_text(org, "old-call", column), None, "{column}");
    }
    assert_eq!(on.call_i64(org, "old-call", "value_cents"), Some(40_000));
    assert!(on.call_i64(org, "old-call", "lead_score").is_some());
}

#[tokio::test]
async fn a_pass_clears_what_crossed_the_line_by_the_clock_and_audits_it() {
    let app = TestApp::spawn().await;
    let now = app.state.clock.now().timestamp();
    let day = 86_400;
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    conn.execute_batch(
        "CREATE TABLE retention_probe (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL,
             ended_at INTEGER NOT NULL, transcript TEXT, recording_url TEXT);",
    )
    .unwrap();
    for (org, age_days) in [(app.a.org_id, 31), (app.a.org_id, 29), (app.b.org_id, 45)] {
        conn.execute(
            "INSERT INTO retention_probe (org_id, ended_at, transcript, recording_url)
             VALUES (?1, ?2, 'Caller: my card is 4111…', 'https://storage.vapi.ai/rec.wav')",
            (org, now - age_days * day),
        )
        .unwrap();
    }
    drop(conn);
    let pass = retention::purge(&app.state, 30, PROBE).await.unwrap();
    assert_eq!(
        pass,
        Outcome::Purged(vec![
            OrgPurge {
                org_id: app.a.org_id,
                rows: 1
            },
            OrgPurge {
                org_id: app.b.org_id,
                rows: 1
            }
        ])
    );
    let kept = app.query_i64(
        "SELECT COUNT(*) FROM retention_probe WHERE transcript IS NOT NULL",
        &[],
    );
    assert_eq!(kept, 1, "the 29-day-old call keeps its transcript");
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'retention.purged' AND actor = 'system:retention'",
            &[]
        ),
        2
    );
    // Two days later the remaining one has crossed the line too; nothing else is touched.
    app.clock.advance(Duration::days(2));
    assert_eq!(
        retention::purge(&app.state, 30, PROBE).await.unwrap(),
        Outcome::Purged(vec![OrgPurge {
            org_id: app.a.org_id,
            rows: 1
        }])
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM retention_probe WHERE recording_url IS NOT NULL",
            &[]
        ),
        0
    );
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM retention_probe", &[]),
        3,
        "rows stay"
    );
}
