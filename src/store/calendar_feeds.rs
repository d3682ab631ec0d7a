//! Calendar subscription feeds: a private, revocable iCalendar URL per calendar (provider).
//! Only the SHA-256 of the URL's token is stored; a calendar has at most one live feed, so a
//! new one replaces (revokes) the previous.

use super::OrgScope;
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

#[derive(Debug, Clone)]
pub struct Feed {
    pub id: i64,
    pub provider_id: i64,
    pub provider_name: String,
    pub created_at: i64,
    pub created_by: String,
    pub revoked_at: Option<i64>,
}

/// Creates the calendar's feed, revoking any live one first. NotFound for another org's calendar.
pub fn create(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    provider_id: i64,
    token_hash: &str,
    staff_id: i64,
    now: i64,
) -> AppResult<i64> {
    let known: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM providers WHERE org_id = ?1 AND id = ?2)",
        params![scope.org_id(), provider_id],
        |r| r.get(0),
    )?;
    if !known {
        return Err(AppError::NotFound);
    }
    tx.execute(
        "UPDATE calendar_feeds SET revoked_at = ?3
         WHERE org_id = ?1 AND provider_id = ?2 AND revoked_at IS NULL",
        params![scope.org_id(), provider_id, now],
    )?;
    tx.execute(
        "INSERT INTO calendar_feeds (org_id, provider_id, token_hash, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![scope.org_id(), provider_id, token_hash, staff_id, now],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Revokes one of the org's feeds (revoking twice keeps the first time). NotFound otherwise.
pub fn revoke(tx: &Transaction<'_>, scope: &OrgScope, id: i64, now: i64) -> AppResult<()> {
    let changed = tx.execute(
        "UPDATE calendar_feeds SET revoked_at = COALESCE(revoked_at, ?3)
         WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, now],
    )?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// The org's feeds with their calendar's name and creator, live first, newest first.
pub fn list(conn: &Connection, scope: &OrgScope) -> AppResult<Vec<Feed>> {
    let mut stmt = conn.prepare(
        "SELECT f.id, f.provider_id, p.name, f.created_at, s.name, f.revoked_at
         FROM calendar_feeds f
         JOIN providers p ON p.id = f.provider_id AND p.org_id = f.org_id
         JOIN staff s ON s.id = f.created_by
         WHERE f.org_id = ?1
         ORDER BY f.revoked_at IS NOT NULL, f.created_at DESC, f.id DESC
         LIMIT 50",
    )?;
    let rows = stmt.query_map([scope.org_id()], |r| {
        Ok(Feed {
            id: r.get(0)?,
            provider_id: r.get(1)?,
            provider_name: r.get(2)?,
            created_at: r.get(3)?,
            created_by: r.get(4)?,
            revoked_at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Authentication: the org and calendar of the live feed with this token hash, if any.
pub fn authenticate(conn: &Connection, token_hash: &str) -> AppResult<Option<(OrgScope, i64)>> {
    Ok(conn
        .query_row(
            "SELECT org_id, provider_id FROM calendar_feeds
             WHERE token_hash = ?1 AND revoked_at IS NULL",
            [token_hash],
            |r| Ok((OrgScope::mint(r.get(0)?), r.get(1)?)),
        )
        .optional()?)
}
