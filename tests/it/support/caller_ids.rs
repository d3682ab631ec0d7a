//! The fake Twilio's caller-ID verification (`docs/twilio.md` §4): validation requests
//! (`POST …/OutgoingCallerIds.json`, answered 200 with a 6-digit code; 21450 for a number that
//! is already verified), the verified list (`GET …/OutgoingCallerIds.json?PhoneNumber=`, exact
//! match) and removal (`DELETE …/OutgoingCallerIds/PN….json`, 204). A test then "answers" the
//! verification call: the number becomes verified (or not) and the fake posts Twilio's signed
//! status callback to the app's webhook listener.

use super::fake::{FakeServer, Recorded};
use voxanne::integrations::twilio_signature;

/// A validation request Twilio accepted.
#[derive(Debug, Clone)]
pub struct Validation {
    pub account_sid: String,
    pub phone_number: String,
    pub friendly_name: String,
    pub call_sid: String,
    pub code: String,
    pub status_callback: Option<String>,
    pub call_delay: Option<String>,
}

#[derive(Debug, Default)]
pub struct CallerIdBook {
    pub validations: Vec<Validation>,
    /// (account SID, phone number, PN sid) of each account's verified caller IDs.
    pub verified: Vec<(String, String, String)>,
    counter: u64,
}

pub fn error(status: u16, code: i64, message: &str) -> (u16, String) {
    (
        status,
        serde_json::json!({"code": code, "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status})
        .to_string(),
    )
}

impl CallerIdBook {
    /// Twilio's answer, when `rec` is a caller-ID request.
    pub fn answer(&mut self, rec: &Recorded) -> Option<(u16, String)> {
        let rest = rec.path.strip_prefix("/2010-04-01/Accounts/")?;
        let (account, tail) = rest.split_once('/')?;
        let form = rec.form();
        let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        match (rec.method.as_str(), tail) {
            ("POST", "OutgoingCallerIds.json") => {
                let Some(phone) = field("PhoneNumber").filter(|p| p.starts_with('+')) else {
                    return Some(error(400, 21212, "A valid PhoneNumber is required"));
                };
                if self
                    .verified
                    .iter()
                    .any(|(a, p, _)| a == account && *p == phone)
                {
                    return Some(error(400, 21450, "Phone number already verified."));
                }
                self.counter += 1;
                let v = Validation {
                    account_sid: account.to_string(),
                    friendly_name: field("FriendlyName").unwrap_or_else(|| phone.clone()),
                    call_sid: format!("CA{:032x}", 0xca11_0000 + self.counter),
                    code: format!("{:06}", (self.counter * 271_828 + 314_159) % 1_000_000),
                    status_callback: field("StatusCallback"),
                    call_delay: field("CallDelay"),
                    phone_number: phone,
                };
                let body = serde_json::json!({
                    "account_sid": v.account_sid, "call_sid": v.call_sid,
                    "friendly_name": v.friendly_name, "phone_number": v.phone_number,
                    "validation_code": v.code
                });
                self.validations.push(v);
                Some((200, body.to_string()))
            }
            ("GET", "OutgoingCallerIds.json") => {
                let query: Vec<(String, String)> =
                    serde_urlencoded::from_str(&rec.query).unwrap_or_default();
                let wanted = query
                    .iter()
                    .find(|(k, _)| k == "PhoneNumber")
                    .map(|(_, v)| v.clone());
                let items: Vec<serde_json::Value> = self
                    .verified
                    .iter()
                    .filter(|(a, p, _)| a == account && wanted.as_ref().is_none_or(|w| w == p))
                    .map(|(_, p, sid)| {
                        serde_json::json!({"sid": sid, "account_sid": account, "phone_number": p,
                            "friendly_name": p, "date_created": "Mon, 15 Jun 2026 14:00:00 +0000",
                            "date_updated": "Mon, 15 Jun 2026 14:00:00 +0000",
                            "uri": format!("/2010-04-01/Accounts/{account}/OutgoingCallerIds/{sid}.json")})
                    })
                    .collect();
                Some((
                    200,
                    serde_json::json!({"outgoing_caller_ids": items, "page": 0, "page_size": 50,
                        "start": 0, "end": 0, "next_page_uri": null, "previous_page_uri": null})
                    .to_string(),
                ))
            }
            ("DELETE", t) if t.starts_with("OutgoingCallerIds/") => {
                let sid = t
                    .trim_start_matches("OutgoingCallerIds/")
                    .trim_end_matches(".json");
                let before = self.verified.len();
                self.verified
                    .retain(|(a, _, s)| !(a == account && s == sid));
                if self.verified.len() < before {
                    Some((204, String::new()))
                } else {
                    Some(error(404, 20404, "The requested resource was not found"))
                }
            }
            _ => None,
        }
    }

    pub fn latest(&self, phone: &str) -> Option<Validation> {
        self.validations
            .iter()
            .rev()
            .find(|v| v.phone_number == phone)
            .cloned()
    }
}

/// What Twilio posts when a verification call ends: the public URL it signs and the form.
pub struct Callback {
    pub url: String,
    pub params: Vec<(String, String)>,
}

impl FakeServer {
    /// The code Twilio gave for the latest verification of `phone`.
    pub fn validation(&self, phone: &str) -> Option<Validation> {
        self.caller_ids.lock().expect("book").latest(phone)
    }

    /// Someone answers Twilio's call to `phone` and types the right code (`success`) or not.
    /// Returns the status callback Twilio would send, if one was asked for.
    pub fn answer_call(&self, phone: &str, success: bool) -> Option<Callback> {
        let mut book = self.caller_ids.lock().expect("book");
        let v = book.latest(phone).expect("a verification was started");
        let mut params = vec![
            ("AccountSid", v.account_sid.clone()),
            ("ApiVersion", "2010-04-01".to_string()),
            ("CallSid", v.call_sid.clone()),
            ("CallStatus", "completed".to_string()),
            ("Called", phone.to_string()),
            ("To", phone.to_string()),
            (
                "VerificationStatus",
                if success { "success" } else { "failed" }.to_string(),
            ),
        ];
        if success {
            let sid = format!("PN{:032x}", 0x9000 + book.verified.len() as u64);
            params.push(("OutgoingCallerIdSid", sid.clone()));
            book.verified
                .push((v.account_sid.clone(), phone.to_string(), sid));
        }
        v.status_callback.map(|url| Callback {
            url,
            params: params
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        })
    }

    /// Marks `phone` verified on `account` without any call (done in the Twilio Console).
    pub fn add_verified(&self, account: &str, phone: &str) -> String {
        let mut book = self.caller_ids.lock().expect("book");
        let sid = format!("PN{:032x}", 0x7000 + book.verified.len() as u64);
        book.verified
            .push((account.to_string(), phone.to_string(), sid.clone()));
        sid
    }
}

impl Callback {
    /// Posts the callback to `webhook_base` (the app's webhook listener) with the path and
    /// query of the public URL, signed with `auth_token` over the public URL, as Twilio does.
    pub async fn post(&self, webhook_base: &str, auth_token: &str) -> reqwest::Response {
        let signature = twilio_signature::compute(auth_token, &self.url, &self.params);
        self.post_with(webhook_base, Some(&signature)).await
    }

    /// Posts with the given signature header (or none).
    pub async fn post_with(
        &self,
        webhook_base: &str,
        signature: Option<&str>,
    ) -> reqwest::Response {
        let path = self
            .url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
            .unwrap_or_default();
        let mut req = reqwest::Client::new()
            .post(format!("{webhook_base}{path}"))
            .form(&self.params);
        if let Some(sig) = signature {
            req = req.header("X-Twilio-Signature", sig);
        }
        req.send().await.expect("callback post")
    }
}
