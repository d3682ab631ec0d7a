//! What the go-live checklist reads from an org's own records (see `domain::go_live`).

use super::{practitioners, twilio_credentials, vapi_tools, voice_agent, OrgScope};
use crate::domain::go_live::Facts;
use crate::error::AppResult;
use rusqlite::Connection;

/// The org's checklist facts; the public address is not checked here (`None`).
pub fn facts(conn: &Connection, scope: &OrgScope) -> AppResult<Facts> {
    let org = super::orgs::get(conn, scope)?;
    let exists =
        |sql: &str| -> AppResult<bool> { Ok(conn.query_row(sql, [scope.org_id()], |r| r.get(0))?) };
    let tools = vapi_tools::state(conn, scope)?;
    Ok(Facts {
        services_reviewed: org.quotes_prices(),
        hours_saved: exists(
            "SELECT EXISTS(SELECT 1 FROM audit_log WHERE org_id = ?1 AND action = 'settings.hours')",
        )?,
        practitioner_named: practitioners::list_active(conn, scope)?
            .iter()
            .any(|p| p.name != practitioners::STARTING_NAME),
        twilio_connected: twilio_credentials::summary(conn, scope)?.is_some(),
        tools_linked: tools
            .is_some_and(|t| t.status == "synced" && t.assistant_id.is_some()),
        vapi_heard: exists(
            "SELECT EXISTS(SELECT 1 FROM call_events WHERE org_id = ?1)
                 OR EXISTS(SELECT 1 FROM tool_results WHERE org_id = ?1)",
        )?,
        transfer_number_set: voice_agent::get(conn, scope)?.transfer_number.is_some(),
        public_url_answers: None,
    })
}
