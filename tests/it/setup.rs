//! First run through the one-time setup link.

use crate::support;

use support::{extract_csrf, TestApp};

#[tokio::test]
async fn setup_link_creates_the_clinic_once_and_signs_the_owner_in() {
    let app = TestApp::spawn_empty().await;
    let url = app
        .setup_url
        .clone()
        .expect("a setup URL while no clinic exists");
    let c = app.client();
    // Without the token, or with a wrong one, there is nothing to see.
    assert_eq!(c.get(app.url("/setup")).send().await.unwrap().status(), 404);
    assert_eq!(
        c.get(app.url("/setup?token=guess"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let page = c.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let csrf = extract_csrf(&page).unwrap();
    let token = url.split("token=").nth(1).unwrap().to_string();

    // Bad input: a clear message and nothing created.
    let bad = c
        .post(app.url("/setup"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("token", &token),
            ("clinic", "Glow"),
            ("timezone", "Nowhere/Land"),
            ("name", "Ada"),
            ("email", "ada@glow.test"),
            ("password", "long-enough-pass"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("not a known time zone"));
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM orgs", &[]), 0);

    // No kind of clinic chosen: asked for, and the form keeps what was typed.
    let unchosen = c
        .post(app.url("/setup"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("token", &token),
            ("clinic", "Glow Dental"),
            ("timezone", "America/Chicago"),
            ("clinic_type", ""),
            ("name", "Ada"),
            ("email", "ada@glow.test"),
            ("password", "long-enough-pass"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(unchosen.status(), 422);
    let page = unchosen.text().await.unwrap();
    assert!(
        page.contains("Choose what kind of clinic this is"),
        "{page}"
    );
    assert!(page.contains(r#"value="Glow Dental""#), "{page}");
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM orgs", &[]), 0);

    let ok = c
        .post(app.url("/setup"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("token", &token),
            ("clinic", "Glow Dental"),
            ("timezone", "America/Chicago"),
            ("clinic_type", "dental"),
            ("name", "Ada"),
            ("email", "ada@glow.test"),
            ("password", "long-enough-pass"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    let settings = c
        .get(app.url("/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(settings.contains("Glow Dental"));
    // A dental catalogue, to review: no plastic-surgery service anywhere.
    let services = c
        .get(app.url("/services"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(services.contains("Cleaning") && services.contains("Check-up"));
    assert!(services.contains("To review: sample prices"), "{services}");
    for plastic in ["Botox", "Facelift", "Rhinoplasty", "Liposuction"] {
        assert!(
            !services.contains(plastic),
            "{plastic} on a dental clinic's page"
        );
    }
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM orgs WHERE clinic_type = 'dental' AND catalogue_reviewed_at IS NULL",
            &[]
        ),
        1
    );
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM staff WHERE role = 'owner'", &[]),
        1
    );

    // The link is spent.
    assert_eq!(app.client().get(&url).send().await.unwrap().status(), 404);
}
