//! Headless-Chromium harness for integration tests: speaks W3C WebDriver to a
//! private `chromedriver` over HTTP (reqwest), no WebDriver client crate.
//!
//! ```ignore
//! let Some(b) = Browser::launch().await? else { return Ok(()) }; // skipped: not installed
//! b.goto(&format!("{base}/login")).await?;
//! b.fill("#username", "alice").await?;
//! b.click("button[type=submit]").await?;
//! b.wait_for_text("h1", "Dashboard").await?;
//! b.quit().await?;
//! ```
//!
//! Environment:
//! * `CHROMEDRIVER` – chromedriver binary (default: `chromedriver` on PATH, then /usr/bin/chromedriver)
//! * `CHROME_BIN` – browser binary (default: /usr/bin/chromium, then `chromium`/`google-chrome` on PATH)
//! * `VOXANNE_REQUIRE_BROWSER=1` – a missing browser is an error instead of a skip (CI)
//! * `VOXANNE_BROWSER_DEBUG=1` – chromedriver inherits stdout/stderr and runs `--verbose`
//!
//! Cleanup: `quit()` deletes the session (chromedriver closes Chromium and reaps it).
//! Dropping a `Browser` without `quit()` (e.g. a panicking test) does the same with a
//! blocking, bounded HTTP request, then kills chromedriver, kills any process still
//! using our private profile dir, and removes the temp dir.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};

/// W3C web element identifier key.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long `find`, `click`, `fill`, `select`, `wait_for_text` poll.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_millis(100);
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(20);
const NEW_SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Per-HTTP-request bound; above the 30 s page-load / script timeouts given to the driver.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(45);
const PAGE_LOAD_TIMEOUT_MS: u64 = 30_000;

const CHROME_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--password-store=basic",
    "--window-size=1280,800",
];

pub type Result<T, E = BrowserError> = std::result::Result<T, E>;

#[derive(Debug)]
pub enum BrowserError {
    /// chromedriver/chromium missing and `VOXANNE_REQUIRE_BROWSER=1`.
    NotInstalled(String),
    /// The driver answered with a W3C error (`error` is e.g. "no such element").
    WebDriver {
        command: String,
        status: u16,
        error: String,
        message: String,
    },
    /// A bounded wait ran out.
    Timeout(String),
    Http(reqwest::Error),
    Io(std::io::Error),
    /// Unexpected response shape, chromedriver exit, etc.
    Protocol(String),
}

impl BrowserError {
    /// True if this is a WebDriver error with the given W3C error code.
    pub fn is_webdriver(&self, code: &str) -> bool {
        matches!(self, BrowserError::WebDriver { error, .. } if error == code)
    }
}

impl std::fmt::Display for BrowserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BrowserError::NotInstalled(m) => write!(f, "browser not installed: {m}"),
            BrowserError::WebDriver {
                command,
                status,
                error,
                message,
            } => write!(f, "WebDriver {command} -> {status} {error}: {message}"),
            BrowserError::Timeout(m) => write!(f, "timed out: {m}"),
            BrowserError::Http(e) => write!(f, "HTTP to chromedriver failed: {e}"),
            BrowserError::Io(e) => write!(f, "I/O error: {e}"),
            BrowserError::Protocol(m) => write!(f, "WebDriver protocol error: {m}"),
        }
    }
}

impl std::error::Error for BrowserError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BrowserError::Http(e) => Some(e),
            BrowserError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for BrowserError {
    fn from(e: reqwest::Error) -> Self {
        BrowserError::Http(e)
    }
}

impl From<std::io::Error> for BrowserError {
    fn from(e: std::io::Error) -> Self {
        BrowserError::Io(e)
    }
}

// ---------------------------------------------------------------------------
// HTTP plumbing

/// One WebDriver request. POST bodies default to `{}` (the spec requires a JSON object).
async fn wd_request(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    body: Option<Value>,
    timeout: Duration,
) -> Result<Value> {
    let label = format!("{method} {url}");
    let mut req = http.request(method.clone(), url).timeout(timeout);
    if method == Method::POST {
        req = req.json(&body.unwrap_or_else(|| json!({})));
    }
    let resp = req.send().await?;
    let status = resp.status();
    let text = resp.text().await?;
    let parsed: Value = serde_json::from_str(&text).map_err(|e| {
        BrowserError::Protocol(format!(
            "{label}: non-JSON response ({status}): {e}: {text:.200}"
        ))
    })?;
    let mut value = match parsed {
        Value::Object(mut m) => m.remove("value").unwrap_or(Value::Null),
        other => other,
    };
    let err_code = value
        .get("error")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if !status.is_success() || err_code.is_some() {
        let message = value
            .get_mut("message")
            .map(Value::take)
            .and_then(|m| m.as_str().map(str::to_owned))
            .unwrap_or_else(|| text.chars().take(500).collect());
        return Err(BrowserError::WebDriver {
            command: label,
            status: status.as_u16(),
            error: err_code.unwrap_or_else(|| "unknown error".into()),
            message,
        });
    }
    Ok(value)
}

/// Shared handle to one WebDriver session (cheap to clone).
#[derive(Clone)]
struct Session {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`
    url: Arc<str>,
}

impl Session {
    async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}{}", self.url, path);
        wd_request(&self.http, method, &url, body, COMMAND_TIMEOUT).await
    }
    async fn get(&self, path: &str) -> Result<Value> {
        self.cmd(Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.cmd(Method::POST, path, Some(body)).await
    }
    fn element(&self, v: Value) -> Result<Element> {
        let id = v
            .get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .ok_or_else(|| BrowserError::Protocol(format!("not an element reference: {v}")))?;
        Ok(Element {
            session: self.clone(),
            id: id.to_owned(),
        })
    }
    async fn find_once(&self, base: &str, css: &str) -> Result<Element> {
        let v = self
            .post(
                &format!("{base}/element"),
                json!({"using": "css selector", "value": css}),
            )
            .await?;
        self.element(v)
    }
    async fn find_all(&self, base: &str, css: &str) -> Result<Vec<Element>> {
        let v = self
            .post(
                &format!("{base}/elements"),
                json!({"using": "css selector", "value": css}),
            )
            .await?;
        match v {
            Value::Array(items) => items.into_iter().map(|e| self.element(e)).collect(),
            other => Err(BrowserError::Protocol(format!("expected array: {other}"))),
        }
    }
}

fn as_string(v: Value, what: &str) -> Result<String> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(BrowserError::Protocol(format!(
            "{what}: expected string, got {other}"
        ))),
    }
}

/// Errors worth retrying while the page is still settling.
fn is_transient(e: &BrowserError) -> bool {
    [
        "no such element",
        "stale element reference",
        "element not interactable",
        "element click intercepted",
    ]
    .iter()
    .any(|c| e.is_webdriver(c))
}

fn css_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\a "),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------
// Process management

/// chromedriver child + private temp dir. Drop kills everything and removes the dir.
/// Where the browser runs: on this host (the default), or inside a network namespace so the
/// appliance sees it as another computer. In a namespace, chromedriver listens on the
/// namespace's address and accepts only `allowed` (the host's end of the veth pair).
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub netns: Option<Netns>,
    /// Added to Chromium's command line.
    pub chrome_args: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Netns {
    pub name: String,
    /// The namespace's own address, where chromedriver listens.
    pub addr: std::net::IpAddr,
    /// The host's address facing the namespace.
    pub allowed: std::net::IpAddr,
}

struct Driver {
    child: Child,
    host: std::net::IpAddr,
    port: u16,
    /// Unique per launch; every Chromium process (incl. crashpad) has it in its argv.
    temp_dir: PathBuf,
    profile_dir: PathBuf,
    remove_dir: bool,
}

impl Driver {
    async fn start(
        chromedriver: &Path,
        http: &reqwest::Client,
        netns: Option<&Netns>,
    ) -> Result<Driver> {
        let temp_dir = unique_temp_dir()?;
        let profile_dir = temp_dir.join("profile");
        std::fs::create_dir_all(&profile_dir)?;
        let debug = std::env::var_os("VOXANNE_BROWSER_DEBUG").is_some();
        let mut last_err = None;
        // The free-port probe can race with other processes: retry a few times.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let (mut cmd, host) = match netns {
                None => (
                    Command::new(chromedriver),
                    std::net::IpAddr::from([127, 0, 0, 1]),
                ),
                Some(ns) => {
                    let mut cmd = Command::new("ip");
                    cmd.args(["netns", "exec", &ns.name])
                        .arg(chromedriver)
                        .arg(format!("--allowed-ips={}", ns.allowed));
                    (cmd, ns.addr)
                }
            };
            cmd.arg(format!("--port={port}"))
                .stdin(Stdio::null())
                // Chromium puts its crashpad database under $XDG_CONFIG_HOME/chromium
                // (not the user-data-dir): keep it out of $HOME and inside our temp dir.
                .env("XDG_CONFIG_HOME", temp_dir.join("config"))
                .env("XDG_CACHE_HOME", temp_dir.join("cache"));
            if debug {
                cmd.arg("--verbose");
            } else {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
            let child = match cmd.spawn() {
                Ok(c) => c,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&temp_dir);
                    let what = chromedriver.display();
                    return Err(BrowserError::Protocol(format!("spawning {what}: {e}")));
                }
            };
            // From here on, Drop cleans up (also the temp dir).
            let mut driver = Driver {
                child,
                host,
                port,
                temp_dir: temp_dir.clone(),
                profile_dir: profile_dir.clone(),
                remove_dir: true,
            };
            match driver.wait_ready(http).await {
                Ok(()) => return Ok(driver),
                Err(e) => {
                    // Keep the dir for the next attempt; Drop would delete it.
                    driver.remove_dir = false;
                    last_err = Some(e);
                }
            }
        }
        let _ = std::fs::remove_dir_all(&temp_dir);
        Err(last_err.unwrap_or_else(|| BrowserError::Protocol("chromedriver did not start".into())))
    }

    async fn wait_ready(&mut self, http: &reqwest::Client) -> Result<()> {
        let url = format!("{}/status", self.base_url());
        let deadline = Instant::now() + DRIVER_READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(BrowserError::Protocol(format!(
                    "chromedriver exited early ({status}); set VOXANNE_BROWSER_DEBUG=1 for its output"
                )));
            }
            let ready = wd_request(http, Method::GET, &url, None, Duration::from_secs(2))
                .await
                .map(|v| v.get("ready").and_then(Value::as_bool).unwrap_or(false));
            if let Ok(true) = ready {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(BrowserError::Timeout(format!(
                    "chromedriver not ready after {DRIVER_READY_TIMEOUT:?} ({url})"
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}", SocketAddr::new(self.host, self.port))
    }

    /// Blocking, bounded `DELETE /session/{id}` usable from `Drop` (no runtime needed).
    /// chromedriver only answers after Chromium has exited, so the status line is enough.
    fn delete_session_blocking(&self, session_id: &str) {
        let addr = SocketAddr::new(self.host, self.port);
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
            return;
        };
        let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
        let _ = s.set_read_timeout(Some(Duration::from_secs(15)));
        let req = format!(
            "DELETE /session/{session_id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
             Connection: close\r\nContent-Length: 0\r\n\r\n",
            self.port
        );
        if s.write_all(req.as_bytes()).is_err() {
            return;
        }
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        while let Ok(n) = s.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    }

    /// Live processes (Chromium leftovers) whose argv mentions our temp dir.
    /// Zombies have an empty cmdline and are skipped (their parent/init reaps them).
    fn strays(&self) -> Vec<String> {
        let needle = self.temp_dir.as_os_str().as_encoded_bytes();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let me = std::process::id().to_string();
        entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|pid| pid != &me && pid.bytes().all(|b| b.is_ascii_digit()))
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| c.windows(needle.len()).any(|w| w == needle))
                    .unwrap_or(false)
            })
            .collect()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Normally empty: DELETE /session waits for Chromium to exit. Bounded otherwise.
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let strays = self.strays();
            if strays.is_empty() || Instant::now() >= deadline {
                break;
            }
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(&strays)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            std::thread::sleep(Duration::from_millis(50));
        }
        if self.remove_dir {
            for _ in 0..10 {
                match std::fs::remove_dir_all(&self.temp_dir) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        std::thread::sleep(Duration::from_millis(100))
                    }
                    _ => break,
                }
            }
        }
    }
}

fn unique_temp_dir() -> Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "voxanne-browser-{}-{}-{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// `Ok(path)` if found, `Err(description of what was tried)` otherwise.
fn locate(env: &str, defaults: &[&str], path_names: &[&str]) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(env).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        return if is_executable(&p) {
            Ok(p)
        } else {
            Err(format!("{env}={} is not an executable file", p.display()))
        };
    }
    defaults
        .iter()
        .map(PathBuf::from)
        .find(|p| is_executable(p))
        .or_else(|| path_names.iter().find_map(|n| which(n)))
        .ok_or_else(|| format!("tried ${env}, {defaults:?}, {path_names:?} on PATH"))
}

fn skip_or_fail(what: &str, detail: &str) -> Result<Option<Browser>> {
    let msg = format!("{what} not found (install chromium chromium-driver)");
    let require = std::env::var("VOXANNE_REQUIRE_BROWSER")
        .map(|v| v == "1" || v.eq_ignore_ascii_case("true"))
        .unwrap_or(false);
    if require {
        return Err(BrowserError::NotInstalled(format!(
            "{msg}; {detail} (VOXANNE_REQUIRE_BROWSER=1)"
        )));
    }
    // Written to the real stderr on purpose: libtest's capture only intercepts
    // print!/eprint!, so this shows up even for passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!!!!!!!\nSKIPPING browser test: {msg}\n  {detail}\n  (set VOXANNE_REQUIRE_BROWSER=1 to make this an error)\n!!!!!!!!!!"
    );
    Ok(None)
}

// ---------------------------------------------------------------------------
// Browser

pub struct Browser {
    session: Session,
    session_id: String,
    session_open: bool,
    // Declared last: dropped after `Browser::drop` has deleted the session.
    driver: Driver,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("session", &self.session.url)
            .field("open", &self.session_open)
            .finish()
    }
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a new headless Chromium session.
    /// Returns `Ok(None)` (after printing a loud SKIPPING line) when chromedriver or
    /// chromium is not installed, unless `VOXANNE_REQUIRE_BROWSER=1`, then `Err`.
    pub async fn launch() -> Result<Option<Browser>> {
        Self::launch_with(Launch::default()).await
    }

    /// [`Browser::launch`] with a place to run and extra Chromium arguments.
    pub async fn launch_with(launch: Launch) -> Result<Option<Browser>> {
        let chromedriver = match locate(
            "CHROMEDRIVER",
            &["/usr/bin/chromedriver"],
            &["chromedriver"],
        ) {
            Ok(p) => p,
            Err(detail) => return skip_or_fail("chromedriver", &detail),
        };
        let chrome = match locate(
            "CHROME_BIN",
            &["/usr/bin/chromium"],
            &["chromium", "chromium-browser", "google-chrome"],
        ) {
            Ok(p) => p,
            Err(detail) => return skip_or_fail("chromium", &detail),
        };

        let http = reqwest::Client::builder()
            .no_proxy() // never send loopback WebDriver traffic through $HTTP_PROXY
            .timeout(COMMAND_TIMEOUT)
            .build()?;
        let driver = Driver::start(&chromedriver, &http, launch.netns.as_ref()).await?;

        let mut args: Vec<String> = CHROME_ARGS.iter().map(|s| s.to_string()).collect();
        args.extend(launch.chrome_args);
        args.push(format!("--user-data-dir={}", driver.profile_dir.display()));
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "pageLoadStrategy": "normal",
                    // Leave alerts open so XSS tests can observe them via alert_present().
                    "unhandledPromptBehavior": "ignore",
                    "timeouts": {
                        "implicit": 0,
                        "pageLoad": PAGE_LOAD_TIMEOUT_MS,
                        "script": PAGE_LOAD_TIMEOUT_MS
                    },
                    "goog:chromeOptions": {
                        "binary": chrome.to_string_lossy(),
                        "args": args
                    }
                }
            }
        });
        let url = format!("{}/session", driver.base_url());
        let v = wd_request(&http, Method::POST, &url, Some(caps), NEW_SESSION_TIMEOUT).await?;
        let session_id = v
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| BrowserError::Protocol(format!("new session: no sessionId in {v}")))?
            .to_owned();
        Ok(Some(Browser {
            session: Session {
                http,
                url: format!("{url}/{session_id}").into(),
            },
            session_id,
            session_open: true,
            driver,
        }))
    }

    /// Sets the window (= viewport in headless mode) size in CSS px, e.g. 1280x800 or 390x844.
    pub async fn set_window_width(&self, width: u32, height: u32) -> Result<()> {
        self.session
            .post("/window/rect", json!({"width": width, "height": height}))
            .await
            .map(drop)
    }

    /// Navigates and waits for the page load (bounded at 30 s). An alert raised during
    /// load is left open (see `alert_present`) instead of failing the navigation.
    pub async fn goto(&self, url: &str) -> Result<()> {
        match self.session.post("/url", json!({ "url": url })).await {
            Err(e) if e.is_webdriver("unexpected alert open") => Ok(()),
            r => r.map(drop),
        }
    }

    pub async fn current_url(&self) -> Result<String> {
        as_string(self.session.get("/url").await?, "current_url")
    }

    pub async fn title(&self) -> Result<String> {
        as_string(self.session.get("/title").await?, "title")
    }

    pub async fn source(&self) -> Result<String> {
        as_string(self.session.get("/source").await?, "source")
    }

    /// First element matching `css`, polling up to `WAIT_TIMEOUT` for it to appear.
    pub async fn find(&self, css: &str) -> Result<Element> {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            match self.session.find_once("", css).await {
                Err(e) if e.is_webdriver("no such element") => {
                    if Instant::now() >= deadline {
                        return Err(BrowserError::Timeout(format!(
                            "no element matches `{css}` after {WAIT_TIMEOUT:?}"
                        )));
                    }
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
                r => return r,
            }
        }
    }

    /// All elements currently matching `css` (no waiting; may be empty).
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        self.session.find_all("", css).await
    }

    /// Polls up to `WAIT_TIMEOUT` until some element matching `css` has text containing `text`.
    pub async fn wait_for_text(&self, css: &str, text: &str) -> Result<Element> {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            seen.clear();
            for el in self.find_all(css).await? {
                match el.text().await {
                    Ok(t) if t.contains(text) => return Ok(el),
                    Ok(t) => seen.push(t),
                    Err(e) if e.is_webdriver("stale element reference") => {}
                    Err(e) => return Err(e),
                }
            }
            if Instant::now() >= deadline {
                return Err(BrowserError::Timeout(format!(
                    "no `{css}` with text containing {text:?} after {WAIT_TIMEOUT:?}; saw {seen:?}"
                )));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Runs `op` on the element matching `css`, retrying transient failures
    /// (not yet present / stale / not interactable) until `WAIT_TIMEOUT`.
    async fn with_element<T, F, Fut>(&self, css: &str, mut op: F) -> Result<T>
    where
        F: FnMut(Element) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let r = match self.session.find_once("", css).await {
                Ok(el) => op(el).await,
                Err(e) => Err(e),
            };
            match r {
                Err(e) if is_transient(&e) => {
                    if Instant::now() >= deadline {
                        return Err(BrowserError::Timeout(format!(
                            "`{css}` after {WAIT_TIMEOUT:?}: {e}"
                        )));
                    }
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
                r => return r,
            }
        }
    }

    /// Clears the field matching `css` and types `value`.
    pub async fn fill(&self, css: &str, value: &str) -> Result<()> {
        self.with_element(css, |el| async move {
            el.clear().await?;
            el.send_keys(value).await
        })
        .await
    }

    pub async fn click(&self, css: &str) -> Result<()> {
        self.with_element(css, |el| async move { el.click().await })
            .await
    }

    /// Selects the `<option value="...">` of the `<select>` matching `css` (fires change).
    pub async fn select(&self, css: &str, value: &str) -> Result<()> {
        let option_css = format!("option[value={}]", css_string(value));
        self.with_element(css, |el| {
            let option_css = option_css.clone();
            async move { el.find(&option_css).await?.click().await }
        })
        .await
    }

    /// Saves a PNG of the viewport, creating parent directories.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let b64 = as_string(self.session.get("/screenshot").await?, "screenshot")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| BrowserError::Protocol(format!("screenshot base64: {e}")))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png)?;
        Ok(())
    }

    /// Synchronous script (`return ...;` to get a value). Pass elements via `Element::to_arg`.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.session
            .post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// True if a JS alert/confirm/prompt dialog is open (XSS probes).
    pub async fn alert_present(&self) -> Result<bool> {
        Ok(self.alert_text().await?.is_some())
    }

    /// Text of the open dialog, if any.
    pub async fn alert_text(&self) -> Result<Option<String>> {
        match self.session.get("/alert/text").await {
            Ok(v) => Ok(Some(v.as_str().unwrap_or_default().to_owned())),
            Err(e) if e.is_webdriver("no such alert") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Dismisses the open dialog (error "no such alert" if none).
    pub async fn dismiss_alert(&self) -> Result<()> {
        self.session
            .post("/alert/dismiss", json!({}))
            .await
            .map(drop)
    }

    /// Deletes the session (closes Chromium), stops chromedriver, removes the profile.
    pub async fn quit(mut self) -> Result<()> {
        let r = self.session.cmd(Method::DELETE, "", None).await;
        if r.is_ok() {
            self.session_open = false;
        }
        r.map(drop) // Drop does the rest (and retries the DELETE if it failed).
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.session_open {
            self.driver.delete_session_blocking(&self.session_id);
        }
    }
}

// ---------------------------------------------------------------------------
// Element

#[derive(Clone)]
pub struct Element {
    session: Session,
    id: String,
}

impl std::fmt::Debug for Element {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Element({})", self.id)
    }
}

impl Element {
    fn path(&self, suffix: &str) -> String {
        format!("/element/{}{}", self.id, suffix)
    }

    /// Rendered (visible) text.
    pub async fn text(&self) -> Result<String> {
        as_string(self.session.get(&self.path("/text")).await?, "text")
    }

    /// Attribute (or same-named property, per WebDriver "Get Element Attribute").
    pub async fn attr(&self, name: &str) -> Result<Option<String>> {
        let v = self
            .session
            .get(&self.path(&format!("/attribute/{name}")))
            .await?;
        Ok(match v {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        })
    }

    pub async fn click(&self) -> Result<()> {
        self.session
            .post(&self.path("/click"), json!({}))
            .await
            .map(drop)
    }

    pub async fn clear(&self) -> Result<()> {
        self.session
            .post(&self.path("/clear"), json!({}))
            .await
            .map(drop)
    }

    pub async fn send_keys(&self, text: &str) -> Result<()> {
        self.session
            .post(&self.path("/value"), json!({ "text": text }))
            .await
            .map(drop)
    }

    pub async fn is_displayed(&self) -> Result<bool> {
        match self.session.get(&self.path("/displayed")).await? {
            Value::Bool(b) => Ok(b),
            other => Err(BrowserError::Protocol(format!("displayed: {other}"))),
        }
    }

    /// First descendant matching `css` (no waiting).
    pub async fn find(&self, css: &str) -> Result<Element> {
        self.session.find_once(&self.path(""), css).await
    }

    /// JSON reference for passing this element to `Browser::execute`.
    pub fn to_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}
