//! Whether Twilio and Vapi can be reached from this machine: one unauthenticated GET to the
//! configured API base with a short timeout. No credentials are sent (any user or password in
//! the configured URL is removed first) and the provider's answer is reduced to its status.

use serde::Serialize;
use std::time::Duration;

pub const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reach {
    /// The address that was tried, without credentials.
    pub url: String,
    /// True when the service answered with anything but a server error.
    pub ok: bool,
    pub status: Option<u16>,
    pub detail: String,
}

/// The URL without user name, password, query or fragment: what is safe to request and show.
pub fn public_url(base: &str) -> Option<reqwest::Url> {
    let mut url = reqwest::Url::parse(base).ok()?;
    url.set_username("").ok()?;
    url.set_password(None).ok()?;
    url.set_query(None);
    url.set_fragment(None);
    Some(url)
}

/// Turns an HTTP status into the verdict: any answer below 500 means the service is there
/// (an API root commonly answers 401 or 404 without credentials).
pub fn verdict(url: String, status: u16) -> Reach {
    let ok = status < 500;
    Reach {
        url,
        ok,
        status: Some(status),
        detail: if ok {
            format!("reachable (HTTP {status})")
        } else {
            format!("answered with a server error (HTTP {status})")
        },
    }
}

pub async fn probe(client: &reqwest::Client, base: &str) -> Reach {
    let Some(url) = public_url(base) else {
        return Reach {
            url: String::new(),
            ok: false,
            status: None,
            detail: "the configured address is not a URL".into(),
        };
    };
    let shown = url.to_string();
    match client.get(url).send().await {
        Ok(response) => verdict(shown, response.status().as_u16()),
        Err(e) => Reach {
            url: shown,
            ok: false,
            status: None,
            // Classified, never the raw error (it can carry the URL and resolver details).
            detail: if e.is_timeout() {
                format!("no answer within {} s", TIMEOUT.as_secs())
            } else if e.is_connect() {
                "could not connect (connection refused, no route, or DNS failure)".into()
            } else {
                "the request failed before an answer arrived".into()
            },
        },
    }
}

/// Whether the appliance answers at its public address: `GET {base}/healthz` must answer 200
/// (a tunnel that is down answers 502 or 530; another server, 404).
pub async fn probe_health(client: &reqwest::Client, base: &str) -> Reach {
    let health = format!("{}/healthz", base.trim_end_matches('/'));
    let mut r = probe(client, &health).await;
    if let Some(status) = r.status.filter(|s| *s != 200) {
        r.ok = false;
        r.detail = format!("answered HTTP {status}, not the appliance's health check");
    } else if r.ok {
        r.detail = "the appliance answers there".into();
    }
    r
}

/// A client for probes: short timeout, no redirects followed (a redirect is an answer).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "voxanne/",
            env!("CARGO_PKG_VERSION"),
            " (diagnostics)"
        ))
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_leave_or_show() {
        let url = public_url("https://AC123:tok-secret@api.twilio.com/base?key=sk-1#x").unwrap();
        assert_eq!(url.as_str(), "https://api.twilio.com/base");
        assert!(public_url("not a url").is_none());
    }

    #[test]
    fn server_errors_fail_other_answers_pass() {
        assert!(verdict("u".into(), 200).ok);
        assert!(verdict("u".into(), 404).ok);
        let down = verdict("u".into(), 503);
        assert!(!down.ok);
        assert!(down.detail.contains("503"));
    }
}
