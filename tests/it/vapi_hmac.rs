//! Vapi HMAC credentials with each option of Vapi's HMAC plan (Settings → Voice agent): a
//! request signed that way is refused until the clinic chooses the option, then accepted, and a
//! request signed Vapi's default way no longer is. Bad options are refused and change nothing.

use crate::support;

use base64::Engine;
use hmac::{Hmac, Mac};
use support::vapi::tool_calls;
use support::TestApp;

/// The options as the form sends them, Vapi's defaults unless changed.
struct Options {
    fields: Vec<(&'static str, &'static str)>,
}

impl Options {
    fn defaults() -> Options {
        Options {
            fields: vec![
                ("algorithm", "sha256"),
                ("include_timestamp", "1"),
                ("timestamp_header", ""),
                ("signature_header", ""),
                ("signature_encoding", "hex"),
                ("signature_prefix", ""),
            ],
        }
    }

    fn with(mut self, name: &'static str, value: Option<&'static str>) -> Options {
        self.fields.retain(|(k, _)| *k != name);
        if let Some(value) = value {
            self.fields.push((name, value));
        }
        self
    }
}

/// Saves the options as the owner of org A; the status of the answer.
async fn choose(app: &TestApp, options: &Options) -> (u16, String) {
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let mut form = options.fields.clone();
    form.push(("csrf_token", csrf.as_str()));
    let res = owner
        .post(app.url("/settings/voice/hmac"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

enum Algorithm {
    Sha256,
    Sha512,
    Sha1,
}

/// The MAC of `{timestamp}.{body}`, or of the body alone.
fn mac(algorithm: &Algorithm, key: &str, timestamp: Option<&str>, body: &str) -> Vec<u8> {
    let text = match timestamp {
        Some(ts) => format!("{ts}.{body}"),
        None => body.to_string(),
    };
    fn run<M: Mac + hmac::digest::KeyInit>(key: &str, text: &str) -> Vec<u8> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key.as_bytes()).unwrap();
        m.update(text.as_bytes());
        m.finalize().into_bytes().to_vec()
    }
    match algorithm {
        Algorithm::Sha256 => run::<Hmac<sha2::Sha256>>(key, &text),
        Algorithm::Sha512 => run::<Hmac<sha2::Sha512>>(key, &text),
        Algorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, &text),
    }
}

/// The body every request here carries: a price question, which acts on nothing.
fn body() -> String {
    tool_calls(&[(
        "call_hmac",
        "get_service_price",
        serde_json::json!({"service": "botox"}),
    )])
    .to_string()
}

/// Posts `raw` to the tools route with `headers` only; the status.
async fn post(app: &TestApp, raw: &str, headers: &[(&str, String)]) -> u16 {
    let mut req = reqwest::Client::new()
        .post(app.url("/api/vapi/tools"))
        .header("content-type", "application/json")
        .body(raw.to_string());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    req.send().await.unwrap().status().as_u16()
}

fn now() -> String {
    support::default_now().timestamp().to_string()
}

/// Signed the default way (SHA-256, hex, `x-signature` over `x-timestamp`.body).
fn default_headers(secret: &str, raw: &str) -> Vec<(&'static str, String)> {
    let ts = now();
    let sig = hex::encode(mac(&Algorithm::Sha256, secret, Some(&ts), raw));
    vec![("x-signature", sig), ("x-timestamp", ts)]
}

/// Refused before `options` are chosen, accepted after; the default signature is then refused.
async fn only_once_chosen(
    options: Options,
    signed: impl Fn(&str, &str) -> Vec<(&'static str, String)>,
) {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let raw = body();
    let headers = signed(&secret, &raw);
    assert_eq!(
        post(&app, &raw, &headers).await,
        401,
        "before the option is chosen"
    );
    assert_eq!(post(&app, &raw, &default_headers(&secret, &raw)).await, 200);
    assert_eq!(choose(&app, &options).await.0, 303);
    assert_eq!(
        post(&app, &raw, &headers).await,
        200,
        "once the option is chosen"
    );
    assert_eq!(post(&app, &raw, &default_headers(&secret, &raw)).await, 401);
    // Org B keeps Vapi's defaults.
    let b = app.vapi_secret(app.b.org_id);
    assert_eq!(post(&app, &raw, &default_headers(&b, &raw)).await, 200);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE org_id = ?1 AND action = 'settings.vapi_hmac'",
            &[&app.a.org_id]
        ),
        1
    );
}

#[tokio::test]
async fn sha512_signatures() {
    only_once_chosen(
        Options::defaults().with("algorithm", Some("sha512")),
        |secret, raw| {
            let ts = now();
            let sig = hex::encode(mac(&Algorithm::Sha512, secret, Some(&ts), raw));
            vec![("x-signature", sig), ("x-timestamp", ts)]
        },
    )
    .await;
}

#[tokio::test]
async fn sha1_signatures() {
    only_once_chosen(
        Options::defaults().with("algorithm", Some("sha1")),
        |secret, raw| {
            let ts = now();
            let sig = hex::encode(mac(&Algorithm::Sha1, secret, Some(&ts), raw));
            vec![("x-signature", sig), ("x-timestamp", ts)]
        },
    )
    .await;
}

#[tokio::test]
async fn signatures_without_a_timestamp() {
    only_once_chosen(
        Options::defaults().with("include_timestamp", None),
        |secret, raw| {
            vec![(
                "x-signature",
                hex::encode(mac(&Algorithm::Sha256, secret, None, raw)),
            )]
        },
    )
    .await;
}

#[tokio::test]
async fn a_timestamp_in_a_header_of_the_clinics_choice() {
    only_once_chosen(
        Options::defaults().with("timestamp_header", Some("X-Signed-At")),
        |secret, raw| {
            let ts = now();
            let sig = hex::encode(mac(&Algorithm::Sha256, secret, Some(&ts), raw));
            vec![("x-signature", sig), ("x-signed-at", ts)]
        },
    )
    .await;
}

#[tokio::test]
async fn a_signature_in_a_header_of_the_clinics_choice() {
    only_once_chosen(
        Options::defaults().with("signature_header", Some("X-Clinic-Signature")),
        |secret, raw| {
            let ts = now();
            let sig = hex::encode(mac(&Algorithm::Sha256, secret, Some(&ts), raw));
            vec![("x-clinic-signature", sig), ("x-timestamp", ts)]
        },
    )
    .await;
}

#[tokio::test]
async fn base64_signatures() {
    only_once_chosen(
        Options::defaults().with("signature_encoding", Some("base64")),
        |secret, raw| {
            let ts = now();
            let tag = mac(&Algorithm::Sha256, secret, Some(&ts), raw);
            let sig = base64::engine::general_purpose::STANDARD.encode(tag);
            vec![("x-signature", sig), ("x-timestamp", ts)]
        },
    )
    .await;
}

#[tokio::test]
async fn a_signature_prefix() {
    only_once_chosen(
        Options::defaults().with("signature_prefix", Some("sha256=")),
        |secret, raw| {
            let ts = now();
            let tag = mac(&Algorithm::Sha256, secret, Some(&ts), raw);
            vec![
                ("x-signature", format!("sha256={}", hex::encode(tag))),
                ("x-timestamp", ts),
            ]
        },
    )
    .await;
}

#[tokio::test]
async fn bad_options_are_refused_with_a_reason_and_change_nothing() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let raw = body();
    assert_eq!(
        choose(&app, &Options::defaults().with("algorithm", Some("sha1")))
            .await
            .0,
        303
    );
    let sha1 = || {
        let ts = now();
        vec![
            (
                "x-signature",
                hex::encode(mac(&Algorithm::Sha1, &secret, Some(&ts), &raw)),
            ),
            ("x-timestamp", ts),
        ]
    };
    let cases = [
        (
            Options::defaults().with("algorithm", Some("md5")),
            "algorithm",
        ),
        (
            Options::defaults().with("signature_encoding", Some("base32")),
            "encoding",
        ),
        (
            Options::defaults().with("signature_header", Some("x signature")),
            "signature header",
        ),
        (
            Options::defaults().with("signature_header", Some("Authorization")),
            "carries the secret",
        ),
        (
            Options::defaults().with("timestamp_header", Some("x-signature")),
            "headers of their own",
        ),
        (
            Options::defaults().with("signature_prefix", Some("sha 256=")),
            "prefix",
        ),
    ];
    for (options, says) in cases {
        let (status, page) = choose(&app, &options).await;
        assert_eq!(status, 422, "{says}");
        assert!(page.contains(says), "{says}: the page says why");
        // What was chosen before still holds.
        assert_eq!(post(&app, &raw, &sha1()).await, 200, "{says}");
    }
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'settings.vapi_hmac'",
            &[]
        ),
        1
    );
    // Staff cannot change it.
    let (staff, staff_csrf) = app.signed_in(app.a.staff_email).await;
    let res = staff
        .post(app.url("/settings/voice/hmac"))
        .form(&[
            ("csrf_token", staff_csrf.as_str()),
            ("algorithm", "sha256"),
            ("signature_encoding", "hex"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(post(&app, &raw, &sha1()).await, 200);
    // The page shows what is in force.
    let (owner, _) = app.signed_in(app.a.owner_email).await;
    let page = owner
        .get(app.url("/settings/voice"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<option value="sha1" selected>"#), "{page}");
}
