//! Schema migrations, embedded in the binary and applied in order at start-up, each in its own
//! transaction and recorded in `schema_migrations`.

use crate::error::{AppError, AppResult};
use rusqlite::Connection;

/// `(version, sql)` in order. A test checks this list against the `migrations/` folder.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_foundation",
        include_str!("../../migrations/0001_foundation.sql"),
    ),
    (
        "0002_booking",
        include_str!("../../migrations/0002_booking.sql"),
    ),
    (
        "0003_messaging",
        include_str!("../../migrations/0003_messaging.sql"),
    ),
    (
        "0004_calls",
        include_str!("../../migrations/0004_calls.sql"),
    ),
    (
        "0005_appliance_status",
        include_str!("../../migrations/0005_appliance_status.sql"),
    ),
    (
        "0006_integrations",
        include_str!("../../migrations/0006_integrations.sql"),
    ),
    (
        "0007_appointments_live_span",
        include_str!("../../migrations/0007_appointments_live_span.sql"),
    ),
    (
        "0008_telephony",
        include_str!("../../migrations/0008_telephony.sql"),
    ),
    (
        "0009_calls_search",
        include_str!("../../migrations/0009_calls_search.sql"),
    ),
    (
        "0010_calendar_feeds",
        include_str!("../../migrations/0010_calendar_feeds.sql"),
    ),
    (
        "0011_call_rollups",
        include_str!("../../migrations/0011_call_rollups.sql"),
    ),
    (
        "0012_search_queue",
        include_str!("../../migrations/0012_search_queue.sql"),
    ),
    (
        "0013_one_vapi_assistant",
        include_str!("../../migrations/0013_one_vapi_assistant.sql"),
    ),
    (
        "0014_tool_replies_with_texts",
        include_str!("../../migrations/0014_tool_replies_with_texts.sql"),
    ),
    (
        "0015_api_token_access",
        include_str!("../../migrations/0015_api_token_access.sql"),
    ),
    (
        "0016_outbox_reconcile",
        include_str!("../../migrations/0016_outbox_reconcile.sql"),
    ),
    (
        "0017_vapi_hmac_plans",
        include_str!("../../migrations/0017_vapi_hmac_plans.sql"),
    ),
    (
        "0018_clinic_type",
        include_str!("../../migrations/0018_clinic_type.sql"),
    ),
    (
        "0019_email",
        include_str!("../../migrations/0019_email.sql"),
    ),
    (
        "0020_practitioners",
        include_str!("../../migrations/0020_practitioners.sql"),
    ),
    (
        "0021_calls_by_number",
        include_str!("../../migrations/0021_calls_by_number.sql"),
    ),
    (
        "0022_attention",
        include_str!("../../migrations/0022_attention.sql"),
    ),
    (
        "0023_password_resets",
        include_str!("../../migrations/0023_password_resets.sql"),
    ),
    (
        "0024_tool_results_call",
        include_str!("../../migrations/0024_tool_results_call.sql"),
    ),
];

pub fn apply(conn: &Connection) -> AppResult<usize> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    TEXT PRIMARY KEY,
             applied_at INTEGER NOT NULL
         );",
    )?;
    let mut applied = 0;
    for (version, sql) in MIGRATIONS {
        let done: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)",
            [version],
            |r| r.get(0),
        )?;
        if done {
            continue;
        }
        // Opened with SQL because `Connection::transaction` needs `&mut`; same semantics.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = conn.execute_batch(sql).and_then(|_| {
            conn.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, unixepoch())",
                [version],
            )
        });
        match result {
            Ok(_) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(AppError::internal(format!(
                    "migration {version} failed: {e}"
                )));
            }
        }
        applied += 1;
    }
    Ok(applied)
}

/// Versions applied to this database, in order.
pub fn applied_versions(conn: &Connection) -> AppResult<Vec<String>> {
    let mut stmt = conn.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// True when every embedded migration has been applied.
pub fn is_current(conn: &Connection) -> AppResult<bool> {
    let applied = applied_versions(conn)?;
    Ok(MIGRATIONS
        .iter()
        .all(|(v, _)| applied.iter().any(|a| a == v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_list_matches_folder() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .map(|n| n.trim_end_matches(".sql").to_string())
            .collect();
        files.sort();
        let embedded: Vec<String> = MIGRATIONS.iter().map(|(v, _)| v.to_string()).collect();
        assert_eq!(files, embedded, "migrations/ and MIGRATIONS disagree");
        for (v, sql) in MIGRATIONS {
            let on_disk = std::fs::read_to_string(format!("{dir}/{v}.sql")).unwrap();
            assert_eq!(&on_disk, sql, "{v} differs from its file");
        }
    }

    #[test]
    fn applies_once_and_every_tenant_table_is_scoped() {
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(apply(&conn).unwrap(), MIGRATIONS.len());
        assert_eq!(apply(&conn).unwrap(), 0);
        assert!(is_current(&conn).unwrap());
        // Every table with an org_id column declares it NOT NULL, except the audit log
        // (pre-authentication events have no org).
        let tables: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for table in tables {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT name, \"notnull\" FROM pragma_table_info('{table}')"
                ))
                .unwrap();
            let cols: Vec<(String, bool)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            if let Some((_, notnull)) = cols.iter().find(|(n, _)| n == "org_id") {
                assert!(
                    *notnull || table == "audit_log",
                    "{table}.org_id must be NOT NULL"
                );
            }
        }
    }
}
