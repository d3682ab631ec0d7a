//! The fake Twilio's Messages: every text it accepts is kept (like the account's message
//! log), and `GET .../Messages.json` lists them in Twilio's shape (`docs/twilio.md` §8): a
//! page with a `messages` array and page metadata, filtered by `To`, `From` and `DateSent`
//! (`DateSent<` and `DateSent>` on or before / on or after a GMT date), newest first.
//! The book outlives an appliance restart (`TestApp::restart` hands it on), as Twilio does.

use super::caller_ids::error;
use super::fake::{Recorded, TWILIO_NUMBER};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use voxanne::clock::{SharedClock, SystemClock};

/// A text the fake accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub account_sid: String,
    pub sid: String,
    pub to: String,
    pub from: String,
    pub messaging_service_sid: Option<String>,
    pub body: String,
    pub created: DateTime<Utc>,
}

pub struct MessageBook {
    pub accepted: Vec<Accepted>,
    /// Twilio's clock: the system's, or the test's manual clock.
    pub clock: SharedClock,
    /// While set, every list request gets this answer (status, body): Twilio failing.
    pub list_outage: Option<(u16, String)>,
}

impl Default for MessageBook {
    fn default() -> Self {
        Self {
            accepted: Vec::new(),
            clock: std::sync::Arc::new(SystemClock),
            list_outage: None,
        }
    }
}

fn account_and_tail(rec: &Recorded) -> Option<(&str, &str)> {
    rec.path
        .strip_prefix("/2010-04-01/Accounts/")?
        .split_once('/')
}

impl MessageBook {
    /// Twilio's answer to a send or a list, when `rec` is one.
    pub fn answer(&mut self, rec: &Recorded) -> Option<(u16, String)> {
        let (account, tail) = account_and_tail(rec)?;
        if tail != "Messages.json" {
            return None;
        }
        match rec.method.as_str() {
            "POST" => {
                let sid = format!("SM{:032x}", 0x5eed_0000 + self.accepted.len() as u128);
                let m = self.accept(rec, account, &sid);
                Some((201, resource(&m, "queued").to_string()))
            }
            "GET" => Some(self.list(rec, account)),
            _ => None,
        }
    }

    /// Keeps a send that a scripted answer accepted under `sid`.
    pub fn accepted_as(&mut self, rec: &Recorded, status: u16, body: &str) {
        let Some((account, "Messages.json")) = account_and_tail(rec) else {
            return;
        };
        if rec.method != "POST" || !(200..300).contains(&status) {
            return;
        }
        let answer: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        if let Some(sid) = answer["sid"].as_str() {
            let account = account.to_string();
            self.accept(rec, &account, sid);
        }
    }

    fn accept(&mut self, rec: &Recorded, account: &str, sid: &str) -> Accepted {
        let form: HashMap<String, String> = rec.form().into_iter().collect();
        let field = |k: &str| form.get(k).cloned();
        let m = Accepted {
            account_sid: account.to_string(),
            sid: sid.to_string(),
            to: field("To").unwrap_or_default(),
            from: field("From").unwrap_or_else(|| TWILIO_NUMBER.to_string()),
            messaging_service_sid: field("MessagingServiceSid"),
            body: field("Body").unwrap_or_default(),
            created: self.clock.now(),
        };
        self.accepted.push(m.clone());
        m
    }

    fn list(&self, rec: &Recorded, account: &str) -> (u16, String) {
        if let Some(outage) = &self.list_outage {
            return outage.clone();
        }
        if rec.header("authorization").is_none() {
            return error(401, 20003, "Authenticate");
        }
        let query: Vec<(String, String)> =
            serde_urlencoded::from_str(&rec.query).unwrap_or_default();
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let date = |k: &str| -> Result<Option<NaiveDate>, ()> {
            match get(k) {
                None => Ok(None),
                Some(v) => NaiveDate::parse_from_str(v.get(..10).unwrap_or(&v), "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| ()),
            }
        };
        let (Ok(on), Ok(before), Ok(after)) =
            (date("DateSent"), date("DateSent<"), date("DateSent>"))
        else {
            return error(400, 20001, "Invalid DateSent");
        };
        let page_size: usize = get("PageSize").and_then(|v| v.parse().ok()).unwrap_or(50);
        if !(1..=1000).contains(&page_size) {
            return error(400, 20001, "PageSize must be between 1 and 1000");
        }
        let page: usize = get("Page").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut matching: Vec<&Accepted> = self
            .accepted
            .iter()
            .filter(|m| m.account_sid == account)
            .filter(|m| get("To").is_none_or(|to| m.to == to))
            .filter(|m| get("From").is_none_or(|from| m.from == from))
            .filter(|m| {
                let sent = m.created.date_naive();
                on.is_none_or(|d| sent == d)
                    && before.is_none_or(|d| sent <= d)
                    && after.is_none_or(|d| sent >= d)
            })
            .collect();
        matching.sort_by(|a, b| b.created.cmp(&a.created).then(b.sid.cmp(&a.sid)));
        let start = page * page_size;
        let items: Vec<serde_json::Value> = matching
            .iter()
            .skip(start)
            .take(page_size)
            .map(|m| resource(m, "sent"))
            .collect();
        let base = format!("/2010-04-01/Accounts/{account}/Messages.json");
        let filters: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k != "Page" && k != "PageToken" && k != "PageSize")
            .cloned()
            .collect();
        let page_uri = |n: usize| {
            let mut q = filters.clone();
            q.push(("PageSize".into(), page_size.to_string()));
            q.push(("Page".into(), n.to_string()));
            format!(
                "{base}?{}",
                serde_urlencoded::to_string(&q).unwrap_or_default()
            )
        };
        let more = matching.len() > start + page_size;
        (
            200,
            serde_json::json!({
                "messages": items,
                "page": page, "page_size": page_size, "start": start,
                "end": start + items.len().saturating_sub(1),
                "uri": page_uri(page), "first_page_uri": page_uri(0),
                "next_page_uri": more.then(|| page_uri(page + 1)),
                "previous_page_uri": (page > 0).then(|| page_uri(page - 1)),
            })
            .to_string(),
        )
    }
}

/// A Message resource as Twilio renders it (dates in RFC 2822).
fn resource(m: &Accepted, status: &str) -> serde_json::Value {
    let date = m.created.format("%a, %d %b %Y %H:%M:%S +0000").to_string();
    serde_json::json!({
        "account_sid": m.account_sid, "api_version": "2010-04-01", "body": m.body,
        "date_created": date, "date_sent": date, "date_updated": date,
        "direction": "outbound-api", "error_code": null, "error_message": null,
        "from": m.from, "messaging_service_sid": m.messaging_service_sid,
        "num_media": "0", "num_segments": "1", "price": null, "price_unit": "USD",
        "sid": m.sid, "status": status, "to": m.to,
        "subresource_uris": {"media": format!("/2010-04-01/Accounts/{}/Messages/{}/Media.json", m.account_sid, m.sid)},
        "uri": format!("/2010-04-01/Accounts/{}/Messages/{}.json", m.account_sid, m.sid),
    })
}
