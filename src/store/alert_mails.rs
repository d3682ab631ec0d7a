//! Alerts e-mailed to the clinic's owners, queued in the transaction that finds them: a hot
//! lead, and a call that needs someone urgently. Each goes once per owner per call (the dedupe
//! key names both), and only when the clinic has a mailbox.

use super::email_outbox::{self, NewEmail};
use super::outbox::Purpose;
use super::{email_settings, OrgScope};
use crate::domain::mail::{self, HotLead};
use crate::error::AppResult;
use rusqlite::{params, Transaction};

/// What the alert is about, for the outbox rows.
pub struct About<'a> {
    pub call_id: &'a str,
    pub contact_id: Option<i64>,
    pub appointment_id: Option<i64>,
}

/// Queues the hot-lead e-mail to every active owner. Returns how many were queued.
pub fn queue_hot_lead(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    lead: &HotLead<'_>,
    about: &About<'_>,
    now: i64,
) -> AppResult<usize> {
    let Some(clinic) = clinic_with_mailbox(tx, scope)? else {
        return Ok(0);
    };
    let words = mail::hot_lead_mail(&clinic, lead);
    to_owners(
        tx,
        scope,
        Purpose::HotLeadAlert,
        "hot_lead",
        &words,
        about,
        now,
    )
}

/// Queues the Needs-attention e-mail for a call that needs someone urgently, to every active
/// owner. Returns how many were queued.
pub fn queue_attention(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    caller: (Option<&str>, &str),
    reasons: &[&str],
    about: &About<'_>,
    now: i64,
) -> AppResult<usize> {
    let Some(clinic) = clinic_with_mailbox(tx, scope)? else {
        return Ok(0);
    };
    let words = mail::attention_mail(&clinic, caller.0, caller.1, reasons);
    to_owners(
        tx,
        scope,
        Purpose::AttentionAlert,
        "attention",
        &words,
        about,
        now,
    )
}

/// The clinic's name, when it has a mailbox to send from.
fn clinic_with_mailbox(tx: &Transaction<'_>, scope: &OrgScope) -> AppResult<Option<String>> {
    if email_settings::sender(tx, scope)?.is_none() {
        return Ok(None);
    }
    Ok(Some(
        tx.prepare_cached("SELECT name FROM orgs WHERE id = ?1")?
            .query_row([scope.org_id()], |r| r.get(0))?,
    ))
}

/// One row per active owner, keyed `{kind}:{call}:{owner}` so each goes once.
fn to_owners(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    purpose: Purpose,
    kind: &str,
    words: &mail::Composed,
    about: &About<'_>,
    now: i64,
) -> AppResult<usize> {
    let owners: Vec<(i64, String)> = tx
        .prepare_cached(
            "SELECT id, email FROM staff
             WHERE org_id = ?1 AND role = 'owner' AND disabled = 0 ORDER BY id",
        )?
        .query_map(params![scope.org_id()], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut queued = 0;
    for (id, address) in owners {
        let key = format!("{kind}:{}:{id}", about.call_id);
        let row = email_outbox::enqueue(
            tx,
            scope,
            &NewEmail {
                to: &address,
                purpose,
                subject: &words.subject,
                text: &words.text,
                html: &words.html,
                calendar: None,
                contact_id: about.contact_id,
                appointment_id: about.appointment_id,
                call_id: Some(about.call_id),
                dedupe_key: Some(&key),
                send_after: now,
            },
            now,
        )?;
        queued += usize::from(row.is_some());
    }
    Ok(queued)
}
