use super::*;

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_apply() {
    let c = Config::from_values(&BTreeMap::new()).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.data_dir, PathBuf::from("./data"));
    assert_eq!(c.vapi_api_base, "https://api.vapi.ai");
}

#[test]
fn bad_listen_names_the_setting() {
    let err = Config::from_values(&values(&[("VOXANNE_LISTEN", "nonsense")])).unwrap_err();
    assert_eq!(err.setting, "VOXANNE_LISTEN");
    assert!(err.to_string().starts_with("VOXANNE_LISTEN: "));
}

#[test]
fn secrets_never_debug_print() {
    let c = Config::from_values(&values(&[("VAPI_PRIVATE_KEY", "sk-live-123")])).unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("sk-live-123"));
    let described = format!("{:?}", c.describe());
    assert!(!described.contains("sk-live-123"));
}

#[test]
fn file_form_of_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    std::fs::write(&path, "from-file\n").unwrap();
    let c = Config::from_values(&values(&[(
        "VAPI_PRIVATE_KEY_FILE",
        path.to_str().unwrap(),
    )]))
    .unwrap();
    assert_eq!(c.vapi_private_key.unwrap().expose(), "from-file");
}

#[test]
fn env_file_parsing() {
    let parsed =
        parse_env_file("# comment\nVOXANNE_LISTEN=0.0.0.0:9000\nexport VOXANNE_LOG=\"debug\"\n\n")
            .unwrap();
    assert_eq!(parsed["VOXANNE_LISTEN"], "0.0.0.0:9000");
    assert_eq!(parsed["VOXANNE_LOG"], "debug");
    assert!(parse_env_file("just words").is_err());
}

#[test]
fn backup_and_retention_settings() {
    let c = Config::from_values(&values(&[("VOXANNE_DATA_DIR", "/srv/vx")])).unwrap();
    assert_eq!(c.backup.dir, PathBuf::from("/srv/vx/backups"));
    assert_eq!(
        c.backup.schedule.map(|t| t.describe()).as_deref(),
        Some("03:30")
    );
    assert_eq!((c.backup.keep, c.backup.encrypt), (7, false));
    assert_eq!(c.retention_days, None);
    let c = Config::from_values(&values(&[
        ("VOXANNE_BACKUP_DIR", "/mnt/nas/vx"),
        ("VOXANNE_BACKUP_TIME", "off"),
        ("VOXANNE_BACKUP_KEEP", "30"),
        ("VOXANNE_BACKUP_ENCRYPT", "yes"),
        ("VOXANNE_RETENTION_DAYS", "90"),
    ]))
    .unwrap();
    assert_eq!(c.backup.dir, PathBuf::from("/mnt/nas/vx"));
    assert!(c.backup.schedule.is_none());
    assert_eq!((c.backup.keep, c.backup.encrypt), (30, true));
    assert_eq!(c.retention_days, Some(90));
    for (key, bad) in [
        ("VOXANNE_BACKUP_TIME", "half past three"),
        ("VOXANNE_BACKUP_KEEP", "0"),
        ("VOXANNE_BACKUP_ENCRYPT", "maybe"),
        ("VOXANNE_RETENTION_DAYS", "-5"),
    ] {
        let err = Config::from_values(&values(&[(key, bad)])).unwrap_err();
        assert_eq!(err.setting, key, "{bad}");
    }
}

#[test]
fn connection_limits_have_defaults_and_refuse_nonsense() {
    let c = Config::from_values(&values(&[])).unwrap().connections;
    assert_eq!(c.header_read, std::time::Duration::from_secs(10));
    assert_eq!(c.request, std::time::Duration::from_secs(30));
    assert_eq!(c.idle, std::time::Duration::from_secs(60));
    assert_eq!(c.max_per_listener, 512);
    let c = Config::from_values(&values(&[
        ("VOXANNE_HEADER_TIMEOUT_SECS", "5"),
        ("VOXANNE_MAX_CONNECTIONS", "2000"),
    ]))
    .unwrap()
    .connections;
    assert_eq!(c.header_read, std::time::Duration::from_secs(5));
    assert_eq!(c.max_per_listener, 2000);
    for (key, bad) in [
        ("VOXANNE_HEADER_TIMEOUT_SECS", "0"),
        ("VOXANNE_REQUEST_TIMEOUT_SECS", "soon"),
        ("VOXANNE_IDLE_TIMEOUT_SECS", "-1"),
        ("VOXANNE_MAX_CONNECTIONS", "3"),
    ] {
        let err = Config::from_values(&values(&[(key, bad)])).unwrap_err();
        assert_eq!(err.setting, key, "{bad}");
        assert!(err.message.contains("whole number"), "{}", err.message);
    }
    let err = Config::from_values(&values(&[("VOXANNE_IDLE_TIMEOUT_SECS", "20")])).unwrap_err();
    assert_eq!(err.setting, "VOXANNE_IDLE_TIMEOUT_SECS");
    assert!(
        err.message.contains("VOXANNE_REQUEST_TIMEOUT_SECS"),
        "{}",
        err.message
    );
}

#[test]
fn public_url_loses_its_trailing_slash() {
    let c = Config::from_values(&values(&[(
        "VOXANNE_PUBLIC_URL",
        "https://clinic.example.com/",
    )]))
    .unwrap();
    assert_eq!(c.public_url.as_deref(), Some("https://clinic.example.com"));
}

#[test]
fn tls_settings() {
    let tls = |pairs: &[(&str, &str)]| Config::from_values(&values(pairs)).map(|c| c.tls);
    assert_eq!(tls(&[]).unwrap(), TlsSetting::Off);
    assert_eq!(
        tls(&[
            ("VOXANNE_TLS", "Self-Signed"),
            ("VOXANNE_TLS_NAMES", "desk.clinic.test, 10.0.0.5")
        ])
        .unwrap(),
        TlsSetting::SelfSigned {
            names: vec!["desk.clinic.test".into(), "10.0.0.5".into()]
        }
    );
    assert_eq!(
        tls(&[
            ("VOXANNE_TLS_CERT_FILE", "/etc/ssl/a.pem"),
            ("VOXANNE_TLS_KEY_FILE", "/etc/ssl/a.key")
        ])
        .unwrap(),
        TlsSetting::Files {
            cert: "/etc/ssl/a.pem".into(),
            key: "/etc/ssl/a.key".into()
        }
    );
    let err = |pairs: &[(&str, &str)]| tls(pairs).unwrap_err().setting;
    assert_eq!(err(&[("VOXANNE_TLS", "yes please")]), "VOXANNE_TLS");
    assert_eq!(
        err(&[("VOXANNE_TLS_CERT_FILE", "/a.pem")]),
        "VOXANNE_TLS_KEY_FILE"
    );
    assert_eq!(
        err(&[("VOXANNE_TLS_KEY_FILE", "/a.key")]),
        "VOXANNE_TLS_CERT_FILE"
    );
    assert_eq!(err(&[("VOXANNE_TLS", "files")]), "VOXANNE_TLS_CERT_FILE");
    assert_eq!(
        err(&[
            ("VOXANNE_TLS", "self-signed"),
            ("VOXANNE_TLS_CERT_FILE", "/a.pem"),
            ("VOXANNE_TLS_KEY_FILE", "/a.key")
        ]),
        "VOXANNE_TLS"
    );
    assert_eq!(
        err(&[
            ("VOXANNE_TLS", "self-signed"),
            ("VOXANNE_TLS_NAMES", "bad_name!")
        ]),
        "VOXANNE_TLS_NAMES"
    );
}

#[test]
fn warns_when_other_computers_would_sign_in_over_plain_http() {
    let c = |pairs: &[(&str, &str)]| Config::from_values(&values(pairs)).unwrap();
    assert!(c(&[]).warnings().is_empty());
    let open = c(&[("VOXANNE_LISTEN", "0.0.0.0:8080")]);
    assert!(open.warnings()[0].contains("VOXANNE_TLS is off"));
    assert!(c(&[
        ("VOXANNE_LISTEN", "0.0.0.0:8080"),
        ("VOXANNE_TLS", "self-signed")
    ])
    .warnings()
    .is_empty());
}
