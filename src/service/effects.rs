//! The effects of a booking change, declared once. Each is queued in the change's own write
//! transaction (an outbox row), so a change and everything it sets going commit together or
//! not at all; the senders deliver them afterwards (texts: `messaging`, e-mails: `mailing`).
//! A new channel (a calendar push) is one more line in each function here.

use crate::error::AppResult;
use crate::store::appointments::Appointment;
use crate::store::orgs::Org;
use crate::store::{booking_mails, booking_texts, OrgScope};
use chrono::{DateTime, Utc};
use rusqlite::Transaction;

/// What a booking change queued that its caller may report on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Queued {
    /// The text telling the patient (confirmation, move or cancellation notice), if any.
    pub patient_text: Option<i64>,
    /// The e-mail telling the patient (with its invitation), if any.
    pub patient_email: Option<i64>,
}

/// A booking change, as its effects see it.
pub enum BookingChange<'a> {
    /// A new booking, or a hold that became one.
    Confirmed(&'a Appointment),
    /// A confirmed booking moved from `from`.
    Moved {
        from: DateTime<Utc>,
        to: &'a Appointment,
    },
    /// A booking or hold cancelled; `was_confirmed` tells whether the patient had been told of it.
    Cancelled {
        appointment: &'a Appointment,
        was_confirmed: bool,
    },
    /// Staff asked for the confirmation again.
    ConfirmationAgain(&'a Appointment),
}

/// Queues everything `change` sets going, in its transaction.
pub fn queue(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    org: &Org,
    change: BookingChange<'_>,
    service: &str,
    now: i64,
) -> AppResult<Queued> {
    let patient_text = match &change {
        BookingChange::Confirmed(a) => {
            booking_texts::on_confirmed(tx, scope, org, a, service, now)?
        }
        BookingChange::Moved { from, to } => {
            booking_texts::on_rescheduled(tx, scope, org, *from, to, service, now)?
        }
        BookingChange::Cancelled {
            appointment,
            was_confirmed,
        } => {
            booking_texts::on_cancelled(tx, scope, org, appointment, *was_confirmed, service, now)?
        }
        BookingChange::ConfirmationAgain(a) => {
            booking_texts::send_confirmation(tx, scope, org, a, service, now)?
        }
    };
    let patient_email = match &change {
        BookingChange::Confirmed(a) => {
            booking_mails::on_confirmed(tx, scope, org, a, service, now)?
        }
        BookingChange::Moved { from, to } => {
            booking_mails::on_rescheduled(tx, scope, org, *from, to, service, now)?
        }
        BookingChange::Cancelled {
            appointment,
            was_confirmed,
        } => {
            booking_mails::on_cancelled(tx, scope, org, appointment, *was_confirmed, service, now)?
        }
        BookingChange::ConfirmationAgain(a) => {
            booking_mails::send_confirmation(tx, scope, org, a, service, now)?
        }
    };
    Ok(Queued {
        patient_text,
        patient_email,
    })
}
