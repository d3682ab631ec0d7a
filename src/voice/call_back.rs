//! Staff asking the assistant to call a contact back: the call is recorded as `pending` before
//! Vapi is asked (so a crash or a refusal is never invisible), then takes Vapi's call id and
//! status (`queued`) when Vapi accepts, or becomes `failed` with the reason when it does not.
//! Vapi's own events for the call then update the same row.

use crate::app::AppState;
use crate::domain::calls::{self, CallStatus};
use crate::error::{AppError, AppResult};
use crate::integrations::vapi::{self, OutboundCall, VapiError};
use crate::store::audit::{self, Actor, Event};
use crate::store::{calls as call_store, leads, voice_agent, OrgScope};

/// A call-back Vapi accepted.
#[derive(Debug, Clone)]
pub struct Started {
    pub call_row_id: i64,
    pub vapi_call_id: String,
}

pub async fn start(
    state: &AppState,
    scope: OrgScope,
    contact_id: i64,
    actor: Actor,
    via: String,
) -> AppResult<Started> {
    let (lead, settings) = state
        .db
        .read(move |c| {
            Ok((
                leads::get(c, &scope, contact_id)?,
                voice_agent::get(c, &scope)?,
            ))
        })
        .await?;
    if state.config.vapi_private_key.is_none() {
        return Err(AppError::Validation(
            "Call-backs need the Vapi private API key: set VAPI_PRIVATE_KEY in the configuration and restart."
                .into(),
        ));
    }
    let (Some(assistant_id), Some(phone_number_id)) =
        (settings.outbound_assistant_id, settings.phone_number_id)
    else {
        return Err(AppError::Validation(
            "Set the call-back assistant id and the Vapi phone number id in Settings → Voice agent first."
                .into(),
        ));
    };
    let now = state.clock.now().timestamp();
    let phone = lead.phone.clone();
    let row = state
        .db
        .write(move |tx| {
            let row = call_store::create_pending_call_back(tx, &scope, contact_id, &phone, now)?;
            audit::record(
                tx,
                &scope,
                &Event {
                    actor: &actor,
                    action: "call.call_back_requested",
                    object: &format!("contact:{contact_id}"),
                    detail: &format!("call={row} via {via}"),
                    ip: None,
                    at: now,
                },
            )?;
            Ok(row)
        })
        .await?;
    let asked = vapi::create_call(
        &state.config,
        &OutboundCall {
            assistant_id: &assistant_id,
            phone_number_id: &phone_number_id,
            customer_number: &lead.phone,
            customer_name: lead.name.as_deref(),
        },
    )
    .await;
    let now = state.clock.now().timestamp();
    match asked {
        Ok(created) => {
            let status = created
                .status
                .as_deref()
                .and_then(CallStatus::parse)
                .unwrap_or(CallStatus::Queued);
            let id = created.id.clone();
            let row = state
                .db
                .write(move |tx| {
                    let row = call_store::attach_vapi_id(tx, &scope, row, &id, status, now)?;
                    let next = calls::after_call_back(leads::status(tx, &scope, contact_id)?);
                    leads::record_call_back(tx, &scope, contact_id, next, now)?;
                    Ok(row)
                })
                .await?;
            Ok(Started {
                call_row_id: row,
                vapi_call_id: created.id,
            })
        }
        Err(e) => {
            let reason = format!("call-back-failed: {e}");
            state
                .db
                .write(move |tx| call_store::mark_call_back_failed(tx, &scope, row, &reason, now))
                .await?;
            Err(match e {
                VapiError::NoApiKey => AppError::Validation(
                    "Call-backs need the Vapi private API key: set VAPI_PRIVATE_KEY.".into(),
                ),
                VapiError::Refused(401 | 403) => AppError::Upstream(
                    "Vapi did not accept the API key; check VAPI_PRIVATE_KEY.".into(),
                ),
                VapiError::Refused(status) if status < 500 => AppError::Upstream(format!(
                    "Vapi refused the call (HTTP {status}); check the call-back assistant id and phone number id in Settings → Voice agent."
                )),
                VapiError::Refused(_) | VapiError::Unreachable | VapiError::BadAnswer => {
                    AppError::Upstream(
                        "Vapi could not start the call right now; try again in a minute.".into(),
                    )
                }
            })
        }
    }
}
