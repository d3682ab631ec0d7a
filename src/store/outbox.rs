//! The outbox: every text to send is a row written in the same transaction as the change that
//! causes it (a booking, a reschedule, a code, an alert). The sender job claims due rows, and
//! each attempt ends here (sent, retried later, failed, skipped) and in [`super::messages`].
//! A row is claimed by moving it to `sending` inside a write transaction, so two senders never
//! take the same row. A row left in `sending` (by a crash, or a send that never settled) is
//! looked up on Twilio before anything is decided ([`super::outbox_reconcile`]), so nobody
//! gets the same text twice and a text that did go out is recorded as sent.

use super::rekey::SealedColumn;
use super::OrgScope;
use crate::crypto::{SecretSlot, Vault};
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

/// Why a text is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Confirmation,
    Reminder,
    Reschedule,
    Cancellation,
    Verification,
    HotLeadAlert,
    FollowUp,
    /// The owners' daily digest (e-mail only).
    Digest,
    /// A call that needs someone urgently, to the owners (e-mail only).
    AttentionAlert,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Confirmation => "confirmation",
            Purpose::Reminder => "reminder",
            Purpose::Reschedule => "reschedule",
            Purpose::Cancellation => "cancellation",
            Purpose::Verification => "verification",
            Purpose::HotLeadAlert => "hot_lead_alert",
            Purpose::FollowUp => "follow_up",
            Purpose::Digest => "digest",
            Purpose::AttentionAlert => "attention_alert",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        [
            Purpose::Confirmation,
            Purpose::Reminder,
            Purpose::Reschedule,
            Purpose::Cancellation,
            Purpose::Verification,
            Purpose::HotLeadAlert,
            Purpose::FollowUp,
            Purpose::Digest,
            Purpose::AttentionAlert,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// A text to queue.
pub struct NewSms<'a> {
    /// E.164.
    pub to: &'a str,
    pub body: &'a str,
    pub purpose: Purpose,
    pub contact_id: Option<i64>,
    pub appointment_id: Option<i64>,
    pub call_id: Option<&'a str>,
    /// Used once per org while its row is live (e.g. `hot_lead:{call_id}`).
    pub dedupe_key: Option<&'a str>,
    /// Not sent before this instant (reminders); `now` for everything else.
    pub send_after: i64,
}

/// A claimed row, ready to send.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub purpose: String,
    pub recipient: String,
    /// The text as recorded (masked for sensitive texts).
    pub body: String,
    body_enc: Option<Vec<u8>>,
    pub contact_id: Option<i64>,
    pub appointment_id: Option<i64>,
    pub call_id: Option<String>,
    pub attempts: i64,
}

impl OutboxRow {
    /// The text to hand to Twilio: the sealed original for sensitive texts.
    pub fn text_to_send(&self, vault: &Vault, scope: &OrgScope) -> AppResult<String> {
        match &self.body_enc {
            Some(sealed) => vault
                .decrypt_str(&body_slot(scope.org_id(), &self.id.to_string()), sealed)
                .map_err(AppError::internal),
            None => Ok(self.body.clone()),
        }
    }
}

/// The sealed original of a sensitive text, kept only until it is sent.
pub const SEALED: SealedColumn = SealedColumn {
    table: "outbox",
    id_column: "id",
    fixed_row: None,
    column: "body_enc",
    field: "body",
};

fn body_slot(org_id: i64, row: &str) -> SecretSlot<'_> {
    SEALED.slot(org_id, row)
}

/// A claimed row not settled after this long is looked up on Twilio (a live send settles
/// within Twilio's request timeout, far sooner).
pub const STUCK_AFTER_SECS: i64 = 300;

pub(super) const COLUMNS: &str =
    "id, purpose, recipient, body, body_enc, contact_id, appointment_id, call_id, attempts";

pub(super) fn from_row(r: &Row<'_>) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        purpose: r.get(1)?,
        recipient: r.get(2)?,
        body: r.get(3)?,
        body_enc: r.get(4)?,
        contact_id: r.get(5)?,
        appointment_id: r.get(6)?,
        call_id: r.get(7)?,
        attempts: r.get(8)?,
    })
}

/// Queues a text. None when its dedupe key is already used by a live row of the org.
pub fn enqueue(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    sms: &NewSms<'_>,
    now: i64,
) -> AppResult<Option<i64>> {
    let inserted = tx.prepare_cached(
        "INSERT INTO outbox (org_id, purpose, recipient, body, contact_id, appointment_id, call_id,
                             dedupe_key, send_after, next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?10)
         ON CONFLICT DO NOTHING",
    )?
    .execute(params![
        scope.org_id(),
        sms.purpose.as_str(),
        sms.to,
        sms.body,
        sms.contact_id,
        sms.appointment_id,
        sms.call_id,
        sms.dedupe_key,
        sms.send_after,
        now
    ])?;
    Ok((inserted == 1).then(|| tx.last_insert_rowid()))
}

/// Queues a text whose body must not be readable at rest (a verification code): the database
/// keeps `masked` in clear and the real text sealed until it is sent.
pub fn enqueue_sealed(
    tx: &Transaction<'_>,
    vault: &Vault,
    scope: &OrgScope,
    sms: &NewSms<'_>,
    masked: &str,
    now: i64,
) -> AppResult<Option<i64>> {
    let Some(id) = enqueue(
        tx,
        scope,
        &NewSms {
            body: masked,
            ..*sms
        },
        now,
    )?
    else {
        return Ok(None);
    };
    let sealed = vault.encrypt_str(&body_slot(scope.org_id(), &id.to_string()), sms.body);
    tx.execute(
        "UPDATE outbox SET body_enc = ?2 WHERE id = ?1",
        params![id, sealed],
    )?;
    Ok(Some(id))
}

/// Claims up to `limit` due rows across orgs for the sender job.
pub fn claim_due_system(
    tx: &Transaction<'_>,
    now: i64,
    limit: i64,
) -> AppResult<Vec<(OrgScope, OutboxRow)>> {
    let rows: Vec<(i64, OutboxRow)> = tx
        .prepare_cached(&format!(
            "UPDATE outbox SET status = 'sending', updated_at = ?1, claimed_at = ?1,
                 reconcile_at = ?1 + {STUCK_AFTER_SECS}
             WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1
                          ORDER BY next_attempt_at, id LIMIT ?2)
             RETURNING org_id, {COLUMNS}"
        ))?
        .query_map(params![now, limit], |r| {
            Ok((
                r.get(0)?,
                OutboxRow {
                    id: r.get(1)?,
                    purpose: r.get(2)?,
                    recipient: r.get(3)?,
                    body: r.get(4)?,
                    body_enc: r.get(5)?,
                    contact_id: r.get(6)?,
                    appointment_id: r.get(7)?,
                    call_id: r.get(8)?,
                    attempts: r.get(9)?,
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .map(|(org, row)| (OrgScope::mint(org), row))
        .collect())
}

/// Texts to `recipient` being sent right now (claimed, their attempt not yet recorded), other
/// than `except`: they count towards the hourly cap before they reach `messages`.
pub fn sending_to(
    conn: &rusqlite::Connection,
    scope: &OrgScope,
    recipient: &str,
    except: i64,
) -> AppResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM outbox
             WHERE status = 'sending' AND org_id = ?1 AND recipient = ?2 AND id != ?3",
        )?
        .query_row(params![scope.org_id(), recipient, except], |r| r.get(0))?)
}

/// Claims one row of the org if it is still waiting and due.
pub fn claim(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    now: i64,
) -> AppResult<Option<OutboxRow>> {
    Ok(tx
        .prepare_cached(&format!(
            "UPDATE outbox SET status = 'sending', updated_at = ?3, claimed_at = ?3,
                 reconcile_at = ?3 + {STUCK_AFTER_SECS}
             WHERE org_id = ?1 AND id = ?2 AND status = 'pending' AND next_attempt_at <= ?3
             RETURNING {COLUMNS}"
        ))?
        .query_row(params![scope.org_id(), id, now], from_row)
        .optional()?)
}

/// How an attempt ended, for the row.
pub enum Settled<'a> {
    Sent {
        provider_sid: &'a str,
    },
    /// Try again at `at`.
    Retry {
        at: i64,
        code: Option<i64>,
        detail: &'a str,
    },
    Failed {
        code: Option<i64>,
        detail: &'a str,
    },
    /// Not attempted: opted out, no credentials, texts off, appointment no longer due.
    Skipped {
        detail: &'a str,
    },
    /// Not attempted: the per-number hourly cap.
    Refused {
        detail: &'a str,
    },
}

/// Records the end of an attempt on a claimed row. A sent row forgets its sealed body.
pub fn settle(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    attempted: bool,
    outcome: &Settled<'_>,
    now: i64,
) -> AppResult<()> {
    let (status, next, sid, code, detail): (&str, Option<i64>, Option<&str>, Option<i64>, &str) =
        match outcome {
            Settled::Sent { provider_sid } => ("sent", None, Some(provider_sid), None, ""),
            Settled::Retry { at, code, detail } => ("pending", Some(*at), None, *code, detail),
            Settled::Failed { code, detail } => ("failed", None, None, *code, detail),
            Settled::Skipped { detail } => ("skipped", None, None, None, detail),
            Settled::Refused { detail } => ("refused", None, None, None, detail),
        };
    tx.prepare_cached(
        "UPDATE outbox SET status = ?3, next_attempt_at = COALESCE(?4, next_attempt_at),
             provider_sid = COALESCE(?5, provider_sid), error_code = ?6, detail = ?7,
             attempts = attempts + ?8, updated_at = ?9,
             body_enc = CASE WHEN ?3 = 'pending' THEN body_enc ELSE NULL END
         WHERE org_id = ?1 AND id = ?2",
    )?
    .execute(params![
        scope.org_id(),
        id,
        status,
        next,
        sid,
        code,
        (!detail.is_empty()).then_some(detail),
        i64::from(attempted),
        now
    ])?;
    Ok(())
}

/// What became of a text's first attempt, as the booking tools report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsStatus {
    Sent,
    /// Not sent yet; will be retried.
    Queued,
    /// Will not be sent (permanent failure); the booking stands.
    FailedButBooked,
    /// Not attempted: no credentials, texts off, or the number opted out.
    Skipped,
}

impl SmsStatus {
    /// Every report, in declaration order.
    pub const ALL: [SmsStatus; 4] = [
        SmsStatus::Sent,
        SmsStatus::Queued,
        SmsStatus::FailedButBooked,
        SmsStatus::Skipped,
    ];

    /// What an outbox row's state reports once its first attempt is decided; `None` while
    /// the first attempt has not happened yet.
    pub fn settled(status: &str, attempts: i64) -> Option<SmsStatus> {
        match status {
            "sent" => Some(SmsStatus::Sent),
            "failed" | "refused" | "interrupted" => Some(SmsStatus::FailedButBooked),
            "skipped" | "cancelled" | "superseded" => Some(SmsStatus::Skipped),
            "pending" if attempts > 0 => Some(SmsStatus::Queued),
            _ => None,
        }
    }

    /// What an outbox row's state reports now, decided or not.
    pub fn now(status: &str, attempts: i64) -> SmsStatus {
        Self::settled(status, attempts).unwrap_or(SmsStatus::Queued)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SmsStatus::Sent => "sent",
            SmsStatus::Queued => "queued",
            SmsStatus::FailedButBooked => "failed_but_booked",
            SmsStatus::Skipped => "skipped",
        }
    }
}

/// The state of one row, for a caller waiting on its first attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowState {
    pub status: String,
    pub attempts: i64,
    pub error_code: Option<i64>,
}

pub fn state(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<Option<RowState>> {
    Ok(conn
        .prepare_cached(
            "SELECT status, attempts, error_code FROM outbox WHERE org_id = ?1 AND id = ?2",
        )?
        .query_row(params![scope.org_id(), id], |r| {
            Ok(RowState {
                status: r.get(0)?,
                attempts: r.get(1)?,
                error_code: r.get(2)?,
            })
        })
        .optional()?)
}

/// Withdraws the appointment's texts of these purposes that have not gone out yet (a
/// reschedule supersedes its reminder; a cancel drops it).
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
                "UPDATE outbox SET status = ?4, updated_at = ?5, body_enc = NULL
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
        "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'",
        [],
        |r| r.get(0),
    )?)
}

/// Rows due and not yet sent, across orgs (diagnostics); future reminders are not backlog.
pub fn backlog_system(conn: &Connection, now: i64) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM outbox
         WHERE status = 'sending' OR (status = 'pending' AND next_attempt_at <= ?1)",
        [now],
        |r| r.get(0),
    )?)
}

/// The provider's id for a text once it was handed over.
pub fn provider_sid(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT provider_sid FROM outbox WHERE org_id = ?1 AND id = ?2")?
        .query_row(params![scope.org_id(), id], |r| r.get(0))
        .optional()?
        .flatten())
}
