//! Texts left mid-send: a row in `sending` after a crash (all of them at start-up) or stuck
//! longer than [`outbox::STUCK_AFTER_SECS`] may or may not have reached Twilio. Before anything
//! is decided, the text is looked up on the clinic's account (`docs/twilio.md` §8):
//!
//! - found: recorded as sent with Twilio's SID, on the row and in `messages`, as a send is;
//! - not found: back to pending, and the sender sends it once;
//! - the lookup failed: the row stays mid-send and is looked up again later (never sent blind,
//!   never failed for a passing error); after [`MAX_TRIES`] lookups or [`MAX_AGE_SECS`] it is
//!   marked `interrupted` and audited, as nothing more can be learnt.
//!
//! The outbox job runs [`run_due`] before the sender.

use crate::app::AppState;
use crate::domain::sms;
use crate::error::AppResult;
use crate::integrations::twilio::{Credentials, ListedMessage};
use crate::store::audit::{self, Actor, Event};
use crate::store::outbox::{self, Settled};
use crate::store::outbox_reconcile::{self as stuck, Stuck};
use crate::store::{messages, twilio_credentials, OrgScope};

/// Rows looked up per pass.
const BATCH: i64 = 20;
/// How long a pass holds a row it is looking up (more than a lookup's Twilio timeouts).
const LEASE_SECS: i64 = 180;
/// Clocks differ: a text Twilio created this long before our claim still counts as this one.
const CLOCK_SKEW_SECS: i64 = 60;
/// Failed lookups before a row is given up.
pub const MAX_TRIES: i64 = 20;
/// Age of the claim after which a row whose lookup fails is given up.
pub const MAX_AGE_SECS: i64 = 24 * 3600;

/// Looks up every row due for it. Returns how many were handled.
pub async fn run_due(state: &AppState) -> AppResult<usize> {
    let mut handled = 0;
    loop {
        let now = state.clock.now().timestamp();
        let taken = state
            .db
            .write(move |tx| stuck::take_due_system(tx, now, LEASE_SECS, BATCH))
            .await?;
        if taken.is_empty() {
            return Ok(handled);
        }
        handled += taken.len();
        for (scope, row) in taken {
            reconcile(state, scope, row).await?;
        }
    }
}

/// What the lookup learnt about one row.
enum Finding {
    Sent(ListedMessage, Option<String>),
    NotSent,
    /// No credentials any more: nothing can be learnt, and nothing could be sent.
    NoAccount,
    Unknown(String),
}

async fn reconcile(state: &AppState, scope: OrgScope, s: Stuck) -> AppResult<()> {
    let finding = look_up(state, scope, &s).await;
    let now = state.clock.now().timestamp();
    let (id, claimed_at) = (s.row.id, s.claimed_at);
    let segments = i64::try_from(sms::segments(&s.row.body).segments).ok();
    state
        .db
        .write(move |tx| {
            if !stuck::is_stuck(tx, &scope, id, claimed_at)? {
                return Ok(());
            }
            match finding {
                Finding::Sent(m, sender) => {
                    let outcome = Settled::Sent {
                        provider_sid: &m.sid,
                    };
                    outbox::settle(tx, &scope, id, true, &outcome, now)?;
                    let row = &s.row;
                    messages::record_attempt(
                        tx,
                        &scope,
                        &messages::Attempt {
                            outbox_id: id,
                            contact_id: row.contact_id,
                            appointment_id: row.appointment_id,
                            call_id: row.call_id.as_deref(),
                            purpose: &row.purpose,
                            recipient: &row.recipient,
                            sender: m.from.as_deref().or(sender.as_deref()),
                            body: &row.body,
                            segments,
                            status: m.status.as_deref().unwrap_or("queued"),
                            provider_sid: Some(&m.sid),
                            error_code: None,
                            error_message: None,
                            attempt: row.attempts + 1,
                        },
                        now,
                    )?;
                }
                Finding::NotSent => stuck::requeue(tx, &scope, id, now)?,
                Finding::NoAccount => give_up(
                    tx,
                    &scope,
                    id,
                    "the send was interrupted and Twilio is no longer set up to check it; not re-sent",
                    now,
                )?,
                Finding::Unknown(why) => {
                    let exhausted = s.tries + 1 >= MAX_TRIES || now - claimed_at >= MAX_AGE_SECS;
                    if exhausted {
                        give_up(
                            tx,
                            &scope,
                            id,
                            "the send was interrupted and Twilio could not be asked whether it went out; not re-sent",
                            now,
                        )?;
                    } else {
                        let detail = format!("the send was interrupted; Twilio will be asked again ({why})");
                        stuck::postpone(tx, &scope, id, now + lookup_delay(s.tries), &detail, now)?;
                    }
                }
            }
            Ok(())
        })
        .await
}

fn give_up(
    tx: &rusqlite::Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    detail: &str,
    now: i64,
) -> AppResult<()> {
    stuck::give_up(tx, scope, id, detail, now)?;
    audit::record(
        tx,
        scope,
        &Event {
            actor: &Actor::System("outbox"),
            action: "sms.interrupted",
            object: &format!("outbox:{id}"),
            detail,
            ip: None,
            at: now,
        },
    )
}

/// The wait before the next lookup after `tries` failed ones: 30 s, doubling, at most 1 h.
fn lookup_delay(tries: i64) -> i64 {
    let doublings = u32::try_from(tries.clamp(0, 7)).unwrap_or(7);
    (30 * 2_i64.pow(doublings)).min(3600)
}

async fn look_up(state: &AppState, scope: OrgScope, s: &Stuck) -> Finding {
    let vault = state.vault.clone();
    let creds = match state
        .db
        .read(move |c| twilio_credentials::get(c, &vault, &scope))
        .await
    {
        Ok(Some(creds)) => creds,
        Ok(None) => return Finding::NoAccount,
        Err(e) => return Finding::Unknown(e.to_string()),
    };
    let text = match s.row.text_to_send(&state.vault, &scope) {
        Ok(t) => t,
        Err(e) => return Finding::Unknown(e.to_string()),
    };
    let since = s.claimed_at - CLOCK_SKEW_SECS;
    let Some(date) = chrono::DateTime::from_timestamp(since, 0).map(|t| t.date_naive()) else {
        return Finding::Unknown("the claim time is out of range".into());
    };
    let listed = match state
        .twilio
        .list_messages(&creds, &s.row.recipient, date)
        .await
    {
        Ok(listed) => listed,
        Err(e) => return Finding::Unknown(e.message().to_string()),
    };
    let mut candidates: Vec<ListedMessage> = listed
        .into_iter()
        .filter(|m| is_this_text(m, &creds, &s.row.recipient, &text, since))
        .collect();
    // The earliest match is the one closest to the claim; one already recorded for another
    // row is not this one.
    candidates.sort_by_key(|m| m.created_at());
    for m in candidates {
        let sid = m.sid.clone();
        match state
            .db
            .read(move |c| messages::outbound_sid_known(c, &scope, &sid))
            .await
        {
            Ok(true) => continue,
            Ok(false) => {
                return Finding::Sent(m, creds.from_number.or(creds.messaging_service_sid));
            }
            Err(e) => return Finding::Unknown(e.to_string()),
        }
    }
    Finding::NotSent
}

/// Whether a listed text is the one this row would have sent: outbound, to the recipient,
/// from the clinic's number or Messaging Service, the same body, created since the claim.
fn is_this_text(m: &ListedMessage, creds: &Credentials, to: &str, body: &str, since: i64) -> bool {
    let sender = match (&creds.messaging_service_sid, &creds.from_number) {
        (Some(mg), _) => m.messaging_service_sid.as_deref() == Some(mg.as_str()),
        (None, Some(from)) => m.from.as_deref() == Some(from.as_str()),
        (None, None) => false,
    };
    m.direction.starts_with("outbound")
        && m.to == to
        && sender
        && m.body == body
        && m.created_at().is_some_and(|t| t >= since)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn creds(mg: Option<&str>) -> Credentials {
        Credentials {
            account_sid: "AC1".into(),
            key_sid: None,
            secret: Secret::new("t"),
            from_number: Some("+15005550006".into()),
            messaging_service_sid: mg.map(str::to_string),
        }
    }

    fn listed(from: &str, mg: Option<&str>, body: &str, created: &str) -> ListedMessage {
        serde_json::from_value(serde_json::json!({
            "sid": "SM1", "body": body, "to": "+14155550100", "from": from,
            "messaging_service_sid": mg, "status": "sent", "direction": "outbound-api",
            "date_created": created
        }))
        .unwrap()
    }

    #[test]
    fn matches_only_the_same_text_since_the_claim() {
        let at = "Mon, 15 Jun 2026 14:00:05 +0000";
        let since = 1_781_532_000; // 14:00:00
        let c = creds(None);
        let to = "+14155550100";
        assert!(is_this_text(
            &listed("+15005550006", None, "Hi", at),
            &c,
            to,
            "Hi",
            since
        ));
        assert!(!is_this_text(
            &listed("+15005550006", None, "Hi!", at),
            &c,
            to,
            "Hi",
            since
        ));
        assert!(!is_this_text(
            &listed("+15005550007", None, "Hi", at),
            &c,
            to,
            "Hi",
            since
        ));
        let before = "Mon, 15 Jun 2026 13:59:59 +0000";
        assert!(!is_this_text(
            &listed("+15005550006", None, "Hi", before),
            &c,
            to,
            "Hi",
            since
        ));
        let mg = creds(Some("MG1"));
        assert!(is_this_text(
            &listed("+15005550123", Some("MG1"), "Hi", at),
            &mg,
            to,
            "Hi",
            since
        ));
        assert!(!is_this_text(
            &listed("+15005550006", None, "Hi", at),
            &mg,
            to,
            "Hi",
            since
        ));
    }

    #[test]
    fn lookups_back_off_to_an_hour() {
        assert_eq!(lookup_delay(0), 30);
        assert_eq!(lookup_delay(1), 60);
        assert_eq!(lookup_delay(10), 3600);
    }
}
