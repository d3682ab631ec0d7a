//! Sending what booking changes queued: the outbox sender. It claims due texts, checks each one (texts on, credentials, opt-out list,
//! the appointment still due, the hourly cap per number), hands it to the clinic's Twilio
//! account, and records the attempt in `messages` and on the outbox row in one transaction.
//! Transient failures are retried with backoff; permanent ones stop; a 21610 answer puts the
//! number on the opt-out list. The background job runs [`run_due`]; a request that must report
//! on a text it just queued gives it its first attempt with [`start_claimed`] or
//! [`attempt_now`], and hears how it went as soon as Twilio has answered: the attempt's record
//! is written after that, off the request's path. Until it is, the row stays `sending`, which
//! the hourly cap counts, and which a crash leaves for [`super::outbox_reconcile`].

use crate::app::AppState;
use crate::domain::sms;
use crate::error::AppResult;
use crate::integrations::twilio::{self, Credentials, TwilioError, OPTED_OUT};
use crate::store::appointments::{self, AppointmentStatus};
use crate::store::audit::{self, Actor, Event};
use crate::store::outbox::{self, OutboxRow, Purpose, Settled};
use crate::store::{messages, opt_outs, orgs, twilio_credentials, OrgScope};
use std::time::Duration;

/// Rows claimed per pass.
const BATCH: i64 = 20;

/// Wait before attempt n+1 after a transient failure of attempt n; after the last, give up.
const RETRY_DELAYS_SECS: [i64; 5] = [30, 120, 600, 1800, 7200];

use crate::store::outbox::SmsStatus;

/// Nudges the senders to look at their outboxes now (once a change that queued texts or
/// e-mails has committed).
pub fn wake(state: &AppState) {
    state.outbox_wake.notify_one();
    super::mailing::wake(state);
}

/// Sends every text that is due now. Returns how many rows were handled.
pub async fn run_due(state: &AppState) -> AppResult<usize> {
    let mut handled = 0;
    loop {
        let now = state.clock.now().timestamp();
        let claimed = state
            .db
            .write(move |tx| outbox::claim_due_system(tx, now, BATCH))
            .await?;
        if claimed.is_empty() {
            return Ok(handled);
        }
        handled += claimed.len();
        for (scope, row) in claimed {
            deliver(state, scope, row, None).await?;
        }
    }
}

/// Makes the first attempt for a text just queued, waiting at most `wait` for its outcome;
/// a slower attempt finishes in the background and is reported as `queued`.
pub async fn attempt_now(state: &AppState, scope: OrgScope, id: i64, wait: Duration) -> SmsStatus {
    attempt_now_told(state, scope, id, wait).await.status
}

/// How a first attempt went, as soon as Twilio answered: its status and, once Twilio took the
/// text, Twilio's id for it.
#[derive(Debug, Clone)]
pub struct Told {
    pub status: SmsStatus,
    pub provider_sid: Option<String>,
}

/// [`attempt_now`], with Twilio's id for the text when it took it.
pub async fn attempt_now_told(state: &AppState, scope: OrgScope, id: i64, wait: Duration) -> Told {
    let task_state = state.clone();
    let deadline = tokio::time::Instant::now() + wait;
    let (told, outcome) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let now = task_state.clock.now().timestamp();
        let claimed = task_state
            .db
            .write(move |tx| outbox::claim(tx, &scope, id, now))
            .await;
        match claimed {
            Ok(Some(row)) => deliver_logged(&task_state, scope, row, Some(told)).await,
            // Someone else has it (dropping `told` says so), or the claim failed.
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "a text could not be claimed now; it stays queued")
            }
        }
    });
    wait_for(state, scope, FirstAttempt { id, outcome }, deadline).await
}

/// A first attempt under way, started by [`start_claimed`]: how it went arrives as soon as
/// Twilio has answered.
pub struct FirstAttempt {
    id: i64,
    outcome: tokio::sync::oneshot::Receiver<Told>,
}

/// Starts the first attempt at a text its caller claimed ([`outbox::claim`]) in the write that
/// queued it, so the attempt needs no write of its own before the send. It goes on whatever
/// becomes of the caller.
pub fn start_claimed(state: &AppState, scope: OrgScope, row: OutboxRow) -> FirstAttempt {
    let (state, id) = (state.clone(), row.id);
    let (told, outcome) = tokio::sync::oneshot::channel();
    tokio::spawn(async move { deliver_logged(&state, scope, row, Some(told)).await });
    FirstAttempt { id, outcome }
}

async fn deliver_logged(
    state: &AppState,
    scope: OrgScope,
    row: OutboxRow,
    told: Option<tokio::sync::oneshot::Sender<Told>>,
) {
    let id = row.id;
    if let Err(e) = deliver(state, scope, row, told).await {
        tracing::warn!(error = %e, outbox = id, "a text's attempt could not be recorded; it is looked up on Twilio later");
    }
}

/// How a first attempt went, waiting at most `wait`; a slower one finishes in the background
/// and is reported as `queued`.
pub async fn settle(
    state: &AppState,
    scope: OrgScope,
    attempt: FirstAttempt,
    wait: Duration,
) -> SmsStatus {
    wait_for(state, scope, attempt, tokio::time::Instant::now() + wait)
        .await
        .status
}

async fn wait_for(
    state: &AppState,
    scope: OrgScope,
    attempt: FirstAttempt,
    deadline: tokio::time::Instant,
) -> Told {
    let status = match tokio::time::timeout_at(deadline, attempt.outcome).await {
        Ok(Ok(told)) => return told,
        // Someone else (the background sender) has it: watch the row until the deadline.
        Ok(Err(_)) => watch_row(state, scope, attempt.id, deadline).await,
        Err(_) => SmsStatus::Queued,
    };
    let id = attempt.id;
    let provider_sid = state
        .db
        .read(move |c| outbox::provider_sid(c, &scope, id))
        .await
        .ok()
        .flatten();
    Told {
        status,
        provider_sid,
    }
}

/// The state of text `id` once its attempt in progress is recorded, waiting at most until
/// `deadline` (then `Queued`).
async fn watch_row(
    state: &AppState,
    scope: OrgScope,
    id: i64,
    deadline: tokio::time::Instant,
) -> SmsStatus {
    loop {
        let row = state.db.read(move |c| outbox::state(c, &scope, id)).await;
        let status = match row {
            Ok(Some(r)) => SmsStatus::settled(&r.status, r.attempts),
            _ => Some(SmsStatus::Queued),
        };
        if let Some(s) = status {
            return s;
        }
        if tokio::time::Instant::now() >= deadline {
            return SmsStatus::Queued;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// What the checks before a send decided.
enum Verdict {
    Send(Credentials),
    Skip(&'static str),
    Refuse(String),
}

async fn verdict(
    state: &AppState,
    scope: OrgScope,
    row: &OutboxRow,
    now: i64,
) -> AppResult<Verdict> {
    let (vault, cap) = (state.vault.clone(), state.config.sms_hourly_cap);
    let (row_id, recipient, purpose, appointment_id) = (
        row.id,
        row.recipient.clone(),
        row.purpose.clone(),
        row.appointment_id,
    );
    state
        .db
        .read(move |c| {
            let org = orgs::get(c, &scope)?;
            if !org.sms_enabled {
                return Ok(Verdict::Skip("texts are switched off for this clinic"));
            }
            if Purpose::parse(&purpose) == Some(Purpose::Reminder) {
                let appt = match appointment_id {
                    Some(id) => appointments::find(c, &scope, id)?,
                    None => None,
                };
                match appt {
                    Some(a) if a.status == AppointmentStatus::Confirmed && a.start_at > now => {}
                    _ => return Ok(Verdict::Skip("the appointment is no longer upcoming")),
                }
            }
            if opt_outs::contains(c, &scope, &recipient)? {
                return Ok(Verdict::Skip("the number has opted out of texts"));
            }
            let Some(creds) = twilio_credentials::get(c, &vault, &scope)? else {
                return Ok(Verdict::Skip("Twilio is not set up for this clinic"));
            };
            let recent = messages::accepted_since(c, &scope, &recipient, now - 3600)?
                + outbox::sending_to(c, &scope, &recipient, row_id)?;
            if recent >= cap {
                return Ok(Verdict::Refuse(format!(
                    "{recent} texts already went to this number in the last hour (the cap is {cap})"
                )));
            }
            Ok(Verdict::Send(creds))
        })
        .await
}

/// How one attempt went, before it is recorded.
struct Attempted {
    status: SmsStatus,
    /// For `messages`: Twilio's status, or ours (`skipped`, `refused`, `retrying`, `failed`).
    label: String,
    provider_sid: Option<String>,
    code: Option<i64>,
    detail: String,
    sender: Option<String>,
    /// Whether this was a real attempt (Twilio was asked, or our side failed): it counts
    /// towards the retry limit.
    counts_as_attempt: bool,
}

impl Attempted {
    fn not_sent(status: SmsStatus, label: &str, detail: String) -> Self {
        Self {
            status,
            label: label.to_string(),
            provider_sid: None,
            code: None,
            detail,
            sender: None,
            counts_as_attempt: false,
        }
    }
}

async fn attempt(
    state: &AppState,
    scope: OrgScope,
    row: &OutboxRow,
    now: i64,
) -> AppResult<Attempted> {
    let creds = match verdict(state, scope, row, now).await? {
        Verdict::Skip(why) => {
            return Ok(Attempted::not_sent(
                SmsStatus::Skipped,
                "skipped",
                why.into(),
            ))
        }
        Verdict::Refuse(why) => {
            return Ok(Attempted::not_sent(
                SmsStatus::FailedButBooked,
                "refused",
                why,
            ))
        }
        Verdict::Send(creds) => creds,
    };
    let text = row.text_to_send(&state.vault, &scope)?;
    let callback = twilio::status_callback_url(state.config.public_url.as_deref());
    let sent = state
        .twilio
        .send_sms(&creds, &row.recipient, &text, callback.as_deref())
        .await;
    let mut out = match sent {
        Ok(m) => Attempted {
            status: SmsStatus::Sent,
            label: m.status.unwrap_or_else(|| "queued".into()),
            provider_sid: Some(m.sid),
            ..Attempted::not_sent(SmsStatus::Sent, "", String::new())
        },
        Err(e) => {
            let retry =
                matches!(e, TwilioError::Transient { .. }) && retry_delay(row.attempts).is_some();
            let (status, label) = if retry {
                (SmsStatus::Queued, "retrying")
            } else {
                (SmsStatus::FailedButBooked, "failed")
            };
            Attempted {
                code: e.code(),
                ..Attempted::not_sent(status, label, e.message().to_string())
            }
        }
    };
    out.sender = creds.from_number.or(creds.messaging_service_sid);
    out.counts_as_attempt = true;
    Ok(out)
}

/// The wait before the next attempt after `attempts_so_far` attempts, or None to give up.
fn retry_delay(attempts_so_far: i64) -> Option<i64> {
    usize::try_from(attempts_so_far)
        .ok()
        .and_then(|i| RETRY_DELAYS_SECS.get(i).copied())
}

/// Checks, sends and records one claimed row; `told` hears the outcome before it is recorded.
async fn deliver(
    state: &AppState,
    scope: OrgScope,
    row: OutboxRow,
    told: Option<tokio::sync::oneshot::Sender<Told>>,
) -> AppResult<SmsStatus> {
    let a = match attempt(state, scope, &row, state.clock.now().timestamp()).await {
        Ok(a) => a,
        // Our side failed before Twilio was asked (a read, a seal that does not open): the row
        // is retried like a transient failure and never left claimed.
        Err(e) => {
            tracing::error!(error = %e, outbox = row.id, "a text could not be prepared");
            let status = if retry_delay(row.attempts).is_some() {
                SmsStatus::Queued
            } else {
                SmsStatus::FailedButBooked
            };
            let label = if status == SmsStatus::Queued {
                "retrying"
            } else {
                "failed"
            };
            Attempted {
                counts_as_attempt: true,
                ..Attempted::not_sent(
                    status,
                    label,
                    "the text could not be prepared on this server".into(),
                )
            }
        }
    };
    let now = state.clock.now().timestamp();
    let segments = i64::try_from(sms::segments(&row.body).segments).ok();
    let status = a.status;
    if let Some(told) = told {
        let _ = told.send(Told {
            status,
            provider_sid: a.provider_sid.clone(),
        });
    }
    state
        .db
        .write(move |tx| {
            let detail = a.detail.as_str();
            let outcome = match (a.status, &a.provider_sid) {
                (SmsStatus::Sent, Some(sid)) => Settled::Sent { provider_sid: sid },
                (SmsStatus::Queued, _) => Settled::Retry {
                    at: now + retry_delay(row.attempts).unwrap_or(0),
                    code: a.code,
                    detail,
                },
                (SmsStatus::Skipped, _) => Settled::Skipped { detail },
                _ if a.label == "refused" => Settled::Refused { detail },
                _ => Settled::Failed {
                    code: a.code,
                    detail,
                },
            };
            outbox::settle(tx, &scope, row.id, a.counts_as_attempt, &outcome, now)?;
            messages::record_attempt(
                tx,
                &scope,
                &messages::Attempt {
                    outbox_id: row.id,
                    contact_id: row.contact_id,
                    appointment_id: row.appointment_id,
                    call_id: row.call_id.as_deref(),
                    purpose: &row.purpose,
                    recipient: &row.recipient,
                    sender: a.sender.as_deref(),
                    body: &row.body,
                    segments,
                    status: &a.label,
                    provider_sid: a.provider_sid.as_deref(),
                    error_code: a.code,
                    error_message: (!detail.is_empty()).then_some(detail),
                    attempt: row.attempts + 1,
                },
                now,
            )?;
            if a.code == Some(OPTED_OUT) {
                opt_outs::add(tx, &scope, &row.recipient, "twilio_21610", now)?;
            }
            if a.label == "refused" {
                audit::record(
                    tx,
                    &scope,
                    &Event {
                        actor: &Actor::System("outbox"),
                        action: "sms.refused",
                        object: &format!("outbox:{}", row.id),
                        detail,
                        ip: None,
                        at: now,
                    },
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(status)
}
