//! Answering Vapi's server messages other than tool calls (`docs/vapi.md` §1.2):
//!
//! * `assistant-request` → the org's assistant id; without one, the fallback transfer number;
//!   without that, an error sentence the caller hears. One settings read, so it answers well
//!   inside Vapi's 7.5 s.
//! * `transfer-destination-request` → the transfer number with a sentence said before the
//!   transfer, or the fallback number after hours (see `domain::calls::plan_transfer`).
//! * `status-update`, `end-of-call-report`, `transfer-update` → kept and processed into the call
//!   (see `voice::ingest`), then `200 {}`. The two requests above are kept too, with the
//!   destination we gave in place of any the request carried.
//! * `voice-request`, `call.endpointing.request`, `handoff-destination-request` → not kept, and
//!   declined in the shape Vapi's schema requires of their replies (see [`unkept_reply`]).
//! * everything else (`hang`, `conversation-update`, `speech-update`, `transcript`,
//!   `user-interrupted`, `assistant.started`, unknown types) → `200 {}` at once.

use crate::domain::calls::{self, TransferPlan};
use crate::error::AppResult;
use crate::store::voice_agent::{self, AgentSettings};
use crate::voice::call_event::EventKind;
use crate::voice::dispatch::ToolCtx;
use crate::voice::ingest;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// Answers one non-tool server message. `raw` is the request body as received.
pub async fn answer(
    ctx: &ToolCtx,
    kind: &str,
    mut message: Value,
    raw: &[u8],
) -> AppResult<Response> {
    let reply = match EventKind::from_type(kind) {
        Some(EventKind::AssistantRequest) => {
            let settings = agent_settings(ctx).await?;
            let reply = assistant_reply(&settings);
            if let Some(dest) = reply.get("destination") {
                set_destination(
                    &mut message,
                    dest.clone(),
                    "no assistant set: fallback number",
                );
            }
            reply
        }
        Some(EventKind::TransferRequest) => {
            let settings = agent_settings(ctx).await?;
            let open =
                calls::is_open_at(&ctx.org.hours, &ctx.org.closures, ctx.org.timezone, ctx.now);
            let plan = calls::plan_transfer(
                open,
                settings.transfer_number.as_deref(),
                settings.fallback_transfer_number.as_deref(),
            );
            match plan {
                TransferPlan::To {
                    number,
                    message: said,
                    reason,
                } => {
                    let dest = json!({"type": "number", "number": number, "message": said});
                    set_destination(&mut message, dest.clone(), reason);
                    json!({ "destination": dest })
                }
                TransferPlan::Refuse(said) => {
                    if let Some(m) = message.as_object_mut() {
                        m.remove("destination");
                    }
                    json!({ "error": said })
                }
            }
        }
        Some(_) => json!({}),
        None => return Ok(Json(unkept_reply(kind)).into_response()),
    };
    keep(ctx, kind, message, raw).await?;
    Ok(Json(reply).into_response())
}

/// Said to the model when a handoff tool asks where to hand the call: the appliance has no
/// other assistants.
pub const NO_HANDOFF: &str = "This line has no other assistant to hand the call to.";

/// The answer to a message the appliance neither keeps nor acts on. Most need nothing (`{}`);
/// these few are requests whose reply has a required field in Vapi's schema
/// (`ServerMessageResponse*`), so the appliance declines in that shape.
pub fn unkept_reply(kind: &str) -> Value {
    match kind {
        // Speech for a custom voice pointed here: the appliance synthesizes none.
        "voice-request" => json!({ "data": "" }),
        // A custom endpointing model's pause before the caller's turn ends: the appliance has
        // no model of its own, so it answers the value of Vapi's own example.
        "call.endpointing.request" => json!({ "timeoutSeconds": 0.5 }),
        "handoff-destination-request" => json!({ "destination": {}, "error": NO_HANDOFF }),
        _ => json!({}),
    }
}

/// What to answer `assistant-request` with (see the module doc).
pub fn assistant_reply(s: &AgentSettings) -> Value {
    match (&s.assistant_id, &s.fallback_transfer_number) {
        (Some(id), _) => json!({ "assistantId": id }),
        (None, Some(number)) => json!({"destination": {
            "type": "number", "number": number,
            "message": "Please hold while I connect you."
        }}),
        (None, None) => json!({
            "error": "Sorry, this line can't take calls right now. Please try again later."
        }),
    }
}

/// Records the destination we gave in the kept event, replacing anything the request carried.
fn set_destination(message: &mut Value, mut dest: Value, reason: &str) {
    dest["description"] = Value::from(reason);
    if let Some(m) = message.as_object_mut() {
        m.insert("destination".into(), dest);
    }
}

async fn agent_settings(ctx: &ToolCtx) -> AppResult<AgentSettings> {
    let scope = ctx.scope;
    ctx.state
        .db
        .read(move |c| voice_agent::get(c, &scope))
        .await
}

/// Keeps and processes a call event (see `voice::ingest`).
async fn keep(ctx: &ToolCtx, kind: &str, message: Value, raw: &[u8]) -> AppResult<()> {
    let (kind, services) = (kind.to_string(), ctx.services.clone());
    let country = ctx.state.config.default_country.clone();
    let now = ctx.now.timestamp();
    let prepared = tokio::task::spawn_blocking(move || {
        ingest::prepare(&kind, message, &services, &country, now)
    })
    .await?;
    let Some(p) = prepared else {
        return Ok(());
    };
    let dedupe = p.dedupe_key(raw);
    let scope = ctx.scope;
    let kept = ctx
        .state
        .db
        .write(move |tx| ingest::keep_and_process(tx, &scope, &p, &dedupe, now))
        .await?;
    if let ingest::Kept::Processed { alert_queued: true } = kept {
        crate::service::messaging::wake(&ctx.state);
    }
    Ok(())
}
