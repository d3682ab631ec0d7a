//! Shared pieces of the tool handlers: reading the clinic's calendar, the service and
//! providers a caller means, the caller's phone number, and free times across calendars.

use crate::domain::format;
use crate::domain::phone::PhoneNumber;
use crate::domain::schedule::{self, Busy, Calendar};
use crate::error::AppResult;
use crate::store::appointments;
use crate::store::services::{self, Service};
use crate::voice::dispatch::{ToolCtx, ToolOutcome};
use crate::voice::tools::arg_str;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

pub type Args = Map<String, Value>;

impl ToolCtx {
    pub fn calendar(&self) -> Calendar<'_> {
        self.org.calendar()
    }

    pub fn today(&self) -> NaiveDate {
        format::local_datetime(self.now, self.org.timezone).date()
    }

    pub fn spoken(&self, at: DateTime<Utc>) -> String {
        format::spoken_datetime(at, self.org.timezone)
    }

    pub fn local_iso(&self, at: DateTime<Utc>) -> String {
        format::local_iso(at, self.org.timezone)
    }

    /// "Botox, Fillers and Consultation"
    pub fn service_names(&self) -> String {
        join_and(
            &self
                .services
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>(),
        )
    }

    /// The service a caller named; `Err` is the sentence to say when nothing matches.
    pub fn service_named(&self, query: &str) -> Result<&Service, ToolOutcome> {
        services::best_match(&self.services, query).ok_or_else(|| {
            if self.services.is_empty() {
                return ToolOutcome::result(
                    "The clinic's services are not set up yet. Take the caller's name and number; the team will call back.",
                    serde_json::json!({"ok": false, "reason": "no_services", "services": []}),
                );
            }
            ToolOutcome::result(
                format!(
                    "We don't list “{}”. We offer {}.",
                    query.trim(),
                    self.service_names()
                ),
                serde_json::json!({"ok": false, "reason": "unknown_service", "services": self.services.iter().map(|s| &s.name).collect::<Vec<_>>()}),
            )
        })
    }

    /// The service from the arguments; without one, the consultation (or the first service).
    pub fn service_or_default(&self, args: &Args) -> Result<&Service, ToolOutcome> {
        match arg_str(args, &["service", "serviceType", "treatment"]) {
            Some(q) => self.service_named(&q),
            None => services::best_match(&self.services, "consultation")
                .or_else(|| self.services.first())
                .ok_or_else(|| ToolOutcome::error("This clinic has no services set up yet.")),
        }
    }

    /// Calendars to consider: the one the caller named, else all of them.
    pub fn provider_ids(&self, args: &Args) -> Result<Vec<i64>, ToolOutcome> {
        match arg_str(args, &["provider", "providerName", "doctor"]) {
            None => Ok(self.providers.iter().map(|p| p.id).collect()),
            Some(q) => {
                let q = q.to_lowercase();
                let found: Vec<i64> = self
                    .providers
                    .iter()
                    .filter(|p| p.name.to_lowercase().contains(&q))
                    .map(|p| p.id)
                    .collect();
                if found.is_empty() {
                    let names: Vec<String> =
                        self.providers.iter().map(|p| p.name.clone()).collect();
                    Err(ToolOutcome::error(format!(
                        "There is no calendar called “{q}”. The calendars are {}.",
                        join_and(&names)
                    )))
                } else {
                    Ok(found)
                }
            }
        }
    }

    /// The caller's number: the phone line the call came from, else what they told us.
    pub fn caller_phone(&self, args: &Args) -> Result<PhoneNumber, ToolOutcome> {
        let country = &self.state.config.default_country;
        if let Some(n) = self.call.customer_number.as_deref() {
            if let Ok(p) = PhoneNumber::parse(n, country) {
                return Ok(p);
            }
        }
        self.phone_from_args(args)
    }

    /// The number given in the arguments, else the caller's line.
    pub fn patient_phone(&self, args: &Args) -> Result<PhoneNumber, ToolOutcome> {
        match arg_str(args, &["patientPhone", "phone", "phoneNumber"]) {
            Some(_) => self.phone_from_args(args),
            None => self.caller_phone(args),
        }
    }

    fn phone_from_args(&self, args: &Args) -> Result<PhoneNumber, ToolOutcome> {
        let country = &self.state.config.default_country;
        match arg_str(args, &["patientPhone", "phone", "phoneNumber"]) {
            Some(raw) => PhoneNumber::parse(&raw, country).map_err(|e| {
                ToolOutcome::error(format!(
                    "{e}. Please ask the caller for their phone number again."
                ))
            }),
            None => Err(ToolOutcome::error(
                "I need the caller's phone number; please ask for it.",
            )),
        }
    }

    /// Live bookings of each calendar overlapping `[from, to)`.
    pub async fn busy(
        &self,
        provider_ids: &[i64],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> AppResult<Vec<(i64, Vec<Busy>)>> {
        let (scope, ids, now) = (self.scope, provider_ids.to_vec(), self.now.timestamp());
        let (from, to) = (from.timestamp(), to.timestamp());
        self.state
            .db
            .read(move |c| {
                ids.iter()
                    .map(|&p| Ok((p, appointments::busy_between(c, &scope, p, from, to, now)?)))
                    .collect()
            })
            .await
    }

    /// Free starts on `day` on any of the calendars.
    pub fn free_on(
        &self,
        day: NaiveDate,
        duration: u32,
        busy: &[(i64, Vec<Busy>)],
    ) -> Vec<DateTime<Utc>> {
        let cal = self.calendar();
        let mut all = BTreeSet::new();
        for (_, b) in busy {
            all.extend(schedule::free_starts(&cal, day, duration, b, self.now));
        }
        all.into_iter().collect()
    }

    /// The free starts nearest to `around` on any calendar.
    pub async fn alternatives(
        &self,
        around: DateTime<Utc>,
        duration: u32,
        provider_ids: &[i64],
        max: usize,
    ) -> AppResult<Vec<DateTime<Utc>>> {
        let busy = self
            .busy(
                provider_ids,
                around - Duration::days(16),
                around + Duration::days(16),
            )
            .await?;
        let cal = self.calendar();
        let mut all = BTreeSet::new();
        for (_, b) in &busy {
            all.extend(schedule::nearest_free(
                &cal, around, duration, b, self.now, max,
            ));
        }
        let mut v: Vec<DateTime<Utc>> = all.into_iter().collect();
        v.sort_by_key(|t| ((*t - around).num_seconds().abs(), *t));
        v.truncate(max);
        v.sort();
        Ok(v)
    }

    /// "Monday, June 15 at 10:00 AM, Monday, June 15 at 10:30 AM or Tuesday, June 16 at 9:00 AM"
    pub fn spoken_list(&self, times: &[DateTime<Utc>]) -> String {
        join_or(&times.iter().map(|t| self.spoken(*t)).collect::<Vec<_>>())
    }
}

pub fn join_and(items: &[String]) -> String {
    join(items, "and")
}

pub fn join_or(items: &[String]) -> String {
    join(items, "or")
}

fn join(items: &[String], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}
