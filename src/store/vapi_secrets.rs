//! Each org's Vapi webhook secret: the credential Vapi presents on every tool call and event.
//! Stored encrypted (so Settings can show it) and as a SHA-256 lookup key (so a presented
//! secret finds its org). Rotation keeps the previous secret working for a grace period.

use super::rekey::SealedColumn;
use super::OrgScope;
use crate::crypto::token_hash as secret_lookup_key;
use crate::crypto::{self, SecretSlot, Vault};
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// How long a rotated-out secret keeps working, so the assistant can be updated meanwhile.
pub const ROTATION_GRACE_SECS: i64 = 24 * 3600;

/// The sealed secret; its associated data names the org and the row id.
pub const SEALED: SealedColumn = SealedColumn {
    table: "vapi_secrets",
    id_column: "id",
    fixed_row: None,
    column: "secret_enc",
    field: "secret",
};

fn slot(org_id: i64, row: &str) -> SecretSlot<'_> {
    SEALED.slot(org_id, row)
}

/// Creates a new current secret for the org and returns it.
pub fn create(
    tx: &Transaction<'_>,
    vault: &Vault,
    scope: &OrgScope,
    now: i64,
) -> AppResult<String> {
    let secret = format!("vx_{}", crypto::random_token(32));
    let lookup = secret_lookup_key(&secret);
    // The row id is part of the associated data, so insert first, then seal.
    tx.execute(
        "INSERT INTO vapi_secrets (org_id, lookup, secret_enc, created_at) VALUES (?1, ?2, x'', ?3)",
        params![scope.org_id(), lookup, now],
    )?;
    let id = tx.last_insert_rowid();
    let sealed = vault.encrypt_str(&slot(scope.org_id(), &id.to_string()), &secret);
    tx.execute(
        "UPDATE vapi_secrets SET secret_enc = ?2 WHERE id = ?1",
        params![id, sealed],
    )?;
    Ok(secret)
}

/// The org's current secret, decrypted.
pub fn current(conn: &Connection, vault: &Vault, scope: &OrgScope) -> AppResult<String> {
    let (id, sealed): (i64, Vec<u8>) = conn
        .query_row(
            "SELECT id, secret_enc FROM vapi_secrets
             WHERE org_id = ?1 AND retired_at IS NULL ORDER BY id DESC LIMIT 1",
            [scope.org_id()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or(AppError::NotFound)?;
    vault
        .decrypt_str(&slot(scope.org_id(), &id.to_string()), &sealed)
        .map_err(AppError::internal)
}

/// Replaces the current secret; the old one keeps working for [`ROTATION_GRACE_SECS`].
pub fn rotate(
    tx: &Transaction<'_>,
    vault: &Vault,
    scope: &OrgScope,
    now: i64,
) -> AppResult<String> {
    tx.execute(
        "UPDATE vapi_secrets SET retired_at = ?2 WHERE org_id = ?1 AND retired_at IS NULL",
        params![scope.org_id(), now + ROTATION_GRACE_SECS],
    )?;
    create(tx, vault, scope, now)
}

/// Authentication: the org whose live secret hashes to the presented one, with that secret.
/// The caller still compares the secret itself in constant time.
pub fn authenticate_presented(
    conn: &Connection,
    vault: &Vault,
    presented: &str,
    now: i64,
) -> AppResult<Option<(OrgScope, String)>> {
    let row: Option<(i64, i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT id, org_id, secret_enc FROM vapi_secrets
             WHERE lookup = ?1 AND (retired_at IS NULL OR retired_at > ?2)",
        )?
        .query_row(params![secret_lookup_key(presented), now], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    Ok(row.and_then(|(id, org_id, sealed)| {
        vault
            .decrypt_str(&slot(org_id, &id.to_string()), &sealed)
            .ok()
            .map(|secret| (OrgScope::mint(org_id), secret))
    }))
}

/// Authentication for HMAC-signed requests, which present no secret: every live secret of
/// every org is a candidate (a handful on one appliance).
pub fn hmac_candidates_all_orgs(
    conn: &Connection,
    vault: &Vault,
    now: i64,
) -> AppResult<Vec<(OrgScope, String)>> {
    let mut stmt = conn.prepare(
        "SELECT id, org_id, secret_enc FROM vapi_secrets
         WHERE retired_at IS NULL OR retired_at > ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([now], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, org_id, sealed) = row?;
        if let Ok(secret) = vault.decrypt_str(&slot(org_id, &id.to_string()), &sealed) {
            out.push((OrgScope::mint(org_id), secret));
        }
    }
    Ok(out)
}
