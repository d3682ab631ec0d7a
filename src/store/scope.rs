//! `OrgScope`: proof that the current request acts for one org. It can only be minted inside
//! `store` by authentication code (a session, a Vapi secret, an API token, the setup token) or by
//! the loudly named [`operator_scope`] for the CLI run by whoever holds the data directory.

use crate::error::{AppError, AppResult};
use rusqlite::{Connection, OptionalExtension};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrgScope {
    org_id: i64,
}

impl OrgScope {
    pub(in crate::store) fn mint(org_id: i64) -> Self {
        Self { org_id }
    }

    pub fn org_id(&self) -> i64 {
        self.org_id
    }

    /// Names this org on the current span (a request's `org` field), for its log lines. Called
    /// where authentication hands the scope to a request.
    pub fn name_in_span(&self) {
        tracing::Span::current().record("org", self.org_id);
    }
}

/// For the command line only: the operator has the data directory, so may act for any org.
/// Fails with NotFound when the org does not exist.
pub fn operator_scope(conn: &Connection, org_id: i64) -> AppResult<OrgScope> {
    conn.query_row("SELECT id FROM orgs WHERE id = ?1", [org_id], |r| r.get(0))
        .optional()?
        .map(OrgScope::mint)
        .ok_or(AppError::NotFound)
}

/// For the command line only: the single org when there is exactly one, so `--org` can be omitted.
pub fn operator_default_scope(conn: &Connection) -> AppResult<OrgScope> {
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM orgs ORDER BY id LIMIT 2")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    match ids.as_slice() {
        [only] => Ok(OrgScope::mint(*only)),
        [] => Err(AppError::Validation(
            "no clinic exists yet; run `voxanne init` first".into(),
        )),
        _ => Err(AppError::Validation(
            "there are several clinics; choose one with --org ID (see `voxanne org list`)".into(),
        )),
    }
}
