//! The telephony wizard (`/telephony`, owners): (1) the clinic's number, (2) Twilio's
//! verification call with the code on screen, (3) carrier, mode and ring time, (4) the codes to
//! dial, (5) the active set-up. Plain forms and redirects, so it works without JavaScript; the
//! overview lists every number and set-up with disable and remove.

use crate::app::AppState;
use crate::crypto;
use crate::domain::forwarding::{Carrier, ForwardingCodes, Mode, GSM_RING_SECONDS};
use crate::domain::telephony::{self, CallerIdStatus, ConfigStatus, COUNTRIES};
use crate::error::{AppError, AppResult};
use crate::service::telephony::{self as service, Initiated, Removed};
use crate::store::audit::Who;
use crate::store::caller_ids::{self, CallerId};
use crate::store::forwarding_configs::{self, ForwardingConfig};
use crate::store::orgs;
use crate::store::sessions::SessionInfo;
use crate::web::pages::{render, render_form, Chrome, Notice};
use crate::web::session::Owner;
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;

fn change(info: &SessionInfo, ip: SocketAddr) -> Who {
    Who::staff(&info.staff, "session", ip)
}

/// Errors a person can act on are shown on the form; the rest are error pages.
fn shown(e: AppError) -> AppResult<String> {
    match e {
        AppError::BadRequest(m)
        | AppError::Validation(m)
        | AppError::Conflict(m)
        | AppError::Gone(m)
        | AppError::Upstream(m) => Ok(m),
        AppError::TooManyRequests { retry_after_secs } => Ok(format!(
            "This number has had 3 verification calls in the last hour. Try again in {} minutes.",
            retry_after_secs.div_ceil(60)
        )),
        other => Err(other),
    }
}

async fn chrome(state: &AppState, info: &SessionInfo, notice: Option<&str>) -> AppResult<Chrome> {
    let scope = info.scope;
    let org = state.db.read(move |c| orgs::get(c, &scope)).await?;
    Ok(Chrome::new(info, &org.name, "Telephony").with_notice(notice))
}

/// A set-up with its codes, as the pages show it.
pub struct ConfigRow {
    pub config: ForwardingConfig,
    pub codes: ForwardingCodes,
    /// `tel:` links, one per activation / deactivation code.
    pub activation_links: Vec<(String, String)>,
    pub deactivation_links: Vec<(String, String)>,
}

impl ConfigRow {
    fn new(config: ForwardingConfig) -> AppResult<Self> {
        let codes = service::codes_of(&config)?;
        let links = |codes: &[String]| {
            codes
                .iter()
                .map(|c| (c.clone(), telephony::tel_href(c)))
                .collect()
        };
        Ok(Self {
            activation_links: links(&codes.activation_codes),
            deactivation_links: links(&codes.deactivation_codes),
            codes,
            config,
        })
    }

    pub fn is_live(&self) -> bool {
        self.config.status != ConfigStatus::Disabled
    }

    pub fn ring(&self) -> String {
        match (self.config.mode, self.config.ring_seconds) {
            (Mode::TotalAi, _) => "—".into(),
            (Mode::SafetyNet, Some(s)) => format!("{s} s"),
            (Mode::SafetyNet, None) => "carrier default".into(),
        }
    }
}

pub struct NumberRow {
    pub caller: CallerId,
    pub status: &'static str,
    pub verified: bool,
    pub configs: Vec<ConfigRow>,
}

impl NumberRow {
    pub fn has_live_config(&self) -> bool {
        self.configs.iter().any(ConfigRow::is_live)
    }
}

#[derive(Template)]
#[template(path = "telephony/index.html")]
struct OverviewPage {
    chrome: Chrome,
    step: u8,
    numbers: Vec<NumberRow>,
    countries: &'static [(&'static str, &'static str)],
    form: NumberForm,
    removed: Option<RemovedView>,
    public_url_set: bool,
    twilio_set: bool,
    error: Option<String>,
}

pub struct RemovedView {
    pub phone_number: String,
    pub twilio_removed: bool,
    pub configs: Vec<ConfigRow>,
}

#[derive(Deserialize, Default, Clone)]
pub struct NumberForm {
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub phone_number: String,
    #[serde(default)]
    pub friendly_name: String,
}

async fn overview(
    state: &AppState,
    info: &SessionInfo,
    form: NumberForm,
    removed: Option<RemovedView>,
    error: Option<String>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let scope = info.scope;
    let (callers, configs, twilio) = state
        .db
        .read(move |c| {
            Ok((
                caller_ids::list(c, &scope)?,
                forwarding_configs::list(c, &scope, None)?,
                crate::store::twilio_credentials::summary(c, &scope)?,
            ))
        })
        .await?;
    let now = state.clock.now().timestamp();
    let mut rows = Vec::with_capacity(callers.len());
    for caller in callers {
        let status = caller.status_at(now);
        let mine = configs
            .iter()
            .filter(|c| c.caller_id == caller.id)
            .cloned()
            .map(ConfigRow::new)
            .collect::<AppResult<Vec<_>>>()?;
        rows.push(NumberRow {
            status: status.as_str(),
            verified: status == CallerIdStatus::Verified,
            caller,
            configs: mine,
        });
    }
    let form = NumberForm {
        country: if form.country.is_empty() {
            state.config.default_country.to_ascii_uppercase()
        } else {
            form.country
        },
        ..form
    };
    let page = OverviewPage {
        chrome: chrome(state, info, notice).await?,
        step: 1,
        numbers: rows,
        countries: COUNTRIES,
        form,
        removed,
        public_url_set: state.config.public_url.is_some(),
        twilio_set: twilio.is_some(),
        error,
    };
    render_form(&page, &page.error)
}

/// `GET /telephony`: the numbers and set-ups, and step 1.
pub async fn show(
    State(state): State<AppState>,
    Owner(info): Owner,
    Query(q): Query<Notice>,
) -> AppResult<Response> {
    let notice = match q.saved.as_deref() {
        Some("disabled") => {
            Some("Forwarding disabled. Dial the deactivation code to stop it on the phone.")
        }
        Some(_) => Some("Saved."),
        None => None,
    };
    overview(&state, &info, NumberForm::default(), None, None, notice).await
}

#[derive(Template)]
#[template(path = "telephony/verify.html")]
struct VerifyPage {
    chrome: Chrome,
    step: u8,
    caller: CallerId,
    status: &'static str,
    /// Shown only right after Twilio gave it (it is not kept).
    code: Option<String>,
    expires_minutes: i64,
    error: Option<String>,
}

async fn verify_page(
    state: &AppState,
    info: &SessionInfo,
    caller: CallerId,
    code: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let now = state.clock.now().timestamp();
    let status = caller.status_at(now);
    let page = VerifyPage {
        chrome: chrome(state, info, None).await?,
        step: 2,
        expires_minutes: ((caller.expires_at - now).max(0) + 59) / 60,
        status: status.as_str(),
        code,
        caller,
        error,
    };
    render_form(&page, &page.error)
}

fn to_forwarding(id: i64) -> Response {
    Redirect::to(&format!("/telephony/numbers/{id}/forwarding")).into_response()
}

async fn started(state: &AppState, info: &SessionInfo, outcome: Initiated) -> AppResult<Response> {
    match outcome {
        Initiated::Started { caller, code } => {
            verify_page(state, info, caller, Some(code), None).await
        }
        Initiated::AlreadyOnAccount(caller) => Ok(to_forwarding(caller.id)),
    }
}

/// `POST /telephony/numbers`: step 1 → 2. The code is rendered in this answer.
pub async fn add_number(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<NumberForm>,
) -> AppResult<Response> {
    let attempt = async {
        let phone = service::parse_number(&state, &form.phone_number, Some(&form.country))?;
        service::initiate(
            &state,
            info.scope,
            &change(&info, ip),
            phone,
            Some(&form.friendly_name),
        )
        .await
    };
    match attempt.await {
        Ok(outcome) => started(&state, &info, outcome).await,
        Err(e) => {
            let message = shown(e)?;
            overview(&state, &info, form, None, Some(message), None).await
        }
    }
}

async fn load_caller(state: &AppState, info: &SessionInfo, id: i64) -> AppResult<CallerId> {
    let scope = info.scope;
    state.db.read(move |c| caller_ids::get(c, &scope, id)).await
}

/// `GET /telephony/numbers/:id`: step 2 again (without the code, which is not kept).
pub async fn show_number(
    State(state): State<AppState>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let caller = load_caller(&state, &info, id).await?;
    if caller.status == CallerIdStatus::Verified {
        return Ok(to_forwarding(id));
    }
    verify_page(&state, &info, caller, None, None).await
}

#[derive(Deserialize)]
pub struct CheckForm {
    /// The code the page was showing, posted back only so it stays on screen; it is shown
    /// again only if it matches the stored hash, and never decides anything.
    #[serde(default)]
    code: String,
}

/// `POST /telephony/numbers/:id/check`: "I've entered the code" asks Twilio.
pub async fn check_number(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
    Form(form): Form<CheckForm>,
) -> AppResult<Response> {
    match service::confirm(&state, info.scope, &change(&info, ip), id).await {
        Ok(c) if c.status == CallerIdStatus::Verified => Ok(to_forwarding(id)),
        Ok(c) => {
            let code = still_showable(&c, form.code).await?;
            let message = "Twilio has not confirmed the code yet. Answer Twilio's call and type the code on the keypad, then check again.".to_string();
            verify_page(&state, &info, c, code, Some(message)).await
        }
        Err(e) => {
            let message = shown(e)?;
            let caller = load_caller(&state, &info, id).await?;
            verify_page(&state, &info, caller, None, Some(message)).await
        }
    }
}

async fn still_showable(caller: &CallerId, code: String) -> AppResult<Option<String>> {
    let Some(hash) = caller.code_hash.clone() else {
        return Ok(None);
    };
    if !telephony::is_validation_code(&code) {
        return Ok(None);
    }
    let ok = tokio::task::spawn_blocking({
        let code = code.clone();
        move || crypto::verify_password(&code, &hash)
    })
    .await?;
    Ok(ok.then_some(code))
}

/// `POST /telephony/numbers/:id/restart`: a new verification call for the same number.
pub async fn restart_number(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let caller = load_caller(&state, &info, id).await?;
    let name = caller.friendly_name.clone();
    let outcome = service::initiate(
        &state,
        info.scope,
        &change(&info, ip),
        caller.phone_number.clone(),
        Some(&name),
    )
    .await;
    match outcome {
        Ok(outcome) => started(&state, &info, outcome).await,
        Err(e) => verify_page(&state, &info, caller, None, Some(shown(e)?)).await,
    }
}

/// `POST /telephony/numbers/:id/remove`: the number and its set-ups go; codes still needed on
/// the phone are shown.
pub async fn remove_number(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let Removed {
        caller,
        live_configs,
        twilio_removed,
    } = service::remove_number(&state, info.scope, &change(&info, ip), id).await?;
    let removed = RemovedView {
        phone_number: caller.phone_number,
        twilio_removed,
        configs: live_configs
            .into_iter()
            .map(ConfigRow::new)
            .collect::<AppResult<_>>()?,
    };
    overview(
        &state,
        &info,
        NumberForm::default(),
        Some(removed),
        None,
        Some("Number removed."),
    )
    .await
}

#[derive(Template)]
#[template(path = "telephony/forwarding.html")]
struct ForwardingPage {
    chrome: Chrome,
    step: u8,
    caller: CallerId,
    carriers: Vec<(&'static str, &'static str, bool)>,
    ring_times: &'static [u32],
    form: ForwardingForm,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ForwardingForm {
    #[serde(default)]
    carrier: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    ring_seconds: String,
}

async fn forwarding_page(
    state: &AppState,
    info: &SessionInfo,
    caller: CallerId,
    form: ForwardingForm,
    error: Option<String>,
) -> AppResult<Response> {
    let page = ForwardingPage {
        chrome: chrome(state, info, None).await?,
        step: 3,
        caller,
        carriers: Carrier::ALL
            .iter()
            .map(|c| (c.slug(), c.label(), c.is_gsm()))
            .collect(),
        ring_times: &GSM_RING_SECONDS,
        form: ForwardingForm {
            mode: if form.mode.is_empty() {
                Mode::SafetyNet.slug().into()
            } else {
                form.mode
            },
            ..form
        },
        error,
    };
    render_form(&page, &page.error)
}

/// `GET /telephony/numbers/:id/forwarding`: step 3.
pub async fn forwarding_form(
    State(state): State<AppState>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let caller = load_caller(&state, &info, id).await?;
    if caller.status != CallerIdStatus::Verified {
        return Ok(Redirect::to(&format!("/telephony/numbers/{id}")).into_response());
    }
    forwarding_page(&state, &info, caller, ForwardingForm::default(), None).await
}

/// `POST /telephony/numbers/:id/forwarding`: step 3 → 4.
pub async fn create_forwarding(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
    Form(form): Form<ForwardingForm>,
) -> AppResult<Response> {
    let made = service::create_config(
        &state,
        info.scope,
        &change(&info, ip),
        id,
        &form.carrier,
        &form.mode,
        Some(&form.ring_seconds),
    )
    .await;
    match made {
        Ok(config) => {
            Ok(Redirect::to(&format!("/telephony/forwarding/{}", config.id)).into_response())
        }
        Err(e) => {
            let message = shown(e)?;
            let caller = load_caller(&state, &info, id).await?;
            forwarding_page(&state, &info, caller, form, Some(message)).await
        }
    }
}

#[derive(Template)]
#[template(path = "telephony/codes.html")]
struct CodesPage {
    chrome: Chrome,
    step: u8,
    row: ConfigRow,
    error: Option<String>,
}

/// `GET /telephony/forwarding/:id`: step 4 (pending: the codes), step 5 (active: the summary),
/// or the deactivation code of a disabled set-up.
pub async fn show_forwarding(
    State(state): State<AppState>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = info.scope;
    let config = state
        .db
        .read(move |c| forwarding_configs::get(c, &scope, id))
        .await?;
    let step = match config.status {
        ConfigStatus::Pending => 4,
        _ => 5,
    };
    let page = CodesPage {
        chrome: chrome(&state, &info, None).await?,
        step,
        row: ConfigRow::new(config)?,
        error: None,
    };
    render(&page)
}

/// `POST /telephony/forwarding/:id/confirm`: step 4 → 5.
pub async fn confirm_forwarding(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    service::confirm_config(&state, info.scope, &change(&info, ip), id).await?;
    Ok(Redirect::to(&format!("/telephony/forwarding/{id}")).into_response())
}

/// `POST /telephony/forwarding/:id/disable`: off; the page then shows the code to dial.
pub async fn disable_forwarding(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    service::disable_config(&state, info.scope, &change(&info, ip), id).await?;
    Ok(Redirect::to(&format!("/telephony/forwarding/{id}")).into_response())
}
