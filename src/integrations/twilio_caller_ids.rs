//! Twilio's caller-ID verification (`docs/twilio.md` §4): starting a validation request
//! (Twilio calls the number and asks for the 6-digit code it gave us), finding a number on the
//! account's verified list, and removing it.

use super::twilio::{classify, network_error, read_answer, Client, Credentials, TwilioError};
use serde::Deserialize;

/// Where Twilio reports the end of a verification call (on the webhook listener).
pub const CALLBACK_PATH: &str = "/api/twilio/caller-id";

/// Twilio's error for a number that is already a verified caller ID on the account.
pub const ALREADY_VERIFIED: i64 = 21450;

/// What a validation request asks for.
pub struct ValidationRequest<'a> {
    pub phone_number: &'a str,
    pub friendly_name: &'a str,
    /// `VOXANNE_PUBLIC_URL` + [`CALLBACK_PATH`], when a public URL is configured.
    pub status_callback: Option<&'a str>,
    /// Seconds Twilio waits before calling, so the code is on screen first.
    pub call_delay: u32,
}

/// Twilio's answer to a validation request (not the caller-ID resource, which exists only
/// once the code was typed).
#[derive(Debug, Clone, Deserialize)]
pub struct Validation {
    pub validation_code: String,
    pub call_sid: Option<String>,
    pub phone_number: Option<String>,
}

/// An entry of the account's verified caller IDs.
#[derive(Debug, Clone, Deserialize)]
pub struct OutgoingCallerId {
    pub sid: String,
    pub phone_number: String,
}

impl Client {
    /// `POST /Accounts/{Sid}/OutgoingCallerIds.json`: Twilio calls the number; the code in the
    /// answer is what the person must type. Any 2xx is success (the spec says 200, older docs 201).
    pub async fn start_caller_id_validation(
        &self,
        creds: &Credentials,
        req: &ValidationRequest<'_>,
    ) -> Result<Validation, TwilioError> {
        let delay = req.call_delay.min(60).to_string();
        let mut form: Vec<(&str, &str)> = vec![
            ("PhoneNumber", req.phone_number),
            ("FriendlyName", req.friendly_name),
            ("CallDelay", &delay),
        ];
        if let Some(url) = req.status_callback {
            form.push(("StatusCallback", url));
            form.push(("StatusCallbackMethod", "POST"));
        }
        let request = self
            .http
            .post(self.account_url(creds, "/OutgoingCallerIds.json"))
            .basic_auth(creds.username(), Some(creds.secret.expose()))
            .header("Accept", "application/json")
            .form(&form);
        read_answer(request).await
    }

    /// The account's verified caller ID for exactly `phone`, if there is one.
    pub async fn find_outgoing_caller_id(
        &self,
        creds: &Credentials,
        phone: &str,
    ) -> Result<Option<OutgoingCallerId>, TwilioError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            outgoing_caller_ids: Vec<OutgoingCallerId>,
        }
        let request = self
            .http
            .get(self.account_url(creds, "/OutgoingCallerIds.json"))
            .query(&[("PhoneNumber", phone), ("PageSize", "50")])
            .basic_auth(creds.username(), Some(creds.secret.expose()))
            .header("Accept", "application/json");
        let page: Page = read_answer(request).await?;
        Ok(page
            .outgoing_caller_ids
            .into_iter()
            .find(|c| c.phone_number == phone))
    }

    /// `DELETE /Accounts/{Sid}/OutgoingCallerIds/{PN}.json` (204). Already gone counts as done.
    pub async fn delete_outgoing_caller_id(
        &self,
        creds: &Credentials,
        sid: &str,
    ) -> Result<(), TwilioError> {
        if !is_caller_id_sid(sid) {
            return Err(TwilioError::Permanent {
                code: 20404,
                message: "not a caller ID resource".into(),
            });
        }
        let response = self
            .http
            .delete(self.account_url(creds, &format!("/OutgoingCallerIds/{sid}.json")))
            .basic_auth(creds.username(), Some(creds.secret.expose()))
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(network_error)?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) || status == 404 {
            return Ok(());
        }
        let text = response.text().await.map_err(network_error)?;
        Err(classify(status, &text))
    }
}

/// `PN` and 32 hex digits: the only thing that may go into the delete URL's path.
pub fn is_caller_id_sid(sid: &str) -> bool {
    sid.len() == 34 && sid.starts_with("PN") && sid[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The public callback URL, once `VOXANNE_PUBLIC_URL` is set.
pub fn callback_url(public_url: Option<&str>) -> Option<String> {
    public_url.map(|base| format!("{base}{CALLBACK_PATH}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_twilio_shapes() {
        let v: Validation = serde_json::from_str(
            r#"{"account_sid":"AC0123456789abcdef0123456789abcdef","call_sid":"CA0123456789abcdef0123456789abcdef",
                "friendly_name":"Alice cell","phone_number":"+15551234567","validation_code":"123456"}"#,
        )
        .unwrap();
        assert_eq!(v.validation_code, "123456");
        assert!(is_caller_id_sid("PN0123456789abcdef0123456789abcdef"));
        assert!(!is_caller_id_sid("PN0123/../../Messages"));
        assert!(!is_caller_id_sid("CA0123456789abcdef0123456789abcdef"));
        assert_eq!(
            callback_url(Some("https://c.test")).as_deref(),
            Some("https://c.test/api/twilio/caller-id")
        );
    }
}
