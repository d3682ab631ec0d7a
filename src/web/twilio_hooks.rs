//! Twilio's webhooks: delivery reports for the texts we send (`POST /api/twilio/status`) and
//! texts patients send to the clinic's number (`POST /api/twilio/sms`). The org is the one
//! whose stored credentials name the posted `AccountSid` and the clinic's number, and only if
//! `X-Twilio-Signature` checks out with that org's auth token against `VOXANNE_PUBLIC_URL`;
//! anything else is refused with 403 before anything is read or written for an org.

use crate::app::AppState;
use crate::domain::phone::PhoneNumber;
use crate::domain::sms::{self, OptKeyword};
use crate::error::{AppError, AppResult};
use crate::integrations::twilio::OPTED_OUT;
use crate::integrations::twilio_signature;
use crate::store::audit::{self, Actor, Event};
use crate::store::messages::{self, Inbound, StatusApplied};
use crate::store::{attention, contacts, opt_outs, twilio_credentials, OrgScope};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// An empty TwiML reply: nothing is texted back (Twilio answers STOP/HELP itself).
const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#;

/// A webhook whose signature checked out, and the org it belongs to.
struct Signed {
    scope: OrgScope,
    params: Vec<(String, String)>,
}

impl Signed {
    /// The first non-empty value of a parameter, trimmed.
    fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Finds the org and checks the signature. `our_side` names the parameter holding the
/// clinic's number: `From` on delivery reports, `To` on received texts.
async fn authenticate(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    our_side: &str,
) -> AppResult<Signed> {
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| AppError::BadRequest("expected a form-encoded body".into()))?;
    let presented = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or(AppError::Forbidden)?;
    let Some(public_url) = state.config.public_url.as_deref() else {
        tracing::warn!("a Twilio webhook arrived but VOXANNE_PUBLIC_URL is not set, so its signature cannot be checked");
        return Err(AppError::Forbidden);
    };
    // Twilio signs the URL it was given: the public address, this path and the query.
    let url = format!(
        "{public_url}{}",
        uri.path_and_query().map_or(uri.path(), |pq| pq.as_str())
    );
    let first = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let account_sid = first("AccountSid").ok_or(AppError::Forbidden)?;
    let (our_number, service_sid) = (first(our_side), first("MessagingServiceSid"));
    let vault = state.vault.clone();
    let checked = params.clone();
    let scope = state
        .db
        .read(move |c| {
            twilio_credentials::authenticate_webhook(
                c,
                &vault,
                &account_sid,
                our_number.as_deref(),
                service_sid.as_deref(),
                |token| twilio_signature::is_valid(token, &url, &checked, &presented),
            )
        })
        .await?;
    match scope {
        Some(scope) => Ok(Signed { scope, params }),
        None => {
            tracing::info!(
                path = uri.path(),
                "refused a Twilio webhook: unknown account or bad signature"
            );
            Err(AppError::Forbidden)
        }
    }
}

/// `POST /api/twilio/status`: a delivery report moves the text's status forward and records
/// an asynchronous error; 21610 puts the number on the opt-out list.
pub async fn status(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let hook = authenticate(&state, &uri, &headers, &body, "From").await?;
    let (Some(sid), Some(status)) = (hook.get("MessageSid"), hook.get("MessageStatus")) else {
        return Err(AppError::BadRequest(
            "MessageSid and MessageStatus are required".into(),
        ));
    };
    let (sid, status) = (sid.to_string(), status.to_ascii_lowercase());
    // Present but empty on most reports; a number only when something went wrong.
    let error_code = hook.get("ErrorCode").and_then(|c| c.parse::<i64>().ok());
    let (scope, now) = (hook.scope, state.clock.now().timestamp());
    state
        .db
        .write(move |tx| {
            let applied = messages::apply_status(tx, &scope, &sid, &status, error_code, now)?;
            if let (StatusApplied::Updated { recipient }, Some(OPTED_OUT)) = (&applied, error_code)
            {
                opt_outs::add(tx, &scope, recipient, "twilio_21610", now)?;
            }
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/twilio/sms`: a text from a patient. STOP and START change the opt-out list;
/// every text is kept once on the sender's contact.
pub async fn inbound_sms(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let hook = authenticate(&state, &uri, &headers, &body, "To").await?;
    let sid = hook
        .get("MessageSid")
        .or_else(|| hook.get("SmsSid"))
        .ok_or_else(|| AppError::BadRequest("MessageSid is required".into()))?
        .to_string();
    let from = PhoneNumber::parse(
        hook.get("From").unwrap_or_default(),
        &state.config.default_country,
    )
    .map_err(|e| AppError::BadRequest(format!("From: {e}")))?;
    let to = hook.get("To").unwrap_or_default().to_string();
    let text = hook
        .params
        .iter()
        .find(|(k, _)| k == "Body")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let keyword = sms::opt_keyword(&text);
    let segments = hook.get("NumSegments").and_then(|n| n.parse().ok());
    let (scope, now) = (hook.scope, state.clock.now().timestamp());
    state
        .db
        .write(move |tx| {
            let phone = from.as_str();
            let contact = contacts::upsert(tx, &scope, phone, None, None, now)?;
            let fresh = messages::record_inbound(
                tx,
                &scope,
                &Inbound {
                    provider_sid: &sid,
                    contact_id: contact.id,
                    sender: phone,
                    recipient: &to,
                    body: &text,
                    segments,
                    purpose: keyword.map(OptKeyword::as_str),
                },
                now,
            )?;
            // A patient's own words go on the front desk's worklist; STOP, START and HELP
            // are handled here and need nobody.
            if let (Some(message), None) = (fresh, keyword) {
                attention::record_text(tx, &scope, message, now)?;
            }
            let fresh = fresh.is_some();
            // A repeated delivery of the same text changes nothing (a START sent after it
            // must not be undone by a late copy of an earlier STOP).
            let changed = match (fresh, keyword) {
                (true, Some(OptKeyword::Stop)) => {
                    opt_outs::add(tx, &scope, phone, "sms_stop", now)?.then_some("sms.opted_out")
                }
                (true, Some(OptKeyword::Start)) => {
                    opt_outs::remove(tx, &scope, phone)?.then_some("sms.opted_in")
                }
                _ => None,
            };
            if let Some(action) = changed {
                audit::record(
                    tx,
                    &scope,
                    &Event {
                        actor: &Actor::System("twilio"),
                        action,
                        object: &format!("contact:{}", contact.id),
                        detail: "",
                        ip: None,
                        at: now,
                    },
                )?;
            }
            Ok(())
        })
        .await?;
    Ok((
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        EMPTY_TWIML,
    )
        .into_response())
}
