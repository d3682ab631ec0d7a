//! The week calendar per provider and its subscription feeds: the week shows the calendar's
//! appointments on their local days; owners create and revoke a private feed URL (audited) that
//! calendar apps read without a session as valid iCalendar; revoked or foreign is a 404.

use crate::support;

use support::TestApp;

fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

fn feed_url(page: &str) -> String {
    let start = page.find("http://").expect("the new URL is shown");
    page[start..]
        .split(['<', '"', ' '])
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_week_shows_each_appointment_on_its_local_day() {
    let app = TestApp::spawn().await;
    let a = app.a.org_id;
    let dana = app.insert_contact(a, "+14155550101", "Dana <b>Bold</b>", None);
    // Wednesday 2026-06-17 21:30 New York is already Thursday in UTC.
    app.insert_appointment(a, dana, at("2026-06-18T01:30:00Z"), 30, "confirmed");
    app.insert_appointment(a, dana, at("2026-06-16T14:00:00Z"), 30, "cancelled");
    // Next week, and another clinic's appointment this week.
    app.insert_appointment(a, dana, at("2026-06-23T14:00:00Z"), 30, "confirmed");
    let b = app.b.org_id;
    let other = app.insert_contact(b, "+442079460000", "Beta Patient", None);
    app.insert_appointment(b, other, at("2026-06-16T10:00:00Z"), 30, "confirmed");

    let (staff, _) = app.signed_in(app.a.staff_email).await;
    let res = staff
        .get(app.url("/appointments/calendar?week=2026-06-17"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Week of Monday, June 15"));
    let wednesday = page.find("<h3>Wednesday, June 17</h3>").expect("Wednesday");
    let thursday = page.find("<h3>Thursday, June 18</h3>").expect("Thursday");
    let slot = page
        .find("9:30 PM–10:00 PM")
        .expect("the evening slot in local time");
    assert!(wednesday < slot && slot < thursday);
    assert!(page.contains("Dana &#60;b&#62;Bold") && !page.contains("<b>Bold"));
    assert!(page.contains("status-cancelled"));
    assert!(page.contains("week=2026-06-08") && page.contains("week=2026-06-22"));
    assert!(!page.contains("Beta Patient"));
    let next = staff
        .get(app.url("/appointments/calendar?week=2026-06-22"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(next.matches("class=\"slot ").count(), 1);

    // Another clinic's calendar is a 404; a bad week a clear 422.
    let beta_provider = app.first_provider_and_service(b).0;
    let res = staff
        .get(app.url(&format!("/appointments/calendar?provider={beta_provider}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = staff
        .get(app.url("/appointments/calendar?week=next-tuesday"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("week must be a date"));
}

#[tokio::test]
async fn a_subscription_feed_is_valid_icalendar_private_to_its_calendar_and_revocable() {
    let app = TestApp::spawn().await;
    let a = app.a.org_id;
    let dana = app.insert_contact(a, "+14155550101", "Dana; Smith, \"VIP\"", None);
    let booked = app.insert_appointment(a, dana, at("2026-06-17T14:00:00Z"), 45, "confirmed");
    let cancelled = app.insert_appointment(a, dana, at("2026-06-18T14:00:00Z"), 30, "cancelled");
    app.insert_appointment(a, dana, at("2026-06-19T14:00:00Z"), 30, "held");
    // Long past: outside the feed.
    app.insert_appointment(a, dana, at("2026-01-05T14:00:00Z"), 30, "completed");
    let b = app.b.org_id;
    let other = app.insert_contact(b, "+442079460000", "Beta Patient", None);
    app.insert_appointment(b, other, at("2026-06-17T10:00:00Z"), 30, "confirmed");
    let provider = app.first_provider_and_service(a).0;

    // Staff may look but not create; a form without its CSRF token is refused.
    let (staff, staff_csrf) = app.signed_in(app.a.staff_email).await;
    let res = staff
        .post(app.url("/appointments/calendar/feeds"))
        .form(&[
            ("csrf_token", staff_csrf.as_str()),
            ("provider_id", &provider.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let res = owner
        .post(app.url("/appointments/calendar/feeds"))
        .form(&[("provider_id", provider.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(app.query_i64("SELECT COUNT(*) FROM calendar_feeds", &[]), 0);
    // Another clinic's calendar is not found.
    let beta_provider = app.first_provider_and_service(b).0;
    let res = owner
        .post(app.url("/appointments/calendar/feeds"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("provider_id", &beta_provider.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let page = owner
        .post(app.url("/appointments/calendar/feeds"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("provider_id", &provider.to_string()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let url = feed_url(&page);
    assert!(
        url.starts_with(&app.url("/calendars/vxc_")) && url.ends_with(".ics"),
        "{url}"
    );
    let token = url
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_string();
    assert!(
        !app.db_files_contain(token.as_bytes()),
        "only the hash is stored"
    );
    // Shown once: the calendar page afterwards lists the feed but not its URL.
    let again = owner
        .get(app.url("/appointments/calendar"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains(&token) && again.contains("badge on"));

    // No session needed, on the main listener and where the tunnel points.
    for base in [app.url(""), app.webhook_url("")] {
        let res = reqwest::get(url.replace(&app.url(""), &base))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["content-type"],
            "text/calendar; charset=utf-8"
        );
        assert!(res.headers().contains_key("content-security-policy"));
    }
    let body = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let cal = ical::IcalParser::new(body.as_bytes())
        .next()
        .expect("one calendar")
        .expect("valid iCalendar");
    let prop = |e: &ical::parser::ical::component::IcalEvent, name: &str| {
        e.properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_default()
    };
    let uids: Vec<String> = cal.events.iter().map(|e| prop(e, "UID")).collect();
    assert_eq!(
        uids,
        vec![
            format!("appointment-{a}-{booked}@voxanne"),
            format!("appointment-{a}-{cancelled}@voxanne")
        ]
    );
    let first = &cal.events[0];
    assert_eq!(prop(first, "DTSTART"), "20260617T140000Z");
    assert_eq!(prop(first, "DTEND"), "20260617T144500Z");
    assert!(prop(first, "SUMMARY").contains("Dana\\; Smith\\, \"VIP\""));
    assert_eq!(prop(first, "STATUS"), "CONFIRMED");
    assert_eq!(prop(&cal.events[1], "STATUS"), "CANCELLED");
    assert!(!body.contains("Beta Patient"));

    // Another clinic cannot revoke it; the owner can, and it is gone.
    let feed = app.query_i64("SELECT id FROM calendar_feeds WHERE org_id = ?1", &[&a]);
    let (beta, beta_csrf) = app.signed_in(app.b.owner_email).await;
    let res = beta
        .post(app.url(&format!("/appointments/calendar/feeds/{feed}/revoke")))
        .form(&[("csrf_token", beta_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    let res = owner
        .post(app.url(&format!("/appointments/calendar/feeds/{feed}/revoke")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 404);
    for bad in [
        "/calendars/nothing.ics",
        "/calendars/vxc_unknown.ics",
        "/calendars/x",
    ] {
        assert_eq!(
            reqwest::get(app.url(bad)).await.unwrap().status(),
            404,
            "{bad}"
        );
    }
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE org_id = ?1 AND action IN ('calendar_feed.created', 'calendar_feed.revoked')",
            &[&a]
        ),
        2
    );

    // A new URL replaces the calendar's current one.
    let first_url = feed_url(
        &owner
            .post(app.url("/appointments/calendar/feeds"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("provider_id", &provider.to_string()),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let second_url = feed_url(
        &owner
            .post(app.url("/appointments/calendar/feeds"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("provider_id", &provider.to_string()),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(reqwest::get(&first_url).await.unwrap().status(), 404);
    assert_eq!(reqwest::get(&second_url).await.unwrap().status(), 200);
}

#[tokio::test]
async fn empty_days_say_closed_holiday_day_off_or_past_rather_than_free() {
    let app = support::TestApp::spawn().await;
    // A holiday on Wednesday, the practitioner off on Thursday.
    app.exec(
        "UPDATE orgs SET closures_json = '[\"2026-06-17\"]' WHERE id = ?1",
        &[&app.a.org_id],
    );
    voxanne::cli::practitioners::edit(
        &app.config,
        Some(app.a.org_id),
        "Main calendar",
        &voxanne::cli::practitioners::Fields {
            time_off: Some("2026-06-18"),
            ..Default::default()
        },
    )
    .unwrap();
    let (staff, _) = app.signed_in(app.a.staff_email).await;
    let page = |week: &'static str| {
        let staff = staff.clone();
        let url = app.url(&format!("/appointments/calendar?week={week}"));
        async move { staff.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let this_week = page("2026-06-15").await;
    let days: Vec<&str> = this_week
        .split(r#"<p class="muted">"#)
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .filter(|s| {
            [
                "Free",
                "Closed",
                "Holiday",
                "Day off",
                "Past",
                "Not working",
            ]
            .contains(s)
        })
        .collect();
    assert_eq!(
        days,
        ["Free", "Free", "Holiday", "Day off", "Free", "Closed", "Closed"],
        "Monday (today) to Sunday"
    );
    let last_week = page("2026-06-08").await;
    assert_eq!(last_week.matches(r#"<p class="muted">Past</p>"#).count(), 7);
}
