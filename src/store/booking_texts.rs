//! The texts a booking change queues, in the same transaction as the change: a confirmation and
//! a reminder for a new booking, a reminder moved by a reschedule (with a note to the patient),
//! reminders dropped by a cancel. Wording comes from `domain::sms`, times from the one
//! formatter in the clinic's zone. A patient who asked for e-mail only gets none of these.

use super::appointments::Appointment;
use super::orgs::Org;
use super::outbox::{self, NewSms, Purpose};
use super::OrgScope;
use crate::domain::channel::Channel;
use crate::domain::format::spoken_datetime;
use crate::domain::{sms, when};
use crate::error::AppResult;
use rusqlite::{params, Transaction};

fn patient_phone(tx: &Transaction<'_>, scope: &OrgScope, contact_id: i64) -> AppResult<String> {
    Ok(tx
        .prepare_cached("SELECT phone FROM contacts WHERE org_id = ?1 AND id = ?2")?
        .query_row(params![scope.org_id(), contact_id], |r| r.get(0))?)
}

/// Whether the patient takes booking texts (their channel preference).
fn takes_texts(tx: &Transaction<'_>, scope: &OrgScope, contact_id: i64) -> AppResult<bool> {
    let channel: String = tx
        .prepare_cached("SELECT channel FROM contacts WHERE org_id = ?1 AND id = ?2")?
        .query_row(params![scope.org_id(), contact_id], |r| r.get(0))?;
    Ok(Channel::parse(&channel).unwrap_or(Channel::Both).texts())
}

/// Queues a booking text, unless the patient asked for e-mail only.
fn queue(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    appt: &Appointment,
    purpose: Purpose,
    body: &str,
    // A reminder's dedupe key and moment; everything else goes now.
    scheduled: Option<(&str, i64)>,
    now: i64,
) -> AppResult<Option<i64>> {
    if !takes_texts(tx, scope, appt.contact_id)? {
        return Ok(None);
    }
    queue_anyway(tx, scope, appt, purpose, body, scheduled, now)
}

/// Queues a text whatever the preference says (staff asked for this one by name).
fn queue_anyway(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    appt: &Appointment,
    purpose: Purpose,
    body: &str,
    scheduled: Option<(&str, i64)>,
    now: i64,
) -> AppResult<Option<i64>> {
    let to = patient_phone(tx, scope, appt.contact_id)?;
    let (dedupe_key, send_after) = match scheduled {
        Some((key, at)) => (Some(key), at),
        None => (None, now),
    };
    outbox::enqueue(
        tx,
        scope,
        &NewSms {
            to: &to,
            body,
            purpose,
            contact_id: Some(appt.contact_id),
            appointment_id: Some(appt.id),
            call_id: appt.call_id.as_deref(),
            dedupe_key,
            send_after,
        },
        now,
    )
}

/// Schedules the one reminder for the appointment's current start, unless reminders are off
/// or its moment has already passed (the confirmation is then the last word).
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
    let body = sms::reminder_text(
        &org.name,
        &spoken_datetime(appt.start(), org.timezone),
        service,
    );
    let key = format!("reminder:{}:{}", appt.id, appt.start_at);
    queue(
        tx,
        scope,
        appt,
        Purpose::Reminder,
        &body,
        Some((&key, at)),
        now,
    )
}

/// A booking was confirmed: queue its confirmation (returned, to report `smsStatus`) and
/// schedule its reminder.
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

/// Queues (again) the confirmation text for an appointment.
pub fn send_confirmation(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    org: &Org,
    appt: &Appointment,
    service: &str,
    now: i64,
) -> AppResult<Option<i64>> {
    let body = sms::confirmation_text(
        &org.name,
        &spoken_datetime(appt.start(), org.timezone),
        service,
    );
    queue(tx, scope, appt, Purpose::Confirmation, &body, None, now)
}

/// An appointment moved from `old_start`: the old reminder is superseded, a new one scheduled
/// and the patient told. Returns the notice's outbox id.
pub fn on_rescheduled(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    org: &Org,
    old_start: chrono::DateTime<chrono::Utc>,
    appt: &Appointment,
    service: &str,
    now: i64,
) -> AppResult<Option<i64>> {
    outbox::withdraw_for_appointment(tx, scope, appt.id, &[Purpose::Reminder], "superseded", now)?;
    schedule_reminder(tx, scope, org, appt, service, now)?;
    let body = sms::reschedule_text(
        &org.name,
        &spoken_datetime(old_start, org.timezone),
        &spoken_datetime(appt.start(), org.timezone),
        service,
    );
    queue(tx, scope, appt, Purpose::Reschedule, &body, None, now)
}

/// An appointment was cancelled: texts not yet sent for it are dropped and, for a confirmed
/// booking, the patient told. Returns the notice's outbox id.
pub fn on_cancelled(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    org: &Org,
    appt: &Appointment,
    was_confirmed: bool,
    service: &str,
    now: i64,
) -> AppResult<Option<i64>> {
    outbox::withdraw_for_appointment(
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
    let body = sms::cancellation_text(
        &org.name,
        &spoken_datetime(appt.start(), org.timezone),
        service,
    );
    queue(tx, scope, appt, Purpose::Cancellation, &body, None, now)
}

/// Staff asked for a reminder now (dashboard or API): queues it for an upcoming confirmed
/// appointment and returns the number it goes to. Anything else is a Conflict, nothing queued.
pub fn send_reminder_now(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    org: &Org,
    appointment_id: i64,
    now: i64,
) -> AppResult<String> {
    let appt = super::appointments::get(tx, scope, appointment_id)?;
    if !appt.status.is_live() || appt.start_at <= now {
        return Err(crate::error::AppError::Conflict(
            "Only an upcoming confirmed appointment gets a reminder".into(),
        ));
    }
    let service = super::services::get(tx, scope, appt.service_id)?.name;
    let body = sms::reminder_text(
        &org.name,
        &spoken_datetime(appt.start(), org.timezone),
        &service,
    );
    queue_anyway(tx, scope, &appt, Purpose::Reminder, &body, None, now)?;
    patient_phone(tx, scope, appt.contact_id)
}
