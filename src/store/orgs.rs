//! Orgs (clinics): profile, hours, closures and booking rules.

use super::OrgScope;
use crate::domain::clinic_type::ClinicType;
use crate::domain::schedule::{BookingRules, WeeklyHours};
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use chrono_tz::Tz;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

#[derive(Debug, Clone)]
pub struct Org {
    pub id: i64,
    pub name: String,
    pub timezone: Tz,
    pub hours: WeeklyHours,
    pub closures: Vec<NaiveDate>,
    pub rules: BookingRules,
    pub hot_lead_alert_phone: Option<String>,
    pub created_at: i64,
    /// How long a held slot lasts before anyone else may take it.
    pub hold_minutes: u32,
    /// Whether callers must confirm a texted code before a booking is made.
    pub require_verification: bool,
    /// Whether the clinic sends texts at all.
    pub sms_enabled: bool,
    /// How many hours ahead a reminder goes out (0 = no reminders).
    pub reminder_hours: u32,
    /// The kind chosen at setup; none for a clinic set up before the question was asked.
    pub clinic_type: Option<ClinicType>,
    /// When an owner last said the services catalogue is right; until then no price is quoted.
    pub catalogue_reviewed_at: Option<i64>,
}

impl Org {
    /// Whether the assistant may quote the catalogue's prices: only once an owner reviewed them.
    pub fn quotes_prices(&self) -> bool {
        self.catalogue_reviewed_at.is_some()
    }

    /// The clinic's calendar rules for slot checks.
    pub fn calendar(&self) -> crate::domain::schedule::Calendar<'_> {
        crate::domain::schedule::Calendar {
            tz: self.timezone,
            hours: &self.hours,
            closures: &self.closures,
            rules: &self.rules,
        }
    }
}

/// The columns [`from_row`] reads, as a literal so queries can be `concat!`ed into constants.
macro_rules! columns {
    () => {
        "id, name, timezone, hours_json, closures_json, buffer_minutes, slot_minutes,
         min_notice_minutes, horizon_days, hot_lead_alert_phone, created_at, hold_minutes,
         require_verification, sms_enabled, reminder_hours, clinic_type, catalogue_reviewed_at"
    };
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Org> {
    let tz: String = r.get(2)?;
    let hours: String = r.get(3)?;
    let closures: String = r.get(4)?;
    Ok(Org {
        id: r.get(0)?,
        name: r.get(1)?,
        timezone: tz.parse().unwrap_or(chrono_tz::UTC),
        hours: serde_json::from_str(&hours).unwrap_or_default(),
        closures: serde_json::from_str(&closures).unwrap_or_default(),
        rules: BookingRules {
            buffer_minutes: r.get(5)?,
            slot_minutes: r.get(6)?,
            min_notice_minutes: r.get(7)?,
            horizon_days: r.get(8)?,
        },
        hot_lead_alert_phone: r.get(9)?,
        created_at: r.get(10)?,
        hold_minutes: r.get(11)?,
        require_verification: r.get(12)?,
        sms_enabled: r.get(13)?,
        reminder_hours: r.get(14)?,
        clinic_type: r
            .get::<_, Option<String>>(15)?
            .and_then(|t| ClinicType::parse(&t).ok()),
        catalogue_reviewed_at: r.get(16)?,
    })
}

/// Parses an IANA zone name, with a message naming the problem.
pub fn parse_timezone(name: &str) -> AppResult<Tz> {
    name.trim().parse::<Tz>().map_err(|_| {
        AppError::Validation(format!(
            "“{}” is not a known time zone; use an IANA name like America/New_York",
            name.trim()
        ))
    })
}

pub fn validate_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::Validation(
            "the clinic name must be 1 to 120 characters".into(),
        ));
    }
    Ok(name.to_string())
}

/// Creates an org. This is authentication by other means (the setup token or the operator's
/// command line), so it returns the new org's scope.
pub fn create(tx: &Transaction<'_>, name: &str, timezone: Tz, now: i64) -> AppResult<OrgScope> {
    create_of_type(tx, name, timezone, None, now)
}

/// Creates an org of a chosen kind; its catalogue starts unreviewed.
pub fn create_of_type(
    tx: &Transaction<'_>,
    name: &str,
    timezone: Tz,
    clinic_type: Option<ClinicType>,
    now: i64,
) -> AppResult<OrgScope> {
    let name = validate_name(name)?;
    let hours = serde_json::to_string(&WeeklyHours::default()).map_err(AppError::internal)?;
    let rules = BookingRules::default();
    tx.execute(
        "INSERT INTO orgs (name, timezone, hours_json, closures_json, buffer_minutes, slot_minutes,
                           min_notice_minutes, horizon_days, created_at, clinic_type)
         VALUES (?1, ?2, ?3, '[]', ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            name,
            timezone.name(),
            hours,
            rules.buffer_minutes,
            rules.slot_minutes,
            rules.min_notice_minutes,
            rules.horizon_days,
            now,
            clinic_type.map(ClinicType::slug)
        ],
    )?;
    Ok(OrgScope::mint(tx.last_insert_rowid()))
}

pub fn get(conn: &Connection, scope: &OrgScope) -> AppResult<Org> {
    // Read on every Vapi request: a cached statement.
    conn.prepare_cached(concat!("SELECT ", columns!(), " FROM orgs WHERE id = ?1"))?
        .query_row([scope.org_id()], from_row)
        .optional()?
        .ok_or(AppError::NotFound)
}

pub fn update_profile(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    name: &str,
    timezone: Tz,
    alert_phone: Option<&str>,
) -> AppResult<()> {
    let name = validate_name(name)?;
    tx.execute(
        "UPDATE orgs SET name = ?2, timezone = ?3, hot_lead_alert_phone = ?4 WHERE id = ?1",
        params![scope.org_id(), name, timezone.name(), alert_phone],
    )?;
    Ok(())
}

pub fn update_hours(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    hours: &WeeklyHours,
    closures: &[NaiveDate],
) -> AppResult<()> {
    let hours = serde_json::to_string(hours).map_err(AppError::internal)?;
    let closures = serde_json::to_string(closures).map_err(AppError::internal)?;
    tx.execute(
        "UPDATE orgs SET hours_json = ?2, closures_json = ?3 WHERE id = ?1",
        params![scope.org_id(), hours, closures],
    )?;
    Ok(())
}

pub fn update_rules(tx: &Transaction<'_>, scope: &OrgScope, rules: &BookingRules) -> AppResult<()> {
    tx.execute(
        "UPDATE orgs SET buffer_minutes = ?2, slot_minutes = ?3, min_notice_minutes = ?4,
                         horizon_days = ?5 WHERE id = ?1",
        params![
            scope.org_id(),
            rules.buffer_minutes,
            rules.slot_minutes,
            rules.min_notice_minutes,
            rules.horizon_days
        ],
    )?;
    Ok(())
}

pub fn update_phone_booking(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    hold_minutes: u32,
    require_verification: bool,
) -> AppResult<()> {
    tx.execute(
        "UPDATE orgs SET hold_minutes = ?2, require_verification = ?3 WHERE id = ?1",
        params![scope.org_id(), hold_minutes, require_verification],
    )?;
    Ok(())
}

/// Whether the clinic texts patients, and how many hours ahead reminders go (0 = none).
pub fn update_texts(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    sms_enabled: bool,
    reminder_hours: u32,
) -> AppResult<()> {
    if reminder_hours > MAX_REMINDER_HOURS {
        return Err(AppError::Validation(format!(
            "reminders can go out at most {MAX_REMINDER_HOURS} hours (a week) ahead"
        )));
    }
    tx.execute(
        "UPDATE orgs SET sms_enabled = ?2, reminder_hours = ?3 WHERE id = ?1",
        params![scope.org_id(), sms_enabled, reminder_hours],
    )?;
    Ok(())
}

pub const MAX_REMINDER_HOURS: u32 = 168;

/// System-wide: whether any org exists (the setup page closes once one does).
/// An owner said the services catalogue is right: from now on the voice tools quote its prices.
pub fn mark_catalogue_reviewed(tx: &Transaction<'_>, scope: &OrgScope, now: i64) -> AppResult<()> {
    tx.execute(
        "UPDATE orgs SET catalogue_reviewed_at = ?2 WHERE id = ?1",
        params![scope.org_id(), now],
    )?;
    Ok(())
}

pub fn any_exists(conn: &Connection) -> AppResult<bool> {
    Ok(conn.query_row("SELECT EXISTS(SELECT 1 FROM orgs)", [], |r| r.get(0))?)
}

/// System-wide listing for the operator's command line.
pub fn list_all_for_operator(conn: &Connection) -> AppResult<Vec<Org>> {
    let mut stmt = conn.prepare(concat!("SELECT ", columns!(), " FROM orgs ORDER BY id"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
