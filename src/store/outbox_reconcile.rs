//! Outbox rows left mid-send (`sending`): found at start-up or once stuck longer than
//! [`super::outbox::STUCK_AFTER_SECS`], each is looked up on Twilio by
//! `service::outbox_reconcile`, which then settles it here (back to pending, or interrupted)
//! or as a normal send does ([`super::outbox::settle`]). Every decision first checks that the
//! row is still the same claim ([`is_stuck`]), so a late answer never overrides another.

use super::outbox::{from_row, OutboxRow, COLUMNS};
use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Transaction};

/// A row left mid-send, with the instant it was claimed and the failed lookups so far.
#[derive(Debug, Clone)]
pub struct Stuck {
    pub row: OutboxRow,
    pub claimed_at: i64,
    pub tries: i64,
}

/// At start-up: no send of a previous process can still be under way, so every row it left
/// mid-send is due for a lookup now.
pub fn due_now_system(tx: &Transaction<'_>, now: i64) -> AppResult<usize> {
    Ok(tx
        .prepare_cached("UPDATE outbox SET reconcile_at = ?1 WHERE status = 'sending'")?
        .execute([now])?)
}

/// Takes up to `limit` rows due for a lookup, across orgs, and holds them for `lease_secs`
/// so that another pass does not look them up at the same time.
pub fn take_due_system(
    tx: &Transaction<'_>,
    now: i64,
    lease_secs: i64,
    limit: i64,
) -> AppResult<Vec<(OrgScope, Stuck)>> {
    let rows: Vec<(i64, Stuck)> = tx
        .prepare_cached(&format!(
            "UPDATE outbox SET reconcile_at = ?1 + ?2
             WHERE id IN (SELECT id FROM outbox
                          WHERE status = 'sending' AND COALESCE(reconcile_at, updated_at) <= ?1
                          ORDER BY reconcile_at, id LIMIT ?3)
             RETURNING {COLUMNS}, org_id, COALESCE(claimed_at, updated_at), reconcile_tries"
        ))?
        .query_map(params![now, lease_secs, limit], |r| {
            Ok((
                r.get(9)?,
                Stuck {
                    row: from_row(r)?,
                    claimed_at: r.get(10)?,
                    tries: r.get(11)?,
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .map(|(org, stuck)| (OrgScope::mint(org), stuck))
        .collect())
}

/// Whether the row is still mid-send under the claim of `claimed_at`.
pub fn is_stuck(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    claimed_at: i64,
) -> AppResult<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE org_id = ?1 AND id = ?2
                 AND status = 'sending' AND COALESCE(claimed_at, updated_at) = ?3)",
        )?
        .query_row(params![scope.org_id(), id, claimed_at], |r| r.get(0))?)
}

/// Twilio has no such text: the row waits for the sender again, due now (or when it was due,
/// if later). The interrupted
/// attempt never reached Twilio, so it does not count as one.
pub fn requeue(tx: &Transaction<'_>, scope: &OrgScope, id: i64, now: i64) -> AppResult<()> {
    tx.prepare_cached(
        "UPDATE outbox SET status = 'pending', next_attempt_at = MAX(next_attempt_at, ?3), reconcile_at = NULL,
             reconcile_tries = 0, updated_at = ?3,
             detail = 'not found at Twilio after the send was interrupted; sent again'
         WHERE org_id = ?1 AND id = ?2",
    )?
    .execute(params![scope.org_id(), id, now])?;
    Ok(())
}

/// The lookup failed: another one at `at`.
pub fn postpone(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    at: i64,
    detail: &str,
    now: i64,
) -> AppResult<()> {
    tx.prepare_cached(
        "UPDATE outbox SET reconcile_at = ?3, reconcile_tries = reconcile_tries + 1,
             detail = ?4, updated_at = ?5
         WHERE org_id = ?1 AND id = ?2",
    )?
    .execute(params![scope.org_id(), id, at, detail, now])?;
    Ok(())
}

/// Whether the text went out can no longer be learnt: the row is marked `interrupted` and
/// never sent again.
pub fn give_up(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    detail: &str,
    now: i64,
) -> AppResult<()> {
    tx.prepare_cached(
        "UPDATE outbox SET status = 'interrupted', body_enc = NULL, reconcile_at = NULL,
             detail = ?3, updated_at = ?4
         WHERE org_id = ?1 AND id = ?2",
    )?
    .execute(params![scope.org_id(), id, detail, now])?;
    Ok(())
}
