//! Retention: clearing call content (transcripts, recording links) older than the configured
//! number of days, in every clinic, with one audit row per clinic that lost something. The
//! rows themselves stay (the call happened, its outcome and value still count); only the
//! content columns are set to NULL.
//!
//! What is cleared is a list of [`Target`]s ([`CALL_CONTENT`]), so the rule lives in one
//! place; in a database without those tables retention reports itself as not available.

use super::audit::{self, Actor, Event};
use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Transaction};

/// Columns of one table to clear once a row is older than the cut-off.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub table: &'static str,
    /// Unix seconds the row's age is measured from (the call's end).
    pub at_column: &'static str,
    /// Set to NULL, so they must be nullable.
    pub clear: &'static [&'static str],
}

/// Everything retention clears: what was said on a call (transcript, messages, summary,
/// structured data) and where it was recorded, measured from when the call happened; and the
/// body of a kept call event that was never processed, from when it arrived.
pub const CALL_CONTENT: &[Target] = &[
    Target {
        table: "calls",
        at_column: "occurred_at",
        clear: &[
            "transcript",
            "messages_json",
            "summary",
            "structured_data_json",
            "recording_url",
            "stereo_recording_url",
        ],
    },
    Target {
        table: "call_events",
        at_column: "received_at",
        clear: &["body"],
    },
];

/// What one clinic lost in a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgPurge {
    pub org_id: i64,
    pub rows: usize,
}

/// Clears content older than `cutoff` (unix seconds) in every clinic. `None` when none of the
/// target tables exists in this database.
pub fn purge_system(
    tx: &Transaction<'_>,
    targets: &[Target],
    cutoff: i64,
    days: u32,
    now: i64,
) -> AppResult<Option<Vec<OrgPurge>>> {
    let mut present = Vec::new();
    for t in targets {
        if super::appliance::table_exists(tx, t.table)? {
            present.push(*t);
        }
    }
    if present.is_empty() {
        return Ok(None);
    }
    // Cleared call text must leave the search index's pages too.
    if super::appliance::table_exists(tx, "calls_fts")? {
        super::search_index::securely(tx, || purge_orgs(tx, &present, cutoff, days, now))
    } else {
        purge_orgs(tx, &present, cutoff, days, now)
    }
    .map(Some)
}

fn purge_orgs(
    tx: &Transaction<'_>,
    present: &[Target],
    cutoff: i64,
    days: u32,
    now: i64,
) -> AppResult<Vec<OrgPurge>> {
    let mut out = Vec::new();
    for scope in every_org_system(tx)? {
        let mut rows = 0;
        let mut detail = Vec::new();
        for t in present {
            let n = tx.execute(&update_sql(t), params![scope.org_id(), cutoff])?;
            if n > 0 {
                detail.push(format!("{} {}", n, t.table));
            }
            rows += n;
        }
        if rows == 0 {
            continue;
        }
        audit::record(
            tx,
            &scope,
            &Event {
                actor: &Actor::System("retention"),
                action: "retention.purged",
                object: &format!("org:{}", scope.org_id()),
                detail: &format!(
                    "cleared content of {} older than {days} days",
                    detail.join(", ")
                ),
                ip: None,
                at: now,
            },
        )?;
        out.push(OrgPurge {
            org_id: scope.org_id(),
            rows,
        });
    }
    Ok(out)
}

/// Names come from the compile-time target list, never from input.
fn update_sql(t: &Target) -> String {
    let sets: Vec<String> = t.clear.iter().map(|c| format!("{c} = NULL")).collect();
    let any: Vec<String> = t.clear.iter().map(|c| format!("{c} IS NOT NULL")).collect();
    format!(
        "UPDATE {} SET {} WHERE org_id = ?1 AND {} < ?2 AND ({})",
        t.table,
        sets.join(", "),
        t.at_column,
        any.join(" OR ")
    )
}

/// Cross-org work: one scope per clinic, for this job only.
fn every_org_system(tx: &Transaction<'_>) -> AppResult<Vec<OrgScope>> {
    let mut stmt = tx.prepare("SELECT id FROM orgs ORDER BY id")?;
    let ids = stmt.query_map([], |r| r.get::<_, i64>(0))?;
    Ok(ids
        .map(|id| id.map(OrgScope::mint))
        .collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    const NOTES: &[Target] = &[Target {
        table: "retention_probe",
        at_column: "ended_at",
        clear: &["transcript", "recording_url"],
    }];

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::store::migrate::apply(&conn).unwrap();
        conn.execute_batch(
            "INSERT INTO orgs (name, timezone, hours_json, created_at)
                 VALUES ('A', 'UTC', '{}', 0), ('B', 'UTC', '{}', 0);",
        )
        .unwrap();
        conn
    }

    #[test]
    fn not_available_without_the_tables() {
        let mut conn = db();
        let tx = conn.transaction().unwrap();
        assert_eq!(purge_system(&tx, NOTES, 100, 30, 200).unwrap(), None);
        // The calls tables exist (migration 0004): nothing old enough, nothing purged.
        assert_eq!(
            purge_system(&tx, CALL_CONTENT, 100, 30, 200).unwrap(),
            Some(vec![])
        );
    }

    #[test]
    fn clears_old_content_per_clinic_and_audits() {
        let mut conn = db();
        conn.execute_batch(
            "CREATE TABLE retention_probe (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL,
                 ended_at INTEGER NOT NULL, transcript TEXT, recording_url TEXT);
             INSERT INTO retention_probe (org_id, ended_at, transcript, recording_url) VALUES
                 (1, 50, 'old a', 'https://r/1'), (1, 150, 'new a', 'https://r/2'),
                 (2, 60, 'old b', NULL), (2, 70, NULL, NULL);",
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        let purged = purge_system(&tx, NOTES, 100, 30, 200).unwrap().unwrap();
        assert_eq!(
            purged,
            vec![
                OrgPurge { org_id: 1, rows: 1 },
                OrgPurge { org_id: 2, rows: 1 }
            ]
        );
        // A second pass finds nothing left to clear and writes no audit rows.
        assert_eq!(
            purge_system(&tx, NOTES, 100, 30, 200).unwrap(),
            Some(vec![])
        );
        tx.commit().unwrap();
        let left: Vec<(i64, Option<String>)> = conn
            .prepare("SELECT id, transcript FROM retention_probe ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(left[0], (1, None));
        assert_eq!(left[1], (2, Some("new a".into())));
        assert_eq!(left[2], (3, None));
        let audits: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'retention.purged'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(audits, 2);
    }
}
