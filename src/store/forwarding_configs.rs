//! How each verified number forwards its calls to the AI: carrier, mode, ring time and the
//! number calls go to, and whether the owner has dialled the code (active) or turned it off
//! (disabled). The dial codes are derived from these by `domain::forwarding`, never stored.

use super::OrgScope;
use crate::domain::forwarding::{Carrier, Mode};
use crate::domain::telephony::ConfigStatus;
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, Row, Transaction};

#[derive(Debug, Clone)]
pub struct ForwardingConfig {
    pub id: i64,
    pub caller_id: i64,
    /// The clinic number being forwarded (from its caller ID).
    pub phone_number: String,
    pub carrier: Carrier,
    pub mode: Mode,
    pub ring_seconds: Option<u32>,
    pub forward_to: String,
    pub status: ConfigStatus,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub disabled_at: Option<i64>,
}

/// A set-up about to be stored; its combination was already accepted by `forwarding::codes`.
pub struct NewConfig<'a> {
    pub caller_id: i64,
    pub carrier: Carrier,
    pub mode: Mode,
    pub ring_seconds: Option<u32>,
    pub forward_to: &'a str,
}

const SELECT: &str = "SELECT f.id, f.caller_id, c.phone_number, f.carrier, f.mode, f.ring_seconds,
    f.forward_to, f.status, f.created_at, f.activated_at, f.disabled_at
    FROM forwarding_configs f JOIN caller_ids c ON c.org_id = f.org_id AND c.id = f.caller_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ForwardingConfig> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown {what}").into(),
        )
    };
    let carrier: String = r.get(3)?;
    let mode: String = r.get(4)?;
    let status: String = r.get(7)?;
    Ok(ForwardingConfig {
        id: r.get(0)?,
        caller_id: r.get(1)?,
        phone_number: r.get(2)?,
        carrier: Carrier::from_slug(&carrier).ok_or_else(|| bad(3, "carrier"))?,
        mode: Mode::from_slug(&mode).ok_or_else(|| bad(4, "mode"))?,
        ring_seconds: r.get(5)?,
        forward_to: r.get(6)?,
        status: ConfigStatus::parse(&status).ok_or_else(|| bad(7, "status"))?,
        created_at: r.get(8)?,
        activated_at: r.get(9)?,
        disabled_at: r.get(10)?,
    })
}

/// Stores a pending set-up. A number has at most one set-up that is not disabled: another is a
/// conflict.
pub fn create(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    new: &NewConfig<'_>,
    now: i64,
) -> AppResult<ForwardingConfig> {
    let live: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM forwarding_configs
                       WHERE org_id = ?1 AND caller_id = ?2 AND status != 'disabled')",
        params![scope.org_id(), new.caller_id],
        |r| r.get(0),
    )?;
    if live {
        return Err(AppError::Conflict(
            "This number already has a forwarding set-up. Disable it before making another.".into(),
        ));
    }
    tx.execute(
        "INSERT INTO forwarding_configs (org_id, caller_id, carrier, mode, ring_seconds, forward_to,
                                         status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7)",
        params![
            scope.org_id(),
            new.caller_id,
            new.carrier.slug(),
            new.mode.slug(),
            new.ring_seconds,
            new.forward_to,
            now
        ],
    )?;
    get(tx, scope, tx.last_insert_rowid())
}

pub fn get(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<ForwardingConfig> {
    Ok(conn.query_row(
        &format!("{SELECT} WHERE f.org_id = ?1 AND f.id = ?2"),
        params![scope.org_id(), id],
        from_row,
    )?)
}

/// The org's set-ups (of one number when `caller_id` is given), newest first.
pub fn list(
    conn: &Connection,
    scope: &OrgScope,
    caller_id: Option<i64>,
) -> AppResult<Vec<ForwardingConfig>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE f.org_id = ?1 AND (?2 IS NULL OR f.caller_id = ?2)
         ORDER BY f.created_at DESC, f.id DESC"
    ))?;
    let rows = stmt.query_map(params![scope.org_id(), caller_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The owner dialled the code: the set-up is active. Confirming again changes nothing; a
/// disabled set-up cannot come back (make a new one).
pub fn activate(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    now: i64,
) -> AppResult<ForwardingConfig> {
    let current = get(tx, scope, id)?;
    match current.status {
        ConfigStatus::Active => Ok(current),
        ConfigStatus::Disabled => Err(AppError::Conflict(
            "This forwarding set-up was disabled. Set up forwarding again to turn it back on."
                .into(),
        )),
        ConfigStatus::Pending => {
            tx.execute(
                "UPDATE forwarding_configs SET status = 'active', activated_at = ?3, updated_at = ?3
                 WHERE org_id = ?1 AND id = ?2",
                params![scope.org_id(), id, now],
            )?;
            get(tx, scope, id)
        }
    }
}

/// Turns the set-up off (kept, so its deactivation code can still be shown). Disabling twice
/// changes nothing.
pub fn disable(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    now: i64,
) -> AppResult<ForwardingConfig> {
    tx.execute(
        "UPDATE forwarding_configs SET status = 'disabled', disabled_at = ?3, updated_at = ?3
         WHERE org_id = ?1 AND id = ?2 AND status != 'disabled'",
        params![scope.org_id(), id, now],
    )?;
    get(tx, scope, id)
}
