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

/// The services asked about by the org's calls in `[from, to)`, most valuable first (`from` and
/// `to` on [`BUCKET_SECS`] boundaries, as every local midnight is).
pub fn value_by_service(
    conn: &Connection,
    scope: &OrgScope,
    from: i64,
    to: i64,
    limit: i64,
) -> AppResult<Vec<ServiceValue>> {
    // From the per-period counts kept by triggers (migration 0011), not the calls themselves.
    let mut stmt = conn.prepare_cached(
        "SELECT MIN(b.service), SUM(b.calls), COALESCE(SUM(b.calls * s.price_cents), 0) AS value
         FROM call_service_buckets b
         LEFT JOIN services s ON s.org_id = b.org_id AND s.name = b.service
         WHERE b.org_id = ?1 AND b.bucket >= ?2 AND b.bucket < ?3
         GROUP BY b.service COLLATE NOCASE ORDER BY value DESC, SUM(b.calls) DESC LIMIT ?4",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{calls, orgs, Db};

    /// The figures as a full aggregate over the calls would give them.
    fn direct(c: &Connection, org: i64) -> (i64, i64, i64, Option<f64>, Vec<(String, i64)>) {
        let (v, i, b, d) = c
            .query_row(
                "SELECT COALESCE(SUM(value_cents), 0), COALESCE(SUM(type = 'inbound'), 0),
                        COALESCE(SUM(type = 'inbound' AND booked = 1), 0),
                        AVG(duration_ms) / 1000.0
                 FROM calls WHERE org_id = ?1",
                [org],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        let mut s = c
            .prepare(
                "SELECT j.value, COUNT(*) FROM calls c, json_each(c.services_json) j
                 WHERE c.org_id = ?1 AND j.type = 'text' AND COALESCE(started_at, created_at) >= 0
                 GROUP BY j.value ORDER BY j.value",
            )
            .unwrap();
        let services = s
            .query_map([org], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        (v, i, b, d, services)
    }

    fn rolled(
        c: &Connection,
        scope: &OrgScope,
    ) -> (i64, i64, i64, Option<f64>, Vec<(String, i64)>) {
        let s = calls::stats(c, scope, 0, 0).unwrap();
        let mut services: Vec<(String, i64)> = value_by_service(c, scope, 0, i64::MAX / 2, 100)
            .unwrap()
            .into_iter()
            .map(|v| (v.service, v.calls))
            .collect();
        services.sort();
        (
            s.pipeline_value_cents,
            s.inbound_calls,
            s.booked_inbound_calls,
            s.average_duration_secs,
            services,
        )
    }

    #[test]
    fn running_figures_match_a_full_aggregate_through_inserts_updates_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let (a, b) = db
            .write_blocking(|tx| {
                Ok((
                    orgs::create(tx, "A", chrono_tz::UTC, 0)?,
                    orgs::create(tx, "B", chrono_tz::UTC, 0)?,
                ))
            })
            .unwrap();
        let (ao, bo) = (a.org_id(), b.org_id());
        let services = [
            r#"[]"#,
            r#"["Botox"]"#,
            r#"["Botox","Fillers"]"#,
            r#"["Fillers","Fillers"]"#,
            r#"[1]"#,
        ];
        let types = ["inbound", "outbound", "web"];
        let mut seed: u64 = 42;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for round in 0..400 {
            let org = if next(5) == 0 { bo } else { ao };
            let op = next(10);
            let (ty, booked, value) = (
                types[next(3) as usize],
                next(2) as i64,
                next(5) as i64 * 100,
            );
            let svc = services[next(5) as usize];
            let at = next(10_000) as i64 * 60;
            let duration = (next(4) > 0).then(|| next(600_000) as i64);
            db.write_blocking(move |tx| {
                match op {
                    0..=5 => {
                        tx.execute(
                            "INSERT INTO calls (org_id, vapi_call_id, type, status, started_at,
                                 duration_ms, booked, value_cents, services_json, created_at, updated_at)
                             VALUES (?1, ?2, ?3, 'ended', ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                            params![org, format!("c{round}"), ty, (op > 0).then_some(at), duration, booked, value, svc, at],
                        )?;
                    }
                    6..=8 => {
                        tx.execute(
                            "UPDATE calls SET type = ?2, booked = ?3, value_cents = ?4, services_json = ?5,
                                 started_at = ?6, duration_ms = ?7
                             WHERE id = (SELECT id FROM calls WHERE org_id = ?1 ORDER BY (id * 7919) % 101 LIMIT 1)",
                            params![org, ty, booked, value, svc, at, duration],
                        )?;
                    }
                    _ => {
                        tx.execute(
                            "DELETE FROM calls WHERE id = (SELECT id FROM calls WHERE org_id = ?1 ORDER BY (id * 7919) % 97 LIMIT 1)",
                            [org],
                        )?;
                    }
                }
                Ok(())
            })
            .unwrap();
        }
        for (scope, org) in [(&a, ao), (&b, bo)] {
            let (want, got) = db
                .read_blocking(move |c| Ok((direct(c, org), rolled(c, scope))))
                .unwrap();
            assert_eq!(want.0, got.0);
            assert_eq!((want.1, want.2), (got.1, got.2));
            match (want.3, got.3) {
                (Some(w), Some(g)) => assert!((w - g).abs() < 1e-6, "{w} {g}"),
                (w, g) => assert_eq!(w, g),
            }
            assert_eq!(want.4, got.4);
            assert!(
                !want.4.is_empty(),
                "the run must exercise the service counts"
            );
        }
    }
}
