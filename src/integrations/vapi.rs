//! Vapi's management API (`docs/vapi.md` §4), for what the appliance keeps in step there:
//! the clinic's Twilio credential and, when asked, its Twilio number; the tools and the
//! assistant they are linked to (429 and 5xx retried with backoff). Authenticated with the
//! private key from `VAPI_PRIVATE_KEY`; the base URL is `VAPI_API_BASE`. Vapi's own error text
//! is logged, never shown: callers get [`VapiError`].

use crate::config::Config;
use crate::integrations::twilio::Credentials;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::Duration;

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default()
    })
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VapiError {
    #[error("VAPI_PRIVATE_KEY is not set")]
    NoApiKey,
    #[error("Vapi refused the request (HTTP {0})")]
    Refused(u16),
    #[error("Vapi could not be reached")]
    Unreachable,
    #[error("Vapi's answer could not be read")]
    BadAnswer,
}

impl VapiError {
    /// Whether the thing asked about does not exist (any more) in Vapi.
    pub fn is_not_found(&self) -> bool {
        *self == VapiError::Refused(404)
    }
}

/// Sends one request with the private key and returns the JSON answer (Null when empty).
async fn call(
    config: &Config,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, VapiError> {
    let key = config
        .vapi_private_key
        .as_ref()
        .ok_or(VapiError::NoApiKey)?;
    let mut request = client()
        .request(method.clone(), format!("{}{path}", config.vapi_api_base))
        .bearer_auth(key.expose());
    if let Some(body) = body {
        request = request.json(body);
    }
    let res = request.send().await.map_err(|e| {
        tracing::warn!(error = %e, %method, path, "Vapi request failed to connect");
        VapiError::Unreachable
    })?;
    let status = res.status();
    let text = res.text().await.map_err(|_| VapiError::BadAnswer)?;
    if !status.is_success() {
        tracing::warn!(status = status.as_u16(), %method, path, detail = %error_detail(&text), "Vapi refused a request");
        return Err(VapiError::Refused(status.as_u16()));
    }
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).map_err(|_| VapiError::BadAnswer)
}

/// The `id` of a created or updated resource.
fn id_of(answer: &Value) -> Result<String, VapiError> {
    answer["id"]
        .as_str()
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= 128)
        .map(str::to_string)
        .ok_or(VapiError::BadAnswer)
}

/// The secret half of a Twilio credential as Vapi names it: an auth token, or an API key pair.
fn twilio_secret_fields(creds: &Credentials, token: &str, key: &str, secret: &str) -> Value {
    match &creds.key_sid {
        Some(key_sid) => json!({ key: key_sid, secret: creds.secret.expose() }),
        None => json!({ token: creds.secret.expose() }),
    }
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

/// `POST /credential` with `provider: twilio`; returns the credential's id.
pub async fn create_twilio_credential(
    config: &Config,
    creds: &Credentials,
    name: &str,
) -> Result<String, VapiError> {
    let body = merge(
        json!({ "provider": "twilio", "accountSid": creds.account_sid, "name": name }),
        twilio_secret_fields(creds, "authToken", "apiKey", "apiSecret"),
    );
    id_of(&call(config, Method::POST, "/credential", Some(&body)).await?)
}

/// `PATCH /credential/:id`. The update schema has no `provider` field, and Vapi rejects
/// unknown properties, so it is left out.
pub async fn update_twilio_credential(
    config: &Config,
    id: &str,
    creds: &Credentials,
    name: &str,
) -> Result<(), VapiError> {
    let body = merge(
        json!({ "accountSid": creds.account_sid, "name": name }),
        twilio_secret_fields(creds, "authToken", "apiKey", "apiSecret"),
    );
    call(
        config,
        Method::PATCH,
        &format!("/credential/{}", path_segment(id)?),
        Some(&body),
    )
    .await
    .map(|_| ())
}

/// A Twilio number as the appliance imports it into Vapi.
pub struct PhoneImport<'a> {
    pub number: &'a str,
    pub name: &'a str,
    /// Where Vapi sends the number's calls' events (and `assistant-request` while no
    /// assistant is attached), with the org's webhook secret; None until a public URL is set.
    pub server_url: Option<&'a str>,
    pub server_secret: Option<&'a str>,
}

fn phone_body(creds: &Credentials, import: &PhoneImport<'_>) -> Value {
    let mut body = merge(
        json!({
            "provider": "twilio",
            "number": import.number,
            "twilioAccountSid": creds.account_sid,
            "name": import.name,
            // Left on, Vapi would take over the number's messaging webhook and the clinic's
            // inbound texts (STOP, replies) would stop reaching the appliance.
            "smsEnabled": false,
        }),
        twilio_secret_fields(creds, "twilioAuthToken", "twilioApiKey", "twilioApiSecret"),
    );
    if let Some(url) = import.server_url {
        let mut server = json!({ "url": url, "timeoutSeconds": 20 });
        if let Some(secret) = import.server_secret {
            server["headers"] = json!({ "X-Vapi-Secret": secret });
        }
        body["server"] = server;
    }
    body
}

/// `POST /phone-number`: imports the Twilio number; returns Vapi's id for it.
pub async fn import_phone_number(
    config: &Config,
    creds: &Credentials,
    import: &PhoneImport<'_>,
) -> Result<String, VapiError> {
    let body = phone_body(creds, import);
    id_of(&call(config, Method::POST, "/phone-number", Some(&body)).await?)
}

/// `PATCH /phone-number/:id` (discriminated by `provider`, so it is sent).
pub async fn update_phone_number(
    config: &Config,
    id: &str,
    creds: &Credentials,
    import: &PhoneImport<'_>,
) -> Result<(), VapiError> {
    let mut body = phone_body(creds, import);
    if let Some(b) = body.as_object_mut() {
        // The number itself cannot change on an existing resource.
        b.remove("number");
    }
    call(
        config,
        Method::PATCH,
        &format!("/phone-number/{}", path_segment(id)?),
        Some(&body),
    )
    .await
    .map(|_| ())
}

/// `GET /phone-number`: Vapi's id for `number` if it is already imported.
pub async fn find_phone_number(config: &Config, number: &str) -> Result<Option<String>, VapiError> {
    #[derive(Deserialize)]
    struct Item {
        id: Option<String>,
        number: Option<String>,
    }
    let answer = call(config, Method::GET, "/phone-number?limit=1000", None).await?;
    let items: Vec<Item> = serde_json::from_value(answer).map_err(|_| VapiError::BadAnswer)?;
    Ok(items
        .into_iter()
        .find(|i| i.number.as_deref() == Some(number))
        .and_then(|i| i.id))
}

/// Waits before each retry of a throttled (429) or failing (5xx) request, as Vapi's own
/// client does; after the last, the failure stands.
const BACKOFF_SECS: [u64; 3] = [2, 4, 8];

/// [`call`] with backoff. A create is retried only on 429 (Twilio-style "not processed"): after
/// a 5xx it may have happened, and a retry could make it twice.
async fn call_with_backoff(
    config: &Config,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, VapiError> {
    let retry_server_errors = method != Method::POST;
    let mut waits = BACKOFF_SECS.iter();
    loop {
        match call(config, method.clone(), path, body).await {
            Err(VapiError::Refused(s)) if s == 429 || (retry_server_errors && s >= 500) => {
                let Some(wait) = waits.next() else {
                    return Err(VapiError::Refused(s));
                };
                tracing::info!(status = s, %method, path, wait_secs = wait, "Vapi asked us to slow down or failed; retrying");
                tokio::time::sleep(Duration::from_secs(*wait)).await;
            }
            other => return other,
        }
    }
}

/// `POST /tool`; returns the tool's id.
pub async fn create_tool(config: &Config, body: &Value) -> Result<String, VapiError> {
    id_of(&call_with_backoff(config, Method::POST, "/tool", Some(body)).await?)
}

/// `PATCH /tool/:id` with the create body. Vapi's update schema is a union told apart by
/// `type`, so `type` stays; the fields Vapi manages (`id`, `orgId`, `createdAt`,
/// `updatedAt`) are not part of it, and unknown properties are refused, so they are left out.
pub async fn update_tool(config: &Config, id: &str, body: &Value) -> Result<(), VapiError> {
    let mut body = body.clone();
    if let Some(b) = body.as_object_mut() {
        for k in ["id", "orgId", "createdAt", "updatedAt"] {
            b.remove(k);
        }
    }
    let path = format!("/tool/{}", path_segment(id)?);
    call_with_backoff(config, Method::PATCH, &path, Some(&body))
        .await
        .map(|_| ())
}

/// `GET /tool/:id`.
pub async fn get_tool(config: &Config, id: &str) -> Result<Value, VapiError> {
    let path = format!("/tool/{}", path_segment(id)?);
    call_with_backoff(config, Method::GET, &path, None).await
}

/// `GET /assistant/:id`.
pub async fn get_assistant(config: &Config, id: &str) -> Result<Value, VapiError> {
    let path = format!("/assistant/{}", path_segment(id)?);
    call_with_backoff(config, Method::GET, &path, None).await
}

/// `PATCH /assistant/:id`. Each top-level field sent replaces its whole subtree in Vapi, so
/// callers send complete objects (see `vapi_assistant::link_patch`).
pub async fn update_assistant(config: &Config, id: &str, body: &Value) -> Result<(), VapiError> {
    let path = format!("/assistant/{}", path_segment(id)?);
    call_with_backoff(config, Method::PATCH, &path, Some(body))
        .await
        .map(|_| ())
}

/// An outbound call to start (a call-back).
pub struct OutboundCall<'a> {
    pub assistant_id: &'a str,
    pub phone_number_id: &'a str,
    /// E.164.
    pub customer_number: &'a str,
    pub customer_name: Option<&'a str>,
}

/// A call Vapi accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedCall {
    pub id: String,
    /// Vapi's status for the new call, normally `queued`.
    pub status: Option<String>,
}

/// Vapi caps `customer.name` at 40 characters.
const MAX_CUSTOMER_NAME: usize = 40;

/// `POST /call`: Vapi calls the customer with the given assistant from the given number. Not
/// retried: after a failure the call may still have been placed, and a retry could ring the
/// patient twice.
pub async fn create_call(
    config: &Config,
    call_to: &OutboundCall<'_>,
) -> Result<CreatedCall, VapiError> {
    let mut customer = json!({ "number": call_to.customer_number });
    if let Some(name) = call_to
        .customer_name
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        customer["name"] = Value::from(name.chars().take(MAX_CUSTOMER_NAME).collect::<String>());
    }
    let body = json!({
        "assistantId": call_to.assistant_id,
        "phoneNumberId": call_to.phone_number_id,
        "customer": customer,
    });
    let answer = call(config, Method::POST, "/call", Some(&body)).await?;
    Ok(CreatedCall {
        id: id_of(&answer)?,
        status: answer["status"].as_str().map(str::to_string),
    })
}

/// An id Vapi gave us, checked before it goes into a path.
fn path_segment(id: &str) -> Result<&str, VapiError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then_some(id).ok_or(VapiError::BadAnswer)
}

/// Vapi's NestJS-style error message (a string or a list of strings), for the log.
fn error_detail(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let detail = match &v["message"] {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("; "),
        _ => String::new(),
    };
    detail.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn creds(key_sid: Option<&str>) -> Credentials {
        Credentials {
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            key_sid: key_sid.map(str::to_string),
            secret: Secret::new("s3cret-value-0000"),
            from_number: Some("+15005550006".into()),
            messaging_service_sid: None,
        }
    }

    #[test]
    fn phone_import_keeps_texts_with_the_appliance() {
        let import = PhoneImport {
            number: "+15005550006",
            name: "Alpha",
            server_url: Some("https://c.example/api/vapi/webhook"),
            server_secret: Some("vx_abc"),
        };
        let body = phone_body(&creds(None), &import);
        assert_eq!(body["smsEnabled"], false);
        assert_eq!(body["twilioAuthToken"], "s3cret-value-0000");
        assert_eq!(body["server"]["headers"]["X-Vapi-Secret"], "vx_abc");
        let keyed = phone_body(&creds(Some("SK0123456789abcdef0123456789abcdef")), &import);
        assert!(keyed.get("twilioAuthToken").is_none());
        assert_eq!(keyed["twilioApiSecret"], "s3cret-value-0000");
    }

    #[test]
    fn ids_are_checked_before_use_in_a_path() {
        assert!(path_segment("3c1f-uuid_9").is_ok());
        assert!(path_segment("../tool").is_err());
        assert!(path_segment("").is_err());
        assert_eq!(id_of(&json!({"id": "abc"})), Ok("abc".into()));
        assert_eq!(id_of(&json!({"id": ""})), Err(VapiError::BadAnswer));
    }

    #[test]
    fn error_messages_come_as_text_or_lists() {
        assert_eq!(error_detail(r#"{"message":["a","b"]}"#), "a; b");
        assert_eq!(error_detail(r#"{"message":"no"}"#), "no");
        assert_eq!(error_detail("<html>"), "");
    }
}
