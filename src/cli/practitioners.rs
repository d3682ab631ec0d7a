//! `voxanne provider add|list|edit|archive|restore`: the clinic's practitioners from the shell,
//! with the same checks and audit entries as Settings → Practitioners.

use super::{cli_event, now, scope_for, CliError, CliResult};
use crate::config::Config;
use crate::domain::practitioner::{self, Draft, Practitioner};
use crate::error::{AppError, AppResult};
use crate::store::services::{self, Service};
use crate::store::{audit, practitioners, Db, OrgScope};
use serde_json::{json, Value};

/// What the command line gave; `None` leaves a field as it is (on `edit`) or empty (on `add`).
#[derive(Debug, Default)]
pub struct Fields<'a> {
    pub name: Option<&'a str>,
    pub title: Option<&'a str>,
    /// Service names, comma-separated; "all" (or blank) for every service.
    pub services: Option<&'a str>,
    /// In the `mon-fri 09:00-12:30,13:30-17:00` form; "clinic" (or blank) for the clinic's.
    pub hours: Option<&'a str>,
    /// In the `2026-12-24..2026-12-31, 2027-01-05` form; blank for none.
    pub time_off: Option<&'a str>,
}

/// The practitioner as the command prints it.
pub fn shown(p: &Practitioner, catalogue: &[Service]) -> Value {
    let services: Vec<&str> = p
        .service_ids
        .iter()
        .filter_map(|id| catalogue.iter().find(|s| s.id == *id))
        .map(|s| s.name.as_str())
        .collect();
    json!({
        "id": p.id,
        "name": p.name,
        "title": p.title,
        "hours": p.hours.as_ref().map_or("clinic".to_string(), practitioner::format_hours),
        "time_off": practitioner::format_time_off(&p.time_off),
        "services": if services.is_empty() { json!("all") } else { json!(services) },
        "active": p.active,
    })
}

/// The ids of the services `names` lists, each matched as callers' words are.
pub fn service_ids(names: &str, catalogue: &[Service]) -> Result<Vec<i64>, String> {
    if matches!(names.trim().to_lowercase().as_str(), "" | "all") {
        return Ok(Vec::new());
    }
    let mut ids = Vec::new();
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let exact = catalogue.iter().find(|s| s.name.eq_ignore_ascii_case(name));
        let found = exact.or_else(|| services::best_match(catalogue, name));
        match found {
            Some(s) if !ids.contains(&s.id) => ids.push(s.id),
            Some(_) => {}
            None => {
                let all: Vec<&str> = catalogue.iter().map(|s| s.name.as_str()).collect();
                return Err(format!(
                    "no service matches “{name}”; the services are: {}",
                    all.join(", ")
                ));
            }
        }
    }
    Ok(ids)
}

fn draft(base: Draft, f: &Fields<'_>, catalogue: &[Service]) -> AppResult<Draft> {
    let hours = match f.hours.map(str::trim) {
        Some("clinic") | Some("") => String::new(),
        Some(spec) => spec.to_string(),
        None => base
            .hours
            .as_ref()
            .map(practitioner::format_hours)
            .unwrap_or_default(),
    };
    let time_off = f
        .time_off
        .map(str::to_string)
        .unwrap_or_else(|| practitioner::format_time_off(&base.time_off));
    let service_ids = match f.services {
        Some(names) => service_ids(names, catalogue).map_err(AppError::Validation)?,
        None => base.service_ids,
    };
    Draft::parse(
        f.name.unwrap_or(&base.name),
        f.title.unwrap_or(base.title.as_deref().unwrap_or("")),
        &hours,
        &time_off,
        service_ids,
    )
    .map_err(AppError::Validation)
}

fn open(config: &Config, org: Option<i64>) -> Result<(Db, OrgScope, Vec<Service>), CliError> {
    let (db, _) = crate::app::open_store(config)?;
    let scope = scope_for(&db, org)?;
    let catalogue = db.read_blocking(move |c| services::list_all(c, &scope))?;
    Ok((db, scope, catalogue))
}

/// The practitioner `who` names: an id, or a name as callers would say it.
fn find(db: &Db, scope: OrgScope, who: &str) -> AppResult<Practitioner> {
    let all = db.read_blocking(move |c| practitioners::list_all(c, &scope))?;
    if let Some(p) = who
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|id| all.iter().find(|p| p.id == id))
    {
        return Ok(p.clone());
    }
    let refs: Vec<&Practitioner> = all.iter().collect();
    match practitioner::named(who, &refs) {
        practitioner::Named::One(i) => Ok(all[i].clone()),
        practitioner::Named::Several(is) => Err(AppError::Validation(format!(
            "“{who}” could be {}; give the id (see `voxanne provider list`)",
            is.iter()
                .map(|&i| all[i].name.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        ))),
        practitioner::Named::Nobody => Err(AppError::Validation(format!(
            "there is no practitioner “{who}” (see `voxanne provider list`)"
        ))),
    }
}

pub fn add(config: &Config, org: Option<i64>, fields: &Fields<'_>) -> CliResult {
    let (db, scope, catalogue) = open(config, org)?;
    let empty = Draft::parse(fields.name.unwrap_or(""), "", "", "", Vec::new());
    let d = draft(empty.map_err(AppError::Validation)?, fields, &catalogue)?;
    let added = db.write_blocking(move |tx| {
        let p = practitioners::create(tx, &scope, &d, now())?;
        audit::record(
            tx,
            &scope,
            &cli_event(
                "practitioner.added",
                &format!("practitioner:{}", p.id),
                &p.name,
            ),
        )?;
        Ok(p)
    })?;
    Ok(shown(&added, &catalogue))
}

pub fn list(config: &Config, org: Option<i64>) -> CliResult {
    let (db, scope, catalogue) = open(config, org)?;
    let all = db.read_blocking(move |c| practitioners::list_all(c, &scope))?;
    Ok(
        json!({ "org_id": scope.org_id(), "practitioners": all.iter().map(|p| shown(p, &catalogue)).collect::<Vec<_>>() }),
    )
}

pub fn edit(config: &Config, org: Option<i64>, who: &str, fields: &Fields<'_>) -> CliResult {
    let (db, scope, catalogue) = open(config, org)?;
    let current = find(&db, scope, who)?;
    let d = draft(Draft::of(&current), fields, &catalogue)?;
    let id = current.id;
    let edited = db.write_blocking(move |tx| {
        let p = practitioners::update(tx, &scope, id, &d)?;
        audit::record(
            tx,
            &scope,
            &cli_event(
                "practitioner.updated",
                &format!("practitioner:{id}"),
                &p.name,
            ),
        )?;
        Ok(p)
    })?;
    Ok(shown(&edited, &catalogue))
}

pub fn set_active(config: &Config, org: Option<i64>, who: &str, active: bool) -> CliResult {
    let (db, scope, catalogue) = open(config, org)?;
    let id = find(&db, scope, who)?.id;
    let action = if active {
        "practitioner.restored"
    } else {
        "practitioner.archived"
    };
    let changed = db.write_blocking(move |tx| {
        let p = practitioners::set_active(tx, &scope, id, active)?;
        audit::record(
            tx,
            &scope,
            &cli_event(action, &format!("practitioner:{id}"), &p.name),
        )?;
        Ok(p)
    })?;
    Ok(shown(&changed, &catalogue))
}
