//! Staff accounts of an org.

use super::OrgScope;
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Staff,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
        }
    }
    pub fn parse(s: &str) -> AppResult<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "owner" => Ok(Role::Owner),
            "staff" => Ok(Role::Staff),
            other => Err(AppError::Validation(format!(
                "“{other}” is not a role; use owner or staff"
            ))),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Staff {
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
}

const COLUMNS: &str = "id, org_id, email, name, role, disabled, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Staff> {
    let role: String = r.get(4)?;
    Ok(Staff {
        id: r.get(0)?,
        org_id: r.get(1)?,
        email: r.get(2)?,
        name: r.get(3)?,
        role: if role == "owner" {
            Role::Owner
        } else {
            Role::Staff
        },
        disabled: r.get(5)?,
        created_at: r.get(6)?,
    })
}

pub fn normalise_email(email: &str) -> AppResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.contains(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(AppError::Validation(format!(
            "“{email}” is not an email address"
        )))
    }
}

pub fn validate_password(password: &str) -> AppResult<()> {
    let n = password.chars().count();
    if n < 10 {
        return Err(AppError::Validation(
            "the password must be at least 10 characters".into(),
        ));
    }
    if n > 256 {
        return Err(AppError::Validation(
            "the password must be at most 256 characters".into(),
        ));
    }
    Ok(())
}

pub fn validate_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::Validation(
            "the name must be 1 to 100 characters".into(),
        ));
    }
    Ok(name.to_string())
}

pub struct NewStaff<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
}

pub fn create(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    new: &NewStaff<'_>,
    now: i64,
) -> AppResult<Staff> {
    let email = normalise_email(new.email)?;
    let name = validate_name(new.name)?;
    let taken: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM staff WHERE email = ?1)",
        [&email],
        |r| r.get(0),
    )?;
    if taken {
        return Err(AppError::Conflict(format!(
            "an account with the email {email} already exists"
        )));
    }
    tx.execute(
        "INSERT INTO staff (org_id, email, name, role, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            scope.org_id(),
            email,
            name,
            new.role.as_str(),
            new.password_hash,
            now
        ],
    )?;
    get(tx, scope, tx.last_insert_rowid())
}

pub fn get(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<Staff> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM staff WHERE org_id = ?1 AND id = ?2"),
        params![scope.org_id(), id],
        from_row,
    )
    .optional()?
    .ok_or(AppError::NotFound)
}

pub fn get_by_email(conn: &Connection, scope: &OrgScope, email: &str) -> AppResult<Staff> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM staff WHERE org_id = ?1 AND email = ?2"),
        params![scope.org_id(), email.trim()],
        from_row,
    )
    .optional()?
    .ok_or(AppError::NotFound)
}

pub fn list(conn: &Connection, scope: &OrgScope) -> AppResult<Vec<Staff>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM staff WHERE org_id = ?1 AND removed_at IS NULL
         ORDER BY role = 'staff', name"
    ))?;
    let rows = stmt.query_map([scope.org_id()], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn set_password(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    password_hash: &str,
) -> AppResult<()> {
    let n = tx.execute(
        "UPDATE staff SET password_hash = ?3 WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, password_hash],
    )?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    // A new password ends every session of that account.
    super::sessions::delete_for_staff(tx, scope, id)?;
    Ok(())
}

/// Disables or enables an account; disabling ends its sessions. The last active owner cannot
/// be disabled, so an org is never locked out of its own settings.
pub fn set_disabled(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    disabled: bool,
) -> AppResult<Staff> {
    let staff = get(tx, scope, id)?;
    if disabled && staff.role == Role::Owner && !staff.disabled {
        let owners: i64 = tx.query_row(
            "SELECT COUNT(*) FROM staff WHERE org_id = ?1 AND role = 'owner' AND disabled = 0",
            [scope.org_id()],
            |r| r.get(0),
        )?;
        if owners <= 1 {
            return Err(AppError::Conflict(
                "this is the only active owner; add another owner first".into(),
            ));
        }
    }
    tx.execute(
        "UPDATE staff SET disabled = ?3 WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, disabled],
    )?;
    if disabled {
        super::sessions::delete_for_staff(tx, scope, id)?;
    }
    get(tx, scope, id)
}

fn active_owners(tx: &Transaction<'_>, scope: &OrgScope) -> AppResult<i64> {
    Ok(tx.query_row(
        "SELECT COUNT(*) FROM staff WHERE org_id = ?1 AND role = 'owner' AND disabled = 0",
        [scope.org_id()],
        |r| r.get(0),
    )?)
}

/// Makes an account an owner or staff. The last active owner stays an owner.
pub fn set_role(tx: &Transaction<'_>, scope: &OrgScope, id: i64, role: Role) -> AppResult<Staff> {
    let member = get(tx, scope, id)?;
    if member.role == Role::Owner
        && role != Role::Owner
        && !member.disabled
        && active_owners(tx, scope)? <= 1
    {
        return Err(AppError::Conflict(
            "this is the only active owner; make someone else an owner first".into(),
        ));
    }
    tx.execute(
        "UPDATE staff SET role = ?3 WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, role.as_str()],
    )?;
    get(tx, scope, id)
}

/// Removes an account: it can no longer sign in, leaves the staff list, and frees its e-mail
/// address; the row stays for what it made and the audit log. Its sessions end. The last
/// active owner cannot be removed.
pub fn remove(tx: &Transaction<'_>, scope: &OrgScope, id: i64, now: i64) -> AppResult<Staff> {
    let member = get(tx, scope, id)?;
    if member.role == Role::Owner && !member.disabled && active_owners(tx, scope)? <= 1 {
        return Err(AppError::Conflict(
            "this is the only active owner; add another owner first".into(),
        ));
    }
    tx.execute(
        "UPDATE staff SET disabled = 1, removed_at = ?3, email = 'removed-' || id || '@removed.invalid'
         WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, now],
    )?;
    super::sessions::delete_for_staff(tx, scope, id)?;
    Ok(member)
}

/// Authentication: finds an account by email across orgs and returns its scope with the
/// stored hash. Only the login flow calls this.
pub fn find_for_login(
    conn: &Connection,
    email: &str,
) -> AppResult<Option<(OrgScope, Staff, String)>> {
    let found = conn
        .query_row(
            &format!("SELECT {COLUMNS}, password_hash FROM staff WHERE email = ?1"),
            [email.trim().to_lowercase()],
            |r| Ok((from_row(r)?, r.get::<_, String>(7)?)),
        )
        .optional()?;
    Ok(found.map(|(staff, hash)| (OrgScope::mint(staff.org_id), staff, hash)))
}
