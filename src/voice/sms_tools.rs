//! Tools that text the caller: a verification code for a hold, checking the code read back
//! (a correct one books the hold through the same path as `book_appointment`), and sending a
//! confirmation again. Codes are kept only as argon2 hashes; the text carrying one is sealed
//! in the outbox until sent.

use crate::crypto;
use crate::domain::sms;
use crate::error::AppResult;
use crate::service::booking;
use crate::service::effects::Queued;
use crate::store::appointments::{self, AppointmentStatus};
use crate::store::outbox::{self, NewSms, Purpose, SmsStatus};
use crate::store::{contacts, verification};
use crate::voice::booking_tools::{confirm_hold, target};
use crate::voice::common::Args;
use crate::voice::dispatch::{Reply, ToolCtx, ToolOutcome};
use crate::voice::tools::arg_str;
use serde_json::json;

const CODE_DIGITS: usize = 6;
const CODE_VALID_SECS: i64 = 10 * 60;
const MAX_CODES_PER_HOUR: i64 = 3;

fn hold_id(args: &Args) -> Result<i64, ToolOutcome> {
    let raw = arg_str(args, &["holdId", "hold_id"])
        .ok_or_else(|| ToolOutcome::error("Which hold? Pass the holdId from reserve_slot."))?;
    raw.trim_start_matches('#').parse().map_err(|_| {
        ToolOutcome::error(format!(
            "“{raw}” is not a hold id; use the holdId from reserve_slot."
        ))
    })
}

/// The live, unlocked hold a code is for, with the phone number it was made for.
async fn live_hold(
    ctx: &ToolCtx,
    id: i64,
) -> AppResult<Result<(appointments::Appointment, String), ToolOutcome>> {
    let (scope, now) = (ctx.scope, ctx.now.timestamp());
    let found = ctx
        .state
        .db
        .read(move |c| {
            let Some(a) = appointments::find(c, &scope, id)? else {
                return Ok(None);
            };
            let phone = contacts::phone_of(c, &scope, a.contact_id)?;
            let locked = verification::hold_locked(c, &scope, id)?;
            Ok(Some((a, phone, locked)))
        })
        .await?;
    Ok(match found {
        None => Err(ToolOutcome::error(format!("There is no hold number {id}."))),
        Some((_, _, true)) => Err(ToolOutcome::result(
            "Too many wrong codes were tried, so this hold is locked. Please offer to have the clinic call back.",
            json!({"ok": false, "reason": "verification_locked", "holdId": id}),
        )),
        Some((a, _, _)) if a.status == AppointmentStatus::Confirmed => Err(ToolOutcome::result(
            "That appointment is already booked; no code is needed.",
            json!({"ok": true, "reason": "already_booked", "appointmentId": id}),
        )),
        Some((a, _, _)) if !a.is_live_hold(now) => {
            Err(ToolOutcome::result(
                "That hold has expired, so the time is no longer reserved. Please check availability and hold it again.",
                json!({"ok": false, "reason": "hold_expired", "holdId": id}),
            ))
        }
        Some((a, phone, false)) => Ok((a, phone)),
    })
}

fn last_four(phone: &str) -> &str {
    &phone[phone.len().saturating_sub(4)..]
}

pub async fn send_verification_code(ctx: &ToolCtx, args: &Args) -> AppResult<ToolOutcome> {
    let id = match hold_id(args) {
        Ok(id) => id,
        Err(o) => return Ok(o),
    };
    let (hold, phone) = match live_hold(ctx, id).await? {
        Ok(h) => h,
        Err(o) => return Ok(o),
    };
    let (scope, now) = (ctx.scope, ctx.now.timestamp());
    let code = crypto::random_digits(CODE_DIGITS);
    let code_for_hash = code.clone();
    let code_hash =
        tokio::task::spawn_blocking(move || crypto::hash_password(&code_for_hash)).await?;
    let text = sms::verification_text(&ctx.org.name, &code);
    let masked = sms::verification_text(&ctx.org.name, &"•".repeat(CODE_DIGITS));
    let (vault, to, call_id) = (
        ctx.state.vault.clone(),
        phone.clone(),
        ctx.call.call_id.clone(),
    );
    let ending = last_four(&phone).to_string();
    let replied = ctx
        .write_with_reply(
            move |queued: Option<i64>| -> Result<Reply, ()> {
                let Some(outbox_id) = queued else {
                    return Ok(Reply::Now(ToolOutcome::result(
                        "I've already sent three codes to this number in the last hour, so I can't send another now. Please offer to have the clinic call back.",
                        json!({"ok": false, "reason": "too_many_codes", "holdId": id}),
                    )));
                };
                Ok(Reply::on_text(Some(outbox_id), |status| match status {
                    SmsStatus::Sent | SmsStatus::Queued => ToolOutcome::result(
                        format!("I've texted a {CODE_DIGITS}-digit code to the number ending in {ending}. Please ask the caller to read it back."),
                        json!({"ok": true, "holdId": id, "sentTo": ending, "smsStatus": status.as_str(), "expiresInMinutes": CODE_VALID_SECS / 60}),
                    ),
                    SmsStatus::Skipped | SmsStatus::FailedButBooked => ToolOutcome::result(
                        format!("I couldn't text a code to the number ending in {ending}, so I can't verify it by phone. Please offer to have the clinic call back."),
                        json!({"ok": false, "reason": "sms_unavailable", "holdId": id, "smsStatus": status.as_str()}),
                    ),
                }))
            },
            move |tx| {
                if verification::sent_since(tx, &scope, &to, now - 3600)? >= MAX_CODES_PER_HOUR {
                    return Ok(None);
                }
                verification::create(
                    tx,
                    &scope,
                    hold.id,
                    &to,
                    &code_hash,
                    now + CODE_VALID_SECS,
                    now,
                )?;
                let sms = NewSms {
                    to: &to,
                    body: &text,
                    purpose: Purpose::Verification,
                    contact_id: Some(hold.contact_id),
                    appointment_id: Some(hold.id),
                    call_id: call_id.as_deref(),
                    dedupe_key: None,
                    send_after: now,
                };
                outbox::enqueue_sealed(tx, &vault, &scope, &sms, &masked, now)
            },
        )
        .await?;
    Ok(replied.unwrap_or_else(|()| ToolOutcome::error("Sorry, something went wrong on our side.")))
}

pub async fn verify_code(ctx: &ToolCtx, args: &Args) -> AppResult<ToolOutcome> {
    let id = match hold_id(args) {
        Ok(id) => id,
        Err(o) => return Ok(o),
    };
    let given: String = arg_str(args, &["code"])
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    if given.len() != CODE_DIGITS {
        return Ok(ToolOutcome::error(format!(
            "The code has {CODE_DIGITS} digits; please ask the caller to read all of them."
        )));
    }
    if let Err(o) = live_hold(ctx, id).await? {
        return Ok(o);
    }
    let (scope, now) = (ctx.scope, ctx.now.timestamp());
    let code = ctx
        .state
        .db
        .read(move |c| verification::latest_for_hold(c, &scope, id))
        .await?;
    let Some(code) = code else {
        return Ok(ToolOutcome::result(
            "No code has been sent for this hold yet; use send_verification_code first.",
            json!({"ok": false, "reason": "no_code", "holdId": id}),
        ));
    };
    if code.expires_at <= now || code.used_at.is_some() {
        return Ok(ToolOutcome::result(
            "That code has expired. I can send a new one.",
            json!({"ok": false, "reason": "code_expired", "holdId": id}),
        ));
    }
    let hash = code.code_hash.clone();
    let matches =
        tokio::task::spawn_blocking(move || crypto::verify_password(&given, &hash)).await?;
    if matches {
        return confirm_hold(ctx, id, Some(code.id)).await;
    }
    let replied = ctx
        .write_with_reply(
            move |wrong: i64| -> Result<Reply, ()> {
                let left = verification::MAX_WRONG - wrong;
                Ok(Reply::Now(if left <= 0 {
                    ToolOutcome::result(
                        "That code is wrong again, and after three wrong codes the hold is locked. Please offer to have the clinic call back.",
                        json!({"ok": false, "reason": "verification_locked", "holdId": id}),
                    )
                } else {
                    ToolOutcome::result(
                        format!(
                            "That code doesn't match. The caller can try {left} more time{}.",
                            if left == 1 { "" } else { "s" }
                        ),
                        json!({"ok": false, "reason": "wrong_code", "triesLeft": left, "holdId": id}),
                    )
                }))
            },
            move |tx| verification::record_wrong(tx, &scope, code.id, id, now),
        )
        .await?;
    Ok(replied.unwrap_or_else(|()| ToolOutcome::error("Sorry, something went wrong on our side.")))
}

pub async fn send_confirmation_sms(ctx: &ToolCtx, args: &Args) -> AppResult<ToolOutcome> {
    let appt = match target(ctx, args).await? {
        Ok(a) => a,
        Err(o) => return Ok(o),
    };
    let change = ctx.change();
    let id = appt.id;
    let replied = ctx
        .write_with_reply(
            move |queued: Queued| -> Result<Reply, ()> {
                Ok(Reply::on_text(queued.patient_text, |status| {
                    let sentence = match status {
                        SmsStatus::Sent => "I've texted the confirmation again.",
                        SmsStatus::Queued => "The confirmation text is queued and will arrive shortly.",
                        SmsStatus::FailedButBooked | SmsStatus::Skipped => {
                            "I couldn't send a text to this number, but the appointment is booked."
                        }
                    };
                    ToolOutcome::result(
                        sentence,
                        json!({"ok": matches!(status, SmsStatus::Sent | SmsStatus::Queued), "appointmentId": id, "smsStatus": status.as_str()}),
                    )
                }))
            },
            move |tx| booking::confirm_again(tx, &change, &appt),
        )
        .await?;
    Ok(replied.unwrap_or_else(|()| ToolOutcome::error("Sorry, something went wrong on our side.")))
}
