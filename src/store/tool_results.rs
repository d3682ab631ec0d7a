//! Stored replies to Vapi tool calls, keyed by the LLM's tool-call id, so a retried or
//! duplicated call acts once and gets the identical reply. Kept for 7 days.

use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

pub const KEEP_SECS: i64 = 7 * 24 * 3600;

/// A stored reply: whether it was an error, the sentence, and the data as JSON text.
pub type StoredReply = (bool, String, String);

pub fn get(
    conn: &Connection,
    scope: &OrgScope,
    tool_call_id: &str,
) -> AppResult<Option<StoredReply>> {
    Ok(conn
        .prepare_cached(
            "SELECT is_error, sentence, data_json FROM tool_results WHERE org_id = ?1 AND tool_call_id = ?2",
        )?
        .query_row(params![scope.org_id(), tool_call_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?)
}

pub fn put(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    tool_call_id: &str,
    name: &str,
    reply: &StoredReply,
    now: i64,
) -> AppResult<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO tool_results (org_id, tool_call_id, name, is_error, sentence, data_json, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![scope.org_id(), tool_call_id, name, reply.0, reply.1, reply.2, now])?;
    Ok(())
}

/// Housekeeping across orgs.
pub fn purge_old_system(tx: &Transaction<'_>, now: i64) -> AppResult<usize> {
    Ok(tx.execute(
        "DELETE FROM tool_results WHERE created_at < ?1",
        [now - KEEP_SECS],
    )?)
}
