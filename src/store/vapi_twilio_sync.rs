//! Where each org's Twilio set-up stands in Vapi: the ids of the credential (and imported
//! number) created there, and whether Vapi has the current credentials (`synced`) or not yet
//! (`pending`, with the reason shown beside a retry button).

use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct SyncState {
    pub import_number: bool,
    pub credential_id: Option<String>,
    pub phone_number_id: Option<String>,
    /// `pending` or `synced`.
    pub status: String,
    pub detail: Option<String>,
    pub attempts: i64,
    pub attempted_at: Option<i64>,
    pub synced_at: Option<i64>,
}

impl SyncState {
    pub fn is_synced(&self) -> bool {
        self.status == "synced"
    }
}

pub fn get(conn: &Connection, scope: &OrgScope) -> AppResult<Option<SyncState>> {
    Ok(conn
        .query_row(
            "SELECT import_number, credential_id, phone_number_id, status, detail, attempts,
                    attempted_at, synced_at
             FROM vapi_twilio_sync WHERE org_id = ?1",
            [scope.org_id()],
            |r| {
                Ok(SyncState {
                    import_number: r.get(0)?,
                    credential_id: r.get(1)?,
                    phone_number_id: r.get(2)?,
                    status: r.get(3)?,
                    detail: r.get(4)?,
                    attempts: r.get(5)?,
                    attempted_at: r.get(6)?,
                    synced_at: r.get(7)?,
                })
            },
        )
        .optional()?)
}

/// New credentials were saved: Vapi no longer has the current ones. The ids are kept, so the
/// next sync updates what it created before instead of creating it twice.
pub fn mark_pending(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    import_number: bool,
    now: i64,
) -> AppResult<()> {
    tx.execute(
        "INSERT INTO vapi_twilio_sync (org_id, import_number, status, detail, attempts, updated_at)
         VALUES (?1, ?2, 'pending', 'Not sent to Vapi yet.', 0, ?3)
         ON CONFLICT (org_id) DO UPDATE SET import_number = ?2, status = 'pending',
             detail = 'Not sent to Vapi yet.', attempts = 0, updated_at = ?3",
        params![scope.org_id(), import_number, now],
    )?;
    Ok(())
}

/// Vapi now has the credentials (and the number, when imported).
/// After the org's Vapi secret is rotated: an imported number carries the secret in its server
/// headers, so it is sent to Vapi again (due at once) before the old secret's 24 hours run out.
pub fn resend_after_rotation(tx: &Transaction<'_>, scope: &OrgScope, now: i64) -> AppResult<()> {
    tx.execute(
        "UPDATE vapi_twilio_sync SET status = 'pending',
             detail = 'The new secret is not in Vapi yet.', attempts = 0, attempted_at = NULL,
             updated_at = ?2
         WHERE org_id = ?1 AND import_number = 1",
        params![scope.org_id(), now],
    )?;
    Ok(())
}

pub fn record_synced(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    credential_id: &str,
    phone_number_id: Option<&str>,
    now: i64,
) -> AppResult<()> {
    tx.execute(
        "UPDATE vapi_twilio_sync SET credential_id = ?2,
             phone_number_id = COALESCE(?3, phone_number_id), status = 'synced', detail = NULL,
             attempts = attempts + 1, attempted_at = ?4, synced_at = ?4, updated_at = ?4
         WHERE org_id = ?1",
        params![scope.org_id(), credential_id, phone_number_id, now],
    )?;
    // The imported number is the one call-backs dial from, unless the owner chose another.
    if let Some(id) = phone_number_id {
        tx.execute(
            "UPDATE orgs SET vapi_phone_number_id = COALESCE(vapi_phone_number_id, ?2)
             WHERE id = ?1",
            params![scope.org_id(), id],
        )?;
    }
    Ok(())
}

/// A sync attempt that did not finish: the status stays pending with `detail`; whatever
/// Vapi already created (`credential_id`) is remembered so a retry updates it.
pub fn record_failed(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    credential_id: Option<&str>,
    detail: &str,
    now: i64,
) -> AppResult<()> {
    tx.execute(
        "UPDATE vapi_twilio_sync SET credential_id = COALESCE(?2, credential_id),
             status = 'pending', detail = ?3, attempts = attempts + 1, attempted_at = ?4,
             updated_at = ?4
         WHERE org_id = ?1",
        params![scope.org_id(), credential_id, detail, now],
    )?;
    Ok(())
}

/// For the retry job: orgs whose sync is pending and was last tried before `before` (or
/// never), across orgs.
pub fn pending_due_system(conn: &Connection, before: i64) -> AppResult<Vec<OrgScope>> {
    let ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT org_id FROM vapi_twilio_sync
             WHERE status = 'pending' AND COALESCE(attempted_at, 0) < ?1 ORDER BY org_id",
        )?
        .query_map([before], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids.into_iter().map(OrgScope::mint).collect())
}
