//! Twilio's request signature (`X-Twilio-Signature`, `docs/twilio.md` §5a), as
//! twilio-python's `RequestValidator` computes it: base64 of HMAC-SHA1, keyed with the
//! account's auth token, over the full URL Twilio called followed by every form parameter
//! (names sorted, each name followed by its value, repeated names once per distinct value in
//! order). Twilio sometimes signs with the default port and sometimes without, so both forms
//! of the URL are accepted. Pure: no I/O.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The signature Twilio sends for a request to `url` carrying `params`.
pub fn compute(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut signed = url.to_string();
    for name in names {
        let mut values: Vec<&str> = params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        values.sort_unstable();
        values.dedup();
        for value in values {
            signed.push_str(name);
            signed.push_str(value);
        }
    }
    // HMAC accepts keys of any length.
    let mut mac = match Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(signed.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `presented` is Twilio's signature for this request, with the URL as given, with the
/// scheme's default port added, or with any port removed. Compared in constant time.
pub fn is_valid(auth_token: &str, url: &str, params: &[(String, String)], presented: &str) -> bool {
    let presented = presented.trim();
    if presented.is_empty() || auth_token.is_empty() {
        return false;
    }
    let (with_port, without_port) = port_forms(url);
    // Both are computed, so the time taken does not depend on which form matched.
    let a = crate::crypto::constant_time_eq(
        compute(auth_token, &with_port, params).as_bytes(),
        presented.as_bytes(),
    );
    let b = crate::crypto::constant_time_eq(
        compute(auth_token, &without_port, params).as_bytes(),
        presented.as_bytes(),
    );
    a | b
}

/// The URL with its scheme's default port (443 for https, 80 otherwise) when it has none,
/// and the URL with any port removed.
pub fn port_forms(url: &str) -> (String, String) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), url.to_string());
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    // The port follows the last ':' that is not inside an IPv6 literal's brackets.
    let host_end = hostport.rfind(']').map_or(0, |i| i + 1);
    let (host, port) = match hostport[host_end..].rfind(':') {
        Some(i) => hostport.split_at(host_end + i),
        None => (hostport, ""),
    };
    let without = format!("{scheme}://{userinfo}{host}{tail}");
    let with = if port.is_empty() {
        let default = if scheme.eq_ignore_ascii_case("https") {
            443
        } else {
            80
        };
        format!("{scheme}://{userinfo}{host}:{default}{tail}")
    } else {
        url.to_string()
    };
    (with, without)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn call(caller: &str) -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", caller),
            ("Digits", "1234"),
            ("From", caller),
            ("To", "+18005551212"),
        ])
    }

    #[test]
    fn published_vectors() {
        // twilio-python's own test.
        assert_eq!(
            compute(TOKEN, URL, &call("+14158675309")),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        // twilio-python's "adds port" test.
        assert_eq!(
            compute(
                TOKEN,
                "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                &call("+14158675309")
            ),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );
        // Twilio's classic documentation example.
        assert_eq!(
            compute(TOKEN, URL, &call("+12349013030")),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        let status = params(&[
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("ApiVersion", "2010-04-01"),
            ("ErrorCode", "30007"),
            ("From", "+15005550006"),
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("MessageStatus", "undelivered"),
            ("SmsSid", "SM0123456789abcdef0123456789abcdef"),
            ("SmsStatus", "undelivered"),
            ("To", "+15551234567"),
        ]);
        assert_eq!(
            compute(
                TOKEN,
                "https://example.test/hooks/twilio/status?n=1",
                &status
            ),
            "NEDol4dfgSkDShsSt2/gDDH4Uss="
        );
        let caller_id = params(&[
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("CallSid", "CA0123456789abcdef0123456789abcdef"),
            ("CallStatus", "completed"),
            ("OutgoingCallerIdSid", "PN0123456789abcdef0123456789abcdef"),
            ("To", "+15551234567"),
            ("VerificationStatus", "success"),
        ]);
        assert_eq!(
            compute(
                TOKEN,
                "https://example.test/hooks/twilio/callerid",
                &caller_id
            ),
            "2Jq4fy6fXbyENvy15K/fFUTXPBc="
        );
    }

    #[test]
    fn parameter_order_does_not_matter() {
        let mut shuffled = call("+14158675309");
        shuffled.reverse();
        assert_eq!(
            compute(TOKEN, URL, &shuffled),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
    }

    #[test]
    fn accepts_with_and_without_the_default_port() {
        let p = call("+14158675309");
        assert!(is_valid(TOKEN, URL, &p, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        // Signed with :443, checked against the URL without it, and the other way round.
        assert!(is_valid(TOKEN, URL, &p, "kvajT1Ptam85bY51eRf/AJRuM3w="));
        assert!(is_valid(
            TOKEN,
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn refuses_tampering_other_tokens_and_nothing() {
        let p = call("+14158675309");
        let good = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        assert!(!is_valid("54321", URL, &p, good));
        assert!(!is_valid(TOKEN, URL, &call("+14158675300"), good));
        assert!(!is_valid(
            TOKEN,
            "https://mycompany.com/other.php",
            &p,
            good
        ));
        assert!(!is_valid(TOKEN, URL, &p, ""));
        assert!(!is_valid(TOKEN, URL, &p, "RSOYDt4T1cUTdK1PDd93/VVr8B8"));
        assert!(!is_valid("", URL, &p, &compute("", URL, &p)));
    }

    #[test]
    fn repeated_names_sign_each_distinct_value_in_order() {
        let p = params(&[("A", "2"), ("B", "x"), ("A", "1"), ("A", "2")]);
        let expected = compute(
            TOKEN,
            "https://h/p",
            &params(&[("A", "1"), ("A", "2"), ("B", "x")]),
        );
        assert_eq!(compute(TOKEN, "https://h/p", &p), expected);
    }

    #[test]
    fn port_forms_follow_twilio_python() {
        assert_eq!(
            port_forms("https://h.test/a?b=1"),
            (
                "https://h.test:443/a?b=1".into(),
                "https://h.test/a?b=1".into()
            )
        );
        assert_eq!(
            port_forms("http://h.test:8080/a"),
            ("http://h.test:8080/a".into(), "http://h.test/a".into())
        );
        assert_eq!(
            port_forms("http://u:p@h.test"),
            ("http://u:p@h.test:80".into(), "http://u:p@h.test".into())
        );
        assert_eq!(
            port_forms("https://[::1]:8443/x"),
            ("https://[::1]:8443/x".into(), "https://[::1]/x".into())
        );
    }
}
