//! The `voxanne` binary: scripted set-up, bad configuration, backup and restore.

use crate::support;

use std::process::Command;
use support::TestApp;

fn voxanne(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voxanne"));
    cmd.env_clear()
        .env("VOXANNE_DATA_DIR", data_dir)
        .env("VOXANNE_CONFIG", "/dev/null")
        .env("VOXANNE_MASTER_KEY", support::MASTER_KEY);
    cmd
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run voxanne");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn init_org_and_users_print_json() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "a-long-password\n").unwrap();
    let data = dir.path().join("data");
    let (ok, out, err) = run(voxanne(&data).args([
        "init",
        "--clinic",
        "Glow",
        "--timezone",
        "America/Denver",
        "--clinic-type",
        "dental",
        "--owner-email",
        "o@glow.test",
        "--owner-password-file",
        pw.to_str().unwrap(),
        "--json",
    ]));
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["org_id"], 1);
    assert_eq!(v["clinic_type"], "dental");
    assert_eq!(v["starting_services"], 9);
    let (ok, out, _) = run(voxanne(&data).args([
        "org",
        "add",
        "--clinic",
        "Glow Downtown",
        "--timezone",
        "America/Denver",
        "--clinic-type",
        "med spa",
        "--json",
    ]));
    assert!(ok);
    let org2 = serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()["org_id"]
        .as_i64()
        .unwrap();
    assert_eq!(org2, 2);
    let (ok, out, err) = run(voxanne(&data).args([
        "user",
        "add",
        "--org",
        "2",
        "--email",
        "s@glow.test",
        "--role",
        "staff",
        "--password-file",
        pw.to_str().unwrap(),
        "--json",
    ]));
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()["org_id"],
        2
    );
    // Without --org when there are two clinics: a clear refusal.
    let (ok, _, err) = run(voxanne(&data).args(["user", "list"]));
    assert!(!ok && err.contains("--org"), "{err}");
    let (ok, out, _) = run(voxanne(&data).args(["user", "list", "--org", "2", "--json"]));
    assert!(ok && out.contains("s@glow.test") && !out.contains("o@glow.test"));
    let (ok, out, _) = run(voxanne(&data).args([
        "user",
        "disable",
        "--org",
        "2",
        "--email",
        "s@glow.test",
        "--json",
    ]));
    assert!(ok && out.contains("\"disabled\":true"));
    // Practitioners: added, listed, edited by name and archived from the shell.
    let (ok, out, err) = run(voxanne(&data).args([
        "provider",
        "add",
        "--org",
        "1",
        "--name",
        "Dr Anita Patel",
        "--title",
        "Dentist",
        "--services",
        "Cleaning,Whitening",
        "--hours",
        "mon-fri 09:00-12:30,13:30-17:00",
        "--json",
    ]));
    assert!(ok, "{err}");
    let added: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(added["hours"], "mon-fri 09:00-12:30,13:30-17:00");
    assert_eq!(
        added["services"],
        serde_json::json!(["Cleaning", "Teeth Whitening"])
    );
    let (ok, _, err) = run(voxanne(&data).args([
        "practitioner",
        "edit",
        "Dr Patel",
        "--org",
        "1",
        "--time-off",
        "2026-12-24..2026-12-31",
    ]));
    assert!(ok, "{err}");
    let (ok, _, err) =
        run(voxanne(&data).args(["provider", "archive", "Main calendar", "--org", "1"]));
    assert!(ok, "{err}");
    let (ok, out, _) = run(voxanne(&data).args(["provider", "list", "--org", "1", "--json"]));
    let listed: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(ok);
    assert_eq!(listed["practitioners"][0]["name"], "Dr Anita Patel");
    assert_eq!(
        listed["practitioners"][0]["time_off"],
        "2026-12-24..2026-12-31"
    );
    assert_eq!(listed["practitioners"][1]["active"], false);
    // Bad hours: one line saying why, and nothing changed.
    let (ok, _, err) = run(voxanne(&data).args([
        "provider",
        "edit",
        "Dr Patel",
        "--org",
        "1",
        "--hours",
        "mon 17:00-09:00",
    ]));
    assert!(!ok && err.trim().lines().count() == 1, "{err}");
    assert!(
        err.contains("Hours: 17:00-09:00: the end must come after the start"),
        "{err}"
    );
    let (_, out, _) = run(voxanne(&data).args(["provider", "list", "--org", "1", "--json"]));
    assert!(out.contains("mon-fri 09:00-12:30,13:30-17:00"));
    // init twice is refused.
    let (ok, _, err) = run(voxanne(&data).args([
        "init",
        "--clinic",
        "X",
        "--timezone",
        "UTC",
        "--clinic-type",
        "other",
        "--owner-email",
        "x@x.test",
        "--owner-password-file",
        pw.to_str().unwrap(),
    ]));
    assert!(!ok && err.contains("already set up"), "{err}");
}

#[test]
fn bad_configuration_fails_with_one_line_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    type Case<'a> = (Vec<(&'a str, String)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("VOXANNE_LISTEN", "not-an-address".into())],
            vec!["serve"],
            "VOXANNE_LISTEN",
        ),
        (
            vec![("VOXANNE_MASTER_KEY", "abcd".into())],
            vec!["serve"],
            "VOXANNE_MASTER_KEY",
        ),
        (
            vec![("VOXANNE_LOG_FORMAT", "xml".into())],
            vec!["serve"],
            "VOXANNE_LOG_FORMAT",
        ),
        (
            vec![],
            vec![
                "org",
                "add",
                "--clinic",
                "X",
                "--timezone",
                "Mars/Base",
                "--clinic-type",
                "dental",
            ],
            "time zone",
        ),
        (
            vec![],
            vec![
                "org",
                "add",
                "--clinic",
                "X",
                "--timezone",
                "UTC",
                "--clinic-type",
                "veterinary",
            ],
            "unknown clinic type “veterinary”; choose one of: dental, aesthetics",
        ),
    ];
    for (env, args, expect) in cases {
        let mut cmd = voxanne(&data);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let (ok, _, err) = run(cmd.args(&args));
        assert!(!ok, "{args:?} should fail");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains(expect), "{err}");
        assert!(!data.exists(), "{args:?} created the data dir");
    }
    // An unwritable data dir.
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o500);
    std::fs::set_permissions(&ro, perms).unwrap();
    let root = unsafe_is_root();
    let (ok, _, err) = run(voxanne(&ro.join("inner")).args(["migrate"]));
    if !root {
        assert!(!ok && err.contains("VOXANNE_DATA_DIR"), "{err}");
    }
    let (ok, _, err) =
        run(voxanne(std::path::Path::new("/proc/voxanne-cannot-exist")).args(["migrate"]));
    assert!(
        !ok && err.contains("VOXANNE_DATA_DIR") && err.trim().lines().count() == 1,
        "{err}"
    );
}

fn unsafe_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn check_prints_config_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, _) = run(voxanne(dir.path())
        .env("VAPI_PRIVATE_KEY", "sk-very-secret")
        .args(["check", "--json"]));
    assert!(ok);
    assert!(!out.contains("sk-very-secret") && !out.contains(support::MASTER_KEY));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["settings"]["VOXANNE_LISTEN"], "127.0.0.1:8080");
    assert!(v["missing"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m.as_str().unwrap().contains("VOXANNE_PUBLIC_URL")));
}

#[tokio::test]
async fn backup_while_writing_then_restore_brings_data_back() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    // Keep writing while the backup runs.
    let writer = {
        let (owner, csrf, url) = (owner.clone(), csrf.clone(), app.url("/settings/rules"));
        tokio::spawn(async move {
            for i in 0..40 {
                let buffer = (i % 30).to_string();
                owner
                    .post(&url)
                    .form(&[
                        ("csrf_token", csrf.as_str()),
                        ("buffer_minutes", &buffer),
                        ("slot_minutes", "15"),
                        ("min_notice_minutes", "60"),
                        ("horizon_days", "60"),
                    ])
                    .send()
                    .await
                    .unwrap();
            }
        })
    };
    let backup = app.dir.path().join("backup.db");
    let data = app.dir.path().to_path_buf();
    let b2 = backup.clone();
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        run(voxanne(&data).args(["backup", b2.to_str().unwrap(), "--json"]))
    })
    .await
    .unwrap();
    writer.await.unwrap();
    assert!(ok, "{err}");
    assert!(out.contains("\"integrity\":\"ok\""));
    let staff_in_backup = rusqlite::Connection::open(&backup)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM staff", [], |r| r.get::<_, i64>(0))
        .unwrap();
    assert_eq!(staff_in_backup, 4);

    // Restore is refused while the server holds the data dir.
    let data = app.dir.path().to_path_buf();
    let b2 = backup.clone();
    let (ok, _, err) = tokio::task::spawn_blocking(move || {
        run(voxanne(&data).args(["restore", b2.to_str().unwrap()]))
    })
    .await
    .unwrap();
    assert!(!ok && err.contains("running"), "{err}");

    // Lose data, stop, restore, and see it back.
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    conn.execute("DELETE FROM sessions", []).unwrap();
    conn.execute("DELETE FROM staff WHERE role = 'staff'", [])
        .unwrap();
    drop(conn);
    let data = app.dir.path().to_path_buf();
    let db_path = app.config.db_path();
    let keep = app.stop().await;
    let b2 = backup.clone();
    let (ok, out, err) = run(voxanne(&data).args(["restore", b2.to_str().unwrap(), "--json"]));
    assert!(ok, "{err}");
    assert!(out.contains("before-restore"));
    let staff = rusqlite::Connection::open(&db_path)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM staff", [], |r| r.get::<_, i64>(0))
        .unwrap();
    assert_eq!(staff, 4);
    drop(keep);
}
