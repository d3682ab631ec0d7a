//! Raw Vapi call events, kept before they are processed (see `migrations/0004_calls.sql`):
//! a repeat delivery is recognised and dropped, an event whose processing failed keeps its
//! redacted body until the calls job has processed it, and a processed event keeps only its
//! metadata (the dashboard's "latest events").

use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

/// After this many failed attempts an event is left for a person to look at.
pub const MAX_ATTEMPTS: i64 = 5;

pub struct NewEvent<'a> {
    pub call_id: &'a str,
    pub kind: &'a str,
    pub status: Option<&'a str>,
    /// What makes two deliveries the same event (see the migration).
    pub dedupe: &'a str,
    pub received_at: i64,
}

/// Keeps the event; `None` when the same event was already kept.
pub fn record(tx: &Transaction<'_>, scope: &OrgScope, e: &NewEvent<'_>) -> AppResult<Option<i64>> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO call_events (org_id, call_id, type, status, dedupe, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (org_id, call_id, type, dedupe) DO NOTHING",
        )?
        .execute(params![
            scope.org_id(),
            e.call_id,
            e.kind,
            e.status,
            e.dedupe,
            e.received_at
        ])?;
    Ok((inserted == 1).then(|| tx.last_insert_rowid()))
}

/// The event is reflected in its call: its body is no longer needed.
pub fn mark_processed(tx: &Transaction<'_>, scope: &OrgScope, id: i64, now: i64) -> AppResult<()> {
    tx.prepare_cached(
        "UPDATE call_events SET processed_at = ?3, body = NULL, last_error = NULL
         WHERE org_id = ?1 AND id = ?2",
    )?
    .execute(params![scope.org_id(), id, now])?;
    Ok(())
}

/// Processing failed: the redacted body (given when not stored yet) stays for the next attempt.
pub fn mark_failed(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    error: &str,
    body: Option<&str>,
) -> AppResult<()> {
    tx.execute(
        "UPDATE call_events SET attempts = attempts + 1, last_error = ?3, body = COALESCE(?4, body)
         WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, error, body],
    )?;
    Ok(())
}

/// An event still waiting to be processed.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    pub id: i64,
    pub call_id: String,
    pub kind: String,
    pub body: String,
    pub received_at: i64,
}

/// System-wide, for the calls job: unprocessed events of every org, oldest first, each with
/// the scope of the org it was authenticated for when it was kept.
pub fn pending_system(conn: &Connection, limit: i64) -> AppResult<Vec<(OrgScope, PendingEvent)>> {
    let mut stmt = conn.prepare(
        "SELECT org_id, id, call_id, type, body, received_at FROM call_events
         WHERE processed_at IS NULL AND attempts < ?1 AND body IS NOT NULL
         ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![MAX_ATTEMPTS, limit], |r| {
        Ok((
            OrgScope::mint(r.get(0)?),
            PendingEvent {
                id: r.get(1)?,
                call_id: r.get(2)?,
                kind: r.get(3)?,
                body: r.get(4)?,
                received_at: r.get(5)?,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether an event is still unprocessed (another worker may have got to it first).
pub fn is_pending(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<bool> {
    Ok(conn
        .query_row(
            "SELECT processed_at IS NULL FROM call_events WHERE org_id = ?1 AND id = ?2",
            params![scope.org_id(), id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false))
}

#[derive(Debug, Clone, Serialize)]
pub struct EventSummary {
    pub call_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: Option<String>,
    pub received_at: i64,
    pub processed: bool,
}

/// The org's latest events, newest first.
pub fn recent(conn: &Connection, scope: &OrgScope, limit: i64) -> AppResult<Vec<EventSummary>> {
    let mut stmt = conn.prepare(
        "SELECT call_id, type, status, received_at, processed_at IS NOT NULL FROM call_events
         WHERE org_id = ?1 ORDER BY received_at DESC, id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![scope.org_id(), limit], |r| {
        Ok(EventSummary {
            call_id: r.get(0)?,
            kind: r.get(1)?,
            status: r.get(2)?,
            received_at: r.get(3)?,
            processed: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
