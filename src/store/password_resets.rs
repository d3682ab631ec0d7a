//! One-time password links: an owner makes one for a member of staff, who opens it without
//! signing in and chooses a new password. Only the token's hash is stored.

use super::OrgScope;
use crate::crypto;
use crate::error::{AppError, AppResult};
use rusqlite::{params, OptionalExtension, Transaction};

/// How long a link works.
pub const LIFETIME_SECS: i64 = 24 * 3600;

/// Makes a link's token for `staff_id`: earlier unused links of that account stop working,
/// its current password stops working (`unusable_hash`, the hash of a random password nobody
/// knows, replaces it) and its sessions end. The token is returned once and never stored.
pub fn create(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    staff_id: i64,
    unusable_hash: &str,
    now: i64,
) -> AppResult<String> {
    super::staff::get(tx, scope, staff_id)?;
    tx.execute(
        "UPDATE password_resets SET used_at = ?3 WHERE org_id = ?1 AND staff_id = ?2 AND used_at IS NULL",
        params![scope.org_id(), staff_id, now],
    )?;
    let token = crypto::random_token(32);
    tx.execute(
        "INSERT INTO password_resets (org_id, staff_id, token_hash, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            scope.org_id(),
            staff_id,
            crypto::token_hash(&token),
            now,
            now + LIFETIME_SECS
        ],
    )?;
    super::staff::set_password(tx, scope, staff_id, unusable_hash)?;
    Ok(token)
}

/// The account a live link is for. Presenting the token is the authentication here, so this
/// yields the scope.
pub fn find(
    conn: &rusqlite::Connection,
    token: &str,
    now: i64,
) -> AppResult<Option<(OrgScope, i64)>> {
    Ok(conn
        .query_row(
            "SELECT r.org_id, r.staff_id FROM password_resets r
             JOIN staff s ON s.id = r.staff_id AND s.org_id = r.org_id
             WHERE r.token_hash = ?1 AND r.used_at IS NULL AND r.expires_at > ?2
               AND s.disabled = 0 AND s.removed_at IS NULL",
            params![crypto::token_hash(token), now],
            |r| Ok((OrgScope::mint(r.get(0)?), r.get(1)?)),
        )
        .optional()?)
}

/// Uses the link: sets the new password (ending any session) and spends the token. `NotFound`
/// when the link is no longer live.
pub fn use_link(
    tx: &Transaction<'_>,
    token: &str,
    password_hash: &str,
    now: i64,
) -> AppResult<(OrgScope, i64)> {
    let (scope, staff_id) = find(tx, token, now)?.ok_or(AppError::NotFound)?;
    tx.execute(
        "UPDATE password_resets SET used_at = ?2 WHERE token_hash = ?1",
        params![crypto::token_hash(token), now],
    )?;
    super::staff::set_password(tx, &scope, staff_id, password_hash)?;
    Ok((scope, staff_id))
}
