//! Running tool calls: each call is looked up by its tool-call id (a repeat gets the stored
//! reply), serialized per id so simultaneous duplicates act once, run by its handler, and
//! its reply stored.

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::store::orgs::{self, Org};
use crate::store::services::{self, Provider, Service};
use crate::store::{tool_results, OrgScope};
use crate::voice::auth::{authenticate_on, header_pairs};
use crate::voice::parse::CallInfo;
use crate::voice::tools::Tool;
use crate::voice::{booking_tools, clinic_tools, sms_tools};
use axum::body::Bytes;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What a tool answers: a sentence the assistant can say and, for results, compact data for
/// the model. `is_error` replies go back as `error`.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    pub is_error: bool,
    pub sentence: String,
    pub data: Value,
}

impl ToolOutcome {
    pub fn result(sentence: impl Into<String>, data: Value) -> Self {
        Self {
            is_error: false,
            sentence: sentence.into(),
            data,
        }
    }

    pub fn error(sentence: impl Into<String>) -> Self {
        Self {
            is_error: true,
            sentence: sentence.into(),
            data: Value::Null,
        }
    }

    /// The single-line string sent to Vapi.
    pub fn text(&self) -> String {
        let text = match &self.data {
            Value::Null => self.sentence.clone(),
            data => format!("{} {}", self.sentence, data),
        };
        crate::voice::parse::single_line(&text)
    }

    pub fn as_outcome(&self) -> Result<String, String> {
        if self.is_error {
            Err(self.text())
        } else {
            Ok(self.text())
        }
    }
}

/// Everything a handler needs, loaded once per request.
pub struct ToolCtx {
    pub state: AppState,
    pub scope: OrgScope,
    pub org: Org,
    pub services: Vec<Service>,
    pub providers: Vec<Provider>,
    pub call: CallInfo,
    pub tool_call_id: String,
    pub now: DateTime<Utc>,
}

impl ToolCtx {
    /// Authenticates the request and loads the org's context in one database read.
    /// `Unauthorized` when no secret verifies; nothing is written either way.
    pub async fn authenticate(
        state: &AppState,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> AppResult<ToolCtx> {
        let pairs = header_pairs(headers);
        let (vault, body, now) = (state.vault.clone(), body.clone(), state.clock.now());
        let (scope, org, services, providers) = state
            .db
            .read(move |c| {
                let scope = authenticate_on(c, &vault, &pairs, &body, now.timestamp())?
                    .ok_or(AppError::Unauthorized)?;
                Ok((
                    scope,
                    orgs::get(c, &scope)?,
                    services::list_active(c, &scope)?,
                    services::list_providers(c, &scope)?,
                ))
            })
            .await?;
        Ok(ToolCtx {
            state: state.clone(),
            scope,
            org,
            services,
            providers,
            call: CallInfo::default(),
            tool_call_id: String::new(),
            now,
        })
    }

    /// The audit detail naming the call and the tool call behind a booking change.
    pub fn audit_detail(&self, extra: &str) -> String {
        format!(
            "call={} tool_call={} {extra}",
            self.call.call_id.as_deref().unwrap_or("-"),
            if self.tool_call_id.is_empty() {
                "-"
            } else {
                &self.tool_call_id
            }
        )
    }
}

/// (org id, tool-call id)
type CallKey = (i64, String);

/// Per-key async locks, so two deliveries of the same tool call never run at once.
#[derive(Default)]
pub struct KeyedLocks {
    map: Mutex<HashMap<CallKey, Arc<tokio::sync::Mutex<()>>>>,
}

impl KeyedLocks {
    async fn run<T>(&self, key: CallKey, f: impl std::future::Future<Output = T>) -> T {
        let lock = {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(key.clone()).or_default().clone()
        };
        let out = {
            let _guard = lock.lock().await;
            f.await
        };
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(&key).is_some_and(|l| Arc::strong_count(l) <= 2) {
            map.remove(&key);
        }
        out
    }
}

/// Runs one tool call once: a stored reply for its id is returned as is.
pub async fn run_once(
    ctx: &mut ToolCtx,
    id: &str,
    name: &str,
    args: Result<Map<String, Value>, String>,
) -> ToolOutcome {
    let args = match args {
        Ok(a) => a,
        Err(e) => return ToolOutcome::error(e),
    };
    if id.is_empty() {
        return run_tool(ctx, name, &args).await;
    }
    ctx.tool_call_id = id.to_string();
    let key = (ctx.scope.org_id(), id.to_string());
    let locks = ctx.state.tool_locks.clone();
    locks
        .run(key, async {
            let (scope, tid) = (ctx.scope, id.to_string());
            let stored = ctx
                .state
                .db
                .read(move |c| tool_results::get(c, &scope, &tid))
                .await;
            if let Ok(Some((is_error, sentence, data))) = stored {
                return ToolOutcome {
                    is_error,
                    sentence,
                    data: serde_json::from_str(&data).unwrap_or(Value::Null),
                };
            }
            let outcome = run_tool(ctx, name, &args).await;
            let reply = (
                outcome.is_error,
                outcome.sentence.clone(),
                outcome.data.to_string(),
            );
            let (tid, name, now) = (id.to_string(), name.to_string(), ctx.now.timestamp());
            let saved = ctx
                .state
                .db
                .write(move |tx| tool_results::put(tx, &scope, &tid, &name, &reply, now))
                .await;
            if let Err(e) = saved {
                tracing::error!(error = %e, "could not store a tool reply");
            }
            outcome
        })
        .await
}

async fn run_tool(ctx: &ToolCtx, name: &str, args: &Map<String, Value>) -> ToolOutcome {
    let Some(tool) = Tool::from_name(name) else {
        return ToolOutcome::error(format!("There is no tool called {name} on this line."));
    };
    let result = match tool {
        Tool::GetClinicContext => clinic_tools::get_clinic_context(ctx).await,
        Tool::CheckAvailability => clinic_tools::check_availability(ctx, args).await,
        Tool::GetServicePrice => clinic_tools::get_service_price(ctx, args).await,
        Tool::ReserveSlot => booking_tools::reserve_slot(ctx, args).await,
        Tool::BookAppointment => booking_tools::book_appointment(ctx, args).await,
        Tool::FindAppointment => booking_tools::find_appointment(ctx, args).await,
        Tool::RescheduleAppointment => booking_tools::reschedule_appointment(ctx, args).await,
        Tool::CancelAppointment => booking_tools::cancel_appointment(ctx, args).await,
        Tool::SendVerificationCode => sms_tools::send_verification_code(ctx, args).await,
        Tool::VerifyCode => sms_tools::verify_code(ctx, args).await,
        Tool::SendConfirmationSms => sms_tools::send_confirmation_sms(ctx, args).await,
    };
    result.unwrap_or_else(|e| {
        tracing::error!(error = %e, tool = name, "tool failed");
        ToolOutcome::error("Sorry, something went wrong on our side; please try again in a moment.")
    })
}
