//! The real binary, started with a permissive umask, leaves nothing readable by others: files
//! 0600 and directories 0700 in the data directory it creates (database, -wal, -shm, master key,
//! lock file, backups).

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `voxanne ARGS` started by a shell that first sets umask 022, as a login shell would.
fn voxanne_with_open_umask(data_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_voxanne"))
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("VOXANNE_DATA_DIR", data_dir)
        .env("VOXANNE_CONFIG", "/dev/null")
        .env("VOXANNE_LISTEN", "127.0.0.1:0");
    cmd
}

fn run_ok(mut cmd: Command) {
    let out = cmd.output().expect("run voxanne");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn modes_under(dir: &Path, found: &mut Vec<(PathBuf, u32, bool)>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        let meta = std::fs::metadata(&path).expect("metadata");
        found.push((
            path.clone(),
            meta.permissions().mode() & 0o777,
            meta.is_dir(),
        ));
        if meta.is_dir() {
            modes_under(&path, found);
        }
    }
}

#[test]
fn everything_the_binary_writes_is_owner_only_whatever_the_umask() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let password = dir.path().join("pw");
    std::fs::write(&password, "a-long-password\n").expect("password file");
    run_ok(voxanne_with_open_umask(
        &data,
        &[
            "init",
            "--clinic",
            "Glow",
            "--timezone",
            "America/Denver",
            "--clinic-type",
            "physiotherapy",
            "--owner-email",
            "o@glow.test",
            "--owner-password-file",
            password.to_str().expect("utf-8 path"),
        ],
    ));
    run_ok(voxanne_with_open_umask(&data, &["backup"]));
    let mut server = voxanne_with_open_umask(&data, &["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    let log = BufReader::new(server.stderr.take().expect("stderr"));
    let serving = log
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("voxanne is serving"));
    assert!(serving, "the server did not start");
    let mut found = vec![(data.clone(), 0, true)];
    found[0].1 = std::fs::metadata(&data)
        .expect("data dir")
        .permissions()
        .mode()
        & 0o777;
    modes_under(&data, &mut found);
    let _ = server.kill();
    let _ = server.wait();

    let names: Vec<String> = found
        .iter()
        .map(|(p, _, _)| p.strip_prefix(&data).expect("inside").display().to_string())
        .collect();
    for expected in [
        "",
        "voxanne.db",
        "voxanne.db-wal",
        "voxanne.db-shm",
        "master.key",
        "voxanne.lock",
        "backups",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected:?} missing from {names:?}"
        );
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("backups/") && n.ends_with(".db")),
        "no backup file in {names:?}"
    );
    let open: Vec<String> = found
        .iter()
        .filter(|(_, mode, is_dir)| *mode != if *is_dir { 0o700 } else { 0o600 })
        .map(|(p, mode, _)| format!("{} {mode:o}", p.display()))
        .collect();
    assert!(open.is_empty(), "not owner-only: {open:?}");
}
