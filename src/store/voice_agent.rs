//! The voice agent's call settings of an org (Settings → Voice agent): which Vapi assistant
//! answers `assistant-request`, what call-backs use, where transfers go, and the score from
//! which a call is a hot lead.

use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Connection, Transaction};

/// The score from which a call alerts the owner, unless the clinic chose another.
pub const DEFAULT_HOT_LEAD_THRESHOLD: u8 = 70;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSettings {
    /// Vapi assistant for inbound calls on a number without one (`assistant-request`).
    pub assistant_id: Option<String>,
    /// Vapi assistant that places call-backs.
    pub outbound_assistant_id: Option<String>,
    /// Vapi phone-number id that call-backs are placed from.
    pub phone_number_id: Option<String>,
    /// E.164: where the assistant transfers callers during opening hours.
    pub transfer_number: Option<String>,
    /// E.164: after hours, and when no assistant is configured.
    pub fallback_transfer_number: Option<String>,
    pub hot_lead_threshold: u8,
}

impl Default for AgentSettings {
    fn default() -> Self {
        Self {
            assistant_id: None,
            outbound_assistant_id: None,
            phone_number_id: None,
            transfer_number: None,
            fallback_transfer_number: None,
            hot_lead_threshold: DEFAULT_HOT_LEAD_THRESHOLD,
        }
    }
}

pub fn get(conn: &Connection, scope: &OrgScope) -> AppResult<AgentSettings> {
    Ok(conn.query_row(
        "SELECT vapi_assistant_id, vapi_outbound_assistant_id, vapi_phone_number_id,
                transfer_number, fallback_transfer_number, hot_lead_threshold
         FROM orgs WHERE id = ?1",
        [scope.org_id()],
        |r| {
            Ok(AgentSettings {
                assistant_id: r.get(0)?,
                outbound_assistant_id: r.get(1)?,
                phone_number_id: r.get(2)?,
                transfer_number: r.get(3)?,
                fallback_transfer_number: r.get(4)?,
                hot_lead_threshold: r.get(5)?,
            })
        },
    )?)
}

/// Stores settings the caller has already validated.
pub fn update(tx: &Transaction<'_>, scope: &OrgScope, s: &AgentSettings) -> AppResult<()> {
    tx.execute(
        "UPDATE orgs SET vapi_assistant_id = ?2, vapi_outbound_assistant_id = ?3,
                         vapi_phone_number_id = ?4, transfer_number = ?5,
                         fallback_transfer_number = ?6, hot_lead_threshold = ?7
         WHERE id = ?1",
        params![
            scope.org_id(),
            s.assistant_id,
            s.outbound_assistant_id,
            s.phone_number_id,
            s.transfer_number,
            s.fallback_transfer_number,
            s.hot_lead_threshold
        ],
    )?;
    Ok(())
}

/// Where and from which score hot leads are texted: (threshold, the clinic's alert phone).
pub fn hot_lead_alert(conn: &Connection, scope: &OrgScope) -> AppResult<(u8, Option<String>)> {
    Ok(conn
        .prepare_cached("SELECT hot_lead_threshold, hot_lead_alert_phone FROM orgs WHERE id = ?1")?
        .query_row([scope.org_id()], |r| Ok((r.get(0)?, r.get(1)?)))?)
}
