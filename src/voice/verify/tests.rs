use super::*;
use crate::domain::hmac_plan::HmacPlanInput;

const NOW: i64 = 1_763_676_000;
const BODY: &str = r#"{"message":{"type":"tool-calls"}}"#;
// MACs of "1763676000." + BODY (or of BODY alone) keyed with "s3cr3t", computed independently with
// `openssl dgst -<algorithm> -hmac s3cr3t`.
const SIG_HEX: &str = "b0213ed7f1cb3c2f6c0c7af4742c5d47469d88dbdc34f3bf298496fb7d17778e";
const SIG_B64: &str = "sCE+1/HLPC9sDHr0dCxdR0adiNvcNPO/KYSW+30Xd44=";
const SIG_SHA512: &str = "0f3414dd46aae82e187838cdb002003678b601e94a7acf497c1c75ddc621ec610153d22552919e4325aa12b82b53159d6eabef7b36b362f2eb53362587c9da18";
const SIG_SHA1: &str = "1312a2905e7cb8866d2fe08ce8fb1934bbb2a504";
const SIG_BODY_ONLY: &str = "7b81d2b42747d884e4b418e1cc443dfa986fb95888937283efdbc87e1c62e336";

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let tag = mac(
        HmacAlgorithm::Sha256,
        secret.as_bytes(),
        Some(timestamp),
        body,
    );
    hex::encode(tag.expect("hmac accepts any key"))
}

fn plan(change: impl FnOnce(&mut HmacPlanInput<'static>)) -> HmacPlan {
    let mut input = HmacPlanInput {
        algorithm: "sha256",
        include_timestamp: true,
        timestamp_header: "",
        signature_header: "",
        encoding: "hex",
        prefix: "",
    };
    change(&mut input);
    HmacPlan::parse(&input).expect("a valid plan")
}

fn with_plan(
    headers: &[(&str, &str)],
    secrets: &[&str],
    plan: &HmacPlan,
) -> Result<usize, VerifyError> {
    let candidates: Vec<Candidate<'_>> = secrets
        .iter()
        .map(|secret| Candidate { secret, plan })
        .collect();
    verify(&h(headers), BODY.as_bytes(), &candidates, NOW)
}

/// Verified with Vapi's default plan.
fn check(headers: &[(&str, &str)], secrets: &[&str]) -> Result<usize, VerifyError> {
    with_plan(headers, secrets, &HmacPlan::default())
}

fn raw(
    headers: &[(String, String)],
    body: &[u8],
    secrets: &[&str],
    now: i64,
) -> Result<usize, VerifyError> {
    let plan = HmacPlan::default();
    let candidates: Vec<Candidate<'_>> = secrets
        .iter()
        .map(|secret| Candidate {
            secret,
            plan: &plan,
        })
        .collect();
    verify(headers, body, &candidates, now)
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
fn hmac_known_vector_in_the_planned_encoding() {
    assert_eq!(sign("s3cr3t", "1763676000", BODY.as_bytes()), SIG_HEX);
    let ts = ("x-timestamp", "1763676000");
    let upper = SIG_HEX.to_ascii_uppercase();
    for signature in [SIG_HEX, &upper] {
        assert_eq!(
            check(&[("x-signature", signature), ts], &["other", "s3cr3t"]),
            Ok(1),
            "{signature}"
        );
    }
    // Hex is Vapi's default; base64 and prefixes are accepted only when the plan says so.
    let prefixed = format!("sha256={SIG_HEX}");
    for signature in [SIG_B64, &prefixed] {
        assert_eq!(
            check(&[("x-signature", signature), ts], &["s3cr3t"]),
            Err(VerifyError::BadSignatureEncoding),
            "{signature}"
        );
    }
}

#[test]
fn hmac_plan_base64_encoding() {
    let base64 = plan(|p| p.encoding = "base64");
    let url_safe = SIG_B64.replace('+', "-").replace('/', "_");
    let unpadded = SIG_B64.trim_end_matches('=').to_string();
    for signature in [SIG_B64, &url_safe, &unpadded] {
        assert_eq!(
            with_plan(
                &[("x-signature", signature), ("x-timestamp", "1763676000")],
                &["s3cr3t"],
                &base64
            ),
            Ok(0),
            "{signature}"
        );
    }
    assert_eq!(
        with_plan(
            &[("x-signature", SIG_HEX), ("x-timestamp", "1763676000")],
            &["s3cr3t"],
            &base64
        ),
        Err(VerifyError::BadSignatureEncoding),
        "64 hex digits are base64 of 48 bytes, not a SHA-256 MAC"
    );
}

#[test]
fn hmac_plan_signature_prefix() {
    let prefixed = plan(|p| p.prefix = "sha256=");
    let ts = ("x-timestamp", "1763676000");
    for signature in [format!("sha256={SIG_HEX}"), format!("SHA256={SIG_HEX}")] {
        assert_eq!(
            with_plan(&[("x-signature", &signature), ts], &["s3cr3t"], &prefixed),
            Ok(0),
            "{signature}"
        );
    }
    assert_eq!(
        with_plan(&[("x-signature", SIG_HEX), ts], &["s3cr3t"], &prefixed),
        Err(VerifyError::BadSignatureEncoding),
        "the planned prefix is required"
    );
}

#[test]
fn hmac_plan_algorithms() {
    let ts = ("x-timestamp", "1763676000");
    let sha512 = plan(|p| p.algorithm = "sha512");
    let sha1 = plan(|p| p.algorithm = "sha1");
    assert_eq!(
        with_plan(&[("x-signature", SIG_SHA512), ts], &["s3cr3t"], &sha512),
        Ok(0)
    );
    assert_eq!(
        with_plan(&[("x-signature", SIG_SHA1), ts], &["s3cr3t"], &sha1),
        Ok(0)
    );
    // A MAC of another algorithm has the wrong length for the plan.
    assert_eq!(
        with_plan(&[("x-signature", SIG_HEX), ts], &["s3cr3t"], &sha512),
        Err(VerifyError::BadSignatureEncoding)
    );
    assert_eq!(
        check(&[("x-signature", SIG_SHA1), ts], &["s3cr3t"]),
        Err(VerifyError::BadSignatureEncoding)
    );
    assert_eq!(
        with_plan(&[("x-signature", SIG_SHA512), ts], &["wrong"], &sha512),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn hmac_plan_without_a_timestamp_signs_the_body_alone() {
    let untimed = plan(|p| p.include_timestamp = false);
    assert_eq!(
        with_plan(&[("x-signature", SIG_BODY_ONLY)], &["s3cr3t"], &untimed),
        Ok(0)
    );
    // Any timestamp sent along is not part of what is signed, however old.
    assert_eq!(
        with_plan(
            &[("x-signature", SIG_BODY_ONLY), ("x-timestamp", "1")],
            &["s3cr3t"],
            &untimed
        ),
        Ok(0)
    );
    assert_eq!(
        with_plan(
            &[("x-signature", SIG_HEX), ("x-timestamp", "1763676000")],
            &["s3cr3t"],
            &untimed
        ),
        Err(VerifyError::Mismatch)
    );
    // With Vapi's default plan, the body-only signature needs its timestamp.
    assert_eq!(
        check(&[("x-signature", SIG_BODY_ONLY)], &["s3cr3t"]),
        Err(VerifyError::StaleTimestamp)
    );
}

#[test]
fn hmac_plan_header_names() {
    let custom = plan(|p| {
        p.signature_header = "X-Clinic-Signature";
        p.timestamp_header = "X-Signed-At";
    });
    let headers = [
        ("x-clinic-signature", SIG_HEX),
        ("x-signed-at", "1763676000"),
    ];
    assert_eq!(with_plan(&headers, &["s3cr3t"], &custom), Ok(0));
    assert_eq!(check(&headers, &["s3cr3t"]), Err(VerifyError::Missing));
    // The default headers are not read when the plan names others.
    let defaults = [("x-signature", SIG_HEX), ("x-timestamp", "1763676000")];
    assert_eq!(
        with_plan(&defaults, &["s3cr3t"], &custom),
        Err(VerifyError::Missing)
    );
    let own_signature_default_timestamp = [
        ("x-clinic-signature", SIG_HEX),
        ("x-timestamp", "1763676000"),
    ];
    assert_eq!(
        with_plan(&own_signature_default_timestamp, &["s3cr3t"], &custom),
        Err(VerifyError::StaleTimestamp)
    );
    assert!(carries_signature(&h(&headers), &custom));
    assert!(!carries_signature(&h(&headers), &HmacPlan::default()));
}

#[test]
fn each_candidate_is_checked_by_its_own_plan() {
    let sha1 = plan(|p| p.algorithm = "sha1");
    let default = HmacPlan::default();
    let candidates = [
        Candidate {
            secret: "s3cr3t",
            plan: &default,
        },
        Candidate {
            secret: "s3cr3t",
            plan: &sha1,
        },
    ];
    let headers = h(&[("x-signature", SIG_SHA1), ("x-timestamp", "1763676000")]);
    assert_eq!(verify(&headers, BODY.as_bytes(), &candidates, NOW), Ok(1));
}

#[test]
fn hmac_timestamp_units_and_window() {
    let body = BODY.as_bytes();
    let at = |ts: &str, now: i64| {
        raw(
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
        raw(&h(&headers), tampered.as_bytes(), &["s3cr3t"], NOW),
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
    assert_eq!(raw(&headers, body, &["k"], NOW), Ok(0));
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
    let default = HmacPlan::default();
    assert!(carries_signature(&h(&[("X-Signature", "x")]), &default));
    assert!(!carries_signature(&h(&[("x-signature", " ")]), &default));
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
            let _ = raw(&headers, b"", &["k", ""], NOW);
            let _ = raw(&headers, b"", &[], i64::MIN);
            for algorithm in ["sha512", "sha1"] {
                let other = plan(|p| {
                    p.algorithm = algorithm;
                    p.encoding = "base64";
                    p.prefix = "=";
                });
                let _ = verify(
                    &headers,
                    b"",
                    &[Candidate {
                        secret: "k",
                        plan: &other,
                    }],
                    NOW,
                );
            }
        }
    }
}
