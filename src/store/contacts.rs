//! Contacts: the people who call, one per phone number per org.

use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub id: i64,
    pub phone: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Finds or creates the contact for an E.164 number; a known name or email fills in or
/// replaces what was stored.
pub fn upsert(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    phone: &str,
    name: Option<&str>,
    email: Option<&str>,
    now: i64,
) -> AppResult<Contact> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    // The upsert always writes the row (updated_at), so RETURNING always yields it.
    Ok(tx
        .prepare_cached(
            "INSERT INTO contacts (org_id, phone, name, email, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT (org_id, phone) DO UPDATE SET
                 name = COALESCE(excluded.name, contacts.name),
                 email = COALESCE(excluded.email, contacts.email),
                 updated_at = excluded.updated_at
             RETURNING id, phone, name, email",
        )?
        .query_row(params![scope.org_id(), phone, name, email, now], from_row)?)
}

pub fn find_by_phone(
    conn: &Connection,
    scope: &OrgScope,
    phone: &str,
) -> AppResult<Option<Contact>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, phone, name, email FROM contacts WHERE org_id = ?1 AND phone = ?2",
        )?
        .query_row(params![scope.org_id(), phone], from_row)
        .optional()?)
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: r.get(0)?,
        phone: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
    })
}
