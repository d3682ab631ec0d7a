//! Sending what booking changes queued by e-mail: the mail sender. It claims due e-mails, checks
//! each one (a mailbox set up, a reminder's appointment still upcoming), hands it to the
//! clinic's mail server, and records the attempt in `messages` (method `email`) and on the row
//! in one transaction. Temporary failures (4xx replies, connection trouble, timeouts) are
//! retried with backoff; refusals (5xx), certificate and set-up problems stop at once.
//! Also the test e-mail of `voxanne email test` and Settings → E-mail.

use crate::app::AppState;
use crate::crypto::Vault;
use crate::domain::mail;
use crate::domain::mail_failure::MailFailure;
use crate::error::AppResult;
use crate::integrations::smtp::{self, Mailbox, Outgoing};
use crate::store::appointments::{self, AppointmentStatus};
use crate::store::email_outbox::{self, EmailRow, Settled};
use crate::store::messages::{self, EmailAttempt};
use crate::store::outbox::Purpose;
use crate::store::{email_settings, email_unsubscribes, orgs, Db, OrgScope};

/// Rows claimed per pass.
const BATCH: i64 = 20;

/// Wait before attempt n+1 after a temporary failure of attempt n; after the last, give up.
const RETRY_DELAYS_SECS: [i64; 5] = [30, 120, 600, 1800, 7200];

/// Nudges the mail sender to look at its outbox now.
pub fn wake(state: &AppState) {
    state.mail_wake.notify_one();
}

/// Sends every e-mail that is due now. Returns how many rows were handled.
pub async fn run_due(state: &AppState) -> AppResult<usize> {
    let mut handled = 0;
    loop {
        let now = state.clock.now().timestamp();
        let claimed = state
            .db
            .write(move |tx| email_outbox::claim_due_system(tx, now, BATCH))
            .await?;
        if claimed.is_empty() {
            return Ok(handled);
        }
        handled += claimed.len();
        for (scope, row) in claimed {
            deliver(state, scope, row).await?;
        }
    }
}

/// Sends one queued e-mail now if it is still waiting (staff pressed a button); returns its
/// state afterwards. A row someone else has taken is left to them.
pub async fn send_now(
    state: &AppState,
    scope: OrgScope,
    id: i64,
) -> AppResult<Option<email_outbox::RowState>> {
    let now = state.clock.now().timestamp();
    let claimed = state
        .db
        .write(move |tx| email_outbox::claim(tx, &scope, id, now))
        .await?;
    if let Some(row) = claimed {
        deliver(state, scope, row).await?;
    }
    state
        .db
        .read(move |c| email_outbox::state(c, &scope, id))
        .await
}

/// The wait before the next attempt after `attempts_so_far` attempts, or None to give up.
fn retry_delay(attempts_so_far: i64) -> Option<i64> {
    usize::try_from(attempts_so_far)
        .ok()
        .and_then(|i| RETRY_DELAYS_SECS.get(i).copied())
}

/// What the checks before a send decided.
enum Verdict {
    Send(Box<Mailbox>),
    Skip(&'static str),
}

async fn verdict(
    state: &AppState,
    scope: OrgScope,
    row: &EmailRow,
    now: i64,
) -> AppResult<Verdict> {
    let vault = state.vault.clone();
    let (purpose, appointment_id, recipient) = (
        row.purpose.clone(),
        row.appointment_id,
        row.recipient.clone(),
    );
    state
        .db
        .read(move |c| {
            if Purpose::parse(&purpose) == Some(Purpose::Reminder) {
                let appt = match appointment_id {
                    Some(id) => appointments::find(c, &scope, id)?,
                    None => None,
                };
                match appt {
                    Some(a) if a.status == AppointmentStatus::Confirmed && a.start_at > now => {}
                    _ => return Ok(Verdict::Skip("the appointment is no longer upcoming")),
                }
                if email_unsubscribes::contains(c, &scope, &recipient)? {
                    return Ok(Verdict::Skip("the address unsubscribed from reminders"));
                }
            }
            match email_settings::get(c, &vault, &scope)? {
                Some(m) => Ok(Verdict::Send(Box::new(m))),
                None => Ok(Verdict::Skip("e-mail is not set up for this clinic")),
            }
        })
        .await
}

/// Checks, sends and records one claimed row.
async fn deliver(state: &AppState, scope: OrgScope, row: EmailRow) -> AppResult<()> {
    let now = state.clock.now().timestamp();
    let (settled, attempted, sender) = match verdict(state, scope, &row, now).await {
        Ok(Verdict::Skip(why)) => (Outcome::Skipped(why.to_string()), false, None),
        Ok(Verdict::Send(mailbox)) => {
            let unsubscribe = unsubscribe_url(state, scope, &row);
            let (text, html) = match &unsubscribe {
                Some(url) => mail::with_unsubscribe(&row.text, &row.html, url),
                None => (row.text.clone(), row.html.clone()),
            };
            let sent = smtp::send(
                &mailbox,
                &Outgoing {
                    to: &row.recipient,
                    subject: &row.subject,
                    text: &text,
                    html: &html,
                    calendar: row.calendar.as_ref().map(|(m, t)| (*m, t.as_str())),
                    unsubscribe_url: unsubscribe.as_deref(),
                },
            )
            .await;
            let outcome = match sent {
                Ok(accepted) => Outcome::Sent(accepted.queue_id),
                Err(failure) => Outcome::Failed(failure),
            };
            (outcome, true, Some(mailbox.from_address.clone()))
        }
        // Our side failed before the server was asked (a read, a seal that does not open):
        // retried like a temporary failure, never left claimed.
        Err(e) => {
            tracing::error!(error = %e, email = row.id, "an e-mail could not be prepared");
            (
                Outcome::Failed(MailFailure::Connection(
                    "the e-mail could not be prepared on this server".into(),
                )),
                true,
                None,
            )
        }
    };
    record(state, scope, &row, settled, attempted, sender).await
}

/// A reminder's one-click unsubscribe link, when the appliance has a public address for it to
/// reach (`VOXANNE_PUBLIC_URL`): the link is opened from the patient's mail program.
fn unsubscribe_url(state: &AppState, scope: OrgScope, row: &EmailRow) -> Option<String> {
    if Purpose::parse(&row.purpose) != Some(Purpose::Reminder) {
        return None;
    }
    let base = state.config.public_url.as_deref()?;
    let token = email_unsubscribes::link_token(&state.vault, &scope, &row.recipient);
    Some(format!(
        "{}/unsubscribe/{token}",
        base.trim_end_matches('/')
    ))
}

/// How one attempt went, before it is recorded.
enum Outcome {
    Sent(String),
    Failed(MailFailure),
    Skipped(String),
}

async fn record(
    state: &AppState,
    scope: OrgScope,
    row: &EmailRow,
    outcome: Outcome,
    attempted: bool,
    sender: Option<String>,
) -> AppResult<()> {
    let now = state.clock.now().timestamp();
    let row = row.clone();
    state
        .db
        .write(move |tx| {
            let detail;
            let settled = match &outcome {
                Outcome::Sent(queue_id) => Settled::Sent { queue_id },
                Outcome::Skipped(why) => Settled::Skipped { detail: why },
                Outcome::Failed(f) => {
                    detail = f.explain();
                    match retry_delay(row.attempts).filter(|_| f.is_transient()) {
                        Some(wait) => Settled::Retry {
                            at: now + wait,
                            code: f.code(),
                            detail: &detail,
                        },
                        None => Settled::Failed {
                            code: f.code(),
                            detail: &detail,
                        },
                    }
                }
            };
            if let Outcome::Failed(f) = &outcome {
                tracing::warn!(email = row.id, code = ?f.code(), "an e-mail was not taken: {}", f.explain());
            }
            email_outbox::settle(tx, &scope, row.id, attempted, &settled, now)?;
            let (queue_id, code, error) = match &settled {
                Settled::Sent { queue_id } => (Some(*queue_id), None, None),
                Settled::Retry { code, detail, .. } | Settled::Failed { code, detail } => {
                    (None, code.map(i64::from), Some(*detail))
                }
                Settled::Skipped { detail } => (None, None, Some(*detail)),
            };
            messages::record_email_attempt(
                tx,
                &scope,
                &EmailAttempt {
                    email_outbox_id: Some(row.id),
                    contact_id: row.contact_id,
                    appointment_id: row.appointment_id,
                    call_id: row.call_id.as_deref(),
                    purpose: &row.purpose,
                    recipient: &row.recipient,
                    sender: sender.as_deref(),
                    subject: &row.subject,
                    status: settled.label(),
                    queue_id,
                    error_code: code,
                    error_message: error,
                    attempt: row.attempts + i64::from(attempted),
                },
                now,
            )?;
            Ok(())
        })
        .await
}

/// Sends the test e-mail from the org's mailbox to `to`. Err is what the clinic reads.
pub async fn send_test(
    db: &Db,
    vault: &Vault,
    scope: OrgScope,
    to: &str,
) -> Result<String, String> {
    let to = mail::check_address(to)?;
    let vault = vault.clone();
    let found = db
        .read(move |c| {
            let org = orgs::get(c, &scope)?;
            Ok((org.name, email_settings::get(c, &vault, &scope)?))
        })
        .await
        .map_err(|e| e.public_message())?;
    let (clinic, Some(mailbox)) = found else {
        return Err("e-mail is not set up for this clinic yet".into());
    };
    let words = mail::test_mail(&clinic);
    smtp::send(
        &mailbox,
        &Outgoing {
            to: &to,
            subject: &words.subject,
            text: &words.text,
            html: &words.html,
            calendar: None,
            unsubscribe_url: None,
        },
    )
    .await
    .map(|accepted| accepted.queue_id)
    .map_err(|f| f.explain())
}

/// What became of an e-mail sent while someone waits for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Emailed {
    Sent,
    /// The clinic has no mailbox: nothing was tried.
    NotSetUp,
    /// The server did not take it; why, in plain words.
    Failed(String),
}

/// E-mails a shared recording's link to `to` now, from the org's mailbox, and records the
/// attempt in `messages` with the subject only. The link is a bearer secret (its share keeps
/// only a hash), so it is never written down, not even in an outbox row: the e-mail goes
/// during the request and a failure is shown to the person who asked, who still has the link.
pub async fn send_share(
    state: &AppState,
    scope: OrgScope,
    to: &str,
    url: &str,
    until: &str,
) -> AppResult<Emailed> {
    let vault = state.vault.clone();
    let (clinic, mailbox) = state
        .db
        .read(move |c| {
            Ok((
                orgs::get(c, &scope)?.name,
                email_settings::get(c, &vault, &scope)?,
            ))
        })
        .await?;
    let Some(mailbox) = mailbox else {
        return Ok(Emailed::NotSetUp);
    };
    let words = mail::recording_share_mail(&clinic, url, until);
    let sent = smtp::send(
        &mailbox,
        &Outgoing {
            to,
            subject: &words.subject,
            text: &words.text,
            html: &words.html,
            calendar: None,
            unsubscribe_url: None,
        },
    )
    .await;
    let (status, queue_id, code, error) = match &sent {
        Ok(a) => ("sent", Some(a.queue_id.clone()), None, None),
        Err(f) => ("failed", None, f.code().map(i64::from), Some(f.explain())),
    };
    let (to, subject, from) = (to.to_string(), words.subject, mailbox.from_address);
    let now = state.clock.now().timestamp();
    let recorded = error.clone();
    state
        .db
        .write(move |tx| {
            messages::record_email_attempt(
                tx,
                &scope,
                &EmailAttempt {
                    email_outbox_id: None,
                    contact_id: None,
                    appointment_id: None,
                    call_id: None,
                    purpose: "recording_share",
                    recipient: &to,
                    sender: Some(&from),
                    subject: &subject,
                    status,
                    queue_id: queue_id.as_deref(),
                    error_code: code,
                    error_message: recorded.as_deref(),
                    attempt: 1,
                },
                now,
            )
            .map(|_| ())
        })
        .await?;
    Ok(match error {
        None => Emailed::Sent,
        Some(why) => Emailed::Failed(why),
    })
}
