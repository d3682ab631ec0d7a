//! The Twilio REST client (2010-04-01 API): HTTP Basic with the account SID and auth token or
//! an API key pair, form-encoded requests, JSON answers. Errors are parsed from Twilio's body
//! and sorted into transient (worth retrying) and permanent.

use crate::config::Secret;
use serde::Deserialize;
use std::time::Duration;

/// What authenticates the clinic's requests. The path always names the account.
#[derive(Clone)]
pub struct Credentials {
    pub account_sid: String,
    /// `SK…` when an API key is used; the secret is then the key's secret.
    pub key_sid: Option<String>,
    pub secret: Secret,
    pub from_number: Option<String>,
    pub messaging_service_sid: Option<String>,
}

impl Credentials {
    pub(super) fn username(&self) -> &str {
        self.key_sid.as_deref().unwrap_or(&self.account_sid)
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("account_sid", &self.account_sid)
            .field("key_sid", &self.key_sid)
            .field("secret", &"***")
            .finish()
    }
}

/// A failed request, by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TwilioError {
    /// Worth retrying later: throttling, Twilio's own failures, timeouts, network errors.
    #[error("Twilio is unavailable for now ({code:?}): {message}")]
    Transient { code: Option<i64>, message: String },
    /// Retrying will not help: a bad number, an opted-out recipient, bad credentials.
    #[error("Twilio refused the request ({code}): {message}")]
    Permanent { code: i64, message: String },
}

impl TwilioError {
    pub fn code(&self) -> Option<i64> {
        match self {
            TwilioError::Transient { code, .. } => *code,
            TwilioError::Permanent { code, .. } => Some(*code),
        }
    }

    pub fn message(&self) -> &str {
        match self {
            TwilioError::Transient { message, .. } | TwilioError::Permanent { message, .. } => {
                message
            }
        }
    }
}

/// Twilio's error code for a recipient who replied STOP.
pub const OPTED_OUT: i64 = 21610;

/// Where Twilio posts delivery reports for the texts we send (on the webhook listener).
pub const STATUS_CALLBACK_PATH: &str = "/api/twilio/status";
/// Where the clinic's number's messaging webhook should point, for texts patients send.
pub const INBOUND_SMS_PATH: &str = "/api/twilio/sms";

/// The `StatusCallback` to send with each text, once a public URL is configured.
pub fn status_callback_url(public_url: Option<&str>) -> Option<String> {
    public_url.map(|base| format!("{base}{STATUS_CALLBACK_PATH}"))
}

/// Sorts an error answer: 429/20429, 5xx and unknown server trouble are transient; the rest
/// (4xx with a Twilio code such as 21211, 21408, 21608, 21610, 21612, 21614, 20003) permanent.
pub fn classify(http_status: u16, body: &str) -> TwilioError {
    #[derive(Deserialize)]
    struct ErrorBody {
        code: Option<i64>,
        message: Option<String>,
        detail: Option<String>,
    }
    let parsed: Option<ErrorBody> = serde_json::from_str(body).ok();
    let code = parsed.as_ref().and_then(|b| b.code);
    let message = parsed
        .as_ref()
        .and_then(|b| b.message.clone().or_else(|| b.detail.clone()))
        .unwrap_or_else(|| format!("HTTP {http_status}"));
    let transient = http_status == 429
        || http_status >= 500
        || code == Some(20429)
        || http_status == 408
        || http_status < 400;
    if transient {
        TwilioError::Transient { code, message }
    } else {
        TwilioError::Permanent {
            // twilio-python falls back to the HTTP status when the body has no code.
            code: code.unwrap_or(i64::from(http_status)),
            message,
        }
    }
}

/// Twilio's answer to a send.
#[derive(Debug, Clone, Deserialize)]
pub struct SentMessage {
    pub sid: String,
    pub status: Option<String>,
    pub num_segments: Option<String>,
}

#[derive(Clone)]
pub struct Client {
    pub(super) http: reqwest::Client,
    base: String,
}

impl Client {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("voxanne/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    pub(super) fn account_url(&self, creds: &Credentials, rest: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}{rest}",
            self.base, creds.account_sid
        )
    }

    /// Sends one SMS from the clinic's number (or messaging service).
    pub async fn send_sms(
        &self,
        creds: &Credentials,
        to: &str,
        body: &str,
        status_callback: Option<&str>,
    ) -> Result<SentMessage, TwilioError> {
        let mut form: Vec<(&str, &str)> = vec![("To", to), ("Body", body)];
        match (&creds.messaging_service_sid, &creds.from_number) {
            (Some(mg), _) => form.push(("MessagingServiceSid", mg)),
            (None, Some(from)) => form.push(("From", from)),
            (None, None) => {
                return Err(TwilioError::Permanent {
                    code: 21603,
                    message: "no From number or messaging service is configured".into(),
                })
            }
        }
        if let Some(url) = status_callback {
            form.push(("StatusCallback", url));
        }
        let request = self
            .http
            .post(self.account_url(creds, "/Messages.json"))
            .basic_auth(creds.username(), Some(creds.secret.expose()))
            .header("Accept", "application/json")
            .form(&form);
        read_answer(request).await
    }

    /// `GET /Accounts/{Sid}.json`: proves an account SID and auth token (API keys are refused
    /// here by Twilio, so they are checked with [`Client::incoming_numbers`] instead).
    pub async fn fetch_account(&self, creds: &Credentials) -> Result<Account, TwilioError> {
        let request = self
            .http
            .get(self.account_url(creds, ".json"))
            .basic_auth(creds.username(), Some(creds.secret.expose()))
            .header("Accept", "application/json");
        read_answer(request).await
    }

    /// `GET /Accounts/{Sid}/IncomingPhoneNumbers.json?PhoneNumber=…`: the account's numbers
    /// matching `phone`. Twilio matches partially, so callers compare the numbers exactly.
    pub async fn incoming_numbers(
        &self,
        creds: &Credentials,
        phone: &str,
    ) -> Result<Vec<IncomingNumber>, TwilioError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            incoming_phone_numbers: Vec<IncomingNumber>,
        }
        let request = self
            .http
            .get(self.account_url(creds, "/IncomingPhoneNumbers.json"))
            .query(&[("PhoneNumber", phone), ("PageSize", "50")])
            .basic_auth(creds.username(), Some(creds.secret.expose()))
            .header("Accept", "application/json");
        let page: Page = read_answer(request).await?;
        Ok(page.incoming_phone_numbers)
    }

    /// `GET .../Messages.json` (`docs/twilio.md` §8): the account's texts to `to` sent on or
    /// after `sent_from` (a GMT date), from the clinic's number when it has no Messaging
    /// Service (Twilio cannot filter by service; callers compare `messaging_service_sid`).
    /// Follows `next_page_uri` for at most [`MAX_LIST_PAGES`] pages.
    pub async fn list_messages(
        &self,
        creds: &Credentials,
        to: &str,
        sent_from: chrono::NaiveDate,
    ) -> Result<Vec<ListedMessage>, TwilioError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            messages: Vec<ListedMessage>,
            next_page_uri: Option<String>,
        }
        let date = sent_from.format("%Y-%m-%d").to_string();
        let mut query: Vec<(&str, &str)> = vec![("To", to), ("DateSent>", &date)];
        if let (None, Some(from)) = (&creds.messaging_service_sid, &creds.from_number) {
            query.push(("From", from));
        }
        query.push(("PageSize", "100"));
        let mut request = self
            .http
            .get(self.account_url(creds, "/Messages.json"))
            .query(&query);
        let mut found = Vec::new();
        for _ in 0..MAX_LIST_PAGES {
            let page: Page = read_answer(
                request
                    .basic_auth(creds.username(), Some(creds.secret.expose()))
                    .header("Accept", "application/json"),
            )
            .await?;
            found.extend(page.messages);
            match page.next_page_uri.filter(|u| u.starts_with('/')) {
                Some(uri) => request = self.http.get(format!("{}{uri}", self.base)),
                None => return Ok(found),
            }
        }
        Err(TwilioError::Transient {
            code: None,
            message: format!("more than {MAX_LIST_PAGES} pages of texts to one number"),
        })
    }
}

/// Pages of the Messages list read before a lookup gives up (for now).
pub const MAX_LIST_PAGES: usize = 10;

/// A text as the Messages list returns it (the fields a lookup compares).
#[derive(Debug, Clone, Deserialize)]
pub struct ListedMessage {
    pub sid: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub to: String,
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub status: Option<String>,
    /// RFC 2822, e.g. `Thu, 30 Jul 2015 20:12:31 +0000`.
    pub date_created: Option<String>,
    #[serde(default)]
    pub direction: String,
}

impl ListedMessage {
    /// When Twilio created the text, in Unix seconds.
    pub fn created_at(&self) -> Option<i64> {
        let raw = self.date_created.as_deref()?;
        chrono::DateTime::parse_from_rfc2822(raw)
            .ok()
            .map(|t| t.timestamp())
    }
}

/// The parts of Twilio's Account resource the set-up check reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub sid: Option<String>,
    /// `active`, `suspended` or `closed`.
    pub status: Option<String>,
}

/// One of the account's phone numbers.
#[derive(Debug, Clone, Deserialize)]
pub struct IncomingNumber {
    pub phone_number: String,
    #[serde(default)]
    pub capabilities: Capabilities,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Capabilities {
    #[serde(default)]
    pub sms: bool,
    #[serde(default)]
    pub voice: bool,
}

/// Sends the request and reads a 2xx JSON answer, or sorts the failure.
pub(super) async fn read_answer<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> Result<T, TwilioError> {
    let response = request.send().await.map_err(network_error)?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(network_error)?;
    if !(200..300).contains(&status) {
        return Err(classify(status, &text));
    }
    serde_json::from_str(&text).map_err(|_| TwilioError::Transient {
        code: None,
        message: "Twilio's answer could not be read".into(),
    })
}

pub(super) fn network_error(e: reqwest::Error) -> TwilioError {
    let message = if e.is_timeout() {
        "Twilio did not answer in time".to_string()
    } else if e.is_connect() {
        "Twilio could not be reached".to_string()
    } else {
        "the connection to Twilio failed".to_string()
    };
    TwilioError::Transient {
        code: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_errors_by_what_to_do() {
        let opted_out = r#"{"code":21610,"message":"Attempt to send to unsubscribed recipient","more_info":"https://www.twilio.com/docs/errors/21610","status":400}"#;
        assert_eq!(
            classify(400, opted_out),
            TwilioError::Permanent {
                code: OPTED_OUT,
                message: "Attempt to send to unsubscribed recipient".into()
            }
        );
        let throttled = r#"{"code":20429,"message":"Too Many Requests","status":429}"#;
        assert!(matches!(
            classify(429, throttled),
            TwilioError::Transient {
                code: Some(20429),
                ..
            }
        ));
        assert!(matches!(
            classify(503, "<html>down</html>"),
            TwilioError::Transient { code: None, .. }
        ));
        let auth = r#"{"code":20003,"detail":"Your AccountSid or AuthToken was incorrect.","message":"Authenticate","status":401}"#;
        assert!(matches!(
            classify(401, auth),
            TwilioError::Permanent { code: 20003, .. }
        ));
        for code in [21211, 21408, 21608, 21612, 21614] {
            let body = format!(r#"{{"code":{code},"message":"no","status":400}}"#);
            assert!(matches!(
                classify(400, &body),
                TwilioError::Permanent { .. }
            ));
        }
        // No code in the body: the HTTP status stands in, as twilio-python does.
        assert_eq!(classify(404, "{}").code(), Some(404));
    }

    #[test]
    fn reads_a_listed_text() {
        let m: ListedMessage = serde_json::from_str(
            r#"{"sid":"SM1","body":"Hi","to":"+14155550100","from":"+15005550006",
                "messaging_service_sid":null,"status":"delivered","direction":"outbound-api",
                "date_created":"Thu, 30 Jul 2015 20:12:31 +0000","date_sent":null}"#,
        )
        .unwrap();
        assert_eq!(m.created_at(), Some(1_438_287_151));
    }

    #[test]
    fn credentials_never_print_the_secret() {
        let c = Credentials {
            account_sid: "AC1".into(),
            key_sid: None,
            secret: Secret::new("tok-123"),
            from_number: None,
            messaging_service_sid: None,
        };
        assert!(!format!("{c:?}").contains("tok-123"));
    }
}
