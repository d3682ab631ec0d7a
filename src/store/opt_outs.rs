//! The org's list of numbers that must not be texted: added by a STOP or by Twilio answering
//! 21610, removed by START. Checked before every send.

use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Connection, Transaction};

pub fn add(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    phone: &str,
    source: &str,
    now: i64,
) -> AppResult<bool> {
    Ok(tx.execute(
        "INSERT INTO sms_opt_outs (org_id, phone, source, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
        params![scope.org_id(), phone, source, now],
    )? == 1)
}

pub fn remove(tx: &Transaction<'_>, scope: &OrgScope, phone: &str) -> AppResult<bool> {
    Ok(tx.execute(
        "DELETE FROM sms_opt_outs WHERE org_id = ?1 AND phone = ?2",
        params![scope.org_id(), phone],
    )? == 1)
}

pub fn contains(conn: &Connection, scope: &OrgScope, phone: &str) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM sms_opt_outs WHERE org_id = ?1 AND phone = ?2)",
        )?
        .query_row(params![scope.org_id(), phone], |r| r.get(0))?)
}
