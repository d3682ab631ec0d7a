//! Links that share a call's recording for a limited time. The link carries a random token;
//! only its SHA-256 is stored, so the table cannot be read back into working links. The
//! public route resolves a token by its hash — that is its authentication — and learns the
//! org and call from the row, never from the request.

use super::OrgScope;
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// A share to record.
pub struct NewShare<'a> {
    pub call_id: i64,
    pub token_hash: &'a str,
    pub email: Option<&'a str>,
    pub created_by: Option<i64>,
    pub expires_at: i64,
}

/// Records a share of one of the org's calls; NotFound for any other call.
pub fn create(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    s: &NewShare<'_>,
    now: i64,
) -> AppResult<i64> {
    let inserted = tx.execute(
        "INSERT INTO recording_shares (org_id, call_id, token_hash, email, created_by, created_at,
                                       expires_at)
         SELECT ?1, id, ?3, ?4, ?5, ?6, ?7 FROM calls WHERE org_id = ?1 AND id = ?2",
        params![
            scope.org_id(),
            s.call_id,
            s.token_hash,
            s.email,
            s.created_by,
            now,
            s.expires_at
        ],
    )?;
    if inserted == 0 {
        return Err(AppError::NotFound);
    }
    Ok(tx.last_insert_rowid())
}

/// What a share link leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    pub org_id: i64,
    pub call_id: i64,
    pub expires_at: i64,
    /// None once retention cleared the recording.
    pub recording_url: Option<String>,
}

/// The share with this token hash, in whichever org made it.
pub fn resolve(conn: &Connection, token_hash: &str) -> AppResult<Option<Shared>> {
    Ok(conn
        .prepare_cached(
            "SELECT s.org_id, s.call_id, s.expires_at, c.recording_url
             FROM recording_shares s JOIN calls c ON c.id = s.call_id AND c.org_id = s.org_id
             WHERE s.token_hash = ?1",
        )?
        .query_row([token_hash], |r| {
            Ok(Shared {
                org_id: r.get(0)?,
                call_id: r.get(1)?,
                expires_at: r.get(2)?,
                recording_url: r.get(3)?,
            })
        })
        .optional()?)
}
