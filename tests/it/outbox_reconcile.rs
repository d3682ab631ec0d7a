//! Texts left mid-send by a crash: each is looked up on Twilio after the restart before
//! anything is decided. One that Twilio accepted is recorded as sent with its SID and never
//! sent again; one that never reached Twilio is sent once; while Twilio cannot answer, the row
//! waits (nothing is sent) and is settled once Twilio answers, or given up after a day.

use crate::support;

use chrono::Duration;
use support::messaging::{ACCOUNT_SID, FROM};
use support::twilio_messages::Accepted;
use support::TestApp;
use voxanne::clock::Clock;

const PATIENT: &str = "+14155550123";
const BODY: &str =
    "Alpha Clinic: your Botox appointment is confirmed for Thursday, August 20 at 3:00 PM.";
const LIST: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

async fn spawn() -> TestApp {
    let app = TestApp::spawn().await;
    app.set_twilio(app.a.org_id);
    app
}

/// A confirmation text claimed for sending at the current time, as if the process then died
/// before Twilio's answer was recorded. Returns its outbox id.
fn left_mid_send(app: &TestApp) -> i64 {
    let now = app.clock.now().timestamp();
    let db = rusqlite::Connection::open(app.config.db_path()).unwrap();
    db.execute(
        "INSERT INTO outbox (org_id, purpose, recipient, body, status, send_after, next_attempt_at,
                             claimed_at, reconcile_at, created_at, updated_at)
         VALUES (?1, 'confirmation', ?2, ?3, 'sending', ?4, ?4, ?4, ?4 + 300, ?4, ?4)",
        rusqlite::params![app.a.org_id, PATIENT, BODY, now],
    )
    .unwrap();
    db.last_insert_rowid()
}

/// Twilio accepted the text a second after the claim. Returns its SID.
fn twilio_accepted(app: &TestApp) -> String {
    let sid = "SM0000000000000000000000000000a001".to_string();
    app.twilio.messages.lock().unwrap().accepted.push(Accepted {
        account_sid: ACCOUNT_SID.into(),
        sid: sid.clone(),
        to: PATIENT.into(),
        from: FROM.into(),
        messaging_service_sid: None,
        body: BODY.into(),
        created: app.clock.now() + Duration::seconds(1),
    });
    sid
}

fn row(app: &TestApp, id: i64) -> (String, Option<String>, i64) {
    let db = rusqlite::Connection::open(app.config.db_path()).unwrap();
    db.query_row(
        "SELECT status, provider_sid, reconcile_tries FROM outbox WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .unwrap()
}

fn lookups(app: &TestApp) -> Vec<support::fake::Recorded> {
    app.twilio
        .requests_to(LIST)
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect()
}

#[tokio::test]
async fn a_text_twilio_accepted_before_the_crash_is_recorded_sent_not_sent_again() {
    let app = spawn().await;
    let id = left_mid_send(&app);
    let sid = twilio_accepted(&app);
    let app = app.restart().await;
    app.drain_outbox().await;

    assert!(app.texts().is_empty(), "sent again: {:?}", app.texts());
    assert_eq!(row(&app, id), ("sent".into(), Some(sid.clone()), 0));
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM messages WHERE outbox_id = ?1 AND provider_sid = ?2 AND direction = 'outbound'",
            &[&id, &sid]
        ),
        1
    );
    // The lookup asked for the patient's texts from the clinic's number since the claim's day.
    let asked = lookups(&app);
    assert_eq!(asked.len(), 1);
    let query: Vec<(String, String)> = serde_urlencoded::from_str(&asked[0].query).unwrap();
    for (k, v) in [("To", PATIENT), ("From", FROM), ("DateSent>", "2026-06-15")] {
        assert!(query.contains(&(k.into(), v.into())), "{query:?}");
    }
    // Later passes leave it alone.
    app.clock.advance(Duration::hours(1));
    app.drain_outbox().await;
    assert!(app.texts().is_empty());
    assert_eq!(lookups(&app).len(), 1);
}

#[tokio::test]
async fn a_text_that_never_reached_twilio_is_sent_exactly_once_after_the_restart() {
    let app = spawn().await;
    let id = left_mid_send(&app);
    let app = app.restart().await;
    app.drain_outbox().await;
    app.clock.advance(Duration::hours(1));
    app.drain_outbox().await;

    assert_eq!(app.texts(), vec![(PATIENT.to_string(), BODY.to_string())]);
    let (status, sid, _) = row(&app, id);
    assert_eq!(status, "sent");
    assert!(sid.is_some_and(|s| s.starts_with("SM")));
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM messages WHERE outbox_id = ?1 AND provider_sid IS NOT NULL",
            &[&id]
        ),
        1
    );
}

/// Runs the lookups until the row has failed one, whichever pass (ours or the background
/// job's) took it.
async fn until_a_lookup_failed(app: &TestApp, id: i64) {
    for _ in 0..200 {
        voxanne::service::outbox_reconcile::run_due(&app.state)
            .await
            .unwrap();
        if row(app, id).2 > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no lookup failed");
}

fn twilio_down(app: &TestApp, down: bool) {
    app.twilio.messages.lock().unwrap().list_outage = down.then(|| {
        (
            503,
            r#"{"code":20503,"message":"Service Unavailable","more_info":"https://www.twilio.com/docs/errors/20503","status":503}"#
                .to_string(),
        )
    });
}

#[tokio::test]
async fn while_twilio_cannot_answer_nothing_is_sent_then_the_row_is_settled() {
    let app = spawn().await;
    let id = left_mid_send(&app);
    twilio_accepted(&app);
    twilio_down(&app, true);
    let app = app.restart().await;
    until_a_lookup_failed(&app, id).await;
    voxanne::service::messaging::run_due(&app.state)
        .await
        .unwrap();

    assert!(app.texts().is_empty());
    assert_eq!(row(&app, id).0, "sending", "still waiting for a lookup");
    // Twilio answers again: the next lookup (30 s later) finds the text.
    twilio_down(&app, false);
    app.clock.advance(Duration::seconds(31));
    app.drain_outbox().await;
    assert!(app.texts().is_empty());
    let (status, sid, _) = row(&app, id);
    assert_eq!(status, "sent");
    assert_eq!(sid.as_deref(), Some("SM0000000000000000000000000000a001"));
}

#[tokio::test]
async fn a_text_twilio_never_answers_for_is_given_up_after_a_day_and_audited() {
    let app = spawn().await;
    let id = left_mid_send(&app);
    twilio_down(&app, true);
    let app = app.restart().await;
    until_a_lookup_failed(&app, id).await;
    app.clock.advance(Duration::hours(25));
    app.drain_outbox().await;

    assert!(app.texts().is_empty());
    assert_eq!(row(&app, id).0, "interrupted");
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'sms.interrupted' AND object = ?1",
            &[&format!("outbox:{id}")]
        ),
        1
    );
}
