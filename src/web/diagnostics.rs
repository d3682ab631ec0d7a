//! Settings → Diagnostics (owners of the administering clinic): the same report as
//! `voxanne check --online`, gathered on each visit (the Twilio and Vapi probes time out
//! after a few seconds), shown in the clinic's zone, with no secret in it.

use crate::app::AppState;
use crate::diagnostics::{self, human_bytes, Report};
use crate::domain::format::short_datetime;
use crate::error::AppResult;
use crate::store::orgs;
use crate::web::pages::{render, Chrome};
use crate::web::session::ApplianceOwner;
use askama::Template;
use axum::extract::State;
use axum::response::Response;

#[derive(Template)]
#[template(path = "settings/diagnostics.html")]
struct DiagnosticsPage {
    chrome: Chrome,
    report: Report,
    db_size: String,
    wal_size: String,
    last_backup: Option<String>,
    last_webhook: Option<String>,
    last_twilio_webhook: Option<String>,
    outbox: String,
    /// This clinic's go-live checklist, read live.
    checklist: Vec<crate::domain::go_live::Item>,
    /// The report's problems and this clinic's open checklist items: all clear only when empty.
    problems: Vec<String>,
}

pub async fn show(
    State(state): State<AppState>,
    ApplianceOwner(info): ApplianceOwner,
) -> AppResult<Response> {
    let scope = info.scope;
    let org = state.db.read(move |c| orgs::get(c, &scope)).await?;
    let tz = org.timezone;
    let report =
        diagnostics::gather(state.db.clone(), state.config.clone(), state.clock.now()).await?;
    let own = report.go_live.iter().find(|c| c.org_id == scope.org_id());
    let checklist = own.map(|c| c.items.clone()).unwrap_or_default();
    let mut problems = report.problems.clone();
    problems.extend(
        checklist
            .iter()
            .filter(|i| !i.done)
            .map(|i| format!("Go-live: {} — {}", i.label, i.fix)),
    );
    let page = DiagnosticsPage {
        chrome: Chrome::new(&info, &org.name, "Settings"),
        checklist,
        problems,
        db_size: human_bytes(report.database.bytes),
        wal_size: human_bytes(report.database.wal_bytes),
        last_backup: report.backups.last.as_ref().map(|b| {
            format!(
                "{} — {} ({})",
                short_datetime(b.taken_at, tz),
                human_bytes(b.bytes),
                b.name
            )
        }),
        last_webhook: report
            .last_webhook
            .as_ref()
            .map(|w| format!("{} — {}", short_datetime(w.at, tz), w.detail)),
        last_twilio_webhook: report
            .last_twilio_webhook
            .as_ref()
            .map(|w| format!("{} — {}", short_datetime(w.at, tz), w.detail)),
        outbox: match report.outbox_backlog {
            0 => "none waiting".into(),
            1 => "1 text due and not yet sent".into(),
            n => format!("{n} texts due and not yet sent"),
        },
        report,
    };
    render(&page)
}
