//! What the `voxanne` subcommands do (the argument parsing is in `main.rs`). Each returns a
//! JSON object, printed as is with `--json` or as `key: value` lines otherwise.

pub mod practitioners;

use crate::app::{open_store, StartupError};
use crate::backup::{self, BackupSet};
use crate::config::Config;
use crate::crypto::{self, Vault};
use crate::domain::clinic_type::ClinicType;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, Actor, Event};
use crate::store::scope::{operator_default_scope, operator_scope};
use crate::store::{self, migrate, orgs, staff, twilio_credentials, Db, OrgScope};
use serde_json::{json, Value};
use std::io::Read;
use std::path::Path;

mod email;
pub use email::{email_digest, email_set, email_show, email_test};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Startup(#[from] StartupError),
    #[error("{}", .0.public_message_for_cli())]
    App(#[from] AppError),
    #[error("{0}")]
    Message(String),
}

impl AppError {
    fn public_message_for_cli(&self) -> String {
        match self {
            AppError::Internal(detail) => detail.to_string(),
            other => other.public_message(),
        }
    }
}

pub type CliResult = Result<Value, CliError>;

fn now() -> i64 {
    crate::clock::system_now().timestamp()
}

/// Reads a secret from a file, or from standard input when the path is `-`.
pub fn read_secret_file(path: &Path) -> Result<String, CliError> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Message(format!("cannot read standard input: {e}")))?;
    } else {
        text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Message(format!("cannot read {}: {e}", path.display())))?;
    }
    Ok(text.trim_end_matches(['\r', '\n']).to_string())
}

fn scope_for(db: &Db, org: Option<i64>) -> AppResult<OrgScope> {
    db.read_blocking(|c| match org {
        Some(id) => operator_scope(c, id).map_err(|_| {
            AppError::Validation(format!(
                "there is no clinic with id {id} (see `voxanne org list`)"
            ))
        }),
        None => operator_default_scope(c),
    })
}

fn cli_event<'a>(action: &'a str, object: &'a str, detail: &'a str) -> Event<'a> {
    Event {
        actor: &Actor::System("cli"),
        action,
        object,
        detail,
        ip: None,
        at: now(),
    }
}

pub struct NewClinic<'a> {
    pub clinic: &'a str,
    pub timezone: &'a str,
    /// A [`ClinicType`] slug; it chooses the starting catalogue.
    pub clinic_type: &'a str,
}

pub struct NewAccount<'a> {
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub role: staff::Role,
    pub password: &'a str,
}

/// Validates everything before touching the data directory.
fn validate_clinic(clinic: &NewClinic<'_>) -> AppResult<(chrono_tz::Tz, ClinicType)> {
    orgs::validate_name(clinic.clinic)?;
    let tz = orgs::parse_timezone(clinic.timezone)?;
    let kind = ClinicType::parse(clinic.clinic_type).map_err(AppError::Validation)?;
    Ok((tz, kind))
}

fn validate_account(account: &NewAccount<'_>) -> AppResult<()> {
    staff::normalise_email(account.email)?;
    staff::validate_password(account.password)
}

fn create_account(db: &Db, scope: OrgScope, account: &NewAccount<'_>) -> AppResult<staff::Staff> {
    let hash = crypto::hash_password(account.password);
    let email = staff::normalise_email(account.email)?;
    let name = account
        .name
        .map(str::to_string)
        .unwrap_or_else(|| email.split('@').next().unwrap_or("Owner").to_string());
    let role = account.role;
    db.write_blocking(move |tx| {
        let member = staff::create(
            tx,
            &scope,
            &staff::NewStaff {
                email: &email,
                name: &name,
                role,
                password_hash: &hash,
            },
            now(),
        )?;
        audit::record(
            tx,
            &scope,
            &cli_event(
                "staff.added",
                &format!("staff:{}", member.id),
                &format!("{} ({})", member.email, member.role.as_str()),
            ),
        )?;
        Ok(member)
    })
}

fn create_org(
    db: &Db,
    vault: &Vault,
    (tz, kind): (chrono_tz::Tz, ClinicType),
    clinic: &NewClinic<'_>,
) -> AppResult<OrgScope> {
    let (vault, name) = (vault.clone(), clinic.clinic.to_string());
    db.write_blocking(move |tx| {
        let scope = store::provision_org(tx, &vault, &name, tz, kind, now())?;
        audit::record(
            tx,
            &scope,
            &cli_event("org.created", &format!("org:{}", scope.org_id()), &name),
        )?;
        Ok(scope)
    })
}

/// `voxanne init`: the scripted first run — the clinic and its owner.
pub fn init(config: &Config, clinic: &NewClinic<'_>, owner: &NewAccount<'_>) -> CliResult {
    let kind = validate_clinic(clinic)?;
    validate_account(owner)?;
    let (db, vault) = open_store(config)?;
    if db.read_blocking(orgs::any_exists)? {
        return Err(CliError::Message(
            "this appliance is already set up; add another location with `voxanne org add`".into(),
        ));
    }
    let scope = create_org(&db, &vault, kind, clinic)?;
    let member = create_account(&db, scope, owner)?;
    Ok(json!({
        "org_id": scope.org_id(),
        "owner_id": member.id,
        "owner_email": member.email,
        "clinic_type": kind.1.slug(),
        "starting_services": kind.1.starting_services().len(),
    }))
}

/// `voxanne org add`: a further location, isolated from the others by row scoping.
pub fn org_add(config: &Config, clinic: &NewClinic<'_>) -> CliResult {
    let kind = validate_clinic(clinic)?;
    let (db, vault) = open_store(config)?;
    let scope = create_org(&db, &vault, kind, clinic)?;
    Ok(json!({
        "org_id": scope.org_id(),
        "name": clinic.clinic.trim(),
        "timezone": kind.0.name(),
        "clinic_type": kind.1.slug(),
        "starting_services": kind.1.starting_services().len(),
    }))
}

pub fn org_list(config: &Config) -> CliResult {
    let (db, _) = open_store(config)?;
    let list = db.read_blocking(orgs::list_all_for_operator)?;
    Ok(json!({
        "orgs": list.iter().map(|o| json!({"id": o.id, "name": o.name, "timezone": o.timezone.name()})).collect::<Vec<_>>()
    }))
}

pub fn user_add(config: &Config, org: Option<i64>, account: &NewAccount<'_>) -> CliResult {
    validate_account(account)?;
    let (db, _) = open_store(config)?;
    let scope = scope_for(&db, org)?;
    let member = create_account(&db, scope, account)?;
    Ok(
        json!({ "org_id": scope.org_id(), "user_id": member.id, "email": member.email, "role": member.role }),
    )
}

pub fn user_passwd(config: &Config, org: Option<i64>, email: &str, password: &str) -> CliResult {
    staff::validate_password(password)?;
    let (db, _) = open_store(config)?;
    let scope = scope_for(&db, org)?;
    let member = db.read_blocking(|c| staff::get_by_email(c, &scope, email))?;
    let hash = crypto::hash_password(password);
    let id = member.id;
    db.write_blocking(move |tx| {
        staff::set_password(tx, &scope, id, &hash)?;
        audit::record(
            tx,
            &scope,
            &cli_event(
                "staff.password_changed",
                &format!("staff:{}", member.id),
                "",
            ),
        )
    })?;
    Ok(
        json!({ "org_id": scope.org_id(), "user_id": member.id, "email": member.email, "sessions_ended": true }),
    )
}

pub fn user_set_disabled(
    config: &Config,
    org: Option<i64>,
    email: &str,
    disabled: bool,
) -> CliResult {
    let (db, _) = open_store(config)?;
    let scope = scope_for(&db, org)?;
    let member = db.read_blocking(|c| staff::get_by_email(c, &scope, email))?;
    let id = member.id;
    let member = db.write_blocking(move |tx| {
        let m = staff::set_disabled(tx, &scope, id, disabled)?;
        let action = if disabled {
            "staff.disabled"
        } else {
            "staff.enabled"
        };
        audit::record(
            tx,
            &scope,
            &cli_event(action, &format!("staff:{}", m.id), &m.email),
        )?;
        Ok(m)
    })?;
    Ok(
        json!({ "org_id": scope.org_id(), "user_id": member.id, "email": member.email, "disabled": member.disabled }),
    )
}

pub fn user_list(config: &Config, org: Option<i64>) -> CliResult {
    let (db, _) = open_store(config)?;
    let scope = scope_for(&db, org)?;
    let members = db.read_blocking(|c| staff::list(c, &scope))?;
    Ok(json!({ "org_id": scope.org_id(), "users": members }))
}

pub fn migrate_cmd(config: &Config) -> CliResult {
    let (db, _) = open_store(config)?;
    let versions = db.read_blocking(migrate::applied_versions)?;
    Ok(json!({ "applied": versions, "current": true }))
}

/// `voxanne backup [PATH]`: an online, consistent, integrity-checked copy. Without a path it
/// goes into the backup set (`VOXANNE_BACKUP_DIR`, rotated to `VOXANNE_BACKUP_KEEP`);
/// encrypted with the master key when `--encrypt` or `VOXANNE_BACKUP_ENCRYPT` says so.
pub fn backup(config: &Config, dest: Option<&Path>, encrypt: bool) -> CliResult {
    let (db, vault) = open_store(config)?;
    let key = (encrypt || config.backup.encrypt).then(|| vault.file_key());
    let (path, removed) = match dest {
        Some(dest) => {
            backup::copy_to(&db, key, &config.data_dir, dest)?;
            (dest.to_path_buf(), vec![])
        }
        None => {
            let set = BackupSet::new(&config.backup.dir);
            let keep = config.backup.keep as usize;
            let taken =
                set.take_now(&db, key, &config.data_dir, crate::clock::system_now(), keep)?;
            (taken.path, taken.removed)
        }
    };
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Ok(json!({
        "backup": path.display().to_string(),
        "bytes": size,
        "encrypted": key.is_some(),
        "integrity": "ok",
        "rotated_out": removed,
    }))
}

/// `voxanne restore PATH [--key-file F]`: refuses while a server holds the data directory;
/// keeps the replaced database beside it so nothing is lost.
pub fn restore(config: &Config, src: &Path, key_file: Option<&Path>) -> CliResult {
    let restored = backup::restore::run(config, src, key_file)?;
    Ok(serde_json::to_value(restored).map_err(AppError::internal)?)
}

/// `voxanne check [--online]`: the resolved configuration (secrets redacted) and what is
/// still missing; with `--online`, also the diagnostics report, whose `problems` make the
/// command exit 1.
pub fn check(config: &Config, online: bool) -> CliResult {
    let settings: serde_json::Map<String, Value> = config
        .describe()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let mut out = json!({
        "config_file": config.source_file.as_ref().map(|p| p.display().to_string()),
        "settings": settings,
        "missing": config.missing_for_full_operation(),
        "warnings": config.warnings(),
        "tls": tls_report(config),
    });
    if online {
        let (db, _) = open_store(config)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::Message(format!("cannot start the runtime: {e}")))?;
        let report = runtime.block_on(crate::diagnostics::gather(
            db,
            std::sync::Arc::new(config.clone()),
            crate::clock::system_now(),
        ))?;
        let mut diagnostics = serde_json::to_value(&report).map_err(AppError::internal)?;
        if let Some(map) = diagnostics.as_object_mut() {
            map.remove("problems");
            map.remove("go_live");
        }
        // Nothing is all clear while a clinic's go-live item is open.
        let mut problems = report.problems.clone();
        problems.extend(report.go_live.iter().flat_map(|c| c.open_items()));
        out["problems"] = json!(problems);
        out["checklist"] = checklist_lines(&report.go_live, true);
        out["diagnostics"] = diagnostics;
    } else if config.db_path().exists() {
        let (db, _) = open_store(config)?;
        let clinics = db.read_blocking(|c| {
            orgs::list_all_for_operator(c)?
                .into_iter()
                .map(|org| {
                    let scope = operator_scope(c, org.id)?;
                    Ok(crate::diagnostics::ClinicChecklist {
                        org_id: org.id,
                        clinic: org.name,
                        items: crate::domain::go_live::checklist(&store::go_live::facts(
                            c, &scope,
                        )?),
                    })
                })
                .collect::<AppResult<Vec<_>>>()
        })?;
        out["checklist"] = checklist_lines(&clinics, false);
    }
    Ok(out)
}

/// Each clinic's go-live items, one line each: `[x]` done, `[ ]` to do (with what to do),
/// `[?]` the public address when it was not checked (only `--online` makes the request).
fn checklist_lines(clinics: &[crate::diagnostics::ClinicChecklist], online: bool) -> Value {
    let mut lines = Vec::new();
    for c in clinics {
        for i in &c.items {
            lines.push(if i.done {
                format!("[x] {}: {}", c.clinic, i.label)
            } else if i.key == "public_url" && !online {
                format!(
                    "[?] {}: {} — checked by voxanne check --online",
                    c.clinic, i.label
                )
            } else {
                format!("[ ] {}: {} — to do: {}", c.clinic, i.label, i.fix)
            });
        }
    }
    json!(lines)
}

/// The dashboard certificate as `check` reports it: what is in use (or would be made at the
/// next start), its fingerprints and expiry.
fn tls_report(config: &Config) -> Value {
    let der = match &config.tls {
        crate::config::TlsSetting::Off => return json!("off"),
        crate::config::TlsSetting::SelfSigned { .. } => {
            let path = crate::tls::self_signed::cert_path(&config.data_dir);
            match read_first_certificate(&path) {
                Some(der) => der,
                None => {
                    return json!({"mode": "self-signed", "certificate": "made at the next start"})
                }
            }
        }
        crate::config::TlsSetting::Files { cert, .. } => match read_first_certificate(cert) {
            Some(der) => der,
            None => {
                return json!({"mode": "files", "problem": format!("{} holds no readable certificate", cert.display())})
            }
        },
    };
    let info = crate::tls::CertInfo::of(&der);
    let now = crate::clock::system_now();
    json!({
        "mode": if matches!(config.tls, crate::config::TlsSetting::Files { .. }) { "files" } else { "self-signed" },
        "sha256": info.sha256,
        "public_key_sha256": info.public_key_sha256,
        "not_after": info.not_after.to_rfc3339(),
        "days_left": info.days_left(now),
        "names": info.names,
    })
}

fn read_first_certificate(path: &std::path::Path) -> Option<Vec<u8>> {
    use tokio_rustls::rustls::pki_types::{pem::PemObject, CertificateDer};
    CertificateDer::pem_file_iter(path)
        .ok()?
        .next()?
        .ok()
        .map(|c| c.to_vec())
}

/// Prints a result as one JSON object, or as readable lines.
pub fn print(value: &Value, as_json: bool) {
    if as_json {
        println!("{value}");
        return;
    }
    fn walk(prefix: &str, v: &Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v);
                }
            }
            Value::Array(items) if items.iter().all(|i| !i.is_object()) => {
                let joined: Vec<String> = items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| i.to_string())
                    })
                    .collect();
                println!("{prefix}: {}", joined.join("; "));
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(&format!("{prefix}[{i}]"), item);
                }
            }
            Value::String(s) => println!("{prefix}: {s}"),
            other => println!("{prefix}: {other}"),
        }
    }
    // The go-live checklist first, one item a line; then everything else.
    let mut rest = value.clone();
    if let Some(lines) = rest
        .as_object_mut()
        .and_then(|m| m.remove("checklist"))
        .and_then(|v| v.as_array().cloned())
    {
        println!("Go-live checklist:");
        for line in lines {
            println!("  {}", line.as_str().unwrap_or_default());
        }
    }
    walk("", &rest);
}

/// `voxanne vapi show`: what to paste into Vapi for an org.
pub fn vapi_show(config: &Config, org: Option<i64>) -> CliResult {
    let (db, vault) = open_store(config)?;
    let scope = scope_for(&db, org)?;
    let secret = db.read_blocking(|c| store::vapi_secrets::current(c, &vault, &scope))?;
    let urls = crate::voice::urls(config);
    Ok(json!({
        "org_id": scope.org_id(),
        "server_url": urls.webhook,
        "tool_url": urls.tools,
        "legacy_booking_url": urls.legacy_booking,
        "secret_header": "X-Vapi-Secret",
        "secret": secret,
        "public_url_configured": config.public_url.is_some(),
    }))
}

/// `voxanne twilio set`: stores an org's Twilio credentials, encrypted.
pub fn twilio_set(
    config: &Config,
    org: Option<i64>,
    input: &twilio_credentials::Input<'_>,
) -> CliResult {
    let creds = twilio_credentials::validate(input, &config.default_country)?;
    let (db, vault) = open_store(config)?;
    let scope = scope_for(&db, org)?;
    let at = now();
    db.write_blocking(move |tx| {
        twilio_credentials::set(tx, &vault, &scope, &creds, at)?;
        audit::record(
            tx,
            &scope,
            &Event {
                actor: &Actor::System("cli"),
                action: "twilio.credentials_set",
                object: &format!("org:{}", scope.org_id()),
                detail: "",
                ip: None,
                at,
            },
        )
    })?;
    twilio_show(config, org)
}

/// `voxanne twilio show`: an org's Twilio set-up, secrets redacted.
pub fn twilio_show(config: &Config, org: Option<i64>) -> CliResult {
    let (db, _) = open_store(config)?;
    let scope = scope_for(&db, org)?;
    let summary = db.read_blocking(|c| twilio_credentials::summary(c, &scope))?;
    Ok(match summary {
        Some(s) => json!({
            "org_id": scope.org_id(),
            "configured": true,
            "account_sid": s.account_sid,
            "api_key_sid": s.key_sid,
            "secret": format!("***{}", s.secret_last4),
            "from_number": s.from_number,
            "messaging_service_sid": s.messaging_service_sid,
        }),
        None => json!({"org_id": scope.org_id(), "configured": false}),
    })
}

/// `voxanne keys rotate`: re-seals every stored secret under a new master key.
pub fn keys_rotate(config: &Config, new_key_file: Option<&Path>) -> CliResult {
    let done = crate::keys::rotate(config, new_key_file)?;
    let next_step = match &done.retired_key_file {
        Some(retired) => format!(
            "The new key is in use. Back it up now, replacing the old copy. Keep {} only as long as you keep backups taken before this rotation (they need it), then delete it.",
            retired.display()
        ),
        None => format!(
            "Before starting the server, set VOXANNE_MASTER_KEY_FILE={} and remove VOXANNE_MASTER_KEY from the configuration: the stored secrets no longer open with the old key. Keep the old key only for backups taken before this rotation.",
            done.key_file.display()
        ),
    };
    Ok(json!({
        "resealed": done.resealed,
        "master_key_file": done.key_file.display().to_string(),
        "retired_key_file": done.retired_key_file.as_ref().map(|p| p.display().to_string()),
        "next_step": next_step,
    }))
}

/// `voxanne vapi sync-tools`: registers the tools with Vapi and links them to the assistant
/// (saved first when `--assistant` is given). Fails when the sync does.
pub fn vapi_sync_tools(config: &Config, org: Option<i64>, assistant: Option<&str>) -> CliResult {
    use crate::store::vapi_tools;
    let assistant = assistant
        .map(vapi_tools::parse_assistant_id)
        .transpose()?
        .flatten();
    let (db, vault) = open_store(config)?;
    let scope = scope_for(&db, org)?;
    if let Some(id) = assistant {
        db.write_blocking(move |tx| {
            vapi_tools::set_assistant(tx, &scope, Some(&id), now())?;
            audit::record(
                tx,
                &scope,
                &cli_event(
                    "settings.vapi_assistant_set",
                    &format!("org:{}", scope.org_id()),
                    &format!("assistant={id}"),
                ),
            )
        })?;
    }
    let deps = crate::jobs::vapi_tools::Deps {
        config: std::sync::Arc::new(config.clone()),
        db: db.clone(),
        vault,
        clock: std::sync::Arc::new(crate::clock::SystemClock),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Message(format!("cannot start the runtime: {e}")))?;
    let state = runtime.block_on(crate::jobs::vapi_tools::sync_tools(&deps, scope))?;
    let tools = db.read_blocking(|c| vapi_tools::registered(c, &scope))?;
    if state.status != "synced" {
        return Err(CliError::Message(
            state
                .detail
                .unwrap_or_else(|| "the tool sync failed".into()),
        ));
    }
    Ok(json!({
        "org_id": scope.org_id(),
        "status": state.status,
        "detail": state.detail,
        "assistant_id": state.assistant_id,
        "native_calendar_tools": state.native_tools,
        "tools": tools.iter().map(|t| json!({"name": t.name, "vapi_id": t.vapi_id})).collect::<Vec<_>>(),
    }))
}
