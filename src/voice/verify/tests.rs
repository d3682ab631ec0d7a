use super::*;

const NOW: i64 = 1_763_676_000;
const BODY: &str = r#"{"message":{"type":"tool-calls"}}"#;
/// HMAC-SHA256("s3cr3t", "1763676000." + BODY), computed independently with `openssl dgst -hmac`.
const SIG_HEX: &str = "b0213ed7f1cb3c2f6c0c7af4742c5d47469d88dbdc34f3bf298496fb7d17778e";
const SIG_B64: &str = "sCE+1/HLPC9sDHr0dCxdR0adiNvcNPO/KYSW+30Xd44=";

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), timestamp, body).expect("hmac accepts any key"))
}

fn check(headers: &[(&str, &str)], secrets: &[&str]) -> Result<usize, VerifyError> {
    verify(&h(headers), BODY.as_bytes(), secrets, NOW)
}

#[test]
fn x_vapi_secret() {
    assert_eq!(check(&[("x-vapi-secret", "s3cr3t")], &["s3cr3t"]), Ok(0));
    assert_eq!(
        check(&[("x-vapi-secret", "s3cr3t")], &["old", "s3cr3t"]),
        Ok(1)
    );
    assert_eq!(check(&[("X-Vapi-Secret", " s3cr3t ")], &["s3cr3t"]), Ok(0));
    assert_eq!(
        check(&[("x-vapi-secret", "s3cr3")], &["s3cr3t"]),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(
        check(&[("x-vapi-secret", "s3cr3tt")], &["s3cr3t"]),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(
        check(&[("x-vapi-secret", "S3CR3T")], &["s3cr3t"]),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(
        check(&[("x-vapi-secret", "s3cr3t")], &[]),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn duplicate_secrets_report_the_first() {
    assert_eq!(check(&[("x-vapi-secret", "s")], &["a", "s", "s"]), Ok(1));
}

#[test]
fn bearer() {
    for value in [
        "Bearer s3cr3t",
        "bearer s3cr3t",
        "BEARER   s3cr3t  ",
        "Bearer\ts3cr3t",
    ] {
        assert_eq!(
            check(&[("authorization", value)], &["s3cr3t"]),
            Ok(0),
            "{value}"
        );
    }
    for value in [
        "Basic s3cr3t",
        "s3cr3t",
        "Bearer",
        "Bearer   ",
        "Bearers3cr3t",
    ] {
        assert_eq!(
            check(&[("authorization", value)], &["s3cr3t"]),
            Err(VerifyError::Missing),
            "{value}"
        );
    }
    assert_eq!(
        check(&[("authorization", "Bearer nope")], &["s3cr3t"]),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn either_presented_header_may_carry_the_secret() {
    let headers = [
        ("authorization", "Bearer unrelated"),
        ("x-vapi-secret", "s3cr3t"),
    ];
    assert_eq!(check(&headers, &["s3cr3t"]), Ok(0));
    let headers = [
        ("authorization", "Bearer s3cr3t"),
        ("x-vapi-secret", "unrelated"),
    ];
    assert_eq!(check(&headers, &["s3cr3t"]), Ok(0));
}

#[test]
fn empty_secrets_never_match() {
    assert_eq!(
        check(&[("x-vapi-secret", "")], &[""]),
        Err(VerifyError::Missing)
    );
    assert_eq!(
        check(&[("x-vapi-secret", "   ")], &["", " "]),
        Err(VerifyError::Missing)
    );
    assert_eq!(check(&[("x-vapi-secret", "x")], &["", "x"]), Ok(1));
    let empty_key_sig = sign("", "1763676000", BODY.as_bytes());
    assert_eq!(
        check(
            &[
                ("x-signature", &empty_key_sig),
                ("x-timestamp", "1763676000")
            ],
            &[""]
        ),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(check(&[], &["s3cr3t"]), Err(VerifyError::Missing));
}

#[test]
fn hmac_known_vector_in_every_encoding() {
    assert_eq!(sign("s3cr3t", "1763676000", BODY.as_bytes()), SIG_HEX);
    let upper = SIG_HEX.to_ascii_uppercase();
    let prefixed = format!("sha256={SIG_HEX}");
    let prefixed_upper = format!("SHA256={SIG_B64}");
    let url_safe = SIG_B64.replace('+', "-").replace('/', "_");
    let unpadded = SIG_B64.trim_end_matches('=').to_string();
    for signature in [
        SIG_HEX,
        SIG_B64,
        &upper,
        &prefixed,
        &prefixed_upper,
        &url_safe,
        &unpadded,
    ] {
        assert_eq!(
            check(
                &[("x-signature", signature), ("x-timestamp", "1763676000")],
                &["other", "s3cr3t"]
            ),
            Ok(1),
            "{signature}"
        );
    }
}

#[test]
fn hmac_timestamp_units_and_window() {
    let body = BODY.as_bytes();
    let at = |ts: &str, now: i64| {
        verify(
            &h(&[("x-signature", &sign("k", ts, body)), ("x-timestamp", ts)]),
            body,
            &["k"],
            now,
        )
    };
    assert_eq!(at("1763676000", NOW), Ok(0));
    assert_eq!(at("1763676000123", NOW), Ok(0), "milliseconds");
    assert_eq!(at("1763676000", NOW + MAX_SKEW_SECS), Ok(0));
    assert_eq!(at("1763676000", NOW - MAX_SKEW_SECS), Ok(0));
    assert_eq!(
        at("1763676000", NOW + MAX_SKEW_SECS + 1),
        Err(VerifyError::StaleTimestamp)
    );
    assert_eq!(
        at("1763676000", NOW - MAX_SKEW_SECS - 1),
        Err(VerifyError::StaleTimestamp)
    );
    assert_eq!(at("1763676301999", NOW), Err(VerifyError::StaleTimestamp));
    for ts in [
        "",
        "abc",
        "1763676000.5",
        "9223372036854775808",
        "-9223372036854775808",
        "9223372036854775807",
    ] {
        assert_eq!(at(ts, NOW), Err(VerifyError::StaleTimestamp), "{ts:?}");
    }
    assert_eq!(at("0", i64::MIN), Err(VerifyError::StaleTimestamp));
    assert_eq!(
        at("-9223372036854775808", i64::MAX),
        Err(VerifyError::StaleTimestamp)
    );
    let missing = [("x-signature", SIG_HEX)];
    assert_eq!(
        check(&missing, &["s3cr3t"]),
        Err(VerifyError::StaleTimestamp)
    );
}

#[test]
fn hmac_rejects_tampering_and_wrong_keys() {
    let headers = [("x-signature", SIG_HEX), ("x-timestamp", "1763676000")];
    assert_eq!(check(&headers, &["wrong"]), Err(VerifyError::Mismatch));
    let tampered = BODY.replace("tool-calls", "tool-callz");
    assert_eq!(
        verify(&h(&headers), tampered.as_bytes(), &["s3cr3t"], NOW),
        Err(VerifyError::Mismatch)
    );
    // The timestamp is part of what is signed.
    let shifted = [("x-signature", SIG_HEX), ("x-timestamp", "1763676001")];
    assert_eq!(check(&shifted, &["s3cr3t"]), Err(VerifyError::Mismatch));
    let as_millis = [("x-signature", SIG_HEX), ("x-timestamp", "1763676000000")];
    assert_eq!(check(&as_millis, &["s3cr3t"]), Err(VerifyError::Mismatch));
}

#[test]
fn hmac_over_raw_non_utf8_bytes() {
    let body = b"\xff\x00{\"message\":\xfe}";
    let headers = h(&[
        ("x-signature", &sign("k", "1763676000", body)),
        ("x-timestamp", "1763676000"),
    ]);
    assert_eq!(verify(&headers, body, &["k"], NOW), Ok(0));
}

#[test]
fn bad_signature_encodings() {
    for signature in [
        "zz",
        "not base64 at all!",
        "sha256=",
        &SIG_HEX[..62],
        &format!("{SIG_HEX}00"),
        "c2hvcnQ=",
        "sha25",
        "é€漢字",
    ] {
        assert_eq!(
            check(
                &[("x-signature", signature), ("x-timestamp", "1763676000")],
                &["s3cr3t"]
            ),
            Err(VerifyError::BadSignatureEncoding),
            "{signature}"
        );
    }
}

#[test]
fn failed_secret_falls_through_to_hmac() {
    let headers = [
        ("x-vapi-secret", "wrong"),
        ("x-signature", SIG_HEX),
        ("x-timestamp", "1763676000"),
    ];
    assert_eq!(check(&headers, &["s3cr3t"]), Ok(0));
    let headers = [
        ("x-vapi-secret", "wrong"),
        ("x-signature", SIG_HEX),
        ("x-timestamp", "1"),
    ];
    assert_eq!(
        check(&headers, &["s3cr3t"]),
        Err(VerifyError::StaleTimestamp)
    );
}

#[test]
fn presented_secret_and_signature_presence() {
    assert_eq!(presented_secret(&h(&[("x-vapi-secret", " a ")])), Some("a"));
    assert_eq!(
        presented_secret(&h(&[("authorization", "Bearer b")])),
        Some("b")
    );
    assert_eq!(
        presented_secret(&h(&[("authorization", "Bearer b"), ("x-vapi-secret", "a")])),
        Some("a")
    );
    assert_eq!(presented_secret(&h(&[("authorization", "Basic b")])), None);
    assert_eq!(presented_secret(&h(&[("x-vapi-secret", "")])), None);
    assert!(has_signature(&h(&[("X-Signature", "x")])));
    assert!(!has_signature(&h(&[("x-signature", " ")])));
}

#[test]
fn lookup_key_is_hex_sha256() {
    assert_eq!(
        secret_lookup_key("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_ne!(secret_lookup_key("abc "), secret_lookup_key("abc"));
}

#[test]
fn hostile_header_values_never_panic() {
    let values = [
        "",
        " ",
        "sha256=",
        "SHA256=é",
        "é",
        "Bearer é",
        "\u{0}",
        "=",
        "====",
        "-1",
        "99999999999999999999",
    ];
    for a in values {
        for b in values {
            let headers = h(&[
                ("x-signature", a),
                ("x-timestamp", b),
                ("authorization", a),
                ("x-vapi-secret", b),
            ]);
            let _ = verify(&headers, b"", &["k", ""], NOW);
            let _ = verify(&headers, b"", &[], i64::MIN);
        }
    }
}
