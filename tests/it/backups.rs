//! Backups: scheduled runs on the injected clock (written, checked, rotated), encrypted copies
//! (no plaintext, refused without the key, restored with it), and Settings → Backups (back up
//! now, downloads, audit, who may see it).

use crate::support;

use chrono::{Duration, TimeZone, Utc};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{Options, TestApp};
use voxanne::backup::{sealed, BackupSet};
use voxanne::jobs;
use voxanne::store::check_integrity;

fn backup_dir(app: &TestApp) -> PathBuf {
    app.config.backup.dir.clone()
}

fn names(dir: &Path) -> Vec<String> {
    BackupSet::new(dir)
        .list()
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect()
}

fn voxanne(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voxanne"));
    cmd.env_clear()
        .env("VOXANNE_DATA_DIR", data_dir)
        .env("VOXANNE_CONFIG", "/dev/null");
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

fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn scheduled_backups_run_daily_are_checked_and_rotate() {
    let app = TestApp::spawn_with(Options {
        extra: vec![("VOXANNE_BACKUP_KEEP", "3".into())],
        ..Options::default()
    })
    .await;
    let dir = backup_dir(&app);
    // No backup yet: one is due at once (the job also runs at start; either writes it).
    jobs::backups::run_due(&app.state).await.unwrap();
    assert_eq!(names(&dir), vec!["voxanne-20260615T140000Z.db"]);

    // 03:30 in New York (Alpha Clinic, the first clinic) is 07:30 UTC in June.
    let mut expected = vec!["voxanne-20260615T140000Z.db".to_string()];
    for day in 16..=20 {
        let before = Utc.with_ymd_and_hms(2026, 6, day, 7, 29, 0).unwrap();
        app.clock.set(before);
        assert!(jobs::backups::run_due(&app.state).await.unwrap().is_none());
        let after = Utc.with_ymd_and_hms(2026, 6, day, 7, 31, 0).unwrap();
        app.clock.set(after);
        jobs::backups::run_due(&app.state).await.unwrap();
        // Not twice in a day.
        app.clock.set(after + Duration::hours(12));
        assert!(jobs::backups::run_due(&app.state).await.unwrap().is_none());
        expected.insert(0, format!("voxanne-202606{day}T073100Z.db"));
        expected.truncate(3);
        assert_eq!(names(&dir), expected, "after day {day}");
    }
    for name in &expected {
        let path = dir.join(name);
        check_integrity(&path).unwrap();
        assert_eq!(count(&path, "SELECT COUNT(*) FROM orgs"), 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name} is readable by others");
        }
    }
    // Scheduled backups can be switched off.
    let off = TestApp::spawn_with(Options {
        extra: vec![("VOXANNE_BACKUP_TIME", "off".into())],
        ..Options::default()
    })
    .await;
    assert!(jobs::backups::run_due(&off.state).await.unwrap().is_none());
    assert!(names(&backup_dir(&off)).is_empty());
}

#[tokio::test]
async fn encrypted_backups_hold_no_plaintext_and_restore_only_with_the_key() {
    let app = TestApp::spawn_with(Options {
        extra: vec![("VOXANNE_BACKUP_ENCRYPT", "true".into())],
        ..Options::default()
    })
    .await;
    let taken = jobs::backups::run_now(&app.state).await.unwrap();
    assert!(taken.file.name.ends_with(".db.enc"), "{}", taken.file.name);
    assert!(taken.file.encrypted);
    let bytes = std::fs::read(&taken.path).unwrap();
    assert!(!bytes.starts_with(b"SQLite format 3\0"));
    for known in [
        "Alpha Clinic",
        "owner@alpha.test",
        "staff@beta.test",
        "Europe/London",
    ] {
        assert!(
            !bytes.windows(known.len()).any(|w| w == known.as_bytes()),
            "{known} in the encrypted backup"
        );
    }
    assert!(rusqlite::Connection::open(&taken.path)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM orgs", [], |r| r.get::<_, i64>(0)))
        .is_err());
    // With the key it opens to a checked database.
    let opened = app.dir.path().join("opened.db");
    sealed::open(
        app.state.vault.file_key(),
        std::fs::File::open(&taken.path).unwrap(),
        std::fs::File::create(&opened).unwrap(),
    )
    .unwrap();
    check_integrity(&opened).unwrap();
    assert_eq!(count(&opened, "SELECT COUNT(*) FROM staff"), 4);

    // A change after the backup, which the restore must undo.
    let live = app.config.db_path();
    rusqlite::Connection::open(&live)
        .unwrap()
        .execute(
            "UPDATE staff SET disabled = 1 WHERE email = 'staff@alpha.test'",
            [],
        )
        .unwrap();
    let data = app.dir.path().to_path_buf();
    let backup = taken.path.clone();
    let _dir = app.stop().await;

    // Elsewhere, without any key: refused cleanly, nothing written.
    let fresh = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(voxanne(fresh.path()).args(["restore", backup.to_str().unwrap()]));
    assert!(!ok);
    assert!(
        err.contains("is encrypted") && err.contains("--key-file"),
        "{err}"
    );
    assert!(!fresh.path().join("voxanne.db").exists());
    // With the wrong key: refused, naming the key.
    let wrong = fresh.path().join("wrong.key");
    std::fs::write(&wrong, "02".repeat(32)).unwrap();
    let (ok, _, err) = run(voxanne(fresh.path()).args([
        "restore",
        backup.to_str().unwrap(),
        "--key-file",
        wrong.to_str().unwrap(),
    ]));
    assert!(!ok && err.contains("not the master key"), "{err}");
    assert!(!fresh.path().join("voxanne.db").exists());

    // On a new machine with the right key file: restored, and the key installed so the
    // clinics' stored secrets can be read.
    let key = fresh.path().join("master.key.saved");
    std::fs::write(&key, format!("{}\n", support::MASTER_KEY)).unwrap();
    let (ok, out, err) = run(voxanne(fresh.path()).args([
        "restore",
        backup.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "--json",
    ]));
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["encrypted"], true);
    assert_eq!(v["master_key_installed"], true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(fresh.path().join("voxanne.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the restored database is the owner's only"
        );
    }
    let (ok, out, err) = run(voxanne(fresh.path()).args(["vapi", "show", "--org", "1", "--json"]));
    assert!(
        ok,
        "the restored secrets decrypt with the installed key: {err}"
    );
    assert!(out.contains("\"secret\":\""));

    // In place, with the appliance's own key (from the environment).
    let (ok, _, err) = run(voxanne(&data)
        .env("VOXANNE_MASTER_KEY", support::MASTER_KEY)
        .args(["restore", backup.to_str().unwrap()]));
    assert!(ok, "{err}");
    assert_eq!(
        count(
            &data.join("voxanne.db"),
            "SELECT disabled FROM staff WHERE email = 'staff@alpha.test'"
        ),
        0,
        "the restore brought the data back"
    );
    // Restoring again at once keeps both replaced databases: nothing is overwritten.
    let (ok, _, err) = run(voxanne(&data)
        .env("VOXANNE_MASTER_KEY", support::MASTER_KEY)
        .args(["restore", backup.to_str().unwrap()]));
    assert!(ok, "{err}");
    let kept = std::fs::read_dir(&data)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("voxanne.db.before-restore-")
        })
        .count();
    assert_eq!(kept, 2);
}

#[tokio::test]
async fn backup_into_the_set_from_the_command_line() {
    let app = TestApp::spawn_with(Options {
        extra: vec![("VOXANNE_BACKUP_KEEP", "2".into())],
        ..Options::default()
    })
    .await;
    let data = app.dir.path().to_path_buf();
    let dir = backup_dir(&app);
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        run(voxanne(&data)
            .env("VOXANNE_MASTER_KEY", support::MASTER_KEY)
            .env("VOXANNE_BACKUP_KEEP", "2")
            .args(["backup", "--encrypt", "--json"]))
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["encrypted"], true);
    assert_eq!(v["integrity"], "ok");
    let written = PathBuf::from(v["backup"].as_str().unwrap());
    assert_eq!(written.parent(), Some(dir.as_path()));
    assert!(sealed::is_sealed(&written).unwrap());
    assert!(names(&dir).len() <= 2);
}

async fn get_text(client: &reqwest::Client, url: String) -> (u16, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn audits(app: &TestApp, action: &str) -> i64 {
    app.query_i64(
        "SELECT COUNT(*) FROM audit_log WHERE action = ?1",
        &[&action],
    )
}

#[tokio::test]
async fn backups_page_backs_up_and_downloads_audited() {
    let app = TestApp::spawn().await;
    let dir = backup_dir(&app);
    jobs::backups::run_due(&app.state).await.unwrap();
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;

    let (status, page) = get_text(&owner, app.url("/settings/backups")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Last good backup") && page.contains("voxanne-20260615T140000Z.db"));
    assert!(page.contains("Daily at 03:30 (America/New_York)"), "{page}");
    assert!(
        page.contains("Jun 15, 2026 10:00 AM"),
        "times in the clinic's zone"
    );

    // Back up now: a second file (same clock second), audited.
    app.clock.advance(Duration::minutes(5));
    let res = owner
        .post(app.url("/settings/backups/now"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(names(&dir).len(), 2);
    assert_eq!(audits(&app, "backup.created"), 1);
    let newest = names(&dir)[0].clone();
    assert_eq!(newest, "voxanne-20260615T140500Z.db");

    // Download: the file's exact bytes, as an attachment, audited.
    let res = owner
        .post(app.url("/settings/backups/download"))
        .form(&[("csrf_token", csrf.as_str()), ("name", newest.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(disposition, format!("attachment; filename=\"{newest}\""));
    let body = res.bytes().await.unwrap();
    assert_eq!(
        body.as_ref(),
        std::fs::read(dir.join(&newest)).unwrap().as_slice()
    );
    assert_eq!(audits(&app, "backup.downloaded"), 1);

    // Anything that is not a listed backup is a 404 and is not audited.
    std::fs::write(app.dir.path().join("notes.db"), b"not a backup").unwrap();
    for name in [
        "../voxanne.db",
        "../master.key",
        "voxanne.db",
        "/etc/passwd",
        "voxanne-20990101T000000Z.db",
        ".lock",
        "../notes.db",
        "",
    ] {
        let res = owner
            .post(app.url("/settings/backups/download"))
            .form(&[("csrf_token", csrf.as_str()), ("name", name)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{name}");
    }
    assert_eq!(audits(&app, "backup.downloaded"), 1);
    // Without the CSRF token: refused.
    let res = owner
        .post(app.url("/settings/backups/download"))
        .form(&[("name", newest.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn backups_and_diagnostics_are_for_the_administering_owner_only() {
    let app = TestApp::spawn().await;
    jobs::backups::run_due(&app.state).await.unwrap();
    let name = names(&backup_dir(&app))[0].clone();
    // A backup holds every clinic: Beta's owner may not see or download it.
    for who in [app.a.staff_email, app.b.owner_email, app.b.staff_email] {
        let (client, csrf) = app.signed_in(who).await;
        for path in ["/settings/backups", "/settings/diagnostics"] {
            let (status, _) = get_text(&client, app.url(path)).await;
            assert_eq!(status, 403, "{who} {path}");
        }
        for path in ["/settings/backups/now", "/settings/backups/download"] {
            let res = client
                .post(app.url(path))
                .form(&[("csrf_token", csrf.as_str()), ("name", name.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "{who} {path}");
        }
    }
    assert_eq!(names(&backup_dir(&app)).len(), 1);
    assert_eq!(audits(&app, "backup.downloaded"), 0);
    // Signed out: the sign-in page.
    let res = app
        .client()
        .get(app.url("/settings/backups"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn a_failed_backup_is_shown_and_recorded() {
    // The backup "directory" is a file: every attempt fails.
    let blocker = tempfile::NamedTempFile::new().unwrap();
    let app = TestApp::spawn_with(Options {
        extra: vec![("VOXANNE_BACKUP_DIR", blocker.path().display().to_string())],
        ..Options::default()
    })
    .await;
    assert!(jobs::backups::run_due(&app.state).await.is_err());
    let (owner, csrf) = app.signed_in(app.a.owner_email).await;
    let res = owner
        .post(app.url("/settings/backups/now"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("The backup failed"), "{page}");
    assert!(page.contains("VOXANNE_BACKUP_DIR"), "{page}");
    assert_eq!(audits(&app, "backup.created"), 0);
    assert_eq!(
        app.query_i64("SELECT ok FROM appliance_status WHERE name = 'backup'", &[]),
        0
    );
}
