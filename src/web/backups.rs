//! Settings → Backups (owners of the administering clinic): the schedule, the last good
//! backup, the kept backups, "Back up now" and downloads. Both actions are audited; a download
//! names a file from the listing, and any other name is a 404.

use crate::app::AppState;
use crate::backup::{schedule, BackupFile, BackupSet};
use crate::diagnostics::human_bytes;
use crate::domain::format::short_datetime;
use crate::error::{AppError, AppResult};
use crate::jobs;
use crate::store::sessions::SessionInfo;
use crate::store::{appliance, orgs};
use crate::web::pages::{form_error, render_form, Chrome, Notice};
use crate::web::session::{audited_change, ApplianceOwner};
use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use std::net::SocketAddr;

pub struct Row {
    pub name: String,
    pub taken: String,
    pub size: String,
    pub encrypted: bool,
}

#[derive(Template)]
#[template(path = "settings/backups.html")]
struct BackupsPage {
    chrome: Chrome,
    dir: String,
    schedule: String,
    next_run: Option<String>,
    keep: u32,
    encrypt: bool,
    rows: Vec<Row>,
    failure: Option<(String, String)>,
    error: Option<String>,
}

fn row(f: &BackupFile, tz: Tz) -> Row {
    Row {
        name: f.name.clone(),
        taken: short_datetime(f.taken_at, tz),
        size: human_bytes(f.bytes),
        encrypted: f.encrypted,
    }
}

fn at(secs: i64, tz: Tz) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .map(|t| short_datetime(t, tz))
        .unwrap_or_default()
}

async fn page(
    state: &AppState,
    info: &SessionInfo,
    error: Option<String>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let scope = info.scope;
    let (org, home, attempt) = state
        .db
        .read(move |c| {
            Ok((
                orgs::get(c, &scope)?,
                appliance::home_timezone(c)?,
                appliance::status(c, appliance::BACKUP_ATTEMPT)?,
            ))
        })
        .await?;
    let tz = org.timezone;
    let set = BackupSet::new(&state.config.backup.dir);
    // An unreadable folder is shown as a problem on the page, not as an error page.
    let (files, folder_error) = match tokio::task::spawn_blocking(move || set.list()).await? {
        Ok(files) => (files, None),
        Err(e) => (
            vec![],
            Some(format!("The backup folder cannot be read: {e}")),
        ),
    };
    let backup = &state.config.backup;
    let now = state.clock.now();
    let schedule_tz = backup.schedule.and_then(|t| t.zone).unwrap_or(home);
    let page = BackupsPage {
        chrome: Chrome::new(info, &org.name, "Settings").with_notice(notice),
        dir: backup.dir.display().to_string(),
        schedule: match backup.schedule {
            Some(t) => format!("Daily at {} ({})", t.at.format("%H:%M"), schedule_tz.name()),
            None => "Off (VOXANNE_BACKUP_TIME=off)".into(),
        },
        next_run: backup.schedule.and_then(|t| {
            schedule::next_slot(now, t.at, schedule_tz).map(|n| short_datetime(n, tz))
        }),
        keep: backup.keep,
        encrypt: backup.encrypt,
        rows: files.iter().map(|f| row(f, tz)).collect(),
        failure: attempt.filter(|a| !a.ok).map(|a| (at(a.at, tz), a.detail)),
        error: error.or(folder_error),
    };
    render_form(&page, &page.error)
}

pub async fn show(
    State(state): State<AppState>,
    ApplianceOwner(info): ApplianceOwner,
    Query(q): Query<Notice>,
) -> AppResult<Response> {
    let notice = q
        .saved
        .map(|name| format!("Backup {name} written and checked."));
    page(&state, &info, None, notice.as_deref()).await
}

pub async fn back_up_now(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    ApplianceOwner(info): ApplianceOwner,
) -> AppResult<Response> {
    let taken = match jobs::backups::run_now(&state).await {
        Ok(t) => t,
        Err(e) => {
            // The cause is logged and shown on the page as the last failed attempt.
            let shown = form_error(e).unwrap_or_else(|_| {
                "The backup failed; see the last attempt below and the service log.".into()
            });
            return page(&state, &info, Some(shown), None).await;
        }
    };
    let name = taken.file.name.clone();
    audited_change(
        &state,
        &info,
        ip,
        "backup.created",
        format!("{} ({} bytes)", name, taken.file.bytes),
        |_, _| Ok(()),
    )
    .await?;
    Ok(Redirect::to(&format!("/settings/backups?saved={name}")).into_response())
}

#[derive(Deserialize)]
pub struct DownloadForm {
    #[serde(default)]
    name: String,
}

/// Streams one kept backup. The audit row is written first: no record, no download.
pub async fn download(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    ApplianceOwner(info): ApplianceOwner,
    Form(form): Form<DownloadForm>,
) -> AppResult<Response> {
    let set = BackupSet::new(&state.config.backup.dir);
    let wanted = form.name.clone();
    let (file, path) = tokio::task::spawn_blocking(move || set.find(&wanted))
        .await?
        .map_err(|e| AppError::caused("backup directory", e))?
        .ok_or(AppError::NotFound)?;
    let opened = tokio::fs::File::open(&path)
        .await
        .map_err(|_| AppError::NotFound)?;
    let len = opened
        .metadata()
        .await
        .map_err(|e| AppError::caused("backup directory", e))?
        .len();
    audited_change(
        &state,
        &info,
        ip,
        "backup.downloaded",
        format!("{} ({} bytes)", file.name, file.bytes),
        |_, _| Ok(()),
    )
    .await?;
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(opened)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    // Listed names are `voxanne-<digits>T<digits>Z[-n].db[.enc]`: safe in a header as is.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    Ok(response)
}
