//! The telephony set-up's actions, shared by the wizard pages and the JSON API so both follow
//! the same rules and write the same audit rows: start and confirm a caller-ID verification,
//! remove a number, and create, confirm and disable a forwarding set-up. Errors are by
//! meaning: bad input 400, unknown or foreign id 404, already verified or duplicate 409, an
//! expired or failed verification 410, too many starts 429, Twilio trouble 502.

use crate::app::AppState;
use crate::crypto;
use crate::domain::forwarding::{self, ForwardingCodes};
use crate::domain::phone::PhoneNumber;
use crate::domain::telephony::{self, CallerIdStatus};
use crate::error::{AppError, AppResult};
use crate::integrations::twilio::{Credentials, TwilioError};
use crate::integrations::twilio_caller_ids::{self, ValidationRequest, ALREADY_VERIFIED};
use crate::store::audit::{self, Event, Who};
use crate::store::caller_ids::{self, CallerId, Started};
use crate::store::forwarding_configs::{self, ForwardingConfig, NewConfig};
use crate::store::{twilio_credentials, OrgScope};

/// Seconds Twilio waits before calling, so the code is on screen before the phone rings.
const CALL_DELAY_SECS: u32 = 5;

/// Runs `f` and writes its audit row in the same transaction.
async fn audited<T, F>(
    state: &AppState,
    scope: OrgScope,
    change: &Who,
    action: &'static str,
    object: String,
    detail: String,
    f: F,
) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&rusqlite::Transaction<'_>, &OrgScope) -> AppResult<T> + Send + 'static,
{
    let (actor, ip) = (change.actor.clone(), change.ip.clone());
    let detail = format!("{detail} via {}", change.via);
    let now = state.clock.now().timestamp();
    state
        .db
        .write(move |tx| {
            let out = f(tx, &scope)?;
            audit::record(
                tx,
                &scope,
                &Event {
                    actor: &actor,
                    action,
                    object: &object,
                    detail: &detail,
                    ip: ip.as_deref(),
                    at: now,
                },
            )?;
            Ok(out)
        })
        .await
}

async fn twilio(state: &AppState, scope: OrgScope) -> AppResult<Credentials> {
    let vault = state.vault.clone();
    state
        .db
        .read(move |c| twilio_credentials::get(c, &vault, &scope))
        .await?
        .ok_or_else(|| {
            AppError::BadRequest(
                "Connect your Twilio account first (Settings → Twilio): Twilio makes the verification call."
                    .into(),
            )
        })
}

/// Twilio's failure in the owner's terms; its own wording is never shown.
fn upstream(e: &TwilioError) -> AppError {
    tracing::warn!(error = %e, "a Twilio caller-ID request failed");
    match e {
        TwilioError::Transient { .. } => AppError::Upstream(
            "Twilio could not be reached, so nothing changed. Try again in a minute.".into(),
        ),
        TwilioError::Permanent { code, .. } if matches!(code, 21211 | 13223 | 13214 | 21217) => {
            AppError::BadRequest(format!(
                "Twilio cannot call this number (error {code}). Check that it is a phone number that can receive calls."
            ))
        }
        TwilioError::Permanent { code, .. } => AppError::Upstream(format!(
            "Twilio refused the request (error {code}), so nothing changed. Check the Twilio set-up in Settings → Twilio."
        )),
    }
}

pub fn parse_number(state: &AppState, input: &str, country: Option<&str>) -> AppResult<String> {
    let country = country
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or(&state.config.default_country);
    PhoneNumber::parse(input, country)
        .map(|p| p.as_str().to_string())
        .map_err(|e| AppError::BadRequest(e.to_string()))
}

/// How a start went.
pub enum Initiated {
    /// Twilio is calling; the code must be shown now (it is not kept).
    Started { caller: CallerId, code: String },
    /// Twilio already lists the number as verified on the account: nothing to type.
    AlreadyOnAccount(CallerId),
}

/// Starts a verification of `phone` (E.164): at most three an hour per number, refused for a
/// number already verified here.
pub async fn initiate(
    state: &AppState,
    scope: OrgScope,
    change: &Who,
    phone: String,
    friendly: Option<&str>,
) -> AppResult<Initiated> {
    let creds = twilio(state, scope).await?;
    let friendly_name = telephony::friendly_name(friendly, &phone);
    let now = state.clock.now().timestamp();
    // The start is counted before Twilio is asked, in the same transaction as the check, so
    // concurrent starts cannot exceed the limit; a start Twilio refused is taken back.
    let reserved = {
        let phone = phone.clone();
        state
            .db
            .write(move |tx| {
                if let Some(c) = caller_ids::find_by_number(tx, &scope, &phone)? {
                    if c.status == CallerIdStatus::Verified {
                        return Err(AppError::Conflict(format!(
                            "{phone} is already verified. Set up its forwarding, or remove it first to verify again."
                        )));
                    }
                }
                caller_ids::refuse_if_verified_elsewhere(tx, &scope, &phone)?;
                let starts = caller_ids::recent_starts(tx, &scope, &phone, now)?;
                telephony::start_allowed(&starts, now).map_err(|retry_after_secs| {
                    AppError::TooManyRequests { retry_after_secs }
                })?;
                caller_ids::reserve_start(tx, &scope, &phone, now)
            })
            .await?
    };
    let callback = twilio_caller_ids::callback_url(state.config.public_url.as_deref());
    let request = ValidationRequest {
        phone_number: &phone,
        friendly_name: &friendly_name,
        status_callback: callback.as_deref(),
        call_delay: CALL_DELAY_SECS,
    };
    let validation = match state
        .twilio
        .start_caller_id_validation(&creds, &request)
        .await
    {
        Ok(v) if telephony::is_validation_code(&v.validation_code) => v,
        Ok(_) => {
            release(state, scope, reserved).await?;
            return Err(AppError::Upstream(
                "Twilio's answer had no usable code. Try again in a minute.".into(),
            ));
        }
        Err(e) => {
            release(state, scope, reserved).await?;
            if e.code() == Some(ALREADY_VERIFIED) {
                return already_on_account(state, scope, change, &creds, phone, friendly_name)
                    .await;
            }
            return Err(upstream(&e));
        }
    };
    let code = validation.validation_code;
    let hashed = {
        let code = code.clone();
        tokio::task::spawn_blocking(move || crypto::hash_password(&code)).await?
    };
    let call_sid = validation.call_sid;
    let detail = format!("number={phone} call={}", call_sid.as_deref().unwrap_or("-"));
    let caller = audited(
        state,
        scope,
        change,
        "telephony.verification_started",
        format!("number:{phone}"),
        detail,
        move |tx, scope| {
            caller_ids::start(
                tx,
                scope,
                &Started {
                    phone_number: &phone,
                    friendly_name: &friendly_name,
                    call_sid: call_sid.as_deref(),
                    code_hash: &hashed,
                },
                now,
            )
        },
    )
    .await?;
    Ok(Initiated::Started { caller, code })
}

async fn release(state: &AppState, scope: OrgScope, start_id: i64) -> AppResult<()> {
    state
        .db
        .write(move |tx| caller_ids::release_start(tx, &scope, start_id))
        .await
}

/// Twilio said 21450: the account already has this caller ID. Its list is the proof.
async fn already_on_account(
    state: &AppState,
    scope: OrgScope,
    change: &Who,
    creds: &Credentials,
    phone: String,
    friendly_name: String,
) -> AppResult<Initiated> {
    let found = state
        .twilio
        .find_outgoing_caller_id(creds, &phone)
        .await
        .map_err(|e| upstream(&e))?
        .ok_or_else(|| {
            AppError::Upstream(
                "Twilio says this number is already verified but does not list it. Try again in a minute."
                    .into(),
            )
        })?;
    let now = state.clock.now().timestamp();
    let caller = audited(
        state,
        scope,
        change,
        "telephony.number_verified",
        format!("number:{phone}"),
        format!("number={phone} already on the Twilio account"),
        move |tx, scope| {
            caller_ids::refuse_if_verified_elsewhere(tx, scope, &phone)?;
            caller_ids::record_verified(tx, scope, &phone, &friendly_name, Some(&found.sid), now)
        },
    )
    .await?;
    Ok(Initiated::AlreadyOnAccount(caller))
}

/// Asks where the verification stands. Only Twilio's word counts: the signed status callback
/// (already applied) or the number on the account's verified caller IDs.
pub async fn confirm(
    state: &AppState,
    scope: OrgScope,
    change: &Who,
    id: i64,
) -> AppResult<CallerId> {
    let caller = state
        .db
        .read(move |c| caller_ids::get(c, &scope, id))
        .await?;
    if caller.status == CallerIdStatus::Verified {
        return Ok(caller);
    }
    let creds = twilio(state, scope).await?;
    let found = state
        .twilio
        .find_outgoing_caller_id(&creds, &caller.phone_number)
        .await
        .map_err(|e| upstream(&e))?;
    let now = state.clock.now().timestamp();
    if let Some(found) = found {
        let phone = caller.phone_number.clone();
        return audited(
            state,
            scope,
            change,
            "telephony.number_verified",
            format!("caller_id:{id}"),
            format!("number={phone} found on the Twilio account"),
            move |tx, scope| {
                caller_ids::mark_verified(tx, scope, id, Some(&found.sid), now)?;
                caller_ids::get(tx, scope, id)
            },
        )
        .await;
    }
    match caller.status_at(now) {
        CallerIdStatus::Expired => Err(AppError::Gone(
            "This verification expired after 10 minutes without the code. Start again to get a new call."
                .into(),
        )),
        CallerIdStatus::Failed => Err(AppError::Gone(
            "Twilio's call ended without the right code. Start again to get a new call.".into(),
        )),
        _ => Ok(caller),
    }
}

/// A removed number, with the set-ups that were still on (their deactivation codes must be
/// shown: the phone keeps forwarding until they are dialled).
pub struct Removed {
    pub caller: CallerId,
    pub live_configs: Vec<ForwardingConfig>,
    pub twilio_removed: bool,
}

pub async fn remove_number(
    state: &AppState,
    scope: OrgScope,
    change: &Who,
    id: i64,
) -> AppResult<Removed> {
    let (caller, configs) = state
        .db
        .read(move |c| {
            Ok((
                caller_ids::get(c, &scope, id)?,
                forwarding_configs::list(c, &scope, Some(id))?,
            ))
        })
        .await?;
    // Best effort: the local removal goes ahead even if Twilio cannot be told now.
    let mut twilio_removed = false;
    if let Some(sid) = caller.outgoing_caller_id_sid.as_deref() {
        if let Ok(creds) = twilio(state, scope).await {
            match state.twilio.delete_outgoing_caller_id(&creds, sid).await {
                Ok(()) => twilio_removed = true,
                Err(e) => tracing::warn!(error = %e, "could not remove a caller ID from Twilio"),
            }
        }
    }
    let phone = caller.phone_number.clone();
    let n = audited(
        state,
        scope,
        change,
        "telephony.number_removed",
        format!("caller_id:{id}"),
        format!("number={phone} twilio_removed={twilio_removed}"),
        move |tx, scope| caller_ids::remove(tx, scope, id),
    )
    .await?;
    tracing::debug!(configs = n, "removed a number and its forwarding set-ups");
    let live_configs = configs
        .into_iter()
        .filter(|c| c.status != telephony::ConfigStatus::Disabled)
        .collect();
    Ok(Removed {
        caller,
        live_configs,
        twilio_removed,
    })
}

/// Makes a pending forwarding set-up for a verified number. Impossible combinations (a ring
/// time on Verizon, 60 s on GSM, safety net on Sprint) are refused with the reason.
pub async fn create_config(
    state: &AppState,
    scope: OrgScope,
    change: &Who,
    caller_id: i64,
    carrier: &str,
    mode: &str,
    ring_seconds: Option<&str>,
) -> AppResult<ForwardingConfig> {
    let (carrier, mode, ring) =
        telephony::read_choice(carrier, mode, ring_seconds).map_err(AppError::BadRequest)?;
    let (caller, twilio) = state
        .db
        .read(move |c| {
            Ok((
                caller_ids::get(c, &scope, caller_id)?,
                twilio_credentials::summary(c, &scope)?,
            ))
        })
        .await?;
    if caller.status != CallerIdStatus::Verified {
        return Err(AppError::Conflict(
            "Verify this number with Twilio before setting up its forwarding.".into(),
        ));
    }
    let forward_to = twilio.and_then(|t| t.from_number).ok_or_else(|| {
        AppError::BadRequest(
            "Calls are forwarded to the clinic's Twilio number: save it in Settings → Twilio first."
                .into(),
        )
    })?;
    forwarding::codes(carrier, mode, ring, &forward_to)
        .map_err(|e| AppError::BadRequest(capitalised(&e.to_string())))?;
    let detail = format!(
        "number={} carrier={} mode={} ring={}",
        caller.phone_number,
        carrier.slug(),
        mode.slug(),
        ring.map_or("-".to_string(), |r| r.to_string())
    );
    let now = state.clock.now().timestamp();
    audited(
        state,
        scope,
        change,
        "telephony.forwarding_created",
        format!("caller_id:{caller_id}"),
        detail,
        move |tx, scope| {
            forwarding_configs::create(
                tx,
                scope,
                &NewConfig {
                    caller_id,
                    carrier,
                    mode,
                    ring_seconds: ring,
                    forward_to: &forward_to,
                },
                now,
            )
        },
    )
    .await
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The owner dialled the activation code: the set-up is active.
pub async fn confirm_config(
    state: &AppState,
    scope: OrgScope,
    change: &Who,
    id: i64,
) -> AppResult<ForwardingConfig> {
    let now = state.clock.now().timestamp();
    audited(
        state,
        scope,
        change,
        "telephony.forwarding_activated",
        format!("forwarding:{id}"),
        String::new(),
        move |tx, scope| forwarding_configs::activate(tx, scope, id, now),
    )
    .await
}

/// Turns a set-up off; the owner still has to dial its deactivation code.
pub async fn disable_config(
    state: &AppState,
    scope: OrgScope,
    change: &Who,
    id: i64,
) -> AppResult<ForwardingConfig> {
    let now = state.clock.now().timestamp();
    audited(
        state,
        scope,
        change,
        "telephony.forwarding_disabled",
        format!("forwarding:{id}"),
        String::new(),
        move |tx, scope| forwarding_configs::disable(tx, scope, id, now),
    )
    .await
}

/// The codes, steps and notes for a stored set-up.
pub fn codes_of(config: &ForwardingConfig) -> AppResult<ForwardingCodes> {
    forwarding::codes(
        config.carrier,
        config.mode,
        config.ring_seconds,
        &config.forward_to,
    )
    .map_err(AppError::internal)
}
