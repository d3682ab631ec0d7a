//! Appliance-wide facts that span every clinic or belong to none: which clinic administers
//! the appliance, status rows (last webhook seen, last backup attempt) and the database's own
//! health. Used by diagnostics, backups and retention; none of it reads a tenant's rows.

use super::OrgScope;
use crate::error::AppResult;
use chrono_tz::Tz;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

/// Status row names.
pub const VAPI_WEBHOOK: &str = "vapi_webhook";
pub const TWILIO_WEBHOOK: &str = "twilio_webhook";
pub const BACKUP_ATTEMPT: &str = "backup";

/// The first clinic (the one that claimed the appliance at setup) administers the appliance:
/// its owners see whole-appliance pages (backups hold every clinic's data, diagnostics cover
/// every clinic), owners of further locations do not.
pub fn is_administering(conn: &Connection, scope: &OrgScope) -> AppResult<bool> {
    Ok(first_org(conn)?.is_some_and(|(id, _)| id == scope.org_id()))
}

/// The zone appliance-wide schedules are read in: the first clinic's, UTC before setup.
pub fn home_timezone(conn: &Connection) -> AppResult<Tz> {
    Ok(first_org(conn)?
        .and_then(|(_, tz)| tz.parse().ok())
        .unwrap_or(chrono_tz::UTC))
}

fn first_org(conn: &Connection) -> AppResult<Option<(i64, String)>> {
    Ok(conn
        .query_row(
            "SELECT id, timezone FROM orgs ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// The latest thing that happened under a name (overwritten each time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub at: i64,
    pub ok: bool,
    pub detail: String,
}

pub fn record_status(
    tx: &Transaction<'_>,
    name: &str,
    at: i64,
    ok: bool,
    detail: &str,
) -> AppResult<()> {
    tx.execute(
        "INSERT INTO appliance_status (name, at, ok, detail) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET at = excluded.at, ok = excluded.ok, detail = excluded.detail",
        params![name, at, ok, detail],
    )?;
    Ok(())
}

pub fn status(conn: &Connection, name: &str) -> AppResult<Option<Status>> {
    Ok(conn
        .query_row(
            "SELECT at, ok, detail FROM appliance_status WHERE name = ?1",
            [name],
            |r| {
                Ok(Status {
                    at: r.get(0)?,
                    ok: r.get(1)?,
                    detail: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// `PRAGMA quick_check` (the fast form of `integrity_check`): "ok", or the first problems.
pub fn quick_check(conn: &Connection) -> AppResult<String> {
    let mut stmt = conn.prepare("PRAGMA quick_check(5)")?;
    let lines: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(lines.join("; "))
}

pub fn sqlite_version(conn: &Connection) -> AppResult<String> {
    Ok(conn.query_row("SELECT sqlite_version()", [], |r| r.get(0))?)
}

pub fn table_exists(conn: &Connection, table: &str) -> AppResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [table],
        |r| r.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::store::migrate::apply(&conn).unwrap();
        conn
    }

    #[test]
    fn status_rows_overwrite() {
        let mut conn = db();
        let tx = conn.transaction().unwrap();
        record_status(&tx, VAPI_WEBHOOK, 10, false, "POST /api/vapi/tools → 401").unwrap();
        record_status(&tx, VAPI_WEBHOOK, 20, true, "POST /api/vapi/tools → 200").unwrap();
        tx.commit().unwrap();
        let s = status(&conn, VAPI_WEBHOOK).unwrap().unwrap();
        assert_eq!((s.at, s.ok), (20, true));
        assert_eq!(status(&conn, BACKUP_ATTEMPT).unwrap(), None);
    }

    #[test]
    fn database_health() {
        let conn = db();
        assert_eq!(quick_check(&conn).unwrap(), "ok");
        assert!(sqlite_version(&conn).unwrap().starts_with("3."));
    }

    #[test]
    fn home_zone_and_administering_clinic() {
        let conn = db();
        assert_eq!(home_timezone(&conn).unwrap(), chrono_tz::UTC);
        conn.execute_batch(
            "INSERT INTO orgs (name, timezone, hours_json, closures_json, buffer_minutes, slot_minutes,
                 min_notice_minutes, horizon_days, created_at)
             VALUES ('A', 'America/Denver', '{}', '[]', 0, 15, 0, 30, 0),
                    ('B', 'Europe/London', '{}', '[]', 0, 15, 0, 30, 0);",
        )
        .unwrap();
        assert_eq!(home_timezone(&conn).unwrap(), chrono_tz::America::Denver);
        assert!(is_administering(&conn, &OrgScope::mint(1)).unwrap());
        assert!(!is_administering(&conn, &OrgScope::mint(2)).unwrap());
    }
}
