//! The lead side of contacts: status (new → contacted → booked | lost), when they were last
//! contacted, services of interest, staff notes, and the score and tier of their latest call.

use super::OrgScope;
use crate::domain::calls::LeadStatus;
use crate::domain::lead::Tier;
use crate::error::{AppError, AppResult};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, Transaction};

#[derive(Debug, Clone)]
pub struct Lead {
    pub id: i64,
    pub phone: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub status: LeadStatus,
    pub last_contacted_at: Option<i64>,
    pub services: Vec<String>,
    pub staff_notes: Option<String>,
    pub lead_score: Option<u8>,
    pub lead_tier: Option<Tier>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, phone, name, email, lead_status, last_contacted_at, services_json,
     staff_notes, lead_score, lead_tier, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Lead> {
    let status: String = r.get(4)?;
    let services: String = r.get(6)?;
    Ok(Lead {
        id: r.get(0)?,
        phone: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        status: LeadStatus::parse(&status).unwrap_or(LeadStatus::New),
        last_contacted_at: r.get(5)?,
        services: serde_json::from_str(&services).unwrap_or_default(),
        staff_notes: r.get(7)?,
        lead_score: r.get(8)?,
        lead_tier: r
            .get::<_, Option<String>>(9)?
            .as_deref()
            .and_then(Tier::parse),
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

pub fn get(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<Lead> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM contacts WHERE org_id = ?1 AND id = ?2"
    ))?
    .query_row(params![scope.org_id(), id], from_row)
    .optional()?
    .ok_or(AppError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub status: Option<LeadStatus>,
    pub tier: Option<Tier>,
    /// The contact with this E.164 number.
    pub phone: Option<String>,
    /// Contacts whose name holds these letters (any case).
    pub name: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// `%text%` for LIKE, the wildcards in `text` taken literally.
fn contains_pattern(text: &str) -> String {
    let escaped: String = text
        .trim()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// The WHERE clause for `f` and its parameters, only the conditions asked for (so a number
/// is found through the contacts' unique index on it).
fn conditions(scope: &OrgScope, f: &LeadFilter) -> (String, Vec<Value>) {
    let mut sql = vec!["org_id = ?"];
    let mut params = vec![Value::Integer(scope.org_id())];
    let mut add = |clause: &'static str, v: String| {
        sql.push(clause);
        params.push(Value::Text(v));
    };
    if let Some(s) = f.status {
        add("lead_status = ?", s.as_str().to_string());
    }
    if let Some(t) = f.tier {
        add("lead_tier = ?", t.as_str().to_string());
    }
    if let Some(p) = &f.phone {
        add("phone = ?", p.clone());
    }
    if let Some(n) = f.name.as_deref().filter(|n| !n.trim().is_empty()) {
        add("name LIKE ? ESCAPE '\\'", contains_pattern(n));
    }
    (sql.join(" AND "), params)
}

/// The org's contacts matching `f`, most recently contacted first; and how many match in all.
pub fn list(conn: &Connection, scope: &OrgScope, f: &LeadFilter) -> AppResult<(Vec<Lead>, i64)> {
    let (filter, mut params) = conditions(scope, f);
    let total = conn.query_row(
        &format!("SELECT COUNT(*) FROM contacts WHERE {filter}"),
        params_from_iter(params.iter()),
        |r| r.get(0),
    )?;
    params.push(Value::Integer(f.limit));
    params.push(Value::Integer(f.offset));
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM contacts WHERE {filter}
         ORDER BY COALESCE(last_contacted_at, created_at) DESC, id DESC LIMIT ? OFFSET ?"
    ))?;
    let rows = stmt
        .query_map(params_from_iter(params.iter()), from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((rows, total))
}

/// Contacts by the tier of their latest scored call; contacts never scored count as cold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LeadStats {
    pub total_leads: i64,
    pub hot_leads: i64,
    pub warm_leads: i64,
    pub cold_leads: i64,
}

pub fn stats(conn: &Connection, scope: &OrgScope) -> AppResult<LeadStats> {
    Ok(conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(lead_tier = 'hot'), 0), COALESCE(SUM(lead_tier = 'warm'), 0)
         FROM contacts WHERE org_id = ?1",
        [scope.org_id()],
        |r| {
            let (total, hot, warm): (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            Ok(LeadStats {
                total_leads: total,
                hot_leads: hot,
                warm_leads: warm,
                cold_leads: total - hot - warm,
            })
        },
    )?)
}

pub fn status(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<LeadStatus> {
    let s: String = conn
        .prepare_cached("SELECT lead_status FROM contacts WHERE org_id = ?1 AND id = ?2")?
        .query_row(params![scope.org_id(), id], |r| r.get(0))
        .optional()?
        .ok_or(AppError::NotFound)?;
    Ok(LeadStatus::parse(&s).unwrap_or(LeadStatus::New))
}

/// What one finished call did to its contact.
pub struct CallOutcome<'a> {
    pub status: LeadStatus,
    pub score: u8,
    pub tier: Tier,
    /// This call's services of interest, added to the contact's.
    pub services: &'a [String],
    pub contacted_at: i64,
    /// The call's Vapi id: the score and tier are those of the contact's latest call by call
    /// time (its end, else its start), whatever order the reports arrive in.
    pub vapi_call_id: &'a str,
}

pub fn record_call(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    o: &CallOutcome<'_>,
    now: i64,
) -> AppResult<()> {
    let mut services = get(tx, scope, id)?.services;
    for s in o.services {
        if !services.iter().any(|x| x.eq_ignore_ascii_case(s)) {
            services.push(s.clone());
        }
    }
    let services = serde_json::to_string(&services).map_err(AppError::internal)?;
    tx.prepare_cached(
        "UPDATE contacts SET lead_status = ?3,
             lead_score = CASE WHEN NOT older THEN ?4 ELSE lead_score END,
             lead_tier = CASE WHEN NOT older THEN ?5 ELSE lead_tier END,
             services_json = ?6,
             last_contacted_at = MAX(COALESCE(last_contacted_at, 0), ?7), updated_at = ?8
         FROM (SELECT COALESCE(
                   (SELECT COALESCE(ended_at, started_at) FROM calls
                    WHERE org_id = ?1 AND vapi_call_id = ?9)
                   < (SELECT MAX(COALESCE(ended_at, started_at)) FROM calls
                      WHERE org_id = ?1 AND contact_id = ?2 AND lead_score IS NOT NULL),
                   0) AS older)
         WHERE org_id = ?1 AND id = ?2",
    )?
    .execute(params![
        scope.org_id(),
        id,
        o.status.as_str(),
        o.score,
        o.tier.as_str(),
        services,
        o.contacted_at,
        now,
        o.vapi_call_id
    ])?;
    Ok(())
}

/// Staff started a call-back to the contact.
pub fn record_call_back(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    status: LeadStatus,
    now: i64,
) -> AppResult<()> {
    tx.execute(
        "UPDATE contacts SET lead_status = ?3, last_contacted_at = ?4, updated_at = ?4
         WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, status.as_str(), now],
    )?;
    Ok(())
}

/// The longest staff note kept.
pub const MAX_NOTES: usize = 4000;

/// What staff may change on a lead; `None` leaves a field as it is, an empty note clears it.
pub struct StaffChange<'a> {
    pub staff_notes: Option<&'a str>,
    pub status: Option<LeadStatus>,
}

/// Applies a staff change to one of the org's contacts; NotFound for any other id.
pub fn update_by_staff(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    change: &StaffChange<'_>,
    now: i64,
) -> AppResult<()> {
    let notes = change.staff_notes.map(str::trim);
    if notes.is_some_and(|n| n.chars().count() > MAX_NOTES) {
        return Err(AppError::Validation(format!(
            "staff_notes may be at most {MAX_NOTES} characters"
        )));
    }
    let changed = tx.execute(
        "UPDATE contacts SET
             staff_notes = CASE WHEN ?3 THEN NULLIF(?4, '') ELSE staff_notes END,
             lead_status = COALESCE(?5, lead_status), updated_at = ?6
         WHERE org_id = ?1 AND id = ?2",
        params![
            scope.org_id(),
            id,
            notes.is_some(),
            notes,
            change.status.map(LeadStatus::as_str),
            now
        ],
    )?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}
