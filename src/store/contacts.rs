//! Contacts: the people who call, one per phone number per org.

use super::OrgScope;
use crate::error::{AppError, AppResult};
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
/// replaces what was stored. `updated_at` is when the row last changed.
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
    // Most bookings come from a caller we already know, under the same name: then there is
    // nothing to write (this runs inside every booking's write transaction).
    if let Some(known) = find_by_phone(tx, scope, phone)? {
        let same =
            |new: Option<&str>, old: &Option<String>| new.is_none_or(|n| old.as_deref() == Some(n));
        if same(name, &known.name) && same(email, &known.email) {
            return Ok(known);
        }
    }
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

/// Records how the contact wants to hear from the clinic.
pub fn set_channel(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    contact_id: i64,
    channel: crate::domain::channel::Channel,
    now: i64,
) -> AppResult<()> {
    tx.prepare_cached(
        "UPDATE contacts SET channel = ?3, updated_at = ?4
         WHERE org_id = ?1 AND id = ?2 AND channel <> ?3",
    )?
    .execute(params![scope.org_id(), contact_id, channel.as_str(), now])?;
    Ok(())
}

/// A contact's phone number.
/// Removes a contact that nothing refers to (no call, appointment, text or e-mail). One with
/// records is refused with a Conflict and kept: those records are the clinic's history.
pub fn remove_unused(tx: &Transaction<'_>, scope: &OrgScope, id: i64) -> AppResult<String> {
    let (name, phone): (Option<String>, String) = tx
        .query_row(
            "SELECT name, phone FROM contacts WHERE org_id = ?1 AND id = ?2",
            params![scope.org_id(), id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or(AppError::NotFound)?;
    let shown = name.unwrap_or(phone);
    // Every table that points at a contact refuses the delete (foreign keys are on).
    match tx.execute(
        "DELETE FROM contacts WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id],
    ) {
        Ok(_) => Ok(shown),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(AppError::Conflict(format!(
                "{shown} has calls, appointments or texts, so the record stays"
            )))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn phone_of(conn: &Connection, scope: &OrgScope, contact_id: i64) -> AppResult<String> {
    Ok(conn
        .prepare_cached("SELECT phone FROM contacts WHERE org_id = ?1 AND id = ?2")?
        .query_row(rusqlite::params![scope.org_id(), contact_id], |r| r.get(0))?)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{orgs, Db};

    #[test]
    fn a_known_caller_is_written_only_when_something_changes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let stamps = db
            .write_blocking(|tx| {
                let scope = orgs::create(tx, "Clinic", chrono_tz::UTC, 0)?;
                let phone = "+14155550123";
                let updated = |tx: &Transaction<'_>| -> AppResult<i64> {
                    Ok(tx.query_row(
                        "SELECT updated_at FROM contacts WHERE phone = ?1",
                        [phone],
                        |r| r.get(0),
                    )?)
                };
                let first = upsert(tx, &scope, phone, Some("Dana Lee"), None, 100)?;
                let same = upsert(tx, &scope, phone, Some(" Dana Lee "), None, 200)?;
                let after_same = updated(tx)?;
                let unnamed = upsert(tx, &scope, phone, None, None, 300)?;
                let emailed = upsert(tx, &scope, phone, None, Some("dana@example.com"), 400)?;
                let after_email = updated(tx)?;
                assert_eq!(first.id, same.id);
                assert_eq!(unnamed.name.as_deref(), Some("Dana Lee"));
                assert_eq!(emailed.name.as_deref(), Some("Dana Lee"));
                assert_eq!(emailed.email.as_deref(), Some("dana@example.com"));
                Ok((after_same, after_email))
            })
            .unwrap();
        assert_eq!(stamps, (100, 400));
    }
}
