//! Registering the appliance's tools with Vapi for a clinic and linking them to its assistant.
//! Each tool from the one definition source (`voice::tools`) is created once; afterwards only
//! a tool whose definition or server part (URL, secret) changed is sent again, so a secret
//! rotation or a new release re-syncs exactly what changed. The assistant is read and patched
//! with its whole model (the prompt is never lost), its server URL and server messages.
//! Started from Settings (in the background) or `voxanne vapi sync-tools`; [`run_due`] re-syncs
//! clinics whose tools are out of date, e.g. after a secret rotation.

use crate::app::AppState;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::crypto::Vault;
use crate::error::{AppError, AppResult};
use crate::integrations::vapi::{self, VapiError};
use crate::integrations::vapi_assistant;
use crate::store::vapi_tools::{self, Registered, ToolSyncState};
use crate::store::{vapi_secrets, Db, OrgScope};
use crate::voice::tools::{self, ToolDef};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// At most this many of the assistant's other tools are looked up for calendar tools.
const MAX_FOREIGN_LOOKUPS: usize = 20;

/// What a sync needs, from the server's state or from the command line.
#[derive(Clone)]
pub struct Deps {
    pub config: Arc<Config>,
    pub db: Db,
    pub vault: Vault,
    pub clock: SharedClock,
}

impl From<&AppState> for Deps {
    fn from(state: &AppState) -> Self {
        Self {
            config: state.config.clone(),
            db: state.db.clone(),
            vault: state.vault.clone(),
            clock: state.clock.clone(),
        }
    }
}

impl Deps {
    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }
}

/// Claims the org's sync; false when one is already running.
pub async fn claim(deps: &Deps, scope: OrgScope) -> AppResult<bool> {
    let now = deps.now();
    deps.db
        .write(move |tx| vapi_tools::claim(tx, &scope, now))
        .await
}

/// Claims and runs a sync to the end.
pub async fn sync_tools(deps: &Deps, scope: OrgScope) -> AppResult<ToolSyncState> {
    if !claim(deps, scope).await? {
        return Err(AppError::Conflict(
            "a tool sync is already running for this clinic".into(),
        ));
    }
    run_claimed(deps, scope).await
}

/// Runs a claimed sync in the background, logging what cannot be recorded.
pub fn spawn_claimed(deps: Deps, scope: OrgScope) {
    tokio::spawn(async move {
        if let Err(e) = run_claimed(&deps, scope).await {
            tracing::warn!(org = scope.org_id(), error = %e, "tool sync could not be recorded");
        }
    });
}

/// Runs a sync this caller has claimed and records how it went.
pub async fn run_claimed(deps: &Deps, scope: OrgScope) -> AppResult<ToolSyncState> {
    let (ok, detail, native) = match run(deps, scope).await {
        Ok(done) => (true, done.detail, done.native),
        Err(Failure::Store(e)) => {
            // Recorded as failed so the claim is released; the error still propagates.
            let (detail, now) = (
                "the appliance's database failed during the sync".to_string(),
                deps.now(),
            );
            deps.db
                .write(move |tx| vapi_tools::finish(tx, &scope, false, &detail, None, now))
                .await?;
            return Err(e);
        }
        Err(Failure::Vapi(detail)) => (false, detail, Vec::new()),
    };
    let native = (!native.is_empty()).then(|| native.join(", "));
    let now = deps.now();
    deps.db
        .write(move |tx| {
            vapi_tools::finish(tx, &scope, ok, &detail, native.as_deref(), now)?;
            vapi_tools::state(tx, &scope)
        })
        .await?
        .ok_or(AppError::NotFound)
}

/// Re-syncs clinics whose registered tools no longer match the code or the current secret.
pub async fn run_due(state: &AppState) -> AppResult<usize> {
    let deps = Deps::from(state);
    if deps.config.vapi_private_key.is_none() || deps.config.public_url.is_none() {
        return Ok(0);
    }
    let tools_url = crate::voice::urls(&deps.config).tools;
    let vault = deps.vault.clone();
    let stale: Vec<OrgScope> = deps
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for scope in vapi_tools::synced_orgs_system(c)? {
                let secret = vapi_secrets::current(c, &vault, &scope)?;
                let server = server_hash(&tools_url, &secret);
                let known = vapi_tools::registered(c, &scope)?;
                if tools::all()
                    .iter()
                    .any(|d| needs_sending(d, &known, &server))
                {
                    out.push(scope);
                }
            }
            Ok(out)
        })
        .await?;
    let mut ran = 0;
    for scope in stale {
        if claim(&deps, scope).await? {
            run_claimed(&deps, scope).await?;
            ran += 1;
        }
    }
    Ok(ran)
}

struct Done {
    detail: String,
    native: Vec<String>,
}

enum Failure {
    /// Vapi (or missing configuration) stopped the sync: shown to the owner.
    Vapi(String),
    Store(AppError),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::Store(e)
    }
}

/// SHA-256 of the server part of a tool (URL and the org's secret), so a rotation re-syncs.
fn server_hash(tools_url: &str, secret: &str) -> String {
    hex::encode(Sha256::digest(format!("{tools_url}\n{secret}").as_bytes()))
}

fn needs_sending(def: &ToolDef, known: &[Registered], server: &str) -> bool {
    known.iter().find(|k| k.name == def.name).is_none_or(|k| {
        k.definition_sha256 != tools::definition_hash(def) || k.server_sha256 != server
    })
}

async fn run(deps: &Deps, scope: OrgScope) -> Result<Done, Failure> {
    let config = &deps.config;
    if config.vapi_private_key.is_none() {
        return Err(Failure::Vapi(
            "VAPI_PRIVATE_KEY is not set on this server; set it, restart, and sync again.".into(),
        ));
    }
    if config.public_url.is_none() {
        return Err(Failure::Vapi(
            "VOXANNE_PUBLIC_URL is not set: Vapi needs the appliance's public https address to call the tools.".into(),
        ));
    }
    let urls = crate::voice::urls(config);
    let vault = deps.vault.clone();
    let (secret, known, assistant_id) = deps
        .db
        .read(move |c| {
            Ok((
                vapi_secrets::current(c, &vault, &scope)?,
                vapi_tools::registered(c, &scope)?,
                vapi_tools::assistant_id(c, &scope)?,
            ))
        })
        .await?;
    let server = server_hash(&urls.tools, &secret);
    let (mut ours, mut retired) = (Vec::new(), Vec::new());
    let (mut created, mut updated) = (0, 0);
    for def in tools::all() {
        let stored = known.iter().find(|k| k.name == def.name);
        if !needs_sending(&def, &known, &server) {
            if let Some(k) = stored {
                ours.push(k.vapi_id.clone());
            }
            continue;
        }
        let body = tools::vapi_create_body(&def, &urls.tools, &secret);
        let what = |e: VapiError| Failure::Vapi(explain(&format!("Registering {}", def.name), &e));
        let id = match stored {
            Some(k) => match vapi::update_tool(config, &k.vapi_id, &body).await {
                Ok(()) => {
                    updated += 1;
                    k.vapi_id.clone()
                }
                // Deleted in Vapi: register it again, and unlink the old id.
                Err(e) if e.is_not_found() => {
                    retired.push(k.vapi_id.clone());
                    created += 1;
                    vapi::create_tool(config, &body).await.map_err(what)?
                }
                Err(e) => return Err(what(e)),
            },
            None => {
                created += 1;
                vapi::create_tool(config, &body).await.map_err(what)?
            }
        };
        // Recorded at once, so a sync cut off later never registers this tool twice.
        let tool = Registered {
            name: def.name.to_string(),
            vapi_id: id.clone(),
            definition_sha256: tools::definition_hash(&def),
            server_sha256: server.clone(),
        };
        let now = deps.now();
        deps.db
            .write(move |tx| vapi_tools::record_tool(tx, &scope, &tool, now))
            .await?;
        ours.push(id);
    }
    let unchanged = ours.len() - created - updated;
    let registered = format!(
        "{} tools registered with Vapi ({created} new, {updated} updated, {unchanged} unchanged)",
        ours.len()
    );
    let Some(assistant_id) = assistant_id else {
        return Ok(Done {
            detail: format!(
                "{registered}. No assistant ID is set, so they are not linked to an assistant yet."
            ),
            native: Vec::new(),
        });
    };
    let assistant = vapi::get_assistant(config, &assistant_id)
        .await
        .map_err(|e| match e {
            VapiError::Refused(404) => Failure::Vapi(format!(
                "{registered}, but Vapi has no assistant with ID {assistant_id}: check it in Settings."
            )),
            e => Failure::Vapi(format!("{registered}, but {}", explain("reading the assistant", &e))),
        })?;
    let native = native_calendar_tools(config, &assistant, &ours).await;
    let patch = vapi_assistant::link_patch(&assistant, &ours, &retired, &urls.webhook, &secret)
        .map_err(|why| Failure::Vapi(format!("{registered}, but {why}.")))?;
    vapi::update_assistant(config, &assistant_id, &patch)
        .await
        .map_err(|e| {
            Failure::Vapi(format!(
                "{registered}, but {}",
                explain("linking them to the assistant", &e)
            ))
        })?;
    Ok(Done {
        detail: format!(
            "{registered}, and linked to assistant {assistant_id} with its server URL set."
        ),
        native,
    })
}

/// Calendar tools on the assistant: inline ones, and (looked up) those it links by id.
async fn native_calendar_tools(
    config: &Config,
    assistant: &serde_json::Value,
    ours: &[String],
) -> Vec<String> {
    let mut found = vapi_assistant::inline_calendar_tools(assistant);
    for id in vapi_assistant::foreign_tool_ids(assistant, ours)
        .iter()
        .take(MAX_FOREIGN_LOOKUPS)
    {
        // Best effort: a tool that cannot be read is not reported.
        if let Ok(tool) = vapi::get_tool(config, id).await {
            found.extend(vapi_assistant::native_calendar_type(&tool));
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The owner-facing reason a step failed.
fn explain(step: &str, e: &VapiError) -> String {
    let why = match e {
        VapiError::NoApiKey => "VAPI_PRIVATE_KEY is not set on this server".to_string(),
        VapiError::Unreachable => "Vapi could not be reached".to_string(),
        VapiError::Refused(401 | 403) => {
            "Vapi did not accept the private key (check VAPI_PRIVATE_KEY)".to_string()
        }
        VapiError::Refused(429) => "Vapi kept asking us to slow down (HTTP 429)".to_string(),
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
    fn only_changed_tools_are_sent() {
        let def = tools::all().remove(0);
        let server = server_hash("https://c/api/vapi/tools", "vx_1");
        let current = Registered {
            name: def.name.to_string(),
            vapi_id: "t1".into(),
            definition_sha256: tools::definition_hash(&def),
            server_sha256: server.clone(),
        };
        assert!(!needs_sending(
            &def,
            std::slice::from_ref(&current),
            &server
        ));
        assert!(needs_sending(&def, &[], &server));
        let rotated = server_hash("https://c/api/vapi/tools", "vx_2");
        assert!(needs_sending(
            &def,
            std::slice::from_ref(&current),
            &rotated
        ));
        let edited = Registered {
            definition_sha256: "0".repeat(64),
            ..current
        };
        assert!(needs_sending(&def, &[edited], &server));
    }
}
