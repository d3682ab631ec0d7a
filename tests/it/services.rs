//! Services & pricing: the page and `/api/services`, roles, validation, archive instead of
//! delete for a service in use, and isolation between clinics.

use crate::support;

use serde_json::{json, Value};
use support::vapi::data;
use support::TestApp;

async fn api(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    csrf: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = client.request(method, url).header("x-csrf-token", csrf);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn owners_add_edit_and_archive_services_on_the_page() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let res = owner
        .post(app.url("/services"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", " Lip  Filler "),
            ("price", "$650"),
            ("duration_minutes", "45"),
            ("keywords", "Lips, lip filler"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let id = app.query_i64(
        "SELECT id FROM services WHERE org_id = ?1 AND name = 'Lip Filler'",
        &[&app.a.org_id],
    );
    assert_eq!(
        app.query_i64("SELECT price_cents FROM services WHERE id = ?1", &[&id]),
        65_000
    );
    // A duplicate name (any case) and a negative price are refused with a message; nothing changes.
    for (name, price, why) in [
        ("lip filler", "100", "already a service"),
        ("Peel", "-3", "not a price"),
    ] {
        let res = owner
            .post(app.url("/services"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("name", name),
                ("price", price),
                ("duration_minutes", "30"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains(why));
    }
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM services WHERE org_id = ?1",
            &[&app.a.org_id]
        ),
        8
    );
    let res = owner
        .post(app.url(&format!("/services/{id}")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Lip Filler"),
            ("price", "700.50"),
            ("duration_minutes", "60"),
            ("keywords", "lips"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.query_i64("SELECT price_cents FROM services WHERE id = ?1", &[&id]),
        70_050
    );
    // Archived: no longer offered to callers.
    owner
        .post(app.url(&format!("/services/{id}/archive")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let s = app.vapi_secret(app.a.org_id);
    let price = app
        .tool(
            &s,
            "p1",
            "get_service_price",
            json!({"service": "lip filler"}),
        )
        .await
        .unwrap();
    assert!(!price.contains("700"), "{price}");
    let page = owner
        .get(app.url("/services"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("archived") && page.contains("$700.50"));
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'service.%'",
            &[]
        ),
        3
    );
    // Staff see the catalogue but cannot change it.
    let (staff, staff_csrf) = app.signed_in(app.a.staff_email).await;
    let view = staff.get(app.url("/services")).send().await.unwrap();
    assert_eq!(view.status(), 200);
    let body = view.text().await.unwrap();
    assert!(body.contains("Botox") && !body.contains("Add a service"));
    let res = staff
        .post(app.url(&format!("/services/{id}/restore")))
        .form(&[("csrf_token", staff_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn the_services_api_creates_patches_and_archives_a_service_in_use() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let (status, created) = api(
        &owner,
        reqwest::Method::POST,
        app.url("/api/services"),
        &csrf,
        Some(json!({"name": "Peel", "price": 120, "duration_minutes": 45, "keywords": ["peels"]})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["price_cents"], 12_000);
    let id = created["id"].as_i64().unwrap();
    let (status, patched) = api(
        &owner,
        reqwest::Method::PATCH,
        app.url(&format!("/api/services/{id}")),
        &csrf,
        Some(json!({"price_cents": 15_000})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (patched["name"].as_str(), patched["price_cents"].as_i64()),
        (Some("Peel"), Some(15_000))
    );
    let (status, err) = api(
        &owner,
        reqwest::Method::PATCH,
        app.url(&format!("/api/services/{id}")),
        &csrf,
        Some(json!({"duration_minutes": 2})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(err["error"].as_str().unwrap().contains("duration"));
    // Unused: deleted. In use (booked by phone): archived.
    let (_, removed) = api(
        &owner,
        reqwest::Method::DELETE,
        app.url(&format!("/api/services/{id}")),
        &csrf,
        None,
    )
    .await;
    assert_eq!(removed["result"], "deleted");
    let s = app.vapi_secret(app.a.org_id);
    let booked = data(&app.tool(&s, "b1", "book_appointment", json!({"date": "2026-06-17", "time": "10:00", "service": "Botox", "patientName": "Dana", "patientPhone": "+14155550123"})).await.unwrap());
    assert_eq!(booked["ok"], true);
    let botox = app.query_i64(
        "SELECT id FROM services WHERE org_id = ?1 AND name = 'Botox'",
        &[&app.a.org_id],
    );
    let (_, removed) = api(
        &owner,
        reqwest::Method::DELETE,
        app.url(&format!("/api/services/{botox}")),
        &csrf,
        None,
    )
    .await;
    assert_eq!(removed["result"], "archived");
    assert_eq!(
        app.query_i64("SELECT active FROM services WHERE id = ?1", &[&botox]),
        0
    );
    // Staff read but cannot write.
    let (staff, staff_csrf) = app.signed_in(app.a.staff_email).await;
    let (status, list) = api(
        &staff,
        reqwest::Method::GET,
        app.url("/api/services"),
        &staff_csrf,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["services"].as_array().unwrap().len(), 7);
    let (status, _) = api(
        &staff,
        reqwest::Method::POST,
        app.url("/api/services"),
        &staff_csrf,
        Some(json!({"name": "X", "price": 1})),
    )
    .await;
    assert_eq!(status, 403);
    // Without a session: 401, and a session without the CSRF header changes nothing.
    let anon = reqwest::Client::new()
        .get(app.url("/api/services"))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    let (status, _) = api(
        &owner,
        reqwest::Method::DELETE,
        app.url(&format!("/api/services/{botox}")),
        "wrong",
        None,
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn another_clinics_services_are_not_found() {
    let app = TestApp::spawn().await;
    let a_botox = app.query_i64(
        "SELECT id FROM services WHERE org_id = ?1 AND name = 'Botox'",
        &[&app.a.org_id],
    );
    let (b_owner, csrf) = app.signed_in(app.b.owner_email).await;
    for (method, body) in [
        (reqwest::Method::GET, None),
        (reqwest::Method::PATCH, Some(json!({"price_cents": 1}))),
        (reqwest::Method::DELETE, None),
    ] {
        let (status, _) = api(
            &b_owner,
            method.clone(),
            app.url(&format!("/api/services/{a_botox}")),
            &csrf,
            body,
        )
        .await;
        assert_eq!(status, 404, "{method}");
    }
    for path in ["", "/archive", "/restore"] {
        let res = b_owner
            .post(app.url(&format!("/services/{a_botox}{path}")))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("name", "Hijacked"),
                ("price", "1"),
                ("duration_minutes", "30"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    let (_, list) = api(
        &b_owner,
        reqwest::Method::GET,
        app.url("/api/services"),
        &csrf,
        None,
    )
    .await;
    assert!(list["services"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["id"] != a_botox));
    assert_eq!(
        app.query_i64(
            "SELECT price_cents FROM services WHERE id = ?1",
            &[&a_botox]
        ),
        40_000
    );
    assert_eq!(
        app.query_i64("SELECT active FROM services WHERE id = ?1", &[&a_botox]),
        1
    );
}
