//! The clinic's services catalogue and its providers (calendars).

use super::OrgScope;
use crate::domain::catalog;
use crate::domain::clinic_type::ClinicType;
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub id: i64,
    pub name: String,
    pub duration_minutes: u32,
    pub price_cents: i64,
    pub keywords: Vec<String>,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Provider {
    pub id: i64,
    pub name: String,
}

/// The columns [`from_row`] reads, as a literal so queries can be `concat!`ed into constants.
macro_rules! columns {
    () => {
        "id, name, duration_minutes, price_cents, keywords_json, active"
    };
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Service> {
    let keywords: String = r.get(4)?;
    Ok(Service {
        id: r.get(0)?,
        name: r.get(1)?,
        duration_minutes: r.get(2)?,
        price_cents: r.get(3)?,
        keywords: serde_json::from_str(&keywords).unwrap_or_default(),
        active: r.get(5)?,
    })
}

/// What a new clinic starts with: its kind's typical services and one calendar.
pub fn seed_starting_catalogue(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    clinic_type: ClinicType,
    now: i64,
) -> AppResult<()> {
    for s in clinic_type.starting_services() {
        let keywords = serde_json::to_string(&s.keywords).map_err(AppError::internal)?;
        tx.execute(
            "INSERT INTO services (org_id, name, duration_minutes, price_cents, keywords_json, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![scope.org_id(), s.name, s.duration_minutes, s.price_cents, keywords, now],
        )?;
    }
    tx.execute(
        "INSERT INTO providers (org_id, name, created_at) VALUES (?1, ?2, ?3)",
        params![scope.org_id(), super::practitioners::STARTING_NAME, now],
    )?;
    Ok(())
}

pub fn list_active(conn: &Connection, scope: &OrgScope) -> AppResult<Vec<Service>> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT ",
        columns!(),
        " FROM services WHERE org_id = ?1 AND active = 1 ORDER BY name"
    ))?;
    let rows = stmt.query_map([scope.org_id()], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<Service> {
    conn.query_row(
        concat!(
            "SELECT ",
            columns!(),
            " FROM services WHERE org_id = ?1 AND id = ?2"
        ),
        params![scope.org_id(), id],
        from_row,
    )
    .optional()?
    .ok_or(AppError::NotFound)
}

/// The active service a caller means by `query`, by the catalogue matching rule.
pub fn best_match<'a>(services: &'a [Service], query: &str) -> Option<&'a Service> {
    let terms: Vec<catalog::ServiceTerms<'_>> = services
        .iter()
        .map(|s| catalog::ServiceTerms {
            name: &s.name,
            keywords: &s.keywords,
        })
        .collect();
    catalog::best_match(query, &terms).and_then(|i| services.get(i))
}

pub fn list_providers(conn: &Connection, scope: &OrgScope) -> AppResult<Vec<Provider>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name FROM providers WHERE org_id = ?1 AND active = 1 ORDER BY id",
    )?;
    let rows = stmt.query_map([scope.org_id()], |r| {
        Ok(Provider {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every service of the org, active first, then by name (the Services page and API).
pub fn list_all(conn: &Connection, scope: &OrgScope) -> AppResult<Vec<Service>> {
    let mut stmt = conn.prepare(concat!(
        "SELECT ",
        columns!(),
        " FROM services WHERE org_id = ?1 ORDER BY active DESC, name"
    ))?;
    let rows = stmt.query_map([scope.org_id()], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn name_taken(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

fn conflict(name: &str) -> AppError {
    AppError::Conflict(format!("There is already a service called “{name}”"))
}

pub fn create(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    draft: &catalog::ServiceDraft,
    now: i64,
) -> AppResult<Service> {
    let keywords = serde_json::to_string(&draft.keywords).map_err(AppError::internal)?;
    tx.execute(
        "INSERT INTO services (org_id, name, duration_minutes, price_cents, keywords_json, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![scope.org_id(), draft.name, draft.duration_minutes, draft.price_cents, keywords, now],
    )
    .map_err(|e| if name_taken(&e) { conflict(&draft.name) } else { e.into() })?;
    get(tx, scope, tx.last_insert_rowid())
}

pub fn update(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    draft: &catalog::ServiceDraft,
) -> AppResult<Service> {
    let keywords = serde_json::to_string(&draft.keywords).map_err(AppError::internal)?;
    let changed = tx
        .execute(
            "UPDATE services SET name = ?3, duration_minutes = ?4, price_cents = ?5, keywords_json = ?6
             WHERE org_id = ?1 AND id = ?2",
            params![scope.org_id(), id, draft.name, draft.duration_minutes, draft.price_cents, keywords],
        )
        .map_err(|e| if name_taken(&e) { conflict(&draft.name) } else { e.into() })?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    get(tx, scope, id)
}

/// Archives or restores: an archived service is not offered to callers but keeps its history.
pub fn set_active(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    active: bool,
) -> AppResult<Service> {
    let changed = tx.execute(
        "UPDATE services SET active = ?3 WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, active],
    )?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    get(tx, scope, id)
}

/// What `remove` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Removed {
    Deleted,
    /// It has appointments, so it was archived instead.
    Archived,
}

/// Deletes a service nobody has booked; a service in use is archived instead.
pub fn remove(tx: &Transaction<'_>, scope: &OrgScope, id: i64) -> AppResult<Removed> {
    get(tx, scope, id)?;
    let in_use: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM appointments WHERE org_id = ?1 AND service_id = ?2)",
        params![scope.org_id(), id],
        |r| r.get(0),
    )?;
    if in_use {
        set_active(tx, scope, id, false)?;
        return Ok(Removed::Archived);
    }
    tx.execute(
        "DELETE FROM services WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id],
    )?;
    Ok(Removed::Deleted)
}
