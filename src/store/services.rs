//! The clinic's services catalogue and its providers (calendars).

use super::OrgScope;
use crate::domain::catalog;
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

/// What every new clinic starts with: the default services and one calendar.
pub fn seed_defaults(tx: &Transaction<'_>, scope: &OrgScope, now: i64) -> AppResult<()> {
    for s in catalog::default_services() {
        let keywords = serde_json::to_string(&s.keywords).map_err(AppError::internal)?;
        tx.execute(
            "INSERT INTO services (org_id, name, duration_minutes, price_cents, keywords_json, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![scope.org_id(), s.name, s.duration_minutes, s.price_cents, keywords, now],
        )?;
    }
    tx.execute(
        "INSERT INTO providers (org_id, name, created_at) VALUES (?1, 'Main calendar', ?2)",
        params![scope.org_id(), now],
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
