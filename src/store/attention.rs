//! The Needs-attention worklist: items recorded as calls end and texts arrive, listed open for
//! the front desk, and marked done (by whom, when, with a note).

use super::OrgScope;
use crate::domain::attention::Reason;
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, Row, Transaction};

/// At most this many characters of a note.
pub const MAX_NOTE: usize = 500;

/// An open item as the Overview lists it.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: i64,
    pub reasons: Vec<Reason>,
    pub at: i64,
    /// The call's row id, for a call's item.
    pub call_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub contact_name: Option<String>,
    /// The caller's or sender's number.
    pub phone: Option<String>,
    /// The call's summary or the text's body.
    pub what: Option<String>,
}

impl Item {
    pub fn urgent(&self) -> bool {
        self.reasons.iter().any(|r| r.is_urgent())
    }
}

fn slugs(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(|r| r.slug())
        .collect::<Vec<_>>()
        .join(",")
}

/// Records why the call (by row id) needs someone; no reasons removes an open item of it.
/// A call processed again keeps its done state.
pub fn record_call(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    call_id: i64,
    reasons: &[Reason],
    at: i64,
) -> AppResult<()> {
    if reasons.is_empty() {
        tx.execute(
            "DELETE FROM attention_items WHERE org_id = ?1 AND call_id = ?2 AND done_at IS NULL",
            params![scope.org_id(), call_id],
        )?;
        return Ok(());
    }
    tx.execute(
        "INSERT INTO attention_items (org_id, call_id, reasons, at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (org_id, call_id) WHERE call_id IS NOT NULL
         DO UPDATE SET reasons = excluded.reasons, at = excluded.at",
        params![scope.org_id(), call_id, slugs(reasons), at],
    )?;
    Ok(())
}

/// A text a patient sent, to be read.
pub fn record_text(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    message_id: i64,
    at: i64,
) -> AppResult<()> {
    tx.execute(
        "INSERT INTO attention_items (org_id, message_id, reasons, at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (org_id, message_id) WHERE message_id IS NOT NULL DO NOTHING",
        params![scope.org_id(), message_id, Reason::TextReceived.slug(), at],
    )?;
    Ok(())
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Item> {
    let reasons: String = r.get(1)?;
    Ok(Item {
        id: r.get(0)?,
        reasons: reasons.split(',').filter_map(Reason::parse).collect(),
        at: r.get(2)?,
        call_id: r.get(3)?,
        contact_id: r.get(4)?,
        contact_name: r.get(5)?,
        phone: r.get(6)?,
        what: r.get(7)?,
    })
}

/// The open items, urgent first, then newest first.
pub fn open(conn: &Connection, scope: &OrgScope, limit: i64) -> AppResult<Vec<Item>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.id, i.reasons, i.at, i.call_id,
                COALESCE(c.contact_id, m.contact_id), k.name,
                COALESCE(c.customer_number, m.sender, k.phone),
                COALESCE(c.summary, m.body)
         FROM attention_items i
         LEFT JOIN calls c ON c.id = i.call_id AND c.org_id = i.org_id
         LEFT JOIN messages m ON m.id = i.message_id AND m.org_id = i.org_id
         LEFT JOIN contacts k ON k.id = COALESCE(c.contact_id, m.contact_id) AND k.org_id = i.org_id
         WHERE i.org_id = ?1 AND i.done_at IS NULL
         ORDER BY (i.reasons LIKE '%urgent%' OR i.reasons LIKE '%transfer_failed%') DESC, i.at DESC
         LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![scope.org_id(), limit], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many items are open.
pub fn open_count(conn: &Connection, scope: &OrgScope) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM attention_items WHERE org_id = ?1 AND done_at IS NULL",
        [scope.org_id()],
        |r| r.get(0),
    )?)
}

/// Marks an item done by `who`, with a note. An item already done stays as it was done.
pub fn mark_done(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    who: &str,
    note: &str,
    now: i64,
) -> AppResult<()> {
    let note = note.trim();
    if note.chars().count() > MAX_NOTE {
        return Err(AppError::Validation(format!(
            "A note is at most {MAX_NOTE} characters"
        )));
    }
    let found: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM attention_items WHERE org_id = ?1 AND id = ?2)",
        params![scope.org_id(), id],
        |r| r.get(0),
    )?;
    if !found {
        return Err(AppError::NotFound);
    }
    tx.execute(
        "UPDATE attention_items SET done_at = ?3, done_by = ?4, note = ?5
         WHERE org_id = ?1 AND id = ?2 AND done_at IS NULL",
        params![scope.org_id(), id, now, who, note],
    )?;
    Ok(())
}

/// A done item's who, when and note, for the call's page.
pub fn done_for_call(
    conn: &Connection,
    scope: &OrgScope,
    call_id: i64,
) -> AppResult<Option<(String, i64, String)>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT done_by, done_at, note FROM attention_items
             WHERE org_id = ?1 AND call_id = ?2 AND done_at IS NOT NULL",
            params![scope.org_id(), call_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?)
}
