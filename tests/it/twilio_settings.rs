//! Settings → Twilio against the fake Twilio and fake Vapi: a save is checked with Twilio,
//! stored sealed and synced to Vapi; each refusal has its own message and stores nothing; a
//! Vapi failure keeps the save with the sync pending and a retry that works; owners only,
//! CSRF, and each clinic sees only its own set-up.

use crate::support;

use support::fake::{TWILIO_NUMBER, VOICE_ONLY_NUMBER};
use support::messaging::{ACCOUNT_SID, AUTH_TOKEN};
use support::{Options, TestApp};

const KEY_SID: &str = "SKfedcba9876543210fedcba9876543210";
const KEY_SECRET: &str = "keysecret_0a1b2c3d4e5f60718293a4b5";

fn token_form<'a>(csrf: &'a str, token: &'a str, from: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf_token", csrf),
        ("account_sid", ACCOUNT_SID),
        ("auth_token", token),
        ("api_key_sid", ""),
        ("api_key_secret", ""),
        ("from_number", from),
    ]
}

async fn post(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let res = client.post(app.url(path)).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, location, res.text().await.unwrap())
}

async fn get(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn stored(app: &TestApp, org_id: i64) -> i64 {
    app.query_i64(
        "SELECT COUNT(*) FROM twilio_credentials WHERE org_id = ?1",
        &[&org_id],
    )
}

fn sync_status(app: &TestApp, org_id: i64) -> String {
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    conn.query_row(
        "SELECT status FROM vapi_twilio_sync WHERE org_id = ?1",
        [org_id],
        |r| r.get(0),
    )
    .unwrap_or_else(|_| "none".into())
}

fn basic(user: &str, pass: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

#[tokio::test]
async fn valid_credentials_are_checked_stored_sealed_and_synced_once() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let (status, location, _) = post(
        &owner,
        &app,
        "/settings/twilio",
        &token_form(&csrf, AUTH_TOKEN, "(500) 555-0006"),
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/settings/twilio?saved=synced")
    );

    // Checked with Twilio: the account with SID + token, then the number on the account.
    let account = app
        .twilio
        .requests_to(&format!("/2010-04-01/Accounts/{ACCOUNT_SID}.json"));
    assert_eq!(account.len(), 1);
    assert_eq!(
        account[0].header("authorization"),
        Some(basic(ACCOUNT_SID, AUTH_TOKEN).as_str())
    );
    let numbers = app.twilio.requests_to(&format!(
        "/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json"
    ));
    assert_eq!(numbers.len(), 1);
    assert!(
        numbers[0].query.contains("PhoneNumber=%2B15005550006"),
        "{}",
        numbers[0].query
    );

    // Stored sealed: the token is nowhere in the database files; the page shows 4 characters.
    assert_eq!(stored(&app, app.a.org_id), 1);
    assert!(!app.db_files_contain(AUTH_TOKEN.as_bytes()));
    let page = get(&owner, &app, "/settings/twilio?saved=synced").await;
    assert!(!page.contains(AUTH_TOKEN));
    assert!(page.contains(&AUTH_TOKEN[AUTH_TOKEN.len() - 4..]));
    assert!(page.contains(ACCOUNT_SID));
    assert!(page.contains("Synced"), "{page}");

    // Synced: one credential created in Vapi with the private key; no number import asked.
    let created = app.vapi.requests_to("/credential");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].method, "POST");
    assert_eq!(
        created[0].header("authorization"),
        Some("Bearer vapi-test-private-key")
    );
    let body = created[0].json();
    assert_eq!(body["provider"], "twilio");
    assert_eq!(body["accountSid"], ACCOUNT_SID);
    assert_eq!(body["authToken"], AUTH_TOKEN);
    assert!(app.vapi.requests_to("/phone-number").is_empty());
    assert_eq!(sync_status(&app, app.a.org_id), "synced");
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE org_id = ?1 AND action = 'settings.twilio_saved' AND detail NOT LIKE '%' || ?2 || '%'",
            &[&app.a.org_id, &AUTH_TOKEN]
        ),
        1
    );

    // Saving again (a new token, importing the number) updates the same credential in Vapi.
    let new_token = "tok_00112233445566778899aabbccddeeff";
    let mut form = token_form(&csrf, new_token, TWILIO_NUMBER);
    form.push(("import_number", "1"));
    let (status, location, _) = post(&owner, &app, "/settings/twilio", &form).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/settings/twilio?saved=synced")
    );
    let calls = app.vapi.requests_to("/credential");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].method, "PATCH");
    assert_eq!(calls[1].path, created_id_path(&app));
    assert!(calls[1].json().get("provider").is_none());
    assert_eq!(calls[1].json()["authToken"], new_token);
    let phone = app.vapi.requests_to("/phone-number");
    let imported = phone.iter().find(|r| r.method == "POST").expect("imported");
    assert_eq!(imported.json()["number"], TWILIO_NUMBER);
    assert_eq!(imported.json()["smsEnabled"], false);
    assert_eq!(imported.json()["twilioAuthToken"], new_token);

    // A third save with nothing new creates nothing new in Vapi.
    let (status, _, _) = post(&owner, &app, "/settings/twilio", &form).await;
    assert_eq!(status, 303);
    let posts = |p: &str| {
        app.vapi
            .requests_to(p)
            .iter()
            .filter(|r| r.method == "POST")
            .count()
    };
    assert_eq!((posts("/credential"), posts("/phone-number")), (1, 1));
    assert!(!app.db_files_contain(new_token.as_bytes()));
}

/// The path of the credential created in Vapi, as recorded for the org.
fn created_id_path(app: &TestApp) -> String {
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    let id: String = conn
        .query_row(
            "SELECT credential_id FROM vapi_twilio_sync WHERE org_id = ?1",
            [app.a.org_id],
            |r| r.get(0),
        )
        .unwrap();
    format!("/credential/{id}")
}

#[tokio::test]
async fn an_api_key_is_checked_with_the_numbers_list() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let form = [
        ("csrf_token", csrf.as_str()),
        ("account_sid", ACCOUNT_SID),
        ("auth_token", ""),
        ("api_key_sid", KEY_SID),
        ("api_key_secret", KEY_SECRET),
        ("from_number", TWILIO_NUMBER),
    ];
    let (status, location, _) = post(&owner, &app, "/settings/twilio", &form).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/settings/twilio?saved=synced")
    );
    // A standard API key cannot read the account resource, so it is not asked for.
    assert!(app
        .twilio
        .requests_to(&format!("/2010-04-01/Accounts/{ACCOUNT_SID}.json"))
        .is_empty());
    let numbers = app.twilio.requests_to(&format!(
        "/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json"
    ));
    assert_eq!(numbers.len(), 1);
    assert_eq!(
        numbers[0].header("authorization"),
        Some(basic(KEY_SID, KEY_SECRET).as_str())
    );
    let body = app.vapi.requests_to("/credential")[0].json();
    assert_eq!(
        (body["apiKey"].as_str(), body["apiSecret"].as_str()),
        (Some(KEY_SID), Some(KEY_SECRET))
    );
    assert!(body.get("authToken").is_none());
    assert!(!app.db_files_contain(KEY_SECRET.as_bytes()));
    let page = get(&owner, &app, "/settings/twilio").await;
    assert!(page.contains(KEY_SID) && !page.contains(KEY_SECRET));
}

#[tokio::test]
async fn each_refusal_has_a_clear_message_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let account_path = format!("/2010-04-01/Accounts/{ACCOUNT_SID}.json");
    app.twilio.respond(
        &account_path,
        401,
        r#"{"code":20003,"detail":"Your AccountSid or AuthToken was incorrect.","message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}"#,
    );
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            token_form(&csrf, AUTH_TOKEN, TWILIO_NUMBER),
            "did not accept this Account SID and auth token (error 20003)",
        ),
        (
            token_form(&csrf, AUTH_TOKEN, "+15005550001"),
            "+15005550001 is not a phone number on this Twilio account",
        ),
        (
            token_form(&csrf, AUTH_TOKEN, VOICE_ONLY_NUMBER),
            "cannot send texts (it is not SMS-capable)",
        ),
        (
            token_form(&csrf, "short", TWILIO_NUMBER),
            "32-character value",
        ),
        (token_form(&csrf, AUTH_TOKEN, "not a number"), "From number"),
        (
            vec![
                ("csrf_token", csrf.as_str()),
                ("account_sid", ACCOUNT_SID),
                ("api_key_sid", KEY_SID),
                ("api_key_secret", ""),
                ("from_number", TWILIO_NUMBER),
            ],
            "secret as well as its SID",
        ),
        (
            vec![
                ("csrf_token", csrf.as_str()),
                ("account_sid", "ACnope"),
                ("auth_token", AUTH_TOKEN),
                ("from_number", TWILIO_NUMBER),
            ],
            "The Account SID should be",
        ),
    ];
    for (form, message) in cases {
        let (status, _, page) = post(&owner, &app, "/settings/twilio", &form).await;
        assert_eq!(status, 422, "{message}");
        assert!(page.contains(message), "expected “{message}” in {page}");
        assert!(
            !page.contains(AUTH_TOKEN),
            "the typed token is never shown again"
        );
    }
    // Twilio unreachable (5xx) gets its own message too.
    app.twilio
        .respond(&account_path, 503, "<html>unavailable</html>");
    let (status, _, page) = post(
        &owner,
        &app,
        "/settings/twilio",
        &token_form(&csrf, AUTH_TOKEN, TWILIO_NUMBER),
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("Twilio could not be reached"), "{page}");

    assert_eq!(stored(&app, app.a.org_id), 0);
    assert_eq!(sync_status(&app, app.a.org_id), "none");
    assert!(app.vapi.requests().is_empty());
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'settings.twilio%'",
            &[]
        ),
        0
    );
}

#[tokio::test]
async fn twilio_down_entirely_is_reported_and_nothing_is_stored() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = TestApp::spawn_with(Options {
        extra: vec![("TWILIO_API_BASE", dead)],
        ..Options::default()
    })
    .await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let (status, _, page) = post(
        &owner,
        &app,
        "/settings/twilio",
        &token_form(&csrf, AUTH_TOKEN, TWILIO_NUMBER),
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("Twilio could not be reached"), "{page}");
    assert_eq!(stored(&app, app.a.org_id), 0);
}

#[tokio::test]
async fn vapi_down_keeps_the_save_with_the_sync_pending_and_retry_works() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    app.vapi.respond(
        "/credential",
        503,
        r#"{"message":"Service Unavailable","statusCode":503}"#,
    );
    let (status, location, _) = post(
        &owner,
        &app,
        "/settings/twilio",
        &token_form(&csrf, AUTH_TOKEN, TWILIO_NUMBER),
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/settings/twilio?saved=pending")
    );
    assert_eq!(stored(&app, app.a.org_id), 1, "the local save stands");
    assert_eq!(sync_status(&app, app.a.org_id), "pending");
    let page = get(&owner, &app, &location).await;
    assert!(
        page.contains("Pending") && page.contains("HTTP 503"),
        "{page}"
    );
    assert!(page.contains("Retry sync"));

    let (status, location, _) = post(
        &owner,
        &app,
        "/settings/twilio/sync",
        &[("csrf_token", csrf.as_str())],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/settings/twilio?saved=synced")
    );
    assert_eq!(sync_status(&app, app.a.org_id), "synced");
    let page = get(&owner, &app, &location).await;
    assert!(page.contains("Synced") && !page.contains("Retry sync"));
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE org_id = ?1 AND action = 'settings.twilio_vapi_sync_retried'",
            &[&app.a.org_id]
        ),
        1
    );
}

#[tokio::test]
async fn a_pending_sync_is_retried_in_the_background() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    app.vapi.respond("/credential", 502, "{}");
    post(
        &owner,
        &app,
        "/settings/twilio",
        &token_form(&csrf, AUTH_TOKEN, TWILIO_NUMBER),
    )
    .await;
    assert_eq!(sync_status(&app, app.a.org_id), "pending");
    // Not yet: the attempt was just made.
    assert_eq!(
        voxanne::jobs::vapi_sync::run_due(&app.state).await.unwrap(),
        0
    );
    app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(
        voxanne::jobs::vapi_sync::run_due(&app.state).await.unwrap(),
        1
    );
    assert_eq!(sync_status(&app, app.a.org_id), "synced");
}

#[tokio::test]
async fn without_a_vapi_key_the_save_stands_and_says_why() {
    let app = TestApp::spawn_with(Options {
        extra: vec![("VAPI_PRIVATE_KEY", String::new())],
        ..Options::default()
    })
    .await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let (_, location, _) = post(
        &owner,
        &app,
        "/settings/twilio",
        &token_form(&csrf, AUTH_TOKEN, TWILIO_NUMBER),
    )
    .await;
    assert_eq!(location, "/settings/twilio?saved=pending");
    assert_eq!(stored(&app, app.a.org_id), 1);
    let page = get(&owner, &app, &location).await;
    assert!(page.contains("VAPI_PRIVATE_KEY is not set"), "{page}");
    assert!(app.vapi.requests().is_empty());
}

#[tokio::test]
async fn owners_only_with_csrf_and_each_clinic_sees_its_own() {
    let app = TestApp::spawn().await;
    let (staff, staff_csrf) = app.signed_in(app.a.staff_email).await;
    assert_eq!(
        staff
            .get(app.url("/settings/twilio"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let (status, _, _) = post(
        &staff,
        &app,
        "/settings/twilio",
        &token_form(&staff_csrf, AUTH_TOKEN, TWILIO_NUMBER),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = post(
        &staff,
        &app,
        "/settings/twilio/sync",
        &[("csrf_token", staff_csrf.as_str())],
    )
    .await;
    assert_eq!(status, 403);

    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let (status, _, _) = post(
        &owner,
        &app,
        "/settings/twilio",
        &token_form("not-the-token", AUTH_TOKEN, TWILIO_NUMBER),
    )
    .await;
    assert_eq!(status, 400, "a missing or wrong CSRF token is refused");
    assert_eq!(stored(&app, app.a.org_id), 0);
    assert!(
        app.twilio.requests().is_empty(),
        "refused before Twilio is asked"
    );

    let (status, _, _) = post(
        &owner,
        &app,
        "/settings/twilio",
        &token_form(&csrf, AUTH_TOKEN, TWILIO_NUMBER),
    )
    .await;
    assert_eq!(status, 303);
    let (b_owner, b_csrf) = app.signed_in(app.b.owner_email).await;
    let b_page = get(&b_owner, &app, "/settings/twilio").await;
    assert!(!b_page.contains(ACCOUNT_SID), "B never sees A's account");
    assert!(b_page.contains("Not connected yet"));
    assert_eq!(sync_status(&app, app.b.org_id), "none");
    // B's retry has nothing to sync and touches nothing of A's.
    let (status, _, page) = post(
        &b_owner,
        &app,
        "/settings/twilio/sync",
        &[("csrf_token", b_csrf.as_str())],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("Save the Twilio details first"));
    assert_eq!(app.vapi.requests_to("/credential").len(), 1);
    assert_eq!(stored(&app, app.b.org_id), 0);
    // B cannot take A's number: its texts and reports would reach A's dashboard.
    let (status, _, page) = post(
        &b_owner,
        &app,
        "/settings/twilio",
        &token_form(&b_csrf, AUTH_TOKEN, TWILIO_NUMBER),
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("another clinic on this appliance"), "{page}");
    assert_eq!(stored(&app, app.b.org_id), 0);
}

#[tokio::test]
async fn a_secret_rotation_sends_the_imported_number_again_with_the_new_secret() {
    let app = TestApp::spawn_with(Options {
        extra: vec![(
            "VOXANNE_PUBLIC_URL",
            "https://clinic.example.test".to_string(),
        )],
        ..Options::default()
    })
    .await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let mut form = token_form(&csrf, AUTH_TOKEN, TWILIO_NUMBER);
    form.push(("import_number", "1"));
    let (status, location, _) = post(&owner, &app, "/settings/twilio", &form).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/settings/twilio?saved=synced")
    );
    // The imported number is the one call-backs dial from.
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM orgs o JOIN vapi_twilio_sync s ON s.org_id = o.id
             WHERE o.id = ?1 AND o.vapi_phone_number_id = s.phone_number_id",
            &[&app.a.org_id]
        ),
        1
    );
    let old_secret = app.vapi_secret(app.a.org_id);
    let sent_secret = |app: &TestApp| {
        let phone = app.vapi.requests_to("/phone-number");
        let last = phone.last().expect("the number was sent").json();
        last["server"]["headers"]["X-Vapi-Secret"].clone()
    };
    assert_eq!(sent_secret(&app), old_secret.as_str());

    let (status, _, _) = post(
        &owner,
        &app,
        "/settings/voice/rotate",
        &[("csrf_token", csrf.as_str())],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(sync_status(&app, app.a.org_id), "pending");
    voxanne::jobs::vapi_sync::run_due(&app.state).await.unwrap();
    assert_eq!(sync_status(&app, app.a.org_id), "synced");
    let new_secret = app.vapi_secret(app.a.org_id);
    assert_ne!(new_secret, old_secret);
    assert_eq!(sent_secret(&app), new_secret.as_str());
    let imports = app
        .vapi
        .requests_to("/phone-number")
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(imports, 1, "updated, not imported twice");
    // A clinic that did not import its number has nothing to resend.
    let (b_owner, b_csrf) = app.signed_in(app.b.owner_email).await;
    let (status, _, _) = post(
        &b_owner,
        &app,
        "/settings/voice/rotate",
        &[("csrf_token", b_csrf.as_str())],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(sync_status(&app, app.b.org_id), "none");
}
