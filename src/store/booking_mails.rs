//! The e-mails a booking change queues, in the same transaction as the change: a confirmation
//! with an invitation and a reminder for a new booking; a move notice with the updated
//! invitation (same UID, SEQUENCE + 1); a cancellation with `METHOD:CANCEL`. Each goes only
//! when the clinic has a mailbox, the patient has an address and their preference takes
//! e-mail. Wording comes from `domain::mail`, times from the one formatter in the clinic's zone.

use super::appointments::Appointment;
use super::email_outbox::{self, NewEmail};
use super::orgs::Org;
use super::outbox::Purpose;
use super::{email_settings, OrgScope};
use crate::domain::channel::Channel;
use crate::domain::format::zoned_datetime;
use crate::domain::ics::{self, Invitation, Method, Party};
use crate::domain::mail::{self, BookingMail, BookingMailKind};
use crate::domain::when;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

/// Who an e-mail goes to and from, once every condition for sending one holds.
struct Addressed {
    to: String,
    patient: Option<String>,
    from_address: String,
    from_name: String,
}

fn addressed(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    org: &Org,
    contact_id: i64,
    whatever_preference: bool,
) -> AppResult<Option<Addressed>> {
    let Some((from_address, from_name)) = email_settings::sender(tx, scope)? else {
        return Ok(None);
    };
    let contact: Option<(Option<String>, Option<String>, String)> = tx
        .prepare_cached("SELECT email, name, channel FROM contacts WHERE org_id = ?1 AND id = ?2")?
        .query_row(params![scope.org_id(), contact_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((Some(to), patient, channel)) = contact else {
        return Ok(None);
    };
    if !whatever_preference && !Channel::parse(&channel).unwrap_or(Channel::Both).emails() {
        return Ok(None);
    }
    Ok(Some(Addressed {
        to,
        patient,
        from_address,
        from_name: from_name.unwrap_or_else(|| org.name.clone()),
    }))
}

/// The practitioner's name, when the clinic books on more than one calendar: a clinic with a
/// single calendar has named it for itself ("Main calendar"), not for a person.
fn practitioner(tx: &Transaction<'_>, scope: &OrgScope, id: i64) -> AppResult<Option<String>> {
    Ok(tx
        .prepare_cached(
            "SELECT name FROM providers WHERE org_id = ?1 AND id = ?2
               AND (SELECT COUNT(*) FROM providers WHERE org_id = ?1 AND active = 1) > 1",
        )?
        .query_row(params![scope.org_id(), id], |r| r.get(0))
        .optional()?)
}

/// The appointment's invitation SEQUENCE, raised first when `bump` (a change).
fn sequence(tx: &Transaction<'_>, scope: &OrgScope, id: i64, bump: bool) -> AppResult<i64> {
    let sql = if bump {
        "UPDATE appointments SET ics_sequence = ics_sequence + 1
         WHERE org_id = ?1 AND id = ?2 RETURNING ics_sequence"
    } else {
        "SELECT ics_sequence FROM appointments WHERE org_id = ?1 AND id = ?2"
    };
    Ok(tx
        .prepare_cached(sql)?
        .query_row(params![scope.org_id(), id], |r| r.get(0))?)
}

/// What one booking e-mail is about.
struct About<'a> {
    appt: &'a Appointment,
    kind: BookingMailKind<'a>,
    purpose: Purpose,
    /// The invitation's method, or None for a mail without one (a reminder).
    method: Option<Method>,
    /// Raise the SEQUENCE (a move, a cancel).
    changed: bool,
    /// A reminder's dedupe key and moment; everything else goes now.
    scheduled: Option<(&'a str, i64)>,
    /// Staff asked for this one by name: the patient's channel preference does not apply.
    asked_by_staff: bool,
}

fn queue(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    org: &Org,
    about: About<'_>,
    service: &str,
    now: i64,
) -> AppResult<Option<i64>> {
    let appt = about.appt;
    // The SEQUENCE follows every change, e-mailed or not, so a later invitation outranks
    // whatever copy a calendar holds.
    let seq = sequence(tx, scope, appt.id, about.changed)?;
    let Some(who) = addressed(tx, scope, org, appt.contact_id, about.asked_by_staff)? else {
        return Ok(None);
    };
    let practitioner = practitioner(tx, scope, appt.provider_id)?;
    let when = zoned_datetime(appt.start(), org.timezone);
    let words = mail::booking_mail(&BookingMail {
        kind: about.kind,
        clinic: &org.name,
        patient: who.patient.as_deref(),
        when: &when,
        service,
        practitioner: practitioner.as_deref(),
    });
    let summary = mail::calendar_summary(service, &org.name);
    let description = match &practitioner {
        Some(p) => format!("{service} with {p}"),
        None => service.to_string(),
    };
    let ics = about.method.map(|method| {
        ics::invitation(&Invitation {
            method,
            event: ics::Event {
                uid: ics::appointment_uid(scope.org_id(), appt.id),
                start: appt.start(),
                end: DateTime::<Utc>::from_timestamp(appt.end_at, 0).unwrap_or(appt.start()),
                stamp: DateTime::<Utc>::from_timestamp(now, 0).unwrap_or(appt.start()),
                summary: &summary,
                description: &description,
                cancelled: method == Method::Cancel,
            },
            sequence: seq,
            organizer: Party {
                name: &who.from_name,
                address: &who.from_address,
            },
            attendee: Party {
                name: who.patient.as_deref().unwrap_or(&who.to),
                address: &who.to,
            },
        })
    });
    let (dedupe_key, send_after) = match about.scheduled {
        Some((key, at)) => (Some(key), at),
        None => (None, now),
    };
    email_outbox::enqueue(
        tx,
        scope,
        &NewEmail {
            to: &who.to,
            purpose: about.purpose,
            subject: &words.subject,
            text: &words.text,
            html: &words.html,
            calendar: about.method.zip(ics.as_deref()),
            contact_id: Some(appt.contact_id),
            appointment_id: Some(appt.id),
            call_id: appt.call_id.as_deref(),
            dedupe_key,
            send_after,
        },
        now,
    )
}

fn schedule_reminder(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    org: &Org,
    appt: &Appointment,
    service: &str,
    now: i64,
) -> AppResult<Option<i64>> {
    if org.reminder_hours == 0 {
        return Ok(None);
    }
    let at = when::wall_clock_before(org.timezone, appt.start(), org.reminder_hours).timestamp();
    if at <= now {
        return Ok(None);
    }
    let key = format!("reminder:{}:{}", appt.id, appt.start_at);
    queue(
        tx,
        scope,
        org,
        About {
            appt,
            kind: BookingMailKind::Reminder,
            purpose: Purpose::Reminder,
            method: None,
            changed: false,
            scheduled: Some((&key, at)),
            asked_by_staff: false,
        },
        service,
        now,
    )
}

/// A booking was confirmed: queue its confirmation with the invitation, and its reminder.
pub fn on_confirmed(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    org: &Org,
    appt: &Appointment,
    service: &str,
    now: i64,
) -> AppResult<Option<i64>> {
    let confirmation = send_confirmation(tx, scope, org, appt, service, now)?;
    schedule_reminder(tx, scope, org, appt, service, now)?;
    Ok(confirmation)
}

/// Queues (again) the confirmation e-mail with the invitation as it stands.
pub fn send_confirmation(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    org: &Org,
    appt: &Appointment,
    service: &str,
    now: i64,
) -> AppResult<Option<i64>> {
    queue(
        tx,
        scope,
        org,
        About {
            appt,
            kind: BookingMailKind::Confirmation,
            purpose: Purpose::Confirmation,
            method: Some(Method::Request),
            changed: false,
            scheduled: None,
            asked_by_staff: false,
        },
        service,
        now,
    )
}

/// An appointment moved from `old_start`: the old reminder is superseded, a new one
/// scheduled, and the updated invitation sent.
pub fn on_rescheduled(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    org: &Org,
    old_start: DateTime<Utc>,
    appt: &Appointment,
    service: &str,
    now: i64,
) -> AppResult<Option<i64>> {
    email_outbox::withdraw_for_appointment(
        tx,
        scope,
        appt.id,
        &[Purpose::Reminder],
        "superseded",
        now,
    )?;
    schedule_reminder(tx, scope, org, appt, service, now)?;
    let from = zoned_datetime(old_start, org.timezone);
    queue(
        tx,
        scope,
        org,
        About {
            appt,
            kind: BookingMailKind::Moved { from: &from },
            purpose: Purpose::Reschedule,
            method: Some(Method::Request),
            changed: true,
            scheduled: None,
            asked_by_staff: false,
        },
        service,
        now,
    )
}

/// An appointment was cancelled: e-mails not yet sent for it are dropped and, for a confirmed
/// booking, the cancellation sent.
pub fn on_cancelled(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    org: &Org,
    appt: &Appointment,
    was_confirmed: bool,
    service: &str,
    now: i64,
) -> AppResult<Option<i64>> {
    email_outbox::withdraw_for_appointment(
        tx,
        scope,
        appt.id,
        &[
            Purpose::Reminder,
            Purpose::Confirmation,
            Purpose::Reschedule,
        ],
        "cancelled",
        now,
    )?;
    if !was_confirmed {
        return Ok(None);
    }
    queue(
        tx,
        scope,
        org,
        About {
            appt,
            kind: BookingMailKind::Cancelled,
            purpose: Purpose::Cancellation,
            method: Some(Method::Cancel),
            changed: true,
            scheduled: None,
            asked_by_staff: false,
        },
        service,
        now,
    )
}

/// Staff asked for a reminder e-mail now: queues it for an upcoming confirmed appointment and
/// returns the address it goes to (whatever the patient's preference: staff asked for it by
/// name). An appointment not upcoming, a patient without an address or a clinic without a
/// mailbox is a Conflict, and nothing is queued.
pub fn send_reminder_now(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    org: &Org,
    appt: &Appointment,
    service: &str,
    now: i64,
) -> AppResult<String> {
    let conflict = |why: &str| Err(AppError::Conflict(why.into()));
    if !appt.status.is_live() || appt.start_at <= now {
        return conflict("Only an upcoming confirmed appointment gets a reminder");
    }
    if email_settings::sender(tx, scope)?.is_none() {
        return conflict("E-mail is not set up for this clinic yet (Settings → E-mail)");
    }
    let id = queue(
        tx,
        scope,
        org,
        About {
            appt,
            kind: BookingMailKind::Reminder,
            purpose: Purpose::Reminder,
            method: None,
            changed: false,
            scheduled: None,
            asked_by_staff: true,
        },
        service,
        now,
    )?;
    match id {
        Some(id) => Ok(tx
            .prepare_cached("SELECT recipient FROM email_outbox WHERE org_id = ?1 AND id = ?2")?
            .query_row(params![scope.org_id(), id], |r| r.get(0))?),
        None => conflict("This patient has no e-mail address on file"),
    }
}
