//! What staff can do with one call, from the Calls page and from the JSON API alike: export
//! its transcript, share its recording through a link that works for 24 hours, and send the
//! caller a follow-up text through the outbox. Each action writes its audit row.

use crate::app::AppState;
use crate::crypto;
use crate::domain::calls::CallType;
use crate::domain::conversation::{transcript_file, turns};
use crate::domain::format::{short_datetime, zoned_datetime};
use crate::domain::phone::PhoneNumber;
use crate::domain::sms;
use crate::error::{AppError, AppResult};
use crate::service::mailing::{self, Emailed};
use crate::service::messaging as sender;
use crate::store::audit::{self, Event, Who};
use crate::store::calls::{self as call_store, CallRow};
use crate::store::outbox::SmsStatus;
use crate::store::outbox::{self, NewSms, Purpose};
use crate::store::recording_shares::{self, NewShare};
use crate::store::{leads, opt_outs, orgs, OrgScope};
use chrono::{DateTime, Duration, Utc};
use rusqlite::Transaction;

/// How long a shared recording link works.
pub const SHARE_FOR: Duration = Duration::hours(24);

/// How long a follow-up's first attempt is waited for before answering "queued".
const FIRST_ATTEMPT_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

fn record(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    by: &Who,
    action: &str,
    call_id: i64,
    detail: &str,
    at: i64,
) -> AppResult<()> {
    audit::record(
        tx,
        scope,
        &Event {
            actor: &by.actor,
            action,
            object: &format!("call:{call_id}"),
            detail: &format!("{detail} via {}", by.via),
            ip: by.ip.as_deref(),
            at,
        },
    )
}

/// The caller's number on a call (the customer's side, whichever way it went).
fn caller_number(call: &CallRow) -> Option<&str> {
    call.facts.customer_number.as_deref()
}

/// A transcript ready to download.
pub struct TranscriptFile {
    pub filename: String,
    pub body: String,
}

pub async fn export_transcript(
    state: &AppState,
    scope: OrgScope,
    call_id: i64,
    by: Who,
) -> AppResult<TranscriptFile> {
    let (org, call, name) = state
        .db
        .read(move |c| {
            let call = call_store::get(c, &scope, call_id)?;
            let name = match call.contact_id {
                Some(id) => leads::get(c, &scope, id)?.name,
                None => None,
            };
            Ok((orgs::get(c, &scope)?, call, name))
        })
        .await?;
    let f = &call.facts;
    let when = DateTime::from_timestamp(f.started_at.unwrap_or(call.created_at), 0)
        .map(|t| short_datetime(t, org.timezone))
        .unwrap_or_default();
    let number = caller_number(&call).unwrap_or("unknown number");
    let caller = match &name {
        Some(n) => format!("{n} ({number})"),
        None => number.to_string(),
    };
    let mut header = vec![
        ("Clinic", org.name.clone()),
        (
            "Call",
            call.vapi_call_id
                .clone()
                .unwrap_or_else(|| call.id.to_string()),
        ),
        ("When", when),
        (
            "Direction",
            f.call_type.map_or("unknown", CallType::as_str).to_string(),
        ),
        ("Caller", caller),
    ];
    if let Some(ms) = f.duration_ms {
        header.push(("Duration", format!("{} s", ms / 1000)));
    }
    if let Some(s) = &f.summary {
        header.push(("Summary", s.replace('\n', " ")));
    }
    let body = transcript_file(
        &header,
        &turns(f.messages_json.as_deref(), f.transcript.as_deref()),
        f.transcript.as_deref(),
    );
    let now = state.clock.now().timestamp();
    state
        .db
        .write(move |tx| {
            record(
                tx,
                &scope,
                &by,
                "call.transcript_exported",
                call_id,
                "format=txt",
                now,
            )
        })
        .await?;
    Ok(TranscriptFile {
        filename: format!("call-{call_id}-transcript.txt"),
        body,
    })
}

/// A working share link, and what became of the e-mail carrying it when an address was given.
pub struct ShareLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub emailed: Option<(String, Emailed)>,
}

/// An e-mail address as given, or an error (the one check every address passes).
fn email(raw: &str) -> AppResult<String> {
    crate::domain::mail::check_address(raw).map_err(|_| {
        AppError::Validation("Give a valid email address, like name@example.com.".into())
    })
}

/// Shares the call's recording: a random token (only its hash is kept) behind
/// `{base_url}/shared/recordings/{token}`, working for [`SHARE_FOR`].
pub async fn share_recording(
    state: &AppState,
    scope: OrgScope,
    call_id: i64,
    email_to: Option<&str>,
    base_url: &str,
    by: Who,
) -> AppResult<ShareLink> {
    let email_to = email_to
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(email)
        .transpose()?;
    let call = state
        .db
        .read(move |c| call_store::get(c, &scope, call_id))
        .await?;
    if call.facts.recording_url.is_none() {
        return Err(AppError::Validation(
            "This call has no recording to share.".into(),
        ));
    }
    let token = crypto::random_token(32);
    let hash = crypto::token_hash(&token);
    let now = state.clock.now();
    let expires_at = now + SHARE_FOR;
    let detail = format!(
        "expires={} email={}",
        expires_at.to_rfc3339(),
        email_to.as_deref().unwrap_or("-")
    );
    let recorded_email = email_to.clone();
    state
        .db
        .write(move |tx| {
            let share = NewShare {
                call_id,
                token_hash: &hash,
                email: recorded_email.as_deref(),
                created_by: by.staff_id(),
                expires_at: expires_at.timestamp(),
            };
            recording_shares::create(tx, &scope, &share, now.timestamp())?;
            record(
                tx,
                &scope,
                &by,
                "call.recording_shared",
                call_id,
                &detail,
                now.timestamp(),
            )
        })
        .await?;
    let url = format!(
        "{}/shared/recordings/{token}",
        base_url.trim_end_matches('/')
    );
    let emailed = match email_to {
        Some(to) => {
            let until = zoned_datetime(expires_at, org_zone(state, scope).await?);
            let outcome = mailing::send_share(state, scope, &to, &url, &until).await?;
            Some((to, outcome))
        }
        None => None,
    };
    Ok(ShareLink {
        url,
        expires_at,
        emailed,
    })
}

async fn org_zone(state: &AppState, scope: OrgScope) -> AppResult<chrono_tz::Tz> {
    state
        .db
        .read(move |c| Ok(orgs::get(c, &scope)?.timezone))
        .await
}

/// A follow-up handed to the outbox.
pub struct FollowUp {
    pub outbox_id: i64,
    pub phone: String,
    pub status: SmsStatus,
    /// Twilio's message id, when it accepted the text during the request.
    pub provider_sid: Option<String>,
}

/// Texts the caller of a call (at most 160 characters) through the outbox, unless the number
/// opted out; tries to send at once and says how that went.
pub async fn send_follow_up(
    state: &AppState,
    scope: OrgScope,
    call_id: i64,
    message: &str,
    by: Who,
) -> AppResult<FollowUp> {
    let body = sms::follow_up_text(message).map_err(AppError::Validation)?;
    let call = state
        .db
        .read(move |c| call_store::get(c, &scope, call_id))
        .await?;
    let phone = caller_number(&call)
        .and_then(|n| PhoneNumber::parse(n, &state.config.default_country).ok())
        .ok_or_else(|| AppError::Validation("This call has no caller number to text.".into()))?
        .as_str()
        .to_string();
    let now = state.clock.now().timestamp();
    let (to, vapi_id, contact_id) = (phone.clone(), call.vapi_call_id.clone(), call.contact_id);
    let outbox_id = state
        .db
        .write(move |tx| {
            if opt_outs::contains(tx, &scope, &to)? {
                return Err(AppError::Validation(
                    "This number has opted out of texts (it replied STOP); nothing was sent."
                        .into(),
                ));
            }
            let id = outbox::enqueue(
                tx,
                &scope,
                &NewSms {
                    to: &to,
                    body: &body,
                    purpose: Purpose::FollowUp,
                    contact_id,
                    appointment_id: None,
                    call_id: vapi_id.as_deref(),
                    dedupe_key: None,
                    send_after: now,
                },
                now,
            )?
            .ok_or_else(|| AppError::internal("follow-up was not queued"))?;
            record(
                tx,
                &scope,
                &by,
                "call.follow_up_sent",
                call_id,
                &format!("outbox={id}"),
                now,
            )?;
            Ok(id)
        })
        .await?;
    let told = sender::attempt_now_told(state, scope, outbox_id, FIRST_ATTEMPT_WAIT).await;
    Ok(FollowUp {
        outbox_id,
        phone,
        status: told.status,
        provider_sid: told.provider_sid,
    })
}

#[cfg(test)]
mod tests {
    use super::email;

    #[test]
    fn emails_get_a_light_check() {
        assert_eq!(email(" dana@example.com ").unwrap(), "dana@example.com");
        for bad in [
            "",
            "dana",
            "dana@",
            "@example.com",
            "da na@example.com",
            "dana@example",
            "a@b@c.com",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }
}
