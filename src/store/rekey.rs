//! Every column the vault seals, in one list, and re-sealing them all under a new master key in
//! one transaction (all or nothing). A module that seals a new column declares it here with a
//! [`SealedColumn`], so `voxanne keys rotate` cannot miss it.

use crate::crypto::{SecretSlot, Vault};
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, Transaction};

/// Where sealed values live, and how each one's associated data is formed.
pub struct SealedColumn {
    pub table: &'static str,
    /// The column identifying a row (its value is the slot's row unless `fixed_row` is set).
    pub id_column: &'static str,
    /// For one-row-per-org tables, the constant row name in the associated data.
    pub fixed_row: Option<&'static str>,
    pub column: &'static str,
    /// The field name in the associated data.
    pub field: &'static str,
}

impl SealedColumn {
    pub fn slot<'a>(&self, org_id: i64, row: &'a str) -> SecretSlot<'a> {
        SecretSlot {
            org_id,
            table: self.table,
            row: self.fixed_row.unwrap_or(row),
            field: self.field,
        }
    }
}

/// Every sealed column.
pub fn sealed_columns() -> [&'static SealedColumn; 4] {
    [
        &super::vapi_secrets::SEALED,
        &super::twilio_credentials::SEALED,
        &super::outbox::SEALED,
        &super::email_settings::SEALED,
    ]
}

fn rows(conn: &Connection, c: &SealedColumn) -> AppResult<Vec<(i64, i64, Vec<u8>)>> {
    let sql = format!(
        "SELECT {id}, org_id, {col} FROM {table} WHERE {col} IS NOT NULL ORDER BY {id}",
        id = c.id_column,
        col = c.column,
        table = c.table
    );
    let out = conn
        .prepare(&sql)?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(out)
}

/// Re-seals every sealed value, across orgs, from `old` to `new`. A value that `old` cannot
/// open fails the whole transaction, so nothing is left half-rotated. Returns the count.
pub fn reseal_all_system(tx: &Transaction<'_>, old: &Vault, new: &Vault) -> AppResult<usize> {
    let mut count = 0;
    for c in sealed_columns() {
        let update = format!(
            "UPDATE {table} SET {col} = ?1 WHERE {id} = ?2 AND org_id = ?3",
            table = c.table,
            col = c.column,
            id = c.id_column
        );
        for (id, org_id, sealed) in rows(tx, c)? {
            let row = id.to_string();
            let slot = c.slot(org_id, &row);
            let plain = old.decrypt(&slot, &sealed).map_err(|e| {
                AppError::internal(format!(
                    "{}.{} of row {id} cannot be opened with the current master key ({e}); nothing was changed",
                    c.table, c.column
                ))
            })?;
            tx.execute(&update, params![new.encrypt(&slot, &plain), id, org_id])?;
            count += 1;
        }
    }
    Ok(count)
}

/// Whether `vault` opens the first sealed value found: None when nothing is sealed yet.
/// Used after an interrupted rotation to learn which key the database is under.
pub fn opens_with(conn: &Connection, vault: &Vault) -> AppResult<Option<bool>> {
    for c in sealed_columns() {
        if let Some((id, org_id, sealed)) = rows(conn, c)?.into_iter().next() {
            let row = id.to_string();
            return Ok(Some(vault.decrypt(&c.slot(org_id, &row), &sealed).is_ok()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::domain::clinic_type::ClinicType;
    use crate::integrations::twilio::Credentials;
    use crate::store::outbox::{self, NewSms, Purpose};
    use crate::store::{provision_org, twilio_credentials, vapi_secrets};

    fn db_with_secrets(vault: &Vault) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate::apply(&conn).unwrap();
        let tx = conn.transaction().unwrap();
        let scope = provision_org(
            &tx,
            vault,
            "Glow",
            chrono_tz::UTC,
            ClinicType::PlasticSurgery,
            0,
        )
        .unwrap();
        let creds = Credentials {
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            key_sid: None,
            secret: Secret::new("tok_0123456789abcdef0123456789"),
            from_number: Some("+15005550006".into()),
            messaging_service_sid: None,
        };
        twilio_credentials::set(&tx, vault, &scope, &creds, 0).unwrap();
        let mailbox = crate::integrations::smtp::Mailbox {
            host: "smtp.example.com".into(),
            port: 587,
            tls: crate::integrations::smtp::TlsMode::StartTls,
            username: "front@example.com".into(),
            password: Secret::new("app-password-0123"),
            from_address: "front@example.com".into(),
            from_name: None,
            ca_pem: None,
        };
        crate::store::email_settings::set(&tx, vault, &scope, &mailbox, 0).unwrap();
        outbox::enqueue_sealed(
            &tx,
            vault,
            &scope,
            &NewSms {
                to: "+14155550123",
                body: "Your code is 123456",
                purpose: Purpose::Verification,
                contact_id: None,
                appointment_id: None,
                call_id: None,
                dedupe_key: None,
                send_after: 0,
            },
            "Your code is ******",
            0,
        )
        .unwrap();
        tx.commit().unwrap();
        conn
    }

    #[test]
    fn every_sealed_value_moves_to_the_new_key() {
        let (old, new) = (Vault::from_key(&[1; 32]), Vault::from_key(&[2; 32]));
        let mut conn = db_with_secrets(&old);
        assert_eq!(opens_with(&conn, &old).unwrap(), Some(true));
        let tx = conn.transaction().unwrap();
        assert_eq!(reseal_all_system(&tx, &old, &new).unwrap(), 4);
        tx.commit().unwrap();
        assert_eq!(opens_with(&conn, &new).unwrap(), Some(true));
        assert_eq!(opens_with(&conn, &old).unwrap(), Some(false));
        let scope = crate::store::scope::operator_scope(&conn, 1).unwrap();
        assert!(vapi_secrets::current(&conn, &new, &scope).is_ok());
        assert!(vapi_secrets::current(&conn, &old, &scope).is_err());
        let creds = twilio_credentials::get(&conn, &new, &scope)
            .unwrap()
            .unwrap();
        assert_eq!(creds.secret.expose(), "tok_0123456789abcdef0123456789");
        let mailbox = crate::store::email_settings::get(&conn, &new, &scope)
            .unwrap()
            .unwrap();
        assert_eq!(mailbox.password.expose(), "app-password-0123");
        for c in sealed_columns() {
            assert_eq!(rows(&conn, c).unwrap().len(), 1, "{}", c.table);
        }
    }

    #[test]
    fn a_value_the_old_key_cannot_open_changes_nothing() {
        let (old, new) = (Vault::from_key(&[1; 32]), Vault::from_key(&[2; 32]));
        let mut conn = db_with_secrets(&old);
        // The outbox row's ciphertext was sealed for another row: it does not open.
        conn.execute(
            "UPDATE outbox SET body_enc = (SELECT secret_enc FROM vapi_secrets)",
            [],
        )
        .unwrap();
        let before: Vec<u8> = conn
            .query_row("SELECT secret_enc FROM vapi_secrets", [], |r| r.get(0))
            .unwrap();
        let tx = conn.transaction().unwrap();
        let err = reseal_all_system(&tx, &old, &new).unwrap_err();
        assert!(err.to_string().contains("outbox.body_enc"), "{err}");
        drop(tx);
        let after: Vec<u8> = conn
            .query_row("SELECT secret_enc FROM vapi_secrets", [], |r| r.get(0))
            .unwrap();
        assert_eq!(before, after);
        assert_eq!(opens_with(&conn, &old).unwrap(), Some(true));
    }

    #[test]
    fn nothing_sealed_yet() {
        let conn = Connection::open_in_memory().unwrap();
        crate::store::migrate::apply(&conn).unwrap();
        assert_eq!(opens_with(&conn, &Vault::from_key(&[1; 32])).unwrap(), None);
    }
}
