//! Settings → Voice agent (owners only): the URLs to paste into Vapi, the webhook secret
//! (masked, with reveal and rotate), how a Vapi HMAC credential signs (its plan's options), how
//! phone bookings behave, and the call settings (the assistants and phone number Vapi should
//! use, transfer numbers, the hot-lead threshold). Every action is audited.

use crate::app::AppState;
use crate::domain::hmac_plan::{HmacAlgorithm, HmacPlan, HmacPlanInput, SignatureEncoding};
use crate::domain::phone::PhoneNumber;
use crate::error::{AppError, AppResult};
use crate::store::sessions::SessionInfo;
use crate::store::voice_agent::{self, AgentSettings};
use crate::store::{orgs, vapi_hmac_plans, vapi_secrets, vapi_twilio_sync};
use crate::web::pages::{form_error, render_form, Chrome, Notice};
use crate::web::session::{audited_change, Owner};
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "settings/voice.html")]
struct VoicePage {
    chrome: Chrome,
    webhook_url: String,
    tools_url: String,
    legacy_url: String,
    public_url_set: bool,
    secret_shown: Option<String>,
    secret_last4: String,
    hold_minutes: u32,
    require_verification: bool,
    agent: AgentSettings,
    hmac: HmacPlan,
    algorithms: [HmacAlgorithm; 3],
    encodings: [SignatureEncoding; 2],
    error: Option<String>,
}

async fn page(
    state: &AppState,
    info: &SessionInfo,
    reveal: bool,
    error: Option<String>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let (scope, vault) = (info.scope, state.vault.clone());
    let (org, secret, agent, hmac) = state
        .db
        .read(move |c| {
            Ok((
                orgs::get(c, &scope)?,
                vapi_secrets::current(c, &vault, &scope)?,
                voice_agent::get(c, &scope)?,
                vapi_hmac_plans::get(c, &scope)?,
            ))
        })
        .await?;
    let urls = crate::voice::urls(&state.config);
    let last4: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let page = VoicePage {
        chrome: Chrome::new(info, &org.name, "Settings").with_notice(notice),
        webhook_url: urls.webhook,
        tools_url: urls.tools,
        legacy_url: urls.legacy_booking,
        public_url_set: state.config.public_url.is_some(),
        secret_shown: reveal.then_some(secret),
        secret_last4: last4,
        hold_minutes: org.hold_minutes,
        require_verification: org.require_verification,
        agent,
        hmac,
        algorithms: HmacAlgorithm::ALL,
        encodings: SignatureEncoding::ALL,
        error,
    };
    render_form(&page, &page.error)
}

pub async fn show(
    State(state): State<AppState>,
    Owner(info): Owner,
    Query(q): Query<Notice>,
) -> AppResult<Response> {
    let notice = match q.saved.as_deref() {
        Some("rotated") => Some("A new secret is active. The previous one keeps working for 24 hours; update the assistant now."),
        Some(_) => Some("Saved."),
        None => None,
    };
    page(&state, &info, false, None, notice).await
}

pub async fn reveal(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
) -> AppResult<Response> {
    audited_change(
        &state,
        &info,
        ip,
        "settings.vapi_secret_revealed",
        String::new(),
        |_, _| Ok(()),
    )
    .await?;
    page(&state, &info, true, None, None).await
}

pub async fn rotate(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
) -> AppResult<Response> {
    let (vault, now) = (state.vault.clone(), state.clock.now().timestamp());
    audited_change(
        &state,
        &info,
        ip,
        "settings.vapi_secret_rotated",
        String::new(),
        move |tx, scope| {
            vapi_secrets::rotate(tx, &vault, scope, now)?;
            // The imported number's server headers carry the secret: send it again. (The
            // tools are re-synced by their job, which notices the changed secret.)
            vapi_twilio_sync::resend_after_rotation(tx, scope, now)
        },
    )
    .await?;
    Ok(Redirect::to("/settings/voice?saved=rotated").into_response())
}

#[derive(Deserialize)]
pub struct HmacForm {
    #[serde(default)]
    algorithm: String,
    #[serde(default)]
    include_timestamp: Option<String>,
    #[serde(default)]
    timestamp_header: String,
    #[serde(default)]
    signature_header: String,
    #[serde(default)]
    signature_encoding: String,
    #[serde(default)]
    signature_prefix: String,
}

/// The options of the clinic's Vapi HMAC credential, so its signatures verify.
pub async fn save_hmac(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<HmacForm>,
) -> AppResult<Response> {
    let parsed = HmacPlan::parse(&HmacPlanInput {
        algorithm: &form.algorithm,
        include_timestamp: form.include_timestamp.is_some(),
        timestamp_header: &form.timestamp_header,
        signature_header: &form.signature_header,
        encoding: &form.signature_encoding,
        prefix: &form.signature_prefix,
    });
    let plan = match parsed {
        Ok(plan) => plan,
        Err(e) => return page(&state, &info, false, Some(e), None).await,
    };
    let detail = format!(
        "algorithm={} timestamp={} signature={} encoding={} prefix={}",
        plan.algorithm.as_str(),
        if plan.include_timestamp {
            plan.timestamp_header.as_str()
        } else {
            "-"
        },
        plan.signature_header,
        plan.encoding.as_str(),
        if plan.prefix.is_empty() {
            "-"
        } else {
            plan.prefix.as_str()
        },
    );
    let now = state.clock.now().timestamp();
    audited_change(
        &state,
        &info,
        ip,
        "settings.vapi_hmac",
        detail,
        move |tx, scope| vapi_hmac_plans::put(tx, scope, &plan, now),
    )
    .await?;
    Ok(Redirect::to("/settings/voice?saved=hmac").into_response())
}

#[derive(Deserialize)]
pub struct BookingForm {
    #[serde(default)]
    hold_minutes: String,
    #[serde(default)]
    require_verification: Option<String>,
}

pub async fn save_booking(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<BookingForm>,
) -> AppResult<Response> {
    let hold = match form.hold_minutes.trim().parse::<u32>() {
        Ok(n) if (1..=60).contains(&n) => n,
        _ => {
            let e = AppError::Validation(
                "How long a hold lasts must be a whole number of minutes from 1 to 60".into(),
            );
            return page(&state, &info, false, Some(form_error(e)?), None).await;
        }
    };
    let verify = form.require_verification.is_some();
    audited_change(
        &state,
        &info,
        ip,
        "settings.phone_booking",
        format!("hold_minutes={hold} require_verification={verify}"),
        move |tx, scope| orgs::update_phone_booking(tx, scope, hold, verify),
    )
    .await?;
    Ok(Redirect::to("/settings/voice?saved=booking").into_response())
}

#[derive(Deserialize)]
pub struct CallsForm {
    #[serde(default)]
    assistant_id: String,
    #[serde(default)]
    outbound_assistant_id: String,
    #[serde(default)]
    phone_number_id: String,
    #[serde(default)]
    transfer_number: String,
    #[serde(default)]
    fallback_transfer_number: String,
    #[serde(default)]
    hot_lead_threshold: String,
}

/// A Vapi id as pasted from its dashboard (a UUID); empty means "not set".
fn vapi_id(raw: &str, what: &str) -> AppResult<Option<String>> {
    let id = raw.trim();
    if id.is_empty() {
        return Ok(None);
    }
    let shaped = id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !shaped {
        return Err(AppError::Validation(format!(
            "The {what} should be an id like 8e2d4f60-1111-4222-8333-444455556666; copy it from the Vapi dashboard"
        )));
    }
    Ok(Some(id.to_string()))
}

fn phone(raw: &str, what: &str, country: &str) -> AppResult<Option<String>> {
    match raw.trim() {
        "" => Ok(None),
        raw => PhoneNumber::parse(raw, country)
            .map(|p| Some(p.as_str().to_string()))
            .map_err(|e| AppError::Validation(format!("The {what}: {e}"))),
    }
}

fn parse_calls_form(form: &CallsForm, country: &str) -> AppResult<AgentSettings> {
    let threshold = match form.hot_lead_threshold.trim().parse::<u8>() {
        Ok(n) if (1..=100).contains(&n) => n,
        _ => {
            return Err(AppError::Validation(
                "The hot-lead score must be a whole number from 1 to 100".into(),
            ))
        }
    };
    Ok(AgentSettings {
        assistant_id: vapi_id(&form.assistant_id, "inbound assistant id")?,
        outbound_assistant_id: vapi_id(&form.outbound_assistant_id, "call-back assistant id")?,
        phone_number_id: vapi_id(&form.phone_number_id, "Vapi phone number id")?,
        transfer_number: phone(&form.transfer_number, "transfer number", country)?,
        fallback_transfer_number: phone(
            &form.fallback_transfer_number,
            "fallback transfer number",
            country,
        )?,
        hot_lead_threshold: threshold,
    })
}

pub async fn save_calls(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<CallsForm>,
) -> AppResult<Response> {
    let settings = match parse_calls_form(&form, &state.config.default_country) {
        Ok(s) => s,
        Err(e) => return page(&state, &info, false, Some(form_error(e)?), None).await,
    };
    let detail = format!(
        "assistant={} outbound_assistant={} phone_number_id={} transfer={} fallback={} hot_lead_threshold={}",
        settings.assistant_id.as_deref().unwrap_or("-"),
        settings.outbound_assistant_id.as_deref().unwrap_or("-"),
        settings.phone_number_id.as_deref().unwrap_or("-"),
        settings.transfer_number.as_deref().unwrap_or("-"),
        settings.fallback_transfer_number.as_deref().unwrap_or("-"),
        settings.hot_lead_threshold,
    );
    audited_change(
        &state,
        &info,
        ip,
        "settings.voice_calls",
        detail,
        move |tx, scope| voice_agent::update(tx, scope, &settings),
    )
    .await?;
    Ok(Redirect::to("/settings/voice?saved=calls").into_response())
}
