//! Each org's mailbox for sending e-mail. The password is sealed by the vault with the org and
//! this table in its associated data, never shown back; the rest is plain settings.

use super::rekey::SealedColumn;
use super::OrgScope;
use crate::config::Secret;
use crate::crypto::{SecretSlot, Vault};
use crate::domain::mail::check_address;
use crate::error::{AppError, AppResult};
use crate::integrations::smtp::{self, Mailbox, TlsMode};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

/// The sealed password: one row per org, so the row name is fixed.
pub const SEALED: SealedColumn = SealedColumn {
    table: "email_settings",
    id_column: "org_id",
    fixed_row: Some("current"),
    column: "secret_enc",
    field: "password",
};

fn slot(org_id: i64) -> SecretSlot<'static> {
    SEALED.slot(org_id, "current")
}

/// Settings as typed by an owner or operator.
pub struct Input<'a> {
    pub host: &'a str,
    pub port: &'a str,
    pub tls: &'a str,
    pub username: &'a str,
    /// Empty keeps the stored password (the settings page leaves it blank).
    pub password: &'a str,
    pub from_address: &'a str,
    pub from_name: Option<&'a str>,
    pub ca_pem: Option<&'a str>,
}

/// What an owner or operator may see: everything but the password.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub host: String,
    pub port: u16,
    pub tls: &'static str,
    pub username: String,
    pub from_address: String,
    pub from_name: Option<String>,
    pub private_ca: bool,
    /// The clinic's local hour the owners' daily digest goes at, if it takes one.
    pub digest_hour: Option<u32>,
    pub updated_at: i64,
}

fn invalid(what: impl Into<String>) -> AppError {
    AppError::Validation(what.into())
}

/// Checks typed settings. `stored` is the password kept when none is typed.
pub fn validate(input: &Input<'_>, stored: Option<&Secret>) -> AppResult<Mailbox> {
    let host = input.host.trim();
    if host.is_empty()
        || host.len() > 253
        || host
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == ':' || c == '@')
    {
        return Err(invalid(
            "the mail server should be a host name such as smtp.gmail.com",
        ));
    }
    let port: u16 = input
        .port
        .trim()
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| invalid("the port should be a number such as 587 or 465"))?;
    let tls = TlsMode::parse(input.tls).ok_or_else(|| {
        invalid("the TLS mode should be “starttls” (usually port 587) or “tls” (usually port 465)")
    })?;
    let username = input.username.trim();
    if username.is_empty() || username.chars().any(char::is_control) {
        return Err(invalid(
            "give the username the mail server signs in with (usually the mailbox's address)",
        ));
    }
    let password = match (input.password.trim(), stored) {
        ("", Some(kept)) => kept.clone(),
        ("", None) => return Err(invalid("give the mailbox's password or app password")),
        (typed, _) if typed.chars().any(char::is_control) => {
            return Err(invalid(
                "the password holds a line break or control character",
            ))
        }
        (typed, _) => Secret::new(typed),
    };
    let from_address = check_address(input.from_address)
        .map_err(|e| invalid(format!("the sending address: {e}")))?;
    let from_name = input
        .from_name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            if n.chars().any(char::is_control) || n.len() > 100 {
                Err(invalid("the sender's name should be one short line"))
            } else {
                Ok(n.to_string())
            }
        })
        .transpose()?;
    let ca_pem = match input.ca_pem.map(str::trim).filter(|p| !p.is_empty()) {
        Some(pem) => {
            smtp::check_ca_pem(pem).map_err(invalid)?;
            Some(pem.to_string())
        }
        None => None,
    };
    Ok(Mailbox {
        host: host.to_ascii_lowercase(),
        port,
        tls,
        username: username.to_string(),
        password,
        from_address,
        from_name,
        ca_pem,
    })
}

/// Stores (or replaces) the org's mailbox. `mailbox` must already be validated.
pub fn set(
    tx: &Transaction<'_>,
    vault: &Vault,
    scope: &OrgScope,
    mailbox: &Mailbox,
    now: i64,
) -> AppResult<()> {
    let sealed = vault.encrypt_str(&slot(scope.org_id()), mailbox.password.expose());
    tx.prepare_cached(
        "INSERT INTO email_settings (org_id, host, port, tls_mode, username, secret_enc,
                                     from_address, from_name, ca_pem, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (org_id) DO UPDATE SET host = ?2, port = ?3, tls_mode = ?4, username = ?5,
             secret_enc = ?6, from_address = ?7, from_name = ?8, ca_pem = ?9, updated_at = ?10",
    )?
    .execute(params![
        scope.org_id(),
        mailbox.host,
        mailbox.port,
        mailbox.tls.as_str(),
        mailbox.username,
        sealed,
        mailbox.from_address,
        mailbox.from_name,
        mailbox.ca_pem,
        now
    ])?;
    Ok(())
}

/// The org's mailbox with its password opened, or None when e-mail is not set up.
pub fn get(conn: &Connection, vault: &Vault, scope: &OrgScope) -> AppResult<Option<Mailbox>> {
    let row = conn
        .prepare_cached(
            "SELECT host, port, tls_mode, username, secret_enc, from_address, from_name, ca_pem
             FROM email_settings WHERE org_id = ?1",
        )?
        .query_row([scope.org_id()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u16>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Vec<u8>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })
        .optional()?;
    let Some((host, port, tls, username, sealed, from_address, from_name, ca_pem)) = row else {
        return Ok(None);
    };
    let password = vault
        .decrypt_str(&slot(scope.org_id()), &sealed)
        .map_err(AppError::internal)?;
    Ok(Some(Mailbox {
        host,
        port,
        tls: TlsMode::parse(&tls).ok_or_else(|| AppError::internal("unknown TLS mode stored"))?,
        username,
        password: Secret::new(password),
        from_address,
        from_name,
        ca_pem,
    }))
}

/// The sending address and name, without opening the password: what a booking change needs
/// to address an invitation from the clinic.
pub fn sender(conn: &Connection, scope: &OrgScope) -> AppResult<Option<(String, Option<String>)>> {
    Ok(conn
        .prepare_cached("SELECT from_address, from_name FROM email_settings WHERE org_id = ?1")?
        .query_row([scope.org_id()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The redacted view, or None when e-mail is not set up.
pub fn summary(conn: &Connection, scope: &OrgScope) -> AppResult<Option<Summary>> {
    Ok(conn
        .prepare_cached(
            "SELECT host, port, tls_mode, username, from_address, from_name,
                    ca_pem IS NOT NULL, updated_at, digest_hour
             FROM email_settings WHERE org_id = ?1",
        )?
        .query_row([scope.org_id()], |r| {
            let tls: String = r.get(2)?;
            Ok(Summary {
                host: r.get(0)?,
                port: r.get(1)?,
                tls: TlsMode::parse(&tls).unwrap_or(TlsMode::StartTls).as_str(),
                username: r.get(3)?,
                from_address: r.get(4)?,
                from_name: r.get(5)?,
                private_ca: r.get(6)?,
                updated_at: r.get(7)?,
                digest_hour: r.get(8)?,
            })
        })
        .optional()?)
}

/// Removes the org's mailbox; e-mails are skipped from then on.
pub fn clear(tx: &Transaction<'_>, scope: &OrgScope) -> AppResult<bool> {
    Ok(tx.execute(
        "DELETE FROM email_settings WHERE org_id = ?1",
        [scope.org_id()],
    )? > 0)
}
