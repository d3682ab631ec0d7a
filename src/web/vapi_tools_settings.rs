//! Settings → Voice agent → Tools (owners only): the assistant the appliance's tools are linked
//! to, and registering them with Vapi. Saving starts the sync in the background; the page shows
//! how the last one went, and any calendar tools on the assistant that bypass the appliance.

use crate::app::AppState;
use crate::error::AppResult;
use crate::jobs::vapi_tools::{self, Deps};
use crate::store::orgs;
use crate::store::sessions::SessionInfo;
use crate::store::vapi_tools::{self as store, ToolSyncState};
use crate::web::pages::{form_error, render_form, Chrome, Notice};
use crate::web::session::{audited_change, Owner};
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "settings/voice_tools.html")]
struct ToolsPage {
    chrome: Chrome,
    sync: Option<ToolSyncState>,
    assistant_id: String,
    registered: usize,
    total: usize,
    vapi_key_set: bool,
    public_url_set: bool,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    info: &SessionInfo,
    typed: Option<String>,
    error: Option<String>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let scope = info.scope;
    let (org, sync, registered) = state
        .db
        .read(move |c| {
            Ok((
                orgs::get(c, &scope)?,
                store::state(c, &scope)?,
                store::registered(c, &scope)?.len(),
            ))
        })
        .await?;
    let assistant_id = typed.unwrap_or_else(|| {
        sync.as_ref()
            .and_then(|s| s.assistant_id.clone())
            .unwrap_or_default()
    });
    let page = ToolsPage {
        chrome: Chrome::new(info, &org.name, "Settings").with_notice(notice),
        sync,
        assistant_id,
        registered,
        total: crate::voice::tools::all().len(),
        vapi_key_set: state.config.vapi_private_key.is_some(),
        public_url_set: state.config.public_url.is_some(),
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
        Some("started") => Some(
            "Saved. The tools are being registered with Vapi: reload this page to see how it went.",
        ),
        Some("busy") => {
            Some("Saved. A sync is already running; it picks up the new settings next time.")
        }
        Some(_) => Some("Saved."),
        None => None,
    };
    page(&state, &info, None, None, notice).await
}

#[derive(Deserialize)]
pub struct ToolsForm {
    #[serde(default)]
    assistant_id: String,
}

/// Saves the assistant ID and starts a sync in the background.
pub async fn sync(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<ToolsForm>,
) -> AppResult<Response> {
    let assistant = match store::parse_assistant_id(&form.assistant_id) {
        Ok(a) => a,
        Err(e) => {
            return page(
                &state,
                &info,
                Some(form.assistant_id.clone()),
                Some(form_error(e)?),
                None,
            )
            .await
        }
    };
    let now = state.clock.now().timestamp();
    let detail = format!("assistant={}", assistant.as_deref().unwrap_or("none"));
    let claimed = audited_change(
        &state,
        &info,
        ip,
        "settings.vapi_tools_synced",
        detail,
        move |tx, scope| {
            store::set_assistant(tx, scope, assistant.as_deref(), now)?;
            store::claim(tx, scope, now)
        },
    )
    .await?;
    if claimed {
        vapi_tools::spawn_claimed(Deps::from(&state), info.scope);
    }
    let saved = if claimed { "started" } else { "busy" };
    Ok(Redirect::to(&format!("/settings/voice/tools?saved={saved}")).into_response())
}
