//! The `messages` record: one row per attempt to send a text (whatever its outcome) and per
//! text received. It is what staff read in Messages and what Twilio's status callbacks update.

use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Connection, Transaction};
use serde::Serialize;

/// One attempt to send a text from the outbox.
pub struct Attempt<'a> {
    pub outbox_id: i64,
    pub contact_id: Option<i64>,
    pub appointment_id: Option<i64>,
    pub call_id: Option<&'a str>,
    pub purpose: &'a str,
    pub recipient: &'a str,
    pub sender: Option<&'a str>,
    /// As recorded: a verification code is masked.
    pub body: &'a str,
    pub segments: Option<i64>,
    /// Twilio's status (`queued`, `sent`, ...) or ours (`failed`, `retrying`, `skipped`,
    /// `refused`).
    pub status: &'a str,
    pub provider_sid: Option<&'a str>,
    pub error_code: Option<i64>,
    pub error_message: Option<&'a str>,
    pub attempt: i64,
}

pub fn record_attempt(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    a: &Attempt<'_>,
    now: i64,
) -> AppResult<i64> {
    tx.prepare_cached(
        "INSERT INTO messages (org_id, outbox_id, contact_id, appointment_id, call_id, direction,
                               purpose, recipient, sender, body, segments, status, provider_sid,
                               error_code, error_message, attempt, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'outbound', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)",
    )?
    .execute(params![
        scope.org_id(),
        a.outbox_id,
        a.contact_id,
        a.appointment_id,
        a.call_id,
        a.purpose,
        a.recipient,
        a.sender,
        a.body,
        a.segments,
        a.status,
        a.provider_sid,
        a.error_code,
        a.error_message,
        a.attempt,
        now
    ])?;
    Ok(tx.last_insert_rowid())
}

/// Texts handed to Twilio for `recipient` since `since` (the hourly cap counts these).
pub fn accepted_since(
    conn: &Connection,
    scope: &OrgScope,
    recipient: &str,
    since: i64,
) -> AppResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM messages
             WHERE org_id = ?1 AND recipient = ?2 AND created_at >= ?3
               AND direction = 'outbound' AND provider_sid IS NOT NULL",
        )?
        .query_row(params![scope.org_id(), recipient, since], |r| r.get(0))?)
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: i64,
    pub direction: String,
    pub purpose: Option<String>,
    pub recipient: String,
    pub body: String,
    pub status: String,
    pub provider_sid: Option<String>,
    pub error_code: Option<i64>,
    pub appointment_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub call_id: Option<String>,
    pub created_at: i64,
}

/// The org's newest messages first.
pub fn list(conn: &Connection, scope: &OrgScope, limit: i64) -> AppResult<Vec<Message>> {
    list_filtered(conn, scope, &Filter::default(), limit)
}

/// Optional filters for [`list_filtered`]; None matches everything.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub direction: Option<String>,
    pub purpose: Option<String>,
    pub status: Option<String>,
}

/// The org's newest messages first, filtered.
pub fn list_filtered(
    conn: &Connection,
    scope: &OrgScope,
    filter: &Filter,
    limit: i64,
) -> AppResult<Vec<Message>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, direction, purpose, recipient, body, status, provider_sid, error_code,
                appointment_id, contact_id, call_id, created_at
         FROM messages
         WHERE org_id = ?1 AND (?3 IS NULL OR direction = ?3) AND (?4 IS NULL OR purpose = ?4)
           AND (?5 IS NULL OR status = ?5)
         ORDER BY created_at DESC, id DESC LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(
            params![
                scope.org_id(),
                limit,
                filter.direction,
                filter.purpose,
                filter.status
            ],
            |r| {
                Ok(Message {
                    id: r.get(0)?,
                    direction: r.get(1)?,
                    purpose: r.get(2)?,
                    recipient: r.get(3)?,
                    body: r.get(4)?,
                    status: r.get(5)?,
                    provider_sid: r.get(6)?,
                    error_code: r.get(7)?,
                    appointment_id: r.get(8)?,
                    contact_id: r.get(9)?,
                    call_id: r.get(10)?,
                    created_at: r.get(11)?,
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
