//! The overview's aggregates: calls and bookings per quarter hour (the caller folds them into
//! the clinic's local days; every zone's offset is a whole number of quarter hours), and the
//! pipeline value by service. Each is one GROUP BY over the `calls_org_figures` covering index,
//! never a query per row. They spell out `COALESCE(started_at, created_at)` (what `occurred_at`
//! is) because that is what the index holds. The card figures come from `calls::stats` and `leads::stats`, which
//! `/api/dashboard/stats` shares.

use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Connection};

/// The width of a bucket: every UTC offset in use is a multiple of it.
pub const BUCKET_SECS: i64 = 900;

/// Calls that occurred in one bucket, and how many of them booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub start: i64,
    pub calls: i64,
    pub booked: i64,
}

/// The org's calls in `[from, to)` counted per [`BUCKET_SECS`], earliest first; empty buckets
/// are left out.
pub fn call_buckets(
    conn: &Connection,
    scope: &OrgScope,
    from: i64,
    to: i64,
) -> AppResult<Vec<Bucket>> {
    let mut stmt = conn.prepare_cached(
        "SELECT COALESCE(started_at, created_at) / ?4 * ?4 AS bucket, COUNT(*),
                COALESCE(SUM(booked), 0)
         FROM calls WHERE org_id = ?1
           AND COALESCE(started_at, created_at) >= ?2 AND COALESCE(started_at, created_at) < ?3
         GROUP BY bucket ORDER BY bucket",
    )?;
    let rows = stmt.query_map(params![scope.org_id(), from, to, BUCKET_SECS], |r| {
        Ok(Bucket {
            start: r.get(0)?,
            calls: r.get(1)?,
            booked: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One service's share of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceValue {
    pub service: String,
    /// Calls in the period that asked about it.
    pub calls: i64,
    /// Those calls times the service's list price (0 for a service no longer in the catalogue).
    pub value_cents: i64,
}

/// The services asked about by the org's calls in `[from, to)`, most valuable first.
pub fn value_by_service(
    conn: &Connection,
    scope: &OrgScope,
    from: i64,
    to: i64,
    limit: i64,
) -> AppResult<Vec<ServiceValue>> {
    let mut stmt = conn.prepare_cached(
        "SELECT MIN(j.value), COUNT(*), COALESCE(SUM(s.price_cents), 0) AS value
         FROM calls c, json_each(c.services_json) j
         LEFT JOIN services s ON s.org_id = c.org_id AND s.name = j.value
         WHERE c.org_id = ?1 AND COALESCE(c.started_at, c.created_at) >= ?2
           AND COALESCE(c.started_at, c.created_at) < ?3
           AND c.services_json <> '[]' AND j.type = 'text'
         GROUP BY j.value COLLATE NOCASE ORDER BY value DESC, COUNT(*) DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![scope.org_id(), from, to, limit], |r| {
        Ok(ServiceValue {
            service: r.get(0)?,
            calls: r.get(1)?,
            value_cents: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
