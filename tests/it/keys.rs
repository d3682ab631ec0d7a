//! `voxanne keys rotate` through the binary: every secret opens with the new key and no longer
//! with the old one, for a key in the data directory and for one from the configuration; a
//! running server is never rotated under.

use crate::support;

use std::path::Path;
use std::process::Command;
use support::messaging::{ACCOUNT_SID, AUTH_TOKEN, FROM};

fn voxanne(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voxanne"));
    cmd.env_clear()
        .env("VOXANNE_DATA_DIR", data_dir)
        .env("VOXANNE_CONFIG", "/dev/null");
    cmd
}

fn run(cmd: &mut Command) -> (bool, serde_json::Value, String) {
    let out = cmd.output().expect("run voxanne");
    let stdout = String::from_utf8_lossy(&out.stdout);
    (
        out.status.success(),
        serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A clinic with Twilio credentials; returns its Vapi secret.
fn seed(dir: &Path, data: &Path, key_env: Option<&str>) -> String {
    let with_key = |mut c: Command| {
        if let Some(k) = key_env {
            c.env("VOXANNE_MASTER_KEY", k);
        }
        c
    };
    let pw = dir.join("pw");
    std::fs::write(&pw, "a-long-password").unwrap();
    std::fs::write(dir.join("token"), AUTH_TOKEN).unwrap();
    let (ok, _, err) = run(with_key(voxanne(data)).args([
        "init",
        "--clinic",
        "Glow",
        "--timezone",
        "UTC",
        "--clinic-type",
        "dental",
        "--owner-email",
        "o@g.test",
        "--owner-password-file",
        pw.to_str().unwrap(),
    ]));
    assert!(ok, "{err}");
    let token = dir.join("token");
    let (ok, _, err) = run(with_key(voxanne(data)).args([
        "twilio",
        "set",
        "--account-sid",
        ACCOUNT_SID,
        "--auth-token-file",
        token.to_str().unwrap(),
        "--from",
        FROM,
    ]));
    assert!(ok, "{err}");
    let (ok, v, err) = run(with_key(voxanne(data)).args(["vapi", "show", "--json"]));
    assert!(ok, "{err}");
    v["secret"].as_str().unwrap().to_string()
}

#[test]
fn a_data_directory_key_is_replaced_and_the_old_one_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let secret = seed(dir.path(), &data, None);
    let old_key = std::fs::read_to_string(data.join("master.key")).unwrap();

    let (ok, v, err) = run(voxanne(&data).args(["keys", "rotate", "--json"]));
    assert!(ok, "{err}");
    assert_eq!(v["resealed"], 2, "the Vapi secret and the Twilio token");
    let new_key = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert_ne!(old_key, new_key);
    let retired = v["retired_key_file"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(retired).unwrap(), old_key);

    // Everything opens with the new key...
    let (ok, v, err) = run(voxanne(&data).args(["vapi", "show", "--json"]));
    assert!(ok, "{err}");
    assert_eq!(v["secret"], secret.as_str());
    // ...and nothing with the old one.
    let (ok, _, _) = run(voxanne(&data)
        .env("VOXANNE_MASTER_KEY", old_key.trim())
        .args(["vapi", "show", "--json"]));
    assert!(!ok);
}

#[test]
fn a_configured_key_needs_a_new_key_file_and_the_operator_switches_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let secret = seed(dir.path(), &data, Some(support::MASTER_KEY));
    let configured = || {
        let mut c = voxanne(&data);
        c.env("VOXANNE_MASTER_KEY", support::MASTER_KEY);
        c
    };
    let (ok, _, err) = run(configured().args(["keys", "rotate"]));
    assert!(!ok);
    assert!(err.contains("--new-key-file"), "{err}");

    let new_file = dir.path().join("new.key");
    let (ok, v, err) = run(configured().args([
        "keys",
        "rotate",
        "--json",
        "--new-key-file",
        new_file.to_str().unwrap(),
    ]));
    assert!(ok, "{err}");
    assert_eq!(v["master_key_file"], new_file.to_str().unwrap());
    assert!(v["next_step"]
        .as_str()
        .unwrap()
        .contains("VOXANNE_MASTER_KEY_FILE"));

    let (ok, v, err) = run(voxanne(&data)
        .env("VOXANNE_MASTER_KEY_FILE", &new_file)
        .args(["vapi", "show", "--json"]));
    assert!(ok, "{err}");
    assert_eq!(v["secret"], secret.as_str());
    let (ok, _, _) = run(configured().args(["vapi", "show", "--json"]));
    assert!(!ok, "the old key no longer opens the secrets");
}

#[tokio::test]
async fn a_running_server_is_never_rotated_under() {
    let app = support::TestApp::spawn().await;
    app.set_twilio(app.a.org_id);
    let new_file = app.dir.path().join("new.key");
    let (ok, _, err) = run(voxanne(app.dir.path())
        .env("VOXANNE_MASTER_KEY", support::MASTER_KEY)
        .args([
            "keys",
            "rotate",
            "--new-key-file",
            new_file.to_str().unwrap(),
        ]));
    assert!(!ok);
    assert!(err.contains("server is running"), "{err}");
    assert!(!new_file.exists());
    // The running server still reads its secrets.
    assert!(app.vapi_secret(app.a.org_id).starts_with("vx_"));
}
