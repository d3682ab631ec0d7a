//! Application assembly: `AppState`, the routers, and `serve`, which production and the tests
//! both use to run the real app on real listeners.

use crate::clock::SharedClock;
use crate::config::{Config, ConfigError};
use crate::crypto::{self, Vault};
use crate::store::{orgs, Db};
use crate::web;
use crate::web::throttle::LoginThrottle;
use axum::Router;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub clock: SharedClock,
    pub vault: Vault,
    /// The one-time setup token, present while no clinic exists.
    pub setup_token: Arc<Mutex<Option<String>>>,
    pub throttle: Arc<LoginThrottle>,
    /// Serializes deliveries of the same tool call.
    pub tool_locks: Arc<crate::voice::dispatch::KeyedLocks>,
    pub twilio: crate::integrations::twilio::Client,
    /// Nudges the outbox sender when a text is queued.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Nudges the mail sender when an e-mail is queued.
    pub mail_wake: Arc<tokio::sync::Notify>,
    /// Limits how often the last Vapi request is written down.
    pub webhook_activity: Arc<web::webhook_activity::Throttle>,
    /// Crash points only the tests arm.
    pub failpoints: Arc<crate::failpoints::Failpoints>,
    /// The dashboard listener's HTTPS, when it serves it itself.
    pub tls: Option<Arc<crate::tls::Tls>>,
}

/// A start-up failure, printed as one line naming the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Other(String),
}

pub struct App {
    state: AppState,
    _lock: DataDirLock,
    /// True when this start generated `DATA_DIR/master.key`.
    pub generated_master_key: bool,
}

impl App {
    /// Prepares the data directory, the vault and the database. Checks everything it can
    /// before writing anything, so bad configuration leaves nothing half-made.
    pub fn open(config: Config, clock: SharedClock) -> Result<App, StartupError> {
        let generated_master_key =
            !config.data_dir.join(crypto::MASTER_KEY_FILE).exists() && config.master_key.is_none();
        let (db, vault) = open_store(&config)?;
        let lock = DataDirLock::acquire(&config.data_dir).map_err(|_| {
            ConfigError::new(
                "VOXANNE_DATA_DIR",
                format!(
                    "{} is in use by another Voxanne server",
                    config.data_dir.display()
                ),
            )
        })?;
        let needs_setup = !db
            .read_blocking(orgs::any_exists)
            .map_err(|e| StartupError::Other(e.to_string()))?;
        let setup_token = needs_setup.then(|| crypto::random_token(24));
        let now = clock.now().timestamp();
        let mid_send = db
            .write_blocking(move |tx| crate::store::outbox_reconcile::due_now_system(tx, now))
            .map_err(|e| StartupError::Other(e.to_string()))?;
        if mid_send > 0 {
            tracing::warn!(
                texts = mid_send,
                "texts were being sent when the server last stopped; they are looked up on Twilio before anything is decided"
            );
        }
        let tls = crate::tls::Tls::load(&config.tls, &config.data_dir, clock.now())
            .map_err(StartupError::Other)?;
        let twilio = crate::integrations::twilio::Client::new(&config.twilio_api_base);
        Ok(App {
            state: AppState {
                config: Arc::new(config),
                db,
                clock,
                vault,
                setup_token: Arc::new(Mutex::new(setup_token)),
                throttle: Arc::new(LoginThrottle::default()),
                tool_locks: Arc::default(),
                twilio,
                outbox_wake: Arc::default(),
                mail_wake: Arc::default(),
                webhook_activity: Arc::default(),
                failpoints: Arc::default(),
                tls,
            },
            generated_master_key,
            _lock: lock,
        })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The first-run URL, while no clinic exists: on this machine over loopback, which is
    /// always plain http (or https when the listener is bound to one address only).
    pub fn setup_url(&self) -> Option<String> {
        let token = self.state.setup_token.lock().ok()?.clone()?;
        let listen = self.state.config.listen;
        let (scheme, host) = if listen.ip().is_unspecified() {
            ("http", format!("127.0.0.1:{}", listen.port()))
        } else if listen.ip().is_loopback() || self.state.tls.is_none() {
            ("http", listen.to_string())
        } else {
            ("https", listen.to_string())
        };
        Some(format!("{scheme}://{host}/setup?token={token}"))
    }

    /// The same link for another computer of the clinic's network, when the dashboard serves
    /// HTTPS beyond loopback, with the certificate's fingerprint to check it by.
    pub fn setup_url_from_elsewhere(&self) -> Option<(String, String)> {
        let token = self.state.setup_token.lock().ok()?.clone()?;
        let tls = self.state.tls.as_ref()?;
        let listen = self.state.config.listen;
        if listen.ip().is_loopback() {
            return None;
        }
        let info = tls.info();
        let host = if listen.ip().is_unspecified() {
            crate::tls::names::for_other_computers(&info.names)?
        } else {
            listen.ip().to_string()
        };
        Some((
            format!("https://{host}:{}/setup?token={token}", listen.port()),
            info.sha256,
        ))
    }

    /// Serves the dashboard on `listener` and, if given, only the webhook routes on
    /// `webhook_listener` (each with its own connection cap, see [`crate::net`]), until
    /// `shutdown` completes; in-flight requests finish, then the WAL is checkpointed.
    pub async fn serve(
        self,
        listener: TcpListener,
        webhook_listener: Option<TcpListener>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let App { state, _lock, .. } = self;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        crate::jobs::spawn_all(&state, stop_rx.clone());
        let limits = state.config.connections;
        let main = crate::net::serve(
            listener,
            router(state.clone()),
            limits,
            state.tls.clone(),
            stop_rx.clone(),
        );
        let webhooks = webhook_listener.map(|l| {
            crate::net::serve(
                l,
                webhook_router(state.clone()),
                limits,
                None,
                stop_rx.clone(),
            )
        });
        let result = match webhooks {
            Some(w) => {
                let (a, b) = tokio::join!(main, w);
                a.and(b)
            }
            None => main.await,
        };
        if let Err(e) = state.db.checkpoint().await {
            tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
        }
        result
    }
}

/// Opens the data directory's vault and database (applying migrations). Checks everything it
/// can before writing anything, so bad configuration leaves nothing half-made.
pub fn open_store(config: &Config) -> Result<(Db, Vault), StartupError> {
    if let Some(key) = &config.master_key {
        crypto::decode_key(key.expose()).map_err(|m| ConfigError::new("VOXANNE_MASTER_KEY", m))?;
    }
    prepare_data_dir(config)?;
    let (vault, _) = Vault::load_or_create(config)?;
    let db = Db::open(&config.db_path()).map_err(|e| {
        StartupError::Other(format!(
            "VOXANNE_DATA_DIR: cannot open the database {}: {}",
            config.db_path().display(),
            e
        ))
    })?;
    let vault = crate::keys::finish_interrupted_rotation(config, &db, vault)?;
    Ok((db, vault))
}

/// An exclusive lock on `DATA_DIR/voxanne.lock`, held by a running server so that a second
/// server or a restore cannot use the same data directory at the same time.
pub struct DataDirLock {
    _file: std::fs::File,
}

impl DataDirLock {
    pub fn acquire(data_dir: &std::path::Path) -> std::io::Result<Self> {
        let path = data_dir.join("voxanne.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        crate::private_files::restrict(&path)?;
        file.try_lock()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Self { _file: file })
    }
}

fn prepare_data_dir(config: &Config) -> Result<(), ConfigError> {
    let dir = &config.data_dir;
    let fail = |what: String| ConfigError::new("VOXANNE_DATA_DIR", what);
    crate::private_files::create_dir_all(dir)
        .map_err(|e| fail(format!("cannot create {} owner-only: {e}", dir.display())))?;
    let probe = dir.join(".voxanne-write-test");
    std::fs::write(&probe, b"ok")
        .map_err(|e| fail(format!("{} is not writable: {e}", dir.display())))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The full router for the main listener.
pub fn router(state: AppState) -> Router {
    web::middleware::around(
        web::webhook_routes(state.clone()).merge(web::dashboard_routes(state.clone())),
    )
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        web::https_only::enforce,
    ))
    .with_state(state)
}

/// Only the webhook routes and probes: what a tunnel may reach.
pub fn webhook_router(state: AppState) -> Router {
    web::middleware::around(web::webhook_routes(state.clone())).with_state(state)
}
