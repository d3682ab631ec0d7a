//! The clinic's practitioners (rows of `providers`: each is one calendar), with their hours,
//! days off and the services they perform.

use super::OrgScope;
pub use crate::domain::practitioner::Draft;
use crate::domain::practitioner::Practitioner;
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

/// The name of the calendar every new clinic starts with, until it is renamed.
pub const STARTING_NAME: &str = "Main calendar";

const COLUMNS: &str = "id, name, title, hours_json, time_off_json, active";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Practitioner> {
    let hours: Option<String> = r.get(3)?;
    let time_off: String = r.get(4)?;
    Ok(Practitioner {
        id: r.get(0)?,
        name: r.get(1)?,
        title: r.get(2)?,
        hours: hours.and_then(|h| serde_json::from_str(&h).ok()),
        time_off: serde_json::from_str(&time_off).unwrap_or_default(),
        service_ids: Vec::new(),
        active: r.get(5)?,
    })
}

fn with_services(
    conn: &Connection,
    scope: &OrgScope,
    mut list: Vec<Practitioner>,
) -> AppResult<Vec<Practitioner>> {
    let mut stmt = conn.prepare_cached(
        "SELECT ps.provider_id, ps.service_id FROM provider_services ps
         JOIN services s ON s.id = ps.service_id AND s.org_id = ps.org_id
         WHERE ps.org_id = ?1 ORDER BY s.name",
    )?;
    let rows = stmt.query_map([scope.org_id()], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (provider, service) = row?;
        if let Some(p) = list.iter_mut().find(|p| p.id == provider) {
            p.service_ids.push(service);
        }
    }
    Ok(list)
}

/// The practitioners who can be booked, in the order they were added.
pub fn list_active(conn: &Connection, scope: &OrgScope) -> AppResult<Vec<Practitioner>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM providers WHERE org_id = ?1 AND active = 1 ORDER BY id"
    ))?;
    let list = stmt
        .query_map([scope.org_id()], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    with_services(conn, scope, list)
}

/// Every practitioner, the archived ones last.
pub fn list_all(conn: &Connection, scope: &OrgScope) -> AppResult<Vec<Practitioner>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM providers WHERE org_id = ?1 ORDER BY active DESC, id"
    ))?;
    let list = stmt
        .query_map([scope.org_id()], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    with_services(conn, scope, list)
}

pub fn get(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<Practitioner> {
    let found = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM providers WHERE org_id = ?1 AND id = ?2"),
            params![scope.org_id(), id],
            from_row,
        )
        .optional()?
        .ok_or(AppError::NotFound)?;
    Ok(with_services(conn, scope, vec![found])?.remove(0))
}

fn name_taken(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

fn write_services(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    service_ids: &[i64],
) -> AppResult<()> {
    tx.execute(
        "DELETE FROM provider_services WHERE org_id = ?1 AND provider_id = ?2",
        params![scope.org_id(), id],
    )?;
    for &service in service_ids {
        // Only the org's own services: another clinic's id is refused, not linked.
        let inserted = tx.execute(
            "INSERT INTO provider_services (org_id, provider_id, service_id)
             SELECT ?1, ?2, id FROM services WHERE org_id = ?1 AND id = ?3",
            params![scope.org_id(), id, service],
        )?;
        if inserted == 0 {
            return Err(AppError::Validation(format!(
                "there is no service {service}"
            )));
        }
    }
    Ok(())
}

fn json<T: serde::Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(AppError::internal)
}

pub fn create(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    draft: &Draft,
    now: i64,
) -> AppResult<Practitioner> {
    let hours = draft.hours.as_ref().map(json).transpose()?;
    tx.execute(
        "INSERT INTO providers (org_id, name, title, hours_json, time_off_json, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            scope.org_id(),
            draft.name,
            draft.title,
            hours,
            json(&draft.time_off)?,
            now
        ],
    )
    .map_err(|e| {
        if name_taken(&e) {
            taken(&draft.name)
        } else {
            e.into()
        }
    })?;
    let id = tx.last_insert_rowid();
    write_services(tx, scope, id, &draft.service_ids)?;
    get(tx, scope, id)
}

fn taken(name: &str) -> AppError {
    AppError::Conflict(format!("There is already a practitioner called “{name}”"))
}

pub fn update(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    draft: &Draft,
) -> AppResult<Practitioner> {
    let hours = draft.hours.as_ref().map(json).transpose()?;
    let changed = tx
        .execute(
            "UPDATE providers SET name = ?3, title = ?4, hours_json = ?5, time_off_json = ?6
             WHERE org_id = ?1 AND id = ?2",
            params![
                scope.org_id(),
                id,
                draft.name,
                draft.title,
                hours,
                json(&draft.time_off)?
            ],
        )
        .map_err(|e| {
            if name_taken(&e) {
                taken(&draft.name)
            } else {
                e.into()
            }
        })?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    write_services(tx, scope, id, &draft.service_ids)?;
    get(tx, scope, id)
}

/// Archives or restores. The last bookable practitioner cannot be archived: the clinic would
/// have no calendar to book into.
pub fn set_active(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    active: bool,
) -> AppResult<Practitioner> {
    let current = get(tx, scope, id)?;
    if !active && current.active {
        let others: i64 = tx.query_row(
            "SELECT COUNT(*) FROM providers WHERE org_id = ?1 AND active = 1 AND id != ?2",
            params![scope.org_id(), id],
            |r| r.get(0),
        )?;
        if others == 0 {
            return Err(AppError::Conflict(format!(
                "{} is the only practitioner; add another before archiving them",
                current.name
            )));
        }
    }
    tx.execute(
        "UPDATE providers SET active = ?3 WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, active],
    )?;
    get(tx, scope, id)
}
