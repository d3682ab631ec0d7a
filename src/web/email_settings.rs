//! Settings → E-mail (owners only): the clinic's mailbox for e-mail, and "Send a test e-mail",
//! which shows the server's answer in plain words when it fails. The password is never
//! rendered back; leaving it blank on a later save keeps the stored one.

use crate::app::AppState;
use crate::error::AppResult;
use crate::service::mailing;
use crate::store::email_settings::{self, Input, Summary};
use crate::store::orgs;
use crate::store::sessions::SessionInfo;
use crate::web::pages::{form_error, render_form, Chrome, Notice};
use crate::web::session::{audited_change, Owner};
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "settings/email.html")]
struct EmailPage {
    chrome: Chrome,
    summary: Option<Summary>,
    /// What was typed, shown again after a refusal (never the password).
    form: MailboxForm,
    /// How the last test went, when one was just sent.
    tested: Option<Tested>,
    /// Where a test goes by default: the owner's own address.
    default_to: String,
    error: Option<String>,
}

struct Tested {
    ok: bool,
    message: String,
}

/// The form as posted.
#[derive(Deserialize, Default)]
pub struct MailboxForm {
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    tls: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    from_address: String,
    #[serde(default)]
    from_name: String,
    #[serde(default)]
    ca_pem: String,
}

impl MailboxForm {
    fn from_summary(s: &Summary) -> Self {
        MailboxForm {
            host: s.host.clone(),
            port: s.port.to_string(),
            tls: s.tls.to_string(),
            username: s.username.clone(),
            from_address: s.from_address.clone(),
            from_name: s.from_name.clone().unwrap_or_default(),
            ..MailboxForm::default()
        }
    }

    /// The same values without the password, to show again.
    fn shown(&self) -> Self {
        MailboxForm {
            host: self.host.clone(),
            port: self.port.clone(),
            tls: self.tls.clone(),
            username: self.username.clone(),
            from_address: self.from_address.clone(),
            from_name: self.from_name.clone(),
            ca_pem: self.ca_pem.clone(),
            password: String::new(),
        }
    }

    fn input(&self) -> Input<'_> {
        Input {
            host: &self.host,
            port: &self.port,
            tls: &self.tls,
            username: &self.username,
            password: &self.password,
            from_address: &self.from_address,
            from_name: Some(&self.from_name),
            ca_pem: Some(&self.ca_pem),
        }
    }
}

async fn page(
    state: &AppState,
    info: &SessionInfo,
    form: Option<MailboxForm>,
    tested: Option<Tested>,
    error: Option<String>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let scope = info.scope;
    let (org, summary) = state
        .db
        .read(move |c| Ok((orgs::get(c, &scope)?, email_settings::summary(c, &scope)?)))
        .await?;
    let form = form.unwrap_or_else(|| match &summary {
        Some(s) => MailboxForm::from_summary(s),
        None => MailboxForm {
            port: "587".into(),
            tls: "starttls".into(),
            ..MailboxForm::default()
        },
    });
    let page = EmailPage {
        chrome: Chrome::new(info, &org.name, "Settings").with_notice(notice),
        summary,
        form,
        tested,
        default_to: info.staff.email.clone(),
        error,
    };
    render_form(&page, &page.error)
}

pub async fn show(
    State(state): State<AppState>,
    Owner(info): Owner,
    Query(q): Query<Notice>,
) -> AppResult<Response> {
    let notice = q
        .saved
        .as_ref()
        .map(|_| "Saved. Send a test e-mail to check it.");
    page(&state, &info, None, None, None, notice).await
}

pub async fn save(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<MailboxForm>,
) -> AppResult<Response> {
    let (scope, vault) = (info.scope, state.vault.clone());
    let stored = state
        .db
        .read(move |c| email_settings::get(c, &vault, &scope))
        .await?;
    let mailbox =
        match email_settings::validate(&form.input(), stored.as_ref().map(|m| &m.password)) {
            Ok(m) => m,
            Err(e) => {
                return page(
                    &state,
                    &info,
                    Some(form.shown()),
                    None,
                    Some(form_error(e)?),
                    None,
                )
                .await
            }
        };
    let detail = format!(
        "host={} port={} tls={}",
        mailbox.host,
        mailbox.port,
        mailbox.tls.as_str()
    );
    let (vault, now) = (state.vault.clone(), state.clock.now().timestamp());
    audited_change(
        &state,
        &info,
        ip,
        "email.settings_set",
        detail,
        move |tx, scope| email_settings::set(tx, &vault, scope, &mailbox, now),
    )
    .await?;
    Ok(Redirect::to("/settings/email?saved=1").into_response())
}

#[derive(Deserialize)]
pub struct TestForm {
    #[serde(default)]
    to: String,
}

/// "Send a test e-mail": sends it now and shows how it went.
pub async fn test(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<TestForm>,
) -> AppResult<Response> {
    let sent = mailing::send_test(&state.db, &state.vault, info.scope, &form.to).await;
    let outcome = match &sent {
        Ok(_) => "sent".to_string(),
        Err(why) => format!("failed: {why}"),
    };
    audited_change(&state, &info, ip, "email.test", outcome, |_, _| Ok(())).await?;
    let tested = match sent {
        Ok(_) => Tested {
            ok: true,
            message: format!(
                "The test e-mail to {} was accepted by the mail server.",
                form.to.trim()
            ),
        },
        Err(why) => Tested {
            ok: false,
            message: why,
        },
    };
    page(&state, &info, None, Some(tested), None, None).await
}

#[derive(Deserialize)]
pub struct DigestForm {
    /// The clinic's local hour, 0-23; empty for no digest.
    #[serde(default)]
    hour: String,
}

/// The owners' daily digest: at a local hour, or none.
pub async fn save_digest(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Form(form): Form<DigestForm>,
) -> AppResult<Response> {
    let hour = match form.hour.trim() {
        "" => None,
        h => match h.parse::<u32>().ok().filter(|h| *h < 24) {
            Some(h) => Some(h),
            None => {
                let e = crate::error::AppError::Validation("Choose an hour of the day".into());
                return page(&state, &info, None, None, Some(form_error(e)?), None).await;
            }
        },
    };
    let detail = hour.map_or("off".to_string(), |h| format!("hour={h}"));
    let set = audited_change(
        &state,
        &info,
        ip,
        "email.digest_set",
        detail,
        move |tx, scope| crate::store::digest::set_hour(tx, scope, hour),
    )
    .await?;
    if !set {
        let e = crate::error::AppError::Validation("Connect the mailbox first".into());
        return page(&state, &info, None, None, Some(form_error(e)?), None).await;
    }
    Ok(Redirect::to("/settings/email?saved=digest").into_response())
}
