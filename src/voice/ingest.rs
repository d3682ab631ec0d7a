//! Call-event ingest: keep the raw event, then process it into the call, its contact and, when
//! the call has ended, what it came to (booking, value, lead score).
//!
//! The work is split so the single database writer only runs SQL: [`prepare`] (redaction, JSON
//! reading, catalogue matching) runs on a blocking thread first; [`keep_and_process`] then
//! keeps the event and processes it in one write. Processing runs in its own savepoint: if it
//! fails, it is rolled back, the event stays with its redacted body, and the calls job retries
//! it, so an event is never lost to a processing error and a failure never leaves half a call.
//! A body is only written when it is needed again: keeping and processing commit together or
//! not at all, so an event processed in the same write would have its body dropped anyway.

use crate::domain::attention;
use crate::domain::calls::{self, CallFacts, CallType, PricedService};
use crate::domain::catalog;
use crate::domain::lead::{self, LeadSignals, Tier};
use crate::domain::mail::HotLead;
use crate::domain::redact;
use crate::domain::sms;
use crate::error::AppResult;
use crate::store::attention as attention_items;
use crate::store::calls::Outcome;
use crate::store::outbox::{self, NewSms, Purpose};
use crate::store::services::{self, Service};
use crate::store::{
    alert_mails, call_events, calls as call_store, contacts, leads, voice_agent, OrgScope,
};
use crate::voice::call_event::{self, CallEvent, Dedupe, EventKind};
use rusqlite::Transaction;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A call event ready to be written.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub event: CallEvent,
    /// The redacted `message` object, stored if processing fails.
    pub message: Value,
    /// Catalogue services the caller mentioned (report only).
    pub mentioned: Vec<PricedService>,
    pub booking_intent: bool,
}

impl Prepared {
    /// The event's dedupe key; `raw` is the request body as received (hashed, never stored).
    pub fn dedupe_key(&self, raw: &[u8]) -> String {
        match &self.event.dedupe {
            Dedupe::Status(s) => s.clone(),
            Dedupe::Once => String::new(),
            Dedupe::BodyHash => hex::encode(&Sha256::digest(raw)[..16]),
        }
    }
}

/// Redacts `message` and reads the call event in it (see the module doc). `None` when the
/// message is not a call event we keep, or names no call.
pub fn prepare(
    kind: &str,
    mut message: Value,
    services: &[Service],
    country: &str,
    received_at: i64,
) -> Option<Prepared> {
    EventKind::from_type(kind)?;
    redact::redact_json(&mut message);
    let event = call_event::read(kind, &message, country, received_at)?;
    let (mentioned, booking_intent) = if event.kind == EventKind::Report {
        let terms: Vec<catalog::ServiceTerms<'_>> = services
            .iter()
            .map(|s| catalog::ServiceTerms {
                name: &s.name,
                keywords: &s.keywords,
            })
            .collect();
        let mentioned = catalog::mentioned(&event.caller_text, &terms)
            .into_iter()
            .filter_map(|i| services.get(i))
            .map(priced)
            .collect();
        let intent = lead::booking_intent(&event.caller_text)
            || event
                .facts
                .summary
                .as_deref()
                .is_some_and(lead::booking_intent);
        (mentioned, intent)
    } else {
        (Vec::new(), false)
    };
    Some(Prepared {
        event,
        message,
        mentioned,
        booking_intent,
    })
}

fn priced(s: &Service) -> PricedService {
    PricedService {
        name: s.name.clone(),
        price_cents: s.price_cents,
    }
}

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Kept and processed; `alert_queued` when it queued a hot-lead text (wake the sender).
    Processed { alert_queued: bool },
    /// The same event was kept before; nothing was done.
    Duplicate,
    /// Kept, but processing failed; the calls job will retry it.
    Deferred,
}

/// Keeps the event (unless it is a repeat) and processes it. Runs inside the writer's
/// transaction.
pub fn keep_and_process(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    p: &Prepared,
    dedupe: &str,
    now: i64,
) -> AppResult<Kept> {
    let stored = call_events::record(
        tx,
        scope,
        &call_events::NewEvent {
            call_id: &p.event.call_id,
            kind: p.event.kind.as_str(),
            status: p.event.status.as_deref(),
            dedupe,
            received_at: now,
        },
    )?;
    match stored {
        Some(id) => process_kept(tx, scope, id, p, now),
        None => Ok(Kept::Duplicate),
    }
}

/// Processes a kept event in a savepoint; on failure rolls the processing back and leaves the
/// event for a retry with the error noted.
pub fn process_kept(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    event_id: i64,
    p: &Prepared,
    now: i64,
) -> AppResult<Kept> {
    match crate::store::in_savepoint(tx, |tx| apply(tx, scope, p, now))? {
        Ok(alert_queued) => {
            call_events::mark_processed(tx, scope, event_id, now)?;
            Ok(Kept::Processed { alert_queued })
        }
        Err(e) => {
            tracing::error!(error = %e, event = event_id, "a call event could not be processed; it will be retried");
            call_events::mark_failed(
                tx,
                scope,
                event_id,
                &e.to_string(),
                Some(&p.message.to_string()),
            )?;
            Ok(Kept::Deferred)
        }
    }
}

/// Folds the event into its call and, for the report, works out what the call came to and
/// queues the hot-lead alert. Returns whether an alert was queued.
fn apply(tx: &Transaction<'_>, scope: &OrgScope, p: &Prepared, now: i64) -> AppResult<bool> {
    let e = &p.event;
    let existing = call_store::find_by_vapi_id(tx, scope, &e.call_id)?;
    let (stored, linked, row, created_at) = match existing {
        Some(r) => (r.facts, r.contact_id, Some(r.id), r.created_at),
        None => (CallFacts::default(), None, None, now),
    };
    let facts = calls::merge(stored, e.facts.clone(), e.authority);
    // The contact is written on first sight of the number, and again when a name comes in.
    let contact_id = match (&facts.customer_number, linked) {
        (Some(number), None) => {
            Some(contacts::upsert(tx, scope, number, e.customer_name.as_deref(), None, now)?.id)
        }
        (Some(number), Some(_)) if e.customer_name.is_some() => {
            Some(contacts::upsert(tx, scope, number, e.customer_name.as_deref(), None, now)?.id)
        }
        (_, linked) => linked,
    };
    let outcome = match e.kind {
        EventKind::Report => {
            let occurred_at = facts.started_at.unwrap_or(created_at);
            Some(outcome(tx, scope, row, occurred_at, &facts, contact_id, p)?)
        }
        _ => None,
    };
    let call_row = call_store::save(
        tx,
        scope,
        &e.call_id,
        &facts,
        contact_id,
        outcome.as_ref(),
        now,
    )?;
    let Some(o) = &outcome else {
        return Ok(false);
    };
    let reasons = attention::call_reasons(&attention::CallSignals {
        inbound: facts.call_type.is_none_or(|t| t != CallType::Outbound),
        ended_reason: facts.ended_reason.as_deref(),
        duration_secs: facts.duration_ms.map(|ms| ms / 1000),
        caller_text: &e.caller_text,
        booked: o.booked,
        booking_intent: p.booking_intent,
    });
    attention_items::record_call(
        tx,
        scope,
        call_row,
        &reasons,
        facts.ended_at.or(facts.started_at).unwrap_or(now),
    )?;
    let attention_mailed = if reasons.iter().any(|r| r.is_urgent()) {
        let name = match contact_id {
            Some(c) => leads::get(tx, scope, c)?.name,
            None => e.customer_name.clone(),
        };
        let labels: Vec<&str> = reasons.iter().map(|r| r.label()).collect();
        alert_mails::queue_attention(
            tx,
            scope,
            (
                name.as_deref(),
                facts.customer_number.as_deref().unwrap_or(""),
            ),
            &labels,
            &alert_mails::About {
                call_id: &e.call_id,
                contact_id,
                appointment_id: o.appointment_id,
            },
            now,
        )? > 0
    } else {
        false
    };
    if let Some(contact) = contact_id {
        let status = calls::next_lead_status(
            leads::status(tx, scope, contact)?,
            o.booked,
            p.booking_intent,
        );
        leads::record_call(
            tx,
            scope,
            contact,
            &leads::CallOutcome {
                status,
                score: o.lead_score.unwrap_or(0),
                tier: o.lead_tier.unwrap_or(Tier::Cold),
                services: &o.services,
                contacted_at: facts.ended_at.unwrap_or(now),
                vapi_call_id: &e.call_id,
            },
            now,
        )?;
    }
    Ok(queue_hot_lead_alert(tx, scope, p, &facts, contact_id, o, now)? || attention_mailed)
}

/// The hot-lead alert when the call scored at least the clinic's threshold: a text to the
/// clinic's alert phone and an e-mail to its owners. Exactly once per call: the outboxes
/// refuse a second `hot_lead:{call id}` (per owner for e-mail), so even a report processed
/// again (a retry after a failure) sends nothing more.
fn queue_hot_lead_alert(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    p: &Prepared,
    facts: &CallFacts,
    contact_id: Option<i64>,
    o: &Outcome,
    now: i64,
) -> AppResult<bool> {
    let (threshold, phone) = voice_agent::hot_lead_alert(tx, scope)?;
    let Some(score) = o.lead_score else {
        return Ok(false);
    };
    if score < threshold {
        return Ok(false);
    }
    let name = match contact_id {
        Some(c) => leads::get(tx, scope, c)?.name,
        None => p.event.customer_name.clone(),
    };
    let number = facts.customer_number.as_deref().unwrap_or("");
    let service = o.services.first().map(String::as_str);
    let emailed = alert_mails::queue_hot_lead(
        tx,
        scope,
        &HotLead {
            name: name.as_deref(),
            phone: number,
            service,
            score,
            booked: o.booked,
        },
        &alert_mails::About {
            call_id: &p.event.call_id,
            contact_id,
            appointment_id: o.appointment_id,
        },
        now,
    )? > 0;
    let Some(to) = phone else {
        return Ok(emailed);
    };
    let body = sms::hot_lead_alert_text(name.as_deref(), number, service, score, o.booked);
    let dedupe = format!("hot_lead:{}", p.event.call_id);
    let queued = outbox::enqueue(
        tx,
        scope,
        &NewSms {
            to: &to,
            body: &body,
            purpose: Purpose::HotLeadAlert,
            contact_id,
            appointment_id: o.appointment_id,
            call_id: Some(&p.event.call_id),
            dedupe_key: Some(&dedupe),
            send_after: now,
        },
        now,
    )?;
    Ok(queued.is_some() || emailed)
}

/// What the ended call came to: the booking made on it, its value, its lead score.
fn outcome(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    row: Option<i64>,
    occurred_at: i64,
    facts: &CallFacts,
    contact_id: Option<i64>,
    p: &Prepared,
) -> AppResult<Outcome> {
    let booked = call_store::booked_appointment(tx, scope, &p.event.call_id)?;
    let booked_service = match booked {
        Some((_, service_id)) => Some(priced(&services::get(tx, scope, service_id)?)),
        None => None,
    };
    let (value_cents, services) = calls::pipeline_value(&p.mentioned, booked_service.as_ref());
    let returning_caller = match contact_id {
        Some(c) => call_store::contact_called_before(tx, scope, c, row, occurred_at)?,
        None => false,
    };
    let signals = LeadSignals {
        booking_intent: p.booking_intent,
        booked: booked.is_some(),
        value_cents,
        duration_secs: facts.duration_ms.map_or(0, |ms| (ms.max(0) / 1000) as u64),
        sentiment: facts.sentiment,
        returning_caller,
    };
    let score = lead::score(&signals);
    Ok(Outcome {
        booked: booked.is_some(),
        appointment_id: booked.map(|(id, _)| id),
        value_cents,
        services,
        lead_score: Some(score.total),
        lead_tier: Some(score.tier),
        score_json: Some(serde_json::to_string(&score).map_err(crate::error::AppError::internal)?),
    })
}
