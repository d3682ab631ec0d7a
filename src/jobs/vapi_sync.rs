//! Keeping each clinic's Twilio set-up in step with Vapi: the Twilio credential is created
//! there once and updated afterwards, and the "from" number is imported when the owner asked
//! for it. Saving in Settings syncs at once; a sync that could not finish stays `pending` with
//! its reason, is retried from the page, and by [`run_due`] every few minutes.

use crate::app::AppState;
use crate::config::Config;
use crate::error::AppResult;
use crate::integrations::twilio::Credentials;
use crate::integrations::vapi::{self, PhoneImport, VapiError};
use crate::store::vapi_twilio_sync::{self, SyncState};
use crate::store::{orgs, twilio_credentials, vapi_secrets, OrgScope};

/// A pending sync is retried by the background job this long after its last attempt.
const RETRY_AFTER_SECS: i64 = 15 * 60;

/// Vapi caps names at 40 characters.
const MAX_NAME: usize = 40;

/// One sync at a time in this process: two at once for one clinic could each create the
/// credential in Vapi before either recorded its id. Syncs are rare, so one lock is enough.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Retries pending syncs whose last attempt is old enough. Returns how many were tried.
pub async fn run_due(state: &AppState) -> AppResult<usize> {
    if state.config.vapi_private_key.is_none() {
        return Ok(0);
    }
    let before = state.clock.now().timestamp() - RETRY_AFTER_SECS;
    let due = state
        .db
        .read(move |c| vapi_twilio_sync::pending_due_system(c, before))
        .await?;
    for scope in &due {
        sync_twilio(state, *scope).await?;
    }
    Ok(due.len())
}

/// Pushes the org's stored Twilio set-up to Vapi and records the outcome. None when the org
/// has no Twilio set-up saved from Settings.
pub async fn sync_twilio(state: &AppState, scope: OrgScope) -> AppResult<Option<SyncState>> {
    let _turn = ONE_AT_A_TIME.lock().await;
    let vault = state.vault.clone();
    let (creds, sync, org_name, secret) = state
        .db
        .read(move |c| {
            Ok((
                twilio_credentials::get(c, &vault, &scope)?,
                vapi_twilio_sync::get(c, &scope)?,
                orgs::get(c, &scope)?.name,
                vapi_secrets::current(c, &vault, &scope).ok(),
            ))
        })
        .await?;
    let (Some(creds), Some(sync)) = (creds, sync) else {
        return Ok(None);
    };
    let outcome = push(&state.config, &creds, &sync, &org_name, secret.as_deref()).await;
    let now = state.clock.now().timestamp();
    state
        .db
        .write(move |tx| {
            match &outcome {
                Ok(done) => vapi_twilio_sync::record_synced(
                    tx,
                    &scope,
                    &done.credential_id,
                    done.phone_number_id.as_deref(),
                    now,
                )?,
                Err(failed) => vapi_twilio_sync::record_failed(
                    tx,
                    &scope,
                    failed.credential_id.as_deref(),
                    &failed.detail,
                    now,
                )?,
            }
            vapi_twilio_sync::get(tx, &scope)
        })
        .await
}

struct Pushed {
    credential_id: String,
    phone_number_id: Option<String>,
}

struct Failed {
    /// A credential created before the failure, so a retry updates it.
    credential_id: Option<String>,
    detail: String,
}

async fn push(
    config: &Config,
    creds: &Credentials,
    sync: &SyncState,
    org_name: &str,
    webhook_secret: Option<&str>,
) -> Result<Pushed, Failed> {
    let name: String = format!("Voxanne {org_name}")
        .chars()
        .take(MAX_NAME)
        .collect();
    let credential_id = upsert_credential(config, creds, sync.credential_id.as_deref(), &name)
        .await
        .map_err(|e| Failed {
            credential_id: None,
            detail: explain("Saving the Twilio credential in Vapi", &e),
        })?;
    let number = creds.from_number.as_deref().filter(|_| sync.import_number);
    let phone_number_id = match number {
        None => None,
        Some(number) => {
            let urls = crate::voice::urls(config);
            let import = PhoneImport {
                number,
                name: &name,
                server_url: config.public_url.is_some().then_some(urls.webhook.as_str()),
                server_secret: webhook_secret,
            };
            let id = ensure_number(config, creds, sync.phone_number_id.as_deref(), &import)
                .await
                .map_err(|e| Failed {
                    credential_id: Some(credential_id.clone()),
                    detail: explain(&format!("Importing {number} into Vapi"), &e),
                })?;
            Some(id)
        }
    };
    Ok(Pushed {
        credential_id,
        phone_number_id,
    })
}

/// Updates the credential created earlier, or creates it (again, if it was deleted in Vapi).
async fn upsert_credential(
    config: &Config,
    creds: &Credentials,
    known_id: Option<&str>,
    name: &str,
) -> Result<String, VapiError> {
    if let Some(id) = known_id {
        match vapi::update_twilio_credential(config, id, creds, name).await {
            Ok(()) => return Ok(id.to_string()),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    vapi::create_twilio_credential(config, creds, name).await
}

/// Updates the number imported earlier; else adopts it if Vapi already has it (an earlier
/// import whose answer was lost); else imports it.
async fn ensure_number(
    config: &Config,
    creds: &Credentials,
    known_id: Option<&str>,
    import: &PhoneImport<'_>,
) -> Result<String, VapiError> {
    if let Some(id) = known_id {
        match vapi::update_phone_number(config, id, creds, import).await {
            Ok(()) => return Ok(id.to_string()),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    if let Some(id) = vapi::find_phone_number(config, import.number).await? {
        vapi::update_phone_number(config, &id, creds, import).await?;
        return Ok(id);
    }
    vapi::import_phone_number(config, creds, import).await
}

/// The owner-facing reason a step failed.
fn explain(step: &str, e: &VapiError) -> String {
    let why = match e {
        VapiError::NoApiKey => {
            "VAPI_PRIVATE_KEY is not set on this server; set it, restart, and retry".to_string()
        }
        VapiError::Unreachable => "Vapi could not be reached".to_string(),
        VapiError::Refused(401 | 403) => {
            "Vapi did not accept the private key (check VAPI_PRIVATE_KEY)".to_string()
        }
        VapiError::Refused(429) => "Vapi is busy (HTTP 429)".to_string(),
        VapiError::Refused(s) if *s >= 500 => format!("Vapi had a problem (HTTP {s})"),
        VapiError::Refused(s) => format!("Vapi refused it (HTTP {s})"),
        VapiError::BadAnswer => "Vapi's answer could not be read".to_string(),
    };
    format!("{step}: {why}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_the_step_and_what_to_do() {
        let m = explain("Saving the Twilio credential in Vapi", &VapiError::NoApiKey);
        assert!(m.starts_with("Saving the Twilio credential in Vapi: VAPI_PRIVATE_KEY"));
        assert!(explain("x", &VapiError::Refused(503)).contains("HTTP 503"));
        assert!(explain("x", &VapiError::Refused(401)).contains("private key"));
    }
}
