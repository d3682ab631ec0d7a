//! Each org's HMAC plan: how its Vapi HMAC credential signs requests (`domain::hmac_plan`),
//! set in Settings → Voice agent. An org without a row has Vapi's defaults. The webhook
//! authentication reads the plan together with the org's secrets (`store::vapi_secrets`).

use super::OrgScope;
use crate::domain::hmac_plan::{HmacAlgorithm, HmacPlan, SignatureEncoding};
use crate::error::AppResult;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

/// The plan's columns, as [`from_row`] reads them from a `LEFT JOIN vapi_hmac_plans p`.
pub(super) const PLAN_COLUMNS: &str = "p.algorithm, p.include_timestamp, p.timestamp_header,
    p.signature_header, p.signature_encoding, p.signature_prefix";

/// The plan in the six [`PLAN_COLUMNS`] starting at `first`; all NULL (no row) is the default.
pub(super) fn from_row(row: &Row<'_>, first: usize) -> rusqlite::Result<HmacPlan> {
    let Some(algorithm) = row.get::<_, Option<String>>(first)? else {
        return Ok(HmacPlan::default());
    };
    let unknown = |what: &str, value: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            first,
            rusqlite::types::Type::Text,
            format!("unknown HMAC {what} {value:?}").into(),
        )
    };
    let encoding: String = row.get(first + 4)?;
    Ok(HmacPlan {
        algorithm: HmacAlgorithm::parse(&algorithm)
            .ok_or_else(|| unknown("algorithm", &algorithm))?,
        include_timestamp: row.get(first + 1)?,
        timestamp_header: row.get(first + 2)?,
        signature_header: row.get(first + 3)?,
        encoding: SignatureEncoding::parse(&encoding)
            .ok_or_else(|| unknown("encoding", &encoding))?,
        prefix: row.get(first + 5)?,
    })
}

pub fn get(conn: &Connection, scope: &OrgScope) -> AppResult<HmacPlan> {
    let plan = conn
        .query_row(
            &format!("SELECT {PLAN_COLUMNS} FROM vapi_hmac_plans p WHERE p.org_id = ?1"),
            [scope.org_id()],
            |r| from_row(r, 0),
        )
        .optional()?;
    Ok(plan.unwrap_or_default())
}

/// Stores a plan the caller has already checked (`HmacPlan::parse`).
pub fn put(tx: &Transaction<'_>, scope: &OrgScope, plan: &HmacPlan, now: i64) -> AppResult<()> {
    tx.execute(
        "INSERT INTO vapi_hmac_plans (org_id, algorithm, include_timestamp, timestamp_header,
             signature_header, signature_encoding, signature_prefix, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (org_id) DO UPDATE SET algorithm = excluded.algorithm,
             include_timestamp = excluded.include_timestamp,
             timestamp_header = excluded.timestamp_header,
             signature_header = excluded.signature_header,
             signature_encoding = excluded.signature_encoding,
             signature_prefix = excluded.signature_prefix, updated_at = excluded.updated_at",
        params![
            scope.org_id(),
            plan.algorithm.as_str(),
            plan.include_timestamp,
            plan.timestamp_header,
            plan.signature_header,
            plan.encoding.as_str(),
            plan.prefix,
            now
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::hmac_plan::HmacPlanInput;

    #[test]
    fn no_row_is_vapis_defaults_and_a_saved_plan_reads_back() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate::apply(&conn).unwrap();
        conn.execute(
            "INSERT INTO orgs (id, name, timezone, hours_json, created_at) VALUES (1, 'A', 'UTC', '{}', 0)",
            [],
        )
        .unwrap();
        let scope = OrgScope::mint(1);
        assert_eq!(get(&conn, &scope).unwrap(), HmacPlan::default());
        let plan = HmacPlan::parse(&HmacPlanInput {
            algorithm: "sha1",
            include_timestamp: false,
            timestamp_header: "x-at",
            signature_header: "x-sig",
            encoding: "base64",
            prefix: "v1=",
        })
        .unwrap();
        let tx = conn.transaction().unwrap();
        put(&tx, &scope, &HmacPlan::default(), 1).unwrap();
        put(&tx, &scope, &plan, 2).unwrap();
        tx.commit().unwrap();
        assert_eq!(get(&conn, &scope).unwrap(), plan);
    }
}
