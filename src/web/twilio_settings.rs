//! Settings → Twilio (owners only): the clinic's own Twilio account for texts. A save is
//! checked with Twilio first (nothing is stored when the check fails), then stored sealed,
//! audited, and sent to Vapi; where that stands is shown with a retry. Secrets are never
//! rendered back: only their last four characters.

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::integrations::twilio::INBOUND_SMS_PATH;
use crate::integrations::twilio_check;
use crate::jobs::vapi_sync;
use crate::store::orgs;
use crate::store::sessions::SessionInfo;
use crate::store::twilio_credentials::{self, Input, Summary};
use crate::store::vapi_twilio_sync::{self, SyncState};
use crate::web::pages::{form_error, render_form, Chrome, Notice};
use crate::web::session::{audited_change, Owner};
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "settings/twilio.html")]
struct TwilioPage {
    chrome: Chrome,
    summary: Option<Summary>,
    sync: Option<SyncState>,
    vapi_key_set: bool,
    public_url_set: bool,
    /// Where the number's messaging webhook should point.
    inbound_url: String,
    /// What was typed, shown again after a refusal (never the secrets).
    form: FormValues,
    error: Option<String>,
}

#[derive(Default)]
struct FormValues {
    account_sid: String,
    api_key_sid: String,
    from_number: String,
    import_number: bool,
}

/// The form as posted. Filling in the API key SID switches from the auth token to the key.
#[derive(Deserialize)]
pub struct TwilioForm {
    #[serde(default)]
    account_sid: String,
    #[serde(default)]
    auth_token: String,
    #[serde(default)]
    api_key_sid: String,
    #[serde(default)]
    api_key_secret: String,
    #[serde(default)]
    from_number: String,
    #[serde(default)]
    import_number: Option<String>,
}

impl TwilioForm {
    fn values(&self) -> FormValues {
        FormValues {
            account_sid: self.account_sid.trim().to_string(),
            api_key_sid: self.api_key_sid.trim().to_string(),
            from_number: self.from_number.trim().to_string(),
            import_number: self.import_number.is_some(),
        }
    }

    fn input(&self) -> AppResult<Input<'_>> {
        let key_sid = Some(self.api_key_sid.trim()).filter(|k| !k.is_empty());
        let secret = match key_sid {
            Some(_) if self.api_key_secret.trim().is_empty() => {
                return Err(AppError::Validation(
                    "Give the API key's secret as well as its SID.".into(),
                ))
            }
            Some(_) => &self.api_key_secret,
            None => &self.auth_token,
        };
        if self.from_number.trim().is_empty() {
            return Err(AppError::Validation(
                "Give the Twilio number that texts come from.".into(),
            ));
        }
        Ok(Input {
            account_sid: &self.account_sid,
            key_sid,
            secret,
            from_number: Some(&self.from_number),
            messaging_service_sid: None,
        })
    }
}

async fn page(
    state: &AppState,
    info: &SessionInfo,
    form: Option<FormValues>,
    error: Option<String>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let scope = info.scope;
    let (org, summary, sync) = state
        .db
        .read(move |c| {
            Ok((
                orgs::get(c, &scope)?,
                twilio_credentials::summary(c, &scope)?,
                vapi_twilio_sync::get(c, &scope)?,
            ))
        })
        .await?;
    let form = form.unwrap_or_else(|| match &summary {
        Some(s) => FormValues {
            account_sid: s.account_sid.clone(),
            api_key_sid: s.key_sid.clone().unwrap_or_default(),
            from_number: s.from_number.clone().unwrap_or_default(),
            import_number: sync.as_ref().is_some_and(|s| s.import_number),
        },
        None => FormValues::default(),
    });
    let base = state
        .config
        .public_url
        .as_deref()
        .unwrap_or("https://YOUR-TUNNEL-ADDRESS");
    let page = TwilioPage {
        chrome: Chrome::new(info, &org.name, "Settings").with_notice(notice),
        summary,
        sync,
        vapi_key_set: state.config.vapi_private_key.is_some(),
        public_url_set: state.config.public_url.is_some(),
        inbound_url: format!("{base}{INBOUND_SMS_PATH}"),
        form,
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
        Some("synced") => Some("Saved, checked with Twilio, and sent to Vapi."),
        Some("pending") => {
            Some("Saved and checked with Twilio. Vapi is not up to date yet: see below.")
        }
        Some(_) => Some("Saved."),
        None => None,
    };
    page(&state, &info, None, None, notice).await
}

pub async fn save(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<TwilioForm>,
) -> AppResult<Response> {
    let refuse = |message: String| page(&state, &info, Some(form.values()), Some(message), None);
    let checked = form
        .input()
        .and_then(|i| twilio_credentials::validate(&i, &state.config.default_country));
    let creds = match checked {
        Ok(c) => c,
        Err(e) => return refuse(form_error(e)?).await,
    };
    if let Err(problem) = twilio_check::check_setup(&state.twilio, &creds).await {
        return refuse(problem.to_string()).await;
    }
    let import = form.import_number.is_some();
    let detail = format!(
        "account={} auth={} from={} import_number={import}",
        creds.account_sid,
        if creds.key_sid.is_some() {
            "api_key"
        } else {
            "auth_token"
        },
        creds.from_number.as_deref().unwrap_or(""),
    );
    let (vault, now) = (state.vault.clone(), state.clock.now().timestamp());
    let saved = audited_change(
        &state,
        &info,
        ip,
        "settings.twilio_saved",
        detail,
        move |tx, scope| {
            twilio_credentials::set(tx, &vault, scope, &creds, now)?;
            vapi_twilio_sync::mark_pending(tx, scope, import, now)
        },
    )
    .await;
    if let Err(e) = saved {
        return refuse(form_error(e)?).await;
    }
    sync_and_redirect(&state, &info).await
}

/// "Retry sync": sends the stored set-up to Vapi again.
pub async fn retry_sync(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
) -> AppResult<Response> {
    audited_change(
        &state,
        &info,
        ip,
        "settings.twilio_vapi_sync_retried",
        String::new(),
        |_, _| Ok(()),
    )
    .await?;
    sync_and_redirect(&state, &info).await
}

async fn sync_and_redirect(state: &AppState, info: &SessionInfo) -> AppResult<Response> {
    let outcome = match vapi_sync::sync_twilio(state, info.scope).await? {
        Some(s) if s.is_synced() => "synced",
        Some(_) => "pending",
        None => {
            let e = AppError::Validation("Save the Twilio details first.".into());
            return page(state, info, None, Some(form_error(e)?), None).await;
        }
    };
    Ok(Redirect::to(&format!("/settings/twilio?saved={outcome}")).into_response())
}
