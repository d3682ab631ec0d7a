//! The `voxanne` command line: argument parsing and dispatch only.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use voxanne::app::App;
use voxanne::cli::{self, NewAccount, NewClinic};
use voxanne::clock::SystemClock;
use voxanne::config::{Config, LogFormat};
use voxanne::store::staff::Role;

#[derive(Parser)]
#[command(
    name = "voxanne",
    version,
    about = "AI receptionist appliance for clinics"
)]
struct Cli {
    /// Configuration file of KEY=VALUE lines (default: $VOXANNE_CONFIG, then /etc/voxanne/voxanne.conf)
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the appliance (the default)
    Serve,
    /// Create the clinic and its owner without the setup page
    Init {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        timezone: String,
        /// dental, aesthetics, plastic-surgery, dermatology, physiotherapy, general-practice or
        /// other: chooses the services the clinic starts with (to review)
        #[arg(long)]
        clinic_type: String,
        #[arg(long)]
        owner_email: String,
        #[arg(long)]
        owner_name: Option<String>,
        /// File holding the owner's password ("-" for standard input)
        #[arg(long)]
        owner_password_file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Clinics (locations)
    Org {
        #[command(subcommand)]
        action: OrgAction,
    },
    /// Staff accounts
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Apply pending database migrations
    Migrate {
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent, integrity-checked copy of the database (safe while serving); without
    /// PATH, into the backup directory, keeping the newest VOXANNE_BACKUP_KEEP
    Backup {
        path: Option<PathBuf>,
        /// Encrypt with the master key (always on when VOXANNE_BACKUP_ENCRYPT=true)
        #[arg(long)]
        encrypt: bool,
        #[arg(long)]
        json: bool,
    },
    /// Replace the database with a backup, plain or encrypted (the server must be stopped)
    Restore {
        path: PathBuf,
        /// The master key the backup was encrypted with, when it is not this appliance's
        /// (also installed as the appliance's key)
        #[arg(long)]
        key_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Print the resolved configuration (secrets hidden) and what is missing; with --online,
    /// also the diagnostics report (database, backups, webhooks, Twilio and Vapi reachability)
    Check {
        #[arg(long)]
        online: bool,
        #[arg(long)]
        json: bool,
    },
    /// Exit 0 when the running appliance answers /healthz (for container health checks)
    Healthcheck,
    /// The Vapi side: what to paste into the assistant
    Vapi {
        #[command(subcommand)]
        action: VapiAction,
    },
    /// The clinic's own Twilio account, for texts
    Twilio {
        #[command(subcommand)]
        action: TwilioAction,
    },
    /// The clinic's own mailbox, for e-mail
    Email {
        #[command(subcommand)]
        action: EmailAction,
    },
    /// The clinic's practitioners: who appointments are with, their hours and services
    #[command(alias = "practitioner")]
    Provider {
        #[command(subcommand)]
        action: ProviderAction,
    },
    /// The master key that seals stored secrets
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// Re-seal every stored secret under a new master key (stop the server first)
    Rotate {
        /// Where to write the new key, when VOXANNE_MASTER_KEY comes from the configuration
        #[arg(long)]
        new_key_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

/// The fields of a practitioner; on `edit`, the ones not given stay as they are.
#[derive(clap::Args)]
struct PractitionerFields {
    /// As staff and callers say it, e.g. "Dr Anita Patel"
    #[arg(long)]
    name: Option<String>,
    /// What they are, e.g. "Dentist" or "Hygienist" (callers may ask for "the hygienist")
    #[arg(long)]
    title: Option<String>,
    /// The services they perform, comma-separated ("Cleaning,Whitening"); "all" for every one
    #[arg(long)]
    services: Option<String>,
    /// Weekly hours within the clinic's, e.g. "mon-fri 09:00-12:30,13:30-17:00; sat 09:00-12:00";
    /// "clinic" for the clinic's hours
    #[arg(long)]
    hours: Option<String>,
    /// Days off, e.g. "2026-12-24..2026-12-31, 2027-01-05"; "" for none
    #[arg(long)]
    time_off: Option<String>,
}

impl PractitionerFields {
    fn as_fields(&self) -> voxanne::cli::practitioners::Fields<'_> {
        voxanne::cli::practitioners::Fields {
            name: self.name.as_deref(),
            title: self.title.as_deref(),
            services: self.services.as_deref(),
            hours: self.hours.as_deref(),
            time_off: self.time_off.as_deref(),
        }
    }
}

#[derive(Subcommand)]
enum ProviderAction {
    /// Add a practitioner (--name is required)
    Add {
        #[arg(long)]
        org: Option<i64>,
        #[command(flatten)]
        fields: PractitionerFields,
        #[arg(long)]
        json: bool,
    },
    /// Every practitioner, archived ones last
    List {
        #[arg(long)]
        org: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Change a practitioner, named by id or by name
    Edit {
        practitioner: String,
        #[arg(long)]
        org: Option<i64>,
        #[command(flatten)]
        fields: PractitionerFields,
        #[arg(long)]
        json: bool,
    },
    /// Stop offering a practitioner (their appointments stay)
    Archive {
        practitioner: String,
        #[arg(long)]
        org: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Offer an archived practitioner again
    Restore {
        practitioner: String,
        #[arg(long)]
        org: Option<i64>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum TwilioAction {
    /// Store the account SID, auth token (or API key) and the number texts come from
    Set {
        #[arg(long)]
        org: Option<i64>,
        #[arg(long)]
        account_sid: String,
        /// File holding the auth token ("-" for standard input)
        #[arg(long, conflicts_with = "api_key_secret_file")]
        auth_token_file: Option<PathBuf>,
        /// API key SID (SK...), used instead of the auth token
        #[arg(long, requires = "api_key_secret_file")]
        api_key_sid: Option<String>,
        /// File holding the API key secret ("-" for standard input)
        #[arg(long, requires = "api_key_sid")]
        api_key_secret_file: Option<PathBuf>,
        /// The SMS-capable Twilio number texts come from, e.g. +14155550100
        #[arg(long)]
        from: Option<String>,
        /// A messaging service SID (MG...), used instead of a From number
        #[arg(long)]
        messaging_service_sid: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print the stored set-up with secrets redacted
    Show {
        #[arg(long)]
        org: Option<i64>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum EmailAction {
    /// Store the mail server, the login and the address e-mails come from
    Set {
        #[arg(long)]
        org: Option<i64>,
        /// The submission server, e.g. smtp.gmail.com
        #[arg(long)]
        host: String,
        /// Usually 587 with --tls starttls, 465 with --tls tls
        #[arg(long)]
        port: String,
        /// "starttls" or "tls" (implicit TLS); never guessed from the port
        #[arg(long)]
        tls: String,
        #[arg(long)]
        username: String,
        /// File holding the password or app password ("-" for standard input)
        #[arg(long)]
        password_file: PathBuf,
        /// The address e-mails come from (and invitations name as organizer)
        #[arg(long)]
        from: String,
        #[arg(long)]
        from_name: Option<String>,
        /// A private certificate authority (PEM) to trust for this server
        #[arg(long)]
        ca_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Print the stored mailbox without its password
    Show {
        #[arg(long)]
        org: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// The owners' daily digest (yesterday's calls and bookings, today's schedule, open leads)
    Digest {
        #[arg(long)]
        org: Option<i64>,
        /// The clinic's local hour it goes at, 0-23
        #[arg(long, conflicts_with = "off", required_unless_present = "off")]
        hour: Option<u32>,
        /// No digest
        #[arg(long)]
        off: bool,
        #[arg(long)]
        json: bool,
    },
    /// Send a test e-mail; on failure, print the server's answer in plain words
    Test {
        #[arg(long)]
        org: Option<i64>,
        #[arg(long)]
        to: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum VapiAction {
    /// Print the server URL, tool URL and secret for an org
    Show {
        #[arg(long)]
        org: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Register the tools with Vapi (VAPI_PRIVATE_KEY) and link them to the org's assistant
    SyncTools {
        #[arg(long)]
        org: Option<i64>,
        /// The Vapi assistant to link the tools to (saved for the org)
        #[arg(long)]
        assistant: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum OrgAction {
    /// Add a further location, isolated from the others
    Add {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        timezone: String,
        /// As for `init`: chooses the services the location starts with
        #[arg(long)]
        clinic_type: String,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserAction {
    Add {
        #[arg(long)]
        org: Option<i64>,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "staff")]
        role: String,
        /// File holding the password ("-" for standard input)
        #[arg(long)]
        password_file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    Passwd {
        #[arg(long)]
        org: Option<i64>,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    Disable {
        #[arg(long)]
        org: Option<i64>,
        #[arg(long)]
        email: String,
        #[arg(long)]
        json: bool,
    },
    Enable {
        #[arg(long)]
        org: Option<i64>,
        #[arg(long)]
        email: String,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        org: Option<i64>,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    // Before anything is created: the database, keys and backups are the clinic's records.
    voxanne::private_files::restrict_umask();
    let args = Cli::parse();
    let config = match Config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let (result, json) = match args.command.unwrap_or(Command::Serve) {
        Command::Serve => return serve(config),
        Command::Healthcheck => return healthcheck(&config),
        Command::Init {
            clinic,
            timezone,
            clinic_type,
            owner_email,
            owner_name,
            owner_password_file,
            json,
        } => {
            let run = || {
                let password = cli::read_secret_file(&owner_password_file)?;
                cli::init(
                    &config,
                    &NewClinic {
                        clinic: &clinic,
                        timezone: &timezone,
                        clinic_type: &clinic_type,
                    },
                    &NewAccount {
                        email: &owner_email,
                        name: owner_name.as_deref(),
                        role: Role::Owner,
                        password: &password,
                    },
                )
            };
            (run(), json)
        }
        Command::Org { action } => match action {
            OrgAction::Add {
                clinic,
                timezone,
                clinic_type,
                json,
            } => (
                cli::org_add(
                    &config,
                    &NewClinic {
                        clinic: &clinic,
                        timezone: &timezone,
                        clinic_type: &clinic_type,
                    },
                ),
                json,
            ),
            OrgAction::List { json } => (cli::org_list(&config), json),
        },
        Command::User { action } => match action {
            UserAction::Add {
                org,
                email,
                name,
                role,
                password_file,
                json,
            } => {
                let run = || {
                    let role = Role::parse(&role)?;
                    let password = cli::read_secret_file(&password_file)?;
                    cli::user_add(
                        &config,
                        org,
                        &NewAccount {
                            email: &email,
                            name: name.as_deref(),
                            role,
                            password: &password,
                        },
                    )
                };
                (run(), json)
            }
            UserAction::Passwd {
                org,
                email,
                password_file,
                json,
            } => {
                let run = || {
                    let password = cli::read_secret_file(&password_file)?;
                    cli::user_passwd(&config, org, &email, &password)
                };
                (run(), json)
            }
            UserAction::Disable { org, email, json } => {
                (cli::user_set_disabled(&config, org, &email, true), json)
            }
            UserAction::Enable { org, email, json } => {
                (cli::user_set_disabled(&config, org, &email, false), json)
            }
            UserAction::List { org, json } => (cli::user_list(&config, org), json),
        },
        Command::Migrate { json } => (cli::migrate_cmd(&config), json),
        Command::Backup {
            path,
            encrypt,
            json,
        } => (cli::backup(&config, path.as_deref(), encrypt), json),
        Command::Restore {
            path,
            key_file,
            json,
        } => (cli::restore(&config, &path, key_file.as_deref()), json),
        Command::Check { online, json } => (cli::check(&config, online), json),
        Command::Vapi {
            action: VapiAction::Show { org, json },
        } => (cli::vapi_show(&config, org), json),
        Command::Vapi {
            action:
                VapiAction::SyncTools {
                    org,
                    assistant,
                    json,
                },
        } => (
            cli::vapi_sync_tools(&config, org, assistant.as_deref()),
            json,
        ),
        Command::Provider { action } => {
            use voxanne::cli::practitioners as p;
            match action {
                ProviderAction::Add { org, fields, json } => {
                    let result = if fields.name.is_none() {
                        Err(cli::CliError::Message(
                            "give the practitioner's --name".into(),
                        ))
                    } else {
                        p::add(&config, org, &fields.as_fields())
                    };
                    (result, json)
                }
                ProviderAction::List { org, json } => (p::list(&config, org), json),
                ProviderAction::Edit {
                    practitioner,
                    org,
                    fields,
                    json,
                } => (
                    p::edit(&config, org, &practitioner, &fields.as_fields()),
                    json,
                ),
                ProviderAction::Archive {
                    practitioner,
                    org,
                    json,
                } => (p::set_active(&config, org, &practitioner, false), json),
                ProviderAction::Restore {
                    practitioner,
                    org,
                    json,
                } => (p::set_active(&config, org, &practitioner, true), json),
            }
        }
        Command::Keys {
            action: KeysAction::Rotate { new_key_file, json },
        } => (cli::keys_rotate(&config, new_key_file.as_deref()), json),
        Command::Twilio {
            action: TwilioAction::Show { org, json },
        } => (cli::twilio_show(&config, org), json),
        Command::Twilio {
            action:
                TwilioAction::Set {
                    org,
                    account_sid,
                    auth_token_file,
                    api_key_sid,
                    api_key_secret_file,
                    from,
                    messaging_service_sid,
                    json,
                },
        } => {
            let secret = match auth_token_file.or(api_key_secret_file) {
                Some(path) => cli::read_secret_file(&path),
                None => Err(cli::CliError::Message(
                    "give --auth-token-file, or --api-key-sid with --api-key-secret-file".into(),
                )),
            };
            let result = secret.and_then(|secret| {
                cli::twilio_set(
                    &config,
                    org,
                    &voxanne::store::twilio_credentials::Input {
                        account_sid: &account_sid,
                        key_sid: api_key_sid.as_deref(),
                        secret: &secret,
                        from_number: from.as_deref(),
                        messaging_service_sid: messaging_service_sid.as_deref(),
                    },
                )
            });
            (result, json)
        }
        Command::Email { action } => email(&config, action),
    };
    match result {
        Ok(value) => {
            cli::print(&value, json);
            // `check --online` lists what needs attention; monitoring reads the exit status.
            let problems = value.get("problems").and_then(|p| p.as_array());
            if problems.is_some_and(|p| !p.is_empty()) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => fail(e),
    }
}

fn email(config: &Config, action: EmailAction) -> (cli::CliResult, bool) {
    match action {
        EmailAction::Set {
            org,
            host,
            port,
            tls,
            username,
            password_file,
            from,
            from_name,
            ca_file,
            json,
        } => {
            let run = || {
                let password = cli::read_secret_file(&password_file)?;
                let ca_pem = match &ca_file {
                    Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                        cli::CliError::Message(format!("cannot read {}: {e}", path.display()))
                    })?),
                    None => None,
                };
                cli::email_set(
                    config,
                    org,
                    &voxanne::store::email_settings::Input {
                        host: &host,
                        port: &port,
                        tls: &tls,
                        username: &username,
                        password: &password,
                        from_address: &from,
                        from_name: from_name.as_deref(),
                        ca_pem: ca_pem.as_deref(),
                    },
                )
            };
            (run(), json)
        }
        EmailAction::Show { org, json } => (cli::email_show(config, org), json),
        EmailAction::Digest {
            org, hour, json, ..
        } => (cli::email_digest(config, org, hour), json),
        EmailAction::Test { org, to, json } => (cli::email_test(config, org, &to), json),
    }
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("voxanne: {e}");
    ExitCode::FAILURE
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn serve(config: Config) -> ExitCode {
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async move {
        // Bind first: a taken port fails before anything is written.
        let listener = match tokio::net::TcpListener::bind(config.listen).await {
            Ok(l) => l,
            Err(e) => return fail(format!("VOXANNE_LISTEN: cannot listen on {}: {e}", config.listen)),
        };
        let webhook_listener = match config.webhook_listen {
            Some(addr) => match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => Some(l),
                Err(e) => return fail(format!("VOXANNE_WEBHOOK_LISTEN: cannot listen on {addr}: {e}")),
            },
            None => None,
        };
        let listeners = 1 + usize::from(webhook_listener.is_some());
        voxanne::net::fit_open_files_limit(listeners, &config.connections);
        let data_dir = config.data_dir.clone();
        let app = match App::open(config, std::sync::Arc::new(SystemClock)) {
            Ok(app) => app,
            Err(e) => return fail(e),
        };
        if app.generated_master_key {
            tracing::warn!(path = %data_dir.join("master.key").display(), "generated a new master key: back it up, secrets cannot be read without it");
        }
        let state = app.state().clone();
        tracing::info!(listen = %state.config.listen, webhook_listen = ?state.config.webhook_listen, data_dir = %data_dir.display(), "voxanne is serving");
        for warning in state.config.warnings() {
            tracing::warn!("{warning}");
        }
        if let Some(tls) = &state.tls {
            let info = tls.info();
            tracing::info!(sha256 = %info.sha256, not_after = %info.not_after, names = %info.names.join(","), "the dashboard serves HTTPS");
        }
        if let Some(url) = app.setup_url() {
            println!("\n  No clinic is set up yet. Open this one-time link to create it:\n\n    {url}\n");
            if let Some((elsewhere, sha256)) = app.setup_url_from_elsewhere() {
                println!("  or from another computer:\n\n    {elsewhere}\n\n  (certificate SHA-256 {sha256})\n");
            }
            tracing::info!(%url, "first run: open the setup link to create the clinic");
        }
        keep_watchdog_fed(&state);
        voxanne::systemd::notify("READY=1");
        match app.serve(listener, webhook_listener, shutdown_signal()).await {
            Ok(()) => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(e) => fail(format!("server error: {e}")),
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    voxanne::systemd::notify("STOPPING=1");
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Under a systemd watchdog, pings it while the database still answers a read, so a server
/// that stopped answering is restarted.
fn keep_watchdog_fed(state: &voxanne::app::AppState) {
    let Some(every) = voxanne::systemd::watchdog_every() else {
        return;
    };
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            if state.db.read(|_| Ok(())).await.is_ok() {
                voxanne::systemd::notify("WATCHDOG=1");
            }
            tokio::time::sleep(every).await;
        }
    });
}

fn healthcheck(config: &Config) -> ExitCode {
    use std::io::{Read, Write};
    let mut addr = config.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let timeout = std::time::Duration::from_secs(3);
    let answered = std::net::TcpStream::connect_timeout(&addr, timeout).and_then(|mut s| {
        s.set_read_timeout(Some(timeout))?;
        s.write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )?;
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"))
    });
    match answered {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => fail(format!("{addr} answered /healthz with an error")),
        Err(e) => fail(format!("{addr} did not answer /healthz: {e}")),
    }
}
