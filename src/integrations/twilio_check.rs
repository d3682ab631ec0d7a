//! Checking an owner's Twilio set-up before it is stored: the credentials open the account,
//! and the "from" number is one of the account's numbers and can send texts. Each way this can
//! fail is one owner-facing message; Twilio's own wording is never shown.

use super::twilio::{Account, Client, Credentials, IncomingNumber, TwilioError};

/// Why a set-up cannot be used, by what the owner should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupProblem {
    #[error("Twilio did not accept this Account SID and auth token (error 20003). Copy both again from the Twilio Console (Account → API keys & tokens).")]
    BadToken,
    #[error("Twilio did not accept this API key for the account (error 20003). Check the Account SID, the API key SID (SK…) and its secret.")]
    BadApiKey,
    #[error("These are Twilio test credentials (error 20008), which cannot send real texts. Use the live Account SID and auth token.")]
    TestCredentials,
    #[error("This Twilio account is {0}, so Twilio will not send texts from it.")]
    AccountInactive(String),
    #[error("{0} is not a phone number on this Twilio account. Use one of the account's numbers (Phone Numbers → Active numbers in the Twilio Console).")]
    NumberNotOnAccount(String),
    #[error("{0} is on this Twilio account but cannot send texts (it is not SMS-capable). Choose an SMS-capable number.")]
    NotSmsCapable(String),
    #[error("Give the Twilio number that texts come from.")]
    NoFromNumber,
    #[error("Twilio could not be reached to check these details, so nothing was saved. Try again in a minute.")]
    Unreachable,
    #[error("Twilio refused the check (error {0}), so nothing was saved.")]
    Refused(i64),
}

/// Asks Twilio whether `creds` can send texts from their "from" number. An auth token is
/// proved by fetching the account; an API key cannot read the account resource, so for keys
/// the numbers list is the proof.
pub async fn check_setup(client: &Client, creds: &Credentials) -> Result<(), SetupProblem> {
    let api_key = creds.key_sid.is_some();
    let from = creds
        .from_number
        .as_deref()
        .ok_or(SetupProblem::NoFromNumber)?;
    if !api_key {
        let account = client
            .fetch_account(creds)
            .await
            .map_err(|e| problem(&e, api_key))?;
        account_verdict(&account)?;
    }
    let numbers = client
        .incoming_numbers(creds, from)
        .await
        .map_err(|e| problem(&e, api_key))?;
    number_verdict(&numbers, from)
}

/// Sorts a failed request into the owner's terms.
pub fn problem(e: &TwilioError, api_key: bool) -> SetupProblem {
    match e {
        TwilioError::Transient { .. } => SetupProblem::Unreachable,
        // 401 without a body code stands for 20003, as twilio-python does.
        TwilioError::Permanent { code, .. } => match code {
            20003 | 401 | 20404 | 404 if api_key => SetupProblem::BadApiKey,
            20003 | 401 | 20404 | 404 => SetupProblem::BadToken,
            20008 => SetupProblem::TestCredentials,
            20403 => SetupProblem::AccountInactive("suspended or closed".into()),
            other => SetupProblem::Refused(*other),
        },
    }
}

pub fn account_verdict(account: &Account) -> Result<(), SetupProblem> {
    match account.status.as_deref() {
        None | Some("active") => Ok(()),
        Some(other) => Err(SetupProblem::AccountInactive(other.to_string())),
    }
}

/// Twilio's `PhoneNumber` filter matches partially, so only an exact match counts.
pub fn number_verdict(numbers: &[IncomingNumber], from: &str) -> Result<(), SetupProblem> {
    match numbers.iter().find(|n| n.phone_number == from) {
        None => Err(SetupProblem::NumberNotOnAccount(from.to_string())),
        Some(n) if !n.capabilities.sms => Err(SetupProblem::NotSmsCapable(from.to_string())),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::twilio::{classify, Capabilities};

    fn number(phone: &str, sms: bool) -> IncomingNumber {
        IncomingNumber {
            phone_number: phone.into(),
            capabilities: Capabilities { sms, voice: true },
        }
    }

    #[test]
    fn each_twilio_answer_has_its_own_message() {
        let auth = classify(
            401,
            r#"{"code":20003,"detail":"Your AccountSid or AuthToken was incorrect.","message":"Authenticate","status":401}"#,
        );
        assert_eq!(problem(&auth, false), SetupProblem::BadToken);
        assert_eq!(problem(&auth, true), SetupProblem::BadApiKey);
        assert_eq!(problem(&classify(401, ""), false), SetupProblem::BadToken);
        let test_creds = classify(403, r#"{"code":20008,"message":"x","status":403}"#);
        assert_eq!(problem(&test_creds, false), SetupProblem::TestCredentials);
        assert_eq!(
            problem(&classify(503, "down"), false),
            SetupProblem::Unreachable
        );
        assert_eq!(
            problem(&classify(429, r#"{"code":20429}"#), true),
            SetupProblem::Unreachable
        );
        assert_eq!(
            problem(&classify(400, r#"{"code":21999}"#), false),
            SetupProblem::Refused(21999)
        );
        assert!(SetupProblem::BadToken.to_string().contains("20003"));
    }

    #[test]
    fn the_number_must_match_exactly_and_send_texts() {
        let from = "+15005550006";
        assert_eq!(number_verdict(&[number(from, true)], from), Ok(()));
        // A partial match from Twilio's filter is not the number.
        assert_eq!(
            number_verdict(&[number("+150055500061", true)], from),
            Err(SetupProblem::NumberNotOnAccount(from.into()))
        );
        assert_eq!(
            number_verdict(&[], from),
            Err(SetupProblem::NumberNotOnAccount(from.into()))
        );
        assert_eq!(
            number_verdict(&[number(from, false)], from),
            Err(SetupProblem::NotSmsCapable(from.into()))
        );
    }

    #[test]
    fn only_an_active_account_passes() {
        let acct = |status: Option<&str>| Account {
            sid: None,
            status: status.map(str::to_string),
        };
        assert_eq!(account_verdict(&acct(Some("active"))), Ok(()));
        assert_eq!(account_verdict(&acct(None)), Ok(()));
        assert_eq!(
            account_verdict(&acct(Some("suspended"))),
            Err(SetupProblem::AccountInactive("suspended".into()))
        );
    }
}
