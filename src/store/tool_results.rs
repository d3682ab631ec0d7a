//! Stored replies to Vapi tool calls, keyed by the LLM's tool-call id, so a retried or
//! duplicated call acts once and gets the same reply. Kept for 7 days.
//!
//! A reply that reports on a text it queued is stored with that text's outbox id and one
//! wording per [`SmsStatus`]; reading it back picks the wording that matches the text's state
//! at that moment, in the same read.

use super::outbox::SmsStatus;
use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::collections::BTreeMap;

pub const KEEP_SECS: i64 = 7 * 24 * 3600;

/// A stored reply: whether it was an error, the sentence, and the data as JSON text.
pub type StoredReply = (bool, String, String);

/// A reply whose wording depends on what becomes of the text `outbox_id`.
#[derive(Debug, Clone)]
pub struct OnText {
    pub outbox_id: i64,
    pub wordings: Vec<(SmsStatus, StoredReply)>,
}

impl OnText {
    /// The wording for `status` (every status has one; the first is the fallback).
    pub fn pick(&self, status: SmsStatus) -> StoredReply {
        self.wordings
            .iter()
            .find(|(s, _)| *s == status)
            .or(self.wordings.first())
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    }
}

/// The stored reply to `tool_call_id`, worded for its text's state now.
pub fn get(
    conn: &Connection,
    scope: &OrgScope,
    tool_call_id: &str,
) -> AppResult<Option<StoredReply>> {
    Ok(get_with_text(conn, scope, tool_call_id)?.map(|(reply, _)| reply))
}

/// [`get`], also telling whether the reply's text still awaits its first attempt (its
/// wording may change once that attempt is over).
pub fn get_with_text(
    conn: &Connection,
    scope: &OrgScope,
    tool_call_id: &str,
) -> AppResult<Option<(StoredReply, bool)>> {
    let row = conn
        .prepare_cached(
            "SELECT t.is_error, t.sentence, t.data_json, t.wordings_json, o.status, o.attempts
             FROM tool_results t
             LEFT JOIN outbox o ON o.org_id = t.org_id AND o.id = t.text_outbox_id
             WHERE t.org_id = ?1 AND t.tool_call_id = ?2",
        )?
        .query_row(params![scope.org_id(), tool_call_id], |r| {
            Ok((
                (r.get(0)?, r.get(1)?, r.get(2)?),
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<i64>>(5)?,
            ))
        })
        .optional()?;
    let Some((plain, wordings, status, attempts)) = row else {
        return Ok(None);
    };
    let Some(wordings) = wordings else {
        return Ok(Some((plain, false)));
    };
    let (status, awaiting) = match status {
        Some(s) => {
            let attempts = attempts.unwrap_or(0);
            (
                SmsStatus::now(&s, attempts),
                SmsStatus::settled(&s, attempts).is_none(),
            )
        }
        // The text's row is gone (purged): it was long since settled one way or the other.
        None => (SmsStatus::Queued, false),
    };
    let wordings: BTreeMap<String, StoredReply> =
        serde_json::from_str(&wordings).unwrap_or_default();
    Ok(Some((
        wordings.get(status.as_str()).cloned().unwrap_or(plain),
        awaiting,
    )))
}

/// Which tool call a reply answers: its id, the tool's name and the Vapi call it was made in.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    pub tool_call_id: &'a str,
    pub name: &'a str,
    pub vapi_call_id: Option<&'a str>,
}

pub fn put(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    key: &Key<'_>,
    reply: &StoredReply,
    now: i64,
) -> AppResult<()> {
    insert(tx, scope, key, reply, None, now)
}

/// Stores a reply that depends on a text: the `Queued` wording as the plain reply, and all.
pub fn put_on_text(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    key: &Key<'_>,
    reply: &OnText,
    now: i64,
) -> AppResult<()> {
    let plain = reply.pick(SmsStatus::Queued);
    insert(tx, scope, key, &plain, Some(reply), now)
}

/// One thing the assistant did during a call, as its reply was stored.
#[derive(Debug, Clone)]
pub struct Action {
    pub name: String,
    pub is_error: bool,
    pub sentence: String,
    pub data_json: String,
    pub at: i64,
}

/// What the assistant did during the call `vapi_call_id`, in order.
pub fn for_call(conn: &Connection, scope: &OrgScope, vapi_call_id: &str) -> AppResult<Vec<Action>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, is_error, sentence, data_json, created_at FROM tool_results
         WHERE org_id = ?1 AND vapi_call_id = ?2 ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map(params![scope.org_id(), vapi_call_id], |r| {
        Ok(Action {
            name: r.get(0)?,
            is_error: r.get(1)?,
            sentence: r.get(2)?,
            data_json: r.get(3)?,
            at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn insert(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    key: &Key<'_>,
    reply: &StoredReply,
    on_text: Option<&OnText>,
    now: i64,
) -> AppResult<()> {
    let (outbox_id, wordings) = match on_text {
        Some(t) => {
            let map: BTreeMap<&str, &StoredReply> =
                t.wordings.iter().map(|(s, r)| (s.as_str(), r)).collect();
            let json = serde_json::to_string(&map).map_err(|e| {
                crate::error::AppError::internal(format!("tool reply wordings: {e}"))
            })?;
            (Some(t.outbox_id), Some(json))
        }
        None => (None, None),
    };
    tx.prepare_cached(
        "INSERT OR IGNORE INTO tool_results (org_id, tool_call_id, name, is_error, sentence, data_json,
             created_at, text_outbox_id, wordings_json, vapi_call_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        scope.org_id(),
        key.tool_call_id,
        key.name,
        reply.0,
        reply.1,
        reply.2,
        now,
        outbox_id,
        wordings,
        key.vapi_call_id
    ])?;
    Ok(())
}

/// Housekeeping across orgs.
pub fn purge_old_system(tx: &Transaction<'_>, now: i64) -> AppResult<usize> {
    Ok(tx.execute(
        "DELETE FROM tool_results WHERE created_at < ?1",
        [now - KEEP_SECS],
    )?)
}
