//! Each org's Vapi webhook secret: the credential Vapi presents on every tool call and event.
//! Stored encrypted (so Settings can show it) and as a SHA-256 lookup key (so a presented
//! secret finds its org). Rotation keeps the previous secret working for a grace period.
//! Authentication reads each secret with its org's HMAC plan (`store::vapi_hmac_plans`).

use super::rekey::SealedColumn;
use super::vapi_hmac_plans::{self, PLAN_COLUMNS};
use super::OrgScope;
use crate::crypto::token_hash as secret_lookup_key;
use crate::crypto::{self, SecretSlot, Vault};
use crate::domain::hmac_plan::HmacPlan;
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// A live secret that may verify a request, with how its org's HMAC credential signs.
#[derive(Debug)]
pub struct Candidate {
    pub scope: OrgScope,
    pub secret: String,
    pub plan: HmacPlan,
}

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

/// A live secret row: its id, org, sealed secret and the org's HMAC plan.
type LiveRow = (i64, i64, Vec<u8>, HmacPlan);

fn live_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LiveRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        vapi_hmac_plans::from_row(r, 3)?,
    ))
}

fn unseal(vault: &Vault, (id, org_id, sealed, plan): LiveRow) -> Option<Candidate> {
    let secret = vault
        .decrypt_str(&slot(org_id, &id.to_string()), &sealed)
        .ok()?;
    Some(Candidate {
        scope: OrgScope::mint(org_id),
        secret,
        plan,
    })
}

/// Authentication: the org whose live secret hashes to the presented one, with that secret.
/// The caller still compares the secret itself in constant time.
pub fn authenticate_presented(
    conn: &Connection,
    vault: &Vault,
    presented: &str,
    now: i64,
) -> AppResult<Option<Candidate>> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT s.id, s.org_id, s.secret_enc, {PLAN_COLUMNS} FROM vapi_secrets s
             LEFT JOIN vapi_hmac_plans p ON p.org_id = s.org_id
             WHERE s.lookup = ?1 AND (s.retired_at IS NULL OR s.retired_at > ?2)"
        ))?
        .query_row(params![secret_lookup_key(presented), now], live_row)
        .optional()?;
    Ok(row.and_then(|row| unseal(vault, row)))
}

/// Authentication for HMAC-signed requests, which present no secret: every live secret of
/// every org whose plan `signed_for` accepts (the request carries that plan's signature
/// header) is a candidate, a handful on one appliance. Other secrets are not decrypted.
pub fn hmac_candidates_all_orgs(
    conn: &Connection,
    vault: &Vault,
    now: i64,
    signed_for: impl Fn(&HmacPlan) -> bool,
) -> AppResult<Vec<Candidate>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT s.id, s.org_id, s.secret_enc, {PLAN_COLUMNS} FROM vapi_secrets s
         LEFT JOIN vapi_hmac_plans p ON p.org_id = s.org_id
         WHERE s.retired_at IS NULL OR s.retired_at > ?1 ORDER BY s.id"
    ))?;
    let mut out = Vec::new();
    for row in stmt.query_map([now], live_row)? {
        let row = row?;
        if signed_for(&row.3) {
            out.extend(unseal(vault, row));
        }
    }
    Ok(out)
}
