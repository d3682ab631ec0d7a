//! The e-mail outbox: every e-mail to send is a row written in the same transaction as the
//! change that causes it, rendered whole. The mail sender claims due rows (moving them to
//! `sending` inside a write transaction, so two senders never take the same row) and records
//! each attempt here and in [`super::messages`]. SMTP has no way to ask a server afterwards
//! whether it took a message, so a row left `sending` by a crash is sent again once it is
//! [`STUCK_AFTER_SECS`] old: an invitation sent twice carries the same UID and SEQUENCE and
//! changes nothing in a calendar, while one never sent leaves the patient uninformed.

use super::outbox::Purpose;
use super::OrgScope;
use crate::domain::ics::Method;
use crate::error::AppResult;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

/// A claimed row not settled after this long is taken again by the next pass.
pub const STUCK_AFTER_SECS: i64 = 600;

/// An e-mail to queue.
pub struct NewEmail<'a> {
    pub to: &'a str,
    pub purpose: Purpose,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    pub calendar: Option<(Method, &'a str)>,
    pub contact_id: Option<i64>,
    pub appointment_id: Option<i64>,
    pub call_id: Option<&'a str>,
    /// Used once per org while its row is live (e.g. a reminder per appointment start).
    pub dedupe_key: Option<&'a str>,
    /// Not sent before this instant (reminders); `now` for everything else.
    pub send_after: i64,
}

/// A claimed row, ready to send.
#[derive(Debug, Clone)]
pub struct EmailRow {
    pub id: i64,
    pub purpose: String,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub calendar: Option<(Method, String)>,
    pub contact_id: Option<i64>,
    pub appointment_id: Option<i64>,
    pub call_id: Option<String>,
    pub attempts: i64,
}

const COLUMNS: &str = "id, purpose, recipient, subject, text_body, html_body, ics_method, ics,
     contact_id, appointment_id, call_id, attempts";

fn from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<EmailRow> {
    let method: Option<String> = r.get(at + 6)?;
    let ics: Option<String> = r.get(at + 7)?;
    Ok(EmailRow {
        id: r.get(at)?,
        purpose: r.get(at + 1)?,
        recipient: r.get(at + 2)?,
        subject: r.get(at + 3)?,
        text: r.get(at + 4)?,
        html: r.get(at + 5)?,
        calendar: match (method.as_deref().and_then(Method::parse), ics) {
            (Some(m), Some(text)) => Some((m, text)),
            _ => None,
        },
        contact_id: r.get(at + 8)?,
        appointment_id: r.get(at + 9)?,
        call_id: r.get(at + 10)?,
        attempts: r.get(at + 11)?,
    })
}

/// Queues an e-mail. None when its dedupe key is already used by a live row of the org.
pub fn enqueue(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    e: &NewEmail<'_>,
    now: i64,
) -> AppResult<Option<i64>> {
    let (method, ics) = match e.calendar {
        Some((m, text)) => (Some(m.as_str()), Some(text)),
        None => (None, None),
    };
    let inserted = tx
        .prepare_cached(
            "INSERT INTO email_outbox (org_id, purpose, recipient, subject, text_body, html_body,
                 ics_method, ics, contact_id, appointment_id, call_id, dedupe_key, send_after,
                 next_attempt_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14, ?14)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            scope.org_id(),
            e.purpose.as_str(),
            e.to,
            e.subject,
            e.text,
            e.html,
            method,
            ics,
            e.contact_id,
            e.appointment_id,
            e.call_id,
            e.dedupe_key,
            e.send_after,
            now
        ])?;
    Ok((inserted == 1).then(|| tx.last_insert_rowid()))
}

/// Claims up to `limit` due rows across orgs: waiting rows that are due, and rows a sender
/// claimed more than [`STUCK_AFTER_SECS`] ago and never settled.
pub fn claim_due_system(
    tx: &Transaction<'_>,
    now: i64,
    limit: i64,
) -> AppResult<Vec<(OrgScope, EmailRow)>> {
    let rows: Vec<(i64, EmailRow)> = tx
        .prepare_cached(&format!(
            "UPDATE email_outbox SET status = 'sending', claimed_at = ?1, updated_at = ?1
             WHERE id IN (
                 SELECT id FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= ?1
                 UNION
                 SELECT id FROM email_outbox
                 WHERE status = 'sending' AND claimed_at <= ?1 - {STUCK_AFTER_SECS}
                 ORDER BY id LIMIT ?2)
             RETURNING org_id, {COLUMNS}"
        ))?
        .query_map(params![now, limit], |r| Ok((r.get(0)?, from_row(r, 1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .map(|(org, row)| (OrgScope::mint(org), row))
        .collect())
}

/// Claims one row of the org if it is still waiting and due.
pub fn claim(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    now: i64,
) -> AppResult<Option<EmailRow>> {
    Ok(tx
        .prepare_cached(&format!(
            "UPDATE email_outbox SET status = 'sending', claimed_at = ?3, updated_at = ?3
             WHERE org_id = ?1 AND id = ?2 AND status = 'pending' AND next_attempt_at <= ?3
             RETURNING {COLUMNS}"
        ))?
        .query_row(params![scope.org_id(), id, now], |r| from_row(r, 0))
        .optional()?)
}

/// How an attempt ended, for the row.
pub enum Settled<'a> {
    Sent {
        queue_id: &'a str,
    },
    /// Try again at `at`.
    Retry {
        at: i64,
        code: Option<u16>,
        detail: &'a str,
    },
    Failed {
        code: Option<u16>,
        detail: &'a str,
    },
    /// Not attempted: no mailbox set up, no longer due, unsubscribed.
    Skipped {
        detail: &'a str,
    },
}

impl Settled<'_> {
    /// The status recorded in `messages` for this attempt.
    pub fn label(&self) -> &'static str {
        match self {
            Settled::Sent { .. } => "sent",
            Settled::Retry { .. } => "retrying",
            Settled::Failed { .. } => "failed",
            Settled::Skipped { .. } => "skipped",
        }
    }
}

/// Records the end of an attempt on a claimed row.
pub fn settle(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    attempted: bool,
    outcome: &Settled<'_>,
    now: i64,
) -> AppResult<()> {
    let (status, next, queue_id, code, detail): (
        &str,
        Option<i64>,
        Option<&str>,
        Option<u16>,
        &str,
    ) = match outcome {
        Settled::Sent { queue_id } => ("sent", None, Some(queue_id), None, ""),
        Settled::Retry { at, code, detail } => ("pending", Some(*at), None, *code, detail),
        Settled::Failed { code, detail } => ("failed", None, None, *code, detail),
        Settled::Skipped { detail } => ("skipped", None, None, None, detail),
    };
    tx.prepare_cached(
        "UPDATE email_outbox SET status = ?3, next_attempt_at = COALESCE(?4, next_attempt_at),
             queue_id = COALESCE(?5, queue_id), error_code = ?6, detail = ?7,
             attempts = attempts + ?8, updated_at = ?9
         WHERE org_id = ?1 AND id = ?2",
    )?
    .execute(params![
        scope.org_id(),
        id,
        status,
        next,
        queue_id,
        code,
        (!detail.is_empty()).then_some(detail),
        i64::from(attempted),
        now
    ])?;
    Ok(())
}

/// The state of one row: its status and, when it failed, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowState {
    pub status: String,
    pub attempts: i64,
    pub error_code: Option<i64>,
    pub detail: Option<String>,
    pub queue_id: Option<String>,
}

pub fn state(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<Option<RowState>> {
    Ok(conn
        .prepare_cached(
            "SELECT status, attempts, error_code, detail, queue_id FROM email_outbox
             WHERE org_id = ?1 AND id = ?2",
        )?
        .query_row(params![scope.org_id(), id], |r| {
            Ok(RowState {
                status: r.get(0)?,
                attempts: r.get(1)?,
                error_code: r.get(2)?,
                detail: r.get(3)?,
                queue_id: r.get(4)?,
            })
        })
        .optional()?)
}

/// Withdraws the appointment's e-mails of these purposes that have not gone out yet.
pub fn withdraw_for_appointment(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    appointment_id: i64,
    purposes: &[Purpose],
    status: &str,
    now: i64,
) -> AppResult<usize> {
    let mut n = 0;
    for p in purposes {
        n += tx
            .prepare_cached(
                "UPDATE email_outbox SET status = ?4, updated_at = ?5
                 WHERE org_id = ?1 AND appointment_id = ?2 AND purpose = ?3 AND status = 'pending'",
            )?
            .execute(params![
                scope.org_id(),
                appointment_id,
                p.as_str(),
                status,
                now
            ])?;
    }
    Ok(n)
}

/// The earliest instant a waiting row becomes due, across orgs (for the sender's sleep).
pub fn next_due_system(conn: &Connection) -> AppResult<Option<i64>> {
    Ok(conn.query_row(
        "SELECT MIN(next_attempt_at) FROM email_outbox WHERE status = 'pending'",
        [],
        |r| r.get(0),
    )?)
}
