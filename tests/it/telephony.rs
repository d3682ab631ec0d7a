//! Hybrid telephony against the fake Twilio: the eight JSON endpoints with their success and
//! error status codes, the caller-ID status callback (signed, refused otherwise with nothing
//! changed), the hourly limit, expiry and clean-up, every carrier × mode × ring time over
//! HTTP, the wizard pages without JavaScript, and two clinics that never see each other.

use crate::support;

use reqwest::{Client, Method};
use serde_json::{json, Value};
use support::messaging::{ACCOUNT_SID, AUTH_TOKEN, FROM};
use support::{Options, TestApp};
use voxanne::cli;
use voxanne::domain::forwarding::{self, Carrier, Mode};
use voxanne::store::twilio_credentials::Input;

const PUBLIC: &str = "https://clinic.example.test";
const CLINIC: &str = "+14155550123";
const B_ACCOUNT: &str = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const B_TOKEN: &str = "tok_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const OUTGOING: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/OutgoingCallerIds";

async fn spawn() -> TestApp {
    let app = TestApp::spawn_with(Options {
        extra: vec![("VOXANNE_PUBLIC_URL", PUBLIC.to_string())],
        ..Options::default()
    })
    .await;
    app.set_twilio(app.a.org_id);
    cli::twilio_set(
        &app.config,
        Some(app.b.org_id),
        &Input {
            account_sid: B_ACCOUNT,
            key_sid: None,
            secret: B_TOKEN,
            from_number: Some("+15005550011"),
            messaging_service_sid: None,
        },
    )
    .unwrap();
    app
}

/// A signed-in owner calling the JSON API (CSRF header on state changes).
struct Api<'a> {
    app: &'a TestApp,
    client: Client,
    csrf: String,
}

impl<'a> Api<'a> {
    async fn owner(app: &'a TestApp, email: &str) -> Api<'a> {
        let (client, csrf) = app.signed_in(email).await;
        Api { app, client, csrf }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, self.app.url(path))
            .header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None).await
    }

    async fn initiate(&self, number: &str) -> (u16, Value) {
        self.post(
            "/api/telephony/verify-caller-id/initiate",
            json!({"phoneNumber": number, "country": "US", "friendlyName": "Front desk"}),
        )
        .await
    }

    /// A verified number through the signed callback; its id.
    async fn verified(&self, number: &str) -> i64 {
        let (s, v) = self.initiate(number).await;
        assert_eq!(s, 201, "{v}");
        let cb = self.app.twilio.answer_call(number, true).unwrap();
        let res = cb
            .post(&format!("http://{}", self.app.webhook_addr), AUTH_TOKEN)
            .await;
        assert_eq!(res.status(), 204);
        v["id"].as_i64().unwrap()
    }
}

fn audit_count(app: &TestApp, action: &str) -> i64 {
    app.query_i64(
        "SELECT COUNT(*) FROM audit_log WHERE action = ?1",
        &[&action],
    )
}

#[tokio::test]
async fn a_number_is_verified_by_twilio_and_forwarding_becomes_active() {
    let app = spawn().await;
    let api = Api::owner(&app, app.a.owner_email).await;

    let (s, v) = api.initiate("(415) 555-0123").await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["phoneNumber"], CLINIC);
    assert_eq!(v["status"], "pending");
    let sent = app.twilio.validation(CLINIC).expect("Twilio was asked");
    assert_eq!(v["validationCode"], sent.code.as_str());
    assert_eq!(sent.friendly_name, "Front desk");
    assert_eq!(
        sent.status_callback.as_deref(),
        Some("https://clinic.example.test/api/twilio/caller-id")
    );
    assert_eq!(sent.call_delay.as_deref(), Some("5"));
    let req = &app.twilio.requests_to(&format!("{OUTGOING}.json"))[0];
    assert!(
        req.body.contains("PhoneNumber=%2B14155550123"),
        "{}",
        req.body
    );
    // Only a hash of the code is kept.
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM caller_ids WHERE id = ?1 AND code_hash LIKE '$argon2id$%'",
            &[&id]
        ),
        1
    );

    // Twilio has not seen the code yet: still pending.
    let (s, v) = api
        .post(
            "/api/telephony/verify-caller-id/confirm",
            json!({"verifiedCallerId": id}),
        )
        .await;
    assert_eq!((s, v["verified"].clone()), (200, json!(false)), "{v}");

    let cb = app.twilio.answer_call(CLINIC, true).unwrap();
    let res = cb
        .post(&format!("http://{}", app.webhook_addr), AUTH_TOKEN)
        .await;
    assert_eq!(res.status(), 204);
    let (s, v) = api
        .post(
            "/api/telephony/verify-caller-id/confirm",
            json!({"phoneNumber": CLINIC}),
        )
        .await;
    assert_eq!((s, v["status"].clone()), (200, json!("verified")), "{v}");
    let (s, v) = api.get("/api/telephony/verified-numbers").await;
    assert_eq!(s, 200);
    assert_eq!(v["numbers"][0]["verified"], true);
    // Verifying it again is a conflict and does not make Twilio call.
    let before = app.twilio.requests_to(&format!("{OUTGOING}.json")).len();
    assert_eq!(api.initiate(CLINIC).await.0, 409);
    assert_eq!(
        app.twilio.requests_to(&format!("{OUTGOING}.json")).len(),
        before
    );

    let (s, cfg) = api
        .post(
            "/api/telephony/forwarding-config",
            json!({"verifiedCallerId": id, "carrier": "tmobile", "mode": "safety_net", "ringSeconds": 20}),
        )
        .await;
    assert_eq!(s, 201, "{cfg}");
    assert_eq!(cfg["activationCode"], "**004*15005550006*11*20#");
    assert_eq!(cfg["deactivationCode"], "##004#");
    assert_eq!(cfg["forwardTo"], FROM);
    assert_eq!(cfg["status"], "pending");
    let cfg_id = cfg["id"].as_i64().unwrap();
    let (s, _) = api
        .post(
            "/api/telephony/forwarding-config",
            json!({"verifiedCallerId": id, "carrier": "att", "mode": "total_ai"}),
        )
        .await;
    assert_eq!(s, 409, "one live set-up per number");
    let (s, list) = api
        .get(&format!(
            "/api/telephony/forwarding-config?verifiedCallerId={id}"
        ))
        .await;
    assert_eq!((s, list["configs"].as_array().unwrap().len()), (200, 1));
    let (s, v) = api
        .post(
            "/api/telephony/forwarding-config/confirm",
            json!({"id": cfg_id}),
        )
        .await;
    assert_eq!((s, v["status"].clone()), (200, json!("active")));
    let (s, v) = api
        .delete(&format!("/api/telephony/forwarding-config/{cfg_id}"))
        .await;
    assert_eq!((s, v["status"].clone()), (200, json!("disabled")));
    assert_eq!(v["deactivationCode"], "##004#");
    // A disabled set-up cannot be confirmed back on.
    let (s, _) = api
        .post(
            "/api/telephony/forwarding-config/confirm",
            json!({"id": cfg_id}),
        )
        .await;
    assert_eq!(s, 409);

    // A new set-up, then removing the number removes it too, and the Twilio caller ID.
    let (s, cfg2) = api
        .post(
            "/api/telephony/forwarding-config",
            json!({"verifiedCallerId": id, "carrier": "verizon", "mode": "total_ai"}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(cfg2["activationCode"], "*725005550006");
    let (s, v) = api
        .delete(&format!("/api/telephony/verified-numbers/{id}"))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["removedFromTwilio"], true);
    assert_eq!(v["removedConfigurations"][0]["deactivationCode"], "*73");
    assert!(app
        .twilio
        .requests()
        .iter()
        .any(|r| r.method == "DELETE" && r.path.starts_with(&format!("{OUTGOING}/PN"))));
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM forwarding_configs", &[]),
        0
    );
    assert_eq!(
        api.delete(&format!("/api/telephony/verified-numbers/{id}"))
            .await
            .0,
        404
    );
    for action in [
        "telephony.verification_started",
        "telephony.number_verified",
        "telephony.forwarding_created",
        "telephony.forwarding_activated",
        "telephony.forwarding_disabled",
        "telephony.number_removed",
    ] {
        assert!(audit_count(&app, action) >= 1, "{action} audited");
    }
}

#[tokio::test]
async fn confirm_asks_twilio_when_no_callback_came() {
    let app = spawn().await;
    let api = Api::owner(&app, app.a.owner_email).await;
    let (_, v) = api.initiate(CLINIC).await;
    let id = v["id"].as_i64().unwrap();
    // The person typed the code, but the callback never reached us.
    let _ = app.twilio.answer_call(CLINIC, true);
    let (s, v) = api
        .post(
            "/api/telephony/verify-caller-id/confirm",
            json!({"verifiedCallerId": id}),
        )
        .await;
    assert_eq!((s, v["verified"].clone()), (200, json!(true)), "{v}");
    assert!(app
        .twilio
        .requests()
        .iter()
        .any(|r| r.method == "GET" && r.query.contains("PhoneNumber=%2B14155550123")));

    // A number already verified in the Twilio Console: 200 straight away, no call.
    app.twilio.add_verified(ACCOUNT_SID, "+14155550199");
    let (s, v) = api.initiate("+1 415 555 0199").await;
    assert_eq!((s, v["status"].clone()), (200, json!("verified")), "{v}");
    assert!(v.get("validationCode").is_none());
}

#[tokio::test]
async fn bad_input_and_wrong_callers_get_clear_errors() {
    let app = spawn().await;
    let api = Api::owner(&app, app.a.owner_email).await;
    let initiate = "/api/telephony/verify-caller-id/initiate";
    let raw = api
        .client
        .post(app.url(initiate))
        .header("x-csrf-token", &api.csrf)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(api.post(initiate, json!({})).await.0, 400);
    let (s, v) = api.post(initiate, json!({"phoneNumber": "call me"})).await;
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().contains("letters"), "{v}");
    assert_eq!(
        api.post(initiate, json!({"phoneNumber": "555"})).await.0,
        400
    );
    assert_eq!(
        api.post(
            "/api/telephony/verify-caller-id/confirm",
            json!({"verifiedCallerId": "x"})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        api.post(
            "/api/telephony/verify-caller-id/confirm",
            json!({"verifiedCallerId": 999})
        )
        .await
        .0,
        404
    );
    assert_eq!(
        api.get("/api/telephony/forwarding-config?verifiedCallerId=abc")
            .await
            .0,
        400
    );
    assert_eq!(
        api.get("/api/telephony/forwarding-config?verifiedCallerId=999")
            .await
            .0,
        404
    );
    assert_eq!(
        api.post(
            "/api/telephony/forwarding-config/confirm",
            json!({"id": 999})
        )
        .await
        .0,
        404
    );
    assert_eq!(
        api.delete("/api/telephony/forwarding-config/999").await.0,
        404
    );
    // Set-up for a number that is not verified yet.
    let (_, v) = api.initiate(CLINIC).await;
    let pending = v["id"].as_i64().unwrap();
    let (s, _) = api
        .post(
            "/api/telephony/forwarding-config",
            json!({"verifiedCallerId": pending, "carrier": "att", "mode": "total_ai"}),
        )
        .await;
    assert_eq!(s, 409);

    // Not signed in, a staff member, a session without the CSRF header.
    let anon = reqwest::Client::new()
        .get(app.url("/api/telephony/verified-numbers"))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    let staff = Api::owner(&app, app.a.staff_email).await;
    assert_eq!(staff.initiate("+14155550111").await.0, 403);
    assert_eq!(staff.get("/api/telephony/verified-numbers").await.0, 200);
    let no_csrf = api
        .client
        .post(app.url(initiate))
        .json(&json!({"phoneNumber": "+14155550111"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 400);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM caller_ids WHERE phone_number = '+14155550111'",
            &[]
        ),
        0
    );

    // Twilio down: 502, and the start is not counted against the hour.
    app.twilio.respond(&format!("{OUTGOING}.json"), 503, "{}");
    let (s, _) = api.initiate("+14155550112").await;
    assert_eq!(s, 502);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM caller_id_starts WHERE phone_number = '+14155550112'",
            &[]
        ),
        0
    );
    // Twilio connected but no clinic Twilio account: clear 400.
    app.state
        .db
        .write_blocking(|tx| {
            tx.execute("DELETE FROM twilio_credentials", [])?;
            Ok(())
        })
        .unwrap();
    let (s, v) = api.initiate("+14155550113").await;
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().contains("Twilio"), "{v}");
}

#[tokio::test]
async fn api_tokens_can_run_the_whole_flow() {
    let app = spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let page = owner
        .post(app.url("/settings/api-tokens"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Phone setup"),
            ("access", "read_write"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = page.find("vxa_").expect("token shown");
    let token: String = page[at..]
        .split(|c: char| c == '<' || c.is_whitespace())
        .next()
        .unwrap()
        .to_string();
    let res = Client::new()
        .post(app.url("/api/telephony/verify-caller-id/initiate"))
        .bearer_auth(&token)
        .json(&json!({"phoneNumber": CLINIC}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let bad = Client::new()
        .get(app.url("/api/telephony/verified-numbers"))
        .bearer_auth("vxa_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'telephony.verification_started' AND actor = 'system:api-token'",
            &[]
        ),
        1
    );
}

#[tokio::test]
async fn three_verification_calls_per_number_per_hour() {
    let app = spawn().await;
    let api = Api::owner(&app, app.a.owner_email).await;
    for _ in 0..3 {
        assert_eq!(api.initiate(CLINIC).await.0, 201);
    }
    let res = api
        .client
        .post(app.url("/api/telephony/verify-caller-id/initiate"))
        .header("x-csrf-token", &api.csrf)
        .json(&json!({"phoneNumber": CLINIC}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(app.twilio.requests_to(&format!("{OUTGOING}.json")).len(), 3);
    // Another number is not affected; removing and re-adding does not reset the count.
    assert_eq!(api.initiate("+14155550124").await.0, 201);
    let id = app.query_i64(
        "SELECT id FROM caller_ids WHERE phone_number = ?1",
        &[&CLINIC],
    );
    assert_eq!(
        api.delete(&format!("/api/telephony/verified-numbers/{id}"))
            .await
            .0,
        200
    );
    assert_eq!(api.initiate(CLINIC).await.0, 429);
    app.clock.advance(chrono::Duration::minutes(61));
    // The session idled out meanwhile.
    let api = Api::owner(&app, app.a.owner_email).await;
    let (s, v) = api.initiate(CLINIC).await;
    assert_eq!(s, 201, "{v}");
}

#[tokio::test]
async fn expiry_failure_and_the_clean_up_job() {
    let app = spawn().await;
    let api = Api::owner(&app, app.a.owner_email).await;
    let (_, v) = api.initiate(CLINIC).await;
    let id = v["id"].as_i64().unwrap();
    app.clock.advance(chrono::Duration::minutes(11));
    let (s, _) = api
        .post(
            "/api/telephony/verify-caller-id/confirm",
            json!({"verifiedCallerId": id}),
        )
        .await;
    assert_eq!(s, 410);
    let status = |id: i64| {
        app.query_i64(
            "SELECT CASE status WHEN 'pending' THEN 0 WHEN 'verified' THEN 1 WHEN 'failed' THEN 2 ELSE 3 END
             FROM caller_ids WHERE id = ?1",
            &[&id],
        )
    };
    assert_eq!(status(id), 0, "not yet written down");
    let done = voxanne::jobs::telephony::run_due(&app.state).await.unwrap();
    assert_eq!(done.expired, 1);
    assert_eq!(status(id), 3);

    // A failed call (wrong code) reported by Twilio.
    let (_, v) = api.initiate("+14155550124").await;
    let failed = v["id"].as_i64().unwrap();
    let cb = app.twilio.answer_call("+14155550124", false).unwrap();
    assert_eq!(
        cb.post(&format!("http://{}", app.webhook_addr), AUTH_TOKEN)
            .await
            .status(),
        204
    );
    assert_eq!(status(failed), 2);
    let (s, _) = api
        .post(
            "/api/telephony/verify-caller-id/confirm",
            json!({"verifiedCallerId": failed}),
        )
        .await;
    assert_eq!(s, 410);

    // A number whose set-up still refers to it is kept even when it reads as failed.
    let kept = api.verified("+14155550125").await;
    let (s, _) = api
        .post(
            "/api/telephony/forwarding-config",
            json!({"verifiedCallerId": kept, "carrier": "att", "mode": "total_ai"}),
        )
        .await;
    assert_eq!(s, 201);
    app.state
        .db
        .write_blocking(move |tx| {
            tx.execute(
                "UPDATE caller_ids SET status = 'failed' WHERE id = ?1",
                [kept],
            )?;
            Ok(())
        })
        .unwrap();
    app.clock.advance(chrono::Duration::hours(23));
    assert_eq!(
        voxanne::jobs::telephony::run_due(&app.state)
            .await
            .unwrap()
            .deleted,
        0
    );
    app.clock.advance(chrono::Duration::hours(2));
    let done = voxanne::jobs::telephony::run_due(&app.state).await.unwrap();
    assert_eq!(done.deleted, 2);
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM caller_ids", &[]),
        1,
        "only the one a set-up uses is left"
    );
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM caller_id_starts", &[]),
        0
    );
}

#[tokio::test]
async fn unsigned_forged_and_other_clinic_callbacks_change_nothing() {
    let app = spawn().await;
    let api = Api::owner(&app, app.a.owner_email).await;
    let (_, v) = api.initiate(CLINIC).await;
    let id = v["id"].as_i64().unwrap();
    let cb = app.twilio.answer_call(CLINIC, true).unwrap();
    let base = format!("http://{}", app.webhook_addr);
    assert_eq!(cb.post_with(&base, None).await.status(), 403);
    assert_eq!(cb.post_with(&base, Some("bm9wZQ==")).await.status(), 403);
    assert_eq!(cb.post(&base, B_TOKEN).await.status(), 403);
    assert_eq!(cb.post(&base, "tok_wrong_wrong_wrong").await.status(), 403);
    // Tampered after signing.
    let mut tampered = support::caller_ids::Callback {
        url: cb.url.clone(),
        params: cb.params.clone(),
    };
    let signature =
        voxanne::integrations::twilio_signature::compute(AUTH_TOKEN, &cb.url, &cb.params);
    tampered.params.push(("Extra".into(), "1".into()));
    assert_eq!(
        tampered.post_with(&base, Some(&signature)).await.status(),
        403
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM caller_ids WHERE id = ?1 AND status = 'pending'",
            &[&id]
        ),
        1
    );
    assert_eq!(audit_count(&app, "telephony.number_verified"), 0);
    // The genuine one works, on the webhook listener.
    assert_eq!(cb.post(&base, AUTH_TOKEN).await.status(), 204);
    assert_eq!(audit_count(&app, "telephony.number_verified"), 1);
}

#[tokio::test]
async fn another_clinic_sees_and_touches_nothing() {
    let app = spawn().await;
    let a = Api::owner(&app, app.a.owner_email).await;
    let id = a.verified(CLINIC).await;
    let (_, cfg) = a
        .post(
            "/api/telephony/forwarding-config",
            json!({"verifiedCallerId": id, "carrier": "att", "mode": "total_ai"}),
        )
        .await;
    let cfg_id = cfg["id"].as_i64().unwrap();

    let b = Api::owner(&app, app.b.owner_email).await;
    let (s, v) = b.get("/api/telephony/verified-numbers").await;
    assert_eq!((s, v["numbers"].as_array().unwrap().len()), (200, 0));
    let (s, v) = b.get("/api/telephony/forwarding-config").await;
    assert_eq!((s, v["configs"].as_array().unwrap().len()), (200, 0));
    for (status, what) in [
        (
            b.post(
                "/api/telephony/verify-caller-id/confirm",
                json!({"verifiedCallerId": id}),
            )
            .await
            .0,
            "confirm",
        ),
        (
            b.get(&format!(
                "/api/telephony/forwarding-config?verifiedCallerId={id}"
            ))
            .await
            .0,
            "list configs",
        ),
        (
            b.post(
                "/api/telephony/forwarding-config",
                json!({"verifiedCallerId": id, "carrier": "att", "mode": "total_ai"}),
            )
            .await
            .0,
            "create config",
        ),
        (
            b.post(
                "/api/telephony/forwarding-config/confirm",
                json!({"id": cfg_id}),
            )
            .await
            .0,
            "confirm config",
        ),
        (
            b.delete(&format!("/api/telephony/forwarding-config/{cfg_id}"))
                .await
                .0,
            "disable config",
        ),
        (
            b.delete(&format!("/api/telephony/verified-numbers/{id}"))
                .await
                .0,
            "remove number",
        ),
    ] {
        assert_eq!(status, 404, "{what}");
    }
    for path in [
        format!("/telephony/numbers/{id}"),
        format!("/telephony/numbers/{id}/forwarding"),
        format!("/telephony/forwarding/{cfg_id}"),
    ] {
        let res = b.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    for path in [
        format!("/telephony/numbers/{id}/check"),
        format!("/telephony/numbers/{id}/restart"),
        format!("/telephony/numbers/{id}/remove"),
        format!("/telephony/forwarding/{cfg_id}/confirm"),
        format!("/telephony/forwarding/{cfg_id}/disable"),
    ] {
        let res = b
            .client
            .post(app.url(&path))
            .form(&[("csrf_token", b.csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    let page = b
        .client
        .get(app.url("/telephony"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(CLINIC));
    // A number forwards for one clinic: org b cannot start A's verified number.
    assert_eq!(b.initiate(CLINIC).await.0, 409);
    assert_eq!(
        app.query_i64(
            "SELECT status = 'active' OR status = 'pending' FROM forwarding_configs WHERE id = ?1",
            &[&cfg_id]
        ),
        1
    );
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM caller_ids", &[]), 1);
}

#[tokio::test]
async fn every_carrier_mode_and_ring_time_over_http() {
    let app = spawn().await;
    let api = Api::owner(&app, app.a.owner_email).await;
    let id = api.verified(CLINIC).await;
    let modes = [Mode::TotalAi, Mode::SafetyNet];
    let rings: [Option<u32>; 9] = [
        None,
        Some(5),
        Some(10),
        Some(15),
        Some(20),
        Some(25),
        Some(30),
        Some(60),
        Some(7),
    ];
    let mut accepted = 0;
    for carrier in Carrier::ALL {
        for mode in modes {
            for ring in rings {
                let mut body =
                    json!({"verifiedCallerId": id, "carrier": carrier.slug(), "mode": mode.slug()});
                if let Some(r) = ring {
                    body["ringSeconds"] = json!(r);
                }
                let (s, v) = api.post("/api/telephony/forwarding-config", body).await;
                let expected = forwarding::codes(carrier, mode, ring, FROM);
                let label = format!("{carrier:?} {mode:?} {ring:?}");
                match expected {
                    Ok(codes) => {
                        assert_eq!(s, 201, "{label}: {v}");
                        assert_eq!(v["activationCode"], codes.activation, "{label}");
                        assert_eq!(v["deactivationCode"], codes.deactivation, "{label}");
                        let cfg = v["id"].as_i64().unwrap();
                        assert_eq!(
                            api.delete(&format!("/api/telephony/forwarding-config/{cfg}"))
                                .await
                                .0,
                            200
                        );
                        accepted += 1;
                    }
                    Err(e) => {
                        assert_eq!(s, 400, "{label} must be refused: {e}");
                        assert!(!v["error"].as_str().unwrap_or("").is_empty());
                    }
                }
            }
        }
    }
    // GSM: total AI (4) + safety net with default or 6 ring times (4 × 7); Verizon and other
    // CDMA: both modes without ring time (4); Sprint: total AI only (1).
    assert_eq!(accepted, 4 + 28 + 4 + 1);
    // Spot checks written out, independent of the domain table.
    for (carrier, mode, ring, code) in [
        ("att", "safety_net", Some(30), "**004*15005550006*11*30#"),
        ("international_gsm", "total_ai", None, "**21*+15005550006#"),
        ("verizon", "safety_net", None, "*715005550006"),
        (
            "other_cdma",
            "safety_net",
            None,
            "*905005550006 then *925005550006",
        ),
    ] {
        let mut body = json!({"verifiedCallerId": id, "carrier": carrier, "mode": mode});
        if let Some(r) = ring {
            body["ringSeconds"] = json!(r);
        }
        let (s, v) = api.post("/api/telephony/forwarding-config", body).await;
        assert_eq!((s, v["activationCode"].as_str()), (201, Some(code)));
        let cfg = v["id"].as_i64().unwrap();
        api.delete(&format!("/api/telephony/forwarding-config/{cfg}"))
            .await;
    }
    let (s, v) = api
        .post(
            "/api/telephony/forwarding-config",
            json!({"verifiedCallerId": id, "carrier": "tmobile", "mode": "safety_net", "ringSeconds": 60}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("60 s is not possible"),
        "{v}"
    );
}

#[tokio::test]
async fn the_wizard_works_without_javascript() {
    let app = spawn().await;
    let (client, csrf) = app.signed_in(app.a.owner_email).await;
    let page = client.get(app.url("/telephony")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Start verification"));

    let post = |path: &str, form: Vec<(&str, &str)>| {
        let mut form = form;
        form.push(("csrf_token", csrf.as_str()));
        client.post(app.url(path)).form(&form).send()
    };
    let bad = post(
        "/telephony/numbers",
        vec![("country", "US"), ("phone_number", "555-01")],
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("too short"));

    let step2 = post(
        "/telephony/numbers",
        vec![
            ("country", "US"),
            ("phone_number", "(415) 555-0123"),
            ("friendly_name", "Front desk"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(step2.status(), 200);
    let html = step2.text().await.unwrap();
    let code = app.twilio.validation(CLINIC).unwrap().code;
    assert!(html.contains(&format!(
        "id=\"validation-code\" aria-label=\"Verification code\">{code}<"
    )));
    let id = app.query_i64("SELECT id FROM caller_ids", &[]);

    // Checked too early: the code stays on screen, nothing changes.
    let early = post(
        &format!("/telephony/numbers/{id}/check"),
        vec![("code", code.as_str())],
    )
    .await
    .unwrap();
    assert_eq!(early.status(), 422);
    let html = early.text().await.unwrap();
    assert!(html.contains("not confirmed the code yet") && html.contains(&code));
    // A code that is not the one Twilio gave is not echoed.
    let forged = post(
        &format!("/telephony/numbers/{id}/check"),
        vec![("code", "999999")],
    )
    .await
    .unwrap();
    assert!(!forged.text().await.unwrap().contains("999999"));

    let cb = app.twilio.answer_call(CLINIC, true).unwrap();
    cb.post(&format!("http://{}", app.webhook_addr), AUTH_TOKEN)
        .await;
    let checked = post(&format!("/telephony/numbers/{id}/check"), vec![])
        .await
        .unwrap();
    assert_eq!(checked.status(), 303);
    let step3 = format!("/telephony/numbers/{id}/forwarding");
    assert_eq!(checked.headers()["location"], step3.as_str());
    let form = client.get(app.url(&step3)).send().await.unwrap();
    let html = form.text().await.unwrap();
    for t in ["5 seconds", "30 seconds", "cannot be set"] {
        assert!(html.contains(t), "{t}");
    }
    assert!(!html.contains("60 seconds<"));

    let refused = post(
        &step3,
        vec![
            ("carrier", "verizon"),
            ("mode", "safety_net"),
            ("ring_seconds", "20"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("leave ring time unset"));
    let made = post(
        &step3,
        vec![
            ("carrier", "tmobile"),
            ("mode", "total_ai"),
            ("ring_seconds", ""),
        ],
    )
    .await
    .unwrap();
    assert_eq!(made.status(), 303);
    let step4 = made.headers()["location"].to_str().unwrap().to_string();
    let html = client
        .get(app.url(&step4))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("**21*15005550006#"));
    assert!(html.contains("href=\"tel:%2A%2A21%2A15005550006%23\""));
    assert!(html.contains("data-copy=\"activation-code\""));
    let cfg_id: i64 = step4.rsplit('/').next().unwrap().parse().unwrap();
    let confirmed = post(&format!("/telephony/forwarding/{cfg_id}/confirm"), vec![])
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 303);
    let html = client
        .get(app.url(&step4))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Forwarding is active") && html.contains("Add another number"));

    let disabled = post(&format!("/telephony/forwarding/{cfg_id}/disable"), vec![])
        .await
        .unwrap();
    assert_eq!(disabled.status(), 303);
    let html = client
        .get(app.url(&step4))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"deactivation-code-big\">##21#<"));

    let removed = post(&format!("/telephony/numbers/{id}/remove"), vec![])
        .await
        .unwrap();
    assert_eq!(removed.status(), 200);
    assert!(removed.text().await.unwrap().contains("was removed"));
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM caller_ids", &[]), 0);

    // Staff members do not get the wizard.
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    let res = staff.get(app.url("/telephony")).send().await.unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn a_number_verified_by_one_clinic_is_refused_for_another() {
    let app = spawn().await;
    let a = Api::owner(&app, app.a.owner_email).await;
    a.verified(CLINIC).await;
    let asked_before = app.twilio.requests().len();

    let b = Api::owner(&app, app.b.owner_email).await;
    let (s, v) = b.initiate(CLINIC).await;
    assert_eq!(s, 409, "{v}");
    let why = v["error"].as_str().unwrap();
    assert!(why.contains("another clinic"), "{why}");
    assert!(
        !why.contains("Alpha"),
        "the other clinic is not named: {why}"
    );
    assert_eq!(
        app.twilio.requests().len(),
        asked_before,
        "Twilio was not asked"
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM caller_ids WHERE org_id = ?1",
            &[&app.b.org_id]
        ),
        0
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM caller_id_starts WHERE org_id = ?1",
            &[&app.b.org_id]
        ),
        0
    );
    // Another number is still B's to verify.
    let (s, v) = b.initiate("+14155550199").await;
    assert_eq!(s, 201, "{v}");
}
