//! Slow and many clients: the header-read and request timeouts, and the per-listener connection
//! cap that keeps a flood of idle connections from keeping sign-ins and tool calls waiting.

use crate::support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::vapi::tool_calls;
use support::{Options, TestApp, PASSWORD};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HELD: usize = 800;

/// Opens `n` connections that send the start of a request head and never finish it.
async fn half_open(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("partial head");
        held.push(s);
    }
    held
}

/// How many of `held` the server has closed (a read sees the end of the stream).
async fn closed_by_server(held: &mut [TcpStream]) -> usize {
    let mut closed = 0;
    for s in held.iter_mut() {
        let mut buf = [0u8; 256];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(2), s.read(&mut buf)).await {
            closed += 1;
        }
    }
    closed
}

/// This process holds both ends of every connection: make room for them where the hard limit
/// allows.
fn allow_open_files(n: u64) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let now = getrlimit(Resource::Nofile);
    if now.current.is_some_and(|soft| soft < n) {
        let target = now.maximum.map_or(n, |hard| hard.min(n));
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(target),
                maximum: now.maximum,
            },
        );
    }
}

#[tokio::test]
async fn sign_in_and_tool_call_stay_fast_with_800_idle_connections_on_each_listener() {
    allow_open_files(8192);
    let app = TestApp::spawn().await;
    let cap = app.config.connections.max_per_listener;
    assert!(
        cap < HELD,
        "the test needs more held connections than the cap"
    );
    let secret = app.vapi_secret(app.a.org_id);
    let mut dashboard_held = half_open(app.addr, HELD).await;
    let mut webhook_held = half_open(app.webhook_addr, HELD).await;
    // Give the server time to accept everything that is queued.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let client = app.client();
    let signed_in = app.login(&client, app.a.owner_email, PASSWORD).await;
    let sign_in = started.elapsed();
    assert_eq!(signed_in.status(), 303);

    let started = Instant::now();
    let res = reqwest::Client::new()
        .post(app.webhook_url("/api/vapi/tools"))
        .header("x-vapi-secret", &secret)
        .json(&tool_calls(&[(
            "slow-1",
            "get_clinic_context",
            serde_json::json!({}),
        )]))
        .send()
        .await
        .expect("tool call");
    let status = res.status();
    let body = res.text().await.expect("body");
    let tool_call = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("slow-1"), "{body}");

    eprintln!(
        "with {HELD} half-open connections on each listener (cap {cap}): sign-in {} ms, tool call {} ms",
        sign_in.as_millis(),
        tool_call.as_millis()
    );
    assert!(sign_in < Duration::from_secs(1), "sign-in took {sign_in:?}");
    assert!(
        tool_call < Duration::from_secs(1),
        "tool call took {tool_call:?}"
    );

    // The connections beyond the cap made way; the rest are still held.
    let dashboard_closed = closed_by_server(&mut dashboard_held).await;
    let webhook_closed = closed_by_server(&mut webhook_held).await;
    eprintln!("closed to make way: dashboard {dashboard_closed}, webhooks {webhook_closed}");
    assert!(dashboard_closed >= HELD - cap, "{dashboard_closed}");
    assert!(webhook_closed >= HELD - cap, "{webhook_closed}");
    assert!(dashboard_closed < HELD && webhook_closed < HELD);
}

#[tokio::test]
async fn an_unfinished_request_head_is_closed_after_the_header_timeout() {
    let app = TestApp::spawn_with(Options {
        extra: vec![("VOXANNE_HEADER_TIMEOUT_SECS", "1".into())],
        ..Options::default()
    })
    .await;
    let mut held = half_open(app.addr, 1).await;
    let started = Instant::now();
    let mut buf = [0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(5), held[0].read(&mut buf))
        .await
        .expect("closed before 5 s");
    let waited = started.elapsed();
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the connection was closed: {read:?}"
    );
    assert!(
        waited >= Duration::from_millis(900),
        "closed too early: {waited:?}"
    );
    // A complete request on a new connection is still answered.
    let res = reqwest::get(app.url("/healthz")).await.expect("healthz");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_request_whose_body_stalls_gets_408_after_the_request_timeout() {
    let app = TestApp::spawn_with(Options {
        extra: vec![
            ("VOXANNE_REQUEST_TIMEOUT_SECS", "1".into()),
            ("VOXANNE_IDLE_TIMEOUT_SECS", "5".into()),
        ],
        ..Options::default()
    })
    .await;
    let secret = app.vapi_secret(app.a.org_id);
    let mut s = TcpStream::connect(app.webhook_addr).await.expect("connect");
    let head = format!(
        "POST /api/vapi/tools HTTP/1.1\r\nHost: x\r\nX-Vapi-Secret: {secret}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"message\":"
    );
    s.write_all(head.as_bytes())
        .await
        .expect("head and part of the body");
    let started = Instant::now();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(4), s.read_to_end(&mut reply)).await;
    let waited = started.elapsed();
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[tokio::test]
async fn stopping_finishes_a_request_in_progress_and_does_not_wait_for_idle_connections() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let _idle = half_open(app.addr, 20).await;
    let body = tool_calls(&[("stop-1", "get_clinic_context", serde_json::json!({}))]).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut s = TcpStream::connect(app.addr).await.expect("connect");
    let head = format!(
        "POST /api/vapi/tools HTTP/1.1\r\nHost: x\r\nX-Vapi-Secret: {secret}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    );
    s.write_all(head.as_bytes())
        .await
        .expect("head and half the body");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let stopping = tokio::spawn(app.stop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !stopping.is_finished(),
        "stopped with a request in progress"
    );
    s.write_all(rest.as_bytes())
        .await
        .expect("the rest of the body");
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut reply))
        .await
        .expect("the reply, then the connection closes")
        .expect("read");
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("stop-1"), "{reply}");
    tokio::time::timeout(Duration::from_secs(3), stopping)
        .await
        .expect("stopped without waiting for the idle connections")
        .expect("stop");
    eprintln!("stopped in {} ms", started.elapsed().as_millis());
}

/// A free loopback port (bound, then released for the server to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The real binary with only 512 open files allowed: 800 idle connections on each listener
/// would exhaust them without the cap.
#[tokio::test]
async fn the_binary_with_few_open_files_still_answers_under_800_idle_connections_per_listener() {
    allow_open_files(8192);
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let password = dir.path().join("pw");
    std::fs::write(&password, format!("{PASSWORD}\n")).expect("password file");
    let (port, webhook_port) = (free_port(), free_port());
    let voxanne = |shell: &str| {
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c")
            .arg(format!("{shell} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_voxanne"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("VOXANNE_CONFIG", "/dev/null")
            .env("VOXANNE_DATA_DIR", &data)
            .env("VOXANNE_MASTER_KEY", support::MASTER_KEY)
            .env("VOXANNE_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "VOXANNE_WEBHOOK_LISTEN",
                format!("127.0.0.1:{webhook_port}"),
            )
            .env("VOXANNE_MAX_CONNECTIONS", "128");
        cmd
    };
    let init = voxanne("true")
        .args(["init", "--clinic", "Glow", "--timezone", "America/Denver"])
        .args(["--clinic-type", "dental"])
        .args(["--owner-email", "o@glow.test", "--owner-password-file"])
        .arg(&password)
        .output()
        .expect("init");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let shown = voxanne("true")
        .args(["vapi", "show", "--json"])
        .output()
        .expect("vapi show");
    let secret = serde_json::from_slice::<serde_json::Value>(&shown.stdout).expect("json")
        ["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let mut server = voxanne("ulimit -n 512")
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let dashboard: SocketAddr = ([127, 0, 0, 1], port).into();
    let webhooks: SocketAddr = ([127, 0, 0, 1], webhook_port).into();
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("http://{webhooks}/healthz"))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let _dashboard_held = half_open(dashboard, HELD).await;
    let _webhook_held = half_open(webhooks, HELD).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let started = Instant::now();
    let page = client
        .get(format!("http://{dashboard}/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    let csrf = support::extract_csrf(&page).expect("csrf");
    let res = client
        .post(format!("http://{dashboard}/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "o@glow.test"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("sign-in");
    let sign_in = started.elapsed();
    assert_eq!(res.status(), 303);

    let started = Instant::now();
    let res = client
        .post(format!("http://{webhooks}/api/vapi/tools"))
        .header("x-vapi-secret", &secret)
        .json(&tool_calls(&[(
            "few-files-1",
            "get_clinic_context",
            serde_json::json!({}),
        )]))
        .send()
        .await
        .expect("tool call");
    let status = res.status();
    let body = res.text().await.expect("body");
    let tool_call = started.elapsed();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("few-files-1"), "{body}");
    eprintln!(
        "real binary, 512 open files, {HELD} half-open connections on each listener (cap 128): sign-in {} ms, tool call {} ms",
        sign_in.as_millis(),
        tool_call.as_millis()
    );
    assert!(sign_in < Duration::from_secs(1), "sign-in took {sign_in:?}");
    assert!(
        tool_call < Duration::from_secs(1),
        "tool call took {tool_call:?}"
    );
}
