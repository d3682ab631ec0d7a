//! Calls: one row per Vapi call with everything its events told us (see `domain::calls` for how
//! they combine), what it came to (booked, value, lead score), and the call-backs staff start.

use super::OrgScope;
use crate::domain::calls::{CallFacts, CallStatus, CallType, RecordingStatus, Transfer};
use crate::domain::lead::{Sentiment, Tier};
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

/// What a finished call came to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub booked: bool,
    pub appointment_id: Option<i64>,
    pub value_cents: i64,
    /// Services of interest, in order of mention.
    pub services: Vec<String>,
    pub lead_score: Option<u8>,
    pub lead_tier: Option<Tier>,
    /// The score's factors, as JSON, so staff can see why.
    pub score_json: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CallRow {
    pub id: i64,
    pub vapi_call_id: Option<String>,
    pub facts: CallFacts,
    pub contact_id: Option<i64>,
    pub outcome: Outcome,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, vapi_call_id, type, status, customer_number, clinic_number, contact_id,
     started_at, ended_at, duration_ms, ended_reason, cost_micros, summary, transcript,
     messages_json, recording_url, stereo_recording_url, recording_status, transfer_to,
     transfer_at, transfer_reason, sentiment, sentiment_score, booked, appointment_id,
     value_cents, services_json, lead_score, lead_tier, score_json, structured_data_json,
     success_evaluation, report_received_at, created_at, updated_at";

/// [`COLUMNS`] without the large text, for lists.
pub(super) const LIST_COLUMNS: &str =
    "id, vapi_call_id, type, status, customer_number, clinic_number, contact_id,
     started_at, ended_at, duration_ms, ended_reason, cost_micros, summary, NULL, NULL,
     recording_url, stereo_recording_url, recording_status, transfer_to, transfer_at,
     transfer_reason, sentiment, sentiment_score, booked, appointment_id, value_cents,
     services_json, lead_score, lead_tier, NULL, NULL, success_evaluation, report_received_at,
     created_at, updated_at";

pub(super) fn from_row(r: &Row<'_>) -> rusqlite::Result<CallRow> {
    let text = |i: usize| r.get::<_, Option<String>>(i);
    let transfer = text(18)?.map(|to| -> rusqlite::Result<Transfer> {
        Ok(Transfer {
            to,
            at: r.get(19)?,
            reason: r.get(20)?,
        })
    });
    let services: String = r.get(26)?;
    Ok(CallRow {
        id: r.get(0)?,
        vapi_call_id: text(1)?,
        facts: CallFacts {
            call_type: text(2)?.as_deref().and_then(CallType::parse),
            status: text(3)?.as_deref().and_then(CallStatus::parse),
            customer_number: text(4)?,
            clinic_number: text(5)?,
            started_at: r.get(7)?,
            ended_at: r.get(8)?,
            duration_ms: r.get(9)?,
            ended_reason: text(10)?,
            cost_micros: r.get(11)?,
            summary: text(12)?,
            transcript: text(13)?,
            messages_json: text(14)?,
            recording_url: text(15)?,
            stereo_recording_url: text(16)?,
            recording_status: text(17)?.as_deref().and_then(RecordingStatus::parse),
            transfer: transfer.transpose()?,
            sentiment: text(21)?.as_deref().and_then(Sentiment::from_label),
            sentiment_score: r.get(22)?,
            structured_data_json: text(30)?,
            success_evaluation: text(31)?,
            report_received: r.get::<_, Option<i64>>(32)?.is_some(),
        },
        contact_id: r.get(6)?,
        outcome: Outcome {
            booked: r.get(23)?,
            appointment_id: r.get(24)?,
            value_cents: r.get(25)?,
            services: serde_json::from_str(&services).unwrap_or_default(),
            lead_score: r.get(27)?,
            lead_tier: text(28)?.as_deref().and_then(Tier::parse),
            score_json: text(29)?,
        },
        created_at: r.get(33)?,
        updated_at: r.get(34)?,
    })
}

pub fn find_by_vapi_id(
    conn: &Connection,
    scope: &OrgScope,
    vapi_call_id: &str,
) -> AppResult<Option<CallRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM calls WHERE org_id = ?1 AND vapi_call_id = ?2"
        ))?
        .query_row(params![scope.org_id(), vapi_call_id], from_row)
        .optional()?)
}

pub fn get(conn: &Connection, scope: &OrgScope, id: i64) -> AppResult<CallRow> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM calls WHERE org_id = ?1 AND id = ?2"),
        params![scope.org_id(), id],
        from_row,
    )
    .optional()?
    .ok_or(AppError::NotFound)
}

/// Writes the merged facts of a call (creating its row on first sight), links its contact
/// when one is known, and, for an ended call, what it came to. One statement, so a report's
/// large text is written once. Returns the row id.
pub fn save(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    vapi_call_id: &str,
    f: &CallFacts,
    contact_id: Option<i64>,
    outcome: Option<&Outcome>,
    now: i64,
) -> AppResult<i64> {
    let status = f.status.unwrap_or(CallStatus::Queued).as_str();
    let call_type = f.call_type.map_or("unknown", CallType::as_str);
    let transfer = f.transfer.as_ref();
    let services = match outcome {
        Some(o) => serde_json::to_string(&o.services).map_err(AppError::internal)?,
        None => "[]".to_string(),
    };
    Ok(tx.prepare_cached("INSERT INTO calls (org_id, vapi_call_id, type, status, customer_number, clinic_number,
             contact_id, started_at, ended_at, duration_ms, ended_reason, cost_micros, summary,
             transcript, messages_json, recording_url, stereo_recording_url, recording_status,
             transfer_to, transfer_at, transfer_reason, sentiment, sentiment_score,
             structured_data_json, success_evaluation, report_received_at, created_at, updated_at,
             booked, appointment_id, value_cents, services_json, lead_score, lead_tier, score_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20, ?21, ?22, ?23, ?24, ?25, CASE WHEN ?26 THEN ?27 END, ?27, ?27,
                 COALESCE(?29, 0), ?30, COALESCE(?31, 0), ?32, ?33, ?34, ?35)
         ON CONFLICT (org_id, vapi_call_id) DO UPDATE SET
             type = excluded.type, status = excluded.status,
             customer_number = excluded.customer_number, clinic_number = excluded.clinic_number,
             contact_id = COALESCE(calls.contact_id, excluded.contact_id),
             started_at = excluded.started_at, ended_at = excluded.ended_at,
             duration_ms = excluded.duration_ms, ended_reason = excluded.ended_reason,
             cost_micros = excluded.cost_micros, summary = excluded.summary,
             transcript = excluded.transcript, messages_json = excluded.messages_json,
             recording_url = excluded.recording_url,
             stereo_recording_url = excluded.stereo_recording_url,
             recording_status = excluded.recording_status, transfer_to = excluded.transfer_to,
             transfer_at = excluded.transfer_at, transfer_reason = excluded.transfer_reason,
             sentiment = excluded.sentiment, sentiment_score = excluded.sentiment_score,
             structured_data_json = excluded.structured_data_json,
             success_evaluation = excluded.success_evaluation,
             report_received_at = COALESCE(calls.report_received_at, excluded.report_received_at),
             updated_at = excluded.updated_at,
             booked = CASE WHEN ?28 THEN excluded.booked ELSE calls.booked END,
             appointment_id = CASE WHEN ?28 THEN excluded.appointment_id ELSE calls.appointment_id END,
             value_cents = CASE WHEN ?28 THEN excluded.value_cents ELSE calls.value_cents END,
             services_json = CASE WHEN ?28 THEN excluded.services_json ELSE calls.services_json END,
             lead_score = CASE WHEN ?28 THEN excluded.lead_score ELSE calls.lead_score END,
             lead_tier = CASE WHEN ?28 THEN excluded.lead_tier ELSE calls.lead_tier END,
             score_json = CASE WHEN ?28 THEN excluded.score_json ELSE calls.score_json END
         RETURNING id")?
        .query_row(params![
            scope.org_id(),
            vapi_call_id,
            call_type,
            status,
            f.customer_number,
            f.clinic_number,
            contact_id,
            f.started_at,
            f.ended_at,
            f.duration_ms,
            f.ended_reason,
            f.cost_micros,
            f.summary,
            f.transcript,
            f.messages_json,
            f.recording_url,
            f.stereo_recording_url,
            f.recording_status.map(RecordingStatus::as_str),
            transfer.map(|t| t.to.as_str()),
            transfer.and_then(|t| t.at),
            transfer.and_then(|t| t.reason.as_deref()),
            f.sentiment.map(Sentiment::as_str),
            f.sentiment_score,
            f.structured_data_json,
            f.success_evaluation,
            f.report_received,
            now,
            outcome.is_some(),
            outcome.map(|o| o.booked),
            outcome.and_then(|o| o.appointment_id),
            outcome.map(|o| o.value_cents),
            services,
            outcome.and_then(|o| o.lead_score),
            outcome.and_then(|o| o.lead_tier.map(Tier::as_str)),
            outcome.and_then(|o| o.score_json.as_deref()),
        ],
        |r| r.get(0),
    )?)
}

/// The live appointment this call booked, if any: (appointment id, service id).
pub fn booked_appointment(
    conn: &Connection,
    scope: &OrgScope,
    vapi_call_id: &str,
) -> AppResult<Option<(i64, i64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, service_id FROM appointments
             WHERE org_id = ?1 AND call_id = ?2 AND status IN ('confirmed', 'completed', 'no_show')
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![scope.org_id(), vapi_call_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// Whether the contact made an inbound call before `occurred_at`, other than the call in row
/// `this_row` (a returning caller).
pub fn contact_called_before(
    conn: &Connection,
    scope: &OrgScope,
    contact_id: i64,
    this_row: Option<i64>,
    occurred_at: i64,
) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM calls WHERE org_id = ?1 AND contact_id = ?2
             AND id != COALESCE(?3, -1) AND type = 'inbound' AND occurred_at < ?4)",
        )?
        .query_row(
            params![scope.org_id(), contact_id, this_row, occurred_at],
            |r| r.get(0),
        )?)
}

/// A call-back staff asked for, before Vapi has answered: an outbound call, `pending`.
pub fn create_pending_call_back(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    contact_id: i64,
    customer_number: &str,
    now: i64,
) -> AppResult<i64> {
    tx.execute(
        "INSERT INTO calls (org_id, type, status, customer_number, contact_id, created_at, updated_at)
         VALUES (?1, 'outbound', 'pending', ?2, ?3, ?4, ?4)",
        params![scope.org_id(), customer_number, contact_id, now],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Vapi accepted the call-back: the row takes Vapi's call id and status. If Vapi's events for
/// that id arrived first and made their own row, that row takes over the contact and the
/// pending row goes. Returns the surviving row id.
pub fn attach_vapi_id(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    vapi_call_id: &str,
    status: CallStatus,
    now: i64,
) -> AppResult<i64> {
    if let Some(existing) = find_by_vapi_id(tx, scope, vapi_call_id)? {
        let pending = get(tx, scope, id)?;
        tx.execute(
            "UPDATE calls SET contact_id = COALESCE(contact_id, ?3), type = 'outbound',
                              customer_number = COALESCE(customer_number, ?4), updated_at = ?5
             WHERE org_id = ?1 AND id = ?2",
            params![
                scope.org_id(),
                existing.id,
                pending.contact_id,
                pending.facts.customer_number,
                now
            ],
        )?;
        tx.execute(
            "DELETE FROM calls WHERE org_id = ?1 AND id = ?2",
            params![scope.org_id(), id],
        )?;
        return Ok(existing.id);
    }
    let current = get(tx, scope, id)?
        .facts
        .status
        .unwrap_or(CallStatus::Pending);
    tx.execute(
        "UPDATE calls SET vapi_call_id = ?3, status = ?4, updated_at = ?5
         WHERE org_id = ?1 AND id = ?2",
        params![
            scope.org_id(),
            id,
            vapi_call_id,
            current.advance(status).as_str(),
            now
        ],
    )?;
    Ok(id)
}

/// Vapi refused (or could not be reached for) a call-back.
pub fn mark_call_back_failed(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    id: i64,
    reason: &str,
    now: i64,
) -> AppResult<()> {
    tx.execute(
        "UPDATE calls SET status = 'failed', ended_reason = ?3, ended_at = ?4, updated_at = ?4
         WHERE org_id = ?1 AND id = ?2",
        params![scope.org_id(), id, reason, now],
    )?;
    Ok(())
}

pub use super::call_list::{list, CallFilter};

/// The figures behind the dashboard's call statistics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallStats {
    pub pipeline_value_cents: i64,
    pub inbound_calls: i64,
    pub booked_inbound_calls: i64,
    pub average_duration_secs: Option<f64>,
    pub calls_today: i64,
    pub calls_this_week: i64,
}

/// `today_start`/`week_start`: unix seconds of the clinic's local midnight today and on this
/// week's Monday. The all-time figures come from `call_totals` (kept by triggers, migration
/// 0011); today and this week are a range of the `calls_org_figures` index
/// (`COALESCE(started_at, created_at)` is `occurred_at` spelled out, so the index answers alone).
pub fn stats(
    conn: &Connection,
    scope: &OrgScope,
    today_start: i64,
    week_start: i64,
) -> AppResult<CallStats> {
    let (pipeline_value_cents, inbound_calls, booked_inbound_calls, average_duration_secs) = conn
        .prepare_cached(
            "SELECT value_cents, inbound, booked_inbound,
                    duration_ms_sum * 1.0 / NULLIF(durations, 0) / 1000.0
             FROM call_totals WHERE org_id = ?1",
        )?
        .query_row(params![scope.org_id()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?
        .unwrap_or((0, 0, 0, None));
    let (calls_today, calls_this_week) = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(COALESCE(started_at, created_at) >= ?2), 0), COUNT(*)
             FROM calls WHERE org_id = ?1 AND COALESCE(started_at, created_at) >= ?3",
        )?
        .query_row(params![scope.org_id(), today_start, week_start], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok(CallStats {
        pipeline_value_cents,
        inbound_calls,
        booked_inbound_calls,
        average_duration_secs,
        calls_today,
        calls_this_week,
    })
}
