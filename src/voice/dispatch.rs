//! Running tool calls: each call is looked up by its tool-call id (a repeat gets the stored
//! reply), serialized per id so simultaneous duplicates act once, run by its handler, and
//! its reply stored — in the handler's own write transaction when the handler uses
//! [`ToolCtx::write_with_reply`], else in a write of its own afterwards. The lookup is read
//! together with the request's authentication (see [`crate::voice::call_locks`] for why that is safe).

use crate::app::AppState;
use crate::domain::practitioner::{Practitioner, Working};
use crate::error::{AppError, AppResult};
use crate::failpoints::Failpoint;
use crate::service::messaging;
use crate::store::orgs::{self, Org};
use crate::store::outbox::SmsStatus;
use crate::store::services::{self, Service};
use crate::store::{outbox, practitioners, tool_results, OrgScope};
use crate::voice::auth::{authenticate_on, header_pairs};
use crate::voice::call_locks::Stamp;
use crate::voice::parse::CallInfo;
use crate::voice::tools::Tool;
use crate::voice::{booking_tools, clinic_tools, sms_tools};
use axum::body::Bytes;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use rusqlite::Transaction;
use serde_json::{Map, Value};
use std::sync::Mutex;
use tracing::Instrument;

pub use crate::voice::call_locks::KeyedLocks;

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

    fn to_stored(&self) -> tool_results::StoredReply {
        (self.is_error, self.sentence.clone(), self.data.to_string())
    }

    fn from_stored((is_error, sentence, data): tool_results::StoredReply) -> Self {
        Self {
            is_error,
            sentence,
            data: serde_json::from_str(&data).unwrap_or(Value::Null),
        }
    }
}

/// How long a tool waits for the first attempt at a text before answering `queued`.
pub const FIRST_ATTEMPT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// A tool's final reply, as its action's write stores it.
pub enum Reply {
    /// The answer, whatever happens next.
    Now(ToolOutcome),
    /// The answer depends on what becomes of a text the action queued.
    OnText(TextReply),
}

impl Reply {
    /// A reply about the text `outbox_id` (`None`: no text was queued, so `Skipped`),
    /// worded by `word` for each outcome of it.
    pub fn on_text(outbox_id: Option<i64>, word: impl Fn(SmsStatus) -> ToolOutcome) -> Reply {
        match outbox_id {
            None => Reply::Now(word(SmsStatus::Skipped)),
            Some(outbox_id) => Reply::OnText(TextReply {
                outbox_id,
                wordings: SmsStatus::ALL.iter().map(|s| (*s, word(*s))).collect(),
            }),
        }
    }
}

/// One wording per outcome of the text `outbox_id`.
pub struct TextReply {
    outbox_id: i64,
    wordings: Vec<(SmsStatus, ToolOutcome)>,
}

impl TextReply {
    fn pick(&self, status: SmsStatus) -> ToolOutcome {
        self.wordings
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, o)| o.clone())
            .unwrap_or_else(|| ToolOutcome::error("Sorry, something went wrong on our side."))
    }

    fn stored(&self) -> tool_results::OnText {
        tool_results::OnText {
            outbox_id: self.outbox_id,
            wordings: self
                .wordings
                .iter()
                .map(|(s, o)| (*s, o.to_stored()))
                .collect(),
        }
    }
}

/// A stored reply read with the authentication, and whether its text was still awaiting its
/// first attempt then.
type Prefetched = (tool_results::StoredReply, bool);

/// Everything a handler needs, loaded once per request.
pub struct ToolCtx {
    pub state: AppState,
    pub scope: OrgScope,
    pub org: Org,
    pub services: Vec<Service>,
    /// The bookable practitioners, and each one's calendar under the clinic's.
    pub practitioners: Vec<Practitioner>,
    pub working: Vec<Working>,
    pub call: CallInfo,
    /// The tool call being run ("" when it has no id, so its reply is not stored).
    pub tool_call_id: String,
    pub tool_name: String,
    pub now: DateTime<Utc>,
    /// The reply [`ToolCtx::write_with_reply`] committed for the current tool call.
    stored_reply: Mutex<Option<ToolOutcome>>,
    /// Stored replies of this request's tool calls, read with the authentication, each with
    /// the stamp taken before that read and whether its text was still awaiting its first attempt.
    prefetched: Vec<(String, Stamp, Option<Prefetched>)>,
}

impl ToolCtx {
    /// Authenticates the request and loads the org's context in one database read.
    /// `Unauthorized` when no secret verifies; nothing is written either way.
    pub async fn authenticate(
        state: &AppState,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> AppResult<ToolCtx> {
        Self::authenticate_calls(state, headers, body, Vec::new()).await
    }

    /// [`ToolCtx::authenticate`], reading in the same database read the stored replies of
    /// the tool calls `ids` (as the unauthenticated body names them; only used once the
    /// request is authenticated), so running them needs no lookup of its own.
    pub async fn authenticate_calls(
        state: &AppState,
        headers: &HeaderMap,
        body: &Bytes,
        ids: Vec<String>,
    ) -> AppResult<ToolCtx> {
        let pairs = header_pairs(headers);
        let (vault, body, now) = (state.vault.clone(), body.clone(), state.clock.now());
        let stamps: Vec<Stamp> = ids.iter().map(|id| state.tool_locks.stamp(id)).collect();
        let (scope, org, services, practitioners, stored) = state
            .db
            .read(move |c| {
                let scope = authenticate_on(c, &vault, &pairs, &body, now.timestamp())?
                    .ok_or(AppError::Unauthorized)?;
                let stored = ids
                    .into_iter()
                    .map(|id| {
                        let reply = tool_results::get_with_text(c, &scope, &id)?;
                        Ok((id, reply))
                    })
                    .collect::<AppResult<Vec<_>>>()?;
                Ok((
                    scope,
                    orgs::get(c, &scope)?,
                    services::list_active(c, &scope)?,
                    practitioners::list_active(c, &scope)?,
                    stored,
                ))
            })
            .await?;
        scope.name_in_span();
        let prefetched = stored
            .into_iter()
            .zip(stamps)
            .map(|((id, reply), stamp)| (id, stamp, reply))
            .collect();
        let working = crate::service::booking::working(&org, &practitioners);
        Ok(ToolCtx {
            state: state.clone(),
            scope,
            org,
            services,
            practitioners,
            working,
            call: CallInfo::default(),
            tool_call_id: String::new(),
            tool_name: String::new(),
            now,
            stored_reply: Mutex::new(None),
            prefetched,
        })
    }

    /// For a handler that acts: runs `action` in one write transaction and passes its value
    /// to `reply` inside the same write job (`action` comes last because it is the long
    /// closure):
    /// - `Ok(reply)` is the tool call's final reply, stored as the call's idempotent answer in
    ///   the same transaction, so the action and its answer commit together (one commit, and
    ///   no crash window in which a retry would act again or answer differently). A
    ///   [`Reply::OnText`] is stored with one wording per outcome of the text it queued; once
    ///   committed, the text gets its first attempt (up to about 2 s) and the matching wording
    ///   is the answer, while a retry later reads the wording matching the text's state then.
    /// - `Err(rest)` declines (nothing was done, and the reply needs further reads): `rest`
    ///   comes back once the transaction has committed, and the dispatcher stores whatever the
    ///   handler then answers.
    ///
    /// When a reply for this tool call is already stored (a delivery that was dropped midway
    /// may have committed it after this one looked), `action` is not run and that reply is
    /// the answer.
    ///
    /// `reply` runs on the writer thread inside the batch, so it must be quick and pure.
    pub async fn write_with_reply<T, U, R, A>(
        &self,
        reply: R,
        action: A,
    ) -> AppResult<Result<ToolOutcome, U>>
    where
        U: Send + 'static,
        R: FnOnce(T) -> Result<Reply, U> + Send + 'static,
        A: FnOnce(&Transaction<'_>) -> AppResult<T> + Send + 'static,
    {
        let (scope, now) = (self.scope, self.now.timestamp());
        let key = (!self.tool_call_id.is_empty())
            .then(|| (self.tool_call_id.clone(), self.tool_name.clone()));
        let stores = key.is_some();
        // The write and the start of its text's first attempt run in a task of their own, so
        // a caller that hangs up mid-request cancels neither.
        let state = self.state.clone();
        let committed = tokio::spawn(async move {
            let written = state.db.write(move |tx| {
                if let Some((id, _)) = &key {
                    if let Some(stored) = tool_results::get(tx, &scope, id)? {
                        return Ok(Ok((Reply::Now(ToolOutcome::from_stored(stored)), None)));
                    }
                }
                let reply = match reply(action(tx)?) {
                    Ok(reply) => reply,
                    Err(rest) => return Ok(Err(rest)),
                };
                if let Some((id, name)) = key {
                    match &reply {
                        Reply::Now(o) => {
                            tool_results::put(tx, &scope, &id, &name, &o.to_stored(), now)?
                        }
                        Reply::OnText(t) => {
                            tool_results::put_on_text(tx, &scope, &id, &name, &t.stored(), now)?
                        }
                    }
                }
                // The text's first attempt is this request's: claimed in the same commit.
                let claimed = match &reply {
                    Reply::OnText(t) => outbox::claim(tx, &scope, t.outbox_id, now)?,
                    Reply::Now(_) => None,
                };
                Ok(Ok((reply, claimed)))
            });
            Ok::<_, AppError>(match written.await? {
                Ok((reply, claimed)) => {
                    let attempt = claimed.map(|row| messaging::start_claimed(&state, scope, row));
                    Ok((reply, attempt))
                }
                Err(rest) => Err(rest),
            })
        });
        let replied = committed.await??;
        self.state.failpoints.hit(Failpoint::ToolActed);
        let replied = match replied {
            Ok((Reply::Now(o), _)) => Ok(o),
            Ok((Reply::OnText(t), attempt)) => {
                let wait = FIRST_ATTEMPT_WAIT;
                let status = match attempt {
                    Some(a) => messaging::settle(&self.state, scope, a, wait).await,
                    None => messaging::attempt_now(&self.state, scope, t.outbox_id, wait).await,
                };
                Ok(t.pick(status))
            }
            Err(rest) => Err(rest),
        };
        if let (Ok(outcome), true) = (&replied, stores) {
            *self.stored_reply.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome.clone());
        }
        Ok(replied)
    }

    fn take_stored_reply(&self) -> Option<ToolOutcome> {
        self.stored_reply
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
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
    ctx.tool_call_id = id.to_string();
    ctx.tool_name = name.to_string();
    ctx.take_stored_reply();
    if id.is_empty() {
        return run_tool(ctx, name, &args).await;
    }
    let prefetched = ctx
        .prefetched
        .iter()
        .position(|(pid, _, _)| pid == id)
        .map(|i| ctx.prefetched.swap_remove(i));
    if let Some((_, _, Some((reply, false)))) = prefetched {
        // A settled stored reply does not change: no need to wait for the lock. One whose
        // text is mid-attempt waits for the delivery making that attempt, and is read again.
        return ToolOutcome::from_stored(reply);
    }
    let key = (ctx.scope.org_id(), id.to_string());
    let locks = ctx.state.tool_locks.clone();
    let scope = ctx.scope;
    locks
        .run(key, |now_stamp| async move {
            let stored = match prefetched {
                // Read before any other run of this id finished: still the truth.
                Some((_, stamp, None)) if stamp == now_stamp => Ok(None),
                _ => stored_once_settled(&ctx.state, scope, id).await,
            };
            if let Ok(Some(reply)) = stored {
                return ToolOutcome::from_stored(reply);
            }
            let outcome = run_tool(ctx, name, &args).await;
            if let Some(stored) = ctx.take_stored_reply() {
                // Committed with the action: what every delivery of this call answers.
                return stored;
            }
            let reply = outcome.to_stored();
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

/// The stored reply to `id`. One whose text's first attempt is still being recorded (the run
/// that made it has answered already, see [`crate::service::messaging`]) is read again until
/// it is, for up to [`FIRST_ATTEMPT_WAIT`], so every delivery answers the same.
async fn stored_once_settled(
    state: &AppState,
    scope: OrgScope,
    id: &str,
) -> AppResult<Option<tool_results::StoredReply>> {
    let deadline = tokio::time::Instant::now() + FIRST_ATTEMPT_WAIT;
    loop {
        let tid = id.to_string();
        let read = state
            .db
            .read(move |c| tool_results::get_with_text(c, &scope, &tid))
            .await?;
        match read {
            Some((_, true)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            other => return Ok(other.map(|(reply, _)| reply)),
        }
    }
}

async fn run_tool(ctx: &ToolCtx, name: &str, args: &Map<String, Value>) -> ToolOutcome {
    let span = tracing::info_span!("tool", tool = name, tool_call_id = %ctx.tool_call_id);
    run_tool_inner(ctx, name, args).instrument(span).await
}

async fn run_tool_inner(ctx: &ToolCtx, name: &str, args: &Map<String, Value>) -> ToolOutcome {
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
