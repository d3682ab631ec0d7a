//! Each org's Twilio credentials. The auth token (or API key secret) is sealed by the vault with
//! the org and this table in its associated data, so a ciphertext copied into another org's row
//! does not open; only its last four characters are ever shown.

use super::rekey::SealedColumn;
use super::OrgScope;
use crate::config::Secret;
use crate::crypto::{SecretSlot, Vault};
use crate::domain::phone::PhoneNumber;
use crate::error::{AppError, AppResult};
use crate::integrations::twilio::Credentials;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

/// The sealed auth token or API key secret: one row per org, so the row name is fixed.
pub const SEALED: SealedColumn = SealedColumn {
    table: "twilio_credentials",
    id_column: "org_id",
    fixed_row: Some("current"),
    column: "secret_enc",
    field: "secret",
};

fn slot(org_id: i64) -> SecretSlot<'static> {
    SEALED.slot(org_id, "current")
}

/// What an owner or operator may see.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub account_sid: String,
    pub key_sid: Option<String>,
    pub secret_last4: String,
    pub from_number: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub updated_at: i64,
}

/// Checks the shapes Twilio gives its identifiers: a two-letter prefix and 32 hex digits.
pub fn check_sid(value: &str, prefix: &str, what: &str) -> AppResult<String> {
    let v = value.trim();
    let ok =
        v.len() == 34 && v.starts_with(prefix) && v[2..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(v.to_string())
    } else {
        Err(AppError::Validation(format!(
            "{what} should be “{prefix}” followed by 32 letters and digits (0-9, a-f), as shown in the Twilio Console"
        )))
    }
}

/// Credentials as typed by an owner or operator.
pub struct Input<'a> {
    pub account_sid: &'a str,
    pub key_sid: Option<&'a str>,
    pub secret: &'a str,
    pub from_number: Option<&'a str>,
    pub messaging_service_sid: Option<&'a str>,
}

/// Checks the shapes of typed credentials and normalises the "from" number to E.164.
pub fn validate(input: &Input<'_>, default_country: &str) -> AppResult<Credentials> {
    let account_sid = check_sid(input.account_sid, "AC", "The Account SID")?;
    let key_sid = match input.key_sid.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => Some(check_sid(k, "SK", "The API key SID")?),
        None => None,
    };
    let secret = input.secret.trim();
    if secret.len() < 16 || secret.contains(char::is_whitespace) {
        return Err(AppError::Validation(
            "the auth token or API key secret should be the 32-character value from the Twilio Console".into(),
        ));
    }
    let from_number = match input.from_number.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => Some(
            PhoneNumber::parse(f, default_country)
                .map_err(|e| AppError::Validation(format!("the From number: {e}")))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let messaging_service_sid = match input
        .messaging_service_sid
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        Some(m) => Some(check_sid(m, "MG", "The messaging service SID")?),
        None => None,
    };
    if from_number.is_none() && messaging_service_sid.is_none() {
        return Err(AppError::Validation(
            "give the SMS-capable Twilio number texts come from (or a messaging service SID)"
                .into(),
        ));
    }
    Ok(Credentials {
        account_sid,
        key_sid,
        secret: Secret::new(secret),
        from_number,
        messaging_service_sid,
    })
}

/// Stores (or replaces) the org's credentials. `creds` must already be validated.
pub fn set(
    tx: &Transaction<'_>,
    vault: &Vault,
    scope: &OrgScope,
    creds: &Credentials,
    now: i64,
) -> AppResult<()> {
    let secret = creds.secret.expose();
    let last4: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    // Received texts and delivery reports find their clinic by this number: two clinics on one
    // number would have one clinic's patients' texts land in the other's dashboard.
    if let Some(number) = creds.from_number.as_deref() {
        let taken: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM twilio_credentials
                                WHERE from_number = ?1 AND org_id <> ?2)",
            )?
            .query_row(params![number, scope.org_id()], |r| r.get(0))?;
        if taken {
            return Err(AppError::Conflict(format!(
                "{number} is already the texting number of another clinic on this appliance; \
                 each clinic needs its own number"
            )));
        }
    }
    let sealed = vault.encrypt_str(&slot(scope.org_id()), secret);
    tx.execute(
        "INSERT INTO twilio_credentials (org_id, account_sid, key_sid, secret_enc, secret_last4,
                                         from_number, messaging_service_sid, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (org_id) DO UPDATE SET account_sid = ?2, key_sid = ?3, secret_enc = ?4,
             secret_last4 = ?5, from_number = ?6, messaging_service_sid = ?7, updated_at = ?8",
        params![
            scope.org_id(),
            creds.account_sid,
            creds.key_sid,
            sealed,
            last4,
            creds.from_number,
            creds.messaging_service_sid,
            now
        ],
    )?;
    Ok(())
}

/// The org's credentials, decrypted, or None when Twilio is not set up.
pub fn get(conn: &Connection, vault: &Vault, scope: &OrgScope) -> AppResult<Option<Credentials>> {
    let row = conn
        .prepare_cached(
            "SELECT account_sid, key_sid, secret_enc, from_number, messaging_service_sid
             FROM twilio_credentials WHERE org_id = ?1",
        )?
        .query_row([scope.org_id()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .optional()?;
    let Some((account_sid, key_sid, sealed, from_number, messaging_service_sid)) = row else {
        return Ok(None);
    };
    let secret = vault
        .decrypt_str(&slot(scope.org_id()), &sealed)
        .map_err(AppError::internal)?;
    Ok(Some(Credentials {
        account_sid,
        key_sid,
        secret: Secret::new(secret),
        from_number,
        messaging_service_sid,
    }))
}

/// The redacted view, or None when Twilio is not set up.
pub fn summary(conn: &Connection, scope: &OrgScope) -> AppResult<Option<Summary>> {
    Ok(conn
        .query_row(
            "SELECT account_sid, key_sid, secret_last4, from_number, messaging_service_sid, updated_at
             FROM twilio_credentials WHERE org_id = ?1",
            [scope.org_id()],
            |r| {
                Ok(Summary {
                    account_sid: r.get(0)?,
                    key_sid: r.get(1)?,
                    secret_last4: r.get(2)?,
                    from_number: r.get(3)?,
                    messaging_service_sid: r.get(4)?,
                    updated_at: r.get(5)?,
                })
            },
        )
        .optional()?)
}

/// Removes the org's credentials; texts are skipped from then on.
pub fn clear(tx: &Transaction<'_>, scope: &OrgScope) -> AppResult<bool> {
    Ok(tx.execute(
        "DELETE FROM twilio_credentials WHERE org_id = ?1",
        [scope.org_id()],
    )? > 0)
}

/// Authentication of a Twilio webhook. The org is the one whose stored credentials name
/// `account_sid` and the clinic's side of the text (`our_number`, or the messaging service),
/// and it is returned only when `signature_ok` accepts that org's auth token. Set-ups with an
/// API key hold no auth token, which is what Twilio signs with, so they never match.
pub fn authenticate_webhook(
    conn: &Connection,
    vault: &Vault,
    account_sid: &str,
    our_number: Option<&str>,
    service_sid: Option<&str>,
    signature_ok: impl Fn(&str) -> bool,
) -> AppResult<Option<OrgScope>> {
    let mut stmt = conn.prepare_cached(
        "SELECT org_id, secret_enc FROM twilio_credentials
         WHERE account_sid = ?1 AND key_sid IS NULL
           AND (from_number = ?2 OR messaging_service_sid = ?3)
         ORDER BY org_id",
    )?;
    let rows: Vec<(i64, Vec<u8>)> = stmt
        .query_map(params![account_sid, our_number, service_sid], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    for (org_id, sealed) in rows {
        let Ok(token) = vault.decrypt_str(&slot(org_id), &sealed) else {
            continue;
        };
        if signature_ok(&token) {
            return Ok(Some(OrgScope::mint(org_id)));
        }
    }
    Ok(None)
}

/// Authentication of a Twilio webhook that names only the account (the caller-ID verification
/// callback carries no clinic number): every org whose stored auth token for `account_sid`
/// makes `signature_ok` accept the request. Clinics may share one Twilio account, so the
/// caller decides which of them the request is about.
pub fn authenticate_account_webhook(
    conn: &Connection,
    vault: &Vault,
    account_sid: &str,
    signature_ok: impl Fn(&str) -> bool,
) -> AppResult<Vec<OrgScope>> {
    let mut stmt = conn.prepare_cached(
        "SELECT org_id, secret_enc FROM twilio_credentials
         WHERE account_sid = ?1 AND key_sid IS NULL ORDER BY org_id",
    )?;
    let rows: Vec<(i64, Vec<u8>)> = stmt
        .query_map([account_sid], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter(|(org_id, sealed)| {
            vault
                .decrypt_str(&slot(*org_id), sealed)
                .is_ok_and(|token| signature_ok(&token))
        })
        .map(|(org_id, _)| OrgScope::mint(org_id))
        .collect())
}
