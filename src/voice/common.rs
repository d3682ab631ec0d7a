//! Shared pieces of the tool handlers: reading the clinic's calendar, the service and
//! providers a caller means, the caller's phone number, and free times across calendars.

use crate::domain::format;
use crate::domain::phone::PhoneNumber;
use crate::domain::practitioner::{self, Named, Practitioner};
use crate::domain::schedule::Busy;
use crate::error::AppResult;
use crate::service::availability::{self, Calendars};
use crate::store::services::{self, Service};
use crate::voice::dispatch::{ToolCtx, ToolOutcome};
use crate::voice::tools::arg_str;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Where a tool's arguments name a practitioner.
pub const PRACTITIONER_KEYS: &[&str] = &["practitioner", "provider", "providerName", "doctor"];

pub type Args = Map<String, Value>;

impl ToolCtx {
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

    /// The practitioners to consider for `service`: the one the caller named (when they
    /// perform it), else everyone who performs it. `Err` is what to tell the caller: nobody
    /// by that name, which of several they mean, or who does that service instead.
    pub fn practitioner_ids(
        &self,
        args: &Args,
        service: &Service,
    ) -> Result<Vec<i64>, ToolOutcome> {
        let able: Vec<&Practitioner> = self
            .practitioners
            .iter()
            .filter(|p| p.performs(service.id))
            .collect();
        let names = |list: &[&Practitioner]| {
            join_and(&list.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
        };
        let Some(query) = arg_str(args, PRACTITIONER_KEYS) else {
            if able.is_empty() {
                return Err(ToolOutcome::result(
                    format!(
                        "Nobody here does {} at the moment. Take the caller's name and number; the team will call back.",
                        service.name
                    ),
                    json!({"ok": false, "reason": "no_practitioner_for_service", "service": service.name}),
                ));
            }
            return Ok(able.iter().map(|p| p.id).collect());
        };
        let everyone: Vec<&Practitioner> = self.practitioners.iter().collect();
        match practitioner::named(&query, &everyone) {
            Named::One(i) if everyone[i].performs(service.id) => Ok(vec![everyone[i].id]),
            Named::One(i) => Err(ToolOutcome::result(
                if able.is_empty() {
                    format!(
                        "{} doesn't do {}, and nobody else here does either.",
                        everyone[i].name, service.name
                    )
                } else {
                    format!(
                        "{} doesn't do {}. {} {}.",
                        everyone[i].name,
                        service.name,
                        names(&able),
                        if able.len() == 1 { "does" } else { "do" }
                    )
                },
                json!({"ok": false, "reason": "practitioner_does_not_perform", "practitioner": everyone[i].name,
                       "service": service.name, "practitioners": able.iter().map(|p| &p.name).collect::<Vec<_>>()}),
            )),
            Named::Several(found) => {
                let several: Vec<&Practitioner> = found.iter().map(|&i| everyone[i]).collect();
                Err(ToolOutcome::result(
                    format!(
                        "Which one does the caller mean: {}?",
                        join_or(&several.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
                    ),
                    json!({"ok": false, "reason": "ambiguous_practitioner",
                           "practitioners": several.iter().map(|p| &p.name).collect::<Vec<_>>()}),
                ))
            }
            Named::Nobody => Err(ToolOutcome::result(
                format!(
                    "There's nobody called “{}” here. The practitioners are {}.",
                    query.trim(),
                    names(&everyone)
                ),
                json!({"ok": false, "reason": "unknown_practitioner",
                       "practitioners": everyone.iter().map(|p| &p.name).collect::<Vec<_>>()}),
            )),
        }
    }

    /// The practitioner's name, for replies ("with Dr Patel").
    pub fn practitioner_name(&self, id: i64) -> Option<&str> {
        self.working
            .iter()
            .find(|w| w.id == id)
            .map(|w| w.name.as_str())
    }

    /// Every practitioner's name by id, to word replies inside a write.
    pub fn names(&self) -> Names {
        Names {
            all: self
                .working
                .iter()
                .map(|w| (w.id, w.name.clone()))
                .collect(),
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
            .read(move |c| availability::busy(c, &scope, &ids, from, to, now))
            .await
    }

    /// The practitioners' calendars as the phone sees them.
    fn calendars(&self) -> Calendars<'_> {
        Calendars {
            tz: self.org.timezone,
            rules: &self.org.rules,
            working: &self.working,
        }
    }

    /// Free starts on `day`, each with the practitioners free then (in `busy`'s order).
    pub fn free_on(
        &self,
        day: NaiveDate,
        duration: u32,
        busy: &[(i64, Vec<Busy>)],
    ) -> BTreeMap<DateTime<Utc>, Vec<i64>> {
        self.calendars().free_on(busy, day, duration, self.now)
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
        Ok(self
            .calendars()
            .nearest(&busy, around, duration, self.now, max)
            .into_iter()
            .map(|(t, _)| t)
            .collect())
    }

    /// "Monday, June 15 at 10:00 AM, Monday, June 15 at 10:30 AM or Tuesday, June 16 at 9:00 AM"
    pub fn spoken_list(&self, times: &[DateTime<Utc>]) -> String {
        join_or(&times.iter().map(|t| self.spoken(*t)).collect::<Vec<_>>())
    }
}

/// Practitioners' names by id, for replies.
#[derive(Debug, Clone)]
pub struct Names {
    all: Vec<(i64, String)>,
}

impl Names {
    /// The name; empty for one archived since.
    pub fn of(&self, id: i64) -> String {
        self.all
            .iter()
            .find(|(p, _)| *p == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    }

    /// " with Dr Patel" for a reply, when the clinic has more than one practitioner to tell
    /// apart; a clinic with one calendar is not made to say its name.
    pub fn with(&self, id: i64) -> String {
        match self.of(id) {
            name if self.all.len() > 1 && !name.is_empty() => format!(" with {name}"),
            _ => String::new(),
        }
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
