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

/// One attempt at an e-mail, as `messages` keeps it (method `email`): the body recorded is
/// the subject, the provider id the server's queue id.
pub struct EmailAttempt<'a> {
    /// None for an e-mail sent during the request that asked for it (a shared recording).
    pub email_outbox_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub appointment_id: Option<i64>,
    pub call_id: Option<&'a str>,
    pub purpose: &'a str,
    pub recipient: &'a str,
    pub sender: Option<&'a str>,
    pub subject: &'a str,
    /// `sent`, `retrying`, `failed` or `skipped`.
    pub status: &'a str,
    pub queue_id: Option<&'a str>,
    pub error_code: Option<i64>,
    pub error_message: Option<&'a str>,
    pub attempt: i64,
}

pub fn record_email_attempt(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    a: &EmailAttempt<'_>,
    now: i64,
) -> AppResult<i64> {
    tx.prepare_cached(
        "INSERT INTO messages (org_id, email_outbox_id, contact_id, appointment_id, call_id,
                               direction, method, purpose, recipient, sender, body, status,
                               provider_sid, error_code, error_message, attempt, created_at,
                               updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'outbound', 'email', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
                 ?14, ?15, ?15)",
    )?
    .execute(params![
        scope.org_id(),
        a.email_outbox_id,
        a.contact_id,
        a.appointment_id,
        a.call_id,
        a.purpose,
        a.recipient,
        a.sender,
        a.subject,
        a.status,
        a.queue_id,
        a.error_code,
        a.error_message,
        a.attempt,
        now
    ])?;
    Ok(tx.last_insert_rowid())
}

/// Whether one of the org's outbound texts is already recorded under Twilio's `provider_sid`.
pub fn outbound_sid_known(
    conn: &Connection,
    scope: &OrgScope,
    provider_sid: &str,
) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE org_id = ?1 AND provider_sid = ?2
                 AND direction = 'outbound')",
        )?
        .query_row(params![scope.org_id(), provider_sid], |r| r.get(0))?)
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
               AND direction = 'outbound' AND method = 'sms' AND provider_sid IS NOT NULL",
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
    /// `sms` or `email`.
    pub method: String,
}

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
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
        method: r.get(12)?,
    })
}

/// A contact's messages, newest first.
pub fn list_for_contact(
    conn: &Connection,
    scope: &OrgScope,
    contact_id: i64,
    limit: i64,
) -> AppResult<Vec<Message>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, direction, purpose, recipient, body, status, provider_sid, error_code,
                appointment_id, contact_id, call_id, created_at, method
         FROM messages WHERE org_id = ?1 AND contact_id = ?2
         ORDER BY created_at DESC, id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![scope.org_id(), contact_id, limit], message_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
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
                appointment_id, contact_id, call_id, created_at, method
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
            message_row,
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// What a delivery report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusApplied {
    /// The text moved forward; `recipient` is who it went to.
    Updated { recipient: String },
    /// Late or repeated: the recorded status is already as far along.
    Stale,
    /// No text of this org has that provider SID.
    Unknown,
}

/// Applies Twilio's delivery report for the org's text `provider_sid`: the status moves only
/// forward (see `domain::delivery`), and an error code reported with it is recorded.
pub fn apply_status(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    provider_sid: &str,
    status: &str,
    error_code: Option<i64>,
    now: i64,
) -> AppResult<StatusApplied> {
    use crate::domain::delivery;
    use rusqlite::OptionalExtension;
    let row: Option<(i64, String, String)> = tx
        .prepare_cached(
            "SELECT id, status, recipient FROM messages
             WHERE org_id = ?1 AND provider_sid = ?2 AND direction = 'outbound' AND method = 'sms'
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![scope.org_id(), provider_sid], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((id, current, recipient)) = row else {
        return Ok(StatusApplied::Unknown);
    };
    if !delivery::moves_forward(&current, status) {
        return Ok(StatusApplied::Stale);
    }
    tx.prepare_cached(
        "UPDATE messages SET status = ?3, error_code = COALESCE(?4, error_code),
             error_message = COALESCE(?5, error_message), updated_at = ?6
         WHERE org_id = ?1 AND id = ?2",
    )?
    .execute(params![
        scope.org_id(),
        id,
        status,
        error_code,
        error_code.map(delivery::describe_error),
        now
    ])?;
    Ok(StatusApplied::Updated { recipient })
}

/// A text received from a patient.
pub struct Inbound<'a> {
    pub provider_sid: &'a str,
    pub contact_id: i64,
    /// The patient, E.164.
    pub sender: &'a str,
    /// The clinic's number it was sent to.
    pub recipient: &'a str,
    pub body: &'a str,
    pub segments: Option<i64>,
    /// `opt_out`, `opt_in` or `help` for a keyword; None for an ordinary text.
    pub purpose: Option<&'a str>,
}

/// Records a received text once, giving its id: `None` when this provider SID is already
/// recorded (Twilio delivered the webhook again), and then nothing is written.
pub fn record_inbound(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    m: &Inbound<'_>,
    now: i64,
) -> AppResult<Option<i64>> {
    let seen: bool = tx
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM messages
                           WHERE org_id = ?1 AND provider_sid = ?2 AND direction = 'inbound')",
        )?
        .query_row(params![scope.org_id(), m.provider_sid], |r| r.get(0))?;
    if seen {
        return Ok(None);
    }
    tx.prepare_cached(
        "INSERT INTO messages (org_id, contact_id, direction, purpose, recipient, sender, body,
                               segments, status, provider_sid, created_at, updated_at)
         VALUES (?1, ?2, 'inbound', ?3, ?4, ?5, ?6, ?7, 'received', ?8, ?9, ?9)",
    )?
    .execute(params![
        scope.org_id(),
        m.contact_id,
        m.purpose,
        m.recipient,
        m.sender,
        m.body,
        m.segments,
        m.provider_sid,
        now
    ])?;
    Ok(Some(tx.last_insert_rowid()))
}
