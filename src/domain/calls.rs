//! The rules of a phone call's record, whatever order its events arrive in.
//!
//! * **Status only moves forward**: pending → scheduled → queued → ringing → in-progress →
//!   forwarding → ended. `failed` (a call-back Vapi refused) is as final as `ended`. A late or
//!   repeated event never moves a call back.
//! * **Which value wins** when two events describe the same field ([`merge`]): the end-of-call
//!   report is the authority, so each field it carries replaces what was known; every other
//!   event only fills fields that are still empty (a live snapshot may be stale).
//! * **Duration**: the report's own duration fields (seconds, else milliseconds, else minutes),
//!   else end − start.
//! * **Recording status**: `completed` once a recording URL is known; `failed` when the report
//!   came without one (recording off in Vapi, or it failed); `processing` between the call's end
//!   and the report; `pending` while the call is live.
//! * **Lead status** ([`next_lead_status`]): booked when the call produced an appointment; lost
//!   when the caller wanted to book and did not (a booked patient stays booked); otherwise a new
//!   contact becomes contacted.
//! * **Pipeline value** ([`pipeline_value`]): the catalogue price of every service the caller
//!   mentioned (each service once; matching follows `catalog::mentioned`), plus the booked
//!   service if the caller never named it. Only the caller's words count, so the assistant
//!   reading out the menu adds nothing.
//! * **Transfers** ([`plan_transfer`]): during opening hours to the clinic's transfer number;
//!   after hours (or with no transfer number) to the fallback number; with neither, the caller
//!   is told so.

use super::lead::Sentiment;
use super::schedule::WeeklyHours;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CallStatus {
    Pending,
    Scheduled,
    Queued,
    Ringing,
    InProgress,
    Forwarding,
    Ended,
    Failed,
}

impl CallStatus {
    /// Vapi's status names, plus our own `pending` and `failed`. Anything else is `None`.
    pub fn parse(s: &str) -> Option<CallStatus> {
        Some(match s.trim() {
            "pending" => CallStatus::Pending,
            "scheduled" => CallStatus::Scheduled,
            "queued" => CallStatus::Queued,
            "ringing" => CallStatus::Ringing,
            "in-progress" => CallStatus::InProgress,
            "forwarding" => CallStatus::Forwarding,
            "ended" => CallStatus::Ended,
            "failed" => CallStatus::Failed,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Pending => "pending",
            CallStatus::Scheduled => "scheduled",
            CallStatus::Queued => "queued",
            CallStatus::Ringing => "ringing",
            CallStatus::InProgress => "in-progress",
            CallStatus::Forwarding => "forwarding",
            CallStatus::Ended => "ended",
            CallStatus::Failed => "failed",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, CallStatus::Ended | CallStatus::Failed)
    }

    /// The later of two statuses; between the two final ones the first stays.
    pub fn advance(self, to: CallStatus) -> CallStatus {
        if self.is_final() || to <= self {
            self
        } else {
            to
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallType {
    Inbound,
    Outbound,
    Web,
}

impl CallType {
    /// Vapi's `call.type`: `inboundPhoneCall`, `outboundPhoneCall`, `webCall`,
    /// `vapi.websocketCall`.
    pub fn from_vapi(s: &str) -> Option<CallType> {
        match s.trim() {
            "inboundPhoneCall" => Some(CallType::Inbound),
            "outboundPhoneCall" => Some(CallType::Outbound),
            "webCall" | "vapi.websocketCall" => Some(CallType::Web),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Option<CallType> {
        match s {
            "inbound" => Some(CallType::Inbound),
            "outbound" => Some(CallType::Outbound),
            "web" => Some(CallType::Web),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CallType::Inbound => "inbound",
            CallType::Outbound => "outbound",
            CallType::Web => "web",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingStatus {
    Pending,
    Processing,
    Completed,
    Failed,
}

impl RecordingStatus {
    pub fn parse(s: &str) -> Option<RecordingStatus> {
        match s {
            "pending" => Some(RecordingStatus::Pending),
            "processing" => Some(RecordingStatus::Processing),
            "completed" => Some(RecordingStatus::Completed),
            "failed" => Some(RecordingStatus::Failed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecordingStatus::Pending => "pending",
            RecordingStatus::Processing => "processing",
            RecordingStatus::Completed => "completed",
            RecordingStatus::Failed => "failed",
        }
    }
}

/// Where a call was transferred, when and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    /// An E.164 number or a SIP URI.
    pub to: String,
    pub at: Option<i64>,
    pub reason: Option<String>,
}

/// What is known about one call: the stored record, or what one event says. Instants are unix
/// seconds; text is already redacted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallFacts {
    pub call_type: Option<CallType>,
    pub status: Option<CallStatus>,
    pub customer_number: Option<String>,
    pub clinic_number: Option<String>,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub ended_reason: Option<String>,
    pub cost_micros: Option<i64>,
    pub summary: Option<String>,
    pub transcript: Option<String>,
    pub messages_json: Option<String>,
    pub recording_url: Option<String>,
    pub stereo_recording_url: Option<String>,
    pub recording_status: Option<RecordingStatus>,
    pub transfer: Option<Transfer>,
    pub sentiment: Option<Sentiment>,
    pub sentiment_score: Option<f64>,
    pub structured_data_json: Option<String>,
    pub success_evaluation: Option<String>,
    /// Whether the end-of-call report has been seen.
    pub report_received: bool,
}

/// How much an event's word counts (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// The end-of-call report: what it says replaces what was known.
    Report,
    /// Any other event: fills only what is still unknown.
    Live,
}

/// Folds one event's facts into the stored record.
pub fn merge(stored: CallFacts, update: CallFacts, authority: Authority) -> CallFacts {
    fn pick<T>(old: Option<T>, new: Option<T>, authority: Authority) -> Option<T> {
        match authority {
            Authority::Report => new.or(old),
            Authority::Live => old.or(new),
        }
    }
    let status = match (stored.status, update.status) {
        (Some(a), Some(b)) => Some(a.advance(b)),
        (a, b) => a.or(b),
    };
    let mut merged = CallFacts {
        // The type never changes; the first event that knows it wins.
        call_type: stored.call_type.or(update.call_type),
        status,
        customer_number: pick(stored.customer_number, update.customer_number, authority),
        clinic_number: pick(stored.clinic_number, update.clinic_number, authority),
        started_at: pick(stored.started_at, update.started_at, authority),
        ended_at: pick(stored.ended_at, update.ended_at, authority),
        duration_ms: pick(stored.duration_ms, update.duration_ms, authority),
        ended_reason: pick(stored.ended_reason, update.ended_reason, authority),
        cost_micros: pick(stored.cost_micros, update.cost_micros, authority),
        summary: pick(stored.summary, update.summary, authority),
        transcript: pick(stored.transcript, update.transcript, authority),
        messages_json: pick(stored.messages_json, update.messages_json, authority),
        recording_url: pick(stored.recording_url, update.recording_url, authority),
        stereo_recording_url: pick(
            stored.stereo_recording_url,
            update.stereo_recording_url,
            authority,
        ),
        recording_status: None,
        transfer: pick(stored.transfer, update.transfer, authority),
        sentiment: pick(stored.sentiment, update.sentiment, authority),
        sentiment_score: pick(stored.sentiment_score, update.sentiment_score, authority),
        structured_data_json: pick(
            stored.structured_data_json,
            update.structured_data_json,
            authority,
        ),
        success_evaluation: pick(
            stored.success_evaluation,
            update.success_evaluation,
            authority,
        ),
        report_received: stored.report_received
            || update.report_received
            || authority == Authority::Report,
    };
    if merged.duration_ms.is_none() {
        if let (Some(s), Some(e)) = (merged.started_at, merged.ended_at) {
            merged.duration_ms = (e >= s).then(|| (e - s) * 1000);
        }
    }
    merged.recording_status = recording_status(&merged);
    merged
}

/// See the module doc.
pub fn recording_status(facts: &CallFacts) -> Option<RecordingStatus> {
    if facts.recording_url.is_some() || facts.stereo_recording_url.is_some() {
        return Some(RecordingStatus::Completed);
    }
    if facts.report_received {
        return Some(RecordingStatus::Failed);
    }
    match facts.status? {
        CallStatus::Ended => Some(RecordingStatus::Processing),
        CallStatus::InProgress | CallStatus::Forwarding => Some(RecordingStatus::Pending),
        _ => None,
    }
}

/// The report's duration: its seconds, else milliseconds, else minutes field, else end − start
/// (all in milliseconds). Negative or non-finite values are ignored.
pub fn duration_ms(
    seconds: Option<f64>,
    millis: Option<f64>,
    minutes: Option<f64>,
    started_ms: Option<i64>,
    ended_ms: Option<i64>,
) -> Option<i64> {
    let valid = |v: f64| (0.0..1e13).contains(&v);
    seconds
        .filter(|v| valid(*v * 1000.0))
        .map(|v| v * 1000.0)
        .or(millis.filter(|v| valid(*v)))
        .or(minutes
            .filter(|v| valid(*v * 60_000.0))
            .map(|v| v * 60_000.0))
        .map(|ms| ms.round() as i64)
        .or_else(|| match (started_ms, ended_ms) {
            (Some(s), Some(e)) if e >= s => Some(e - s),
            _ => None,
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadStatus {
    New,
    Contacted,
    Booked,
    Lost,
}

impl LeadStatus {
    pub fn parse(s: &str) -> Option<LeadStatus> {
        match s {
            "new" => Some(LeadStatus::New),
            "contacted" => Some(LeadStatus::Contacted),
            "booked" => Some(LeadStatus::Booked),
            "lost" => Some(LeadStatus::Lost),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Contacted => "contacted",
            LeadStatus::Booked => "booked",
            LeadStatus::Lost => "lost",
        }
    }
}

/// A contact's lead status after a call ended (see the module doc).
pub fn next_lead_status(current: LeadStatus, booked: bool, booking_intent: bool) -> LeadStatus {
    match (booked, booking_intent, current) {
        (true, _, _) => LeadStatus::Booked,
        (false, true, LeadStatus::Booked) => LeadStatus::Booked,
        (false, true, _) => LeadStatus::Lost,
        (false, false, LeadStatus::New) => LeadStatus::Contacted,
        (false, false, other) => other,
    }
}

/// A contact's lead status after staff started a call-back: a new lead has now been contacted.
pub fn after_call_back(current: LeadStatus) -> LeadStatus {
    match current {
        LeadStatus::New => LeadStatus::Contacted,
        other => other,
    }
}

/// A priced service as the value rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedService {
    pub name: String,
    pub price_cents: i64,
}

/// The call's value and its services of interest, in order of mention (see the module doc).
pub fn pipeline_value(
    mentioned: &[PricedService],
    booked: Option<&PricedService>,
) -> (i64, Vec<String>) {
    let mut names: Vec<String> = Vec::new();
    let mut value = 0i64;
    for s in mentioned.iter().chain(booked) {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&s.name)) {
            names.push(s.name.clone());
            value = value.saturating_add(s.price_cents.max(0));
        }
    }
    (value, names)
}

/// The caller's side of a plain-text transcript: the lines spoken by `User:`/`Customer:`/
/// `Caller:`. A transcript without speaker labels is returned whole.
pub fn caller_lines(transcript: &str) -> String {
    let mut labelled = false;
    let mut out = String::new();
    for line in transcript.lines() {
        let Some((who, said)) = line.split_once(':') else {
            continue;
        };
        let who = who.trim().to_ascii_lowercase();
        match who.as_str() {
            "user" | "customer" | "caller" => {
                labelled = true;
                out.push_str(said.trim());
                out.push('\n');
            }
            "ai" | "assistant" | "bot" | "agent" => labelled = true,
            _ => {}
        }
    }
    if labelled {
        out
    } else {
        transcript.to_string()
    }
}

/// Whether the clinic is open at `at`: not a closure date, and inside one of the day's periods
/// on the clinic's local clock.
pub fn is_open_at(hours: &WeeklyHours, closures: &[NaiveDate], tz: Tz, at: DateTime<Utc>) -> bool {
    let local = super::format::local_datetime(at, tz);
    if closures.contains(&local.date()) {
        return false;
    }
    let time = local.time();
    hours
        .on(local.weekday())
        .iter()
        .any(|p| p.open <= time && time < p.close)
}

/// The instant the clinic's local day `date` begins (the first valid local time when midnight
/// is skipped by a clock change).
pub fn day_start(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    match super::when::resolve_local(tz, date.and_time(chrono::NaiveTime::MIN)) {
        Ok(at) => at,
        Err(super::when::WhenError::NonexistentLocalTime { next_valid_at, .. }) => next_valid_at,
        Err(_) => date.and_time(chrono::NaiveTime::MIN).and_utc(),
    }
}

/// The starts of the clinic's today and of this week (weeks start on Monday), for "calls today"
/// and "calls this week".
pub fn today_and_week_start(tz: Tz, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let today = super::format::local_datetime(now, tz).date();
    let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
    (day_start(tz, today), day_start(tz, monday))
}

/// Booked calls as a percentage of calls, to one decimal; `None` without calls.
pub fn success_rate_pct(booked: i64, calls: i64) -> Option<f64> {
    (calls > 0).then(|| (booked as f64 * 1000.0 / calls as f64).round() / 10.0)
}

/// What to answer a transfer request with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferPlan {
    To {
        number: String,
        /// Said to the caller before the transfer.
        message: String,
        reason: &'static str,
    },
    /// No transfer; the sentence is said to the caller.
    Refuse(String),
}

pub const TRANSFER_REASON_HOURS: &str = "transfer during opening hours";
pub const TRANSFER_REASON_AFTER_HOURS: &str = "after hours: fallback number";
pub const TRANSFER_REASON_NO_MAIN: &str = "no transfer number set: fallback number";

/// See the module doc.
pub fn plan_transfer(open: bool, transfer: Option<&str>, fallback: Option<&str>) -> TransferPlan {
    match (open, transfer, fallback) {
        (true, Some(main), _) => TransferPlan::To {
            number: main.to_string(),
            message: "Please hold while I transfer you to a member of our team.".into(),
            reason: TRANSFER_REASON_HOURS,
        },
        (false, _, Some(fb)) => TransferPlan::To {
            number: fb.to_string(),
            message: "We're closed right now, so I'm transferring you to our after-hours line."
                .into(),
            reason: TRANSFER_REASON_AFTER_HOURS,
        },
        (true, None, Some(fb)) => TransferPlan::To {
            number: fb.to_string(),
            message: "Please hold while I transfer you.".into(),
            reason: TRANSFER_REASON_NO_MAIN,
        },
        (false, Some(_), None) => TransferPlan::Refuse(
            "We're closed right now, so I can't put you through to the team, but I can book an appointment or take a message."
                .into(),
        ),
        (_, None, None) => TransferPlan::Refuse(
            "I'm not able to transfer calls on this line, but I can book an appointment or take a message."
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests;
