//! API tokens: bearer credentials for the JSON API, created by an owner in Settings. Only the
//! SHA-256 of a token is stored; the token itself is shown once. A revoked token stops working
//! at once.

use super::OrgScope;
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

super::states::text_state! {
    /// What a token may do: `Read` tokens get 403 on anything but GET and HEAD.
    pub enum TokenAccess {
        Read = "read",
        ReadWrite = "read_write",
    }
}

impl TokenAccess {
    /// How Settings names it.
    pub fn label(self) -> &'static str {
        match self {
            TokenAccess::Read => "read only",
            TokenAccess::ReadWrite => "read and write",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub access: TokenAccess,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// An authenticated token.
#[derive(Debug, Clone)]
pub struct TokenCaller {
    pub scope: OrgScope,
    pub id: i64,
    pub name: String,
    pub access: TokenAccess,
    pub last_used_at: Option<i64>,
}

pub fn validate_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(AppError::Validation(
            "Give the token a name of 1 to 80 characters, such as “Reporting sheet”".into(),
        ));
    }
    Ok(name.to_string())
}

pub fn create(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    name: &str,
    access: TokenAccess,
    token_hash: &str,
    created_by: i64,
    now: i64,
) -> AppResult<i64> {
    let name = validate_name(name)?;
    tx.execute(
        "INSERT INTO api_tokens (org_id, name, access, token_hash, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![scope.org_id(), name, access, token_hash, created_by, now],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn list(conn: &Connection, scope: &OrgScope) -> AppResult<Vec<ApiToken>> {
    let mut stmt = conn.prepare(
        "SELECT t.id, t.name, COALESCE(s.name, ''), t.created_at, t.last_used_at, t.revoked_at,
                t.access
         FROM api_tokens t LEFT JOIN staff s ON s.id = t.created_by AND s.org_id = t.org_id
         WHERE t.org_id = ?1 ORDER BY t.revoked_at IS NOT NULL, t.id DESC",
    )?;
    let rows = stmt.query_map([scope.org_id()], |r| {
        Ok(ApiToken {
            id: r.get(0)?,
            name: r.get(1)?,
            created_by: r.get(2)?,
            created_at: r.get(3)?,
            last_used_at: r.get(4)?,
            revoked_at: r.get(5)?,
            access: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Revokes a live token of the org; NotFound for another org's token or an unknown id.
/// Returns the token's name.
pub fn revoke(tx: &Transaction<'_>, scope: &OrgScope, id: i64, now: i64) -> AppResult<String> {
    let name: String = tx
        .query_row(
            "SELECT name FROM api_tokens WHERE org_id = ?1 AND id = ?2",
            params![scope.org_id(), id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or(AppError::NotFound)?;
    tx.execute(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?3) WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, now],
    )?;
    Ok(name)
}

/// Authentication: the live token with this hash, if any.
pub fn authenticate(conn: &Connection, token_hash: &str) -> AppResult<Option<TokenCaller>> {
    Ok(conn
        .query_row(
            "SELECT org_id, id, name, last_used_at, access FROM api_tokens
             WHERE token_hash = ?1 AND revoked_at IS NULL",
            [token_hash],
            |r| {
                Ok(TokenCaller {
                    scope: OrgScope::mint(r.get(0)?),
                    id: r.get(1)?,
                    name: r.get(2)?,
                    last_used_at: r.get(3)?,
                    access: r.get(4)?,
                })
            },
        )
        .optional()?)
}

pub fn touch(tx: &Transaction<'_>, scope: &OrgScope, id: i64, now: i64) -> AppResult<()> {
    tx.execute(
        "UPDATE api_tokens SET last_used_at = ?3 WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, now],
    )?;
    Ok(())
}
