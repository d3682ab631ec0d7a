//! Tools that change bookings: hold a slot, book (a hold or in one go), find, reschedule and
//! cancel. Each change is one call of the booking service inside the tool's write, with the
//! tool's reply stored in the same transaction (see [`ToolCtx::write_with_reply`]).

use crate::domain::{format, when};
use crate::error::{AppError, AppResult};
use crate::service::booking::{self, Change, Door, HoldRefusal, NewBooking};
use crate::store::appointments::{Appointment, AppointmentStatus, ConfirmRefusal};
use crate::store::audit::{Actor, Who};
use crate::store::outbox::SmsStatus;
use crate::store::{appointments, contacts};
use crate::voice::common::{join_and, Args, Names, PRACTITIONER_KEYS};
use crate::voice::dispatch::{Reply, ToolCtx, ToolOutcome};
use crate::voice::tools::arg_str;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

impl ToolCtx {
    /// A booking change made by the phone, naming the call and tool call in its audit entry.
    pub(crate) fn change(&self) -> Change {
        Change {
            scope: self.scope,
            org: self.org.clone(),
            door: Door::Phone,
            who: Who {
                actor: Actor::System("vapi"),
                via: "phone".into(),
                ip: None,
            },
            context: self.audit_detail("").trim_end().to_string(),
            now: self.now.timestamp(),
        }
    }
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

/// Checks the request against the clinic's rules and places the hold or booking. Its reply
/// is worded inside the write and stored with it; only "just taken" (nothing was done) is
/// worded afterwards, with the nearest free times.
async fn place(ctx: &ToolCtx, req: NewBooking, hold: bool) -> AppResult<ToolOutcome> {
    let duration = req.service.duration_minutes;
    let (start, providers) = (req.start, req.providers.clone());
    let mut req = req;
    match booking::who_can_take(
        &ctx.org,
        Door::Phone,
        &ctx.working,
        &providers,
        start,
        duration,
        ctx.now,
    ) {
        Ok(able) => req.providers = able,
        Err(why) => {
            return unavailable(ctx, why, "outside_rules", start, duration, &providers).await
        }
    }
    let names = ctx.names();
    let change = ctx.change();
    let (tz, verification) = (ctx.org.timezone, ctx.org.require_verification);
    let (hold_minutes, now) = (ctx.org.hold_minutes, ctx.now);
    let caller = req.name.clone().unwrap_or_else(|| "the caller".into());
    let service = req.service.name.clone();
    // An address heard on the phone is read back before anything is sent to it.
    let read_back = req.email.as_deref().map(|e| {
        format!(
            " Read the e-mail address back to check it: {}.",
            crate::domain::mail::spelled(e)
        )
    });
    let placed = ctx
        .write_with_reply(
            move |placed: Option<(Appointment, Option<i64>)>| {
                let Some((a, text)) = placed else {
                    return Err(());
                };
                if !hold {
                    return Ok(booked_reply(tz, &a, &service, &names, text));
                }
                let (practitioner, with) = (names.of(a.provider_id), names.with(a.provider_id));
                let expires = DateTime::from_timestamp(a.hold_expires_at.unwrap_or(a.start_at), 0)
                    .unwrap_or(now);
                Ok(Reply::Now(ToolOutcome::result(
                    format!(
                        "I'm holding {}{with} for {caller} ({service}). The hold lasts {hold_minutes} minutes.{}",
                        format::spoken_datetime(a.start(), tz),
                        read_back.as_deref().unwrap_or(""),
                    ),
                    json!({"ok": true, "holdId": a.id, "start": format::local_iso(a.start(), tz), "service": service,
                           "practitioner": practitioner,
                           "expiresAt": format::local_iso(expires, tz), "verificationRequired": verification}),
                )))
            },
            move |tx| {
                Ok(if hold {
                    booking::hold(tx, &change, &req)?.map(|a| (a, None))
                } else {
                    booking::book(tx, &change, &req)?
                        .map(|d| (d.appointment, d.queued.patient_text))
                })
            },
        )
        .await?;
    match placed {
        Ok(reply) => Ok(reply),
        Err(()) => {
            unavailable(
                ctx,
                "That time was just taken.".into(),
                "taken",
                start,
                duration,
                &providers,
            )
            .await
        }
    }
}

/// The reply for a booking, one wording per outcome of its confirmation text.
fn booked_reply(
    tz: chrono_tz::Tz,
    a: &Appointment,
    service: &str,
    names: &Names,
    text: Option<i64>,
) -> Reply {
    let (id, start) = (a.id, a.start());
    let (practitioner, with) = (names.of(a.provider_id), names.with(a.provider_id));
    Reply::on_text(text, |sms| {
        let texted = match sms {
            SmsStatus::Sent => " A confirmation text is on its way.",
            SmsStatus::Queued => " The confirmation text will follow shortly.",
            SmsStatus::FailedButBooked | SmsStatus::Skipped => "",
        };
        ToolOutcome::result(
            format!(
                "You're booked for {service}{with} on {}. Your confirmation number is {id}.{texted}",
                format::spoken_datetime(start, tz),
            ),
            json!({"ok": true, "appointmentId": id, "start": format::local_iso(start, tz), "service": service,
                   "practitioner": practitioner, "smsStatus": sms.as_str()}),
        )
    })
}

fn wanted(
    ctx: &ToolCtx,
    args: &Args,
    phone_from_args_first: bool,
) -> Result<NewBooking, ToolOutcome> {
    let service = match arg_str(args, &["service", "serviceType", "treatment"]) {
        Some(q) => ctx.service_named(&q)?.clone(),
        None => {
            return Err(ToolOutcome::error(
                "Which treatment is this appointment for? Please ask the caller.",
            ))
        }
    };
    let start = requested_start(ctx, args, START_KEYS)?;
    let providers = ctx.practitioner_ids(args, &service)?;
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
    // A misheard address would send the patient's confirmation to a stranger: ask again.
    let email = match arg_str(args, &["patientEmail", "email"]) {
        Some(said) => Some(crate::domain::mail::check_address(&said).map_err(|why| {
            ToolOutcome::error(format!(
                "{why}. Please ask the caller to spell the e-mail address again, letter by letter, and read it back."
            ))
        })?),
        None => None,
    };
    Ok(NewBooking {
        service,
        providers,
        start,
        phone: phone.as_str().to_string(),
        name,
        email,
        channel: None,
        notes: arg_str(args, &["notes"]),
        call_id: ctx.call.call_id.clone(),
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
    match wanted(ctx, args, false) {
        Ok(req) => place(ctx, req, true).await,
        Err(o) => Ok(o),
    }
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
    match wanted(ctx, args, true) {
        Ok(req) => place(ctx, req, false).await,
        Err(o) => Ok(o),
    }
}

/// Confirms a hold: the one path for `book_appointment` with a hold id and for a correct
/// verification code (`verified_code`, accepted in the same transaction).
pub(crate) async fn confirm_hold(
    ctx: &ToolCtx,
    hold_id: i64,
    verified_code: Option<i64>,
) -> AppResult<ToolOutcome> {
    let mut change = ctx.change();
    if verified_code.is_some() {
        change.context.push_str(" verified by texted code");
    }
    let require_verification = ctx.org.require_verification;
    let tz = ctx.org.timezone;
    let services = ctx.services.clone();
    let names = ctx.names();
    let replied = ctx
        .write_with_reply(
            move |r: Result<booking::Done, HoldRefusal>| -> Result<Reply, ()> {
                Ok(match r {
                    Ok(done) => {
                        let a = &done.appointment;
                        let service = services
                            .iter()
                            .find(|s| s.id == a.service_id)
                            .map(|s| s.name.as_str())
                            .unwrap_or("your appointment");
                        booked_reply(tz, a, service, &names, done.queued.patient_text)
                    }
                    Err(refusal) => Reply::Now(refused(hold_id, refusal)),
                })
            },
            move |tx| {
                let c = &change;
                booking::confirm_hold(tx, c, hold_id, verified_code, require_verification)
            },
        )
        .await?;
    Ok(replied.unwrap_or_else(|()| ToolOutcome::error("Sorry, something went wrong on our side.")))
}

fn refused(hold_id: i64, refusal: HoldRefusal) -> ToolOutcome {
    match refusal {
        HoldRefusal::Locked => ToolOutcome::result(
            "Too many wrong codes were tried, so this hold is locked and can't be booked by phone. Please offer to have the clinic call back.",
            json!({"ok": false, "reason": "verification_locked", "holdId": hold_id}),
        ),
        HoldRefusal::NeedsVerification => ToolOutcome::result(
            "The caller's phone number must be verified with a texted code before I can book.",
            json!({"ok": false, "reason": "verification_required", "holdId": hold_id}),
        ),
        HoldRefusal::Confirm(ConfirmRefusal::NotFound) => {
            ToolOutcome::error(format!("There is no hold number {hold_id}."))
        }
        HoldRefusal::Confirm(ConfirmRefusal::Expired) => ToolOutcome::result(
            "That hold has expired, so the time is no longer reserved. Please check availability and hold it again.",
            json!({"ok": false, "reason": "hold_expired", "holdId": hold_id}),
        ),
        HoldRefusal::Confirm(ConfirmRefusal::NotActive(status)) => ToolOutcome::result(
            format!("That booking is {status}, so it can't be confirmed."),
            json!({"ok": false, "reason": status, "holdId": hold_id}),
        ),
    }
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
            Some(a) if a.status == AppointmentStatus::Confirmed && callers_own => Ok(a),
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
    // The appointment stays with its practitioner unless the caller names another.
    let service = ctx.services.iter().find(|s| s.id == appt.service_id);
    let providers = match (arg_str(args, PRACTITIONER_KEYS), service) {
        (Some(_), Some(service)) => match ctx.practitioner_ids(args, service) {
            Ok(p) => p,
            Err(o) => return Ok(o),
        },
        _ => vec![appt.provider_id],
    };
    let providers = match booking::who_can_take(
        &ctx.org,
        Door::Phone,
        &ctx.working,
        &providers,
        new_start,
        duration,
        ctx.now,
    ) {
        Ok(able) => able,
        Err(why) => {
            return unavailable(ctx, why, "outside_rules", new_start, duration, &providers).await
        }
    };
    let change = ctx.change();
    let (tz, id, service) = (
        ctx.org.timezone,
        appt.id,
        service_name(ctx, appt.service_id),
    );
    let chosen = providers.clone();
    let moved = ctx
        .write_with_reply(
            move |moved: Result<Option<booking::Moved>, String>| match moved {
                Ok(Some(m)) => Ok(Reply::Now(ToolOutcome::result(
                    format!(
                        "Done: {service} is moved from {} to {}.",
                        format::spoken_datetime(m.before.start(), tz),
                        format::spoken_datetime(m.after.start(), tz)
                    ),
                    json!({"ok": true, "appointmentId": m.after.id, "start": format::local_iso(m.after.start(), tz), "previousStart": format::local_iso(m.before.start(), tz)}),
                ))),
                Ok(None) => Err(()),
                Err(conflict) => Ok(Reply::Now(ToolOutcome::error(conflict))),
            },
            move |tx| {
                match booking::reschedule(tx, &change, id, &chosen, new_start) {
                    Err(AppError::Conflict(m)) => Ok(Err(m)),
                    other => other.map(Ok),
                }
            },
        )
        .await?;
    crate::service::messaging::wake(&ctx.state);
    match moved {
        Ok(reply) => Ok(reply),
        Err(()) => {
            unavailable(
                ctx,
                "That time was just taken.".into(),
                "taken",
                new_start,
                duration,
                &providers,
            )
            .await
        }
    }
}

pub async fn cancel_appointment(ctx: &ToolCtx, args: &Args) -> AppResult<ToolOutcome> {
    let appt = match target(ctx, args).await? {
        Ok(a) => a,
        Err(o) => return Ok(o),
    };
    let change = ctx.change();
    let (tz, id, service) = (
        ctx.org.timezone,
        appt.id,
        service_name(ctx, appt.service_id),
    );
    let reason = arg_str(args, &["reason"]);
    let cancelled = ctx
        .write_with_reply(
            move |done: Result<booking::Done, String>| -> Result<Reply, ()> {
                Ok(Reply::Now(match done {
                    Ok(d) => ToolOutcome::result(
                        format!(
                            "Your {service} on {} is cancelled.",
                            format::spoken_datetime(d.appointment.start(), tz)
                        ),
                        json!({"ok": true, "appointmentId": d.appointment.id, "status": "cancelled"}),
                    ),
                    Err(conflict) => ToolOutcome::error(conflict),
                }))
            },
            move |tx| match booking::cancel(tx, &change, id, reason.as_deref()) {
                Err(AppError::Conflict(m)) => Ok(Err(m)),
                other => other.map(Ok),
            },
        )
        .await?;
    crate::service::messaging::wake(&ctx.state);
    Ok(cancelled
        .unwrap_or_else(|()| ToolOutcome::error("Sorry, something went wrong on our side.")))
}
