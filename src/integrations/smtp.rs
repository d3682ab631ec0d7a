//! Sending one e-mail through the clinic's own mailbox: SMTP submission with lettre over rustls.
//! The TLS mode is the clinic's explicit choice (STARTTLS, or implicit TLS); with STARTTLS the
//! login is never sent before the upgrade, and a server that does not offer it is refused.
//! A private CA, when given, is trusted instead of the public roots. What goes wrong comes back
//! as a [`MailFailure`] (plain words and the retry rule live in `domain::mail_failure`).
//! Wire details: docs/email.md §2.

use crate::config::Secret;
use crate::domain::ics::Method;
use crate::domain::mail_failure::MailFailure;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox as Address, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long one conversation with the server may take before it counts as a timeout.
const TIMEOUT: Duration = Duration::from_secs(20);

/// How the connection is encrypted. There is no plaintext mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP upgraded with STARTTLS before anything else (submission, usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl TlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::StartTls => "starttls",
            TlsMode::Tls => "tls",
        }
    }

    pub fn parse(s: &str) -> Option<TlsMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "starttls" => Some(TlsMode::StartTls),
            "tls" => Some(TlsMode::Tls),
            _ => None,
        }
    }
}

/// A clinic's mailbox, ready to send with.
#[derive(Debug, Clone)]
pub struct Mailbox {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    pub password: Secret,
    pub from_address: String,
    pub from_name: Option<String>,
    /// A private CA (PEM) to trust instead of the public roots.
    pub ca_pem: Option<String>,
}

/// An e-mail to send.
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    /// An invitation and its method, sent as `text/calendar; method=…` and as `invite.ics`.
    pub calendar: Option<(Method, &'a str)>,
    /// A one-click unsubscribe URL (RFC 8058) for reminder e-mails.
    pub unsubscribe_url: Option<&'a str>,
}

/// The server took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The server's id for the message when its reply names one ("queued as …"), else its
    /// reply text.
    pub queue_id: String,
}

/// Checks that a PEM file holds a certificate lettre can trust.
pub fn check_ca_pem(pem: &str) -> Result<(), String> {
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err("the CA file holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Certificate::from_pem(pem.as_bytes())
        .map(|_| ())
        .map_err(|e| format!("the CA certificate cannot be read: {e}"))
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}

/// A fresh `Message-ID` in the sending address's domain (not this machine's host name, which
/// says nothing to the recipient's server).
fn message_id(from_address: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let domain = from_address
        .rsplit_once('@')
        .map_or("voxanne.invalid", |(_, d)| d);
    format!("<{}@{domain}>", hex::encode(bytes))
}

fn setup(what: impl std::fmt::Display) -> MailFailure {
    MailFailure::Setup(what.to_string())
}

/// The MIME message: plain text and HTML as alternatives, the invitation as a third
/// alternative (what calendars act on) and as an attachment (what people can open).
fn message(mailbox: &Mailbox, mail: &Outgoing<'_>) -> Result<Message, MailFailure> {
    let from = Address::new(
        mailbox.from_name.clone(),
        mailbox
            .from_address
            .parse()
            .map_err(|e| setup(format!("the sending address is not usable: {e}")))?,
    );
    let to: Address = mail
        .to
        .parse()
        .map_err(|e| setup(format!("the recipient address is not usable: {e}")))?;
    let mut builder = Message::builder()
        .message_id(Some(message_id(&mailbox.from_address)))
        .from(from)
        .to(to)
        .subject(mail.subject);
    if let Some(url) = mail.unsubscribe_url {
        builder = builder
            .header(ListUnsubscribe(format!("<{url}>")))
            .header(ListUnsubscribePost);
    }
    let mut alternative = MultiPart::alternative()
        .singlepart(SinglePart::plain(mail.text.to_string()))
        .singlepart(SinglePart::html(mail.html.to_string()));
    let built = match mail.calendar {
        None => builder.multipart(alternative),
        Some((method, ics)) => {
            let calendar = ContentType::parse(&format!(
                "text/calendar; method={}; charset=UTF-8",
                method.as_str()
            ))
            .map_err(setup)?;
            alternative = alternative
                .singlepart(SinglePart::builder().header(calendar).body(ics.to_string()));
            let file = ContentType::parse("application/ics").map_err(setup)?;
            builder.multipart(
                MultiPart::mixed()
                    .multipart(alternative)
                    .singlepart(Attachment::new("invite.ics".into()).body(ics.to_string(), file)),
            )
        }
    };
    built.map_err(setup)
}

fn transport(mailbox: &Mailbox) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailFailure> {
    let mut params = TlsParameters::builder(mailbox.host.clone());
    if let Some(pem) = &mailbox.ca_pem {
        let ca = Certificate::from_pem(pem.as_bytes())
            .map_err(|e| setup(format!("the CA certificate cannot be read: {e}")))?;
        params = params
            .certificate_store(CertificateStore::None)
            .add_root_certificate(ca);
    }
    let params = params
        .build_rustls()
        .map_err(|e| setup(format!("TLS cannot be set up: {e}")))?;
    let tls = match mailbox.tls {
        TlsMode::StartTls => Tls::Required(params),
        TlsMode::Tls => Tls::Wrapper(params),
    };
    // `builder_dangerous` only means "no TLS chosen yet": it is chosen on the next line.
    Ok(
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(mailbox.host.as_str())
            .port(mailbox.port)
            .tls(tls)
            .credentials(Credentials::new(
                mailbox.username.clone(),
                mailbox.password.expose().to_string(),
            ))
            .authentication(vec![Mechanism::Plain, Mechanism::Login])
            .timeout(Some(TIMEOUT))
            .build(),
    )
}

/// Sends one e-mail. Each send is one short SMTP session.
pub async fn send(mailbox: &Mailbox, mail: &Outgoing<'_>) -> Result<Accepted, MailFailure> {
    let message = message(mailbox, mail)?;
    let transport = transport(mailbox)?;
    match transport.send(message).await {
        Ok(reply) => {
            let text: Vec<&str> = reply.message().collect();
            Ok(Accepted {
                queue_id: queue_id(&text.join(" ")),
            })
        }
        Err(e) => Err(classify(&e)),
    }
}

/// "250 2.0.0 Ok: queued as 4Bq1xN" names the id; otherwise the reply text stands for it.
fn queue_id(reply: &str) -> String {
    let lower = reply.to_ascii_lowercase();
    match lower.find("queued as ") {
        Some(i) => reply[i + "queued as ".len()..]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_string(),
        None => reply.trim().chars().take(200).collect(),
    }
}

/// The whole chain of an error's messages, outermost first.
fn chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        out.push(s.to_string());
        source = s.source();
    }
    out
}

/// The rustls error inside a lettre error, if the failure was TLS.
fn rustls_error<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a tokio_rustls::rustls::Error> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(r) = err.downcast_ref::<tokio_rustls::rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(r) = inner.downcast_ref::<tokio_rustls::rustls::Error>() {
                    return Some(r);
                }
            }
        }
        current = err.source();
    }
    None
}

fn classify(e: &lettre::transport::smtp::Error) -> MailFailure {
    if let Some(code) = e.status() {
        let code: u16 = code.to_string().parse().unwrap_or(500);
        // lettre's message is "permanent error (535): <server text>"; keep the server's part.
        let text = chain(e).into_iter().skip(1).collect::<Vec<_>>().join(" ");
        return MailFailure::Reply { code, text };
    }
    if let Some(r) = rustls_error(e) {
        use tokio_rustls::rustls::Error as R;
        return match r {
            R::InvalidCertificate(c) => MailFailure::Certificate(format!("{c:?}")),
            other => MailFailure::Tls(other.to_string()),
        };
    }
    let words = chain(e).join(": ");
    if words.contains("STARTTLS is not supported") {
        return MailFailure::NoStartTls;
    }
    if e.is_timeout() || words.contains("timed out") {
        return MailFailure::Timeout;
    }
    if e.is_tls() {
        return MailFailure::Tls(words);
    }
    MailFailure::Connection(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_id_is_taken_from_the_reply_when_named() {
        assert_eq!(queue_id("2.0.0 Ok: queued as 4Bq1xN"), "4Bq1xN");
        assert_eq!(queue_id("OK id=1"), "OK id=1");
    }

    #[test]
    fn tls_modes_are_spelled_out() {
        assert_eq!(TlsMode::parse("STARTTLS"), Some(TlsMode::StartTls));
        assert_eq!(TlsMode::parse("tls"), Some(TlsMode::Tls));
        assert_eq!(TlsMode::parse("none"), None);
        assert_eq!(TlsMode::parse("ssl"), None);
    }
}
