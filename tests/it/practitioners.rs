//! Practitioners: a dental clinic with three of them and a lunch break, as a new clinic would
//! set it up from the command line, then asked for by callers; and Settings → Practitioners.

use crate::support;

use serde_json::{json, Value};
use support::vapi::{data, tool_calls};
use support::{TestApp, PASSWORD};
use voxanne::cli::practitioners::{self, Fields};
use voxanne::cli::{self, NewAccount, NewClinic};
use voxanne::store::staff::Role;

const TUESDAY: &str = "2026-06-16";

/// Patel Dental, set up as `voxanne org add --clinic-type dental` and `voxanne provider …`
/// would: the seeded calendar becomes Dr Patel (lunch 12:30–13:30), plus Dr Ortiz
/// (Tuesday to Thursday, 10–4) and Kim Lee, the hygienist (mornings, cleanings only).
fn dental_clinic(app: &TestApp) -> i64 {
    let org = cli::org_add(
        &app.config,
        &NewClinic {
            clinic: "Patel Dental",
            timezone: "America/New_York",
            clinic_type: "dental",
        },
    )
    .expect("org add")["org_id"]
        .as_i64()
        .unwrap();
    for (email, role) in [
        ("owner@patel.test", Role::Owner),
        ("desk@patel.test", Role::Staff),
    ] {
        cli::user_add(
            &app.config,
            Some(org),
            &NewAccount {
                email,
                name: None,
                role,
                password: PASSWORD,
            },
        )
        .expect("user");
    }
    let patel = practitioners::edit(
        &app.config,
        Some(org),
        "Main calendar",
        &Fields {
            name: Some("Dr Anita Patel"),
            title: Some("Dentist"),
            hours: Some("mon-fri 09:00-12:30,13:30-17:00"),
            services: Some("Check-up, Cleaning, Filling, Crown"),
            ..Fields::default()
        },
    )
    .expect("edit");
    assert_eq!(patel["hours"], "mon-fri 09:00-12:30,13:30-17:00");
    assert_eq!(
        patel["services"],
        json!(["Check-up", "Cleaning", "Crown", "Filling"])
    );
    practitioners::add(
        &app.config,
        Some(org),
        &Fields {
            name: Some("Dr Maria Ortiz"),
            title: Some("Dentist"),
            hours: Some("tue-thu 10:00-16:00"),
            ..Fields::default()
        },
    )
    .expect("add");
    let kim = practitioners::add(
        &app.config,
        Some(org),
        &Fields {
            name: Some("Kim Lee"),
            title: Some("Hygienist"),
            hours: Some("mon-fri 08:00-12:00"),
            services: Some("cleaning"),
            ..Fields::default()
        },
    )
    .expect("add");
    assert_eq!(kim["hours"], "mon-fri 08:00-12:00");
    assert_eq!(kim["services"], json!(["Cleaning"]));
    org
}

fn times(reply: &str) -> Vec<String> {
    data(reply)["days"][0]["times"]
        .as_array()
        .unwrap_or_else(|| panic!("{reply}"))
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn callers_ask_for_a_practitioner_and_get_only_their_free_times() {
    let app = TestApp::spawn().await;
    let org = dental_clinic(&app);
    let secret = app.vapi_secret(org);
    let ask = |id: &'static str, args: Value| {
        let secret = secret.clone();
        let app = &app;
        async move { app.tool(&secret, id, "check_availability", args).await }
    };

    // "A cleaning with Dr Patel on Tuesday": her times only, none over lunch.
    let patel = ask(
        "a1",
        json!({"service": "a cleaning", "practitioner": "Dr Patel", "date": TUESDAY}),
    )
    .await
    .expect("reply");
    assert!(
        patel.starts_with("For Cleaning with Dr Anita Patel: "),
        "{patel}"
    );
    assert_eq!(
        times(&patel),
        [
            "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "13:30", "14:00", "14:30",
            "15:00", "15:30", "16:00"
        ]
    );
    // The hygienist's mornings, within the clinic's 9 o'clock opening.
    let kim = ask(
        "a2",
        json!({"service": "cleaning", "practitioner": "the hygienist", "date": TUESDAY}),
    )
    .await
    .expect("reply");
    assert!(kim.starts_with("For Cleaning with Kim Lee: "), "{kim}");
    assert_eq!(times(&kim), ["09:00", "09:30", "10:00", "10:30", "11:00"]);
    // Anyone: every practitioner who does cleanings, each time saying who is free then.
    let anyone = ask("a3", json!({"service": "cleaning", "date": TUESDAY}))
        .await
        .expect("reply");
    let slots = &data(&anyone)["days"][0]["slots"];
    let at = |t: &str| {
        slots
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["time"] == t)
            .map(|s| s["practitioners"].clone())
    };
    assert_eq!(at("09:00"), Some(json!(["Dr Anita Patel", "Kim Lee"])));
    assert_eq!(at("12:30"), Some(json!(["Dr Maria Ortiz"])));
    assert_eq!(at("16:30"), None);

    // Named forgivingly, or refused clearly.
    let ambiguous = ask(
        "a4",
        json!({"service": "filling", "practitioner": "the dentist", "date": TUESDAY}),
    )
    .await
    .expect("reply");
    assert_eq!(
        ambiguous.split(" {").next(),
        Some("Which one does the caller mean: Dr Anita Patel or Dr Maria Ortiz?")
    );
    assert_eq!(data(&ambiguous)["reason"], "ambiguous_practitioner");
    let unknown = ask(
        "a5",
        json!({"service": "filling", "practitioner": "Dr Smith", "date": TUESDAY}),
    )
    .await
    .expect("reply");
    assert!(
        unknown.starts_with("There's nobody called “Dr Smith” here. The practitioners are Dr Anita Patel, Dr Maria Ortiz and Kim Lee."),
        "{unknown}"
    );
    let wrong = ask(
        "a6",
        json!({"service": "filling", "practitioner": "Kim", "date": TUESDAY}),
    )
    .await
    .expect("reply");
    assert!(
        wrong.starts_with("Kim Lee doesn't do Filling. Dr Anita Patel and Dr Maria Ortiz do."),
        "{wrong}"
    );

    // A time outside her hours is refused with hers, not the clinic's.
    let lunch = app
        .tool(
            &secret,
            "b1",
            "book_appointment",
            json!({"service": "cleaning", "practitioner": "Patel", "date": TUESDAY, "time": "12:45", "patientName": "Ann"}),
        )
        .await
        .expect("reply");
    assert!(
        lunch.starts_with("Dr Anita Patel works from 9:00 AM to 12:30 PM and 1:30 PM to 5:00 PM on Tuesday, June 16; that time is outside it."),
        "{lunch}"
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments WHERE org_id = ?1",
            &[&org]
        ),
        0
    );

    // Days off: the hygienist is away on Tuesday.
    practitioners::edit(
        &app.config,
        Some(org),
        "Kim Lee",
        &Fields {
            time_off: Some("06/16/2026"),
            ..Fields::default()
        },
    )
    .expect("time off");
    let away = app
        .tool(
            &secret,
            "a7",
            "check_availability",
            json!({"service": "cleaning", "practitioner": "the hygienist", "date": TUESDAY}),
        )
        .await
        .expect("reply");
    assert!(
        away.starts_with("Kim Lee isn't working on Tuesday, June 16."),
        "{away}"
    );
}

#[tokio::test]
async fn a_hundred_callers_for_one_practitioners_time_book_once_and_another_practitioner_still_books(
) {
    let app = TestApp::spawn().await;
    let org = dental_clinic(&app);
    let secret = app.vapi_secret(org);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for caller in 0..100 {
        let body = tool_calls(&[(
            &format!("call_race_{caller}"),
            "book_appointment",
            json!({"service": "filling", "practitioner": "Dr Patel", "date": TUESDAY, "time": "10:00", "patientName": format!("Caller {caller}")}),
        )]);
        let (client, url, secret) = (client.clone(), app.url("/api/vapi/tools"), secret.clone());
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .header("x-vapi-secret", secret)
                .json(&body)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }));
    }
    let (mut booked, mut taken) = (0, 0);
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200);
        let text = body["results"][0]["result"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"));
        if data(text)["ok"] == true {
            assert!(
                text.starts_with(
                    "You're booked for Filling with Dr Anita Patel on Tuesday, June 16"
                ),
                "{text}"
            );
            booked += 1;
        } else {
            assert_eq!(data(text)["reason"], "taken", "{text}");
            taken += 1;
        }
    }
    assert_eq!((booked, taken), (1, 99));
    // The same time with Dr Ortiz is still free, and books.
    let ortiz = app
        .tool(
            &secret,
            "ortiz",
            "book_appointment",
            json!({"service": "filling", "practitioner": "Ortiz", "date": TUESDAY, "time": "10:00", "patientName": "Bea"}),
        )
        .await
        .expect("reply");
    assert!(
        ortiz.starts_with(
            "You're booked for Filling with Dr Maria Ortiz on Tuesday, June 16 at 10:00 AM."
        ),
        "{ortiz}"
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments a JOIN providers p ON p.id = a.provider_id
             WHERE a.org_id = ?1 AND a.status = 'confirmed' AND a.start_at = ?2",
            &[
                &org,
                &chrono::DateTime::parse_from_rfc3339("2026-06-16T10:00:00-04:00")
                    .unwrap()
                    .timestamp()
            ]
        ),
        2
    );
    // Moving Dr Patel's appointment keeps it with her: her lunch is refused.
    let id = app.query_i64(
        "SELECT a.id FROM appointments a JOIN providers p ON p.id = a.provider_id WHERE p.name = 'Dr Anita Patel'",
        &[],
    );
    let moved = app
        .tool(
            &secret,
            "mv",
            "reschedule_appointment",
            json!({"appointmentId": id, "newDate": TUESDAY, "newTime": "13:00"}),
        )
        .await
        .expect("reply");
    assert!(
        moved.starts_with("Dr Anita Patel works from 9:00 AM to 12:30 PM and 1:30 PM"),
        "{moved}"
    );
}

async fn form(client: &reqwest::Client, url: String, fields: &[(&str, &str)]) -> (u16, String) {
    let res = client.post(url).form(fields).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn settings_practitioners_add_edit_archive_keeping_what_was_typed() {
    let app = TestApp::spawn().await;
    let org = dental_clinic(&app);
    let (owner, csrf) = app.signed_in("owner@patel.test").await;
    let page = owner
        .get(app.url("/settings/practitioners"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Dr Anita Patel") && page.contains("mon-fri 09:00-12:30,13:30-17:00"));
    assert!(page.contains("Kim Lee") && page.contains("Hygienist"));

    // A mistake comes back as typed, with the reason, and adds nobody.
    let before = app.query_i64("SELECT COUNT(*) FROM providers WHERE org_id = ?1", &[&org]);
    let (status, body) = form(
        &owner,
        app.url("/settings/practitioners"),
        &[
            ("csrf_token", &csrf),
            ("name", "Dr Raj Shah"),
            ("title", "Dentist"),
            ("hours", "mon-fri 09:00-12:30,12:00-17:00"),
            ("time_off", "12/24/2026"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_lowercase().contains("overlap"), "{body}");
    assert!(
        body.contains(r#"value="Dr Raj Shah""#)
            && body.contains(r#"value="mon-fri 09:00-12:30,12:00-17:00""#)
    );
    assert!(body.contains("<details open>"), "the add form stays open");
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM providers WHERE org_id = ?1", &[&org]),
        before
    );

    let cleaning = app.query_i64(
        "SELECT id FROM services WHERE org_id = ?1 AND name = 'Cleaning'",
        &[&org],
    );
    let cleaning = cleaning.to_string();
    let (status, _) = form(
        &owner,
        app.url("/settings/practitioners"),
        &[
            ("csrf_token", &csrf),
            ("name", "Dr Raj Shah"),
            ("title", "Dentist"),
            ("hours", "mon-fri 09:00-12:30,13:30-17:00"),
            ("time_off", "12/24/2026..12/31/2026"),
            ("service", &cleaning),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let shah = app.query_i64(
        "SELECT id FROM providers WHERE org_id = ?1 AND name = 'Dr Raj Shah'",
        &[&org],
    );
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM provider_services WHERE provider_id = ?1",
            &[&shah]
        ),
        1
    );
    let page = owner
        .get(app.url("/settings/practitioners?saved=added"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("2026-12-24..2026-12-31"), "{page}");

    // Editing with a bad date keeps that practitioner's form as typed, open.
    let (status, body) = form(
        &owner,
        app.url(&format!("/settings/practitioners/{shah}")),
        &[
            ("csrf_token", &csrf),
            ("name", "Dr Raj Shah"),
            ("hours", ""),
            ("time_off", "31/12/2026"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("“31/12/2026” is not a date"), "{body}");
    assert!(body.contains(r#"value="31/12/2026""#));

    // Another clinic's practitioner cannot be touched; staff cannot use the page.
    let other = app.query_i64(
        "SELECT id FROM providers WHERE org_id = ?1",
        &[&app.a.org_id],
    );
    let (status, _) = form(
        &owner,
        app.url(&format!("/settings/practitioners/{other}/archive")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = form(
        &owner,
        app.url(&format!("/settings/practitioners/{other}")),
        &[("csrf_token", &csrf), ("name", "Stolen")],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM providers WHERE name = 'Stolen'", &[]),
        0
    );
    let (desk, desk_csrf) = app.signed_in("desk@patel.test").await;
    assert_eq!(
        desk.get(app.url("/settings/practitioners"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let (status, _) = form(
        &desk,
        app.url(&format!("/settings/practitioners/{shah}/archive")),
        &[("csrf_token", &desk_csrf)],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = form(
        &owner,
        app.url(&format!("/settings/practitioners/{shah}/archive")),
        &[("csrf_token", "forged")],
    )
    .await;
    assert_eq!(status, 400);

    // Archive and restore, audited.
    let (status, _) = form(
        &owner,
        app.url(&format!("/settings/practitioners/{shah}/archive")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        app.query_i64("SELECT active FROM providers WHERE id = ?1", &[&shah]),
        0
    );
    let (status, _) = form(
        &owner,
        app.url(&format!("/settings/practitioners/{shah}/restore")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM audit_log WHERE org_id = ?1 AND action IN ('practitioner.added', 'practitioner.archived', 'practitioner.restored')",
            &[&org]
        ),
        5,
        "two added from the command line, one here, one archive, one restore"
    );
}

#[tokio::test]
async fn the_last_practitioner_cannot_be_archived() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let only = app.query_i64(
        "SELECT id FROM providers WHERE org_id = ?1",
        &[&app.a.org_id],
    );
    let (status, body) = form(
        &owner,
        app.url(&format!("/settings/practitioners/{only}/archive")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("is the only practitioner; add another before archiving them"),
        "{body}"
    );
    assert_eq!(
        app.query_i64("SELECT active FROM providers WHERE id = ?1", &[&only]),
        1
    );
}

#[tokio::test]
async fn a_caller_refused_because_the_time_was_taken_is_not_made_a_contact() {
    let app = TestApp::spawn().await;
    let secret = app.vapi_secret(app.a.org_id);
    let first = app
        .tool(
            &secret,
            "first",
            "book_appointment",
            json!({"service": "botox", "date": TUESDAY, "time": "10:00", "patientName": "Ann First"}),
        )
        .await
        .expect("booked");
    assert!(
        first.starts_with("You're booked for Botox on Tuesday, June 16"),
        "{first}"
    );
    // Another caller, on another line, for the same time.
    let mut body = tool_calls(&[(
        "second",
        "book_appointment",
        json!({"service": "botox", "date": TUESDAY, "time": "10:00", "patientName": "Bo Second"}),
    )]);
    body["message"]["call"]["customer"]["number"] = json!("+14155550177");
    body["message"]["customer"]["number"] = json!("+14155550177");
    let (status, reply) = app.vapi_post("/api/vapi/tools", &secret, &body).await;
    assert_eq!(status, 200);
    let text = reply["results"][0]["result"].as_str().unwrap();
    assert!(text.starts_with("That time was just taken."), "{text}");
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE phone = '+14155550177'",
            &[]
        ),
        0
    );
    // The first caller asking again under another name changes nothing either.
    let again = app
        .tool(
            &secret,
            "third",
            "book_appointment",
            json!({"service": "botox", "date": TUESDAY, "time": "10:00", "patientName": "Someone Else"}),
        )
        .await
        .expect("reply");
    assert!(again.starts_with("That time was just taken."), "{again}");
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM contacts WHERE name = 'Ann First'",
            &[]
        ),
        1
    );
}

#[tokio::test]
async fn the_desk_books_by_clicking_a_free_time_and_a_conflict_keeps_the_form() {
    let app = TestApp::spawn().await;
    let org = dental_clinic(&app);
    let (desk, csrf) = app.signed_in("desk@patel.test").await;
    let cleaning = app
        .query_i64(
            "SELECT id FROM services WHERE org_id = ?1 AND name = 'Cleaning'",
            &[&org],
        )
        .to_string();
    let kim = app
        .query_i64(
            "SELECT id FROM providers WHERE org_id = ?1 AND name = 'Kim Lee'",
            &[&org],
        )
        .to_string();
    let typed = |extra: &[(&'static str, String)]| {
        let mut f: Vec<(&'static str, String)> = vec![
            ("csrf_token", csrf.clone()),
            ("name", "Dana Lee".into()),
            ("phone", "(415) 555-0142".into()),
            ("service_id", cleaning.clone()),
            ("provider_id", kim.clone()),
            ("date", TUESDAY.into()),
        ];
        for (k, v) in extra {
            f.retain(|(key, _)| key != k);
            f.push((k, v.clone()));
        }
        f
    };
    // The free times, from the phone's engine: the hygienist's mornings.
    let res = desk
        .post(app.url("/appointments"))
        .form(&typed(&[("action", "times".into())]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Free on Tuesday, June 16"), "{page}");
    let first = format!(r#"name="pick" value="{kim}@2026-06-16@09:00""#);
    assert!(page.contains(&first), "{page}");
    assert!(
        !page.contains(&format!("{kim}@2026-06-16@13:30")),
        "not after her hours"
    );
    assert!(page.contains(r#"value="Dana Lee""#), "the form is kept");
    // Clicking a free time books it.
    let res = desk
        .post(app.url("/appointments"))
        .form(&typed(&[("pick", format!("{kim}@2026-06-16@09:00"))]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM appointments a JOIN providers p ON p.id = a.provider_id
             WHERE a.org_id = ?1 AND p.name = 'Kim Lee' AND a.status = 'confirmed'",
            &[&org]
        ),
        1
    );
    // The same time again: refused, the form as typed, the nearest free times offered.
    let res = desk
        .post(app.url("/appointments"))
        .form(&typed(&[
            ("time", "09:00".into()),
            ("name", "Eve Second".into()),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("already taken"), "{page}");
    assert!(page.contains("The nearest free times"), "{page}");
    assert!(
        page.contains(&format!(r#"name="pick" value="{kim}@2026-06-16@10:00""#)),
        "{page}"
    );
    assert!(page.contains(r#"value="(415) 555-0142""#) && page.contains(r#"value="09:00""#));
    // Moving Dana's cleaning the same way: the same practitioner's free times, then a click.
    let dana = app.query_i64(
        "SELECT a.id FROM appointments a JOIN contacts c ON c.id = a.contact_id WHERE c.name = 'Dana Lee'",
        &[],
    );
    let res = desk
        .post(app.url(&format!("/appointments/{dana}/reschedule")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("date", "2026-06-17"),
            ("action", "times"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Moving Dana Lee&#39;s Cleaning with Kim Lee"),
        "{page}"
    );
    assert!(page.contains("Free on Wednesday, June 17"));
    let res = desk
        .post(app.url(&format!("/appointments/{dana}/reschedule")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("pick", &format!("{kim}@2026-06-17@10:30")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let moved_to = chrono::DateTime::parse_from_rfc3339("2026-06-17T10:30:00-04:00")
        .unwrap()
        .timestamp();
    assert_eq!(
        app.query_i64("SELECT start_at FROM appointments WHERE id = ?1", &[&dana]),
        moved_to
    );
    // A typed time outside her hours: refused, with her nearest free times.
    let res = desk
        .post(app.url(&format!("/appointments/{dana}/reschedule")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("date", "2026-06-17"),
            ("time", "15:00"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("Kim Lee works from"), "{page}");
    assert!(page.contains("The nearest free times") && page.contains("Moving Dana Lee"));
    assert_eq!(
        app.query_i64("SELECT start_at FROM appointments WHERE id = ?1", &[&dana]),
        moved_to
    );

    // Any practitioner: whoever performs the service and is free.
    let res = desk
        .post(app.url("/appointments"))
        .form(&typed(&[
            ("provider_id", "0".into()),
            ("action", "times".into()),
        ]))
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(
        page.contains("· Dr Maria Ortiz") && page.contains("· Dr Anita Patel"),
        "{page}"
    );
}

#[tokio::test]
async fn the_provider_commands_see_only_the_clinic_they_are_given() {
    let app = TestApp::spawn().await;
    let dental = dental_clinic(&app);
    // Alpha's list has none of Patel Dental's practitioners, and cannot edit them by name.
    let alpha = practitioners::list(&app.config, Some(app.a.org_id)).expect("list");
    let names: Vec<&str> = alpha["practitioners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&"Kim Lee") && !names.contains(&"Dr Anita Patel"),
        "{names:?}"
    );
    let refused = practitioners::edit(
        &app.config,
        Some(app.a.org_id),
        "Kim Lee",
        &Fields {
            title: Some("Stolen"),
            ..Fields::default()
        },
    );
    assert!(refused.is_err());
    // By id, another clinic's practitioner is not found either.
    let kim = app.query_i64(
        "SELECT id FROM providers WHERE org_id = ?1 AND name = 'Kim Lee'",
        &[&dental],
    );
    assert!(
        practitioners::set_active(&app.config, Some(app.a.org_id), &kim.to_string(), false)
            .is_err()
    );
    assert_eq!(
        app.query_i64("SELECT active FROM providers WHERE id = ?1", &[&kim]),
        1
    );
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM providers WHERE title = 'Stolen'", &[]),
        0
    );
    // A service of another clinic cannot be given to a practitioner.
    let err = practitioners::add(
        &app.config,
        Some(app.a.org_id),
        &Fields {
            name: Some("Dr New"),
            services: Some("Cleaning"),
            ..Fields::default()
        },
    )
    .unwrap_err();
    assert!(format!("{err:?}").contains("no service matches"), "{err:?}");
}
