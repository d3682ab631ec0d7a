//! Vapi's management API (`reference/vapi.md` §4): starting an outbound call with
//! `POST /call`. Authenticated with the private key from `VAPI_PRIVATE_KEY`; the base URL is
//! `VAPI_API_BASE`. Vapi's own error text is logged, never shown: callers get [`VapiError`].

use crate::config::Config;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::Duration;

/// Vapi caps `customer.name` at 40 characters.
const MAX_CUSTOMER_NAME: usize = 40;

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

pub struct OutboundCall<'a> {
    pub assistant_id: &'a str,
    pub phone_number_id: &'a str,
    /// E.164.
    pub customer_number: &'a str,
    pub customer_name: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedCall {
    pub id: String,
    /// Vapi's status for the new call, normally `queued`.
    pub status: Option<String>,
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

/// `POST /call`: asks Vapi to call the customer with the given assistant from the given number.
pub async fn create_call(
    config: &Config,
    call: &OutboundCall<'_>,
) -> Result<CreatedCall, VapiError> {
    let key = config
        .vapi_private_key
        .as_ref()
        .ok_or(VapiError::NoApiKey)?;
    let mut customer = json!({ "number": call.customer_number });
    if let Some(name) = call.customer_name.map(str::trim).filter(|n| !n.is_empty()) {
        customer["name"] = Value::from(name.chars().take(MAX_CUSTOMER_NAME).collect::<String>());
    }
    let body = json!({
        "assistantId": call.assistant_id,
        "phoneNumberId": call.phone_number_id,
        "customer": customer,
    });
    let res = client()
        .post(format!("{}/call", config.vapi_api_base))
        .bearer_auth(key.expose())
        .json(&body)
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "Vapi POST /call failed to connect");
            VapiError::Unreachable
        })?;
    let status = res.status();
    let text = res.text().await.map_err(|_| VapiError::BadAnswer)?;
    if !status.is_success() {
        tracing::warn!(status = status.as_u16(), detail = %error_detail(&text), "Vapi refused POST /call");
        return Err(VapiError::Refused(status.as_u16()));
    }
    #[derive(Deserialize)]
    struct Answer {
        id: Option<String>,
        status: Option<String>,
    }
    let answer: Answer = serde_json::from_str(&text).map_err(|_| VapiError::BadAnswer)?;
    match answer
        .id
        .filter(|id| !id.trim().is_empty() && id.len() <= 128)
    {
        Some(id) => Ok(CreatedCall {
            id,
            status: answer.status,
        }),
        None => Err(VapiError::BadAnswer),
    }
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
