//! The booking workflow, one function per change: hold, book, confirm a hold, reschedule,
//! cancel, record an outcome, text a reminder now. Each runs inside the caller's write
//! transaction (the slot check stays serialized there) and does the whole change: the row,
//! its audit entry and its effects ([`effects::queue`]). The phone tools, the dashboard and
//! the JSON API all come through here; what differs between them is a parameter, [`Door`].

use crate::domain::channel::Channel;
use crate::domain::practitioner::{refusal_sentence, Practitioner, Working};
use crate::domain::schedule::{self, BookingRules, Calendar, SlotRefusal};
use crate::error::{AppError, AppResult};
use crate::service::effects::{self, BookingChange, Queued};
use crate::store::appointments::{
    self, Appointment, AppointmentStatus, ConfirmRefusal, Placed, SlotRequest, Source,
};
use crate::store::audit::{self, Event, Who};
use crate::store::orgs::Org;
use crate::store::services::{self, Service};
use crate::store::{booking_mails, booking_texts, contacts, verification, OrgScope};
use chrono::{DateTime, Utc};
use rusqlite::Transaction;

/// Through which door a booking change comes. Callers get the clinic's minimum notice; staff
/// at the desk book at any time the clinic's hours, closures, horizon and grid allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    Phone,
    Desk,
}

impl Door {
    fn source(self) -> Source {
        match self {
            Door::Phone => Source::PhoneAi,
            Door::Desk => Source::Staff,
        }
    }

    /// The rules a start is checked against through this door.
    pub fn rules(self, org: &Org) -> BookingRules {
        match self {
            Door::Phone => org.rules,
            Door::Desk => BookingRules {
                min_notice_minutes: 0,
                ..org.rules
            },
        }
    }
}

/// Checks a start against the clinic's rules as they apply through `door`.
pub fn check_start(
    org: &Org,
    door: Door,
    start: DateTime<Utc>,
    minutes: u32,
    now: DateTime<Utc>,
) -> Result<(), SlotRefusal> {
    let rules = door.rules(org);
    let cal = Calendar {
        tz: org.timezone,
        hours: &org.hours,
        closures: &org.closures,
        rules: &rules,
    };
    schedule::check_start(&cal, start, minutes, now)
}

/// Each practitioner's bookable calendar under the clinic's.
pub fn working(org: &Org, practitioners: &[Practitioner]) -> Vec<Working> {
    practitioners
        .iter()
        .map(|p| Working::of(p, &org.hours, &org.closures))
        .collect()
}

/// Which of `candidates` can take `start`: by the clinic's rules through `door`, then by each
/// one's own hours and days off. `Err` is the sentence saying why nobody can.
pub fn who_can_take(
    org: &Org,
    door: Door,
    working: &[Working],
    candidates: &[i64],
    start: DateTime<Utc>,
    minutes: u32,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, String> {
    check_start(org, door, start, minutes, now).map_err(|r| r.to_string())?;
    let rules = door.rules(org);
    let mut refusals = Vec::new();
    let able: Vec<i64> = candidates
        .iter()
        .filter_map(|id| working.iter().find(|w| w.id == *id))
        .filter(|w| {
            match schedule::check_start(&w.calendar(org.timezone, &rules), start, minutes, now) {
                Ok(()) => true,
                Err(r) => {
                    refusals.push(refusal_sentence(&w.name, &r));
                    false
                }
            }
        })
        .map(|w| w.id)
        .collect();
    match (able.is_empty(), refusals.as_slice()) {
        (false, _) => Ok(able),
        (true, [one]) => Err(one.clone()),
        (true, _) => Err("None of the practitioners who do that is working at that time.".into()),
    }
}

/// Who makes a change, through which door, and when: what every booking change carries.
#[derive(Debug, Clone)]
pub struct Change {
    pub scope: OrgScope,
    pub org: Org,
    pub door: Door,
    pub who: Who,
    /// What the audit entry says besides the change itself (say, the call and tool call).
    pub context: String,
    pub now: i64,
}

impl Change {
    fn audit(&self, tx: &Transaction<'_>, action: &str, appt: i64, detail: &str) -> AppResult<()> {
        let detail = match (self.context.is_empty(), detail.is_empty()) {
            (true, _) => detail.to_string(),
            (false, true) => self.context.clone(),
            (false, false) => format!("{} {detail}", self.context),
        };
        audit::record(
            tx,
            &self.scope,
            &Event {
                actor: &self.who.actor,
                action,
                object: &format!("appointment:{appt}"),
                detail: &detail,
                ip: self.who.ip.as_deref(),
                at: self.now,
            },
        )
    }

    fn local_iso(&self, at: DateTime<Utc>) -> String {
        crate::domain::format::local_iso(at, self.org.timezone)
    }

    fn service_name(&self, tx: &Transaction<'_>, id: i64) -> AppResult<String> {
        service_name(tx, &self.scope, id)
    }
}

/// The name of a service, the one lookup every booking message uses.
pub fn service_name(conn: &rusqlite::Connection, scope: &OrgScope, id: i64) -> AppResult<String> {
    match services::get(conn, scope, id) {
        Ok(s) => Ok(s.name),
        Err(AppError::NotFound) => Ok("your appointment".into()),
        Err(e) => Err(e),
    }
}

/// A booking someone asks for: the first free of `providers` gets it.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub service: Service,
    pub providers: Vec<i64>,
    pub start: DateTime<Utc>,
    pub phone: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// How the patient wants to hear from the clinic, when they said (kept on the contact).
    pub channel: Option<Channel>,
    pub notes: Option<String>,
    pub call_id: Option<String>,
}

/// A booking change that went through, with what it queued.
#[derive(Debug, Clone)]
pub struct Done {
    pub appointment: Appointment,
    pub queued: Queued,
}

/// Places the booking for the patient. A time that turns out taken leaves nothing behind: the
/// patient's contact is written inside a savepoint that is rolled back with the attempt, so a
/// refused caller is not made a contact (nor has their name changed) by asking.
fn place(
    tx: &Transaction<'_>,
    c: &Change,
    req: &NewBooking,
    hold_minutes: Option<u32>,
) -> AppResult<Placed> {
    let attempt = |tx: &Transaction<'_>| {
        let contact = contacts::upsert(
            tx,
            &c.scope,
            &req.phone,
            req.name.as_deref(),
            req.email.as_deref(),
            c.now,
        )?;
        if let Some(channel) = req.channel {
            contacts::set_channel(tx, &c.scope, contact.id, channel, c.now)?;
        }
        let slot = SlotRequest {
            provider_ids: &req.providers,
            service_id: req.service.id,
            duration_minutes: req.service.duration_minutes,
            contact_id: contact.id,
            start_at: req.start.timestamp(),
            buffer_minutes: c.org.rules.buffer_minutes,
            source: c.door.source(),
            call_id: req.call_id.as_deref(),
            notes: req.notes.as_deref(),
        };
        appointments::place(tx, &c.scope, &slot, hold_minutes, c.now)
    };
    crate::store::in_savepoint_kept_if(tx, attempt, |placed| matches!(placed, Placed::Placed(_)))
}

/// Holds a slot for the clinic's hold time. `None`: the time was just taken.
pub fn hold(tx: &Transaction<'_>, c: &Change, req: &NewBooking) -> AppResult<Option<Appointment>> {
    match place(tx, c, req, Some(c.org.hold_minutes))? {
        Placed::Placed(a) => {
            let detail = format!("start={}", c.local_iso(req.start));
            c.audit(tx, "appointment.held", a.id, &detail)?;
            Ok(Some(a))
        }
        Placed::Taken => Ok(None),
    }
}

/// Books in one go. `None`: the time was just taken.
pub fn book(tx: &Transaction<'_>, c: &Change, req: &NewBooking) -> AppResult<Option<Done>> {
    match place(tx, c, req, None)? {
        Placed::Placed(a) => {
            let detail = format!(
                "start={} service={}",
                c.local_iso(req.start),
                req.service.name
            );
            c.audit(tx, "appointment.booked", a.id, &detail)?;
            let queued = effects::queue(
                tx,
                &c.scope,
                &c.org,
                BookingChange::Confirmed(&a),
                &req.service.name,
                c.now,
            )?;
            Ok(Some(Done {
                appointment: a,
                queued,
            }))
        }
        Placed::Taken => Ok(None),
    }
}

/// Why a hold was not confirmed.
#[derive(Debug)]
pub enum HoldRefusal {
    /// Too many wrong codes were tried for it.
    Locked,
    /// The clinic verifies callers, and this hold has not been.
    NeedsVerification,
    Confirm(ConfirmRefusal),
}

/// Confirms a hold: the one path for a booking by hold id and for a correct verification code
/// (`verified_code`, accepted in the same transaction). Confirming a booking that is already
/// confirmed returns it, and queues nothing again.
pub fn confirm_hold(
    tx: &Transaction<'_>,
    c: &Change,
    hold_id: i64,
    verified_code: Option<i64>,
    require_verification: bool,
) -> AppResult<Result<Done, HoldRefusal>> {
    let before = appointments::find(tx, &c.scope, hold_id)?;
    let held = before.as_ref().is_some_and(|a| a.is_live_hold(c.now));
    if held && verification::hold_locked(tx, &c.scope, hold_id)? {
        return Ok(Err(HoldRefusal::Locked));
    }
    if let (Some(code_id), true) = (verified_code, held) {
        verification::accept(tx, &c.scope, code_id, hold_id, c.now)?;
    } else if require_verification
        && held
        && before.as_ref().is_some_and(|a| a.verified_at.is_none())
    {
        return Ok(Err(HoldRefusal::NeedsVerification));
    }
    let a = match appointments::confirm_hold(tx, &c.scope, hold_id, c.now)? {
        Ok(a) => a,
        Err(r) => return Ok(Err(HoldRefusal::Confirm(r))),
    };
    let mut queued = Queued::default();
    if held {
        let detail = if verified_code.is_some() {
            "verified by texted code"
        } else {
            ""
        };
        c.audit(tx, "appointment.confirmed", a.id, detail)?;
        let service = c.service_name(tx, a.service_id)?;
        queued = effects::queue(
            tx,
            &c.scope,
            &c.org,
            BookingChange::Confirmed(&a),
            &service,
            c.now,
        )?;
    }
    Ok(Ok(Done {
        appointment: a,
        queued,
    }))
}

/// A move that went through: the appointment before and after.
#[derive(Debug, Clone)]
pub struct Moved {
    pub before: Appointment,
    pub after: Appointment,
    pub queued: Queued,
}

/// Moves a confirmed appointment to `start` (same length), on one of `providers` (empty: its
/// own calendar). `None`: the new time was just taken. A Conflict when it cannot be moved.
pub fn reschedule(
    tx: &Transaction<'_>,
    c: &Change,
    id: i64,
    providers: &[i64],
    start: DateTime<Utc>,
) -> AppResult<Option<Moved>> {
    let before = appointments::get(tx, &c.scope, id)?;
    let placed = appointments::reschedule(
        tx,
        &c.scope,
        id,
        providers,
        start.timestamp(),
        c.org.rules.buffer_minutes,
        c.now,
    )?;
    let Placed::Placed(after) = placed else {
        return Ok(None);
    };
    let detail = format!(
        "from={} to={}",
        c.local_iso(before.start()),
        c.local_iso(after.start())
    );
    c.audit(tx, "appointment.rescheduled", after.id, &detail)?;
    let service = c.service_name(tx, after.service_id)?;
    let queued = effects::queue(
        tx,
        &c.scope,
        &c.org,
        BookingChange::Moved {
            from: before.start(),
            to: &after,
        },
        &service,
        c.now,
    )?;
    Ok(Some(Moved {
        before,
        after,
        queued,
    }))
}

/// Cancels a confirmed appointment or releases a hold. A Conflict when it is neither.
pub fn cancel(tx: &Transaction<'_>, c: &Change, id: i64, reason: Option<&str>) -> AppResult<Done> {
    let before = appointments::get(tx, &c.scope, id)?;
    let a = appointments::cancel(tx, &c.scope, id, reason, c.now)?;
    c.audit(tx, "appointment.cancelled", a.id, reason.unwrap_or(""))?;
    let service = c.service_name(tx, a.service_id)?;
    let queued = effects::queue(
        tx,
        &c.scope,
        &c.org,
        BookingChange::Cancelled {
            appointment: &a,
            was_confirmed: before.status == AppointmentStatus::Confirmed,
        },
        &service,
        c.now,
    )?;
    Ok(Done {
        appointment: a,
        queued,
    })
}

/// Records how a booking went (`completed` or `no_show`).
pub fn set_outcome(
    tx: &Transaction<'_>,
    c: &Change,
    id: i64,
    outcome: &str,
) -> AppResult<Appointment> {
    let a = appointments::set_outcome(tx, &c.scope, id, outcome, c.now)?;
    c.audit(
        tx,
        "appointment.outcome",
        id,
        &format!("outcome={}", a.status),
    )?;
    Ok(a)
}

/// How staff asked for a reminder to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderMethod {
    Sms,
    Email,
}

impl ReminderMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderMethod::Sms => "sms",
            ReminderMethod::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<ReminderMethod> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sms" | "text" => Some(ReminderMethod::Sms),
            "email" | "e-mail" => Some(ReminderMethod::Email),
            _ => None,
        }
    }
}

/// Sends a reminder now for an upcoming confirmed appointment, by text or by e-mail; returns
/// the number or address it goes to. Anything else is a Conflict, and nothing is queued.
pub fn remind_now(
    tx: &Transaction<'_>,
    c: &Change,
    id: i64,
    method: ReminderMethod,
) -> AppResult<String> {
    let to = match method {
        ReminderMethod::Sms => booking_texts::send_reminder_now(tx, &c.scope, &c.org, id, c.now)?,
        ReminderMethod::Email => {
            let appt = appointments::get(tx, &c.scope, id)?;
            let service = c.service_name(tx, appt.service_id)?;
            booking_mails::send_reminder_now(tx, &c.scope, &c.org, &appt, &service, c.now)?
        }
    };
    if method == ReminderMethod::Sms {
        c.audit(tx, "appointment.reminder_sent", id, "")?;
    } else {
        c.audit(tx, "appointment.reminder_sent", id, "method=email")?;
    }
    Ok(to)
}

/// Sends the confirmation again for a confirmed appointment.
pub fn confirm_again(tx: &Transaction<'_>, c: &Change, appt: &Appointment) -> AppResult<Queued> {
    let service = c.service_name(tx, appt.service_id)?;
    effects::queue(
        tx,
        &c.scope,
        &c.org,
        BookingChange::ConfirmationAgain(appt),
        &service,
        c.now,
    )
}
