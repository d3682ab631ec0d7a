//! The kind of clinic chosen at setup: its starting catalogue, sample prices the assistant does
//! not quote, and the owner's review that lets it quote them.

use crate::support;

use serde_json::json;
use support::vapi::data;
use support::{TestApp, PASSWORD};
use voxanne::cli::{self, NewAccount, NewClinic};
use voxanne::store::staff::Role;

/// Adds a clinic of `kind` with an owner and a staff member, as `voxanne org add` and
/// `voxanne user add` do; returns its id.
fn add_clinic(app: &TestApp, name: &str, kind: &str, owner: &str, staff: &str) -> i64 {
    let id = cli::org_add(
        &app.config,
        &NewClinic {
            clinic: name,
            timezone: "America/New_York",
            clinic_type: kind,
        },
    )
    .expect("org add")["org_id"]
        .as_i64()
        .expect("org id");
    for (email, role) in [(owner, Role::Owner), (staff, Role::Staff)] {
        cli::user_add(
            &app.config,
            Some(id),
            &NewAccount {
                email,
                name: None,
                role,
                password: PASSWORD,
            },
        )
        .expect("user add");
    }
    id
}

#[tokio::test]
async fn a_dental_clinic_starts_with_dental_services_and_quotes_no_sample_price() {
    let app = TestApp::spawn().await;
    let dental = add_clinic(
        &app,
        "Patel Dental",
        "dental",
        "owner@patel.test",
        "desk@patel.test",
    );
    let secret = app.vapi_secret(dental);

    let context = app
        .tool(&secret, "c1", "get_clinic_context", json!({}))
        .await
        .expect("context");
    let services = data(&context)["services"].clone();
    let names: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Cleaning") && names.contains(&"Filling"),
        "{names:?}"
    );
    for plastic in ["Botox", "Facelift", "Rhinoplasty", "Breast Augmentation"] {
        assert!(
            !names.contains(&plastic),
            "{plastic} offered by a dental clinic"
        );
    }
    assert!(
        services
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["price"].is_null()),
        "sample prices are not given to the assistant: {services}"
    );

    let price = app
        .tool(
            &secret,
            "p1",
            "get_service_price",
            json!({"service": "a cleaning"}),
        )
        .await
        .expect("price");
    assert!(
        price.starts_with("Cleaning takes about 45 minutes.")
            && price.contains("the team will confirm the price"),
        "{price}"
    );
    assert_eq!(data(&price)["priceConfirmed"], false);
    assert!(data(&price)["priceCents"].is_null());
    let botox = app
        .tool(
            &secret,
            "p2",
            "get_service_price",
            json!({"service": "botox"}),
        )
        .await
        .expect("reply");
    assert!(
        botox.starts_with("We don't list “botox”. We offer "),
        "{botox}"
    );
    assert!(
        !botox.contains("Botox,") && !botox.contains("Facelift"),
        "{botox}"
    );

    // Staff cannot review the catalogue; an owner without the form's token cannot either.
    let (desk, desk_csrf) = app.signed_in("desk@patel.test").await;
    let refused = desk
        .post(app.url("/services/reviewed"))
        .form(&[("csrf_token", desk_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let (owner, csrf) = app.signed_in("owner@patel.test").await;
    let forged = owner
        .post(app.url("/services/reviewed"))
        .form(&[("csrf_token", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    let reviewed_count = |org: i64| {
        app.query_i64(
            "SELECT COUNT(*) FROM orgs WHERE id = ?1 AND catalogue_reviewed_at IS NOT NULL",
            &[&org],
        )
    };
    assert_eq!(reviewed_count(dental), 0);

    // The owner reviews it: the page says so and the assistant now quotes the prices.
    let page = owner.get(app.url("/services")).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(
        page.contains("These services and prices are right"),
        "{page}"
    );
    assert!(page.contains(r#"<span class="badge off">sample</span>"#));
    let done = owner
        .post(app.url("/services/reviewed"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(
        done.headers()["location"].to_str().unwrap(),
        "/services?saved=reviewed"
    );
    assert_eq!(reviewed_count(dental), 1);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE org_id = ?1 AND action = 'services.catalogue_reviewed'",
            &[&dental],
        ),
        1
    );
    let page = owner
        .get(app.url("/services?saved=reviewed"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Catalogue reviewed"), "{page}");
    assert!(!page.contains("To review: sample prices"));
    let price = app
        .tool(
            &secret,
            "p3",
            "get_service_price",
            json!({"service": "cleaning"}),
        )
        .await
        .expect("price");
    assert_eq!(
        price.split(" {").next(),
        Some("Cleaning is $120 and takes about 45 minutes.")
    );
    assert_eq!(data(&price)["priceConfirmed"], true);
}

#[tokio::test]
async fn a_review_is_the_clinics_own_and_an_empty_catalogue_is_said_plainly() {
    let app = TestApp::spawn().await;
    let other = add_clinic(
        &app,
        "Somewhere Else",
        "other",
        "owner@else.test",
        "desk@else.test",
    );
    let dental = add_clinic(
        &app,
        "Patel Dental",
        "dental",
        "owner@patel.test",
        "desk@patel.test",
    );
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM services WHERE org_id = ?1", &[&other]),
        0
    );
    let reply = app
        .tool(
            &app.vapi_secret(other),
            "p1",
            "get_service_price",
            json!({"service": "cleaning"}),
        )
        .await
        .expect("reply");
    assert!(
        reply.starts_with("The clinic's services are not set up yet."),
        "{reply}"
    );
    let page = app
        .signed_in("desk@else.test")
        .await
        .0
        .get(app.url("/services"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("No services yet. An owner adds them."),
        "{page}"
    );

    // The other clinic's owner reviewing theirs leaves the dental clinic's to review.
    let (owner, csrf) = app.signed_in("owner@else.test").await;
    let done = owner
        .post(app.url("/services/reviewed"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM orgs WHERE id = ?1 AND catalogue_reviewed_at IS NULL",
            &[&dental]
        ),
        1
    );
    let price = app
        .tool(
            &app.vapi_secret(dental),
            "p2",
            "get_service_price",
            json!({"service": "cleaning"}),
        )
        .await
        .expect("price");
    assert!(price.contains("the team will confirm the price"), "{price}");
}
