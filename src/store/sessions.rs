//! Staff sessions: opaque random tokens, stored only as SHA-256 hashes, with an idle and an
//! absolute lifetime. Deleting the row ends the session server-side.

use super::staff::{self, Staff};
use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub session_id: i64,
    pub scope: OrgScope,
    pub staff: Staff,
    pub csrf_token: String,
    pub last_seen_at: i64,
}

/// How long sessions live, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: i64,
    pub absolute: i64,
}

pub fn create(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    staff_id: i64,
    token_hash: &str,
    csrf_token: &str,
    now: i64,
    ip: Option<&str>,
) -> AppResult<i64> {
    tx.execute(
        "INSERT INTO sessions (org_id, staff_id, token_hash, csrf_token, created_at, last_seen_at, ip)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
        params![scope.org_id(), staff_id, token_hash, csrf_token, now, ip],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Authentication: the session for a token hash, if it is alive and its account enabled.
/// Expired sessions are reported as absent; the caller deletes them.
pub fn authenticate(
    conn: &Connection,
    token_hash: &str,
    now: i64,
    lifetimes: Lifetimes,
) -> AppResult<Option<SessionInfo>> {
    let row = conn
        .query_row(
            "SELECT id, org_id, staff_id, csrf_token, created_at, last_seen_at
             FROM sessions WHERE token_hash = ?1",
            [token_hash],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((session_id, org_id, staff_id, csrf_token, created_at, last_seen_at)) = row else {
        return Ok(None);
    };
    if now - last_seen_at > lifetimes.idle || now - created_at > lifetimes.absolute {
        return Ok(None);
    }
    let scope = OrgScope::mint(org_id);
    let staff = match staff::get(conn, &scope, staff_id) {
        Ok(s) if !s.disabled => s,
        _ => return Ok(None),
    };
    Ok(Some(SessionInfo {
        session_id,
        scope,
        staff,
        csrf_token,
        last_seen_at,
    }))
}

pub fn touch(tx: &Transaction<'_>, scope: &OrgScope, session_id: i64, now: i64) -> AppResult<()> {
    tx.execute(
        "UPDATE sessions SET last_seen_at = ?3 WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), session_id, now],
    )?;
    Ok(())
}

pub fn delete(tx: &Transaction<'_>, scope: &OrgScope, session_id: i64) -> AppResult<()> {
    tx.execute(
        "DELETE FROM sessions WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), session_id],
    )?;
    Ok(())
}

pub fn delete_by_token_hash(tx: &Transaction<'_>, token_hash: &str) -> AppResult<()> {
    tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

pub fn delete_for_staff(tx: &Transaction<'_>, scope: &OrgScope, staff_id: i64) -> AppResult<usize> {
    Ok(tx.execute(
        "DELETE FROM sessions WHERE org_id = ?1 AND staff_id = ?2",
        params![scope.org_id(), staff_id],
    )?)
}

/// Housekeeping across orgs: drops sessions past either lifetime.
pub fn purge_expired_system(
    tx: &Transaction<'_>,
    now: i64,
    lifetimes: Lifetimes,
) -> AppResult<usize> {
    Ok(tx.execute(
        "DELETE FROM sessions WHERE last_seen_at < ?1 OR created_at < ?2",
        params![now - lifetimes.idle, now - lifetimes.absolute],
    )?)
}
