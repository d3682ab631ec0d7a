//! Configuration: defaults, then a `KEY=VALUE` file (the same file systemd can load as an
//! `EnvironmentFile`), then the environment. Every secret also accepts a `*_FILE` form, and
//! secrets are wrapped in [`Secret`] so that `Debug` and `voxanne check` never print them.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::backup::schedule::BackupTime;

pub const DEFAULT_CONFIG_PATH: &str = "/etc/voxanne/voxanne.conf";

/// A value that must never reach a log line or a page.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    pub webhook_listen: Option<SocketAddr>,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub vapi_private_key: Option<Secret>,
    pub vapi_api_base: String,
    pub twilio_api_base: String,
    pub master_key: Option<Secret>,
    pub session_idle_minutes: i64,
    pub session_max_hours: i64,
    pub default_country: String,
    /// Texts per destination number per hour, per clinic; more are refused (and audited).
    pub sms_hourly_cap: i64,
    pub backup: BackupSettings,
    /// Call transcripts and recording links older than this many days are purged; `None` keeps them.
    pub retention_days: Option<u32>,
    /// Timeouts and the connection cap, the same on each listener.
    pub connections: ConnectionLimits,
    /// HTTPS on the dashboard listener (docs/front-desk.md).
    pub tls: TlsSetting,
    /// Which file the values came from, if any (for `voxanne check`).
    pub source_file: Option<PathBuf>,
}

/// Where the dashboard listener's certificate comes from, if it serves HTTPS itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSetting {
    Off,
    /// Made by the appliance into `DATA_DIR/tls/`, covering these names besides its own.
    SelfSigned {
        names: Vec<String>,
    },
    /// PEM files kept by the installer (or certbot and the like).
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
}

/// How long a client may take and how many may be connected, per listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A request's headers must arrive in full within this, counted from the connection
    /// opening or the previous reply (so it also ends a kept-alive connection left unused).
    pub header_read: std::time::Duration,
    /// A reply not ready within this is answered 408 instead.
    pub request: std::time::Duration,
    /// A connection that moves no bytes either way for this long is closed.
    pub idle: std::time::Duration,
    /// Open connections per listener; when full, the longest-unused one without a request in
    /// progress makes way for the new one.
    pub max_per_listener: usize,
}

/// Where backups go, when scheduled ones run, how many are kept and whether they are encrypted.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    pub dir: PathBuf,
    /// `None`: no scheduled backups (`VOXANNE_BACKUP_TIME=off`).
    pub schedule: Option<BackupTime>,
    pub keep: u32,
    pub encrypt: bool,
}

/// A setting that could not be used, named so the installer knows what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    pub setting: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(setting: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            message: message.into(),
        }
    }
}

/// Every key the appliance reads, with its default (`None` = unset) and whether it is secret.
pub const KEYS: &[(&str, Option<&str>, bool)] = &[
    ("VOXANNE_DATA_DIR", Some("./data"), false),
    ("VOXANNE_LISTEN", Some("127.0.0.1:8080"), false),
    ("VOXANNE_PUBLIC_URL", None, false),
    ("VOXANNE_WEBHOOK_LISTEN", None, false),
    ("VOXANNE_LOG", Some("info"), false),
    ("VOXANNE_LOG_FORMAT", Some("text"), false),
    ("VAPI_PRIVATE_KEY", None, true),
    ("VAPI_API_BASE", Some("https://api.vapi.ai"), false),
    ("TWILIO_API_BASE", Some("https://api.twilio.com"), false),
    ("VOXANNE_MASTER_KEY", None, true),
    ("VOXANNE_SESSION_IDLE_MINUTES", Some("30"), false),
    ("VOXANNE_SESSION_MAX_HOURS", Some("12"), false),
    ("VOXANNE_DEFAULT_COUNTRY", Some("US"), false),
    ("VOXANNE_SMS_HOURLY_CAP", Some("10"), false),
    // Backups and retention. The backup directory defaults to DATA_DIR/backups.
    ("VOXANNE_BACKUP_DIR", None, false),
    ("VOXANNE_BACKUP_TIME", Some("03:30"), false),
    ("VOXANNE_BACKUP_KEEP", Some("7"), false),
    ("VOXANNE_BACKUP_ENCRYPT", Some("false"), false),
    ("VOXANNE_RETENTION_DAYS", Some("off"), false),
    // Slow and many clients, per listener.
    ("VOXANNE_HEADER_TIMEOUT_SECS", Some("10"), false),
    ("VOXANNE_REQUEST_TIMEOUT_SECS", Some("30"), false),
    ("VOXANNE_IDLE_TIMEOUT_SECS", Some("60"), false),
    ("VOXANNE_MAX_CONNECTIONS", Some("512"), false),
    // HTTPS on the dashboard listener: off, self-signed, or certificate files.
    ("VOXANNE_TLS", Some("off"), false),
    ("VOXANNE_TLS_CERT_FILE", None, false),
    ("VOXANNE_TLS_KEY_FILE", None, false),
    ("VOXANNE_TLS_NAMES", None, false),
];

impl Config {
    /// Loads defaults → file → process environment. `explicit_file` comes from `--config`.
    pub fn load(explicit_file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let file = explicit_file
            .map(Path::to_path_buf)
            .or_else(|| env.get("VOXANNE_CONFIG").map(PathBuf::from))
            .or_else(|| {
                let default = PathBuf::from(DEFAULT_CONFIG_PATH);
                default.exists().then_some(default)
            });
        let mut values = BTreeMap::new();
        if let Some(path) = &file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(
                    "VOXANNE_CONFIG",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            values.extend(parse_env_file(&text).map_err(|(line, msg)| {
                ConfigError::new(
                    "VOXANNE_CONFIG",
                    format!("{}:{line}: {msg}", path.display()),
                )
            })?);
        }
        values.extend(env);
        let mut config = Self::from_values(&values)?;
        config.source_file = file;
        Ok(config)
    }

    /// Builds a configuration from explicit values over the defaults (no environment).
    pub fn from_values(values: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let get = |key: &str| -> Result<Option<String>, ConfigError> { lookup(values, key) };
        let required = |key: &str| -> Result<String, ConfigError> {
            Ok(get(key)?
                .or_else(|| default_of(key).map(str::to_string))
                .unwrap_or_default())
        };
        let listen = parse_addr("VOXANNE_LISTEN", &required("VOXANNE_LISTEN")?)?;
        let webhook_listen = match get("VOXANNE_WEBHOOK_LISTEN")? {
            Some(v) => Some(parse_addr("VOXANNE_WEBHOOK_LISTEN", &v)?),
            None => None,
        };
        let public_url = match get("VOXANNE_PUBLIC_URL")? {
            Some(v) => Some(parse_base_url("VOXANNE_PUBLIC_URL", &v)?),
            None => None,
        };
        let log_format = match required("VOXANNE_LOG_FORMAT")?
            .to_ascii_lowercase()
            .as_str()
        {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::new(
                    "VOXANNE_LOG_FORMAT",
                    format!("“{other}” is not text or json"),
                ))
            }
        };
        let country = required("VOXANNE_DEFAULT_COUNTRY")?.to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ConfigError::new(
                "VOXANNE_DEFAULT_COUNTRY",
                format!("“{country}” is not a two-letter country code like US"),
            ));
        }
        let data_dir = PathBuf::from(required("VOXANNE_DATA_DIR")?);
        let backup = BackupSettings {
            dir: get("VOXANNE_BACKUP_DIR")?
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("backups")),
            schedule: BackupTime::parse(&required("VOXANNE_BACKUP_TIME")?)
                .map_err(|m| ConfigError::new("VOXANNE_BACKUP_TIME", m))?,
            keep: parse_range(
                "VOXANNE_BACKUP_KEEP",
                &required("VOXANNE_BACKUP_KEEP")?,
                1,
                3650,
            )? as u32,
            encrypt: parse_bool(
                "VOXANNE_BACKUP_ENCRYPT",
                &required("VOXANNE_BACKUP_ENCRYPT")?,
            )?,
        };
        let retention_days = match required("VOXANNE_RETENTION_DAYS")?
            .to_ascii_lowercase()
            .as_str()
        {
            "off" | "" => None,
            days => Some(
                parse_range("VOXANNE_RETENTION_DAYS", days, 1, 36_500)
                    .map_err(|e| ConfigError::new(e.setting, format!("{} (or off)", e.message)))?
                    as u32,
            ),
        };
        let secs = |key: &str, max: i64| -> Result<std::time::Duration, ConfigError> {
            let n = parse_range(key, &required(key)?, 1, max)?;
            Ok(std::time::Duration::from_secs(n as u64))
        };
        let connections = ConnectionLimits {
            header_read: secs("VOXANNE_HEADER_TIMEOUT_SECS", 300)?,
            request: secs("VOXANNE_REQUEST_TIMEOUT_SECS", 3600)?,
            idle: secs("VOXANNE_IDLE_TIMEOUT_SECS", 3600)?,
            max_per_listener: parse_range(
                "VOXANNE_MAX_CONNECTIONS",
                &required("VOXANNE_MAX_CONNECTIONS")?,
                16,
                100_000,
            )? as usize,
        };
        if connections.idle < connections.request {
            return Err(ConfigError::new(
                "VOXANNE_IDLE_TIMEOUT_SECS",
                format!(
                    "{} is shorter than VOXANNE_REQUEST_TIMEOUT_SECS ({}): a slow reply would be cut off as idle",
                    connections.idle.as_secs(),
                    connections.request.as_secs()
                ),
            ));
        }
        let tls = parse_tls(
            &required("VOXANNE_TLS")?,
            values.get("VOXANNE_TLS_CERT_FILE").map(|v| v.trim()),
            values.get("VOXANNE_TLS_KEY_FILE").map(|v| v.trim()),
            values.get("VOXANNE_TLS_NAMES").map(|v| v.trim()),
        )?;
        Ok(Self {
            data_dir,
            listen,
            public_url,
            webhook_listen,
            log_filter: required("VOXANNE_LOG")?,
            log_format,
            vapi_private_key: get("VAPI_PRIVATE_KEY")?.map(Secret::new),
            vapi_api_base: parse_base_url("VAPI_API_BASE", &required("VAPI_API_BASE")?)?,
            twilio_api_base: parse_base_url("TWILIO_API_BASE", &required("TWILIO_API_BASE")?)?,
            master_key: get("VOXANNE_MASTER_KEY")?.map(Secret::new),
            session_idle_minutes: parse_range(
                "VOXANNE_SESSION_IDLE_MINUTES",
                &required("VOXANNE_SESSION_IDLE_MINUTES")?,
                1,
                24 * 60,
            )?,
            session_max_hours: parse_range(
                "VOXANNE_SESSION_MAX_HOURS",
                &required("VOXANNE_SESSION_MAX_HOURS")?,
                1,
                24 * 30,
            )?,
            default_country: country,
            sms_hourly_cap: parse_range(
                "VOXANNE_SMS_HOURLY_CAP",
                &required("VOXANNE_SMS_HOURLY_CAP")?,
                1,
                1000,
            )?,
            backup,
            retention_days,
            connections,
            tls,
            source_file: None,
        })
    }

    /// True when the dashboard listener is reachable from other computers (not loopback only).
    pub fn listens_beyond_loopback(&self) -> bool {
        !self.listen.ip().is_loopback()
    }

    /// Settings that work but put something at risk, for `voxanne check` and the log at start.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.listens_beyond_loopback() && self.tls == TlsSetting::Off {
            warnings.push(format!(
                "VOXANNE_LISTEN is {} but VOXANNE_TLS is off: staff on other computers cannot sign in until HTTPS is on (VOXANNE_TLS=self-signed, or certificate files; see docs/front-desk.md)",
                self.listen
            ));
        }
        warnings
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("voxanne.db")
    }

    /// The resolved configuration as `KEY=VALUE` lines, secrets redacted.
    pub fn describe(&self) -> Vec<(String, String)> {
        let redact = |s: &Option<Secret>| match s {
            Some(_) => "(set, hidden)".to_string(),
            None => "(not set)".to_string(),
        };
        let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| "(not set)".into());
        vec![
            (
                "VOXANNE_DATA_DIR".into(),
                self.data_dir.display().to_string(),
            ),
            ("VOXANNE_LISTEN".into(), self.listen.to_string()),
            ("VOXANNE_PUBLIC_URL".into(), opt(&self.public_url)),
            (
                "VOXANNE_WEBHOOK_LISTEN".into(),
                opt(&self.webhook_listen.map(|a| a.to_string())),
            ),
            ("VOXANNE_LOG".into(), self.log_filter.clone()),
            (
                "VOXANNE_LOG_FORMAT".into(),
                format!("{:?}", self.log_format).to_lowercase(),
            ),
            ("VAPI_PRIVATE_KEY".into(), redact(&self.vapi_private_key)),
            ("VAPI_API_BASE".into(), self.vapi_api_base.clone()),
            ("TWILIO_API_BASE".into(), self.twilio_api_base.clone()),
            (
                "VOXANNE_MASTER_KEY".into(),
                match &self.master_key {
                    Some(_) => "(set, hidden)".into(),
                    None => format!(
                        "(from {})",
                        self.data_dir.join(crate::crypto::MASTER_KEY_FILE).display()
                    ),
                },
            ),
            (
                "VOXANNE_SESSION_IDLE_MINUTES".into(),
                self.session_idle_minutes.to_string(),
            ),
            (
                "VOXANNE_SESSION_MAX_HOURS".into(),
                self.session_max_hours.to_string(),
            ),
            (
                "VOXANNE_DEFAULT_COUNTRY".into(),
                self.default_country.clone(),
            ),
            (
                "VOXANNE_BACKUP_DIR".into(),
                self.backup.dir.display().to_string(),
            ),
            (
                "VOXANNE_BACKUP_TIME".into(),
                self.backup
                    .schedule
                    .map(|t| t.describe())
                    .unwrap_or_else(|| "off".into()),
            ),
            ("VOXANNE_BACKUP_KEEP".into(), self.backup.keep.to_string()),
            (
                "VOXANNE_BACKUP_ENCRYPT".into(),
                self.backup.encrypt.to_string(),
            ),
            (
                "VOXANNE_RETENTION_DAYS".into(),
                self.retention_days
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "off".into()),
            ),
            (
                "VOXANNE_HEADER_TIMEOUT_SECS".into(),
                self.connections.header_read.as_secs().to_string(),
            ),
            (
                "VOXANNE_REQUEST_TIMEOUT_SECS".into(),
                self.connections.request.as_secs().to_string(),
            ),
            (
                "VOXANNE_IDLE_TIMEOUT_SECS".into(),
                self.connections.idle.as_secs().to_string(),
            ),
            (
                "VOXANNE_MAX_CONNECTIONS".into(),
                self.connections.max_per_listener.to_string(),
            ),
            ("VOXANNE_TLS".into(), self.tls.describe()),
        ]
    }

    /// What is still missing for full operation (not errors: the appliance runs without them).
    pub fn missing_for_full_operation(&self) -> Vec<String> {
        let mut missing = Vec::new();
        match &self.public_url {
            None => missing.push(
                "VOXANNE_PUBLIC_URL is not set: Vapi and Twilio cannot reach the webhooks until a tunnel address is configured".into(),
            ),
            Some(u) if !u.starts_with("https://") => missing.push(
                "VOXANNE_PUBLIC_URL is not https: Vapi requires an https server URL".into(),
            ),
            _ => {}
        }
        if self.webhook_listen.is_none() {
            missing.push("VOXANNE_WEBHOOK_LISTEN is not set: point the tunnel at a webhook-only listener so the dashboard is never exposed".into());
        }
        if self.vapi_private_key.is_none() {
            missing.push("VAPI_PRIVATE_KEY is not set: tool registration and call-backs through Vapi are unavailable".into());
        }
        missing
    }
}

fn default_of(key: &str) -> Option<&'static str> {
    KEYS.iter()
        .find(|(k, _, _)| *k == key)
        .and_then(|(_, d, _)| *d)
}

/// A key's value, or the contents of the file named by `KEY_FILE` (trailing newline trimmed).
fn lookup(values: &BTreeMap<String, String>, key: &str) -> Result<Option<String>, ConfigError> {
    if let Some(v) = values.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        return Ok(Some(v.to_string()));
    }
    let file_key = format!("{key}_FILE");
    match values
        .get(&file_key)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError::new(file_key, format!("cannot read {path}: {e}")))?;
            let text = text.trim().to_string();
            Ok((!text.is_empty()).then_some(text))
        }
        None => Ok(None),
    }
}

fn parse_tls(
    mode: &str,
    cert: Option<&str>,
    key: Option<&str>,
    names: Option<&str>,
) -> Result<TlsSetting, ConfigError> {
    let cert = cert.filter(|v| !v.is_empty()).map(PathBuf::from);
    let key = key.filter(|v| !v.is_empty()).map(PathBuf::from);
    let names: Vec<String> = names
        .unwrap_or_default()
        .split([',', ' '])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = names.iter().find(|n| !is_certificate_name(n)) {
        return Err(ConfigError::new(
            "VOXANNE_TLS_NAMES",
            format!("“{bad}” is not a host name or IP address"),
        ));
    }
    let mode = mode.trim().to_ascii_lowercase();
    match (mode.as_str(), cert, key) {
        ("off" | "", None, None) => Ok(TlsSetting::Off),
        ("self-signed", None, None) => Ok(TlsSetting::SelfSigned { names }),
        ("self-signed", _, _) => Err(ConfigError::new(
            "VOXANNE_TLS",
            "self-signed and VOXANNE_TLS_CERT_FILE/VOXANNE_TLS_KEY_FILE are both set: choose one",
        )),
        ("off" | "" | "files", Some(cert), Some(key)) => Ok(TlsSetting::Files { cert, key }),
        ("off" | "" | "files", Some(_), None) => Err(ConfigError::new(
            "VOXANNE_TLS_KEY_FILE",
            "VOXANNE_TLS_CERT_FILE is set without the private key file beside it",
        )),
        ("off" | "" | "files", None, Some(_)) => Err(ConfigError::new(
            "VOXANNE_TLS_CERT_FILE",
            "VOXANNE_TLS_KEY_FILE is set without the certificate file beside it",
        )),
        ("files", None, None) => Err(ConfigError::new(
            "VOXANNE_TLS_CERT_FILE",
            "VOXANNE_TLS=files needs VOXANNE_TLS_CERT_FILE and VOXANNE_TLS_KEY_FILE",
        )),
        (other, _, _) => Err(ConfigError::new(
            "VOXANNE_TLS",
            format!("“{other}” is not off, self-signed or files"),
        )),
    }
}

fn is_certificate_name(n: &str) -> bool {
    n.parse::<std::net::IpAddr>().is_ok()
        || (n.len() <= 253
            && n.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*')
            }))
}

impl TlsSetting {
    fn describe(&self) -> String {
        match self {
            TlsSetting::Off => "off".into(),
            TlsSetting::SelfSigned { names } if names.is_empty() => "self-signed".into(),
            TlsSetting::SelfSigned { names } => format!("self-signed ({})", names.join(", ")),
            TlsSetting::Files { cert, key } => {
                format!("files ({}, {})", cert.display(), key.display())
            }
        }
    }
}

fn parse_addr(key: &str, v: &str) -> Result<SocketAddr, ConfigError> {
    v.parse().map_err(|_| {
        ConfigError::new(
            key,
            format!("“{v}” is not an address and port like 127.0.0.1:8080"),
        )
    })
}

fn parse_base_url(key: &str, v: &str) -> Result<String, ConfigError> {
    let v = v.trim().trim_end_matches('/');
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(v.to_string()),
        _ => Err(ConfigError::new(
            key,
            format!("“{v}” is not an http(s) URL like https://clinic.example.com"),
        )),
    }
}

fn parse_bool(key: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        other => Err(ConfigError::new(
            key,
            format!("“{other}” is not true or false"),
        )),
    }
}

fn parse_range(key: &str, v: &str, min: i64, max: i64) -> Result<i64, ConfigError> {
    match v.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError::new(
            key,
            format!("“{v}” is not a whole number from {min} to {max}"),
        )),
    }
}

/// Parses systemd `EnvironmentFile` style text: `KEY=VALUE`, `#` comments, optional quotes and
/// an optional leading `export `.
pub fn parse_env_file(text: &str) -> Result<BTreeMap<String, String>, (usize, String)> {
    let mut out = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            return Err((i + 1, format!("expected KEY=VALUE, found “{line}”")));
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err((i + 1, format!("“{key}” is not a valid setting name")));
        }
        let value = value.trim();
        let value = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        out.insert(key.to_string(), value.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
