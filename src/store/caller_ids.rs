//! The clinic's own numbers and their caller-ID verification with Twilio (one row per org and
//! number), plus the log of verification starts that the hourly limit counts. The validation
//! code is never stored, only its argon2 hash.

use super::OrgScope;
use crate::domain::telephony::{self, CallerIdStatus};
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

#[derive(Debug, Clone)]
pub struct CallerId {
    pub id: i64,
    pub phone_number: String,
    pub friendly_name: String,
    /// As stored; see [`CallerId::status_at`] for what it means now.
    pub status: CallerIdStatus,
    pub validation_call_sid: Option<String>,
    pub outgoing_caller_id_sid: Option<String>,
    pub code_hash: Option<String>,
    pub attempts: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub verified_at: Option<i64>,
    pub updated_at: i64,
}

impl CallerId {
    pub fn status_at(&self, now: i64) -> CallerIdStatus {
        telephony::status_at(self.status, self.expires_at, now)
    }
}

const COLUMNS: &str = "id, phone_number, friendly_name, status, validation_call_sid,
    outgoing_caller_id_sid, code_hash, attempts, created_at, expires_at, verified_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<CallerId> {
    let status: String = r.get(3)?;
    Ok(CallerId {
        id: r.get(0)?,
        phone_number: r.get(1)?,
        friendly_name: r.get(2)?,
        // The CHECK constraint allows only the four values.
        status: CallerIdStatus::parse(&status).unwrap_or(CallerIdStatus::Failed),
        validation_call_sid: r.get(4)?,
        outgoing_caller_id_sid: r.get(5)?,
        code_hash: r.get(6)?,
        attempts: r.get(7)?,
        created_at: r.get(8)?,
        expires_at: r.get(9)?,
        verified_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

/// When verifications of `phone` were started within the last hour.
pub fn recent_starts(
    conn: &Connection,
    scope: &OrgScope,
    phone: &str,
    now: i64,
) -> AppResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT started_at FROM caller_id_starts
         WHERE org_id = ?1 AND phone_number = ?2 AND started_at > ?3",
    )?;
    let rows = stmt.query_map(
        params![scope.org_id(), phone, now - telephony::START_WINDOW_SECS],
        |r| r.get(0),
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What a started verification records.
pub struct Started<'a> {
    pub phone_number: &'a str,
    pub friendly_name: &'a str,
    pub call_sid: Option<&'a str>,
    pub code_hash: &'a str,
}

/// Counts a verification start for the hourly limit, before Twilio is asked; returns its id
/// so a start Twilio refused can be taken back with [`release_start`].
pub fn reserve_start(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    phone: &str,
    now: i64,
) -> AppResult<i64> {
    tx.execute(
        "INSERT INTO caller_id_starts (org_id, phone_number, started_at) VALUES (?1, ?2, ?3)",
        params![scope.org_id(), phone, now],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Takes back a start that never made Twilio call.
pub fn release_start(tx: &Transaction<'_>, scope: &OrgScope, start_id: i64) -> AppResult<()> {
    tx.execute(
        "DELETE FROM caller_id_starts WHERE org_id = ?1 AND rowid = ?2",
        params![scope.org_id(), start_id],
    )?;
    Ok(())
}

/// Records a verification Twilio started: the number's row becomes pending (created, or reset
/// from whatever it was).
pub fn start(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    s: &Started<'_>,
    now: i64,
) -> AppResult<CallerId> {
    let expires = now + telephony::VERIFICATION_TTL_SECS;
    tx.execute(
        "INSERT INTO caller_ids (org_id, phone_number, friendly_name, status, validation_call_sid,
                                 code_hash, attempts, created_at, expires_at, updated_at)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?5, 1, ?6, ?7, ?6)
         ON CONFLICT (org_id, phone_number) DO UPDATE SET
             friendly_name = ?3, status = 'pending', validation_call_sid = ?4, code_hash = ?5,
             outgoing_caller_id_sid = NULL, verified_at = NULL, attempts = attempts + 1,
             expires_at = ?7, updated_at = ?6",
        params![
            scope.org_id(),
            s.phone_number,
            s.friendly_name,
            s.call_sid,
            s.code_hash,
            now,
            expires
        ],
    )?;
    find_by_number(tx, scope, s.phone_number)?
        .ok_or_else(|| AppError::internal("caller id vanished after its start"))
}

/// Records a number Twilio already lists as verified on the account (no call was needed).
pub fn record_verified(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    phone: &str,
    friendly_name: &str,
    outgoing_sid: Option<&str>,
    now: i64,
) -> AppResult<CallerId> {
    tx.execute(
        "INSERT INTO caller_ids (org_id, phone_number, friendly_name, status,
                                 outgoing_caller_id_sid, created_at, expires_at, verified_at, updated_at)
         VALUES (?1, ?2, ?3, 'verified', ?4, ?5, ?5, ?5, ?5)
         ON CONFLICT (org_id, phone_number) DO UPDATE SET
             status = 'verified', outgoing_caller_id_sid = ?4, code_hash = NULL,
             verified_at = ?5, updated_at = ?5",
        params![scope.org_id(), phone, friendly_name, outgoing_sid, now],
    )?;
    find_by_number(tx, scope, phone)?
        .ok_or_else(|| AppError::internal("caller id vanished after it was verified"))
}

/// Whether another clinic on this appliance has `phone` verified. A number forwards calls for
/// one clinic only; the answer says nothing else about the other clinic.
pub fn verified_by_another_org(
    conn: &Connection,
    scope: &OrgScope,
    phone: &str,
) -> AppResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM caller_ids
                        WHERE phone_number = ?2 AND org_id != ?1 AND status = 'verified')",
        params![scope.org_id(), phone],
        |r| r.get(0),
    )?)
}

/// The refusal when another clinic has the number: [`verified_by_another_org`] as an error.
pub fn refuse_if_verified_elsewhere(
    conn: &Connection,
    scope: &OrgScope,
    phone: &str,
) -> AppResult<()> {
    if verified_by_another_org(conn, scope, phone)? {
        return Err(AppError::Conflict(format!(
            "{phone} is already verified by another clinic on this appliance. A number can forward calls for one clinic only."
        )));
    }
    Ok(())
}

pub fn get(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<CallerId> {
    Ok(conn.query_row(
        &format!("SELECT {COLUMNS} FROM caller_ids WHERE org_id = ?1 AND id = ?2"),
        params![scope.org_id(), id],
        from_row,
    )?)
}

pub fn find_by_number(
    conn: &Connection,
    scope: &OrgScope,
    phone: &str,
) -> AppResult<Option<CallerId>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM caller_ids WHERE org_id = ?1 AND phone_number = ?2"),
            params![scope.org_id(), phone],
            from_row,
        )
        .optional()?)
}

/// The number whose verification call is `call_sid`.
pub fn find_by_call(
    conn: &Connection,
    scope: &OrgScope,
    call_sid: &str,
) -> AppResult<Option<CallerId>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM caller_ids WHERE org_id = ?1 AND validation_call_sid = ?2"
            ),
            params![scope.org_id(), call_sid],
            from_row,
        )
        .optional()?)
}

/// The org's numbers, newest first.
pub fn list(conn: &Connection, scope: &OrgScope) -> AppResult<Vec<CallerId>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM caller_ids WHERE org_id = ?1 ORDER BY created_at DESC, id DESC"
    ))?;
    let rows = stmt.query_map([scope.org_id()], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Twilio confirmed the number. A late success still counts after the ten minutes: Twilio did
/// verify it. Returns whether anything changed.
pub fn mark_verified(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    outgoing_sid: Option<&str>,
    now: i64,
) -> AppResult<bool> {
    Ok(tx.execute(
        "UPDATE caller_ids SET status = 'verified', verified_at = ?4, updated_at = ?4,
             outgoing_caller_id_sid = COALESCE(?3, outgoing_caller_id_sid)
         WHERE org_id = ?1 AND id = ?2 AND status != 'verified'",
        params![scope.org_id(), id, outgoing_sid, now],
    )? > 0)
}

/// Twilio's call ended without the code (wrong digits, no answer, hang-up). Only a pending
/// verification can fail.
pub fn mark_failed(tx: &Transaction<'_>, scope: &OrgScope, id: i64, now: i64) -> AppResult<bool> {
    Ok(tx.execute(
        "UPDATE caller_ids SET status = 'failed', updated_at = ?3
         WHERE org_id = ?1 AND id = ?2 AND status = 'pending'",
        params![scope.org_id(), id, now],
    )? > 0)
}

/// Removes the number and its forwarding set-ups; returns how many set-ups went with it.
pub fn remove(tx: &Transaction<'_>, scope: &OrgScope, id: i64) -> AppResult<usize> {
    let configs = tx.execute(
        "DELETE FROM forwarding_configs WHERE org_id = ?1 AND caller_id = ?2",
        params![scope.org_id(), id],
    )?;
    let removed = tx.execute(
        "DELETE FROM caller_ids WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id],
    )?;
    if removed == 0 {
        return Err(AppError::NotFound);
    }
    Ok(configs)
}

/// What one clean-up pass did, across every org.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CleanUp {
    pub expired: usize,
    pub deleted: usize,
}

/// System-wide housekeeping (no org scope: it runs for every clinic): pending verifications
/// past their ten minutes become expired; failed and expired ones untouched for a day are
/// deleted unless a forwarding set-up still refers to them; starts older than the hourly
/// window are dropped.
pub fn clean_up_system(tx: &Transaction<'_>, now: i64) -> AppResult<CleanUp> {
    let expired = tx.execute(
        "UPDATE caller_ids SET status = 'expired', updated_at = ?1
         WHERE status = 'pending' AND expires_at <= ?1",
        [now],
    )?;
    let deleted = tx.execute(
        "DELETE FROM caller_ids
         WHERE status IN ('failed', 'expired') AND updated_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM forwarding_configs f
                           WHERE f.org_id = caller_ids.org_id AND f.caller_id = caller_ids.id)",
        [now - telephony::FAILED_KEPT_SECS],
    )?;
    tx.execute(
        "DELETE FROM caller_id_starts WHERE started_at <= ?1",
        [now - telephony::START_WINDOW_SECS],
    )?;
    Ok(CleanUp { expired, deleted })
}
