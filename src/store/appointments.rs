//! Appointments and holds (a hold is an appointment in status `held` with an expiry).
//! Every write here runs inside the caller's `BEGIN IMMEDIATE` transaction: stale holds are
//! expired, the slot is checked for overlap (buffers included) against live holds and
//! confirmed appointments, then the row is written. The partial unique index
//! `appointments_live_slot` is the second line of defence.

use super::OrgScope;
use crate::domain::schedule::Busy;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row, Transaction};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Appointment {
    pub id: i64,
    pub provider_id: i64,
    pub service_id: i64,
    pub contact_id: i64,
    pub start_at: i64,
    pub end_at: i64,
    pub status: AppointmentStatus,
    pub hold_expires_at: Option<i64>,
    pub verified_at: Option<i64>,
    pub source: String,
    pub call_id: Option<String>,
    pub notes: Option<String>,
}

impl Appointment {
    pub fn start(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.start_at, 0).unwrap_or_default()
    }
}

/// The longest an appointment can last (services are capped at 720 minutes). It bounds the
/// overlap queries from below so they read only nearby rows.
const MAX_LENGTH_SECS: i64 = 720 * 60;

/// The columns [`from_row`] reads, as a literal so queries can be `concat!`ed into constants
/// (constant SQL is what lets the statement cache find them again).
macro_rules! columns {
    () => {
        "id, provider_id, service_id, contact_id, start_at, end_at, status,
         hold_expires_at, verified_at, source, call_id, notes"
    };
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Appointment> {
    Ok(Appointment {
        id: r.get(0)?,
        provider_id: r.get(1)?,
        service_id: r.get(2)?,
        contact_id: r.get(3)?,
        start_at: r.get(4)?,
        end_at: r.get(5)?,
        status: r.get(6)?,
        hold_expires_at: r.get(7)?,
        verified_at: r.get(8)?,
        source: r.get(9)?,
        call_id: r.get(10)?,
        notes: r.get(11)?,
    })
}

super::states::text_state! {
    /// Where an appointment stands. A hold is `Held` with an expiry; lapsed holds become
    /// `Expired` and block nothing.
    pub enum AppointmentStatus {
        Held = "held",
        Confirmed = "confirmed",
        Cancelled = "cancelled",
        Completed = "completed",
        NoShow = "no_show",
        Expired = "expired",
    }
}

impl AppointmentStatus {
    /// Booked and still ahead of its outcome: what reminders, reschedules and calendars act on.
    pub fn is_live(self) -> bool {
        self == AppointmentStatus::Confirmed
    }

    /// An outcome staff may record.
    pub fn parse_outcome(s: &str) -> Option<AppointmentStatus> {
        match AppointmentStatus::parse(s)? {
            o @ (AppointmentStatus::Completed | AppointmentStatus::NoShow) => Some(o),
            _ => None,
        }
    }
}

impl Appointment {
    /// A hold that has not lapsed at `now`.
    pub fn is_live_hold(&self, now: i64) -> bool {
        self.status == AppointmentStatus::Held && self.hold_expires_at.is_some_and(|e| e > now)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    PhoneAi,
    Staff,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::PhoneAi => "phone_ai",
            Source::Staff => "staff",
        }
    }
}

/// A slot someone wants: the first of `provider_ids` that is free gets it.
pub struct SlotRequest<'a> {
    pub provider_ids: &'a [i64],
    pub service_id: i64,
    pub duration_minutes: u32,
    pub contact_id: i64,
    pub start_at: i64,
    pub buffer_minutes: u32,
    pub source: Source,
    pub call_id: Option<&'a str>,
    pub notes: Option<&'a str>,
}

/// What happened to a slot request.
#[derive(Debug)]
pub enum Placed {
    Placed(Appointment),
    /// Someone else holds or booked an overlapping time.
    Taken,
}

/// Why a hold could not be confirmed.
#[derive(Debug)]
pub enum ConfirmRefusal {
    NotFound,
    Expired,
    NotActive(AppointmentStatus),
}

/// Marks holds past their expiry as expired, so they neither block nor can be confirmed.
pub fn expire_stale_holds(tx: &Transaction<'_>, scope: &OrgScope, now: i64) -> AppResult<usize> {
    // Runs before every hold and booking, and there is rarely anything to expire: a read on
    // the held-expiry index is much cheaper than an UPDATE that opens every index to do nothing.
    let any: bool = tx
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM appointments
             WHERE org_id = ?1 AND status = 'held' AND hold_expires_at <= ?2)",
        )?
        .query_row(params![scope.org_id(), now], |r| r.get(0))?;
    if !any {
        return Ok(0);
    }
    Ok(tx
        .prepare_cached(
            "UPDATE appointments SET status = 'expired', updated_at = ?2
             WHERE org_id = ?1 AND status = 'held' AND hold_expires_at <= ?2",
        )?
        .execute(params![scope.org_id(), now])?)
}

/// Live (held and unexpired, or confirmed) bookings of one calendar within a range.
pub fn busy_between(
    conn: &Connection,
    scope: &OrgScope,
    provider_id: i64,
    from: i64,
    to: i64,
    now: i64,
) -> AppResult<Vec<Busy>> {
    let mut stmt = conn.prepare_cached(
        "SELECT start_at, end_at FROM appointments
         WHERE org_id = ?1 AND provider_id = ?2 AND status IN ('held', 'confirmed')
           AND start_at < ?4 AND start_at > ?3 - ?6 AND end_at > ?3
           AND (status = 'confirmed' OR hold_expires_at > ?5)",
    )?;
    let rows = stmt.query_map(
        params![scope.org_id(), provider_id, from, to, now, MAX_LENGTH_SECS],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (s, e) = row?;
        if let (Some(start), Some(end)) = (
            DateTime::from_timestamp(s, 0),
            DateTime::from_timestamp(e, 0),
        ) {
            out.push(Busy { start, end });
        }
    }
    Ok(out)
}

fn overlaps_live(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    provider_id: i64,
    start: i64,
    end: i64,
    buffer_secs: i64,
    exclude_id: i64,
) -> AppResult<bool> {
    // Same rule as domain::schedule::conflicts: a.start < b.end + buffer && b.start < a.end + buffer.
    // Holds past expiry were marked expired at the start of this transaction.
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM appointments
             WHERE org_id = ?1 AND provider_id = ?2 AND status IN ('held', 'confirmed')
               AND start_at < ?4 + ?5 AND start_at > ?3 - ?5 - ?7
               AND end_at + ?5 > ?3 AND id != ?6)",
        )?
        .query_row(
            params![
                scope.org_id(),
                provider_id,
                start,
                end,
                buffer_secs,
                exclude_id,
                MAX_LENGTH_SECS
            ],
            |r| r.get(0),
        )?)
}

/// The live-slot unique index refused the row (someone took the slot); any other constraint
/// failing is an error, never "taken".
fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == ErrorCode::ConstraintViolation
            && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

/// Places a hold (`hold_minutes` > 0) or a confirmed booking (`None`) on the first free
/// calendar.
pub fn place(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    req: &SlotRequest<'_>,
    hold_minutes: Option<u32>,
    now: i64,
) -> AppResult<Placed> {
    expire_stale_holds(tx, scope, now)?;
    let end = req.start_at + i64::from(req.duration_minutes) * 60;
    let buffer = i64::from(req.buffer_minutes) * 60;
    let (status, expires) = match hold_minutes {
        Some(m) => (AppointmentStatus::Held, Some(now + i64::from(m) * 60)),
        None => (AppointmentStatus::Confirmed, None),
    };
    for &provider_id in req.provider_ids {
        if overlaps_live(tx, scope, provider_id, req.start_at, end, buffer, 0)? {
            continue;
        }
        let inserted = tx
            .prepare_cached(
                "INSERT INTO appointments (org_id, provider_id, service_id, contact_id, start_at, end_at,
                     status, hold_expires_at, source, call_id, notes, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
            )?
            .execute(params![
                scope.org_id(),
                provider_id,
                req.service_id,
                req.contact_id,
                req.start_at,
                end,
                status,
                expires,
                req.source.as_str(),
                req.call_id,
                req.notes,
                now
            ]);
        match inserted {
            Ok(_) => return Ok(Placed::Placed(get(tx, scope, tx.last_insert_rowid())?)),
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Placed::Taken)
}

/// Turns a live hold into a confirmed appointment. Confirming an already confirmed
/// appointment returns it unchanged.
pub fn confirm_hold(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    hold_id: i64,
    now: i64,
) -> AppResult<Result<Appointment, ConfirmRefusal>> {
    expire_stale_holds(tx, scope, now)?;
    let Some(appt) = find(tx, scope, hold_id)? else {
        return Ok(Err(ConfirmRefusal::NotFound));
    };
    match appt.status {
        AppointmentStatus::Held => {
            tx.prepare_cached(
                "UPDATE appointments SET status = 'confirmed', hold_expires_at = NULL, updated_at = ?3
                 WHERE org_id = ?1 AND id = ?2",
            )?
            .execute(params![scope.org_id(), hold_id, now])?;
            Ok(Ok(get(tx, scope, hold_id)?))
        }
        AppointmentStatus::Confirmed => Ok(Ok(appt)),
        AppointmentStatus::Expired => Ok(Err(ConfirmRefusal::Expired)),
        other => Ok(Err(ConfirmRefusal::NotActive(other))),
    }
}

/// Moves a confirmed appointment to a new start (same duration, same or another calendar),
/// freeing the old time in the same transaction.
pub fn reschedule(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    provider_ids: &[i64],
    new_start: i64,
    buffer_minutes: u32,
    now: i64,
) -> AppResult<Placed> {
    expire_stale_holds(tx, scope, now)?;
    let appt = get(tx, scope, id)?;
    if appt.status != AppointmentStatus::Confirmed {
        return Err(AppError::Conflict(format!(
            "appointment {id} is {} and cannot be moved",
            appt.status
        )));
    }
    let new_end = new_start + (appt.end_at - appt.start_at);
    let buffer = i64::from(buffer_minutes) * 60;
    let mut candidates = vec![appt.provider_id];
    candidates.extend(
        provider_ids
            .iter()
            .copied()
            .filter(|p| *p != appt.provider_id),
    );
    for provider_id in candidates {
        if overlaps_live(tx, scope, provider_id, new_start, new_end, buffer, id)? {
            continue;
        }
        let updated = tx.execute(
            "UPDATE appointments SET provider_id = ?3, start_at = ?4, end_at = ?5, updated_at = ?6
             WHERE org_id = ?1 AND id = ?2",
            params![scope.org_id(), id, provider_id, new_start, new_end, now],
        );
        match updated {
            Ok(_) => return Ok(Placed::Placed(get(tx, scope, id)?)),
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Placed::Taken)
}

/// Cancels a confirmed appointment or releases a hold.
pub fn cancel(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    reason: Option<&str>,
    now: i64,
) -> AppResult<Appointment> {
    let appt = get(tx, scope, id)?;
    if !matches!(
        appt.status,
        AppointmentStatus::Confirmed | AppointmentStatus::Held
    ) {
        return Err(AppError::Conflict(format!(
            "appointment {id} is already {}",
            appt.status
        )));
    }
    tx.execute(
        "UPDATE appointments SET status = 'cancelled', cancel_reason = ?3, updated_at = ?4
         WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, reason, now],
    )?;
    get(tx, scope, id)
}

pub fn find(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<Option<Appointment>> {
    Ok(conn
        .prepare_cached(concat!(
            "SELECT ",
            columns!(),
            " FROM appointments WHERE org_id = ?1 AND id = ?2"
        ))?
        .query_row(params![scope.org_id(), id], from_row)
        .optional()?)
}

pub fn get(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<Appointment> {
    find(conn, scope, id)?.ok_or(AppError::NotFound)
}

/// A contact's confirmed appointments starting in `[from, to)`, earliest first.
pub fn confirmed_for_contact(
    conn: &Connection,
    scope: &OrgScope,
    contact_id: i64,
    from: i64,
    to: i64,
) -> AppResult<Vec<Appointment>> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT ",
        columns!(),
        " FROM appointments
         WHERE org_id = ?1 AND contact_id = ?2 AND status = 'confirmed' AND start_at >= ?3 AND start_at < ?4
         ORDER BY start_at"
    ))?;
    let rows = stmt.query_map(params![scope.org_id(), contact_id, from, to], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// An appointment with the names staff read beside it, loaded in one query.
#[derive(Debug, Clone, Serialize)]
pub struct AppointmentView {
    #[serde(flatten)]
    pub appointment: Appointment,
    pub contact_name: Option<String>,
    pub contact_phone: String,
    pub service_name: String,
    pub provider_name: String,
}

fn view_select(filter: &str) -> String {
    let cols = columns!()
        .split(',')
        .map(|c| format!("a.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {cols}, c.name, c.phone, s.name, p.name
         FROM appointments a
         JOIN contacts c ON c.id = a.contact_id AND c.org_id = a.org_id
         JOIN services s ON s.id = a.service_id AND s.org_id = a.org_id
         JOIN providers p ON p.id = a.provider_id AND p.org_id = a.org_id
         WHERE a.org_id = ?1 AND {filter}"
    )
}

fn view_row(r: &Row<'_>) -> rusqlite::Result<AppointmentView> {
    Ok(AppointmentView {
        appointment: from_row(r)?,
        contact_name: r.get(12)?,
        contact_phone: r.get(13)?,
        service_name: r.get(14)?,
        provider_name: r.get(15)?,
    })
}

/// The org's appointments starting in `[from, to)`, earliest first; `status` narrows them.
pub fn list_between(
    conn: &Connection,
    scope: &OrgScope,
    from: i64,
    to: i64,
    status: Option<AppointmentStatus>,
    limit: i64,
) -> AppResult<Vec<AppointmentView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{} ORDER BY a.start_at, a.id LIMIT ?5",
        view_select(
            "a.start_at >= ?2 AND a.start_at < ?3 AND (?4 IS NULL OR a.status = ?4)
             AND a.status <> 'expired'"
        )
    ))?;
    let rows = stmt.query_map(params![scope.org_id(), from, to, status, limit], view_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One appointment of the org with its names.
pub fn view(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<AppointmentView> {
    conn.query_row(
        &view_select("a.id = ?2"),
        params![scope.org_id(), id],
        view_row,
    )
    .optional()?
    .ok_or(AppError::NotFound)
}

/// Records how a past confirmed appointment went: `completed` or `no_show`.
pub fn set_outcome(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    outcome: &str,
    now: i64,
) -> AppResult<Appointment> {
    let Some(outcome) = AppointmentStatus::parse_outcome(outcome) else {
        return Err(AppError::Validation(format!(
            "“{outcome}” is not an outcome; use completed or no_show"
        )));
    };
    let appt = get(tx, scope, id)?;
    if !matches!(
        appt.status,
        AppointmentStatus::Confirmed | AppointmentStatus::Completed | AppointmentStatus::NoShow
    ) {
        return Err(AppError::Conflict(format!(
            "appointment {id} is {} and has no outcome to record",
            appt.status
        )));
    }
    tx.execute(
        "UPDATE appointments SET status = ?3, updated_at = ?4 WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, outcome, now],
    )?;
    get(tx, scope, id)
}

/// A contact's appointments with their names, newest first (holds that lapsed left out).
pub fn list_for_contact(
    conn: &Connection,
    scope: &OrgScope,
    contact_id: i64,
    limit: i64,
) -> AppResult<Vec<AppointmentView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{} ORDER BY a.start_at DESC, a.id DESC LIMIT ?3",
        view_select("a.contact_id = ?2 AND a.status <> 'expired'")
    ))?;
    let rows = stmt.query_map(params![scope.org_id(), contact_id, limit], view_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One calendar's appointments starting in `[from, to)`, earliest first (expired holds left out).
pub fn list_for_provider(
    conn: &Connection,
    scope: &OrgScope,
    provider_id: i64,
    from: i64,
    to: i64,
    limit: i64,
) -> AppResult<Vec<AppointmentView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{} ORDER BY a.start_at, a.id LIMIT ?5",
        view_select(
            "a.provider_id = ?2 AND a.start_at >= ?3 AND a.start_at < ?4
             AND a.status IN ('held', 'confirmed', 'cancelled', 'completed', 'no_show')"
        )
    ))?;
    let rows = stmt.query_map(
        params![scope.org_id(), provider_id, from, to, limit],
        view_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Filters for [`page`]; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct AppointmentFilter {
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
    pub status: Option<AppointmentStatus>,
    pub limit: i64,
    pub offset: i64,
}

const PAGE_FILTER: &str = "(?2 IS NULL OR a.start_at >= ?2) AND (?3 IS NULL OR a.start_at < ?3)
     AND (?4 IS NULL OR a.status = ?4) AND a.status <> 'expired'";

/// One page of the org's appointments matching `f`, earliest first; and how many match in all.
pub fn page(
    conn: &Connection,
    scope: &OrgScope,
    f: &AppointmentFilter,
) -> AppResult<(Vec<AppointmentView>, i64)> {
    let mut stmt = conn.prepare_cached(&format!(
        "{} ORDER BY a.start_at, a.id LIMIT ?5 OFFSET ?6",
        view_select(PAGE_FILTER)
    ))?;
    let rows = stmt
        .query_map(
            params![scope.org_id(), f.from, f.to, f.status, f.limit, f.offset],
            view_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let total = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM appointments a WHERE a.org_id = ?1 AND {PAGE_FILTER}"
        ))?
        .query_row(params![scope.org_id(), f.from, f.to, f.status], |r| {
            r.get(0)
        })?;
    Ok((rows, total))
}
