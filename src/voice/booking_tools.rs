//! Tools that change bookings: hold a slot, book (a hold or in one go), find, reschedule and
//! cancel. Every change runs in one write transaction with its audit row.

use crate::domain::schedule::check_start;
use crate::domain::{format, when};
use crate::error::{AppError, AppResult};
use crate::jobs::outbox::{self, SmsStatus};
use crate::store::appointments::{self, Appointment, ConfirmRefusal, Placed, SlotRequest, Source};
use crate::store::audit::{self, Actor, Event};
use crate::store::{booking_texts, contacts, verification, OrgScope};
use crate::voice::common::{join_and, Args};
use crate::voice::dispatch::{ToolCtx, ToolOutcome};
use crate::voice::sms_tools;
use crate::voice::tools::arg_str;
use chrono::{DateTime, Duration, Utc};
use rusqlite::Transaction;
use serde_json::json;

fn audit_booking(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    action: &str,
    appt_id: i64,
    detail: &str,
    at: i64,
) -> AppResult<()> {
    audit::record(
        tx,
        scope,
        &Event {
            actor: &Actor::System("vapi"),
            action,
            object: &format!("appointment:{appt_id}"),
            detail,
            ip: None,
            at,
        },
    )
}

/// The start the caller asked for, from `start` or `date` + `time` (under any of `keys`).
fn requested_start(
    ctx: &ToolCtx,
    args: &Args,
    keys: [&[&str]; 3],
) -> Result<DateTime<Utc>, ToolOutcome> {
    let start = arg_str(args, keys[0]);
    let date = arg_str(args, keys[1]);
    let time = arg_str(args, keys[2]);
    when::parse_start(
        start.as_deref(),
        date.as_deref(),
        time.as_deref(),
        ctx.org.timezone,
        ctx.now,
    )
    .map_err(|e| ToolOutcome::error(e.to_string()))
}

const START_KEYS: [&[&str]; 3] = [
    &["start", "startTime", "datetime"],
    &["date", "appointmentDate"],
    &["time", "appointmentTime"],
];
const NEW_START_KEYS: [&[&str]; 3] = [
    &["newStart", "start"],
    &["newDate", "date"],
    &["newTime", "time"],
];

/// "That time was just taken" / a rules refusal, with the nearest free alternatives.
async fn unavailable(
    ctx: &ToolCtx,
    why: String,
    reason: &str,
    around: DateTime<Utc>,
    duration: u32,
    providers: &[i64],
) -> AppResult<ToolOutcome> {
    let alternatives = ctx
        .alternatives(around.max(ctx.now), duration, providers, 3)
        .await?;
    let sentence = if alternatives.is_empty() {
        format!("{why} I don't see other openings nearby.")
    } else {
        format!(
            "{why} The nearest free times are {}.",
            ctx.spoken_list(&alternatives)
        )
    };
    Ok(ToolOutcome::result(
        sentence,
        json!({"ok": false, "reason": reason, "alternatives": alternatives.iter().map(|t| ctx.local_iso(*t)).collect::<Vec<_>>()}),
    ))
}

struct Wanted<'a> {
    start: DateTime<Utc>,
    service: &'a crate::store::services::Service,
    providers: Vec<i64>,
    name: Option<String>,
    phone: String,
    email: Option<String>,
    notes: Option<String>,
}

/// Validates against the clinic's rules and places the hold or booking. A hold's reply
/// (`hold_reply`) runs inside the write, so it is stored with the hold; a booking comes back
/// with its queued confirmation text, as its reply waits for the text's first attempt.
async fn place(
    ctx: &ToolCtx,
    w: &Wanted<'_>,
    hold: bool,
    hold_reply: Option<HoldReply>,
) -> AppResult<Placement> {
    let duration = w.service.duration_minutes;
    if let Err(refusal) = check_start(&ctx.calendar(), w.start, duration, ctx.now) {
        return unavailable(
            ctx,
            refusal.to_string(),
            "outside_rules",
            w.start,
            duration,
            &w.providers,
        )
        .await
        .map(Placement::Replied);
    }
    let (scope, now) = (ctx.scope, ctx.now.timestamp());
    let hold_minutes = hold.then_some(ctx.org.hold_minutes);
    let buffer = ctx.org.rules.buffer_minutes;
    let (service_id, start_at) = (w.service.id, w.start.timestamp());
    let (providers, phone, name, email, notes) = (
        w.providers.clone(),
        w.phone.clone(),
        w.name.clone(),
        w.email.clone(),
        w.notes.clone(),
    );
    let call_id = ctx.call.call_id.clone();
    let detail = ctx.audit_detail(&format!("start={}", ctx.local_iso(w.start)));
    let (org, service) = (ctx.org.clone(), w.service.name.clone());
    // "Just taken" needs a read for the alternatives, and a booking's reply waits for its
    // text, so those replies come after the write.
    let described = move |(placed, text): (Placed, Option<i64>)| match (placed, hold_reply) {
        (Placed::Placed(a), Some(reply)) => Ok(reply(&a)),
        (Placed::Placed(a), None) => Err(Some(Box::new((a, text)))),
        (Placed::Taken, _) => Err(None),
    };
    let placed = ctx
        .write_with_reply(described, move |tx| {
            let contact =
                contacts::upsert(tx, &scope, &phone, name.as_deref(), email.as_deref(), now)?;
            let req = SlotRequest {
                provider_ids: &providers,
                service_id,
                duration_minutes: duration,
                contact_id: contact.id,
                start_at,
                buffer_minutes: buffer,
                source: Source::PhoneAi,
                call_id: call_id.as_deref(),
                notes: notes.as_deref(),
            };
            let placed = appointments::place(tx, &scope, &req, hold_minutes, now)?;
            let mut text = None;
            if let Placed::Placed(a) = &placed {
                let action = if hold_minutes.is_some() {
                    "appointment.held"
                } else {
                    text = booking_texts::on_confirmed(tx, &scope, &org, a, &service, now)?;
                    "appointment.booked"
                };
                audit_booking(tx, &scope, action, a.id, &detail, now)?;
            }
            Ok((placed, text))
        })
        .await?;
    match placed {
        Ok(reply) => Ok(Placement::Replied(reply)),
        Err(Some(booked)) => Ok(Placement::Booked(booked.0, booked.1)),
        Err(None) => Ok(Placement::Replied(
            unavailable(
                ctx,
                "That time was just taken.".into(),
                "taken",
                w.start,
                duration,
                &w.providers,
            )
            .await?,
        )),
    }
}

fn wanted<'a>(
    ctx: &'a ToolCtx,
    args: &Args,
    phone_from_args_first: bool,
) -> Result<Wanted<'a>, ToolOutcome> {
    let service = match arg_str(args, &["service", "serviceType", "treatment"]) {
        Some(q) => ctx.service_named(&q)?,
        None => {
            return Err(ToolOutcome::error(
                "Which treatment is this appointment for? Please ask the caller.",
            ))
        }
    };
    let start = requested_start(ctx, args, START_KEYS)?;
    let providers = ctx.provider_ids(args)?;
    let name = arg_str(args, &["patientName", "name", "callerName"]);
    if name.is_none() {
        return Err(ToolOutcome::error(
            "I need the caller's name to book; please ask for it.",
        ));
    }
    let phone = if phone_from_args_first {
        ctx.patient_phone(args)?
    } else {
        ctx.caller_phone(args)?
    };
    Ok(Wanted {
        start,
        service,
        providers,
        name,
        phone: phone.as_str().to_string(),
        email: arg_str(args, &["patientEmail", "email"]),
        notes: arg_str(args, &["notes"]),
    })
}

pub(crate) fn service_name(ctx: &ToolCtx, id: i64) -> String {
    ctx.services
        .iter()
        .find(|s| s.id == id)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| "your appointment".into())
}

pub async fn reserve_slot(ctx: &ToolCtx, args: &Args) -> AppResult<ToolOutcome> {
    let w = match wanted(ctx, args, false) {
        Ok(w) => w,
        Err(o) => return Ok(o),
    };
    let (tz, now) = (ctx.org.timezone, ctx.now);
    let (hold_minutes, verification) = (ctx.org.hold_minutes, ctx.org.require_verification);
    let caller = w.name.clone().unwrap_or_else(|| "the caller".into());
    let service = w.service.name.clone();
    let reply = move |hold: &Appointment| {
        let expires = DateTime::from_timestamp(hold.hold_expires_at.unwrap_or(hold.start_at), 0)
            .unwrap_or(now);
        ToolOutcome::result(
            format!(
                "I'm holding {} for {caller} ({service}). The hold lasts {hold_minutes} minutes.",
                format::spoken_datetime(hold.start(), tz),
            ),
            json!({"ok": true, "holdId": hold.id, "start": format::local_iso(hold.start(), tz), "service": service,
                   "expiresAt": format::local_iso(expires, tz), "verificationRequired": verification}),
        )
    };
    Ok(match place(ctx, &w, true, Some(Box::new(reply))).await? {
        Placement::Replied(o) => o,
        // A hold always has its reply.
        Placement::Booked(..) => ToolOutcome::error(
            "Sorry, something went wrong on our side; please try again in a moment.",
        ),
    })
}

/// Describes a placed hold inside its write (see [`place`]).
type HoldReply = Box<dyn FnOnce(&Appointment) -> ToolOutcome + Send>;

/// What [`place`] produced.
enum Placement {
    /// The final reply (stored with a hold, or "taken" / outside the rules).
    Replied(ToolOutcome),
    /// A confirmed booking and its queued confirmation text.
    Booked(Appointment, Option<i64>),
}

/// The reply for a booking, after the first attempt at its confirmation text.
async fn booked_outcome(ctx: &ToolCtx, a: &Appointment, text: Option<i64>) -> ToolOutcome {
    let sms = sms_tools::first_attempt(ctx, text).await;
    let service = service_name(ctx, a.service_id);
    let texted = match sms {
        SmsStatus::Sent => " A confirmation text is on its way.",
        SmsStatus::Queued => " The confirmation text will follow shortly.",
        SmsStatus::FailedButBooked | SmsStatus::Skipped => "",
    };
    ToolOutcome::result(
        format!(
            "You're booked for {service} on {}. Your confirmation number is {}.{texted}",
            ctx.spoken(a.start()),
            a.id
        ),
        json!({"ok": true, "appointmentId": a.id, "start": ctx.local_iso(a.start()), "service": service, "smsStatus": sms.as_str()}),
    )
}

pub async fn book_appointment(ctx: &ToolCtx, args: &Args) -> AppResult<ToolOutcome> {
    if let Some(raw) = arg_str(args, &["holdId", "hold_id"]) {
        let Ok(hold_id) = raw.trim_start_matches('#').parse::<i64>() else {
            return Ok(ToolOutcome::error(format!(
                "“{raw}” is not a hold id; use the holdId from reserve_slot."
            )));
        };
        return confirm_hold(ctx, hold_id, None).await;
    }
    if ctx.org.require_verification {
        return Ok(ToolOutcome::result(
            "This clinic verifies callers before booking: hold the slot with reserve_slot, then send a verification code.",
            json!({"ok": false, "reason": "verification_required"}),
        ));
    }
    let w = match wanted(ctx, args, true) {
        Ok(w) => w,
        Err(o) => return Ok(o),
    };
    Ok(match place(ctx, &w, false, None).await? {
        Placement::Booked(a, text) => booked_outcome(ctx, &a, text).await,
        Placement::Replied(o) => o,
    })
}

/// Confirms a hold: the one path for `book_appointment` with a hold id and for a correct
/// verification code (`verified_code`, accepted in the same transaction).
pub(crate) async fn confirm_hold(
    ctx: &ToolCtx,
    hold_id: i64,
    verified_code: Option<i64>,
) -> AppResult<ToolOutcome> {
    let (scope, now) = (ctx.scope, ctx.now.timestamp());
    let require_verification = ctx.org.require_verification;
    let detail = ctx.audit_detail(if verified_code.is_some() {
        "verified by texted code"
    } else {
        ""
    });
    let (org, services) = (ctx.org.clone(), ctx.services.clone());
    let result = ctx
        .state
        .db
        .write(move |tx| {
            let before = appointments::find(tx, &scope, hold_id)?;
            let held = before
                .as_ref()
                .is_some_and(|a| a.status == "held" && a.hold_expires_at.is_some_and(|e| e > now));
            if held && verification::hold_locked(tx, &scope, hold_id)? {
                return Ok(Err(Refusal::Locked));
            }
            if let (Some(code_id), true) = (verified_code, held) {
                verification::accept(tx, &scope, code_id, hold_id, now)?;
            } else if require_verification
                && held
                && before.as_ref().is_some_and(|a| a.verified_at.is_none())
            {
                return Ok(Err(Refusal::NeedsVerification));
            }
            let confirmed = appointments::confirm_hold(tx, &scope, hold_id, now)?;
            let mut text = None;
            if let (Ok(a), true) = (&confirmed, held) {
                audit_booking(tx, &scope, "appointment.confirmed", a.id, &detail, now)?;
                let service = services
                    .iter()
                    .find(|s| s.id == a.service_id)
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                text = booking_texts::on_confirmed(tx, &scope, &org, a, &service, now)?;
            }
            Ok(confirmed.map(|a| (a, text)).map_err(Refusal::Confirm))
        })
        .await?;
    Ok(match result {
        Ok((a, text)) => booked_outcome(ctx, &a, text).await,
        Err(Refusal::Locked) => ToolOutcome::result(
            "Too many wrong codes were tried, so this hold is locked and can't be booked by phone. Please offer to have the clinic call back.",
            json!({"ok": false, "reason": "verification_locked", "holdId": hold_id}),
        ),
        Err(Refusal::NeedsVerification) => ToolOutcome::result(
            "The caller's phone number must be verified with a texted code before I can book.",
            json!({"ok": false, "reason": "verification_required", "holdId": hold_id}),
        ),
        Err(Refusal::Confirm(ConfirmRefusal::NotFound)) => ToolOutcome::error(format!("There is no hold number {hold_id}.")),
        Err(Refusal::Confirm(ConfirmRefusal::Expired)) => ToolOutcome::result(
            "That hold has expired, so the time is no longer reserved. Please check availability and hold it again.",
            json!({"ok": false, "reason": "hold_expired", "holdId": hold_id}),
        ),
        Err(Refusal::Confirm(ConfirmRefusal::NotActive(status))) => ToolOutcome::result(
            format!("That booking is {status}, so it can't be confirmed."),
            json!({"ok": false, "reason": status, "holdId": hold_id}),
        ),
    })
}

/// Why a hold was not confirmed.
enum Refusal {
    Locked,
    NeedsVerification,
    Confirm(ConfirmRefusal),
}

/// The caller's confirmed appointments: on a given day, else all upcoming ones.
async fn callers_appointments(
    ctx: &ToolCtx,
    args: &Args,
) -> AppResult<Result<Vec<Appointment>, ToolOutcome>> {
    let phone = match ctx.caller_phone(args) {
        Ok(p) => p,
        Err(o) => return Ok(Err(o)),
    };
    let (from, to) = match arg_str(args, &["date", "appointmentDate"]) {
        Some(raw) => match when::parse_date(&raw, ctx.today()) {
            Ok(day) => {
                let start = when::resolve_local(
                    ctx.org.timezone,
                    day.and_hms_opt(0, 0, 0).unwrap_or_default(),
                )
                .unwrap_or(ctx.now);
                (start, start + Duration::days(1))
            }
            Err(e) => return Ok(Err(ToolOutcome::error(e.to_string()))),
        },
        None => (ctx.now, ctx.now + Duration::days(400)),
    };
    let (scope, phone_s) = (ctx.scope, phone.as_str().to_string());
    let found = ctx
        .state
        .db
        .read(
            move |c| match contacts::find_by_phone(c, &scope, &phone_s)? {
                Some(contact) => appointments::confirmed_for_contact(
                    c,
                    &scope,
                    contact.id,
                    from.timestamp(),
                    to.timestamp(),
                ),
                None => Ok(vec![]),
            },
        )
        .await?;
    Ok(Ok(found))
}

fn describe(ctx: &ToolCtx, a: &Appointment) -> String {
    format!(
        "{} on {} (number {})",
        service_name(ctx, a.service_id),
        ctx.spoken(a.start()),
        a.id
    )
}

fn listing(ctx: &ToolCtx, list: &[Appointment]) -> serde_json::Value {
    json!(list
        .iter()
        .map(|a| json!({"appointmentId": a.id, "service": service_name(ctx, a.service_id), "start": ctx.local_iso(a.start())}))
        .collect::<Vec<_>>())
}

pub async fn find_appointment(ctx: &ToolCtx, args: &Args) -> AppResult<ToolOutcome> {
    let list = match callers_appointments(ctx, args).await? {
        Ok(l) => l,
        Err(o) => return Ok(o),
    };
    let sentence = match list.len() {
        0 => "I couldn't find an upcoming appointment for this phone number.".to_string(),
        1 => format!("I found one appointment: {}.", describe(ctx, &list[0])),
        n => format!(
            "I found {n} appointments: {}.",
            join_and(&list.iter().map(|a| describe(ctx, a)).collect::<Vec<_>>())
        ),
    };
    Ok(ToolOutcome::result(
        sentence,
        json!({"ok": !list.is_empty(), "appointments": listing(ctx, &list)}),
    ))
}

/// The one appointment a reschedule or cancel is about: by id (it must be the caller's when
/// the call has a number), or the caller's only appointment on the date / upcoming.
pub(crate) async fn target(
    ctx: &ToolCtx,
    args: &Args,
) -> AppResult<Result<Appointment, ToolOutcome>> {
    let mine = match callers_appointments(ctx, args).await? {
        Ok(l) => l,
        Err(o) if arg_str(args, &["appointmentId"]).is_none() => return Ok(Err(o)),
        Err(_) => vec![],
    };
    if let Some(raw) = arg_str(args, &["appointmentId", "appointment_id"]) {
        let Ok(id) = raw.trim_start_matches('#').parse::<i64>() else {
            return Ok(Err(ToolOutcome::error(format!(
                "“{raw}” is not an appointment number."
            ))));
        };
        let scope = ctx.scope;
        let found = ctx
            .state
            .db
            .read(move |c| appointments::find(c, &scope, id))
            .await?;
        let callers_own = ctx.call.customer_number.is_none() || mine.iter().any(|a| a.id == id);
        return Ok(match found {
            Some(a) if a.status == "confirmed" && callers_own => Ok(a),
            _ => Err(ToolOutcome::result(
                format!("I couldn't find an active appointment number {id} for this caller."),
                json!({"ok": false, "reason": "not_found"}),
            )),
        });
    }
    Ok(match mine.as_slice() {
        [only] => Ok(only.clone()),
        [] => Err(ToolOutcome::result(
            "I couldn't find an upcoming appointment for this phone number.",
            json!({"ok": false, "reason": "not_found"}),
        )),
        many => Err(ToolOutcome::result(
            format!(
                "This caller has {} appointments: {}. Which one do they mean?",
                many.len(),
                join_and(&many.iter().map(|a| describe(ctx, a)).collect::<Vec<_>>())
            ),
            json!({"ok": false, "reason": "ambiguous", "appointments": listing(ctx, many)}),
        )),
    })
}

pub async fn reschedule_appointment(ctx: &ToolCtx, args: &Args) -> AppResult<ToolOutcome> {
    let appt = match target(ctx, args).await? {
        Ok(a) => a,
        Err(o) => return Ok(o),
    };
    // `date` names the existing appointment when newDate is given; otherwise it is the new day.
    let new_start = if arg_str(args, &["newStart", "newDate", "newTime"]).is_some() {
        requested_start(ctx, args, [&["newStart"], &["newDate"], &["newTime"]])
    } else {
        requested_start(ctx, args, NEW_START_KEYS)
    };
    let new_start = match new_start {
        Ok(s) => s,
        Err(o) => return Ok(o),
    };
    let duration = u32::try_from((appt.end_at - appt.start_at) / 60).unwrap_or(30);
    let providers = match ctx.provider_ids(args) {
        Ok(p) => p,
        Err(o) => return Ok(o),
    };
    if let Err(refusal) = check_start(&ctx.calendar(), new_start, duration, ctx.now) {
        return unavailable(
            ctx,
            refusal.to_string(),
            "outside_rules",
            new_start,
            duration,
            &providers,
        )
        .await;
    }
    let (scope, now, id, buffer) = (
        ctx.scope,
        ctx.now.timestamp(),
        appt.id,
        ctx.org.rules.buffer_minutes,
    );
    let detail = ctx.audit_detail(&format!(
        "from={} to={}",
        ctx.local_iso(appt.start()),
        ctx.local_iso(new_start)
    ));
    let (org, service, old_start) = (
        ctx.org.clone(),
        service_name(ctx, appt.service_id),
        appt.start(),
    );
    let placed = ctx
        .state
        .db
        .write(move |tx| {
            let placed = appointments::reschedule(
                tx,
                &scope,
                id,
                &providers,
                new_start.timestamp(),
                buffer,
                now,
            )?;
            if let Placed::Placed(a) = &placed {
                audit_booking(tx, &scope, "appointment.rescheduled", a.id, &detail, now)?;
                booking_texts::on_rescheduled(tx, &scope, &org, old_start, a, &service, now)?;
            }
            Ok(placed)
        })
        .await;
    if matches!(placed, Ok(Placed::Placed(_))) {
        outbox::wake(&ctx.state);
    }
    Ok(match placed {
        Ok(Placed::Placed(a)) => ToolOutcome::result(
            format!(
                "Done: {} is moved from {} to {}.",
                service_name(ctx, a.service_id),
                ctx.spoken(appt.start()),
                ctx.spoken(a.start())
            ),
            json!({"ok": true, "appointmentId": a.id, "start": ctx.local_iso(a.start()), "previousStart": ctx.local_iso(appt.start())}),
        ),
        Ok(Placed::Taken) => {
            let providers = ctx.provider_ids(args).unwrap_or_default();
            unavailable(
                ctx,
                "That time was just taken.".into(),
                "taken",
                new_start,
                duration,
                &providers,
            )
            .await?
        }
        Err(AppError::Conflict(m)) => ToolOutcome::error(m),
        Err(e) => return Err(e),
    })
}

pub async fn cancel_appointment(ctx: &ToolCtx, args: &Args) -> AppResult<ToolOutcome> {
    let appt = match target(ctx, args).await? {
        Ok(a) => a,
        Err(o) => return Ok(o),
    };
    let (scope, now, id) = (ctx.scope, ctx.now.timestamp(), appt.id);
    let reason = arg_str(args, &["reason"]);
    let detail = ctx.audit_detail(reason.as_deref().unwrap_or(""));
    let (org, service) = (ctx.org.clone(), service_name(ctx, appt.service_id));
    let was_confirmed = appt.status == "confirmed";
    let cancelled = ctx
        .state
        .db
        .write(move |tx| {
            let a = appointments::cancel(tx, &scope, id, reason.as_deref(), now)?;
            audit_booking(tx, &scope, "appointment.cancelled", a.id, &detail, now)?;
            booking_texts::on_cancelled(tx, &scope, &org, &a, was_confirmed, &service, now)?;
            Ok(a)
        })
        .await;
    if cancelled.is_ok() {
        outbox::wake(&ctx.state);
    }
    Ok(match cancelled {
        Ok(a) => ToolOutcome::result(
            format!(
                "Your {} on {} is cancelled.",
                service_name(ctx, a.service_id),
                ctx.spoken(a.start())
            ),
            json!({"ok": true, "appointmentId": a.id, "status": "cancelled"}),
        ),
        Err(AppError::Conflict(m)) => ToolOutcome::error(m),
        Err(e) => return Err(e),
    })
}
