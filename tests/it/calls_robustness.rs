//! Call events that must not hurt: identity and card numbers never reach the database file or
//! its WAL, and a thousand mutated or truncated bodies cause no server error and no half-made
//! rows.

use crate::support;

use serde_json::{json, Value};
use support::calls::{fixture, legacy_fixture, report, with_call_id};
use support::TestApp;

/// The database file and its WAL, as bytes.
fn database_bytes(app: &TestApp) -> Vec<u8> {
    let db = app.config.db_path();
    let mut bytes = std::fs::read(&db).expect("db file");
    let wal = db.with_extension("db-wal");
    if let Ok(w) = std::fs::read(&wal) {
        bytes.extend(w);
    }
    bytes
}

/// Whether `digits` occur in `bytes` with any mix of spaces, dashes and dots between them.
fn contains_spaced(bytes: &[u8], digits: &str) -> bool {
    let want = digits.as_bytes();
    (0..bytes.len()).any(|start| {
        let mut i = start;
        for (k, d) in want.iter().enumerate() {
            if k > 0 {
                while i < bytes.len() && matches!(bytes[i], b' ' | b'-' | b'.') {
                    i += 1;
                }
            }
            if bytes.get(i) != Some(d) {
                return false;
            }
            i += 1;
        }
        true
    })
}

#[tokio::test]
async fn ssn_and_card_numbers_never_reach_the_database_or_wal() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let mut body = report(
        "pii-1",
        "+14155550123",
        &[
            ("AI", "How can I help?"),
            (
                "User",
                "My social is 123-45-6789 and my card is 4111 1111 1111 1111.",
            ),
            ("User", "Or try 4111-1111-1111-1111, or 4111111111111111."),
        ],
        90.0,
    );
    body["message"]["analysis"]["summary"] =
        json!("Caller gave SSN 123 45 6789 and card 4111 1111 1111 1111.");
    body["message"]["transcript"] =
        json!("User: my social is 123-45-6789, card 4111 1111 1111 1111");
    body["message"]["analysis"]["structuredData"] =
        json!({"ssn": "123-45-6789", "card": "4111-1111-1111-1111"});
    // Also a status update carrying the transcript so far, as a forwarding one does.
    let forwarding = json!({"message": {"type": "status-update", "status": "forwarding",
        "call": {"id": "pii-1"}, "transcript": "User: card 4111 1111 1111 1111",
        "destination": {"type": "number", "number": "+14155550199"}}});
    for b in [&forwarding, &body] {
        let (status, _) = app.webhook(&s, b).await;
        assert_eq!(status, 200);
    }
    // The test would see them if they were there: the numbers are in the request we sent.
    assert!(contains_spaced(body.to_string().as_bytes(), "123456789"));
    assert!(contains_spaced(
        body.to_string().as_bytes(),
        "4111111111111111"
    ));
    let transcript = app.call_text(app.a.org_id, "pii-1", "transcript").unwrap();
    assert!(transcript.contains("[redacted SSN]") && transcript.contains("[redacted card]"));
    let summary = app.call_text(app.a.org_id, "pii-1", "summary").unwrap();
    assert!(summary.contains("[redacted SSN]"), "{summary}");

    let live = database_bytes(&app);
    assert!(
        !contains_spaced(&live, "123456789"),
        "SSN in the database or WAL"
    );
    assert!(
        !contains_spaced(&live, "4111111111111111"),
        "card in the database or WAL"
    );
    let config = app.config.clone();
    let _dir = app.stop().await;
    let mut after = std::fs::read(config.db_path()).unwrap();
    if let Ok(w) = std::fs::read(config.db_path().with_extension("db-wal")) {
        after.extend(w);
    }
    assert!(!contains_spaced(&after, "123456789"));
    assert!(!contains_spaced(&after, "4111111111111111"));
}

/// xorshift64: the same mutations every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Replaces one value somewhere in the tree with a value of another kind.
fn swap_a_value(v: &mut Value, rng: &mut Rng) {
    let replacements = [
        json!(null),
        json!(""),
        json!(-1),
        json!(1e308),
        json!([]),
        json!({}),
        json!("2025-13-45T99:99:99Z"),
        json!(true),
        json!("x".repeat(300)),
    ];
    let mut node = v;
    loop {
        let children = match node {
            Value::Object(m) if !m.is_empty() => m.len(),
            Value::Array(a) if !a.is_empty() => a.len(),
            _ => break,
        };
        let pick = rng.below(children);
        if rng.below(3) == 0 {
            let new = replacements[rng.below(replacements.len())].clone();
            match node {
                Value::Object(m) => {
                    if let Some((_, slot)) = m.iter_mut().nth(pick) {
                        *slot = new;
                    }
                }
                Value::Array(a) => a[pick] = new,
                _ => {}
            }
            return;
        }
        node = match node {
            Value::Object(m) => match m.iter_mut().nth(pick) {
                Some((_, child)) => child,
                None => return,
            },
            Value::Array(a) => &mut a[pick],
            _ => return,
        };
    }
    *node = replacements[rng.below(replacements.len())].clone();
}

#[tokio::test]
async fn a_thousand_mutated_bodies_cause_no_server_error_and_no_half_rows() {
    let app = TestApp::spawn().await;
    let s = app.vapi_secret(app.a.org_id);
    let bases: Vec<Value> = vec![
        fixture("e3_status_in_progress"),
        fixture("e3_status_ended"),
        fixture("e4_end_of_call_report"),
        fixture("e6_transfer_destination_request"),
        fixture("e7_transfer_update"),
        legacy_fixture("e4_end_of_call_report"),
        json!({"message": {"type": "assistant-request", "call": {"id": "m-ar", "type": "inboundPhoneCall"},
               "customer": {"number": "+14155550123"}}}),
        json!({"message": {"type": "transfer-update", "call": {"id": "m-tu"},
               "destination": {"type": "sip", "sipUri": "sip:desk@clinic.example"}}}),
    ];
    let client = reqwest::Client::new();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for i in 0..1000 {
        let base = &bases[i % bases.len()];
        // Distinct call ids spread the mutations over many calls.
        let base = with_call_id(base.clone(), &format!("m-{}", rng.below(40)));
        let bytes = match rng.below(4) {
            0 => {
                let mut b = base.to_string().into_bytes();
                b.truncate(rng.below(b.len()));
                b
            }
            1 => {
                let mut b = base.to_string().into_bytes();
                let at = rng.below(b.len());
                b[at] = b"{}[]\":,0a\\ \x00\xff"[rng.below(13)];
                b
            }
            2 => {
                let mut v = base;
                for _ in 0..1 + rng.below(3) {
                    swap_a_value(&mut v, &mut rng);
                }
                v.to_string().into_bytes()
            }
            _ => {
                let mut b = base.to_string().into_bytes();
                let from = rng.below(b.len());
                let to = (from + rng.below(60)).min(b.len());
                b.drain(from..to);
                b
            }
        };
        let res = client
            .post(app.url("/api/vapi/webhook"))
            .header("x-vapi-secret", &s)
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        assert!(
            res.status().as_u16() < 500,
            "body {i} gave {}: {}",
            res.status(),
            String::from_utf8_lossy(&bytes)
        );
    }
    // No half-made rows: every kept event was processed, every call row names its call, and
    // every call with a report was scored.
    let q = |sql: &str| app.query_i64(sql, &[]);
    assert_eq!(
        q("SELECT COUNT(*) FROM call_events WHERE processed_at IS NULL"),
        0
    );
    assert_eq!(
        q("SELECT COUNT(*) FROM call_events WHERE body IS NOT NULL"),
        0
    );
    assert_eq!(
        q("SELECT COUNT(*) FROM calls WHERE vapi_call_id IS NULL OR vapi_call_id = ''"),
        0
    );
    assert_eq!(
        q("SELECT COUNT(*) FROM calls WHERE report_received_at IS NOT NULL AND (lead_score IS NULL OR lead_tier IS NULL OR score_json IS NULL)"),
        0
    );
    assert_eq!(
        q("SELECT COUNT(*) FROM calls c WHERE NOT EXISTS (SELECT 1 FROM call_events e WHERE e.call_id = c.vapi_call_id)"),
        0,
        "every call row comes from a kept event"
    );
    assert!(
        q("SELECT COUNT(*) FROM calls") > 10,
        "the mutations left many bodies usable"
    );
    assert_eq!(q("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
}
