//! Addresses that asked for no more reminder e-mails, and the links that ask. A link carries
//! the clinic's id and the address sealed by the vault with that clinic in its associated
//! data: nothing is stored per link, a link cannot be forged or pointed at another clinic
//! (it would not open), and the address never appears in clear in a URL.

use super::OrgScope;
use crate::crypto::{SecretSlot, Vault};
use crate::error::AppResult;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

fn slot(org_id: i64) -> SecretSlot<'static> {
    SecretSlot {
        org_id,
        table: "email_unsubscribes",
        row: "link",
        field: "address",
    }
}

fn normal(address: &str) -> String {
    address.trim().to_ascii_lowercase()
}

/// The token of the unsubscribe link for `address` at this clinic.
pub fn link_token(vault: &Vault, scope: &OrgScope, address: &str) -> String {
    let sealed = vault.encrypt_str(&slot(scope.org_id()), &normal(address));
    format!("{}.{}", scope.org_id(), URL_SAFE_NO_PAD.encode(sealed))
}

/// What a link names: the clinic (its scope and name) and the address. None for anything that
/// is not a working link of a clinic on this appliance.
fn open(
    conn: &Connection,
    vault: &Vault,
    token: &str,
) -> AppResult<Option<(OrgScope, String, String)>> {
    let Some((org, sealed)) = token.split_once('.') else {
        return Ok(None);
    };
    let (Ok(org_id), Ok(sealed)) = (org.parse::<i64>(), URL_SAFE_NO_PAD.decode(sealed)) else {
        return Ok(None);
    };
    let Ok(address) = vault.decrypt_str(&slot(org_id), &sealed) else {
        return Ok(None);
    };
    let clinic: Option<String> = conn
        .prepare_cached("SELECT name FROM orgs WHERE id = ?1")?
        .query_row([org_id], |r| r.get(0))
        .optional()?;
    Ok(clinic.map(|name| (OrgScope::mint(org_id), name, address)))
}

/// The clinic's name and the address a link names, without acting on it.
pub fn peek(conn: &Connection, vault: &Vault, token: &str) -> AppResult<Option<(String, String)>> {
    Ok(open(conn, vault, token)?.map(|(_, clinic, address)| (clinic, address)))
}

/// Acts on a link: the address gets no more reminders from that clinic. Returns the clinic's
/// name and the address, or None for a link that is not one.
pub fn unsubscribe(
    tx: &Transaction<'_>,
    vault: &Vault,
    token: &str,
    now: i64,
) -> AppResult<Option<(OrgScope, String, String)>> {
    let Some((scope, clinic, address)) = open(tx, vault, token)? else {
        return Ok(None);
    };
    tx.prepare_cached(
        "INSERT INTO email_unsubscribes (org_id, address, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
    )?
    .execute(params![scope.org_id(), address, now])?;
    Ok(Some((scope, clinic, address)))
}

/// Whether `address` asked this clinic for no more reminders.
pub fn contains(conn: &Connection, scope: &OrgScope, address: &str) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM email_unsubscribes WHERE org_id = ?1 AND address = ?2)",
        )?
        .query_row(params![scope.org_id(), normal(address)], |r| r.get(0))?)
}
