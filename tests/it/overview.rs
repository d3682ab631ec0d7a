//! The Overview at `/`: its cards and charts count the clinic's own calls and contacts over the
//! clinic's local days, never another clinic's; owners and staff both land on it.

use crate::support;

use support::dashboard::NewCall;
use support::{TestApp, PASSWORD};

fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

/// Alpha (New York; now is Monday 2026-06-15 10:00 local) gets a known mix of calls and
/// contacts; Beta gets many of its own that must never show up in Alpha's figures.
fn seed(app: &TestApp) {
    let a = app.a.org_id;
    app.exec(
        "INSERT INTO services (org_id, name, duration_minutes, price_cents, keywords_json, created_at)
         VALUES (?1, 'Glow <Peel>', 30, 12000, '[]', 0)",
        &[&a],
    );
    let peel: &[&str] = &["Glow <Peel>"];
    for c in [
        // Today, 09:00 and 09:30 local.
        NewCall {
            started_at: at("2026-06-15T13:00:00Z"),
            booked: true,
            value_cents: 30000,
            duration_secs: 120,
            ..Default::default()
        },
        NewCall {
            started_at: at("2026-06-15T13:30:00Z"),
            value_cents: 12000,
            services: peel,
            duration_secs: 60,
            ..Default::default()
        },
        // Yesterday: 11:00 and 23:00 local (the second is already Monday in UTC).
        NewCall {
            started_at: at("2026-06-14T15:00:00Z"),
            booked: true,
            duration_secs: 180,
            ..Default::default()
        },
        NewCall {
            started_at: at("2026-06-15T03:00:00Z"),
            value_cents: 12000,
            services: peel,
            duration_secs: 60,
            ..Default::default()
        },
        // Ten days ago, outbound; forty days ago, outside the charts.
        NewCall {
            started_at: at("2026-06-05T15:00:00Z"),
            outbound: true,
            duration_secs: 60,
            ..Default::default()
        },
        NewCall {
            started_at: at("2026-05-06T15:00:00Z"),
            booked: true,
            value_cents: 12000,
            services: peel,
            duration_secs: 120,
            ..Default::default()
        },
    ] {
        app.insert_call(a, &c);
    }
    app.insert_contact(a, "+14155550101", "Hot One", Some("hot"));
    app.insert_contact(a, "+14155550102", "Hot Two", Some("hot"));
    app.insert_contact(a, "+14155550103", "Warm", Some("warm"));
    app.insert_contact(a, "+14155550104", "Unscored", None);

    let b = app.b.org_id;
    app.exec(
        "INSERT INTO services (org_id, name, duration_minutes, price_cents, keywords_json, created_at)
         VALUES (?1, 'Beta Only Service', 30, 99900, '[]', 0)",
        &[&b],
    );
    for i in 0..20 {
        app.insert_call(
            b,
            &NewCall {
                started_at: at("2026-06-15T12:00:00Z") + i,
                booked: true,
                value_cents: 99900,
                services: &["Beta Only Service"],
                duration_secs: 600,
                ..Default::default()
            },
        );
    }
    for i in 0..5 {
        app.insert_contact(b, &format!("+4420794600{i:02}"), "Beta lead", Some("hot"));
    }
}

fn card(label: &str, value: &str) -> String {
    format!(
        r#"<span class="figure-label">{label}</span> <strong class="figure-value">{value}</strong>"#
    )
}

#[tokio::test]
async fn overview_counts_only_the_clinics_own_calls_over_its_local_days() {
    let app = TestApp::spawn().await;
    seed(&app);
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    let res = staff.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("<h1>Overview</h1>"));
    for (label, value) in [
        ("Calls today", "2"),
        ("Calls, 7 days", "4"),
        ("Bookings, 7 days", "2"),
        // Inbound: five, three of them booked.
        ("Success rate", "60%"),
        ("Pipeline value", "$660"),
        ("Average call", "1m 40s"),
        ("Hot leads", "2"),
    ] {
        assert!(
            page.contains(&card(label, value)),
            "{label} should be {value}"
        );
    }
    // Three charts, each an image with a title, and their figures as tables.
    assert_eq!(
        page.matches(r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img""#)
            .count(),
        3
    );
    assert!(page.contains("Calls in all: 5; Bookings in all: 2"));
    assert!(page.contains("<td>Jun 14</td><td>2</td><td>1</td>"));
    assert!(page.contains("<td>Jun 15</td><td>2</td><td>1</td>"));
    assert!(page.contains("<td>Jun 5</td><td>1</td><td>0</td>"));
    // Two calls in the last 30 days asked about the peel: twice its price; the name is escaped.
    assert!(page.contains("Glow &lt;Peel&gt;: $240"));
    assert!(!page.contains("Glow <Peel>"));
    assert!(
        page.contains("<td>Hot</td><td>2</td>")
            && page.contains("<td>Warm</td><td>1</td>")
            && page.contains("<td>Cold</td><td>1</td>")
    );
    assert!(!page.contains("Beta Only Service") && !page.contains("$999"));

    // The card figures are the dashboard API's.
    let stats: serde_json::Value = staff
        .get(app.url("/api/dashboard/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["calls_today"], 2);
    assert_eq!(stats["success_rate_pct"], 60.0);

    // Beta sees its own figures.
    let (beta, _) = app.signed_in(app.b.owner_email).await;
    let page = beta
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&card("Calls today", "20")));
    assert!(page.contains(&card("Hot leads", "5")));
    assert!(page.contains("Beta Only Service") && !page.contains("Glow"));
}

#[tokio::test]
async fn an_empty_clinic_sees_empty_charts_and_everyone_lands_on_the_overview() {
    let app = TestApp::spawn().await;
    let anon = app.client();
    let res = anon.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");
    for email in [app.a.owner_email, app.a.staff_email] {
        let client = app.client();
        let res = app.login(&client, email, PASSWORD).await;
        assert_eq!(res.headers()["location"], "/", "{email}");
        let res = client.get(app.url("/")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let page = res.text().await.unwrap();
        assert!(page.contains(&card("Calls today", "0")));
        assert!(page.contains(&card("Success rate", "—")));
        assert!(page.contains("Nothing yet"));
        assert!(page.contains("No calls yet"));
        assert!(page.contains(r#"<a href="/" aria-current="page">Overview</a>"#));
    }
}
