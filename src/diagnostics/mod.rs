//! The diagnostics report behind Settings → Diagnostics and `voxanne check --online`: versions,
//! the data directory and database sizes, a quick integrity check, backups, the outbox
//! backlog, the last webhook received, Twilio and Vapi reachability and the public URL, plus
//! the list of problems among them. Nothing in it is secret: no keys, tokens or credentials
//! are read into it.

pub mod reach;

use crate::backup::{BackupFile, BackupSet};
use crate::config::Config;
use crate::domain::go_live;
use crate::error::AppResult;
use crate::store::appliance::{self, Status};
use crate::store::outbox;
use crate::store::Db;
use chrono::{DateTime, Utc};
use reach::Reach;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, Serialize)]
pub struct Versions {
    pub app: &'static str,
    pub sqlite: String,
    /// The IANA time zone database compiled into the binary.
    pub tzdb: &'static str,
}

/// Something that happened last (a webhook, a backup attempt), with its instant in UTC.
#[derive(Debug, Clone, Serialize)]
pub struct Last {
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub detail: String,
}

impl From<Status> for Last {
    fn from(s: Status) -> Self {
        Last {
            at: DateTime::from_timestamp(s.at, 0).unwrap_or_default(),
            ok: s.ok,
            detail: s.detail,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Database {
    pub path: String,
    pub bytes: u64,
    pub wal_bytes: u64,
    /// `PRAGMA quick_check`: "ok" or the first problems found.
    pub quick_check: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Backups {
    pub dir: String,
    /// "daily at 03:30 (America/New_York)" or "off".
    pub schedule: String,
    pub keep: u32,
    pub encrypt: bool,
    pub kept: usize,
    pub last: Option<BackupFile>,
    /// The last attempt (scheduled or "Back up now"), including a failure.
    pub last_attempt: Option<Last>,
    /// Why the backup directory could not be listed, if it could not.
    pub unreadable: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub versions: Versions,
    pub data_dir: String,
    pub database: Database,
    pub backups: Backups,
    /// Texts due and not yet sent (future reminders are not backlog).
    pub outbox_backlog: i64,
    /// The last request to the Vapi endpoints (time, request and answer), if any.
    pub last_webhook: Option<Last>,
    /// The last request to the Twilio webhooks (delivery reports, inbound texts), if any.
    pub last_twilio_webhook: Option<Last>,
    pub twilio: Reach,
    pub vapi: Reach,
    pub public_url: Option<String>,
    /// `GET {public_url}/healthz` from this machine, when the public URL is set.
    pub public_reach: Option<Reach>,
    /// Every clinic's go-live checklist, read live.
    pub go_live: Vec<ClinicChecklist>,
    /// Everything above that needs attention, in words (the checklists apart).
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClinicChecklist {
    pub org_id: i64,
    pub clinic: String,
    pub items: Vec<go_live::Item>,
}

impl ClinicChecklist {
    /// "Alpha Clinic: Twilio connected — enter the clinic's Twilio account for texts"
    pub fn open_items(&self) -> Vec<String> {
        self.items
            .iter()
            .filter(|i| !i.done)
            .map(|i| format!("{}: {} — to do: {}", self.clinic, i.label, i.fix))
            .collect()
    }
}

/// The facts read from this machine (database and files), without the network.
struct Local {
    versions: Versions,
    database: Database,
    backups: Backups,
    outbox_backlog: i64,
    last_webhook: Option<Last>,
    last_twilio_webhook: Option<Last>,
    clinics: Vec<(i64, String, go_live::Facts)>,
}

/// Gathers the whole report at `now`: the local facts off the async threads, both probes at
/// once.
pub async fn gather(db: Db, config: Arc<Config>, now: DateTime<Utc>) -> AppResult<Report> {
    let local = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || local_facts(&db, &config, now))
    };
    let client = reach::client();
    let public = async {
        match &config.public_url {
            Some(url) => Some(reach::probe_health(&client, url).await),
            None => None,
        }
    };
    let (local, twilio, vapi, public) = tokio::join!(
        local,
        reach::probe(&client, &config.twilio_api_base),
        reach::probe(&client, &config.vapi_api_base),
        public,
    );
    Ok(assemble(local??, twilio, vapi, public, &config))
}

/// "1.4 MB": sizes as people read them (decimal units, like file managers).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} bytes"),
        _ if value < 10.0 => format!("{value:.1} {}", UNITS[unit]),
        _ => format!("{value:.0} {}", UNITS[unit]),
    }
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn local_facts(db: &Db, config: &Config, now: DateTime<Utc>) -> AppResult<Local> {
    let (sqlite, quick_check, outbox_backlog, (last_webhook, last_twilio), last_attempt, tz) =
        db.read_blocking(|c| {
            Ok((
                appliance::sqlite_version(c)?,
                appliance::quick_check(c)?,
                outbox::backlog_system(c, now.timestamp())?,
                (
                    appliance::status(c, appliance::VAPI_WEBHOOK)?,
                    appliance::status(c, appliance::TWILIO_WEBHOOK)?,
                ),
                appliance::status(c, appliance::BACKUP_ATTEMPT)?,
                appliance::home_timezone(c)?,
            ))
        })?;
    let clinics = db.read_blocking(|c| {
        crate::store::orgs::list_all_for_operator(c)?
            .into_iter()
            .map(|org| {
                let scope = crate::store::scope::operator_scope(c, org.id)?;
                Ok((org.id, org.name, crate::store::go_live::facts(c, &scope)?))
            })
            .collect::<AppResult<Vec<_>>>()
    })?;
    let db_path = config.db_path();
    let set = BackupSet::new(&config.backup.dir);
    let (kept, unreadable) = match set.list() {
        Ok(kept) => (kept, None),
        Err(e) => (vec![], Some(e.to_string())),
    };
    let schedule = match config.backup.schedule {
        None => "off".to_string(),
        Some(t) => format!(
            "daily at {} ({})",
            t.at.format("%H:%M"),
            t.zone.unwrap_or(tz).name()
        ),
    };
    Ok(Local {
        versions: Versions {
            app: env!("CARGO_PKG_VERSION"),
            sqlite,
            tzdb: chrono_tz::IANA_TZDB_VERSION,
        },
        database: Database {
            path: db_path.display().to_string(),
            bytes: file_len(&db_path),
            wal_bytes: file_len(&config.data_dir.join("voxanne.db-wal")),
            quick_check,
        },
        backups: Backups {
            dir: config.backup.dir.display().to_string(),
            schedule,
            keep: config.backup.keep,
            encrypt: config.backup.encrypt,
            kept: kept.len(),
            last: kept.into_iter().next(),
            last_attempt: last_attempt.map(Last::from),
            unreadable,
        },
        outbox_backlog,
        last_webhook: last_webhook.map(Last::from),
        last_twilio_webhook: last_twilio.map(Last::from),
        clinics,
    })
}

fn assemble(
    local: Local,
    twilio: Reach,
    vapi: Reach,
    public_reach: Option<Reach>,
    config: &Config,
) -> Report {
    let mut problems = Vec::new();
    if local.database.quick_check != "ok" {
        problems.push(format!(
            "the database failed its quick check: {}",
            local.database.quick_check
        ));
    }
    if let Some(why) = &local.backups.unreadable {
        problems.push(format!(
            "the backup folder {} cannot be read: {why}",
            local.backups.dir
        ));
    } else if local.backups.last.is_none() {
        problems.push("there is no backup yet".to_string());
    }
    if let Some(attempt) = local.backups.last_attempt.as_ref().filter(|a| !a.ok) {
        problems.push(format!(
            "the last backup attempt failed: {}",
            attempt.detail
        ));
    }
    for (name, r) in [("Twilio", &twilio), ("Vapi", &vapi)] {
        if !r.ok {
            problems.push(format!("{name} ({}): {}", r.url, r.detail));
        }
    }
    match &public_reach {
        None => {
            problems.push("VOXANNE_PUBLIC_URL is not set: Vapi cannot reach the webhooks".into())
        }
        Some(r) if !r.ok => problems.push(format!(
            "the public URL ({}) does not reach the appliance: {}",
            r.url, r.detail
        )),
        Some(_) => {}
    }
    let answers = public_reach.as_ref().is_some_and(|r| r.ok);
    let go_live = local
        .clinics
        .iter()
        .map(|(org_id, clinic, facts)| ClinicChecklist {
            org_id: *org_id,
            clinic: clinic.clone(),
            items: go_live::checklist(&go_live::Facts {
                public_url_answers: Some(answers),
                ..*facts
            }),
        })
        .collect();
    Report {
        versions: local.versions,
        data_dir: config.data_dir.display().to_string(),
        database: local.database,
        backups: local.backups,
        outbox_backlog: local.outbox_backlog,
        last_webhook: local.last_webhook,
        last_twilio_webhook: local.last_twilio_webhook,
        twilio,
        vapi,
        public_url: config.public_url.clone(),
        public_reach,
        go_live,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_bytes(0), "0 bytes");
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(1_440_000), "1.4 MB");
        assert_eq!(human_bytes(52_000_000), "52 MB");
    }
}
