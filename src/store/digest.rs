//! The owners' daily digest: which clinics take one, the day's facts it reports, and queuing it
//! to every active owner (once per owner per day: the dedupe key names both) with the day
//! marked sent in the same write.

use super::email_outbox::{self, NewEmail};
use super::outbox::Purpose;
use super::OrgScope;
use crate::domain::digest::{Facts, Visit};
use crate::domain::format::local_datetime;
use crate::domain::format::spoken_time;
use crate::domain::mail::Composed;
use crate::error::AppResult;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rusqlite::{params, Connection, Transaction};

/// A clinic that takes the digest: its local hour and the local date of the last one.
pub struct Subscribed {
    pub scope: OrgScope,
    pub hour: u32,
    pub sent_on: Option<NaiveDate>,
}

/// Every clinic with a mailbox and a digest hour, across orgs (for the job).
pub fn subscribed_system(conn: &Connection) -> AppResult<Vec<Subscribed>> {
    let rows: Vec<(i64, u32, Option<String>)> = conn
        .prepare_cached(
            "SELECT org_id, digest_hour, digest_sent_on FROM email_settings
             WHERE digest_hour IS NOT NULL ORDER BY org_id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .map(|(org, hour, sent)| Subscribed {
            scope: OrgScope::mint(org),
            hour,
            sent_on: sent.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
        })
        .collect())
}

/// Sets (or, with None, stops) the clinic's digest hour. False when it has no mailbox.
pub fn set_hour(tx: &Transaction<'_>, scope: &OrgScope, hour: Option<u32>) -> AppResult<bool> {
    Ok(tx
        .prepare_cached("UPDATE email_settings SET digest_hour = ?2 WHERE org_id = ?1")?
        .execute(params![scope.org_id(), hour])?
        > 0)
}

/// Unix seconds [from, to) of a span.
pub type Span = (i64, i64);

/// What the digest reports: calls and bookings in `yesterday`, confirmed visits in `today`,
/// and leads still waiting for a call back, contacted since `since`.
pub fn facts(
    conn: &Connection,
    scope: &OrgScope,
    tz: Tz,
    yesterday: Span,
    today: Span,
    since: i64,
) -> AppResult<Facts> {
    let org = scope.org_id();
    let calls_yesterday = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM calls WHERE org_id = ?1 AND occurred_at >= ?2 AND occurred_at < ?3",
        )?
        .query_row(params![org, yesterday.0, yesterday.1], |r| r.get(0))?;
    let bookings_yesterday = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM appointments WHERE org_id = ?1 AND created_at >= ?2
               AND created_at < ?3 AND status NOT IN ('held', 'expired')",
        )?
        .query_row(params![org, yesterday.0, yesterday.1], |r| r.get(0))?;
    let today = conn
        .prepare_cached(
            "SELECT a.start_at, s.name, p.name FROM appointments a
             JOIN services s ON s.id = a.service_id AND s.org_id = a.org_id
             JOIN providers p ON p.id = a.provider_id AND p.org_id = a.org_id
             WHERE a.org_id = ?1 AND a.status = 'confirmed' AND a.start_at >= ?2 AND a.start_at < ?3
             ORDER BY a.start_at, a.id",
        )?
        .query_map(params![org, today.0, today.1], |r| {
            let start: i64 = r.get(0)?;
            let local = local_datetime(
                DateTime::<Utc>::from_timestamp(start, 0).unwrap_or_default(),
                tz,
            );
            Ok(Visit {
                time: spoken_time(local.time()),
                service: r.get(1)?,
                practitioner: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let open_leads = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM contacts WHERE org_id = ?1 AND lead_status = 'new'
               AND lead_tier IS NOT NULL AND last_contacted_at >= ?2",
        )?
        .query_row(params![org, since], |r| r.get(0))?;
    Ok(Facts {
        calls_yesterday,
        bookings_yesterday,
        today,
        open_leads,
    })
}

/// Queues the digest for `date` to every active owner and marks the day sent. Returns how
/// many were queued (none twice for one owner and day).
pub fn queue(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    date: NaiveDate,
    words: &Composed,
    now: i64,
) -> AppResult<usize> {
    let day = date.format("%Y-%m-%d").to_string();
    let owners: Vec<(i64, String)> = tx
        .prepare_cached(
            "SELECT id, email FROM staff
             WHERE org_id = ?1 AND role = 'owner' AND disabled = 0 ORDER BY id",
        )?
        .query_map([scope.org_id()], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut queued = 0;
    for (id, address) in owners {
        let key = format!("digest:{day}:{id}");
        let row = email_outbox::enqueue(
            tx,
            scope,
            &NewEmail {
                to: &address,
                purpose: Purpose::Digest,
                subject: &words.subject,
                text: &words.text,
                html: &words.html,
                calendar: None,
                contact_id: None,
                appointment_id: None,
                call_id: None,
                dedupe_key: Some(&key),
                send_after: now,
            },
            now,
        )?;
        queued += usize::from(row.is_some());
    }
    tx.prepare_cached("UPDATE email_settings SET digest_sent_on = ?2 WHERE org_id = ?1")?
        .execute(params![scope.org_id(), day])?;
    Ok(queued)
}
