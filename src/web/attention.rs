//! Marking a Needs-attention item done from the Overview: any member of staff, with a note;
//! who and when are kept with the item and in the audit log.

use crate::app::AppState;
use crate::error::AppResult;
use crate::store::attention;
use crate::web::session::{audited_change, CurrentStaff};
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Deserialize)]
pub struct DoneForm {
    #[serde(default)]
    note: String,
}

pub async fn done(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
    Form(form): Form<DoneForm>,
) -> AppResult<Response> {
    let now = state.clock.now().timestamp();
    let who = info.staff.name.clone();
    let note = form.note;
    let detail = format!("item={id}");
    audited_change(
        &state,
        &info,
        ip,
        "attention.done",
        detail,
        move |tx, scope| attention::mark_done(tx, scope, id, &who, &note, now),
    )
    .await?;
    Ok(Redirect::to("/#attention-h").into_response())
}
