//! Caller verification codes for holds. Only an argon2 hash of each code is kept. A hold whose
//! code was guessed wrong three times is locked: it can no longer be verified or booked.

use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// The newest code sent for a hold.
#[derive(Debug, Clone)]
pub struct Code {
    pub id: i64,
    pub phone: String,
    pub code_hash: String,
    pub expires_at: i64,
    pub wrong_attempts: i64,
    pub used_at: Option<i64>,
}

/// Codes sent to `phone` since `since` (at most three an hour).
pub fn sent_since(conn: &Connection, scope: &OrgScope, phone: &str, since: i64) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM verification_codes WHERE org_id = ?1 AND phone = ?2 AND created_at >= ?3",
        params![scope.org_id(), phone, since],
        |r| r.get(0),
    )?)
}

pub fn create(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    appointment_id: i64,
    phone: &str,
    code_hash: &str,
    expires_at: i64,
    now: i64,
) -> AppResult<i64> {
    tx.execute(
        "INSERT INTO verification_codes (org_id, appointment_id, phone, code_hash, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![scope.org_id(), appointment_id, phone, code_hash, expires_at, now],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn latest_for_hold(
    conn: &Connection,
    scope: &OrgScope,
    appointment_id: i64,
) -> AppResult<Option<Code>> {
    Ok(conn
        .query_row(
            "SELECT id, phone, code_hash, expires_at, wrong_attempts, used_at FROM verification_codes
             WHERE org_id = ?1 AND appointment_id = ?2 ORDER BY id DESC LIMIT 1",
            params![scope.org_id(), appointment_id],
            |r| {
                Ok(Code {
                    id: r.get(0)?,
                    phone: r.get(1)?,
                    code_hash: r.get(2)?,
                    expires_at: r.get(3)?,
                    wrong_attempts: r.get(4)?,
                    used_at: r.get(5)?,
                })
            },
        )
        .optional()?)
}

/// Counts a wrong guess against the hold's codes; the third locks the hold. Returns the
/// number of wrong guesses so far.
pub fn record_wrong(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    code_id: i64,
    appointment_id: i64,
    now: i64,
) -> AppResult<i64> {
    tx.execute(
        "UPDATE verification_codes SET wrong_attempts = wrong_attempts + 1
         WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), code_id],
    )?;
    let wrong: i64 = tx.query_row(
        "SELECT COALESCE(SUM(wrong_attempts), 0) FROM verification_codes
         WHERE org_id = ?1 AND appointment_id = ?2",
        params![scope.org_id(), appointment_id],
        |r| r.get(0),
    )?;
    if wrong >= MAX_WRONG {
        tx.execute(
            "UPDATE appointments SET verify_locked_at = COALESCE(verify_locked_at, ?3), updated_at = ?3
             WHERE org_id = ?1 AND id = ?2",
            params![scope.org_id(), appointment_id, now],
        )?;
    }
    Ok(wrong)
}

/// Wrong guesses that lock a hold.
pub const MAX_WRONG: i64 = 3;

/// Marks the code used and the hold verified.
pub fn accept(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    code_id: i64,
    appointment_id: i64,
    now: i64,
) -> AppResult<()> {
    tx.execute(
        "UPDATE verification_codes SET used_at = ?3 WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), code_id, now],
    )?;
    tx.execute(
        "UPDATE appointments SET verified_at = ?3, updated_at = ?3 WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), appointment_id, now],
    )?;
    Ok(())
}

/// Whether wrong guesses have locked the hold.
pub fn hold_locked(conn: &Connection, scope: &OrgScope, appointment_id: i64) -> AppResult<bool> {
    Ok(conn
        .query_row(
            "SELECT verify_locked_at IS NOT NULL FROM appointments WHERE org_id = ?1 AND id = ?2",
            params![scope.org_id(), appointment_id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false))
}
